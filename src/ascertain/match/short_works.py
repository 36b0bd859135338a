"""Short works: `copied` only on evidence independent work of the same size does not reach.

Independent solutions of one small task look alike by necessity (merger, scènes à faire): at the identifiers
level two programmers' 15-line `is_prime` can share most of their tokens. So for a short work the documented
rule (match/measure.py) is necessary but not enough:

- **Without a reference** a pair that meets the rule is `copied` only when its evidence score, its
  longest verbatim run or the share of the own expression in its longest span clears the size bar of the
  work's size (`SIZE_BARS`: what independent same-task pairs of that size did not reach on the tuning half
  of `ascertain validate --short-works`, docs/validation.md); otherwise `inconclusive`. Works of more own
  tokens than the last bar have none: independent works of that size did not meet the rule.
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

# (most own tokens, least evidence score, least verbatim run, least share in one span), chosen on the tuning
# half of `validate --short-works` (docs/validation.md, "Short works"): of 808 independent same-task pairs, the
# 13 that met the rule (works of 31–356 own tokens) reached at most own coverage 0.772, a verbatim run of 121
# tokens and 0.698 of the own expression in one span (the 31-token work is under the floor of 50). The bar:
# the next 0.05 above the highest score or share, or the next 50 tokens above the longest run, for works up to
# 449 own tokens; none of more than 419 own tokens met the rule.
SIZE_BARS: tuple[tuple[int, float, int, float], ...] = ((449, 0.8, 150, 0.75),)
ALPHA = 0.05
MAX_NULL_PAIRS = 400


def evidence_score(result: dict) -> float:
    return float(result["own_coverage"])


def size_bar(own_tokens: int) -> tuple[int, float, int, float] | None:
    """(the bar's size limit, the least score, the least verbatim run, the least share in one span) for a work
    of `own_tokens` own tokens, or None (no bar)."""
    return next((b for b in SIZE_BARS if own_tokens <= b[0]), None)


def bar_fact(own_tokens: int) -> dict:
    b = size_bar(own_tokens)
    return {"own_tokens_up_to": b[0], "least_score": b[1], "least_verbatim_run": b[2],
            "least_share_in_one_span": b[3]} if b else {
        "own_tokens_up_to": None, "least_score": None, "least_verbatim_run": None, "least_share_in_one_span": None,
        "note": f"more than {SIZE_BARS[-1][0]} own tokens: no size bar, the documented rule alone"}


def apply_size_bar(decision: str, own_total: int, score: float, run: int = 0, one_span: float = 0.0
                   ) -> tuple[str, str | None]:
    """The decision after the size bar, and the reason when the bar turned `copied` into `inconclusive`."""
    b = size_bar(own_total)
    if decision != "copied" or b is None or score >= b[1] or run >= b[2] or one_span >= b[3]:
        return decision, None
    return "inconclusive", (f"the rule is met, but the work is short ({own_total} own tokens): the copy reproduces "
                            f"{score:.3f} of its own expression ({one_span:.3f} in one span), longest verbatim run "
                            f"{run} tokens, under the {b[1]} ({b[3]} in one span) or {b[2]} tokens that independent "
                            f"solutions of works up to {b[0]} own tokens did not reach; pass --reference with "
                            "independent solutions of the same task to decide")


def empirical_p(score: float, null: list[float]) -> float:
    """(1 + #{null ≥ score}) / (1 + #null): the pair counted among the independent pairs (never 0)."""
    return (1 + sum(s >= score - 1e-12 for s in null)) / (1 + len(null))


def least_p(n_null: int) -> float:
    return 1 / (1 + n_null)


def pairs_needed(alpha: float = ALPHA) -> int:
    """Independent pairs a reference must give for p to reach alpha."""
    return math.ceil(1 / alpha) - 1
