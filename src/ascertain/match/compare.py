"""`ascertain compare`: one original against one copy, no case needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ascertain.cmi.scan import scan_text
from ascertain.cmi.status import status_of_copy
from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import Prepared, compare_prepared, prepare
from ascertain.match.reference import Reference
from ascertain.readers import Document, ReadOptions, read_inputs
from ascertain.text.levels import DEFAULT_LEVEL


def auto_levels(language: str) -> tuple[str, ...]:
    """`--level auto`: the levels tried in turn, the first that finds a copy decides."""
    return ("layout", "prose") if language == "prose" else ("layout", "identifiers")


class Comparer:
    """One instance serves a whole batch: imports and set-up are paid once, not per pair.

    Level `auto` compares at the layout level and, when that finds no copy, again with identifiers and
    short literals as placeholders (renamed variables; for prose: words only, without punctuation, quote
    style and case); the result names the level that decided.
    `ascertain validate` measures this rule's recall and false-positive rate.
    """

    def __init__(self, params: Params | None = None, thresholds: Thresholds | None = None,
                 level: str = DEFAULT_LEVEL, paraphrase: bool = False, reference: Reference | None = None
                 ) -> None:
        self.params = params or Params()
        self.reference = reference  # independent works: the chance baseline (match/reference.py)
        self.paraphrase = paraphrase
        self.th = thresholds or Thresholds()
        self.level = level

    def load(self, path: str, level: str | None = None) -> Prepared:
        if Path(path).is_dir():
            raise AscertainError(path, "is a folder", "compare two files; use a case for folders")
        items = list(read_inputs([path], ReadOptions(expand_containers=False)))
        doc = items[0] if items else None
        if not isinstance(doc, Document):
            why = doc.message() if doc else "empty input"
            raise AscertainError(path, f"not readable as text ({why})", "pass a text file")
        level = level or ("layout" if self.level == "auto" else self.level)
        return prepare(doc.text, doc.language, path, doc.sha256, self.params, level=level)

    def compare(self, original: str, copy: str) -> dict:
        work, other = self.load(original), self.load(copy)
        result = compare_prepared(work, other, self.params, self.th)
        if self.level == "auto" and not result["copied"]:
            for level in auto_levels(work.language)[1:]:
                w2, o2 = self.load(original, level), self.load(copy, level)
                second = compare_prepared(w2, o2, self.params, self.th)
                if second["copied"]:
                    work, other, result = w2, o2, second
                    break
        if self.reference is not None:
            result = self.reference.assess(work, other.sha256, result, self.params, self.th)
        cmi = status_of_copy(scan_text(original, work.tokens.text, work.language), work.base,
                             scan_text(copy, other.tokens.text, other.language), result["spans"])
        out = {"original": original, "copy": copy, **result, "cmi": cmi}
        if self.paraphrase:  # its own object: never part of the verbatim figures
            from ascertain.paraphrase.detect import paraphrased_passages

            out["paraphrase"] = paraphrased_passages(work.tokens.text, other.tokens.text)
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
