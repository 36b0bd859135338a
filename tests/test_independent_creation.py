"""Independent creation (issue 9, item 17): same-task functions of different projects are not copies; a reference
population of independent works gives the chance baseline; tiny or common works are `inconclusive`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.match.compare import Comparer
from ascertain.match.reference import Reference
from ascertain.validation import transforms as tf
from ascertain.validation.cases import build_cases
from ascertain.validation.independent import build_independent_set, mine_functions, write_functions
from ascertain.validation.independent_run import _as_docs

runner = CliRunner()
# a few installed distributions with many short same-name functions (the standard library is always there)
PACKAGES = {"stdlib", "click", "rich", "_pytest", "docutils", "pygments", "jinja2", "werkzeug", "requests",
            "urllib3", "attr", "pydantic", "sqlalchemy", "markdown_it", "fsspec"}


@pytest.fixture(scope="module")
def mined():
    return mine_functions(PACKAGES)


@pytest.fixture(scope="module")
def general(mined):
    """A general reference: one real function of each of 60 tasks."""
    tasks = sorted(mined)[::max(1, len(mined) // 60)][:60]
    return Reference(_as_docs([mined[t][0] for t in tasks]), "general")


def test_independent_solutions_are_rarely_called_copied(mined, general, tmp_path):
    s = build_independent_set(seed=3, max_pairs_per_task=1, mined=mined, max_tasks=120)
    assert s.pairs == build_independent_set(seed=3, max_pairs_per_task=1, mined=mined, max_tasks=120).pairs
    assert len(s.pairs) >= 40, "too few same-name functions in the installed packages"
    assert all(a.task == b.task and a.package != b.package and 11 <= a.lines <= 34 for a, b in s.pairs)
    files = write_functions(tmp_path, sorted({f for p in s.pairs for f in p}, key=lambda f: (f.path, f.line)))
    cmp = Comparer(level="auto")
    for ref in (None, general):
        cmp.reference = ref
        decisions = [cmp.compare(files[a], files[b])["decision"] for a, b in s.pairs]
        assert sum(d == "copied" for d in decisions) <= 0.05 * len(decisions), ref


@pytest.mark.parametrize("transform", ["reformat", "strip_comments", "add_comments", "rename",
                                       "rename+reformat+strip_comments"])
def test_layout_comment_rename_copies_of_nontrivial_works_are_found(transform, general, tmp_path):
    cases = [c for c in build_cases(tmp_path, works=4, negatives_per_work=1, seed=7) if c.transform == "verbatim"]
    cmp = Comparer(level="auto", reference=general)
    rng = random.Random(1)
    for c in cases:
        text = Path(c.work).read_text(encoding="utf-8")
        for step in transform.split("+"):
            text = getattr(tf, step)(text, rng)
        copy = tmp_path / f"{c.id}-{transform}.py"
        copy.write_text(text, encoding="utf-8")
        r = cmp.compare(c.work, str(copy))
        assert r["decision"] == "copied" and r["copied"], (c.work, r["decision_reason"])
        assert r["chance_baseline"]["reference_size"] == len(general.docs) > 0


def test_compare_reference_prints_the_chance_baseline_and_says_inconclusive_on_a_tiny_work(tmp_path, mined):
    ref = tmp_path / "reference"
    ref.mkdir()
    for i, f in enumerate(mined[sorted(mined)[0]] + mined[sorted(mined)[1]]):
        (ref / f"r{i}.py").write_text(f.text, encoding="utf-8")
    n = len(list(ref.iterdir()))
    work = tmp_path / "is_prime.py"
    work.write_text("def is_prime(n):\n    if n < 2:\n        return False\n    for i in range(2, int(n ** 0.5) + 1):\n"
                    "        if n % i == 0:\n            return False\n    return True\n")
    copy = tmp_path / "copy.py"
    copy.write_text(work.read_text().replace("    ", "  "))
    out = runner.invoke(app, ["compare", str(work), str(copy), "--reference", str(ref)])
    assert out.exit_code == 0, out.output
    assert "INCONCLUSIVE" in out.output and f"chance baseline: {n} independent works" in out.output
    r = json.loads(runner.invoke(app, ["compare", str(work), str(copy), "--reference", str(ref), "--json"]).stdout)
    assert r["decision"] == "inconclusive" and not r["copied"] and "too small" in r["decision_reason"]
    assert r["chance_baseline"]["reference_size"] == n and r["chance_baseline"]["quantile"] == "max"
    plain = runner.invoke(app, ["compare", str(work), str(copy)]).output
    assert "chance baseline: unknown" in plain


def test_similarity_independent_works_reach_is_inconclusive_not_copied(rsa_file, tmp_path):
    """What the copy shares with the work is also in an independent work of the reference: not evidence."""
    lines = rsa_file.read_text().splitlines(keepends=True)
    shared = "".join(lines[20:60])
    copy = tmp_path / "copy.py"
    copy.write_text("import os\n\n" + shared)
    alone = Comparer(level="layout").compare(str(rsa_file), str(copy))
    assert alone["decision"] == "copied"
    reference = Reference([_doc("independent.py", "# elsewhere\n" + shared + "x = 1\n")], "ref")
    r = Comparer(level="layout", reference=reference).compare(str(rsa_file), str(copy))
    assert r["decision"] == "inconclusive" and not r["copied"]
    cb = r["chance_baseline"]
    assert cb["reference_size"] == 1 and cb["reached_by"] == 1 and cb["copy_distinctive_tokens"] == 0


def test_reference_in_another_language_is_refused(tmp_path, rsa_file):
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "a.txt").write_text("Some independent prose about another subject entirely.\n")
    with pytest.raises(AscertainError, match="holds no python works"):
        Comparer(reference=Reference.load(str(ref))).compare(str(rsa_file), str(rsa_file))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AscertainError, match="no readable works"):
        Reference.load(str(empty))


def _doc(path: str, text: str):
    import hashlib

    from ascertain.readers import Document

    return Document(path, text, "python", hashlib.sha256(text.encode()).hexdigest())
