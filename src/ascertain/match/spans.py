"""From fingerprint hits to spans: seeds extended on the tokens, or chained when no text is available."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def extend_seeds(work: list[int], copy: list[int], wpos: np.ndarray, dpos: np.ndarray, k: int,
                 df: np.ndarray | None = None) -> list[Span]:
    """Maximal runs of equal tokens (compared by their 64-bit hashes) through each seed; seeds whose
    k tokens differ (k-gram hash collisions) are dropped. Seeds are taken diagonal by diagonal in work
    order, so a seed inside the run just found is recognised in O(1) and only adds its rarity: each run
    is extended once."""
    spans: list[Span] = []
    nw, nd = len(work), len(copy)
    diag = dpos.astype(np.int64) - wpos.astype(np.int64)
    order = np.lexsort((wpos, diag))
    rarity = df[order].tolist() if df is not None else [0] * len(order)
    cur: Span | None = None
    for i, j, r in zip(wpos[order].tolist(), dpos[order].tolist(), rarity, strict=True):
        if cur is not None and cur.d0 - cur.w0 == j - i and i < cur.w1:
            cur.rarity_docs = min(cur.rarity_docs, r)
            continue
        if work[i:i + k] != copy[j:j + k]:
            continue
        a, b = i, j
        while a > 0 and b > 0 and work[a - 1] == copy[b - 1]:
            a -= 1
            b -= 1
        e, f = i + k, j + k
        while e < nw and f < nd and work[e] == copy[f]:
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
    kept: list[Span] = []
    mask_len = max((s.w1 for s in spans), default=0)
    taken = np.zeros(mask_len, dtype=bool)
    for s in sorted(spans, key=lambda s: (-s.length, s.w0, s.d0)):
        if s.length < min_tokens:
            continue
        new = s.length - int(taken[s.w0:s.w1].sum())
        if new * 2 > s.length:
            kept.append(s)
            taken[s.w0:s.w1] = True
    return sorted(kept, key=lambda s: (s.w0, s.d0))
