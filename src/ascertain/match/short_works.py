"""Short works: `copied` only on evidence independent work of the same size does not reach.

Independent solutions of one small task look alike by necessity (merger, scènes à faire): at the identifiers
level two programmers' 15-line `is_prime` can share most of their tokens. So for a short work the documented
rule (match/measure.py) is necessary but not enough:

- **Without a reference** a pair that meets the rule is `copied` only when its evidence clears the size bar
  of the work's size band (`SIZE_BARS`): at least the band's least own coverage, or at least the band's least
  own tokens reproduced in spans of `min_evidence_span` tokens (the copied region judged on its own tokens:
  a 70 % excerpt of a 200-token function reproduces 140 of them in one place); otherwise `inconclusive`.
  Each band's bar is derived (`derive_bar`) from what independent same-task pairs of that size reached on
  the tuning half of `ascertain validate --short-works` (docs/validation.md, "Short works"): their highest
  own coverage plus COVERAGE_MARGIN, and twice the most own tokens they shared in one span, and never below
  the documented rule. Works of more own tokens than the last band have no bar beyond the rule.
- **With a reference** (`compare --reference`, match/reference.py) the pair is placed in the distribution of
  the scores of independent pairs: the work against every reference work and reference works against each
  other (at most MAX_NULL_PAIRS, drawn by content). The empirical p-value is
  p = (1 + #{independent pairs scoring ≥ the pair}) / (1 + #independent pairs); a pair meeting the rule is
  `copied` when p ≤ ALPHA, otherwise `inconclusive`. A reference too small for p to reach ALPHA decides
  nothing: the size bar applies, and the evidence says so.

The evidence score is the share of the work's own expression (outside notices, licence text and common
spans) the copy reproduces in spans of at least `min_span_tokens` tokens (`own_coverage`), taken at the
level that decided; with a reference, every pair's score is its highest over the levels compared (for the
copy and for the independent pairs alike), so choosing the level cannot favour the pair.
"""

from __future__ import annotations

import math

# The bar of a band stands at least this far above what independent pairs of the band reached: own coverage
# + COVERAGE_MARGIN, and SPAN_FACTOR × the most own tokens an independent pair shared in one span.
COVERAGE_MARGIN = 0.2
SPAN_FACTOR = 2
RULE_COVERAGE, RULE_TOKENS = 0.8, 50  # the documented rule's min_copy_coverage and min_copy_tokens (measure.py)
# (most own tokens of the band, the highest own coverage and the most own tokens in one span that independent
# same-task pairs of the band reached), measured on the tuning half of `ascertain validate --short-works
# --works 1200 --seed 11` after leaving out evidently related pairs (validation/independent.py): 770 pairs,
# 674 of 50+ own tokens. The old bar (own coverage 0.8, a 150-token verbatim run or 0.75 in one span for
# every work up to 449 own tokens) was read off pairs that were derived code, not independent work.
INDEPENDENT_REACHED: tuple[tuple[int, float, int], ...] = ((99, 0.311, 23), (199, 0.0, 0), (449, 0.0, 0))


def derive_bar(reached_coverage: float, reached_span: int) -> tuple[float, int]:
    """(least own coverage, least own tokens in evidence spans) of a band whose independent pairs reached
    `reached_coverage` and shared at most `reached_span` own tokens in one span."""
    return (round(max(RULE_COVERAGE, reached_coverage + COVERAGE_MARGIN), 3),
            max(RULE_TOKENS, SPAN_FACTOR * reached_span))


# (most own tokens, least own coverage, least own tokens in evidence spans) per band
SIZE_BARS: tuple[tuple[int, float, int], ...] = tuple((top, *derive_bar(c, n)) for top, c, n in INDEPENDENT_REACHED)
ALPHA = 0.05
MAX_NULL_PAIRS = 400


def evidence_score(result: dict) -> float:
    return float(result["own_coverage"])


def size_bar(own_tokens: int) -> tuple[int, float, int] | None:
    """(the band's size limit, the least own coverage, the least own tokens in evidence spans) for a work of
    `own_tokens` own tokens, or None (no bar)."""
    return next((b for b in SIZE_BARS if own_tokens <= b[0]), None)


def _band(own_tokens: int) -> tuple[int, int, float, int] | None:
    """(the band's least and most own tokens, what independent pairs of the band reached)."""
    lo = RULE_TOKENS  # works under min_work_own_tokens (50) are `inconclusive` by the floor
    for top, cov, span in INDEPENDENT_REACHED:
        if own_tokens <= top:
            return lo, top, cov, span
        lo = top + 1
    return None


def bar_fact(own_tokens: int) -> dict:
    b, band = size_bar(own_tokens), _band(own_tokens)
    if b is None or band is None:
        return {"own_tokens_up_to": None, "least_score": None, "least_own_tokens_in_evidence_spans": None,
                "note": f"more than {SIZE_BARS[-1][0]} own tokens: no size bar, the documented rule alone"}
    return {"own_tokens_up_to": b[0], "least_score": b[1], "least_own_tokens_in_evidence_spans": b[2],
            "independent_pairs_reached": {"own_tokens": [band[0], band[1]], "own_coverage": band[2],
                                          "own_tokens_in_one_span": band[3]}}


def apply_size_bar(decision: str, own_total: int, score: float, in_evidence_spans: int = 0
                   ) -> tuple[str, str | None]:
    """The decision after the size bar, and the reason when the bar turned `copied` into `inconclusive`."""
    b, band = size_bar(own_total), _band(own_total)
    if decision != "copied" or b is None or band is None or score >= b[1] or in_evidence_spans >= b[2]:
        return decision, None
    return "inconclusive", (f"the rule is met, but the work is short ({own_total} own tokens): the copy reproduces "
                            f"{score:.3f} of its own expression, {in_evidence_spans} own tokens in spans of 40+, "
                            f"under the {b[1]} or {b[2]} tokens that clear what independent solutions of works of "
                            f"{band[0]}–{band[1]} own tokens reached (at most {band[2]:.3f}, {band[3]} tokens in one "
                            "span); pass --reference with independent solutions of the same task to decide")


def empirical_p(score: float, null: list[float]) -> float:
    """(1 + #{null ≥ score}) / (1 + #null): the pair counted among the independent pairs (never 0)."""
    return (1 + sum(s >= score - 1e-12 for s in null)) / (1 + len(null))


def least_p(n_null: int) -> float:
    return 1 / (1 + n_null)


def pairs_needed(alpha: float = ALPHA) -> int:
    """Independent pairs a reference must give for p to reach alpha."""
    return math.ceil(1 / alpha) - 1
