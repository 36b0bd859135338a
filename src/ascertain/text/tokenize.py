"""Tokenization with locations, for evidence (works, compared files, matched corpus documents).

Every document becomes a sequence of tokens: runs of word characters and single punctuation marks, after
Unicode NFKC. Matching uses the case-folded tokens, through their 64-bit hashes (`hashes`, the same values
the fingerprints are built from); verbatim figures compare the NFKC text of each token (`raw`), so a copy
that only changes case is found but not called verbatim. The same function serves prose and code, so that
a work matches its copy wherever the copy sits (a source file, a JSONL record, a model output).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.vectorized import _kernel, hash_tokens, scan
from ascertain.text.languages import FAMILY_RE, family_of
from ascertain.text.normalize import TOKEN_RE, norm_tokens, normalize

__all__ = ["COMMENT", "CODE", "STRING", "TokenStream", "norm_tokens", "normalize", "tokenize"]

CODE, COMMENT, STRING = 0, 1, 2
_KERNEL_FAMILIES = {"python": 1, "c": 2, "javascript": 3}  # fingerprint/_kernel.c segments()
_SPLIT_RE = re.compile(f"({TOKEN_RE.pattern})")


@dataclass(frozen=True)
class TokenStream:
    """Tokens with where they stand: offsets into the NFKC text, 1-based lines, kinds, hashes."""

    text: str  # the NFKC text the offsets refer to
    start: np.ndarray  # int64 char offsets
    end: np.ndarray
    line: np.ndarray  # int32, 1-based
    kind: np.ndarray  # uint8: CODE, COMMENT or STRING
    hashes: np.ndarray  # uint64 hash of each case-folded token

    def __len__(self) -> int:
        return len(self.start)

    def lines(self, first: int, last: int) -> tuple[int, int]:
        """Line range of tokens first..last (inclusive)."""
        return int(self.line[first]), int(self.line[last])

    @property
    def raw(self) -> list[str]:
        t, s, e = self.text, self.start.tolist(), self.end.tolist()
        return [t[a:b] for a, b in zip(s, e, strict=True)]

    @property
    def norm(self) -> list[str]:
        return [t.casefold() for t in self.raw]


def tokenize(text: str, language: str = "prose", kinds: bool = True) -> TokenStream:
    """Tokens of a text; kinds=False leaves every token CODE (a matched copy needs no kinds)."""
    text = normalize(text)
    if text.isascii():  # vectorized: ASCII offsets are byte offsets, case folding is lower-casing
        buf = np.frombuffer(text.lower().encode("ascii"), np.uint8)
        start, end, hashes = scan(buf)
        newlines = np.flatnonzero(buf == 10)
    else:
        # split keeps the tokens at odd indexes and the gaps between them at even ones; their lengths give
        # every offset without a Match object per token
        parts = _SPLIT_RE.split(text)
        edges = np.cumsum(np.fromiter(map(len, parts), np.int64, len(parts)))
        start, end = edges[0:-1:2], edges[1::2]
        hashes = hash_tokens(list(map(str.casefold, parts[1::2])))
        newlines = np.array([m.start() for m in re.finditer("\n", text)], dtype=np.int64)
    start, end = start.astype(np.int64), end.astype(np.int64)
    line = (np.searchsorted(newlines, start, side="right") + 1).astype(np.int32)
    kind = np.zeros(len(start), dtype=np.uint8)
    if kinds and len(start):
        arr = _segment_array(text, language)
        if len(arr):
            a = np.searchsorted(start, arr[:, 0])
            b = np.searchsorted(start, arr[:, 1])
            for k in (COMMENT, STRING):  # segments never overlap: mark each kind by a running sum
                sel = arr[:, 2] == k
                delta = (np.bincount(a[sel], minlength=len(start) + 1)
                         - np.bincount(b[sel], minlength=len(start) + 1))
                kind[np.cumsum(delta[:-1]) > 0] = k
    return TokenStream(text, start, end, line, kind, hashes)


def comment_and_string_segments(text: str, language: str) -> list[tuple[int, int, int]]:
    """(start, end, kind) of each comment and string literal, offsets into the NFKC text."""
    return _segments(normalize(text), language)


def _segments(nfkc_text: str, language: str) -> list[tuple[int, int, int]]:
    return [tuple(s) for s in _segment_array(nfkc_text, language).tolist()]


def _segment_array(nfkc_text: str, language: str) -> np.ndarray:
    """(start, end, kind) rows of each comment and string literal: the C scanner's for the families it knows
    (the same matches as the family's regular expression, tests/test_segments_kernel.py; the regex was most
    of the time of tokenizing a matched code document), else the regex's."""
    family = family_of(language)
    if family == "prose":
        return np.zeros((0, 3), np.int64)
    code = _KERNEL_FAMILIES.get(family)
    if code is not None and _kernel is not None:
        return np.frombuffer(_kernel.segments(nfkc_text, code), np.int64).reshape(-1, 3)
    return _regex_segments(nfkc_text, family)


def _regex_segments(nfkc_text: str, family: str) -> np.ndarray:
    return np.array([(m.start(), m.end(), COMMENT if m.lastgroup == "c" else STRING)
                     for m in FAMILY_RE[family].finditer(nfkc_text)], np.int64).reshape(-1, 3)
