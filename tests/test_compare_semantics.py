"""What compare and match results mean: the level `auto` reports, CMI status only for copies."""

from __future__ import annotations

import json
import random
import tokenize

import pytest
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.match.compare import Comparer
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.validation import transforms as tf
from ascertain.works import import_manifest

runner = CliRunner()
RENAMES = {"read_random_bits": "get_entropy", "nbits": "width", "randomdata": "blob", "nbytes": "count",
           "rbits": "rest", "read_random_int": "entropy_int", "value": "number", "maxvalue": "upper"}


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory, data) -> Case:
    case = Case.init(tmp_path_factory.mktemp("demo") / "case")
    import_manifest(case, str(data / "works.csv"))
    add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    add_source(case, "outputs", "outputs", [str(data / "outputs.jsonl")], ReadOptions(text_field="completion"))
    run_match(case, MatchOptions())
    return case


def renamed_and_reformatted(src: str) -> str:
    """Names renamed in the code (not in comments and docstrings: a consistent map), then reformatted."""
    names = [t for t in tf._tokens(src) if t.type == tokenize.NAME and t.string in RENAMES]
    return tf.reformat(tf._replace(src, [(t.start, t.end, RENAMES[t.string]) for t in names]), random.Random(4))


def test_auto_reports_the_level_that_explains_a_renamed_reformatted_copy(tmp_path, rsa_file):
    copy = tmp_path / "copy.py"
    copy.write_text(renamed_and_reformatted(rsa_file.read_text()))
    r = Comparer(level="auto").compare(str(rsa_file), str(copy))
    assert r["copied"] and r["level"] == "identifiers" and r["coverage"] >= 0.95 and r["own_coverage"] >= 0.95
    assert r["rename_consistent"] is True
    assert {k: v for k, v in r["rename_map"].items() if k in RENAMES} == {
        k: v for k, v in RENAMES.items() if k in r["rename_map"]}
    assert len(r["rename_map"]) >= 5 and set(r["rename_map"]) <= set(RENAMES)
    tried = {t["level"]: t for t in r["levels_tried"]}
    assert list(tried) == ["layout", "comments", "identifiers"]
    assert tried["layout"]["own_coverage"] < r["own_coverage"] - 0.1 and not tried["layout"]["chosen"]
    assert tried["identifiers"]["chosen"] and tried["identifiers"]["own_coverage"] == r["own_coverage"]
    text = runner.invoke(app, ["compare", str(rsa_file), str(copy)]).output.replace("\n", " ")
    assert "(level identifiers)" in text and "levels tried: layout copied, own coverage" in text


def test_auto_keeps_the_finer_level_when_coarser_ones_add_nothing(tmp_path, rsa_file):
    r = Comparer(level="auto").compare(str(rsa_file), str(rsa_file))
    assert r["level"] == "layout" and r["own_coverage"] == 1.0
    assert [t.get("skipped", "")[:6] for t in r["levels_tried"]] == ["", "layout", "layout"]  # ≥ 0.99: skipped
    part = tmp_path / "part.py"  # half the file, verbatim: every level covers the same share
    part.write_text("".join(rsa_file.read_text().splitlines(keepends=True)[40:]))
    r = Comparer(level="auto").compare(str(rsa_file), str(part))
    assert r["copied"] and r["level"] == "layout" and 0.3 < r["own_coverage"] < 0.9
    assert len([t for t in r["levels_tried"] if "skipped" not in t]) == 3


def test_auto_on_unrelated_files_reports_layout_not_copied(data):
    r = Comparer(level="auto").compare(str(data / "works" / "pygments" / "go.py"),
                                       str(data / "corpus" / "unrelated" / "pony_lexers.py"))
    assert not r["copied"] and r["level"] == "layout" and all(not t.get("copied") for t in r["levels_tried"])


def test_cmi_status_is_not_applicable_for_unrelated_files(data):
    work = data / "works" / "boto3" / "utils.py"  # carries a copyright notice and an Apache-2.0 header
    other = data / "corpus" / "unrelated" / "six.py"
    r = json.loads(runner.invoke(app, ["compare", str(work), str(other), "--json"]).stdout)
    assert not r["copied"]
    assert r["cmi"]["status"] == "not_applicable" and "removed" not in r["cmi"] and "altered" not in r["cmi"]
    assert {i["kind"] for i in r["cmi"]["original"]} >= {"copyright", "license"}  # listed for information
    text = runner.invoke(app, ["compare", str(work), str(other)]).output
    assert "CMI: not_applicable (not a copy" in text and "removed" not in text


