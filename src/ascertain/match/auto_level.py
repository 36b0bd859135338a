"""`--level auto`: the normalization level that explains a copy best, and the figures of every level tried.

Candidate levels, finest first: layout, comments, identifiers for code; layout, prose for prose. Each is
compared in turn and listed in the result's `levels_tried` with its key figures. The reported level is:

  1. among the levels at which the pair is `copied`, the finest one, unless a coarser level raises own
     coverage by more than AUTO_MARGIN (0.01): then the coarser one (and so on down the list). On a tie
     the finer level is kept: its matches are closer to the text as written. When no level says `copied`,
     the same among the levels that meet the rule but are `inconclusive` (a short work under its size bar).
  2. if no level finds a copy, the finest level (layout): the pair is not a copy and its figures are not
     inflated by a coarser level's placeholders.

Speed: once the chosen level already covers at least SKIP_ABOVE (0.99) of the work's own expression, the
coarser levels are not compared (they cannot explain materially more); the comments level is not compared
when neither text has a comment (it would equal layout). Skipped levels are listed with the reason.
"""

from __future__ import annotations

import numpy as np

from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import Prepared, at_level, compare_prepared
from ascertain.text.boilerplate import cmi_mask
from ascertain.text.tokenize import COMMENT, tokenize

AUTO_MARGIN = 0.01
SKIP_ABOVE = 0.99
_RANK = {"copied": 2, "inconclusive": 1, "not_copied": 0}  # a level that decides `copied` is preferred
KEY_FIGURES = ("copied", "decision", "coverage", "own_coverage", "work_own_tokens", "longest_run_tokens", "fragments")


def auto_levels(language: str) -> tuple[str, ...]:
    """The levels `--level auto` compares, finest first."""
    return ("layout", "prose") if language == "prose" else ("layout", "comments", "identifiers")


class Leveled:
    """One text, tokenized and masked once, prepared at any level on demand (each level once)."""

    def __init__(self, text: str, language: str, path: str, sha256: str, params: Params) -> None:
        self.language, self.path, self.sha256, self.params = language, path, sha256, params
        self.base = tokenize(text, language)
        self.mask = cmi_mask(self.base, language, path)
        self._at: dict[str, Prepared] = {}

    def at(self, level: str) -> Prepared:
        if level not in self._at:
            self._at[level] = at_level(self.base, self.mask, self.language, self.path, self.sha256, self.params,
                                       level=level)
        return self._at[level]

    @property
    def has_comments(self) -> bool:
        return bool(np.any(self.base.kind == COMMENT))


def compare_auto(work: Leveled, copy: Leveled, params: Params, th: Thresholds, align: bool = True
                 ) -> tuple[dict, str]:
    """(the chosen level's full result with `levels_tried`, the chosen level)."""
    tried: list[dict] = []
    results: dict[str, dict] = {}
    chosen: str | None = None
    for level in auto_levels(work.language):
        if chosen is not None and results[chosen]["own_coverage"] >= SKIP_ABOVE:
            tried.append({"level": level, "skipped": f"{chosen} already covers ≥ {SKIP_ABOVE} of the own expression"})
            continue
        if level == "comments" and not (work.has_comments or copy.has_comments):
            tried.append({"level": level, "skipped": "neither text has comments (same as layout)"})
            continue
        r = compare_prepared(work.at(level), copy.at(level), params, th, align=False)
        results[level] = r
        tried.append({"level": level, **{k: r[k] for k in KEY_FIGURES}})
        rank = _RANK[r["decision"]]
        if rank and (chosen is None or rank > _RANK[results[chosen]["decision"]]
                     or (rank == _RANK[results[chosen]["decision"]]
                         and r["own_coverage"] > results[chosen]["own_coverage"] + AUTO_MARGIN)):
            chosen = level
    level = chosen or next(iter(results))
    result = compare_prepared(work.at(level), copy.at(level), params, th) if align else results[level]
    for t in tried:
        t["chosen"] = t["level"] == level
    return {**result, "levels_tried": tried}, level
