"""From fingerprint hits to spans: seeds extended on the tokens, or chained when no text is available."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.vectorized import _kernel


@dataclass
class Span:
    w0: int  # first token in the work (inclusive)
    w1: int  # one past the last token in the work
    d0: int  # first token in the copy
    d1: int
    rarity_docs: int = 0  # fewest corpus documents containing any fingerprint of the span
    verified: bool = True  # extended and checked on the tokens (False: chained from fingerprints only)

    @property
    def length(self) -> int:
        return self.w1 - self.w0


def extend_seeds(work: np.ndarray, copy: np.ndarray, wpos: np.ndarray, dpos: np.ndarray, k: int,
                 df: np.ndarray | None = None, min_tokens: int = 0) -> list[Span]:
    """Maximal runs of equal tokens (compared by their 64-bit token hashes) through the seeds.

    Seeds are taken diagonal by diagonal in work order. A seed inside the run just found on its diagonal
    only lowers that run's rarity; any other seed is checked token by token (a k-gram hash collision drops
    it) and extended left and right. Each run is extended once; runs shorter than min_tokens are dropped.
    The loop runs in the C kernel; `_extend_reference` is the same in Python (tests check they agree)."""
    if not len(wpos):
        return []
    diag = dpos.astype(np.int64) - wpos.astype(np.int64)
    order = np.lexsort((wpos, diag))
    w_s = np.ascontiguousarray(wpos[order], dtype=np.int64)
    d_s = np.ascontiguousarray(diag[order])
    r_s = (np.ascontiguousarray(df[order], dtype=np.int64) if df is not None
           else np.zeros(len(order), np.int64))
    work = np.ascontiguousarray(work, dtype=np.uint64)
    copy = np.ascontiguousarray(copy, dtype=np.uint64)
    if _kernel is None:
        spans = _extend_reference(work.tolist(), copy.tolist(), w_s.tolist(), d_s.tolist(), r_s.tolist(), k)
        return [s for s in spans if s.length >= min_tokens]
    out = [np.empty(len(order), np.int64) for _ in range(5)]
    m = _kernel.extend(work, copy, w_s, d_s, r_s, k, *out)
    keep = (out[1][:m] - out[0][:m]) >= min_tokens
    return [Span(*row) for row in zip(*(o[:m][keep].tolist() for o in out), strict=True)]


def _extend_reference(work: list[int], copy: list[int], w_s: list[int], d_s: list[int], r_s: list[int],
                      k: int) -> list[Span]:
    spans: list[Span] = []
    cur: Span | None = None
    nw, nc = len(work), len(copy)
    for i, dg, r in zip(w_s, d_s, r_s, strict=True):
        if cur is not None and cur.d0 - cur.w0 == dg and i < cur.w1:
            cur.rarity_docs = min(cur.rarity_docs, r)
            continue
        j = i + dg
        if i < 0 or j < 0 or i + k > nw or j + k > nc or work[i:i + k] != copy[j:j + k]:
            continue
        a, b, e, f = i, j, i + k, j + k
        while a > 0 and b > 0 and work[a - 1] == copy[b - 1]:
            a -= 1
            b -= 1
        while e < nw and f < nc and work[e] == copy[f]:
            e += 1
            f += 1
        cur = Span(a, e, b, f, r)
        spans.append(cur)
    return spans


def chain_hits(wpos: np.ndarray, dpos: np.ndarray, k: int, max_gap: int, df: np.ndarray | None = None
               ) -> list[Span]:
    """Spans from fingerprints alone (keyed or text-less corpora): hits on one diagonal, at most
    max_gap tokens apart, form a span from the first k-gram's start to the last k-gram's end.

    Inside an identical run consecutive winnowed fingerprints are at most w apart, so max_gap = w joins
    every identical run into one span; such a span is unverified (`verified: false`) and may bridge a
    difference shorter than w tokens that verification on the text would have split."""
    spans: list[Span] = []
    diag = dpos.astype(np.int64) - wpos.astype(np.int64)
    order = np.lexsort((wpos, diag))
    cur: Span | None = None
    for idx in order:
        i, j, dg = int(wpos[idx]), int(dpos[idx]), int(diag[idx])
        r = int(df[idx]) if df is not None else 0
        if cur is not None and cur.d0 - cur.w0 == dg and i - (cur.w1 - k) <= max_gap:
            cur.w1, cur.d1 = max(cur.w1, i + k), max(cur.d1, j + k)
            cur.rarity_docs = min(cur.rarity_docs, r)
            continue
        cur = Span(i, i + k, j, j + k, r, verified=False)
        spans.append(cur)
    return spans


def select_spans(spans: list[Span], min_tokens: int) -> list[Span]:
    """Longest first, keeping a span only if it adds work tokens not yet covered (a repeated passage in
    the copy is one fragment, not several); returned in work order."""
    spans = [s for s in spans if s.w1 - s.w0 >= min_tokens]
    if len(spans) <= 1:
        return spans
    kept: list[Span] = []
    taken = np.zeros(max(s.w1 for s in spans), dtype=bool)
    for s in sorted(spans, key=lambda s: (s.w0 - s.w1, s.w0, s.d0)):
        new = s.length - int(taken[s.w0:s.w1].sum())
        if new * 2 > s.length:
            kept.append(s)
            taken[s.w0:s.w1] = True
    return sorted(kept, key=lambda s: (s.w0, s.d0))
