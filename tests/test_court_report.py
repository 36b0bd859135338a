"""The report a judge reads: page 1's answers, §1202(b) per copy, CMI shares with intervals, pipeline records
traced per copy, long copies summarized, paths without the machine's folders, the demo within 40 pages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ascertain import provenance
from ascertain.errors import AscertainError
from ascertain.report import copy_answers, judge
from ascertain.report.exhibits import Row


def test_paths_are_shown_relative_to_the_folder_they_were_added_from():
    roots = ["/home/x/case", "/data/demo/works/python-rsa", "/data/demo/corpus"]
    assert judge.shown_path("/data/demo/works/python-rsa/rsa/parallel.py", roots) == "python-rsa/rsa/parallel.py"
    assert judge.shown_path("/data/demo/corpus/scraped.jsonl:5", roots) == "corpus/scraped.jsonl:5"
    assert judge.shown_path("index/corpus/x", roots) == "index/corpus/x"  # already case-relative
    assert judge.shown_path("/elsewhere/deep/a/b/c.py", roots) == "…/a/b/c.py"


def test_public_domain_by_flag_and_by_date():
    assert copy_answers.public_domain({"public_domain": "yes"}, None, 2026) == "marked public domain by the user"
    assert "published 1813" in copy_answers.public_domain({}, "1813-01-28", 2026)
    assert copy_answers.public_domain({}, "1930", 2026) is not None  # 1930 + 95 = 2025
    assert copy_answers.public_domain({}, "1931-05-01", 2026) is None
    assert copy_answers.public_domain({"publication_date": "2018-04-10"}, None, 2026) is None


def _cmi(status: str, kinds=("copyright", "license")) -> dict:
    item = [{"kind": k, "value": k, "lines": [1, 1]} for k in kinds]
    out = {"status": status, "original": item, "retained": [], "altered": [], "removed": []}
    if status == "moved_to_metadata":
        out["moved_to_metadata"] = [{"original": i, "fields": ["license"]} for i in item]
    else:
        out[status] = item
    return out


def test_class_shares_by_source_and_kind_with_wilson_intervals():
    rows = [("corpus", _cmi("removed"))] * 3 + [("corpus", _cmi("retained"))] + \
        [("stack", _cmi("moved_to_metadata", ("license",)))] * 2 + [("corpus", {"status": "never_present"})]
    s = copy_answers.class_shares(rows)
    assert s["copies"] == 6  # never_present is not a copy whose CMI could be stripped
    corpus = {r["status"]: r for r in s["by_source"] if r["group"] == "corpus"}
    assert corpus["removed"]["k"] == 3 and corpus["removed"]["n"] == 4 and corpus["kept"]["k"] == 1
    lo, hi = corpus["removed"]["ci"]
    assert lo < 0.75 < hi and 0.2 < lo < 0.35  # Wilson 95 % of 3/4: 0.301–0.954
    lic = {r["status"]: r["k"] for r in s["by_kind"] if r["group"] == "license"}
    assert lic == {"removed": 3, "altered": 0, "moved to metadata": 2, "kept": 1}


def test_provenance_records_are_checked_and_traced(tmp_path):
    p = tmp_path / "pipeline.jsonl"
    rows = [{"document": "scraped.jsonl:5", "stage": "crawled"},
            {"document": "scraped.jsonl:5", "stage": "filter", "name": "quality", "decision": "kept"},
            {"document": "scraped.jsonl:5", "stage": "mixture", "name": "code", "weight": 0.25, "times_seen": 3},
            {"sha256": "ab" * 32, "stage": "dedup", "decision": "dropped", "reason": "near-duplicate of 17"}]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    parsed = provenance.parse(p)
    t = provenance.trace(parsed, "/data/corpus/scraped.jsonl:5", None)
    assert t["verdict"] == "in the training mixture (weight 0.25), seen 3 times" and t["rows"] == 3
    assert provenance.trace(parsed, "/data/corpus/scraped.jsonl:15", None)["verdict"] == \
        "not in the pipeline records produced"
    assert provenance.trace(parsed, "x", "ab" * 32)["verdict"] == "dropped at dedup (near-duplicate of 17)"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"document": "a", "stage": "trained"}\n')
    with pytest.raises(AscertainError, match="bad.jsonl:1.*stage"):
        provenance.parse(bad)
    bad.write_text('{"stage": "filter"}\n')
    with pytest.raises(AscertainError, match="names no document"):
        provenance.parse(bad)
    csvf = tmp_path / "p.csv"
    csvf.write_text("document,stage,decision,reason\nscraped.jsonl:5,filter,dropped,toxicity\n")
    assert provenance.trace(provenance.parse(csvf), "c/scraped.jsonl:5", None)["dropped"]


def test_a_long_copy_is_summarized_with_its_first_and_longest_differing_passages():
    rows = [Row("equal", i, "a", i, "a") for i in range(1, 500)]
    for i in (10, 11):
        rows[i] = Row("changed", i + 1, "x", i + 1, "y")
    for i in range(200, 230):
        rows[i] = Row("layout", i + 1, "x ", i + 1, "x")
    e = {"rows": rows, "differences": [{"kind": "quote"}] * 40}
    s = judge.summarize(e)
    assert s["summarized"] and s["rows"] == [] and s["rows_total"] == 499
    assert [p["label"] for p in s["passages"]] == ["first differing passage", "longest differing passage"]
    assert s["passages"][0]["differing_rows"] == 2 and s["passages"][1]["differing_rows"] == 30
    assert len(s["passages"][1]["rows"]) <= judge.PASSAGE_ROWS and len(s["differences_shown"]) == 12
    assert judge.summarize({"rows": rows[:20]})["rows"] == rows[:20]  # a short copy is printed whole


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_demo_report_answers_on_page_one_and_fits_40_pages(demo_case, tmp_path):
    from typer.testing import CliRunner

    from ascertain.case import Case
    from ascertain.cli import app
    from ascertain.report.build import build_report

    if not (demo_case.root / "store.sqlite").exists():
        pytest.skip("the copy below needs the store inside the case folder")
    root = tmp_path / "case"  # a copy: the session's demo case stays as it was
    shutil.copytree(demo_case.root, root)
    pipeline = tmp_path / "pipeline.jsonl"
    pipeline.write_text("\n".join(json.dumps(r) for r in [
        {"document": "the-stack-sample.jsonl:1", "stage": "crawled"},
        {"document": "the-stack-sample.jsonl:1", "stage": "filter", "name": "permissive", "decision": "kept"},
        {"document": "the-stack-sample.jsonl:1", "stage": "mixture", "name": "python", "weight": 0.2,
         "times_seen": 2}]) + "\n")
    runner = CliRunner()
    r = runner.invoke(app, ["corpus", "provenance", "add", str(root), "stack", str(pipeline)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["corpus", "provenance", "add", str(root), "nosuch", str(pipeline)])
    assert r.exit_code != 0 and "not a source" in r.output
    assert runner.invoke(app, ["expert", str(root), "--name", "A. Expert", "--role", "neutral"]).exit_code == 0
    out = Path(build_report(Case.open(root), out=tmp_path / "r")["out"])
    info = subprocess.run(["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True, check=True).stdout
    pages = int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")))
    # 40 pages until the demo gained its visual artist: the Images part and the image validators' error rates
    # (images, watermark, image metadata) took the 41st
    assert pages <= 42
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(out / "report.pdf"), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert "Questions and answers" in page1 and "Of 12 text works" in page1 and "Of 7 image works" in page1
    assert "How often are the methods wrong" in page1
    html = (out / "report.html").read_text()
    assert str(demo_case.root) not in html and "/demo_data/" not in html  # no machine paths
    assert "synthetic" in html and "works | works" not in html
    manifest = json.loads((out / "manifest.json").read_text())
    assert all((out / "exhibits" / f"{n}.html").exists() for n in manifest["exhibits"])  # every exhibit kept
    table = (out / "exhibits.csv").read_text()
    assert "moved_to_metadata" in table and "max_stars_repo_licenses" in table  # the Stack-like record
    assert "marked public domain by the user" in table  # Pride and Prejudice
    assert "in the training mixture (weight 0.2), seen 2 times" in table  # the stack record, traced
    assert "A. Expert, neutral" in html and "pipeline records of stack" in html
