"""The chance baseline of a pairwise compare: what independent works in the same language reach.

Similarity that independent authors reach by necessity (the same small task, scènes à faire, merger) is not
evidence of copying. A reference population of independent works (`compare --reference DIR_OR_JSONL`) gives
the figures to expect by chance: the work is compared with every reference work at the level that decided,
exactly as with the copy. Three things follow (docs/methods.md, "Independent creation"):

- `chance_baseline`: the highest own coverage, longest run and own tokens any reference work reaches
  against the work, and how many reference works reach the pair's own coverage;
- the work's distinctive tokens: its own tokens outside every span it shares with a reference work; a work
  with fewer than `min_work_own_tokens` of them is too common to tell (`inconclusive`);
- the copy's distinctive tokens: the own tokens the copy reproduces outside those spans; a pair called
  `copied` by the rule stays `copied` only when these alone still meet it (at least `min_copy_tokens`, or
  `min_copy_coverage` of the distinctive tokens), otherwise independent works share what it shares:
  `inconclusive`.

The reference only ever turns `copied` into `inconclusive`; it never makes a copy of a pair the rule does not
call one.
"""

from __future__ import annotations

import numpy as np

from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import Prepared, compare_prepared, prepare
from ascertain.readers import Document, ReadOptions, read_inputs


class Reference:
    """A population of independent works, prepared lazily per (language, level) and reused for every pair."""

    def __init__(self, docs: list[Document], source: str = "reference", skipped: int = 0) -> None:
        self.docs, self.source, self.skipped = docs, source, skipped
        self._prepared: dict[tuple[str, str], list[Prepared]] = {}

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

    def assess(self, work: Prepared, copy_sha256: str, result: dict, params: Params, th: Thresholds) -> dict:
        """The pair's result with `chance_baseline` added and the decision revised against the reference."""
        refs = [r for r in self.prepared(work.language, work.level, params)
                if r.sha256 not in (work.sha256, copy_sha256)]  # neither side is its own baseline
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
        return revise(result, work, common, figures, th, self.source)


def revise(result: dict, work: Prepared, common: np.ndarray, figures: list[tuple[float, int, int]],
           th: Thresholds, source: str) -> dict:
    own = ~work.mask
    shared = np.zeros(len(own), dtype=bool)
    for sp in result["spans"]:
        if not sp["common"]:
            shared[sp["original_tokens"][0]:sp["original_tokens"][1]] = True
    distinctive = own & ~common
    n_distinctive, n_copied = int(distinctive.sum()), int((shared & distinctive).sum())
    fig = np.array(figures, dtype=float).reshape(-1, 3)
    baseline = {
        "reference": source, "reference_size": len(figures), "quantile": "max",
        "own_coverage": round(float(fig[:, 0].max()), 6) if len(fig) else 0.0,
        "longest_run_tokens": int(fig[:, 1].max()) if len(fig) else 0,
        "own_tokens_copied": int(fig[:, 2].max()) if len(fig) else 0,
        "reached_by": int(((fig[:, 0] >= result["own_coverage"]) & (fig[:, 0] > 0)).sum()) if len(fig) else 0,
        "work_distinctive_tokens": n_distinctive, "copy_distinctive_tokens": n_copied,
    }
    out = {**result, "chance_baseline": baseline}
    if result["decision"] != "copied":
        return out
    own_total = int(own.sum())
    if n_distinctive < th.min_work_own_tokens:
        out["decision"] = "inconclusive"
        out["decision_reason"] = (f"{n_distinctive} of the work's {own_total} own tokens are outside what the "
                                  f"reference's independent works share with it, fewer than "
                                  f"{th.min_work_own_tokens}: too common to tell")
    elif n_copied < th.min_copy_tokens and n_copied < th.min_copy_coverage * n_distinctive:
        out["decision"] = "inconclusive"
        out["decision_reason"] = (f"of the own tokens the copy reproduces, {n_copied} are outside what independent "
                                  f"works of the reference share with the work: independent works reach the rest")
    else:
        out["decision_reason"] = (f"the documented rule is met by the {n_copied} tokens the copy reproduces that no "
                                  f"independent work of the reference shares")
    out["copied"] = out["decision"] == "copied"
    return out
