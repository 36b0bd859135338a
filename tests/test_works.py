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
