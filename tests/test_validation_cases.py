"""`ascertain validate` case building: a file Python's tokenizer rejects is skipped with a note, never a crash."""

from __future__ import annotations

import random
import tokenize

import pytest

from ascertain.validation import transforms as tf
from ascertain.validation.cases import build_cases, work_cases

BAD_INDENT = ("def f(x):\n" + "".join(f"        y{i} = x * {i} + len(str(x))\n" for i in range(20))
              + "    return y0\n")  # dedents to a level never opened: IndentationError in tokenize


def test_bad_indentation_is_what_tokenize_rejects():
    with pytest.raises(IndentationError):
        tf.rename(BAD_INDENT, random.Random(0))


def test_case_builder_skips_cases_it_cannot_build(tmp_path, data):
    bad = tmp_path / "bad_indent.py"
    bad.write_text(BAD_INDENT)
    unrelated = [("demo", p) for p in sorted((data / "corpus" / "unrelated").glob("*.py"))]
    out = tmp_path / "cases"
    out.mkdir()

    def write(name: str, text: str) -> str:
        (out / name).write_text(text)
        return str(out / name)

    skipped: list[dict] = []
    cases = work_cases(0, bad, unrelated, random.Random(3), write, 3, skipped)
    built = {c.transform for c in cases if c.label}
    failed = {s["transformation"] for s in skipped}
    assert {"rename", "reformat", "strip_comments", "rename+reformat+strip_comments"} <= failed
    assert {"verbatim", "strip_cmi", "partial 50%"} <= built and not built & failed
    assert all(s["file"] == str(bad) and s["reason"].startswith("IndentationError") for s in skipped)
    assert sum(not c.label for c in cases) == 3  # the negatives are still built
    for c in cases:  # every case that was built is on disk
        assert (out / c.copy.rsplit("/", 1)[-1]).exists()


def test_build_cases_records_skips_in_the_list_given(tmp_path, monkeypatch):
    def explode(src, rng):
        raise tokenize.TokenError("EOF in multi-line statement", (3, 0))

    monkeypatch.setattr(tf, "reorder", explode)  # a transformation failing on every real file
    skipped: list[dict] = []
    cases = build_cases(tmp_path / "c", works=3, negatives_per_work=1, seed=2, skipped=skipped)
    assert len(skipped) == 6 and {s["transformation"] for s in skipped} == {"reorder", "reorder+rename"}
    assert "TokenError" in skipped[0]["reason"] and not any("reorder" in c.transform for c in cases)
    assert len({c.work for c in cases}) == 3


def test_ascertain_scores_with_processes_decide_every_case_alike(tmp_path):
    from ascertain.validation.evaluate import ascertain_scores

    cases = build_cases(tmp_path / "c", works=4, negatives_per_work=2, seed=3)
    one, _ = ascertain_scores(cases, "auto")
    two, rate = ascertain_scores(cases, "auto", processes=2)
    assert two == one and list(two) == [c.id for c in cases] and rate > 0
    assert any(one.values()) and not all(one.values())  # copies found, unrelated pairs not
