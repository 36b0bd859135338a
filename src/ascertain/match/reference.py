"""The chance baseline of a pairwise compare: what independent works in the same language reach.

Similarity that independent authors reach by necessity (the same small task, scènes à faire, merger) is not
evidence of copying. A reference population of independent works (`compare --reference DIR_OR_JSONL`) gives
the figures to expect by chance. The decision rests on where the pair's own score falls among the scores of
independent pairs (match/short_works.py): the work against every reference work, and reference works against
each other (at most MAX_NULL_PAIRS, chosen by content so the same reference gives the same pairs). Each
score is the pair's highest evidence score over the levels compared (the levels `--level auto` tries, or the
one level given), for the copy as for the independent pairs.

- `chance_baseline`: the empirical p-value and what it was computed from (`null_pairs`, `alpha`), the
  highest own coverage, longest run and own tokens any reference work reaches against the work, how many
  reach the pair's own coverage, and the work's and copy's distinctive tokens (own tokens outside every span
  a reference work shares with the work), for the reader;
- a pair the rule calls `copied` or `inconclusive` (a short work under its size bar) is `copied` when
  p ≤ ALPHA and `inconclusive` otherwise; a reference that gives too few independent pairs for p to reach
  ALPHA can only say that independent works reach the pair (`inconclusive`); when none does, the decision
  without a reference stands, and the evidence says why.

The reference never turns `not_copied` into anything else, nor decides on a work under `min_work_own_tokens`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import Prepared, compare_prepared, prepare
from ascertain.match.short_works import ALPHA, MAX_NULL_PAIRS, empirical_p, evidence_score, least_p, pairs_needed
from ascertain.readers import Document, ReadOptions, read_inputs


class Reference:
    """A population of independent works, prepared lazily per (language, level) and reused for every pair."""

    def __init__(self, docs: list[Document], source: str = "reference", skipped: int = 0) -> None:
        self.docs, self.source, self.skipped = docs, source, skipped
        self._prepared: dict[tuple[str, str], list[Prepared]] = {}
        self._null: dict[tuple[str, tuple[str, ...]], list[tuple[str, str, float]]] = {}

    @classmethod
    def load(cls, path: str) -> Reference:
        docs: list[Document] = []
        skipped = 0
        for item in read_inputs([path], ReadOptions()):
            if isinstance(item, Document) and item.text.strip():
                docs.append(item)
            else:
                skipped += 1
        if not docs:
            raise AscertainError(path, "holds no readable works for a reference population",
                                 "pass a folder of independent works, or a JSONL file with one work per line "
                                 "(a `text` field, and a `path` field naming the file so its language is known)")
        return cls(docs, path, skipped)

    def prepared(self, language: str, level: str, params: Params) -> list[Prepared]:
        key = (language, level)
        if key not in self._prepared:
            same = [d for d in self.docs if d.language == language]
            if not same:
                langs = ", ".join(sorted({d.language for d in self.docs}))
                raise AscertainError(self.source, f"holds no {language} works (it holds: {langs})",
                                     f"give independent works in {language}, the language of the compared work")
            self._prepared[key] = [prepare(d.text, d.language, d.locator, d.sha256, params, level=level)
                                   for d in same]
        return self._prepared[key]

    def assess(self, work_at: Callable[[str], Prepared], levels: tuple[str, ...], copy_sha256: str, result: dict,
               params: Params, th: Thresholds) -> dict:
        """The pair's result with `chance_baseline` added and the decision revised against the reference.

        work_at(level): the work prepared at a level; levels: the levels compared (the pair's own among them)."""
        work = work_at(result["level"])
        skip = {work.sha256, copy_sha256}  # neither side is its own baseline
        refs = [r for r in self.prepared(work.language, work.level, params) if r.sha256 not in skip]
        n = len(work.tokens)
        common = np.zeros(n, dtype=bool)
        figures = []
        for r in refs:
            if not np.isin(r.hashes, work.hashes).any():  # no shared fingerprint: no span of 20+ tokens
                figures.append((0.0, 0, 0))
                continue
            rr = compare_prepared(work, r, params, th, align=False)
            for sp in rr["spans"]:
                common[sp["original_tokens"][0]:sp["original_tokens"][1]] = True
            figures.append((rr["own_coverage"], rr["longest_run_tokens"], rr["own_tokens_copied"]))
        null = [self._best(lambda lv: work_at(lv), r.sha256, work.language, levels, params, th) for r in refs]
        null += self._among(work.language, levels, params, th, skip)
        score = max([evidence_score(result)] + [t["own_coverage"] for t in result.get("levels_tried", [])
                                                if "own_coverage" in t])
        return revise(result, work, common, figures, th, self.source, score, null)

    def _best(self, side: Callable[[str], Prepared], ref_sha: str, language: str, levels: tuple[str, ...],
              params: Params, th: Thresholds) -> float:
        """The highest evidence score of (side, reference work) over the levels."""
        best = 0.0
        for lv in levels:
            a = side(lv)
            r = next(x for x in self.prepared(language, lv, params) if x.sha256 == ref_sha)
            if np.isin(r.hashes, a.hashes).any():
                best = max(best, evidence_score(compare_prepared(a, r, params, th, align=False)))
        return best

    def _among(self, language: str, levels: tuple[str, ...], params: Params, th: Thresholds,
               skip: set[str]) -> list[float]:
        """Scores of ordered pairs of reference works (computed once per language and levels)."""
        key = (language, levels)
        if key not in self._null:
            by_sha = {r.sha256: i for i, r in enumerate(self.prepared(language, levels[0], params))}
            shas = sorted(by_sha)
            pairs = [(a, b) for a in shas for b in shas if a != b]
            if len(pairs) > MAX_NULL_PAIRS:  # a sample drawn by content: the same reference, the same pairs
                pairs = sorted(pairs, key=lambda ab: hashlib.sha256(f"{ab[0]}:{ab[1]}".encode()).digest())
                pairs = pairs[:MAX_NULL_PAIRS]
            at = {lv: self.prepared(language, lv, params) for lv in levels}
            self._null[key] = [(a, b, self._best(lambda lv, a=a: at[lv][by_sha[a]], b, language, levels, params,
                                                 th)) for a, b in pairs]
        return [s for a, b, s in self._null[key] if a not in skip and b not in skip]


def revise(result: dict, work: Prepared, common: np.ndarray, figures: list[tuple[float, int, int]],
           th: Thresholds, source: str, score: float | None = None, null: list[float] | None = None) -> dict:
    own = ~work.mask
    shared = np.zeros(len(own), dtype=bool)
    for sp in result["spans"]:
        if not sp["common"]:
            shared[sp["original_tokens"][0]:sp["original_tokens"][1]] = True
    distinctive = own & ~common
    n_distinctive, n_copied = int(distinctive.sum()), int((shared & distinctive).sum())
    fig = np.array(figures, dtype=float).reshape(-1, 3)
    score = evidence_score(result) if score is None else score
    null = null or []
    p = empirical_p(score, null)
    baseline = {
        "reference": source, "reference_size": len(figures), "quantile": "max",
        "own_coverage": round(float(fig[:, 0].max()), 6) if len(fig) else 0.0,
        "longest_run_tokens": int(fig[:, 1].max()) if len(fig) else 0,
        "own_tokens_copied": int(fig[:, 2].max()) if len(fig) else 0,
        "reached_by": int(((fig[:, 0] >= result["own_coverage"]) & (fig[:, 0] > 0)).sum()) if len(fig) else 0,
        "work_distinctive_tokens": n_distinctive, "copy_distinctive_tokens": n_copied,
        "score": round(score, 6), "null_pairs": len(null), "null_pairs_reaching": int(sum(s >= score - 1e-12
                                                                                          for s in null)),
        "p_value": round(p, 6), "least_p_value": round(least_p(len(null)), 6), "alpha": ALPHA,
    }
    out = {**result, "chance_baseline": baseline}
    basis = {**result.get("decision_basis", {}), "chance_baseline": {
        k: baseline[k] for k in ("reference", "reference_size", "score", "null_pairs", "null_pairs_reaching",
                                 "p_value", "alpha")}}
    basis.pop("chance_baseline_note", None)
    out["decision_basis"] = basis
    if result["decision"] == "not_copied" or result["work_own_tokens"] < th.min_work_own_tokens:
        return out  # never a copy, or too small to tell whatever the reference
    reach = baseline["null_pairs_reaching"]
    if least_p(len(null)) > ALPHA and not reach:
        basis["chance_baseline_note"] = (f"{len(null)} independent pairs cannot give p ≤ {ALPHA} (at least "
                                         f"{pairs_needed()} are needed) and none reaches the pair's score: the "
                                         "decision without a reference stands")
        out["decision_reason"] = (f"{result['decision_reason']}; the reference gives only {len(null)} independent "
                                  f"pairs, too few for p ≤ {ALPHA} (at least {pairs_needed()}): add independent works")
        return out
    if p <= ALPHA:
        out["decision"] = "copied"
        out["decision_reason"] = (f"the rule is met and {reach} of {len(null)} independent pairs reach the pair's "
                                  f"score {score:.3f} (p = {p:.4f} ≤ {ALPHA})")
    else:
        out["decision"] = "inconclusive"
        out["decision_reason"] = (f"{reach} of {len(null)} independent pairs reach the pair's score {score:.3f} "
                                  f"(p = {p:.4f} > {ALPHA}): independent works of the reference look this alike")
    out["copied"] = out["decision"] == "copied"
    return out
