"""A case of image works only (a visual artist's): `match` writes the (empty) text run the report and `verify`
stand on, and page 1 answers by image evidence, not "0 works copied" from the text comparison."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ascertain.cli import app

IMAGES = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images"
runner = CliRunner()


def run(*args: str) -> str:
    r = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    return r.output


def test_an_images_only_case_is_matched_reported_and_verified(tmp_path):
    case = tmp_path / "artist"
    run("init", case)
    run("works", "add", case, IMAGES / "works", "--claimant", "Dan Gerhards")
    run("corpus", "add", case, "shard", IMAGES / "corpus" / "00000.tar")
    out = run("match", case)
    assert "images:" in out and "0 evidence records, 0 copies" not in out
    run("report", case)
    report = case / "reports" / "report"
    qa = json.loads((report / "manifest.json").read_text()) and (report / "report.html").read_text()
    assert "Of 7 image works, 7 have a copy found by comparing images" in qa
    assert "found by comparing texts" not in qa
    assert "the work&#39;s image CMI (EXIF, IPTC, XMP, C2PA) was removed in" in qa
    assert "verified" in run("verify", report)
