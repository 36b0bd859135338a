"""Normalization and tokenization.

Every document becomes a sequence of tokens: runs of word characters and single punctuation marks, after
Unicode NFKC. Matching uses the case-folded form (`norm`); verbatim figures compare the NFKC form (`raw`),
so a copy that only changes case is found but not called verbatim. The same function serves prose and
code, so that a work matches its copy wherever the copy sits (a source file, a JSONL record, an output).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ascertain.text.languages import FAMILY_RE, family_of

TOKEN_RE = re.compile(r"\w+|[^\w\s]")
CODE, COMMENT, STRING = 0, 1, 2
KIND_NAMES = ("code", "comment", "string")


def normalize(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def norm_tokens(text: str) -> list[str]:
    """The matching tokens only: the fast path used to fingerprint corpora."""
    return list(map(str.casefold, TOKEN_RE.findall(normalize(text))))


@dataclass(frozen=True)
class TokenStream:
    """Tokens with where they stand, for evidence: offsets, 1-based lines and kinds."""

    text: str  # the NFKC text the offsets refer to
    raw: list[str]
    norm: list[str]
    start: np.ndarray  # int64 char offsets
    end: np.ndarray
    line: np.ndarray  # int32, 1-based
    kind: np.ndarray  # uint8: CODE, COMMENT or STRING

    def __len__(self) -> int:
        return len(self.raw)

    def lines(self, first: int, last: int) -> tuple[int, int]:
        """Line range of tokens first..last (inclusive)."""
        return int(self.line[first]), int(self.line[last])


def tokenize(text: str, language: str = "prose") -> TokenStream:
    text = normalize(text)
    spans = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    raw = [text[a:b] for a, b in spans]
    norm = list(map(str.casefold, raw))
    arr = np.array(spans, dtype=np.int64).reshape(-1, 2)
    start, end = arr[:, 0].copy(), arr[:, 1].copy()
    newlines = np.array([m.start() for m in re.finditer("\n", text)], dtype=np.int64)
    line = (np.searchsorted(newlines, start, side="right") + 1).astype(np.int32)
    kind = np.zeros(len(raw), dtype=np.uint8)
    family = family_of(language)
    if family != "prose" and len(raw):
        for m in FAMILY_RE[family].finditer(text):
            k = COMMENT if m.lastgroup == "c" else STRING
            a, b = np.searchsorted(start, m.start()), np.searchsorted(start, m.end())
            kind[a:b] = k
    return TokenStream(text, raw, norm, start, end, line, kind)


def comment_and_string_segments(text: str, language: str) -> list[tuple[int, int, int]]:
    """(start, end, kind) of each comment and string literal in NFKC text."""
    family = family_of(language)
    if family == "prose":
        return []
    return [(m.start(), m.end(), COMMENT if m.lastgroup == "c" else STRING)
            for m in FAMILY_RE[family].finditer(normalize(text))]
