"""From fingerprint hits to spans: seeds extended on the tokens, or chained when no text is available."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ascertain.fingerprint.vectorized import _kernel

# an extension built before `chain` was added lacks it: the NumPy reference then
_chain = getattr(_kernel, "chain", None)


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
    """The copy's passages, each work token and each copy token claimed by one span at most.

    First the collinear chain: the spans in the same order in the work and in the copy that cover the most
    work tokens (a contiguous copy of a work that repeats a passage is one span, not the copy's single
    occurrence claimed again by the work's other occurrence); spans of the chain that overlap are trimmed.
    Then, longest first, each other span whose tokens are mostly unclaimed on both sides: a block moved
    elsewhere in the copy. A passage repeated in the copy or in the work is one fragment, not several.
    Returned in work order."""
    spans = [s for s in spans if s.w1 - s.w0 >= min_tokens]
    if len(spans) <= 1:
        return spans
    used, kept = _collinear_chain(spans)  # a span trimmed below min_tokens stays: it is in order
    if len(used) == len(spans):  # every span in the chain (the usual case): nothing else to place
        return sorted(kept, key=lambda s: (s.w0, s.d0))
    taken_w = np.zeros(max(s.w1 for s in spans), dtype=bool)
    taken_d = np.zeros(max(s.d1 for s in spans), dtype=bool)
    for s in kept:
        taken_w[s.w0:s.w1] = taken_d[s.d0:s.d1] = True
    for k, s in sorted(enumerate(spans), key=lambda x: (x[1].w0 - x[1].w1, x[1].w0, x[1].d0)):
        if k in used:
            continue
        new_w = s.length - int(np.count_nonzero(taken_w[s.w0:s.w1]))
        new_d = s.length - int(np.count_nonzero(taken_d[s.d0:s.d1]))
        if new_w * 2 > s.length and new_d * 2 > s.length:
            kept.append(s)
            taken_w[s.w0:s.w1] = taken_d[s.d0:s.d1] = True
    return sorted(kept, key=lambda s: (s.w0, s.d0))


MAX_CHAIN_SPANS = 4000  # the chain is chosen among this many longest spans (quadratic in their number)


def _collinear_chain(all_spans: list[Span]) -> tuple[set[int], list[Span]]:
    """The heaviest chain of spans increasing in both the work and the copy: the indices of its spans in
    `all_spans`, and the spans, trimmed. A span may overlap its predecessor by less than half its length (the
    overlap is not counted, and is trimmed off its start)."""
    a = np.array([(s.w0, s.w1, s.d0, s.d1) for s in all_spans], np.int64).reshape(-1, 4)
    # longest first (then w0, d0; stable: ties keep their order), then those in (w0, d0, w1) order
    order = np.lexsort((a[:, 2], a[:, 0], a[:, 0] - a[:, 1]))[:MAX_CHAIN_SPANS]
    order = order[np.lexsort((a[order, 1], a[order, 2], a[order, 0]))]
    w0, w1, d0, d1 = (np.ascontiguousarray(a[order, c]) for c in range(4))
    n = len(order)
    score = np.zeros(n, np.float64)
    prev = np.full(n, -1, np.int64)
    if _chain is not None:
        _chain(w0, w1, d0, d1, score, prev)
    else:
        _chain_reference(w0, w1, d0, d1, score, prev)
    k = int(np.argmax(score))
    chain: list[int] = []
    while k >= 0:
        chain.append(k)
        k = int(prev[k])
    chain.reverse()
    spans = [all_spans[i] for i in order.tolist()]
    out = [spans[chain[0]]]
    for k in chain[1:]:
        s = spans[k]
        cut = max(0, out[-1].w1 - s.w0, out[-1].d1 - s.d0)
        out.append(replace(s, w0=s.w0 + cut, d0=s.d0 + cut) if cut else s)
    return {int(order[k]) for k in chain}, out


def _chain_reference(w0: np.ndarray, w1: np.ndarray, d0: np.ndarray, d1: np.ndarray, score: np.ndarray,
                     prev: np.ndarray) -> None:
    """The chain's dynamic programme (the C kernel's `chain` does the same, faster): for each span, the best
    earlier span to follow."""
    for k in range(len(w0)):
        length = int(w1[k] - w0[k])
        overlap = np.maximum(np.maximum(w1[:k] - w0[k], d1[:k] - d0[k]), 0)
        ok = (w0[:k] < w0[k]) & (d0[:k] < d0[k]) & (w1[:k] < w1[k]) & (d1[:k] < d1[k]) & (overlap * 2 < length)
        score[k] = length
        if ok.any():
            # tokens covered; among equal covers (a work that repeats the copied passage), the chain whose
            # spans lie closest to one diagonal: the copy's passage, not pieces of the work's other repeats
            shift = np.abs((d0[:k] - w0[:k]) - (d0[k] - w0[k])) * 1e-9
            gain = np.where(ok, score[:k] - overlap - shift, -1.0)
            j = int(np.argmax(gain))  # the first best: ties go to the earlier span
            if gain[j] > 0:
                score[k] = length + float(gain[j])
                prev[k] = j
