"""Records inside containers named by locator: `compare` on either side, and `ascertain doc` from the index."""

from __future__ import annotations

import json
import subprocess
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.match.compare import Comparer
from ascertain.readers import ReadOptions
from ascertain.readers.locator import read_locator
from ascertain.sources import add_source

runner = CliRunner()


def compare_json(*args: str) -> dict:
    r = runner.invoke(app, ["compare", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_compare_a_jsonl_record_on_either_side(data):
    work = data / "works" / "boto3" / "compat.py"
    record = f"{data / 'corpus' / 'scraped.jsonl'}:2"  # compat.py verbatim inside a JSONL record
    r = compare_json(str(work), record)
    assert r["copied"] and r["identical"] and r["copy"] == record
    back = compare_json(record, str(work))
    assert back["copied"] and back["identical"]
    out = f"{data / 'outputs.jsonl'}:1"  # the model output holding pkcs1_v2's mgf1 function
    r = compare_json(str(data / "works" / "python-rsa" / "pkcs1_v2.py"), out, "--text-field", "completion")
    assert r["copied"] and 0.3 < r["coverage"] < 1.0


def test_record_errors_name_the_record_and_the_fix(data):
    jsonl = data / "corpus" / "scraped.jsonl"
    work = str(data / "works" / "boto3" / "compat.py")
    r = runner.invoke(app, ["compare", work, f"{jsonl}:99"])
    assert r.exit_code == 2 and "no such record" in r.output and "records read" in r.output
    r = runner.invoke(app, ["compare", work, f"{jsonl}:4"])  # the truncated line the reader skips
    assert r.exit_code == 2 and "malformed JSON" in r.output
    r = runner.invoke(app, ["compare", work, f"{data / 'outputs.jsonl'}:1"])  # its text is in "completion"
    assert r.exit_code == 2 and "'text' is missing" in r.output and "--text-field" in r.output
    r = runner.invoke(app, ["compare", work, str(jsonl)])  # several records: which one is not guessed
    assert r.exit_code == 2 and "several records" in r.output and f"{jsonl}:1" in r.output


def test_parquet_row_and_archive_member(tmp_path, data, rsa_file):
    text = rsa_file.read_text()
    pq.write_table(pa.table({"path": ["a.py", "randnum.py", "c.py"], "text": ["x = 1\n", text, "y = 2\n"]}),
                   tmp_path / "data.parquet")
    with zipfile.ZipFile(tmp_path / "src.zip", "w") as zf:
        zf.writestr("pkg/other.py", "z = 3\n")
        zf.writestr("pkg/randnum.py", text)
    for loc in (f"{tmp_path / 'data.parquet'}#row2", f"{tmp_path / 'src.zip'}!pkg/randnum.py"):
        r = Comparer(level="auto").compare(str(rsa_file), loc)
        assert r["copied"] and r["identical"] and r["level"] == "layout", loc
        assert read_locator(loc, ReadOptions()).language == "python"
    with pytest.raises(AscertainError, match="no such record"):
        read_locator(f"{tmp_path / 'data.parquet'}#row4", ReadOptions())
    with pytest.raises(AscertainError, match="no such record"):
        read_locator(f"{tmp_path / 'src.zip'}!pkg/missing.py", ReadOptions())
    with pytest.raises(AscertainError, match="not a record locator"):
        read_locator(f"{tmp_path / 'nothing.jsonl'}:1", ReadOptions())


def test_git_revision_locator(tmp_path, rsa_file):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "randnum.py").write_text(rsa_file.read_text())
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    (repo / "randnum.py").write_text("changed = True\n")  # the work tree no longer has it; the commit does
    r = Comparer(level="auto").compare(str(rsa_file), f"{repo}@HEAD:randnum.py")
    assert r["copied"] and r["identical"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("doc")
    extra = root / "extra"
    extra.mkdir()
    (extra / "markup.txt").write_text("[bold]not bold[/bold] :thumbs_up: [/]\nsecond line\nthird line\n")
    (extra / "six.py").write_text("six = 6\n")  # a second document named six.py (the corpus has one)
    case = Case.init(root / "case")
    add_source(case, "corpus", "corpus", [str(data / "corpus"), str(extra)], ReadOptions())
    add_source(case, "bare", "corpus", [str(extra)], ReadOptions(), store_text=False)
    return case


def test_doc_prints_the_indexed_text_by_locator_or_id(indexed, data):
    case = str(indexed.root)
    r = runner.invoke(app, ["doc", case, "corpus", "vendor/randnum.py", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["text"] == (data / "corpus" / "vendor" / "randnum.py").read_text() and d["language"] == "python"
    by_id = json.loads(runner.invoke(app, ["doc", case, "corpus", str(d["doc"]), "--json"]).stdout)
    assert by_id == d
    rec = json.loads(runner.invoke(app, ["doc", case, "corpus", "scraped.jsonl:2", "--json"]).stdout)
    assert rec["meta"]["path"] == "boto3_compat.py" and rec["text"].startswith("# Copyright 2015 Amazon")
    r = runner.invoke(app, ["doc", case, "corpus", "vendor/randnum.py", "--lines", "15-16"])
    assert r.exit_code == 0 and r.stdout == '"""Functions for generating random numbers."""\n\n'
    assert "vendor/randnum.py" in r.stderr and "lines 15-16" in r.stderr


def test_doc_prints_user_text_verbatim(indexed):
    r = runner.invoke(app, ["doc", str(indexed.root), "corpus", "markup.txt", "--lines", "1"])
    assert r.exit_code == 0 and r.stdout == "[bold]not bold[/bold] :thumbs_up: [/]\n"


def test_doc_errors(indexed):
    case = str(indexed.root)
    r = runner.invoke(app, ["doc", case, "bare", "markup.txt"])
    assert r.exit_code != 0 and "holds no text" in r.output and "producing party" in r.output
    assert "markup.txt" in r.output  # the locator to produce the document from
    for args, says in ((["corpus", "9999"], "no such document id"), (["corpus", "nope.py"], "no indexed document"),
                       (["corpus", "six.py"], "2 documents end with"), (["missing", "1"], "no such source"),
                       (["corpus", "1", "--lines", "a-b"], "not a line range")):
        r = runner.invoke(app, ["doc", case, *args])
        assert r.exit_code == 2 and says in r.output, (args, r.output)
