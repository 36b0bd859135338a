"""Managing a case from the CLI: sources list/remove, empty output sets, paths that do not depend on the
folder a command ran from, thresholds on match and show, CSV export, warnings on levels that cannot apply."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.cli import sources as cli_sources
from ascertain.demo import run_demo

runner = CliRunner()


def run(*args: str, code: int = 0, **kw):
    r = runner.invoke(app, list(args), env={"COLUMNS": "80"}, **kw)
    assert r.exit_code == code, r.output
    return r


@pytest.fixture
def demo_case(tmp_path) -> str:
    case = tmp_path / "case"
    run_demo(case, None, report=False, with_probe=False)  # the match stages only: these tests change the case
    return str(case)


def test_sources_list_and_remove(demo_case, monkeypatch):
    listed = json.loads(run("sources", "list", demo_case, "--json").stdout)
    assert {("corpus", "corpus", 16), ("outputs", "outputs", 3)} <= {(s["name"], s["kind"], s["documents"])
                                                                     for s in listed}
    # adding it again says how to replace it
    r = run("outputs", "add", demo_case, "outputs", str(cli_data() / "outputs.jsonl"), code=2)
    assert f"ascertain sources remove {demo_case} outputs" in " ".join(r.stderr.split())
    # not a terminal and no --yes: refused, nothing removed
    r = run("sources", "remove", demo_case, "outputs", code=2)
    assert "--yes" in r.stderr and os.path.isdir(os.path.join(demo_case, "index", "outputs"))
    monkeypatch.setattr(cli_sources, "interactive", lambda: True)
    run("sources", "remove", demo_case, "outputs", input="n\n", code=1)
    assert len(json.loads(run("sources", "list", demo_case, "--json").stdout)) == len(listed)
    r = run("sources", "remove", demo_case, "outputs", input="y\n")
    assert "removed output set outputs: 3 documents, 2 evidence records" in " ".join(r.stdout.split())
    assert not os.path.exists(os.path.join(demo_case, "index", "outputs"))
    shown = json.loads(run("show", demo_case, "--json").stdout)
    assert [s["name"] for s in shown["sources"]] == [s["name"] for s in listed if s["name"] != "outputs"]
    assert all(e["source"] != "outputs" for e in json.loads(run("show", demo_case, "1", "--json").stdout)["evidence"])
    run("sources", "remove", demo_case, "outputs", "--yes", code=2)  # gone: a clear error
    r = run("sources", "remove", demo_case, "corpus", "--yes")
    assert "16 documents" in r.stdout
    # the name can be used again
    run("outputs", "add", demo_case, "outputs", str(cli_data() / "outputs.jsonl"))


def cli_data():
    from ascertain.demo import demo_data

    return demo_data()


def test_outputs_add_of_nothing_exits_1_and_says_why(tmp_path):
    case = str(tmp_path / "case")
    run("init", case)
    bad = tmp_path / "outputs.jsonl"
    bad.write_text('{"prompt": "p", "text": "no completion key"}\nnot json\n')
    r = run("outputs", "add", case, "o", str(bad), code=1)
    err = " ".join(r.stderr.split())
    assert "no documents indexed: all 2 items read were skipped" in err
    assert "malformed JSON" in err and "--text-field" in err and "sources remove" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("corpus", "add", case, "c", str(empty), code=1)
    assert "no documents indexed: the inputs hold no text documents" in " ".join(r.stderr.split())


def test_work_paths_and_report_paths_do_not_depend_on_the_working_folder(tmp_path, data, monkeypatch):
    case = tmp_path / "case"
    run("init", str(case))
    shutil.copytree(data / "works" / "python-rsa", tmp_path / "rsa")
    (case / "works").mkdir()
    shutil.copy(data / "works" / "boto3" / "utils.py", case / "works" / "utils.py")
    monkeypatch.chdir(tmp_path)
    run("works", "add", "case", "--claimant", "A", "rsa")  # relative to the folder the command ran from
    run("works", "add", "case", "--claimant", "B", "case/works/utils.py")  # inside the case
    shutil.copytree(data / "corpus", tmp_path / "corpus")
    run("corpus", "add", "case", "corpus", "corpus")
    r = run("match", "case")
    assert "report: reports/evidence.json in case" in r.stdout
    monkeypatch.chdir(case)
    files = [f["path"] for w in ("1", "2") for f in json.loads(run("show", ".", w, "--json").stdout)["files"]]
    assert str(tmp_path / "rsa" / "randnum.py") in files and "works/utils.py" in files
    report = json.loads((case / "reports" / "evidence.json").read_text())
    work_files = {e["work_file"] for e in report["evidence"]}
    assert str(tmp_path / "rsa" / "randnum.py") in work_files and "works/utils.py" in work_files
    assert str(tmp_path / "corpus" / "vendor" / "randnum.py") in {e["doc_locator"] for e in report["evidence"]}
    # the work's repository CMI is still found (work inputs stored in the same form as its files)
    cmi = json.loads(run("show", ".", "1", "--json").stdout)["cmi"]
    assert any(i["scope"] == "repository" for i in cmi)


def test_thresholds_and_copied_only_on_match_and_show(demo_case):
    base = json.loads(run("show", demo_case, "1", "--json").stdout)["evidence"]
    assert any(not e["copied"] for e in base)
    copied = json.loads(run("show", demo_case, "1", "--json", "--copied-only").stdout)["evidence"]
    assert copied and all(e["copied"] for e in copied) and len(copied) == sum(e["copied"] for e in base)
    high = json.loads(run("show", demo_case, "1", "--json", "--min-coverage", "0.95").stdout)["evidence"]
    assert high and all(e["own_coverage"] >= 0.95 for e in high) and len(high) < len(copied)
    many = json.loads(run("show", demo_case, "1", "--json", "--min-tokens", "400").stdout)["evidence"]
    assert many and all(e["own_tokens_copied"] >= 400 for e in many)
    summary = json.loads(run("show", demo_case, "--json", "--min-coverage", "0.95").stdout)
    assert {w["title"]: w["copies"] for w in summary["works"]}["python-rsa"] == len(high)
    text = run("show", demo_case, "1", "--copied-only").stdout
    assert "…/unrelated/__init___rsa.py" not in text and "randnum.py" in text

    # match: the thresholds decide `copied` and are in the manifest
    r = json.loads(run("match", demo_case, "--json", "--min-tokens", "100000", "--min-coverage", "1.0").stdout)
    manifest = json.loads(Path(r["report"]).read_text())["manifest"]
    assert manifest["parameters"]["thresholds"]["min_copy_tokens"] == 100000
    assert manifest["parameters"]["thresholds"]["min_copy_coverage"] == 1.0
    assert manifest["parameters"]["copied_only"] is False
    assert 0 < r["copied"] < 9  # only copies with all their own expression reproduced (8 of 11)
    r = json.loads(run("match", demo_case, "--json", "--copied-only").stdout)
    report = json.loads(Path(r["report"]).read_text())
    assert r["copied"] == r["evidence"] == 11 and all(e["copied"] for e in report["evidence"])
    assert report["manifest"]["parameters"]["copied_only"] is True
    assert report["manifest"]["counts"]["not_copied_not_stored"] > 0
    assert all(e["copied"] for e in json.loads(run("show", demo_case, "1", "--json").stdout)["evidence"])
    run("match", demo_case, "--min-coverage", "1.5", code=2)


def test_csv_export_has_one_row_per_evidence_record(demo_case, tmp_path, data):
    out = tmp_path / "evidence.csv"
    r = run("show", demo_case, "--csv", str(out))
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    wids = [str(w["id"]) for w in json.loads(run("show", demo_case, "--json").stdout)["works"] if w["files"]]
    works = [json.loads(run("show", demo_case, w, "--json").stdout) for w in wids]
    shown = [e for w in works for e in w["evidence"] + w.get("image_evidence", [])]
    assert len(rows) == len(shown) and f"{len(rows)} evidence records written" in r.stdout
    assert {(r["kind"], r["evidence_id"]) for r in rows} == {(e.get("kind", "text"), str(e["evidence_id"]))
                                                             for e in shown}
    for col in ("work_id", "claimant", "title", "work_file", "source", "document", "copied", "coverage",
                "own_coverage", "longest_run_tokens", "fragments", "identical", "byte_identical", "edit_similarity",
                "cmi_status", "near_duplicate_jaccard", "evidence_id"):
        assert col in rows[0]
    verbatim = next(r for r in rows if r["document"].endswith("vendor/randnum.py") and r["copied"] == "True"
                    and r["work_file"].endswith("python-rsa/randnum.py"))
    assert verbatim["claimant"] == "Sybren A. Stüvel" and verbatim["identical"] == "True"
    assert verbatim["cmi_status"] == "retained" and float(verbatim["own_coverage"]) == 1.0
    run("show", demo_case, "--csv", str(out), "--copied-only")
    with open(out, newline="", encoding="utf-8") as fh:
        copied = list(csv.DictReader(fh))
    # the planted text copies: 7 code, 3 of the book, the Stack-like record; the demo's image copies besides
    assert len([r for r in copied if r["kind"] == "text"]) == 11
    assert all(r["copied"] == "True" for r in copied if r["kind"] == "image")
    # a title a spreadsheet would run as a formula is written as text
    run("works", "add", demo_case, "--claimant", "@evil", "--title", "=HYPERLINK(\"x\")",
        str(data / "corpus" / "unrelated" / "six.py"))
    run("match", demo_case)
    run("show", demo_case, "--csv", str(out))
    with open(out, newline="", encoding="utf-8") as fh:
        evil = [r for r in csv.DictReader(fh) if "evil" in r["claimant"]]
    assert evil and all(r["title"] == "'=HYPERLINK(\"x\")" and r["claimant"] == "'@evil" for r in evil)


def test_a_level_that_cannot_apply_is_warned_about(tmp_path, data):
    case = str(tmp_path / "case")
    run("init", case)
    prose = tmp_path / "prose"
    prose.mkdir()
    (prose / "a.txt").write_text("It was the best of times, it was the worst of times, it was the age of wisdom.")
    shutil.copy(data / "works" / "python-rsa" / "randnum.py", prose / "randnum.py")
    r = run("corpus", "add", case, "c", str(prose), "--level", "identifiers")
    assert "warning: level identifiers applies to code: 1 of 2 documents are prose" in " ".join(r.stderr.split())
    summary = json.loads(run("corpus", "add", case, "c2", str(prose), "--level", "identifiers", "--json").stdout)
    assert summary["languages"] == {"prose": 1, "python": 1} and "1 of 2 documents are prose" in summary["warnings"][0]
    r = run("corpus", "add", case, "c3", str(prose), "--level", "comments")
    assert "indexed as at level layout" in " ".join(r.stderr.split())
    r = run("corpus", "add", case, "c4", str(prose))
    assert "warning" not in r.stderr
