"""A labelled set of real copyright notices from many independent projects, split by project.

Each case is one real file of this machine (a Python package's source or LICENSE file, a Debian
`/usr/share/doc/*/copyright` file, a C header, an npm package's file, an HTML page, a minified script).
The set stores, per file, its sha256 (the file is named by content, not path), its project (the unit of
the split), the *excerpt* the scanners read and the holders a person read in it (`real_labels.json`).

The excerpt holds every line of the file that carries a copyright mark (`copyright`, `(c)`, `©`, `copr.`,
`&copy;`) with the line before it and the lines after it up to a blank line (at most `AFTER`), long lines
(minified code) cut to a window around each mark. A statement can only start at a mark, so the excerpt holds
everything a notice detector can report; it is what is shipped (notice lines are facts; the rest of a file
is not copied into the repository). Both tools scan the same excerpt bytes, under the file's own suffix.

`candidates()` lists the real files a set can be drawn from (used to build the set); `materialize()`
writes the excerpts of a split to a folder for the scanners.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

LABELS = Path(__file__).with_name("real_labels.json")
AFTER = 3  # lines kept after a mark line (a holder on the next line, DEP-5 continuation lines)
WINDOW = 300  # characters kept either side of a mark on a long line
MAX_LINE = 400  # lines longer than this are cut to windows around their marks
_MARK = re.compile(r"copyright|copr\.|©|&copy;|&#169;|\(c\)", re.IGNORECASE)
TEST_SHARE = 0.5  # share of projects in the held-out test split


@dataclass
class RealCase:
    sha256: str
    project: str
    source: str  # kind of source: site-packages, debian-copyright, c-header, npm, html, minified-js, ...
    suffix: str
    split: str
    excerpt: str
    holders: list[str]
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.sha256[:16]}{self.suffix}"


def split_of(project: str) -> str:
    """The split of a project: a fixed hash of its name, so every file of a project is on one side."""
    h = int(hashlib.sha256(f"ascertain-cmi-real-1:{project}".encode()).hexdigest()[:8], 16)
    return "test" if h / 0xFFFFFFFF < TEST_SHARE else "tune"


def _cut(line: str) -> str:
    if len(line) <= MAX_LINE:
        return line
    spans: list[list[int]] = []
    for m in _MARK.finditer(line):
        a, b = max(0, m.start() - WINDOW), min(len(line), m.end() + WINDOW)
        if spans and a <= spans[-1][1]:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    return " … ".join(line[a:b] for a, b in spans) if spans else line[:MAX_LINE]


def excerpt(text: str) -> str:
    """The mark lines of a text with their context; runs of kept lines are separated by one blank line."""
    lines = text.split("\n")
    keep: set[int] = set()
    for i, line in enumerate(lines):
        if _MARK.search(line):
            keep.add(i)
            if i > 0:
                keep.add(i - 1)
            for j in range(i + 1, min(len(lines), i + 1 + AFTER)):
                if not lines[j].strip():
                    break
                keep.add(j)
    out: list[str] = []
    last = -2
    for i in sorted(keep):
        if i != last + 1 and out:
            out.append("")
        out.append(_cut(lines[i].rstrip("\r")))
        last = i
    return "\n".join(out) + "\n" if out else ""


def load(path: Path = LABELS) -> list[RealCase]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [RealCase(**c) for c in data["cases"]]


def materialize(dest: Path, split: str | None, cases: list[RealCase] | None = None) -> dict[str, RealCase]:
    """Write each case's excerpt to dest/<sha256 prefix><suffix>; returns the cases by file name."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.is_file():
            old.unlink()
    chosen = {c.name: c for c in (cases or load()) if split is None or c.split == split}
    for name, c in chosen.items():
        (dest / name).write_text(c.excerpt, encoding="utf-8")
    return chosen
