"""Hostile and damaged input found by trial (issue 9): every case is read as far as it is intact, and the rest
is a Skip that says where and why; nothing blocks, crashes, or is dropped silently."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import socket
import tarfile
import threading
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.readers.base import decode
from ascertain.text.languages import language_of_content

runner = CliRunner()


def read(path, **kw) -> tuple[list[Document], list[Skip]]:
    items = list(read_inputs([path], ReadOptions(**kw)))
    return [i for i in items if isinstance(i, Document)], [i for i in items if isinstance(i, Skip)]


def _records(n: int) -> bytes:
    rng = random.Random(9)
    words = [f"w{i}" for i in range(5000)]  # varied text, so the compressed file has many blocks
    lines = [json.dumps({"text": f"record {i} " + " ".join(rng.choices(words, k=700))}) for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def _streamed_lines(decompressed_prefix: bytes) -> int:
    return decompressed_prefix.count(b"\n")  # lines wholly present in what the cut bytes decompress to


# --- item 3: truncated .jsonl.zst / .jsonl.gz


def _compressed(raw: bytes, how: str) -> bytes:
    if how == "zst":
        return zstandard.ZstdCompressor(level=3).compress(raw)
    if how == "zst-frames":  # a frame per 14 records, as streaming writers produce
        lines = raw.splitlines(keepends=True)
        c = zstandard.ZstdCompressor(level=3)
        return b"".join(c.compress(b"".join(lines[i:i + 14])) for i in range(0, len(lines), 14))
    return gzip.compress(raw, mtime=0)


def _stream_prefix(cut: bytes, how: str) -> bytes:
    """What a streaming decompression of the cut bytes gives (zstd: whole blocks only)."""
    if how.startswith("zst"):
        return zstandard.ZstdDecompressor().decompressobj(read_across_frames=True).decompress(cut)
    return zlib.decompressobj(31).decompress(cut)


@pytest.mark.parametrize("how", ["zst", "zst-frames", "gz"])
def test_truncated_compressed_jsonl_keeps_every_complete_record(tmp_path, how):
    raw = _records(110)
    full = _compressed(raw, how)
    cut = full[: int(len(full) * 0.6)]
    p = tmp_path / f"corpus.jsonl.{how[:3].rstrip('-')}"
    p.write_bytes(cut)
    prefix = _stream_prefix(cut, how)
    expected = _streamed_lines(prefix)
    assert 50 < expected < 110  # the cut leaves a real prefix, and loses a real tail

    docs, skips = read(p)
    assert [d.text.split(" ", 2)[1] for d in docs] == [str(i) for i in range(expected)]
    assert len(skips) == 1
    (s,) = skips
    partial = not prefix.endswith(b"\n")  # the prefix ends inside a line, or (zstd frames) at a line's end
    assert s.input == str(p) and s.locator == (f"{p}:{expected + 1}" if partial else str(p))
    assert "truncated" in s.reason and "malformed" not in s.reason
    assert f"at byte {len(cut):,}" in s.reason and f"after {len(prefix):,} decompressed bytes" in s.reason


def test_compressed_jsonl_damaged_mid_stream_and_intact_multi_member(tmp_path):
    raw = _records(40)
    half = raw.index(b"\n", len(raw) // 2) + 1
    two = gzip.compress(raw[:half], mtime=0) + gzip.compress(raw[half:], mtime=0)  # concatenated members
    (tmp_path / "two.jsonl.gz").write_bytes(two)
    docs, skips = read(tmp_path / "two.jsonl.gz")
    assert len(docs) == 40 and not skips
    damaged = bytearray(gzip.compress(raw, mtime=0))
    damaged[len(damaged) // 2: len(damaged) // 2 + 64] = b"\xff" * 64
    (tmp_path / "bad.jsonl.gz").write_bytes(bytes(damaged))
    docs, skips = read(tmp_path / "bad.jsonl.gz")  # garbage lines until the CRC check, then the damage
    assert 0 < len(docs) < 40 and [d.text.split(" ", 2)[1] for d in docs] == [str(i) for i in range(len(docs))]
    assert "compressed data is damaged" in skips[-1].reason and "truncated" in skips[-1].reason
    (tmp_path / "fake.jsonl.zst").write_bytes(b"this is not zstd at all\n")
    docs, skips = read(tmp_path / "fake.jsonl.zst")
    assert not docs and "damaged" in skips[0].reason


# --- item 5: bad content in folders is a per-item Skip, never an abort or a traceback


def _tar_with_raw_name(path: Path) -> None:
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tf:
        for name, data in (("caf\xe9.py", b"x = 1\n"), ("ok.py", b"y = 2\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def _zip_with_raw_name(path: Path, raw_name: bytes, utf8_flag: bool) -> None:
    placeholder = "P" * (len(raw_name) - 2) + ("\u00e9" if utf8_flag else "PP")  # same byte length
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(placeholder, b"z = 3\n")
        zf.writestr("ok.txt", b"fine\n")
    path.write_bytes(buf.getvalue().replace(placeholder.encode(), raw_name))


def test_bad_items_inside_a_folder_are_skips_and_corpus_add_completes(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(pa.table({"content": ["no text column here"]}), folder / "a.parquet")
    _tar_with_raw_name(folder / "names.tar")
    _zip_with_raw_name(folder / "names.zip", b"caf\xe9.py", utf8_flag=False)
    _zip_with_raw_name(folder / "flagged.zip", b"bad\xff\xfe.py", utf8_flag=True)
    (folder / os.fsdecode(b"r\xe9sum\xe9.txt")).write_text("a file whose name is not UTF-8\n")
    (folder / "z.py").write_text("print('still read')\n")

    docs, skips = read(folder)
    locs = [d.locator for d in docs]
    assert f"{folder}/names.tar!caf\\xe9.py" in locs and f"{folder}/names.tar!ok.py" in locs
    assert f"{folder}/names.zip!caf\\xe9.py" in locs and f"{folder}/names.zip!ok.txt" in locs
    assert f"{folder}/r\\xe9sum\\xe9.txt" in locs and locs[-1] == f"{folder}/z.py"
    for text in locs + [s.locator for s in skips] + [s.reason for s in skips]:
        text.encode("utf-8")  # every locator and message is valid text (no surrogates)
    reasons = {Path(s.locator).name: s.reason for s in skips}
    assert "no column 'text'" in reasons["a.parquet"]
    assert "flagged as UTF-8 is not UTF-8" in reasons["flagged.zip"]

    case = str(tmp_path / "case")
    assert runner.invoke(app, ["init", case]).exit_code == 0
    r = runner.invoke(app, ["corpus", "add", case, "c", str(folder), "--json"])
    assert r.exit_code == 0, r.output
    added = json.loads(r.stdout)
    assert added["documents"] == len(docs) and added["skipped"] == len(skips)
    named = folder / os.fsdecode(b"r\xe9sum\xe9.txt")  # given directly: its name is recorded escaped
    r = runner.invoke(app, ["corpus", "add", case, "one", str(named), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["documents"] == 1


# --- item 6: FIFOs, sockets, devices, directory symlinks


def test_special_files_in_a_folder_are_recorded_and_never_opened(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.py").write_text("a = 1\n")
    os.mkfifo(folder / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "s.sock"))
    (folder / "dirlink").symlink_to(folder / "sub")
    (folder / "devnull").symlink_to("/dev/null")  # a link: not followed

    done: list = []
    t = threading.Thread(target=lambda: done.append(read(folder)), daemon=True)
    t.start()
    t.join(20)
    sock.close()
    assert done, "reading a folder with a FIFO blocked"
    docs, skips = done[0]
    assert [Path(d.locator).name for d in docs] == ["a.py"]
    reasons = {Path(s.locator).name: s.reason for s in skips}
    assert reasons["pipe.txt"].startswith("named pipe (FIFO) not read")
    assert reasons["s.sock"].startswith("socket not read")
    assert reasons["dirlink"] == "directory symlink not followed"
    assert "symbolic link" in reasons["devnull"]


def test_special_files_given_directly_are_skips_not_hangs(tmp_path):
    fifo = tmp_path / "p.jsonl"
    os.mkfifo(fifo)
    done: list = []
    t = threading.Thread(target=lambda: done.append((read(fifo), read(tmp_path / "p.jsonl"),
                                                     read("/dev/zero"))), daemon=True)
    t.start()
    t.join(20)
    assert done, "reading a FIFO or /dev/zero blocked"
    (d1, s1), _, (d3, s3) = done[0]
    assert not d1 and s1[0].reason.startswith("named pipe (FIFO) not read")
    assert not d3 and s3[0].reason.startswith("character device not read")


# --- item 9 (zip and tar part): a damaged member loses only itself


def test_zip_with_a_bad_crc_member_keeps_the_intact_ones(tmp_path):
    p = tmp_path / "a.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("one.py", b"one = 1\n")
        zf.writestr("two.py", b"two = 2 # to be damaged\n")
        zf.writestr("three.py", b"three = 3\n")
    data = p.read_bytes().replace(b"to be damaged", b"TO BE DAMAGED")  # same size, wrong CRC
    p.write_bytes(data)
    docs, skips = read(p)
    assert [d.locator.split("!")[1] for d in docs] == ["one.py", "three.py"]
    assert len(skips) == 1 and skips[0].locator.endswith("!two.py") and "Bad CRC-32" in skips[0].reason

    q = tmp_path / "b.zip"
    with zipfile.ZipFile(q, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("one.py", b"one = 1\n" * 50)
        zf.writestr("two.py", bytes(random.Random(1).randbytes(4000)).hex().encode())
        zf.writestr("three.py", b"three = 3\n" * 50)
    raw = bytearray(q.read_bytes())
    with zipfile.ZipFile(q) as zf:
        info = zf.getinfo("two.py")
    start = info.header_offset + 30 + len(info.filename) + 100
    raw[start:start + 40] = b"\x00\xff" * 20  # damaged deflate stream
    q.write_bytes(bytes(raw))
    docs, skips = read(q)
    assert [d.locator.split("!")[1] for d in docs] == ["one.py", "three.py"]
    assert len(skips) == 1 and skips[0].locator.endswith("!two.py") and "damaged member" in skips[0].reason


def test_tar_with_a_damaged_header_keeps_the_members_before_and_says_so(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name in ("a.py", "b.py", "c.py"):
            data = f"{name[0]} = 1\n".encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    raw[1024 + 148: 1024 + 156] = b"99999999"  # b.py's header checksum (its header is at byte 1024)
    p = tmp_path / "a.tar"
    p.write_bytes(bytes(raw))
    docs, skips = read(p)  # a.py before the damage, c.py after it (found at its header, byte 2,048)
    assert [d.locator.split("!")[1] for d in docs] == ["a.py", "c.py"]
    assert len(skips) == 1 and "tar listing stopped at byte 1,024" in skips[0].reason
    assert "512 bytes of data were passed over and reading resumed at the next valid header, byte 2,048" \
        in skips[0].reason
    raw[2048 + 148: 2048 + 156] = b"99999999"  # c.py's too: nothing readable after the damage
    p.write_bytes(bytes(raw))
    docs, skips = read(p)
    assert [d.locator.split("!")[1] for d in docs] == ["a.py"]
    assert "hold no readable member" in skips[0].reason

    members = io.BytesIO()
    with tarfile.open(fileobj=members, mode="w") as tf:
        for i in range(30):
            data = f"v{i} = {i}\n".encode() * 200
            info = tarfile.TarInfo(f"f{i}.py")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    for suffix, full in ((".tar.gz", gzip.compress(members.getvalue(), mtime=0)),
                         (".tar.zst", zstandard.ZstdCompressor().compress(members.getvalue()))):
        for cut in (len(full) - 4, len(full) // 2):  # only the trailer lost; half lost
            p = tmp_path / f"cut{suffix}"
            p.write_bytes(full[:cut])
            docs, skips = read(p)
            assert [d.locator.split("!")[1] for d in docs] == [f"f{i}.py" for i in range(len(docs))]
            what = "gzip member" if suffix == ".tar.gz" else "zstd frame"
            assert f"the file is truncated: it ends inside a {what} at byte {cut:,}" in skips[-1].reason
    assert len(read(tmp_path / "cut.tar.gz")[0]) > 5  # half of the gzip stream gives the members in it


# --- item 10 (reader part): per-record language


def test_jsonl_records_get_a_language_from_fields_or_content(tmp_path):
    py = "import os\n\ndef main():\n    print(os.getcwd())\n\nif __name__ == '__main__':\n    main()\n"
    go = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tx := 1\n\tfmt.Println(x)\n}\n"
    rows = [{"text": py, "lang": "Python"}, {"text": go, "ext": "go"},
            {"text": go, "max_stars_repo_path": "src/m.go"}, {"text": py},
            {"text": "#!/bin/sh\necho hi\n"}, {"text": "Plain words about a class of imports.\n"},
            {"text": go, "lang": "Klingon"}]
    p = tmp_path / "a.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs, _ = read(p)
    assert [(d.language, d.meta["language_from"]) for d in docs] == [
        ("python", "field lang"), ("go", "field ext"), ("go", "field max_stars_repo_path"), ("python", "content"),
        ("shell", "content"), ("prose", "content"), ("go", "content")]
    docs, _ = read(p, language="rust")
    assert {(d.language, d.meta["language_from"]) for d in docs} == {("rust", "option")}
    q = tmp_path / "a.parquet"  # Parquet: the same fields, read as columns
    pq.write_table(pa.table({"content": [py, go, go], "lang": ["Python", None, None], "ext": [None, "go", None]}), q)
    docs, _ = read(q, text_field="content")
    assert [(d.language, d.meta["language_from"]) for d in docs] == [
        ("python", "field lang"), ("go", "field ext"), ("go", "content")]


def test_content_classifier_is_conservative_on_prose():
    prose = ("We import goods, define the class of claims, and end the matter. " * 20 +
             "\nThe function of the court is to decide.\n")
    assert language_of_content(prose) == "prose"
    assert language_of_content("#include <stdio.h>\nint main(void) {\n  printf(\"hi\");\n}\n") == "c"


# --- daily use: one decoding policy, encoding recorded


LATIN1_HEADER = "/*\n * Copyright © 2001 Jürgen Müller\n * All rights reserved.\n */\nint main(void) { return 0; }\n"


def test_latin1_code_is_decoded_and_the_encoding_recorded(tmp_path):
    p = tmp_path / "old.c"
    p.write_bytes(LATIN1_HEADER.encode("latin-1"))
    (tmp_path / "cyr.txt").write_bytes(("Привет мир, это тест кодировки. " * 10).encode("cp1251"))
    (tmp_path / "new.c").write_text(LATIN1_HEADER, encoding="utf-8")
    docs, skips = read(tmp_path)
    by = {Path(d.locator).name: d for d in docs}
    assert by["old.c"].text == LATIN1_HEADER and by["old.c"].meta["encoding"].startswith("cp1252")
    assert by["cyr.txt"].text.startswith("Привет мир") and by["cyr.txt"].meta["encoding"] == "cp1251"
    assert by["new.c"].meta["encoding"] == "utf-8" and not skips
    text, how = decode(("ok é " * 400).encode() + b"\xff", "i", "l")  # UTF-8 with a stray byte
    assert how.startswith("utf-8 (1 undecodable byte") and text.count("\ufffd") == 1

    r = runner.invoke(app, ["cmi", "scan", str(tmp_path), "--json", "--processes", "1"])
    assert r.exit_code == 0, r.output
    rows = {Path(x["path"]).name: x for x in map(json.loads, r.stdout.splitlines())}
    assert rows["old.c"]["encoding"].startswith("cp1252") and rows["new.c"]["encoding"] == "utf-8"
    assert rows["old.c"]["copyrights"][0]["holders"] == ["Jürgen Müller"]


def test_cmi_scan_opens_archives_inside_folders(tmp_path):
    folder = tmp_path / "tree"
    folder.mkdir()
    with zipfile.ZipFile(folder / "pkg.zip", "w") as zf:
        zf.writestr("src/x.c", LATIN1_HEADER.encode("latin-1"))
    r = runner.invoke(app, ["cmi", "scan", str(folder), "--json", "--processes", "1"])
    assert r.exit_code == 0, r.output
    (row,) = map(json.loads, r.stdout.splitlines())
    assert row["path"] == f"{folder}/pkg.zip!src/x.c" and row["copyrights"][0]["holders"] == ["Jürgen Müller"]


# --- issue 26, item 2: deeply nested markup costs linear time; a per-document tag budget records a Skip


def _nested_epub(path, n: int) -> None:
    container = ('<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                 '<rootfile full-path="c.opf"/></rootfiles></container>')
    opf = ('<package xmlns="http://www.idpf.org/2007/opf"><manifest><item id="a" href="a.xhtml" '
           'media-type="application/xhtml+xml"/></manifest><spine><itemref idref="a"/></spine></package>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/container.xml", container)
        zf.writestr("c.opf", opf)
        zf.writestr("a.xhtml", "<html><body><p>top</p>" + "<div>" * n + "deep text" + "</div>" * n +
                    "<p>after</p></body></html>")


def test_deeply_nested_markup_is_flattened_and_a_tag_budget_is_a_skip(tmp_path):
    from selectolax.lexbor import LexborHTMLParser

    from ascertain.readers.html import MAX_DEPTH, bounded

    n = 200_000  # a 4 KB EPUB of this took 2 min 55 s in `corpus add`
    folder = tmp_path / "corpus"
    folder.mkdir()
    _nested_epub(folder / "deep.epub", n)
    assert (folder / "deep.epub").stat().st_size < 8000
    (folder / "deep.html").write_text("<title>t</title>" + "<div><span>" * 50_000 + "x" + "</span></div>" * 50_000)
    docs, skips = read(folder)
    by_name = {d.locator.rsplit("/", 1)[-1]: d for d in docs}
    assert by_name["deep.epub"].text.split() == ["top", "deep", "text", "after"] and not skips
    assert by_name["deep.html"].text.split() == ["t", "x"]
    (folder / "tags.html").write_text("<p>" + "<b>y</b>" * 30_000)
    docs, skips = read(folder, max_markup_tags=150_000)  # deep.*: 400,000 and 200,000 tags; tags.html 60,001
    assert [d.locator.rsplit("/", 1)[-1] for d in docs] == ["tags.html"]
    assert [s.locator.rsplit("/", 1)[-1] for s in skips] == ["deep.epub", "deep.html"]
    assert "150,000 tags" in skips[0].reason and "--max-markup-tags" in skips[0].fix
    # what the parser is given nests no deeper than MAX_DEPTH (its work per end tag is bounded by the depth)
    tree = LexborHTMLParser(bounded("<div>" * 5000 + "x" + "</div>" * 5000))
    node, depth = tree.body, 0
    while node.child is not None:
        node, depth = node.child, depth + 1
    assert MAX_DEPTH <= depth <= MAX_DEPTH + 2
    # ordinary markup, sloppy or not, is given to the parser unchanged
    for page in ("<p>a<p>b<ul><li>c<li>d</ul><table><tr><td>e<td>f</table>", "<div><b>x</div>y</b>",
                 "<script>if (a<b) {'<div>'.repeat(9999)}</script><p>z"):
        assert bounded(page) is page


def test_gzipped_text_inside_a_folder_is_read(tmp_path):
    """Issue 26, item 22: `.py.gz`, `.txt.gz`, `.json.gz` in a corpus folder were skipped as binary."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    code = "def area(r):\n    return 3.14159 * r * r\n"
    (folder / "util.py.gz").write_bytes(gzip.compress(code.encode(), mtime=0))
    (folder / "notes.txt.gz").write_bytes(gzip.compress(b"Plain notes, compressed.\n", mtime=0))
    (folder / "data.json.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"a": 1}\n'))
    varied = " ".join(str(i * 7919 % 10007) for i in range(20000)).encode()
    (folder / "cut.txt.gz").write_bytes(gzip.compress(varied, mtime=0)[:2000])
    (folder / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * 3_000_000, mtime=0))
    docs, skips = read(folder, max_doc_bytes=1_000_000)
    by_name = {d.locator.rsplit("/", 1)[-1]: d for d in docs}
    assert by_name["util.py.gz"].text == code and by_name["util.py.gz"].language == "python"
    assert by_name["notes.txt.gz"].text.startswith("Plain notes") and by_name["data.json.zst"].text == '{"a": 1}\n'
    reasons = {s.locator.rsplit("/", 1)[-1]: s.reason for s in skips}
    assert set(reasons) == {"cut.txt.gz", "bomb.txt.gz"}
    assert "truncated" in reasons["cut.txt.gz"] and "1,000,000-byte limit" in reasons["bomb.txt.gz"]


def test_corpus_add_records_a_markup_budget_skip(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "ok.html").write_text("<p>" + "plain words " * 50 + "</p>")
    (folder / "tags.html").write_text("<p>" + "<b>y</b>" * 3000)
    case = tmp_path / "case"
    assert runner.invoke(app, ["init", str(case)]).exit_code == 0
    r = runner.invoke(app, ["corpus", "add", str(case), "pages", str(folder), "--max-markup-tags", "1000",
                            "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["documents"] == 1 and out["skipped"] == 1
    shown = runner.invoke(app, ["show", str(case), "--skipped"])
    assert "tags.html" in shown.stdout and "1,000 tags" in shown.stdout
