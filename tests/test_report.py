"""The court report as a reader meets it: files, PDF pages, HTML in Chromium, stable bytes, verify catching
each kind of one-byte tampering, the redacted tier holding no corpus text, and the audit chain."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.report.build import build_report
from ascertain.report.verify import verify
from ascertain.sources import add_source
from ascertain.works import import_manifest

runner = CliRunner()
# CI installs both (.ci/run); elsewhere the picture tests skip when the viewers are missing
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None and not os.environ.get("CI"),
                                   reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def built(tmp_path_factory, data):
    """A demo case built from a private copy of the demo data (so inputs can be tampered with) and its report."""
    root = tmp_path_factory.mktemp("report")
    src = root / "data"
    shutil.copytree(data, src)
    case = Case.init(root / "case")
    import_manifest(case, str(src / "works.csv"))
    add_source(case, "corpus", "corpus", [str(src / "corpus")], ReadOptions())
    add_source(case, "outputs", "outputs", [str(src / "outputs.jsonl")], ReadOptions(text_field="completion"))
    run_match(case, MatchOptions())
    result = build_report(case)
    return case, Path(result["out"]), result, src


def test_report_writes_every_part(built):
    case, out, result, _ = built
    assert result["exhibits"] == 7
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"report.html", "report.pdf", "manifest.json", "exhibits.csv", "exhibits.parquet", "evidence.json",
            "plot-coverage.svg", "plot-longest_run.svg", "plot-transformations.svg", "plot-cmi.svg"} <= names
    numbers = sorted(json.loads((out / "manifest.json").read_text())["exhibits"])
    assert numbers == [f"ASC-{i:06d}" for i in range(1, 8)]
    assert all(f"exhibits/{n}.html" in names for n in numbers)
    html = (out / "report.html").read_text()
    assert "http://" not in html.split("<body>")[0] and "<link" not in html  # self-contained: nothing fetched
    assert "@font-face" in html and "<svg" in html
    assert "10. Probing the model" in html and "No probe of a model was run" in html
    csv_lines = (out / "exhibits.csv").read_text().splitlines()
    assert len(csv_lines) == 8 and csv_lines[0].startswith("exhibit,evidence_id,work_id,claimant")
    # the stripped header is shown on the original side, marked removed
    stripped = next(n for n, e in json.loads((out / "manifest.json").read_text())["exhibits"].items()
                    if e["document"].endswith("parallel_nohdr.py"))
    page = (out / "exhibits" / f"{stripped}.html").read_text()
    assert "cmi-removed" in page and "Copyright" in page


def test_same_case_gives_same_report_bytes_and_numbers(built, tmp_path):
    import os

    from ascertain.report.pdf_toolchain import INSTALL, missing_pdf_libraries

    missing = missing_pdf_libraries()
    if missing:  # without it WeasyPrint's fallback subsetter writes other font bytes each time
        if os.environ.get("CI_REQUIRE_PDF") == "1":
            pytest.fail(f"CI_REQUIRE_PDF=1 but {missing} is missing")
        pytest.skip(f"byte-reproducible PDFs need {missing}: {INSTALL}")
    case, out, _, _ = built
    again = Path(build_report(case, tmp_path / "again")["out"])
    for name in ("report.html", "report.pdf", "exhibits.csv", "exhibits.parquet", "exhibits/ASC-000003.html"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    assert json.loads((again / "manifest.json").read_text())["exhibits"] == \
        json.loads((out / "manifest.json").read_text())["exhibits"]


@needs_poppler
def test_pdf_pages_are_numbered_legible_and_hold_every_exhibit(built, tmp_path):
    _, out, _, _ = built
    info = subprocess.run(["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 8
    text = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    for n in range(1, 8):
        assert f"ASC-{n:06d}" in text
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(out / "report.pdf"), str(tmp_path / "p")], check=True)
    from PIL import Image

    for png in sorted(tmp_path.glob("p-*.png")):
        lo, hi = Image.open(png).convert("L").getextrema()
        assert hi - lo > 100, f"{png.name} is blank"


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"), reason="chromium not installed")
def test_html_renders_in_headless_chromium(built, tmp_path):
    _, out, _, _ = built
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path}/u",
                    "--window-size=1200,1600", f"--screenshot={shot}", (out / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    img = Image.open(shot).convert("L")
    lo, hi = img.getextrema()
    assert img.size == (1200, 1600) and hi - lo > 100


def _tampered(path: Path) -> None:
    b = bytearray(path.read_bytes())
    i = len(b) // 2
    b[i] = b[i] ^ 0x01
    path.write_bytes(bytes(b))


def _fresh(built, tmp_path) -> tuple[Case, Path, Path]:
    """A private copy of the case with its report (inputs stay shared: a test that changes one restores it)."""
    case, out, _, src = built
    shutil.copytree(case.root, tmp_path / "case")
    return Case.open(tmp_path / "case"), tmp_path / "case" / out.relative_to(case.root), src


def test_verify_passes_then_catches_each_kind_of_tampering(built, tmp_path):
    case, out, _ = _fresh(built, tmp_path)
    r = verify(out, case.root)
    assert r["verified"], r["differences"]

    def kinds_after(change, rerun: bool = False) -> set[str]:  # the re-derivation's own attacks: test_report_trust
        change()
        return {d["kind"] for d in verify(out, case.root, rerun=rerun)["differences"]}

    # a report file
    backup = (out / "report.html").read_bytes()
    # caught twice: its hash, and the report written again from the re-derived evidence
    assert kinds_after(lambda: _tampered(out / "report.html"), rerun=True) == {"report file", "rerun"}
    (out / "report.html").write_bytes(backup)
    # an index shard
    shard = sorted((case.root / "index" / "corpus").glob("docs-*.parquet"))[0]
    backup = shard.read_bytes()
    assert "index" in kinds_after(lambda: _tampered(shard))
    shard.write_bytes(backup)
    # a store row
    db = sqlite3.connect(case.root / "store.sqlite")
    assert "store" in kinds_after(lambda: (db.execute("UPDATE evidence SET coverage = coverage - 0.001 WHERE id = "
                                                      "(SELECT min(id) FROM evidence)"), db.commit()))
    db.execute("UPDATE evidence SET coverage = coverage + 0.001 WHERE id = (SELECT min(id) FROM evidence)")
    db.commit()
    assert verify(out, case.root, rerun=False)["verified"]
    # an audit entry
    before = db.execute("SELECT at FROM audit_log WHERE id = 2").fetchone()[0]
    assert kinds_after(lambda: (db.execute("UPDATE audit_log SET at = ? WHERE id = 2", (before[:-1] + "9",)),
                                db.commit())) == {"audit"}
    db.execute("UPDATE audit_log SET at = ? WHERE id = 2", (before,))
    db.commit()
    db.close()
    assert verify(out, case.root, rerun=False)["verified"]


def test_verify_catches_a_changed_input_and_a_changed_evidence_copy(built, tmp_path):
    case, out, src = _fresh(built, tmp_path)
    work = src / "works" / "python-rsa" / "randnum.py"
    backup = work.read_bytes()
    try:
        _tampered(work)
        diffs = verify(out, case.root, rerun=False)["differences"]
        assert [d["kind"] for d in diffs] == ["input"] and diffs[0]["item"].endswith("randnum.py")
    finally:
        work.write_bytes(backup)
    _tampered(out / "evidence.json")
    assert {d["kind"] for d in verify(out, case.root)["differences"]} == {"report file", "rerun"}


def test_verify_cli_exit_codes(built, tmp_path):
    _, out, _ = _fresh(built, tmp_path)
    r = runner.invoke(app, ["verify", str(out), "--case", str(out.parent.parent)])
    assert r.exit_code == 0 and "verified" in r.stdout
    _tampered(out / "exhibits.csv")
    r = runner.invoke(app, ["verify", str(out), "--case", str(out.parent.parent), "--no-rerun"])
    assert r.exit_code == 1 and "exhibits.csv" in r.stdout


def test_redacted_tier_holds_no_corpus_text(built, tmp_path):
    case, _, _, src = built
    out = Path(build_report(case, tmp_path / "redacted", tier="redacted")["out"])
    works_text = "\n".join(p.read_text(errors="replace") for p in (src / "works").rglob("*") if p.is_file())
    work_lines = {line.strip() for line in works_text.splitlines()}
    corpus_only = set()
    for p in [*(src / "corpus").rglob("*.py"), src / "outputs.jsonl", src / "corpus" / "scraped.jsonl"]:
        for line in p.read_text(errors="replace").splitlines():
            s = line.strip()
            if len(s) >= 25 and s not in work_lines and s not in works_text:
                corpus_only.add(s)
    assert len(corpus_only) > 50
    texts = [p.read_text(errors="replace") for p in out.rglob("*") if p.suffix in (".html", ".csv", ".json", ".svg")]
    if shutil.which("pdftotext"):
        texts.append(subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                                    check=True).stdout)
    import html as html_lib

    blob = "\n".join(html_lib.unescape(t) for t in texts)
    leaked = [s for s in corpus_only if s in blob]
    assert not leaked, leaked[:5]
    assert not (out / "evidence.json").exists()
    assert verify(out, case.root)["verified"]


def test_audit_chain_command(built, tmp_path):
    case, _, _ = _fresh(built, tmp_path)
    r = runner.invoke(app, ["audit", str(case.root), "--last", "0"])
    assert r.exit_code == 0 and "audit chain intact" in r.stdout and "report" in r.stdout
    db = sqlite3.connect(case.root / "store.sqlite")
    db.execute("DELETE FROM audit_log WHERE id = 3")
    db.commit()
    db.close()
    r = runner.invoke(app, ["audit", str(case.root)])
    assert r.exit_code == 1 and "BROKEN" in r.stdout


def test_report_shows_the_probe_with_its_limitations(demo_case, tmp_path):
    """The demo's probe (a model trained on two python-rsa files) in the report: each work's Tier A finding
    and the fixed limitations text."""
    from ascertain.probe import LIMITATIONS

    # exhibits in their own files, not inline: a shorter report.pdf
    html = (Path(build_report(demo_case, out=tmp_path / "r", inline_exhibits=0)["out"]) / "report.html").read_text()
    section = html.split("10. Probing the model")[1].split('<section class="exhibit"')[0]
    assert "Probe run" in section and LIMITATIONS in section
    rows = [r for r in section.split("<tr>") if r.startswith("<td>A</td>")]
    found = [r for r in rows if re.search(r"<td class=\"wrap\">[1-9]\d* reproductions in \d+ attempts", r)]
    assert rows and len(found) == 1 and "python-rsa" in found[0]  # the one work whose files were trained on