def test_cmi_status_of_copies_is_unchanged(data):
    r = Comparer(level="auto").compare(str(data / "works" / "python-rsa" / "parallel.py"),
                                       str(data / "corpus" / "vendor" / "parallel_nohdr.py"))
    assert r["copied"] and r["cmi"]["status"] == "removed"


def test_match_evidence_not_copied_has_no_cmi_status(demo_case):
    doc = json.loads((demo_case.root / "reports" / "evidence.json").read_text())
    not_copied = [e for e in doc["evidence"] if not e["copied"]]
    assert not_copied  # the shared Apache header, near-duplicates
    assert all(e["metrics"]["cmi"]["status"] == "not_applicable" for e in not_copied)
    assert all(e["metrics"]["cmi"]["status"] != "not_applicable" for e in doc["evidence"] if e["copied"])


def test_region_is_ranked_to_the_work_that_explains_it_best(tmp_path, data):
    """Two works share a large passage (one project's files); a corpus document holds the shared passage and
    work A's own part: both are copied there, and A ranks first in the region."""
    from ascertain.works import add_work

    lines = (data / "works" / "pygments" / "go.py").read_text().splitlines(keepends=True)
    shared, own_a = "".join(lines[:55]), "".join(lines[55:])
    own_b = (data / "works" / "python-rsa" / "randnum.py").read_text()
    works = tmp_path / "works"
    works.mkdir()
    (works / "a.py").write_text(shared + own_a)
    (works / "b.py").write_text(shared + "\n" + own_b)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.py").write_text("# vendored\nimport os\n\n" + shared + own_a)
    (corpus / "other.py").write_text((data / "corpus" / "unrelated" / "six.py").read_text())
    case = Case.init(tmp_path / "case")
    add_work(case, "A", str(works / "a.py"), "work A")
    add_work(case, "B", str(works / "b.py"), "work B")
    add_source(case, "corpus", "corpus", [str(corpus)], ReadOptions())
    run_match(case, MatchOptions())
    ev = json.loads((case.root / "reports" / "evidence.json").read_text())["evidence"]
    in_doc = {e["work_file"].rsplit("/", 1)[-1]: e for e in ev if e["doc_locator"].endswith("doc.py")}
    assert in_doc["a.py"]["copied"] and in_doc["b.py"]["copied"]
    a, b = in_doc["a.py"]["metrics"]["region_rank"], in_doc["b.py"]["metrics"]["region_rank"]
    assert (a["rank"], a["of"], b["rank"], b["of"]) == (1, 2, 2, 2)
    assert a["best_work_id"] == b["best_work_id"] == in_doc["a.py"]["work_id"] != in_doc["b.py"]["work_id"]
    assert a["copy_tokens"] == b["copy_tokens"] and a["share_explained"] > 0.95 > 0.7 > b["share_explained"] > 0.2
    assert a["copy_lines"][0] <= 5 and a["copy_lines"][1] >= len(lines)


def test_region_ranks_of_separate_regions_and_lone_copies(demo_case):
    from ascertain.match.ranking import rank_regions

    ev = json.loads((demo_case.root / "reports" / "evidence.json").read_text())["evidence"]
    copied = [e for e in ev if e["copied"]]
    assert all(e["metrics"]["region_rank"]["rank"] == 1 and e["metrics"]["region_rank"]["of"] == 1
               and e["metrics"]["region_rank"]["share_explained"] == 1.0 for e in copied)  # one work per region
    assert not any("region_rank" in e["metrics"] for e in ev if not e["copied"])

    def record(fid: int, spans: list[tuple[int, int]]) -> dict:
        return {"copied": True, "source_id": 1, "doc_id": 1, "work_id": fid, "work_file_id": fid,
                "work_file": f"f{fid}", "metrics": {"longest_run_tokens": 50, "own_coverage": 0.5, "spans": [
                    {"copy_tokens": list(s)} for s in spans]}}

    rows = [record(1, [(0, 100)]), record(2, [(90, 150)]), record(3, [(200, 260)]), record(4, [(140, 210)])]
    rank_regions(rows)  # 1-2 overlap, 2-4 overlap, 4-3 overlap: one region through the chain
    ranks = [r["metrics"]["region_rank"] for r in rows]
    assert {r["of"] for r in ranks} == {4} and ranks[0]["copy_tokens"] == [0, 260]
    assert [r["rank"] for r in ranks] == [1, 3, 4, 2]  # 100, 60, 60, 70 tokens; a tie goes to the lower work file id
    rows = [record(1, [(0, 100)]), record(2, [(100, 150)])]  # touching, not overlapping: two regions
    rank_regions(rows)
    assert [r["metrics"]["region_rank"]["of"] for r in rows] == [1, 1]
