"""Distributors' and publishers' texts in books: shared by unrelated books, so not evidence of copying.

Rules for the known ones (each a character range of the text, with its kind):

  distributor header   Project Gutenberg's header, up to its `*** START OF ... ***` line
  distributor footer   from `End of (the) Project Gutenberg ...` or `*** END OF ... ***` to the end (the
                       Project Gutenberg License, ~3,000 words, follows every Gutenberg book)
  copyright page       paragraphs of a publisher's copyright page: rights reserved, ISBN, printing and
                       publication history, cataloguing data, "no part of this book may be reproduced",
                       Creative Commons licences
  series list          "Also by ..." / "Other titles in this series" and the list of short lines after it

Spans that lie in these ranges are reported (with their spans and CMI) but do not count toward `copied`
(text/boilerplate.py); publishers' texts that no rule knows are discounted by their rarity across the
corpus, as for code (match/measure.py `common`).
"""

from __future__ import annotations

import re

GUTENBERG_START = re.compile(r"^[ \t\f]*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG[^\n]*$",
                             re.IGNORECASE | re.MULTILINE)
GUTENBERG_END = re.compile(r"^[ \t\f]*(?:\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG|End of (?:the )?Project "
                           r"Gutenberg(?:'s)?\b)[^\n]*$", re.IGNORECASE | re.MULTILINE)
COPYRIGHT_PAGE = re.compile(
    r"all rights reserved|\bISBN\b|no part of this (?:publication|book|work) may be|printed (?:and bound )?in "
    r"(?:the )?(?:united|great|u\.)|first (?:published|edition|printing)|library of congress|cataloging.in"
    r".publication|british library|creative commons|this (?:book|novel) is a work of fiction|\bimprint of\b"
    r"|published (?:by|in)\b.{0,80}\b(?:press|books|publish\w*|house|limited|ltd|inc)\b|\bcover (?:design|art)"
    r"|(?:^|\s)(?:©|\(c\))\s*\d{4}|copyright\s+(?:©\s*)?\d{4}|10 9 8 7 6 5 4 3 2 1|typeset (?:in|by)",
    re.IGNORECASE)
SERIES_HEAD = re.compile(r"^[ \t\f]*(?:also by\b|by the same author|other (?:books|titles|novels) (?:by|in|from)\b"
                         r"|also available\b|(?:books )?in this series\b|more from\b)[^\n]*$",
                         re.IGNORECASE | re.MULTILINE)
_PARAGRAPH = re.compile(r"\S(?:[\s\S]*?)(?=\n[ \t\f\r]*\n|\Z)")
MAX_LIST_LINE_WORDS = 10
MAX_PAGE_PARAGRAPH = 1500  # a copyright page's paragraphs are short; a longer block is the book's prose


def book_boilerplate(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each distributor or publisher text, in text order."""
    out: list[tuple[int, int, str]] = []
    start = GUTENBERG_START.search(text)
    body_from = 0
    if start:
        out.append((0, start.end(), "distributor header"))
        body_from = start.end()
    end = GUTENBERG_END.search(text, body_from)
    if end:
        out.append((end.start(), len(text), "distributor footer"))
    body_to = end.start() if end else len(text)
    for m in _PARAGRAPH.finditer(text, body_from, body_to):
        if m.end() - m.start() <= MAX_PAGE_PARAGRAPH and COPYRIGHT_PAGE.search(m.group()):
            out.append((m.start(), m.end(), "copyright page"))
    for m in SERIES_HEAD.finditer(text, body_from, body_to):
        out.append((m.start(), _list_end(text, m.end(), body_to), "series list"))
    return sorted(out)


def _list_end(text: str, pos: int, limit: int, max_lines: int = 60) -> int:
    """End of the run of short lines (titles) after a series heading; single blank lines may separate them."""
    end, blanks, lines = pos, 0, 0
    for line in text[pos:limit].split("\n")[:max_lines]:
        pos += len(line) + 1
        words = len(line.split())
        if not words:
            blanks += 1
            if blanks >= 2:
                break
            continue
        if words > MAX_LIST_LINE_WORDS or (words > 4 and line.rstrip().endswith((".", "?", "!", '"', "\u201d"))):
            break
        blanks, lines, end = 0, lines + 1, min(pos - 1, limit)
    return end
