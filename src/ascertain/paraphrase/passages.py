"""Prose split into sentences and passages, each with its line span."""

from __future__ import annotations

import re
from dataclasses import dataclass

# a sentence ends at . ! ? (closing quotes or brackets may follow) before white space, or at a blank line
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n")
MIN_WORDS = 12  # shorter passages (a heading, a list item) are merged forward or skipped
MAX_SENTENCES = 3


@dataclass(frozen=True)
class Passage:
    text: str
    start_line: int
    end_line: int


def sentences(text: str) -> list[Passage]:
    out, pos = [], 0
    bounds = [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    for end in bounds:
        chunk = text[pos:end]
        stripped = " ".join(chunk.split())
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            first = text.count("\n", 0, pos + lead) + 1
            last = text.count("\n", 0, pos + len(chunk.rstrip())) + 1
            out.append(Passage(stripped, first, last))
        pos = end
    return out


def passages(text: str, min_words: int = MIN_WORDS) -> list[Passage]:
    """Consecutive sentences grouped until the passage has at least min_words words."""
    out: list[Passage] = []
    buf: list[Passage] = []
    for s in sentences(text):
        buf.append(s)
        if sum(len(b.text.split()) for b in buf) >= min_words:
            out.append(_join(buf))
            buf = []
    if buf and sum(len(b.text.split()) for b in buf) >= min_words // 2:
        out.append(_join(buf))
    return out


def windows(text: str, max_sentences: int = MAX_SENTENCES) -> list[Passage]:
    """Every run of 1..max_sentences consecutive sentences: a paraphrase may split or merge sentences."""
    ss = sentences(text)
    return [_join(ss[i:i + n]) for i in range(len(ss)) for n in range(1, max_sentences + 1) if i + n <= len(ss)]


def _join(parts: list[Passage]) -> Passage:
    return Passage(" ".join(p.text for p in parts), parts[0].start_line, parts[-1].end_line)
