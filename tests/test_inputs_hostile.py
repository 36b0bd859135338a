"""Hostile inputs a new user or an opponent may hand over (issue 26, item 15): every one is a clear, recorded
skip or refusal that names the input, and the rest of the input is read."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.readers import ReadOptions, Skip, read_inputs

runner = CliRunner()


def run(*args, code: int = 0):
    r = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert r.exit_code == code, r.output
    return r


@pytest.fixture
def work(tmp_path, data):
    w = tmp_path / "w"
    w.mkdir()
    shutil.copy(data / "works" / "python-rsa" / "randnum.py", w / "randnum.py")
    return w


def test_a_works_list_with_a_huge_field_nul_and_bidi_rows_imports_the_rest(tmp_path, work):
    rows = [("Good Claimant", "A Fine Title"), ("Long", "x" * 200_000), ("Nul", "Before\x00After"),
            ("Bidi", "Invoice\u202egnp.exe"), ("Another Good One", "Second Title")]
    lines = ["claimant,title,path"] + [f'"{c}","{t}",{work}' for c, t in rows]
    (tmp_path / "works.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run("init", tmp_path / "case")
    r = run("works", "import", tmp_path / "case", tmp_path / "works.csv", "--json")
    rep = json.loads(r.stdout)
    assert sorted(a["title"] for a in rep["added"]) == ["A Fine Title", "Second Title"]
    reasons = {s["locator"].rsplit(":", 1)[-1]: s["reason"] for s in rep["skipped"]}
    assert "field larger than field limit" in reasons["3"] or "CSV" in reasons["3"], reasons
    assert "NUL" in reasons["4"] and "U+202E" in reasons["5"] and "RIGHT-TO-LEFT OVERRIDE" in reasons["5"]
    assert "Traceback" not in r.output
    r = run("works", "add", tmp_path / "case", "--claimant", "Evil\u202eOne", "--title", "T", work, code=2)
    assert "U+202E" in r.output


def test_names_print_literally_without_emoji_codes(tmp_path, work):
    run("init", tmp_path / "case")
    run("works", "add", tmp_path / "case", "--claimant", ":warning: Claimant", "--title", "Title :a:", work)
    out = run("show", tmp_path / "case").stdout
    assert ":warning: Claimant" in out and "Title :a:" in out and "⚠" not in out and "🅰" not in out


def test_a_symlink_loop_and_a_pdf_bomb_say_what_they_are(tmp_path):
    loop = tmp_path / "loop.txt"
    os.symlink(loop, loop)
    items = list(read_inputs([loop], ReadOptions()))
    assert len(items) == 1 and isinstance(items[0], Skip) and "loop of symbolic links" in items[0].fix
    import io
    import zlib

    comp = zlib.compress(b"q " * 45_000_000, 9)  # 90 MB of content operators in 88 KB
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(comp) + comp + b"\nendstream"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offsets:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    (tmp_path / "bomb.pdf").write_bytes(out.getvalue())
    items = list(read_inputs([tmp_path / "bomb.pdf"], ReadOptions()))
    assert [i.reason.split(":")[0] for i in items] == ["decompression bomb refused"]


def test_classes_without_a_file_says_the_format_and_init_writes_one(tmp_path, data):
    """Issue 26, item 20: `classes` without a class file said only "cannot open classes.toml"."""
    run("init", tmp_path / "case")
    r = run("classes", tmp_path / "case", "--file", tmp_path / "none.toml", code=2)
    assert "--init" in r.output and "cannot open the class file" in r.output
    run("classes", tmp_path / "case", "--init", "--file", tmp_path / "classes.toml")
    text = (tmp_path / "classes.toml").read_text()
    assert "in_corpus_by_identifier" in text and "[[class]]" in text
    run("classes", tmp_path / "case", "--init", "--file", tmp_path / "classes.toml", code=2)  # never overwritten
    from ascertain.classes.criteria import load_class_file

    assert [c.name for c in load_class_file(str(tmp_path / "classes.toml")).classes][:1] == ["in-corpus"]
    assert "[[class]]" in run("classes", "--help").stdout
