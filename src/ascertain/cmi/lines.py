"""A file's text as the CMI rules see it: comment markers removed, line numbers kept.

Notices span comment lines (`# Copyright ...`, ` * Licensed under ...`); the rules match them as prose.
`Flat` joins the lines with single spaces and keeps, for every character, the line it came from.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Leading comment and quoting marks of one line: `#`, `//`, `/*`, ` * `, `--`, `;;`, `%`, `rem`, `"""`.
_LEADER = re.compile(r'^[ \t]*(?:(?:#+!?|//+|/\*+|\*+(?!/)|--+|;+|%+|"""|\'\'\'|!|\.\.)[ \t]*)*', re.MULTILINE)
# ...and trailing ones: `*/`, `-->`, and the right border of an ASCII-art box (`#`, `*`, `|` after 2+ spaces).
# It starts only where a run of spaces starts: tried inside the run, it rescans the run from every position.
_TRAILER = re.compile(r'(?<![ \t])[ \t]*(?:\*+/|-->|"""|\'\'\'|(?<=[ \t][ \t])(?:\*+|#+|\|))?[ \t]*$', re.MULTILINE)
_SPACES = re.compile(r"[^\S\n]+")  # whitespace within a line


@dataclass
class Flat:
    text: str
    starts: list[int]  # offset in `text` where each line (1-based line = index + 1) begins

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def flatten(text: str, max_line_chars: int = 4000) -> Flat:
    """One space-separated string of the file's lines without comment leaders; long lines are cut.

    Each substitution runs once over the whole text (line-anchored), not once per line: the same result,
    several times faster on long files."""
    if any(len(line) > max_line_chars for line in text.split("\n")):
        text = "\n".join(line[:max_line_chars] for line in text.split("\n"))
    body = _SPACES.sub(" ", _TRAILER.sub("", _LEADER.sub("", text)))
    starts = [0]
    for line in body.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return Flat(body.replace("\n", " "), starts)
