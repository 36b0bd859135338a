"""Pairs that cannot yield evidence, known from their fingerprint hits alone (before the document is read).

A single-work lookup meets thousands of corpus documents that share two or more fingerprints with the work
(a licence header, a standard-library idiom) and turn out weak: reading and tokenizing them is most of a
lookup's time (docs/benchmarks.md). This module bounds, from a pair's hits, the longest run of equal tokens
`extend_seeds` can find, and the share of the work's own expression its spans can cover; a pair whose bound is
under `min_evidence_span` and whose coverage bound is under `min_copy_coverage` is weak without being measured.

The bound is a proof, from how the fingerprints are picked (fingerprint/vectorized.py `winnow_ranges`):

1. A span of `extend_seeds` is a maximal run of equal level tokens, work [a, a+L) and document [a+d, a+d+L)
   (diagonal d), holding a seed: a hit (i, i+d) with a <= i <= a+L-k. Equal tokens give equal k-gram hashes,
   so the run's n = L-k+1 k-grams have the same hashes on both sides.
2. Every window W of w consecutive k-grams inside the run is a window of both texts' winnowing (a text holding
   such a run has at least w k-grams), and each side picks in W a k-gram with W's minimum hash. Call W
   *unique* when its minimum key (the hash's top 64 - POS_BITS bits, the order winnowing uses) is held by one
   k-gram only: then both sides pick that k-gram, p_W in the work and p_W + d in the document, and the index
   holds the row (hash, document, p_W + d) (lk-fp keeps every fingerprint of a representative document). So
   the pair has the hit (p_W, p_W + d), unless the hash was left out of the seeds (register_seeds: frequent in
   the work's notices only, or repetition). A window that is not unique, or whose minimum was left out, is
   *wild*: it is taken to be consistent with every diagonal.
3. So on diagonal d every window inside the run is wild or picks a position hit on d: the run's windows, at
   least n - w + 1 consecutive ones, lie in one *component* of such windows on d, and L <= C + w + k - 2 for
   C the component's size. The windows of the run include one holding the seed i (the run holds i and at
   least w k-grams), so the component holds a window containing a hit of the pair.
4. Components are computed per pair, conservatively: for every diagonal of its hits, the windows picking its
   hit positions merged across gaps of wild windows and widened by the wild windows beside them; and for every
   hit, the longest run of wild windows among those containing it. C_max, their largest size, bounds every
   span: L <= C_max + w + k - 2 = `longest`.
5. Every span holds a seed's k-gram [i, i+k) and has at most `longest` tokens, so it lies in
   [i + k - longest, i + longest): the work's own tokens in the union of these intervals bound what `measure`
   can count as copied (selection only drops or trims spans). With `longest` < min_evidence_span no span
   counts toward min_copy_tokens, and with that union under min_copy_coverage of the own expression (or an own
   expression under min_span_tokens) the pair is not `copied` and has no span of min_evidence_span: weak, the
   same outcome `measure_docs` reaches after reading and measuring it (match/measure.py `cannot_be_copied`).

It applies to unkeyed indexes that store texts (spans extended on the tokens); a keyed or text-less index
chains spans from the hits themselves and is not filtered. tests/test_hit_bounds.py checks the bound against
the spans found on real texts, and that a lookup's evidence is the same with the filter on and off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.vectorized import _POS_MASK, U64, kgram_hashes, sliding_min
from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds


@dataclass
class WorkWindows:
    """A work file's winnowing windows, as the bound needs them (computed once per file and level)."""

    k: int
    w: int
    first: np.ndarray  # per k-gram position: first window whose rightmost minimum it is (-1: none)
    last: np.ndarray  # ... and last such window
    tame_pre: np.ndarray  # len n_windows + 1: windows that are not wild before each window (prefix count)
    wild_before: np.ndarray  # per window s: consecutive wild windows ending at s - 1
    wild_after: np.ndarray  # per window s: consecutive wild windows starting at s + 1
    wild_near: np.ndarray  # per k-gram position: longest wild run among the windows containing it
    own_pre: np.ndarray  # len n_tokens + 1: own-expression tokens before each token (prefix count)
    own_total: int


def work_windows(token_hashes: np.ndarray, own_expression: np.ndarray, params: Params,
                 left_out: np.ndarray) -> WorkWindows | None:
    """The windows of a work's token hashes at its matching level (unkeyed); `left_out`: sorted hashes that do
    not seed (register_seeds). None when the work has no whole window (nothing to bound)."""
    k, w = params.k, params.w
    g = kgram_hashes(np.ascontiguousarray(token_hashes, dtype=U64), k)
    n = len(g)
    if n < w or n > int(_POS_MASK):
        return None
    idx = np.arange(n, dtype=U64)
    top = g & ~_POS_MASK
    rightmost = (_POS_MASK - (sliding_min(top | (_POS_MASK - idx), w) & _POS_MASK)).astype(np.int64)
    leftmost = (sliding_min(top | idx, w) & _POS_MASK).astype(np.int64)
    n_win = n - w + 1
    wild = rightmost != leftmost
    if len(left_out):
        wild |= np.isin(g[rightmost], left_out)
    # windows picking each position: the rightmost minimum never moves left as the window slides
    if n_win > 1 and (np.diff(rightmost) < 0).any():
        return None  # cannot happen (kept as a guard: no filtering rather than a wrong bound)
    first = np.full(n, -1, np.int64)
    last = np.full(n, -1, np.int64)
    starts = np.flatnonzero(np.r_[True, rightmost[1:] != rightmost[:-1]])
    ends = np.r_[starts[1:] - 1, n_win - 1]
    first[rightmost[starts]], last[rightmost[starts]] = starts, ends
    wild_i = wild.astype(np.int64)
    tame_pre = np.r_[0, np.cumsum(1 - wild_i)]
    # run lengths of wild windows ending at / starting at each window
    run_end = _runs(wild_i)
    run_start = _runs(wild_i[::-1])[::-1]
    wild_before = np.r_[0, run_end[:-1]]
    wild_after = np.r_[run_start[1:], 0]
    run_len = np.where(wild, run_end + run_start - 1, 0)
    padded = np.r_[np.zeros(w - 1, np.int64), run_len, np.zeros(max(0, n - n_win), np.int64)]
    wild_near = -sliding_min(-padded, w)[:n]  # max over windows s in [p - w + 1, p]
    own_pre = np.r_[0, np.cumsum(own_expression, dtype=np.int64)]
    return WorkWindows(k, w, first, last, tame_pre, wild_before, wild_after, wild_near, own_pre,
                       int(own_pre[-1]))


