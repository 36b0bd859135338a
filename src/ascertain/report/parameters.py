"""The report's parameter table and methods sentence, read from what the match run applied (its manifest).

Every value shown is the manifest's: the fingerprint parameters as the index applied them, the thresholds,
and `common_df` as applied per source (0 in the thresholds asks `match` to set it per source: max(5, 1 % of
the source's distinct documents); the manifest's `common_df_applied` holds what it set), and the level each
source's index applied (`levels_applied`). Every row has a
meaning (tests/test_report_parameters.py checks both).
"""

from __future__ import annotations

import json

MEANINGS = {"k": "tokens per k-gram", "w": "winnowing window, in k-grams",
            "guarantee_tokens": "in every document measured against a work, every shared run of at least this "
                                "many tokens is found (w + k − 1; see Methods for when a document is measured)",
            "hash": "how tokens and k-grams are hashed, and how winnowing picks a fingerprint in each window",
            "level": "normalization level of each source's index (auto: each document at its own level, "
                     "prose at book, code at layout)", "keyed": "fingerprints keyed with a secret (HMAC)",
            "min_span_tokens": "spans shorter than this are not reported",
            "min_evidence_span": "spans shorter than this do not count toward a copy",
            "min_copy_tokens": "own tokens a copy must reproduce in such spans",
            "min_copy_coverage": "or this share of a short work",
            "common_df": "spans in more distinct documents than this are common",
            "common_max_tokens": "common spans are discounted only when shorter than this",
            "min_distinct_tokens": "spans with fewer distinct tokens are lists, not expression",
            "min_work_own_tokens": "a work with fewer own tokens is too small to tell: inconclusive, never copied",
            "size_bars": "a short work meeting the rule is copied only above the score independent works of its "
                         "size did not reach (otherwise inconclusive)",
            "max_seed_df": "fingerprints in more distinct documents than this seed only through the work's own "
                           "text (not its notices); no copy of the work's own text is left out",
            "max_hash_hits": "fingerprints whose work occurrences × occurrences per document holding them pass "
                             "this seed nothing (repetition)"}


def _shown(v) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def per_source(applied: dict, default) -> str:
    """A value applied per source: one value, or each source's ("5 (books), 12 (corpus)")."""
    values = sorted(set(applied.values()))
    if not applied:
        return _shown(default)
    if len(values) == 1:
        return _shown(values[0])
    return ", ".join(f"{_shown(n)} ({s})" for s, n in sorted(applied.items()))


def common_df_shown(params: dict) -> str:
    """`common_df` as applied."""
    return per_source(params.get("common_df_applied") or {}, params["thresholds"]["common_df"])


def parameter_rows(params: dict) -> list[dict]:
    """[{name, value, meaning}] of the run's parameters, as applied."""
    rows = []
    for k, v in [*params["fingerprint"].items(), *params["thresholds"].items(),
                 ("max_seed_df", params["max_seed_df"]), ("max_hash_hits", params["max_hash_hits"])]:
        value = (common_df_shown(params) if k == "common_df" else
                 per_source(params.get("levels_applied") or {}, v) if k == "level" else _shown(v))
        meaning = MEANINGS.get(k, "")
        if k == "common_df" and params.get("common_df_applied") and not params["thresholds"]["common_df"]:
            meaning += " (set per source: max(5, 1 % of its distinct documents))"
        rows.append({"name": k, "value": value, "meaning": meaning})
    return rows


def measured_tokens(params: dict) -> int:
    """A shared run of this many tokens holds two fingerprints (two whole windows): its document is measured."""
    fp = params["fingerprint"]
    return 2 * int(fp["w"]) + int(fp["k"]) - 1


def winnowing_words(params: dict) -> str:
    """How the run picked fingerprints, from the manifest's hash description."""
    described = params["fingerprint"].get("hash", "")
    if "robust winnowing" in described:
        return ("robust winnowing: the minimum of every window of w k-gram hashes, the previous pick kept on "
                "ties while it is in the window")
    return "winnowing: the rightmost minimum of every window of w k-gram hashes"
