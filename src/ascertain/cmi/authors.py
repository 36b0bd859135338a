"""Author attributions: `@author`, "Written by", `Author:` lines, `__author__`, AUTHORS/CONTRIBUTORS files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass
class Author:
    author: str
    start_line: int
    end_line: int
    rule: str


AUTHOR_FILE = re.compile(r"^(?:AUTHORS?|CONTRIBUTORS?|CREDITS|MAINTAINERS)(?:[.-].*)?$", re.IGNORECASE)
# (rule, words one of which every match contains, in lower case: a cheap test before the pattern scan, pattern)
_RULES: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = [
    ("at-author", ("@author",), re.compile(r"@author\s+(?P<a>[^\n@*]{2,120})")),
    ("written-by", ("by",), re.compile(
        r"\b(?:originally )?(?:written|authored|created|coded|developed|implemented)\s+by"
        r"\s+(?P<a>[A-Z][^\n.;()]{1,100})")),
    ("author-line", ("author", "maintainer"), re.compile(
        r"(?:^|\s)(?:Original\s+)?(?:Authors?|Maintainers?|Author-email)\s*:\s*(?P<a>[A-Z][^\n]{1,120})",
        re.MULTILINE)),
    ("dunder-author", ("__author__",), re.compile(r"__author__\s*=\s*[\"'](?P<a>[^\"'\n]{2,120})[\"']")),
]
_TAIL = re.compile(r"\s*(?:\*/|-->|\"\"\"|'''|,\s*$|\.\s*$)")
_NAMEISH = re.compile(r"^[^\W\d_][\w.'’ -]*(?:\s*<[^>]+>)?(?:\s*\([^)]*\))?$", re.UNICODE)


def find_authors(path: str, text: str) -> list[Author]:
    out: list[Author] = []
    low = text.lower()
    for rule, words, pattern in _RULES:
        if not any(w in low for w in words):
            continue
        for m in pattern.finditer(text):
            name = _TAIL.split(m.group("a").strip(), maxsplit=1)[0].strip()
            if len(name) >= 2:
                line = text.count("\n", 0, m.start("a")) + 1
                out.append(Author(name, line, line, rule))
    if AUTHOR_FILE.match(PurePosixPath(path).name):
        for i, raw in enumerate(text.split("\n"), 1):
            name = raw.strip().lstrip("-*+• \t").strip()
            if 2 <= len(name) <= 100 and _NAMEISH.match(name) and not name.endswith(":"):
                out.append(Author(name, i, i, "authors-file"))
    seen: set[tuple[str, int]] = set()
    unique = []
    for a in sorted(out, key=lambda a: (a.start_line, a.author)):
        if (a.author, a.start_line) not in seen:
            seen.add((a.author, a.start_line))
            unique.append(a)
    return unique