def _runs(flags: np.ndarray) -> np.ndarray:
    """For 0/1 flags: the length of the run of 1s ending at each index (0 at a 0)."""
    c = np.cumsum(flags)
    reset = np.maximum.accumulate(np.where(flags == 0, c, 0))
    return c - reset


def span_bounds(ww: WorkWindows, doc: np.ndarray, wpos: np.ndarray, dpos: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(documents, longest): for the hits of one work file, the most tokens a span of `extend_seeds` can
    have in each document's pair with the file (steps 3-4 of the module's proof)."""
    docs, at = np.unique(doc, return_inverse=True)
    p = wpos.astype(np.int64)
    return docs, _longest(ww, at, p, dpos.astype(np.int64) - p, len(docs))


def weak_from_hits(ww: WorkWindows, doc: np.ndarray, wpos: np.ndarray, dpos: np.ndarray, th: Thresholds
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(documents, weak) for the hits of one work file: whether each document's pair with the file provably
    yields no evidence record (see the module's proof)."""
    docs, at = np.unique(doc, return_inverse=True)
    weak = np.zeros(len(docs), dtype=bool)
    if th.min_copy_tokens <= 0 or th.min_evidence_span < ww.w + ww.k - 1 or not len(docs):
        return docs, weak
    p = wpos.astype(np.int64)
    longest = _longest(ww, at, p, dpos.astype(np.int64) - p, len(docs))
    short = longest < th.min_evidence_span
    if ww.own_total < th.min_span_tokens:
        return docs, short
    return docs, short & (_own_reach(ww, at, p, longest) / ww.own_total < th.min_copy_coverage)


def _longest(ww: WorkWindows, at: np.ndarray, p: np.ndarray, diag: np.ndarray, n_docs: int) -> np.ndarray:
    """Per document (index `at` of each hit): C_max + w + k - 2 (steps 3-4)."""
    c_max = np.zeros(n_docs, np.int64)
    np.maximum.at(c_max, at, ww.wild_near[p])
    has = ww.first[p] >= 0
    if has.any():
        o = np.flatnonzero(has)
        o = o[np.lexsort((p[o], diag[o], at[o]))]
        a, b, gd, dg = ww.first[p[o]], ww.last[p[o]], at[o], diag[o]
        join = np.zeros(len(o), dtype=bool)
        same = (gd[1:] == gd[:-1]) & (dg[1:] == dg[:-1])
        gap_lo = b[:-1] + 1
        gap_hi = np.maximum(a[1:], gap_lo)  # windows between two hit positions' windows: all wild to join
        join[1:] = same & (ww.tame_pre[gap_hi] - ww.tame_pre[gap_lo] == 0)
        first_of = np.flatnonzero(~join)
        last_of = np.r_[first_of[1:], len(o)] - 1
        left = a[first_of] - ww.wild_before[a[first_of]]
        right = b[last_of] + ww.wild_after[b[last_of]]
        np.maximum.at(c_max, gd[first_of], right - left + 1)
    return c_max + ww.w + ww.k - 2


def _own_reach(ww: WorkWindows, at: np.ndarray, p: np.ndarray, longest: np.ndarray) -> np.ndarray:
    """Per document: the work's own tokens within reach of its spans (step 5): [i + k - longest, i + longest)
    around each hit i, united."""
    n_tok = len(ww.own_pre) - 1
    reach = longest[at]
    lo = np.clip(p + ww.k - reach, 0, n_tok)
    hi = np.clip(p + reach, 0, n_tok)
    span = n_tok + 1
    lo_o, hi_o = lo + at * span, hi + at * span  # offset per document: one running maximum for all
    order = np.lexsort((lo_o,))
    lo_o, hi_o = lo_o[order], hi_o[order]
    reach_hi = np.maximum.accumulate(hi_o)
    new = np.r_[True, lo_o[1:] > reach_hi[:-1]]
    seg_first = np.flatnonzero(new)
    seg_last = np.r_[seg_first[1:], len(lo_o)] - 1
    seg_doc = lo_o[seg_first] // span
    own = ww.own_pre[reach_hi[seg_last] - seg_doc * span] - ww.own_pre[lo_o[seg_first] - seg_doc * span]
    covered = np.zeros(len(longest), np.int64)
    np.add.at(covered, seg_doc, own)
    return covered
