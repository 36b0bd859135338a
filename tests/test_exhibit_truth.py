"""Exhibits say only what is true (issue 23 §6): a partial copy inside other text is compared over the part it
holds, a contiguous copy of a work that repeats passages is one span, and no exhibit shows a rename, reorder
or deletion that the inputs do not hold."""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path

import pytest

from ascertain.match.compare import Comparer

CHAT_BEFORE = ("Sure! Here is an implementation of the helper you asked for. It keeps the same interface as "
               "the library, so you can drop it into your project.\n\n```python\n")
CHAT_AFTER = ("```\n\nThis function should be called once, at start-up, before anything else is created. "
              "Let me know if you need an explanation of any step or a version for another framework!\n")
FALSE_CLAIMS = {"identifier renamed", "code changed", "literal changed", "block reordered", "line deleted",
                "line inserted", "comment removed", "comment added", "comment changed"}


def _in_chat(tmp_path: Path, work: Path, first: int, last: int) -> Path:
    lines = work.read_text(encoding="utf-8").splitlines(keepends=True)
    out = tmp_path / "output.md"
    out.write_text(CHAT_BEFORE + "".join(lines[first - 1:last]) + CHAT_AFTER, encoding="utf-8")
    return out


@pytest.mark.parametrize("level", ["auto", "layout", "comments"])
def test_lines_of_a_work_inside_chat_prose_are_compared_over_the_copied_region(tmp_path, data, level):
    work = data / "works" / "boto3" / "utils.py"  # Apache-2.0
    r = Comparer(level=level).compare(str(work), str(_in_chat(tmp_path, work, 41, 78)))
    assert r["fragments"] == 1  # (the decision may be inconclusive: a short excerpt)
    kinds = set(r["difference_counts"])
    assert kinds <= {"not in the copy"} and not r["rename_map"] and r["rename_consistent"] is None, kinds
    assert r["edit_similarity"] == 1.0  # within the copied region the copy is the same text
    assert r["region"]["original_lines"][0] >= 40 and r["region"]["original_lines"][1] <= 79
    outside = [d["original_lines"] for d in r["differences"]]
    assert outside and all(b < 41 or a > 78 for a, b in outside)  # before and after the copied lines


def test_the_accelerate_case_of_the_issue(tmp_path):
    """The exact input of the report: lines 41-78 of accelerate's utils/random.py (Apache-2.0) in chat prose
    gave `CUDA_DISTRIBUTED_TYPES → step`, `# → Sure` and `License → implementation`."""
    spec = importlib.util.find_spec("accelerate")
    if spec is None or spec.origin is None:
        pytest.skip("accelerate is not installed")
    work = Path(spec.origin).parent / "utils" / "random.py"
    r = Comparer().compare(str(work), str(_in_chat(tmp_path, work, 41, 78)))
    assert set(r["difference_counts"]) == {"not in the copy"} and not r["rename_map"]


def test_a_partial_copy_keeps_its_real_rename_and_nothing_else(tmp_path, data):
    work = data / "works" / "boto3" / "utils.py"
    lines = work.read_text().splitlines(keepends=True)[40:78]
    copied = "".join(lines).replace("parent_kwargs", "outer_kwargs")
    assert copied != "".join(lines)
    out = tmp_path / "output.md"
    out.write_text(CHAT_BEFORE + copied + CHAT_AFTER)
    r = Comparer(level="layout").compare(str(work), str(out))
    assert r["rename_map"] == {"parent_kwargs": "outer_kwargs"} and r["rename_consistent"] is True
    assert set(r["difference_counts"]) <= {"not in the copy", "identifier renamed"}


def test_a_stripped_header_is_not_in_the_copy(tmp_path, data):
    work = data / "works" / "python-rsa" / "randnum.py"
    lines = work.read_text().splitlines(keepends=True)
    body = next(i for i, ln in enumerate(lines) if ln.startswith("import"))
    copy = tmp_path / "copy.py"
    copy.write_text("".join(lines[body:]))
    r = Comparer(level="layout").compare(str(work), str(copy))
    assert r["copied"] and r["edit_similarity"] == 1.0
    (d,) = r["differences"]
    assert d["kind"] == "not in the copy" and d["original_lines"] == [1, body - 1]


def test_a_contiguous_copy_of_a_work_that_repeats_passages_is_one_span(tmp_path):
    """Lines 1-479 of subprocess.py (whose later lines repeat blocks of the first ones, re-indented) gave
    6 fragments and `block reordered 5, line deleted 6`: the work's repeats were mapped onto the copy's one
    occurrence."""
    work = Path(sysconfig.get_paths()["stdlib"]) / "subprocess.py"
    copy = tmp_path / "part.py"
    copy.write_text("".join(work.read_text(encoding="utf-8").splitlines(keepends=True)[:479]))
    r = Comparer(level="layout").compare(str(work), str(copy))
    assert r["fragments"] == 1  # (the decision may be inconclusive: a short excerpt)
    assert r["spans"][0]["original_lines"] == r["spans"][0]["copy_lines"]
    assert set(r["difference_counts"]) == {"not in the copy"}
    (a, b), = [d["original_lines"] for d in r["differences"]]
    assert a >= 479 and b == len(work.read_text(encoding="utf-8").splitlines())
