"""Fingerprint hits between two documents, and the work-file side of matching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.winnow import Params, fingerprint_hashes
from ascertain.match.measure import Thresholds, measure
from ascertain.match.spans import extend_seeds, select_spans
from ascertain.text.boilerplate import cmi_mask
from ascertain.text.tokenize import TokenStream, tokenize


@dataclass
class Prepared:
    """A tokenized, masked and fingerprinted text."""

    path: str
    language: str
    tokens: TokenStream
    mask: np.ndarray
    hashes: np.ndarray
    positions: np.ndarray
    sha256: str


def prepare(text: str, language: str, path: str, sha256: str, params: Params, key: bytes | None = None
            ) -> Prepared:
    ts = tokenize(text, language)
    fp, pos = fingerprint_hashes(ts.hashes, params, key)
    return Prepared(path, language, ts, cmi_mask(ts, language, path), fp, pos, sha256)


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


def compare_prepared(work: Prepared, copy: Prepared, params: Params, th: Thresholds) -> dict:
    wpos, dpos = hits(work.hashes, work.positions, copy.hashes, copy.positions)
    spans = extend_seeds(work.tokens.hashes, copy.tokens.hashes, wpos, dpos, params.k,
                         min_tokens=th.min_span_tokens)
    spans = select_spans(spans, th.min_span_tokens)
    return measure(work.tokens, work.mask, spans, th, copy.tokens, len(copy.tokens),
                   work.sha256 == copy.sha256)
