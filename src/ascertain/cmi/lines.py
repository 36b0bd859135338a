"""A file's text as the CMI rules see it: comment markers removed, line numbers kept.

Notices span comment lines (`# Copyright ...`, ` * Licensed under ...`); the rules match them as prose.
`Flat` joins the lines with single spaces and keeps, for every character, the line it came from.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Leading comment and quoting marks of one line: `#`, `//`, `/*`, ` * `, `--`, `;;`, `%`, `rem`, `"""`.
_LEADER = re.compile(r'^[ \t]*(?:(?:#+!?|//+|/\*+|\*+(?!/)|--+|;+|%+|"""|\'\'\'|!|\.\.)[ \t]*)*')
_TRAILER = re.compile(r'[ \t]*(?:\*+/|-->|"""|\'\'\')?[ \t]*$')
_SPACES = re.compile(r"\s+")


@dataclass
class Flat:
    text: str
    starts: list[int]  # offset in `text` where each line (1-based line = index + 1) begins

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def flatten(text: str, max_line_chars: int = 4000) -> Flat:
    """One space-separated string of the file's lines without comment leaders; long lines are cut."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for line in text.split("\n"):
        line = line[:max_line_chars]
        body = _TRAILER.sub("", _LEADER.sub("", line, count=1), count=1)
        body = _SPACES.sub(" ", body)
        starts.append(pos)
        parts.append(body)
        pos += len(body) + 1
    return Flat(" ".join(parts), starts)
