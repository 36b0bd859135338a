"""Fingerprint hits between two documents, and the work-file side of matching."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.winnow import Params, fingerprint_hashes
from ascertain.match.differences import ANCHOR_TOKENS, differences
from ascertain.match.measure import Thresholds, decoration_of, measure, tokens_identical
from ascertain.match.spans import extend_seeds, select_spans
from ascertain.text.boilerplate import cmi_mask
from ascertain.text.languages import family_of
from ascertain.text.levels import DEFAULT_LEVEL, level_stream
from ascertain.text.tokenize import TokenStream, tokenize


@dataclass
class Prepared:
    """A tokenized, masked and fingerprinted text."""

    path: str
    language: str
    tokens: TokenStream  # at the matching level
    mask: np.ndarray
    hashes: np.ndarray
    positions: np.ndarray
    sha256: str
    base: TokenStream  # every token, layout level (for identity and the alignment of differences)
    level: str = DEFAULT_LEVEL

    @functools.cached_property
    def base_raw(self) -> list[str]:
        """The layout-level tokens as written, built once (the alignment of each copy reads them)."""
        return self.base.raw

    @functools.cached_property
    def own_expression(self) -> np.ndarray:
        """Tokens at the matching level outside notices and decoration: what `measure` counts as own."""
        return ~self.mask & ~decoration_of(self.tokens)


def prepare(text: str, language: str, path: str, sha256: str, params: Params, key: bytes | None = None,
            level: str = DEFAULT_LEVEL) -> Prepared:
    base = tokenize(text, language)
    return at_level(base, cmi_mask(base, language, path), language, path, sha256, params, key, level)


def at_level(base: TokenStream, base_mask: np.ndarray, language: str, path: str, sha256: str, params: Params,
             key: bytes | None = None, level: str = DEFAULT_LEVEL) -> Prepared:
    """A text already tokenized (and masked) at the layout level, prepared at `level` (no second tokenizing)."""
    ts = level_stream(base, level, language)
    mask = base_mask if ts is base else base_mask[np.searchsorted(base.start, ts.start)]
    fp, pos = fingerprint_hashes(ts.hashes, params, key)
    return Prepared(path, language, ts, mask, fp, pos, sha256, base, level)


def hits(wh: np.ndarray, wp: np.ndarray, ch: np.ndarray, cp: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    """All (work position, copy position) pairs with equal fingerprints."""
    order = np.argsort(ch, kind="stable")
    ch, cp = ch[order], cp[order]
    lo = np.searchsorted(ch, wh, side="left")
    hi = np.searchsorted(ch, wh, side="right")
    counts = hi - lo
    if not counts.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    wpos = np.repeat(wp.astype(np.int64), counts)
    starts = np.repeat(lo, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return wpos, cp[starts + offsets].astype(np.int64)


def compare_prepared(work: Prepared, copy: Prepared, params: Params, th: Thresholds, align: bool = True) -> dict:
    wpos, dpos = hits(work.hashes, work.positions, copy.hashes, copy.positions)
    spans = extend_seeds(work.tokens.hashes, copy.tokens.hashes, wpos, dpos, params.k,
                         min_tokens=th.min_span_tokens)
    spans = select_spans(spans, th.min_span_tokens)
    result = measure(work.tokens, work.mask, spans, th, copy.tokens, len(copy.tokens),
                     work.sha256 == copy.sha256)
    if work.tokens is not work.base:  # identity is a property of the texts, not of the level
        result["identical"] = tokens_identical(work.base, copy.base)
    return {"level": work.level, **result, **(align_pair(work, copy, spans) if align else {})}


def to_base(level: TokenStream, base: TokenStream, idx: int) -> int:
    """The layout-level token index of a level token index (levels drop or merge tokens)."""
    if level is base:
        return idx
    if idx >= len(level):
        return len(base)
    return int(np.searchsorted(base.start, level.start[idx]))


def align_pair(work: Prepared, copy: Prepared, spans) -> dict:
    return align_streams(work, copy.tokens, copy.base, spans)


def align_streams(work: Prepared, copy_level: TokenStream, copy_base: TokenStream, spans,
                  copy_raw: list[str] | None = None) -> dict:
    """Classified differences within the copied region (match/differences.py); `copy_raw`: copy_base.raw,
    when the caller keeps it (a document matched by several works)."""
    if not spans:
        return {"edit_similarity": None, "differences": []}
    wl, wb = work.tokens, work.base
    # a long span is cut into anchors of ANCHOR_TOKENS (a span is equal token for token at its level), so a
    # whole book is aligned chapter by chapter in bounded memory
    pieces = [(a, min(a + ANCHOR_TOKENS, s.w1), s.d0 + a - s.w0, s.d0 + min(a + ANCHOR_TOKENS, s.w1) - s.w0)
              for s in spans for a in range(s.w0, s.w1, ANCHOR_TOKENS)]
    based = [(to_base(wl, wb, w0), to_base(wl, wb, w1), to_base(copy_level, copy_base, d0),
              to_base(copy_level, copy_base, d1)) for w0, w1, d0, d1 in pieces]
    return differences(wb, copy_base, based, prose=family_of(work.language) == "prose",
                       raw=(work.base_raw, copy_raw if copy_raw is not None else copy_base.raw))
