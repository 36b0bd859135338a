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


def extend_seeds(work: np.ndarray, copy: np.ndarray, wpos: np.ndarray, dpos: np.ndarray, k: int,
                 df: np.ndarray | None = None) -> list[Span]:
    """Maximal runs of equal tokens (compared by their 64-bit hashes) through the seeds.

    Seeds are sorted diagonal by diagonal in work order. A seed is checked token by token (a k-gram hash
    collision drops it) and extended left and right; every later seed of its diagonal inside the run is
    then skipped in one step, lowering the run's rarity. Each run is extended once."""
    if not len(wpos):
        return []
    diag = dpos.astype(np.int64) - wpos.astype(np.int64)
    order = np.lexsort((wpos, diag))
    w_arr, d_arr = wpos[order].astype(np.int64), diag[order]
    w_s, d_s = w_arr.tolist(), d_arr.tolist()
    r_s = df[order].tolist() if df is not None else [0] * len(order)
    bounds = np.flatnonzero(np.diff(d_arr)) + 1
    diag_end = np.repeat(np.append(bounds, len(order)), np.diff(np.concatenate(([0], bounds, [len(order)]))))
    diag_end = diag_end.tolist()
    spans: list[Span] = []
    cur: Span | None = None
    idx, n = 0, len(order)
    while idx < n:
        i, dg = w_s[idx], d_s[idx]
        if cur is not None and cur.d0 - cur.w0 == dg and i < cur.w1:
            stop = idx + int(np.searchsorted(w_arr[idx:diag_end[idx]], cur.w1))
            cur.rarity_docs = min(cur.rarity_docs, min(r_s[idx:stop]))
            idx = stop
            continue
        j = i + dg
        if not np.array_equal(work[i:i + k], copy[j:j + k]):
            idx += 1  # a k-gram hash collision
            continue
        a, b = i, j
        while a > 0 and b > 0 and work[a - 1] == copy[b - 1]:
            a -= 1
            b -= 1
        run = k + _equal_prefix(work, copy, i + k, j + k)
        cur = Span(a, i + run, b, j + run, r_s[idx])
        spans.append(cur)
    return spans


def _equal_prefix(a: np.ndarray, b: np.ndarray, i: int, j: int) -> int:
    """How many tokens a[i:] and b[j:] share from the start (compared in growing blocks)."""
    n = min(len(a) - i, len(b) - j)
    done, step = 0, 32
    while done < n:
        m = min(step, n - done)
        diff = np.flatnonzero(a[i + done:i + done + m] != b[j + done:j + done + m])
        if len(diff):
            return done + int(diff[0])
        done += m
        step *= 4
    return max(n, 0)


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
