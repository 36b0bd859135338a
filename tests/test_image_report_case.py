"""The report's Images part from a case's store: the demo's portfolio, shard and outputs matched, the report
written twice (same bytes), the image exhibits as their own files and in the tables, the CMI rates with their
intervals, and the redacted tier withholding the copies' pictures, captions and URLs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ascertain.case import Case
from ascertain.match.images import ImageMatchOptions, run_image_match
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.report.build import build_report
from ascertain.sources import add_source
from ascertain.sources_images import add_image_source
from ascertain.works import add_work, import_manifest

DATA = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data"
IMAGES = DATA / "images"


@pytest.fixture(scope="module")
def matched(tmp_path_factory) -> Case:
    case = Case.init(tmp_path_factory.mktemp("imgreport") / "case")
    import_manifest(case, str(IMAGES / "works.csv"))
    add_work(case, "Sybren A. Stüvel", str(DATA / "works" / "python-rsa" / "randnum.py"), "randnum")
    add_source(case, "corpus", "corpus", [str(DATA / "corpus" / "vendor")], ReadOptions())
    add_image_source(case, "images-corpus", "corpus", [str(IMAGES / "corpus" / "00000.tar")], ReadOptions())
    add_image_source(case, "images-outputs", "outputs", [str(IMAGES / "outputs")], ReadOptions())
    run_match(case, MatchOptions())
    run_image_match(case, ImageMatchOptions())
    return case


def test_image_exhibits_follow_the_planted_copies_and_the_bytes_repeat(matched, tmp_path):
    a = build_report(matched, tmp_path / "a", inline_exhibits=0)
    assert a["exhibits"] == 1 and a["image_exhibits"] == 10
    out = Path(a["out"])
    rows = list(csv.DictReader(io.StringIO((out / "image_exhibits.csv").read_text())))
    planted = {(p["work_file"], p["source"], p["document"]): p for p in json.loads((IMAGES / "planted.json")
                                                                                   .read_text())}
    got = {}
    for r in rows:
        key = next(k for k in planted if Path(r["work_file"]).name == k[0] and r["source"] == k[1]
                   and r["document"].endswith(k[2]))
        got[key] = (r["tier"], r["cmi_status"])
        page = (out / "exhibits" / f"{r['exhibit']}.html").read_text()
        assert page.count("data:image/png;base64,") == 2 and r["tier"].replace("_", " ") in page
    assert got == {k: (p["tier"], p["cmi"]) for k, p in planted.items() if p["tier"] not in ("metadata", "hash")}
    html = (out / "report.html").read_text()
    assert '<h3 id="images">Images</h3>' in html and "Image CMI over each source" in html
    assert "75 % (6/8; 41–93 %)" in html  # removed in 6 of the 8 corpus copies of works with CMI, Wilson 95 %
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["image_exhibits"]) == 10 and "image_exhibits.csv" in manifest["files"]
    b = build_report(matched, tmp_path / "b", inline_exhibits=0)
    again = Path(b["out"])
    for name in ["report.html", "image_exhibits.csv", *(f"exhibits/{r['exhibit']}.html" for r in rows)]:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_redacted_report_shows_no_copy_of_an_image(matched, tmp_path):
    r = build_report(matched, tmp_path / "red", tier="redacted", inline_exhibits=0)
    out = Path(r["out"])
    pages = [p.read_text() for p in (out / "exhibits").glob("*.html")]
    image_pages = [p for p in pages if "(image)" in p]
    assert len(image_pages) == 10
    for p in image_pages:
        assert "data:image/png" not in p and "picture is withheld" in p and ".example" not in p
    assert ".example" not in (out / "report.html").read_text()  # no dataset URL, no caption
