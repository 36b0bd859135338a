"""`ascertain compare`: one original against one copy, no case needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ascertain.cmi.scan import scan_text
from ascertain.cmi.status import status_of_copy
from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params
from ascertain.match.auto_level import Leveled, auto_levels, compare_auto
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import compare_prepared
from ascertain.match.reference import Reference
from ascertain.readers import ReadOptions
from ascertain.readers.locator import read_locator
from ascertain.text.levels import DEFAULT_LEVEL


class Comparer:
    """One instance serves a whole batch: imports and set-up are paid once, not per pair.

    Level `auto` compares at the layout, comments and identifiers levels (for prose: layout and prose) and
    reports the level that explains the copy best, with every level's figures (`levels_tried`); the rule is
    in `ascertain.match.auto_level`. `ascertain validate` measures this rule's recall and false-positive rate.
    ORIGINAL and COPY are files or records inside containers: `corpus.jsonl:18`, `data.parquet#row7`,
    `archive.zip!member/path.py`, `repo@REV:path` (see `ascertain.readers.locator`).
    """

    def __init__(self, params: Params | None = None, thresholds: Thresholds | None = None,
                 level: str = DEFAULT_LEVEL, paraphrase: bool = False, text_field: str = "text",
                 reference: Reference | None = None) -> None:
        self.params = params or Params()
        self.reference = reference  # independent works: the chance baseline (match/reference.py)
        self.paraphrase = paraphrase
        self.th = thresholds or Thresholds()
        self.level = level
        self.text_field = text_field

    def load(self, path: str, opts: ReadOptions | None = None) -> Leveled:
        """The document at path, read with opts (default: this comparer's, containers not expanded)."""
        if Path(path).is_dir():
            raise AscertainError(path, "is a folder", "compare two files; use a case for folders")
        doc = read_locator(path, opts or ReadOptions(text_field=self.text_field, expand_containers=False))
        return Leveled(doc.text, doc.language, path, doc.sha256, self.params)

    def compare(self, original: str, copy: str) -> dict:
        work, other = self.load(original), self.load(copy)
        if self.level == "auto":
            result, level = compare_auto(work, other, self.params, self.th)
        else:
            level = self.level
            result = compare_prepared(work.at(level), other.at(level), self.params, self.th)
        w, o = work.at(level), other.at(level)
        if self.reference is not None:  # may turn `copied` into `inconclusive`: before the CMI status
            levels = auto_levels(work.language) if self.level == "auto" else (level,)
            result = self.reference.assess(work.at, levels, o.sha256, result, self.params, self.th)
        copy_cmi = scan_text(copy, o.tokens.text, o.language) if result["copied"] else None
        cmi = status_of_copy(scan_text(original, w.tokens.text, w.language), w.base, copy_cmi, result["spans"],
                             copied=result["copied"])
        out = {"original": original, "copy": copy, **result, "cmi": cmi}
        if self.paraphrase:  # its own object: never part of the verbatim figures
            from ascertain.paraphrase.detect import paraphrased_passages

            out["paraphrase"] = paraphrased_passages(w.tokens.text, o.tokens.text)
        return out

    def batch(self, pairs_file: str) -> Iterator[dict]:
        """One result per line of PAIRS.jsonl; a bad line yields an `error` result, never a stop."""
        try:
            fh = open(pairs_file, encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as e:
            raise AscertainError(pairs_file, f"cannot open ({e.strerror})", "check the path") from e
        with fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    pair = json.loads(line)
                    yield self.compare(str(pair["original"]), str(pair["copy"]))
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    yield {"line": lineno, "error": f"{pairs_file}:{lineno}: expected "
                           f'{{"original": path, "copy": path}} ({type(e).__name__}: {e})'}
                except AscertainError as e:
                    yield {"line": lineno, "error": str(e)}
