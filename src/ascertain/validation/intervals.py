"""Intervals of a proportion, one implementation each for every rate the tool prints: the Wilson score
interval and the exact Clopper–Pearson interval (statsmodels, method "beta")."""

from __future__ import annotations

import math


def wilson_bounds(p: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson interval of a share p observed on n cases (n may be an effective, non-integer size)."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    """95 % Wilson interval of k successes in n, rounded to 4 places (as the docs print it)."""
    if n == 0:
        return [0.0, 1.0]
    lo, hi = wilson_bounds(k / n, n, z)
    return [round(lo, 4), round(hi, 4)]


def clopper_pearson(k: int, n: int, confidence: float = 0.95, digits: int | None = None) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval of k successes in n; (0, 1) when n is 0; rounded when `digits` is given."""
    if n == 0:
        return (0.0, 1.0)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = (float(v) for v in proportion_confint(k, n, alpha=1 - confidence, method="beta"))
    lo, hi = (0.0 if k == 0 else lo), (1.0 if k == n else hi)
    return (round(lo, digits), round(hi, digits)) if digits is not None else (lo, hi)
