"""Adding works: skips recorded once each, a non-UTF-8 manifest refused with the line and the fix."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.store import schema

runner = CliRunner()


def _skips(case_dir) -> list[tuple[str, str]]:
    case = Case.open(case_dir)
    with case.store.engine.connect() as c:
        return [(r.stage, r.locator) for r in c.execute(select(schema.skipped))]


def test_one_skip_in_works_add_is_stored_once(tmp_path, data):
    case = tmp_path / "case"
    runner.invoke(app, ["init", str(case)])
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.py").write_text("print('a')\n")
    (work / "blob.bin").write_bytes(b"\x00\x01" * 100)
    others = [str(data / "corpus" / "unrelated" / "six.py"), str(data / "works" / "boto3")]
    r = runner.invoke(app, ["works", "add", str(case), "--claimant", "X", str(work), *others])
    assert r.exit_code == 0, r.output
    assert [loc for _, loc in _skips(case)] == [str(work / "blob.bin")]


def test_csv_row_skip_is_stored_once(tmp_path, data):
    case = tmp_path / "case"
    runner.invoke(app, ["init", str(case)])
    shutil.copytree(data / "works", tmp_path / "works")
    manifest = tmp_path / "works.csv"
    manifest.write_text("claimant,title,path\nA,one,works/boto3\nB,two,works/missing\nC,three,works/pygments\n")
    r = runner.invoke(app, ["works", "import", str(case), str(manifest)])
    assert r.exit_code == 0, r.output
    assert _skips(case) == [("works import", f"{manifest}:3")]


def test_non_utf8_manifest_is_refused_with_line_and_fix(tmp_path, data):
    case = tmp_path / "case"
    runner.invoke(app, ["init", str(case)])
    shutil.copytree(data / "works", tmp_path / "works")
    manifest = tmp_path / "works.csv"
    manifest.write_bytes("claimant,title,path\nA,one,works/boto3\nSybren Stüvel,rsa,works/python-rsa\n"
                         .encode("latin-1"))
    r = runner.invoke(app, ["works", "import", str(case), str(manifest)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "not UTF-8" in r.output and "line 3" in r.output and "iconv" in r.output
    with Case.open(case).store.engine.connect() as c:  # nothing half-written
        assert c.execute(select(func.count()).select_from(schema.works)).scalar() == 0


def _details(case_dir):
    case = Case.open(case_dir)
    with case.store.engine.connect() as c:
        works = {r.title: r for r in c.execute(select(schema.works.c.id, schema.works.c.title,
                                                      schema.work_details).join_from(
            schema.works, schema.work_details, schema.works.c.id == schema.work_details.c.work_id))}
        owners = [tuple(r) for r in c.execute(select(schema.claimants.c.name, schema.work_owners.c.role,
                                                     schema.work_owners.c.share).join_from(
            schema.work_owners, schema.claimants))]
    return works, owners


def test_metadata_only_works_list_with_mapping_owners_and_bad_rows(tmp_path):
    case = tmp_path / "case"
    runner.invoke(app, ["init", str(case)])
    lst = tmp_path / "list.csv"
    lst.write_text(
        "Title,Author,Owners,ISBN,Published\n"
        "The Hobbit: or There and Back Again,\"Tolkien, J. R. R.\",\"Tolkien Estate: legal owner; "
        "HarperCollins: beneficial owner 50%\",0-306-40615-2,1937-09-21\n"
        "Bad ISBN,A. Writer,Someone,0-306-40615-3,2001\n"
        "Bad date,A. Writer,Someone,,2001-13-45\n"
        "Too many shares,A. Writer,X: co-owner 60%; Y: co-owner 60%,,\n"
        "Same book other owner,B,Other Press,9780306406157,\n"
        "Война и мир,\"Tolstoy, Leo\",Tolstoy Heirs,,1869\n")
    r = runner.invoke(app, ["works", "import", str(case), str(lst), "--json", "--map",
                            "title=Title,authors=Author,claimants=Owners,isbn=ISBN,publication_date=Published"])
    assert r.exit_code == 0, r.output
    works, owners = _details(case)
    assert set(works) == {"The Hobbit: or There and Back Again", "Война и мир"}
    hobbit = works["The Hobbit: or There and Back Again"]
    assert hobbit.isbns == ["9780306406157"] and hobbit.metadata_only and hobbit.title_key == "hobbit"
    assert hobbit.author_key == "tolkien" and hobbit.publication_date == "1937-09-21"
    assert works["Война и мир"].title_key == "voyna i mir"
    assert ("HarperCollins", "beneficial owner", 0.5) in owners and ("Tolkien Estate", "legal owner", None) in owners
    reasons = {s["locator"].rsplit(":", 1)[1]: s["reason"] for s in __import__("json").loads(r.stdout)["skipped"]}
    assert "checksum" in reasons["3"] and "not a date" in reasons["4"]
    assert "shares add up to 120%" in reasons["5"] and "conflicting owners: ISBN 9780306406157" in reasons["6"]
    r = runner.invoke(app, ["works", "import", str(case), str(lst), "--json", "--map",
                            "title=Title,authors=Author,claimants=Owners,isbn=ISBN,publication_date=Published"])
    assert len(__import__("json").loads(r.stdout)["existing"]) == 2  # a second import adds nothing


def test_works_list_from_jsonl_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    case = tmp_path / "case"
    runner.invoke(app, ["init", str(case)])
    rows = [{"title": f"Book {i}", "claimant": f"Author {i % 7}", "authors": [f"Author {i % 7}"],
             "isbn": None, "language": "en"} for i in range(300)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "list.parquet")
    (tmp_path / "list.jsonl").write_text("".join(__import__("json").dumps(
        {**r, "title": r["title"] + " (jsonl)"}) + "\n" for r in rows[:10]) + "{broken\n")
    for f in ("list.parquet", "list.jsonl"):
        r = runner.invoke(app, ["works", "import", str(case), str(tmp_path / f), "--json"])
        assert r.exit_code == 0, r.output
    works, _ = _details(case)
    assert len(works) == 310 and works["Book 5"].authors == ["Author 5"] and works["Book 5"].language == "en"
    assert [loc for _, loc in _skips(case)] == [f"{tmp_path / 'list.jsonl'}:11"]
