"""An exhibit of a 2,000-line file stays readable on paper: it breaks across pages with the column heads and
the exhibit number on each page, every line the exhibit shows is on a page whole (long lines wrap, none is
clipped), and no page is blank."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.report.build import build_report
from ascertain.sources import add_source
from ascertain.works import add_work

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None and not os.environ.get("CI"),
                                reason="poppler-utils not installed")
LINES = 2000
# a hostile line: 420 characters with no space to break at, ending in a marker that must reach the page
LONG = "    _table = '" + "x" * 400 + "ENDMARK'"


@pytest.fixture(scope="module")
def long_exhibit(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    real = (Path(sysconfig.get_paths()["stdlib"]) / "inspect.py").read_text(encoding="utf-8").splitlines()
    assert len(real) >= LINES
    lines = real[:LINES]
    lines[999] = LONG
    work = root / "inspect_part.py"
    work.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the copy: an identifier renamed throughout, one block of 30 lines deleted, one line inserted
    copy_lines = [ln.replace("getmembers", "get_members") for ln in lines[:1500]] + lines[1530:]
    copy_lines.insert(400, "# inserted by the copier")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "copied.py").write_text("\n".join(copy_lines) + "\n", encoding="utf-8")
    case = Case.init(root / "case")
    add_work(case, "A. Author", str(work), title="inspect, first 2,000 lines")
    add_source(case, "corpus", "corpus", [str(corpus)], ReadOptions())
    run_match(case, MatchOptions())
    out = Path(build_report(case, root / "report", exhibit_pdfs=True)["out"])
    number = next(iter(json.loads((out / "manifest.json").read_text())["exhibits"]))
    return out, number


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_long_exhibit_breaks_across_pages_without_losing_a_line(long_exhibit, tmp_path):
    out, number = long_exhibit
    pdf = out / "exhibits" / f"{number}.pdf"
    pages = _pdftotext(pdf).split("\f")[:-1]
    assert 25 <= len(pages) <= 200, len(pages)
    # the exhibit number and the column heads are on every page of it
    assert all(number in p for p in pages)
    assert sum("original (the work)" in p for p in pages) >= len(pages) - 3  # the last pages list differences
    # every original line number the exhibit shows is printed in the PDF
    page_html = (out / "exhibits" / f"{number}.html").read_text(encoding="utf-8")
    shown = {int(n) for n in re.findall(r'<td class="ln">(\d+)</td><td class="t o">', page_html)}
    assert len(shown) >= LINES - 40  # the 30 deleted lines are shown too, only in the original
    printed = {int(t) for p in pages for t in re.findall(r"(?<![\w.])(\d{1,4})(?![\w.])", p)}
    assert shown <= printed, sorted(shown - printed)[:20]
    # the 420-character line wraps instead of running off the page: its end is on the page, twice
    text = "".join(pages).replace("\n", "").replace(" ", "")
    assert text.count("ENDMARK") >= 2
    # no blank page
    subprocess.run(["pdftoppm", "-r", "15", "-png", str(pdf), str(tmp_path / "p")], check=True)
    from PIL import Image

    for png in sorted(tmp_path.glob("p-*.png")):
        lo, hi = Image.open(png).convert("L").getextrema()
        assert hi - lo > 100, f"{png.name} is blank"


def test_long_exhibit_differences_are_listed(long_exhibit):
    out, number = long_exhibit
    text = _pdftotext(out / "exhibits" / f"{number}.pdf")
    assert "getmembers" in text and "get_members" in text  # the rename map or the renamed lines
    assert "inserted by the copier" in text
