"""Scores of each tool on the labelled cases, and the measures a court asks for.

Recall is reported per transformation and per copy length (tokens of the work reproduced), precision over
all cases, and the false-positive rate on unrelated real file pairs, each at the threshold the tool uses.
Peers get a threshold too: the lowest score at which their false-positive rate on the same negatives is
no higher than ascertain's (at least one false positive allowed per 1,000 negatives), so the recall
figures compare tools at the same false-positive rate.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

from ascertain.fingerprint.winnow import Params
from ascertain.match.auto_level import Leveled, compare_auto
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import compare_prepared
from ascertain.validation.cases import NEAR_DUPLICATE, Case

LENGTH_BUCKETS = [(20, 49), (50, 99), (100, 499), (500, 10**9)]

T = TypeVar("T")


def ascertain_scores(cases: list[Case], level: str, params: Params | None = None,
                     th: Thresholds | None = None, processes: int = 1) -> tuple[dict[str, str | None], float]:
    """{case id: the level that found a copy, or None} and pairs/s of one process (reading and tokenizing
    included).

    Level `auto` is the rule `ascertain compare` uses by default (`ascertain.match.auto_level`). With
    `processes` > 1 the cases are shared out among forked processes, a work's cases in one of them; each pair is
    decided alone, so the decisions are the same, and pairs/s is still that of one process (pairs over the
    processes' summed seconds), comparable with the single-process peers."""
    params, th = params or Params(), th or Thresholds()
    if processes <= 1 or len(cases) < 2:
        out, seconds = _scores_of(cases, level, params, th)
        return out, len(cases) / seconds
    by_work: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        by_work[c.work].append(c)
    chunks: list[list[Case]] = [[] for _ in range(processes * 4)]  # several per process: even load
    for group in sorted(by_work.values(), key=len, reverse=True):  # largest first, each to the emptiest chunk
        min(chunks, key=len).extend(group)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.starmap(_scores_of, [(chunk, level, params, th) for chunk in chunks if chunk])
    found = {k: v for part, _ in parts for k, v in part.items()}
    return {c.id: found[c.id] for c in cases}, len(cases) / sum(seconds for _, seconds in parts)


def _scores_of(cases: list[Case], level: str, params: Params, th: Thresholds) -> tuple[dict[str, str | None], float]:
    cache: dict[str, Leveled] = {}

    def load(path: str, language: str) -> Leveled:
        if path not in cache:
            with open(path, encoding="utf-8", errors="replace") as fh:
                cache[path] = Leveled(fh.read(), language, path, path, params)
        return cache[path]

    out: dict[str, str | None] = {}
    t0 = time.perf_counter()
    for c in cases:
        work, copy = load(c.work, c.language), load(c.copy, c.language)
        if level == "auto":
            r, found = compare_auto(work, copy, params, th, align=False)
        else:
            r, found = compare_prepared(work.at(level), copy.at(level), params, th, align=False), level
        out[c.id] = found if r["copied"] else None
        cache.pop(c.copy, None)  # each copy is read once
    return out, time.perf_counter() - t0


def calibrate(scores: dict[str, float], cases: list[Case], max_fpr: float) -> float:
    """Lowest threshold whose false-positive rate on the negatives is at most max_fpr."""
    neg = sorted((scores[c.id] for c in cases if not c.label), reverse=True)
    allowed = math.floor(max_fpr * len(neg))
    # scores strictly above the (allowed+1)-th highest negative score are positives
    return neg[allowed] + 1e-9 if allowed < len(neg) else 0.0


def summarize(cases: list[Case], flagged: dict[str, object]) -> dict:
    """Recall (all copies, and copies of at least 50 tokens) per transformation and length, precision, FPR."""
    flagged = {k: bool(v) for k, v in flagged.items()}
    per_t: dict[str, list[bool]] = defaultdict(list)
    per_t50: dict[str, list[bool]] = defaultdict(list)
    per_len: dict[str, list[bool]] = defaultdict(list)
    tp = fp = fn = tn = 0
    for c in cases:
        hit = flagged[c.id]
        if c.label:
            per_t[c.transform].append(hit)
            if c.copy_tokens >= 50:
                per_t50[c.transform].append(hit)
            for lo, hi in LENGTH_BUCKETS:
                if lo <= c.copy_tokens <= hi:
                    per_len[f"{lo}-{hi}" if hi < 10**9 else f"{lo}+"].append(hit)
            tp, fn = tp + hit, fn + (not hit)
        else:
            fp, tn = fp + hit, tn + (not hit)
    single = [flagged[c.id] for c in cases if c.label and c.copy_tokens >= 50 and group(c.transform) == "single"]
    combined = [flagged[c.id] for c in cases if c.label and c.copy_tokens >= 50 and group(c.transform) == "combined"]
    return {
        "recall_by_transform": {t: _rate(v) for t, v in sorted(per_t.items())},
        "recall_by_transform_50plus": {t: _rate(v) for t, v in sorted(per_t50.items())},
        "recall_by_length": {k: _rate(v) for k, v in per_len.items()},
        "recall_single_50plus": _rate(single), "recall_combined_50plus": _rate(combined),
        "min_recall_single_50plus": min((_rate(v)["rate"] for t, v in per_t50.items() if group(t) == "single"),
                                        default=0.0),
        "min_recall_combined_50plus": min((_rate(v)["rate"] for t, v in per_t50.items() if group(t) == "combined"),
                                          default=0.0),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "fpr": round(fp / (fp + tn), 5) if fp + tn else 0.0, "fp": fp, "negatives": fp + tn,
        "tp": tp, "positives": tp + fn,
    }


def group(transform: str) -> str:
    """single or combined (the targets), or near-duplicate (scattered edits: the MinHash signal's case)."""
    if transform in NEAR_DUPLICATE:
        return "near-duplicate"
    return "combined" if "+" in transform else "single"


def minhash_scores(cases: list[Case]) -> dict[str, float]:
    """Whole-document estimated Jaccard of the work and the copy (the supplementary signal)."""
    from ascertain.fingerprint.minhash import signature
    from ascertain.fingerprint.winnow import fingerprint_hashes
    from ascertain.text.tokenize import tokenize

    sigs: dict[str, object] = {}

    def sig(path: str, language: str):
        if path not in sigs:
            with open(path, encoding="utf-8", errors="replace") as fh:
                fp, _ = fingerprint_hashes(tokenize(fh.read(), language, kinds=False).hashes, Params())
                sigs[path] = signature(fp)
        return sigs[path]

    out = {}
    for c in cases:
        a, b = sig(c.work, c.language), sig(c.copy, c.language)
        out[c.id] = float((a == b).mean()) if a.any() and b.any() else 0.0
        sigs.pop(c.copy, None)
    return out


def _rate(v: Iterable[bool]) -> dict:
    v = list(v)
    return {"rate": round(sum(v) / len(v), 4) if v else 0.0, "n": len(v)}


def scored_peer(name: str, scores: dict[str, float], seconds: float, cases: list[Case], max_fpr: float,
                default: float | None = None) -> dict:
    th = calibrate(scores, cases, max_fpr)
    res = {"tool": name, "threshold": round(th, 4), "pairs_per_s": round(len(cases) / seconds, 1),
           **summarize(cases, {k: v >= th for k, v in scores.items()})}
    if default is not None:
        res["at_default_threshold"] = {"threshold": default,
                                       **summarize(cases, {k: v >= default for k, v in scores.items()})}
    return res


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0
