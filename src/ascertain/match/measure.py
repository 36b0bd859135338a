"""Measures of one copy of one work file, and the documented `copied` decision.

copied  ⇔  the work's own expression (tokens outside copyright/license notices, and outside short spans
           common to many corpus documents) is reproduced, in spans of at least `min_evidence_span`
           tokens, for at least `min_copy_tokens` tokens; or at least `min_copy_coverage` of it is
           reproduced (in spans of any reported length) when the work is short.

Scattered short runs (a project's shared idiom, e.g. the same doctest loop at the end of two files by one
author) are reported as spans but are not, alone, a copy.

decision   copied | not_copied | inconclusive: a pair that meets the rule above is `inconclusive` instead of
           `copied` when the work has fewer than `min_work_own_tokens` own tokens (too small to tell), when a
           short work's copy does not clear the size bar of its size (match/short_works.py), and, with
           a reference population of independent works, when too little of it is its own after removing what
           the reference shares with it, or when what the copy shares is shared by independent works too
           (match/reference.py). `copied` stays the boolean `decision == "copied"`. `decision_basis` names
           the facts the decision rests on: the rule and thresholds, the own expression left after notices,
           licence text and common spans, the size bar, and the chance baseline or its absence.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from ascertain.match.short_works import apply_size_bar, bar_fact
from ascertain.match.spans import Span
from ascertain.text.levels import LIT_HASH
from ascertain.text.pages import page_of, page_starts
from ascertain.text.tokenize import TokenStream


@dataclass(frozen=True)
class Thresholds:
    min_span_tokens: int = 20  # spans shorter than this are not reported (the winnowing guarantee)
    min_evidence_span: int = 40  # spans shorter than this do not count toward min_copy_tokens
    min_copy_tokens: int = 50
    min_copy_coverage: float = 0.8
    common_df: int = 0  # spans found in more corpus documents than this are common (0: no corpus)
    common_max_tokens: int = 100  # ... and are discounted only when shorter than this
    # a span of fewer distinct tokens is a list or a repeated pattern ('X', 'Y', ... or `ID: ID | None = None,`
    # at the identifiers level), not evidence of expression; it is reported, not counted
    min_distinct_tokens: int = 8
    # a work with fewer own tokens (after removing those a reference population of independent works shares
    # with it) is too small to tell copying from independent creation: `inconclusive`, never `copied`
    min_work_own_tokens: int = 50
    # a short work meeting the rule is `copied` only above the score independent works of its size did not
    # reach (match/short_works.py); off only to measure the rule without it
    size_bars: bool = True

    def as_dict(self) -> dict:
        return dict(_thresholds_dict(self))  # in every record: made once per thresholds, copied


@functools.lru_cache(maxsize=16)
def _thresholds_dict(th: Thresholds) -> dict:
    return asdict(th)


def longest_verbatim(work: TokenStream, copy: TokenStream, s: Span) -> int:
    """Longest stretch of the span whose tokens are equal before case folding."""
    wt, ct = work.text, copy.text
    if wt[work.start[s.w0]:work.end[s.w1 - 1]] == ct[copy.start[s.d0]:copy.end[s.d1 - 1]]:
        return s.length  # the whole span is the same text, layout included
    best = run = 0
    ws, we = work.start[s.w0:s.w1].tolist(), work.end[s.w0:s.w1].tolist()
    cs, ce = copy.start[s.d0:s.d1].tolist(), copy.end[s.d0:s.d1].tolist()
    for a, b, c, d in zip(ws, we, cs, ce, strict=True):
        run = run + 1 if wt[a:b] == ct[c:d] else 0
        best = max(best, run)
    return best


def _literals_differ(work: TokenStream, copy: TokenStream, s: Span, min_literals: int = 3) -> bool:
    """At a placeholder level: do most of the span's literals differ as written? Then the span is a table of
    the same shape (a lexer's regex list, a list of options), not a copy with a changed constant or two."""
    idx = (work.hashes[s.w0:s.w1] == LIT_HASH).nonzero()[0]
    if len(idx) < min_literals:
        return False
    wt, ct = work.text, copy.text
    differ = sum(wt[work.start[s.w0 + i]:work.end[s.w0 + i]] != ct[copy.start[s.d0 + i]:copy.end[s.d0 + i]]
                 for i in idx.tolist())
    return differ * 2 > len(idx)


def tokens_identical(work: TokenStream, copy: TokenStream) -> bool:
    """Same tokens, as written, in the same order (layout may differ)."""
    n = len(work)
    return bool(n == len(copy) and np.array_equal(work.hashes, copy.hashes)
                and (n == 0 or longest_verbatim(work, copy, Span(0, n, 0, n)) == n))


def _distinct_below(hashes: np.ndarray, n: int) -> bool:
    """Whether the span has fewer than n distinct tokens: its first tokens usually show n already (a long span
    is not sorted whole)."""
    head = hashes[:max(4 * n, 64)]
    if len(head) < len(hashes) and len(set(head.tolist())) >= n:
        return False
    return len(np.unique(hashes)) < n


def decoration_of(work: TokenStream) -> np.ndarray:
    """A run of one token repeated (a rule of '=' or '-' under a heading, a row of '*') is decoration, not
    expression: from its third token on it counts neither as own expression nor as copied."""
    n = len(work)
    decoration = np.zeros(n, dtype=bool)
    if n > 2:
        h = work.hashes
        decoration[2:] = (h[2:] == h[1:-1]) & (h[1:-1] == h[:-2])
    return decoration


def cannot_be_copied(own_expression: np.ndarray, spans: list[Span], th: Thresholds) -> bool:
    """Whether `measure` would find the pair not copied with only short runs (a weak pair: counted, not
    stored), known from the spans before they are selected. `own_expression`: the work's tokens outside its
    notices and decoration (~mask & ~decoration_of). Selection only drops or trims spans, so with every span
    under min_evidence_span no clause of long spans can be met, and the own tokens the spans cover bound the
    own coverage from above."""
    if th.min_copy_tokens <= 0 or max(s.length for s in spans) >= th.min_evidence_span:
        return False
    own_total = int(np.count_nonzero(own_expression))
    if own_total < th.min_span_tokens:
        return True
    covered = np.zeros(len(own_expression), dtype=bool)
    for s in spans:
        covered[s.w0:s.w1] = True
    bound = int(np.count_nonzero(covered & own_expression)) / own_total if own_total else 0.0
    return bound < th.min_copy_coverage


_REASONS = {"copied": "the documented rule is met", "not_copied": "the documented rule is not met"}


def measure(work: TokenStream, work_mask: np.ndarray, spans: list[Span], th: Thresholds,
            copy: TokenStream | None, copy_tokens: int, byte_identical: bool) -> dict:
    n = len(work)
    covered = np.zeros(n, dtype=bool)
    discounted = np.zeros(n, dtype=bool)  # inside a span that is common, low-information or a same-shape table
    own = np.zeros(n, dtype=bool)  # own expression reproduced, any reported span
    strong = np.zeros(n, dtype=bool)  # ... in spans of at least min_evidence_span tokens
    span_rows = []
    longest = 0
    one_span = 0  # the longest span that counts (not common), in tokens of the work
    pages = {"original_pages": (work, page_starts(work.text))}
    if copy is not None:
        pages["copy_pages"] = (copy, page_starts(copy.text))
    for s in spans:
        common = bool(th.common_df and s.rarity_docs > th.common_df and s.length < th.common_max_tokens)
        low_information = _distinct_below(work.hashes[s.w0:s.w1], th.min_distinct_tokens)
        literals_differ = copy is not None and _literals_differ(work, copy, s)
        common = common or low_information or literals_differ
        covered[s.w0:s.w1] = True
        if common:
            discounted[s.w0:s.w1] = True
        else:
            own[s.w0:s.w1] = True
            one_span = max(one_span, int(np.count_nonzero(~work_mask[s.w0:s.w1])))
            if s.length >= th.min_evidence_span:
                strong[s.w0:s.w1] = True
        verbatim = longest_verbatim(work, copy, s) if copy is not None else None
        longest = max(longest, verbatim if verbatim is not None else s.length)
        row = {
            "original_tokens": [s.w0, s.w1], "copy_tokens": [s.d0, s.d1], "tokens": s.length,
            "verbatim_tokens": verbatim, "original_lines": list(work.lines(s.w0, s.w1 - 1)),
            "copy_lines": list(copy.lines(s.d0, s.d1 - 1)) if copy is not None else None,
            "cmi_tokens": int(np.count_nonzero(work_mask[s.w0:s.w1])), "rarity_docs": s.rarity_docs,
            "common": common, "low_information": low_information, "literals_differ": literals_differ,
            "verified": s.verified,
        }
        for name, (ts, breaks) in pages.items():  # paged texts (PDF, EPUB): the pages a span covers
            if len(breaks):
                a, b = (s.w0, s.w1) if name == "original_pages" else (s.d0, s.d1)
                row[name] = [page_of(breaks, int(ts.start[a])), page_of(breaks, int(ts.start[b - 1]))]
        span_rows.append(row)
    decoration = decoration_of(work)
    own &= ~work_mask & ~decoration
    own_total = int(np.count_nonzero(~work_mask & ~decoration))
    own_copied = int(np.count_nonzero(own))
    own_cov = own_copied / own_total if own_total else 0.0
    in_strong = int(np.count_nonzero(strong & ~work_mask & ~decoration))
    clause = ("long spans" if in_strong >= th.min_copy_tokens else "coverage"
              if own_total >= th.min_span_tokens and own_cov >= th.min_copy_coverage else None)
    decision = "not_copied" if clause is None else "copied" if own_total >= th.min_work_own_tokens else "inconclusive"
    reason = _REASONS[decision] if decision != "inconclusive" else \
        f"the work has {own_total} own tokens, fewer than {th.min_work_own_tokens}: too small to tell"
    if th.size_bars:
        decision, why = apply_size_bar(decision, own_total, own_cov, in_strong)
        reason = why or reason
    basis = {
        "rule": (f"copied ⇔ at least {th.min_copy_tokens} own tokens reproduced in spans of at least "
                 f"{th.min_evidence_span} tokens, or at least {th.min_copy_coverage} of the own expression "
                 f"(a work of at least {th.min_span_tokens} own tokens); a work under {th.min_work_own_tokens} "
                 "own tokens is too small to tell"),
        "thresholds": th.as_dict(), "clause_met": clause,
        "own_expression": {
            "work_tokens": n, "notice_or_licence_tokens": int(np.count_nonzero(work_mask)),
            "decoration_tokens": int(np.count_nonzero(decoration & ~work_mask)),
            "common_span_tokens": int(np.count_nonzero(discounted & ~own & ~work_mask)), "own_tokens": own_total,
            "own_tokens_copied": own_copied, "own_tokens_in_evidence_spans": in_strong},
        "size_bar": {**bar_fact(own_total), "score": round(own_cov, 6), "own_tokens_in_evidence_spans": in_strong,
                     "own_tokens_in_one_span": one_span, "verbatim_run": int(longest), "applied": th.size_bars},
        "chance_baseline": None,
        "chance_baseline_note": "absent: no population of independent works was given; the size bar applies",
    }
    # without the copy's text (keyed index), fingerprints alone cannot prove identity
    identical = tokens_identical(work, copy) if copy is not None else None
    return {
        "copied": decision == "copied",
        "decision": decision,
        "decision_reason": reason,
        "decision_basis": basis,
        "coverage": round(float(covered.mean()) if n else 0.0, 6),
        "own_coverage": round(own_cov, 6),
        "own_tokens_copied": own_copied,
        "work_tokens": n,
        "work_own_tokens": own_total,
        "copy_tokens": copy_tokens,
        "longest_run_tokens": int(longest),
        "fragments": len(spans),
        "identical": identical,
        "byte_identical": bool(byte_identical),
        "spans": span_rows,
    }
