"""Every input format, and every kind of bad input: a clear Skip (or error), never a crash."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.readers import Document, ReadOptions, Skip, read_inputs

runner = CliRunner()


def read(path, **kw) -> tuple[list[Document], list[Skip]]:
    items = list(read_inputs([path], ReadOptions(**kw)))
    return [i for i in items if isinstance(i, Document)], [i for i in items if isinstance(i, Skip)]


def test_directory_skips_binaries_vcs_and_links(tmp_path, rsa_file):
    (tmp_path / "a.py").write_text(rsa_file.read_text())
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x00\x00binary")
    (tmp_path / "latin.txt").write_bytes("café crème brûlée ".encode("latin-1") * 50)
    (tmp_path / "link.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "noise.txt").write_bytes(bytes(range(128, 256)) * 8)
    docs, skips = read(tmp_path)
    assert [Path(d.locator).name for d in docs] == ["a.py", "latin.txt"]
    assert docs[0].language == "python" and docs[0].meta["encoding"] == "utf-8"
    assert docs[1].text.startswith("café crème") and docs[1].meta["encoding"].startswith("cp1252")
    reasons = {Path(s.locator).name: s.reason for s in skips}
    assert reasons["img.png"].startswith("binary")
    assert "not UTF-8" in reasons["noise.txt"] and "iconv" in [s.fix for s in skips
                                                              if s.locator.endswith("noise.txt")][0]
    assert "symbolic link" in reasons["link.py"]


def test_jsonl_plain_gz_zst_with_malformed_lines(tmp_path):
    lines = [json.dumps({"text": "first record"}), "{not json", json.dumps({"body": "no text"}),
             json.dumps([1, 2]), "", json.dumps({"text": "second record", "path": "x.py"})]
    raw = ("\n".join(lines) + "\n").encode()
    (tmp_path / "a.jsonl").write_bytes(raw)
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    for name in ("a.jsonl", "b.jsonl.gz", "c.jsonl.zst"):
        docs, skips = read(tmp_path / name)
        assert [d.text for d in docs] == ["first record", "second record"]
        assert docs[1].language == "python"
        assert [s.locator.rsplit(":", 1)[1] for s in skips] == ["2", "3", "4"]
        assert "malformed JSON" in skips[0].reason
        assert "'text' is missing" in skips[1].reason and "body" in skips[1].reason


def test_jsonl_text_field_and_oversized_line(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"content": "x" * 5000}) + "\n" + json.dumps({"content": "short"}) + "\n")
    docs, skips = read(p, text_field="content", max_doc_bytes=1000)
    assert [d.text for d in docs] == ["short"]
    assert "longer than" in skips[0].reason and skips[0].locator.endswith(":1")


def test_parquet_text_column(tmp_path):
    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"content": ["one", None, "three"], "n": [1, 2, 3]}), p)
    docs, skips = read(p, text_field="content")
    assert [d.text for d in docs] == ["one", "three"]
    assert skips[0].locator.endswith("#row2")
    docs, skips = read(p)  # no such column: a Skip for that file, not an error that stops the stream
    assert not docs and "no column 'text'" in skips[0].reason


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (0o120777 << 16)
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)


def test_zip_refuses_traversal_links_and_bombs(tmp_path):
    p = tmp_path / "a.zip"
    _zip(p, {"ok.py": b"print('hi')\n", "../../etc/evil.py": b"x=1\n", "/abs.py": b"y=2\n",
             "link": b"/etc/passwd"}, links=("link",))
    docs, skips = read(p)
    assert [d.locator.split("!")[1] for d in docs] == ["ok.py"]
    reasons = sorted(s.reason.split(":")[0] for s in skips)
    assert reasons == ["link in archive refused (links are not content and may point out of the archive)",
                       "path traversal refused", "path traversal refused"]
    bomb = tmp_path / "bomb.zip"
    _zip(bomb, {f"z{i}.txt": b"\0" * (4 << 20) for i in range(3)})
    docs, skips = read(bomb, min_bomb_bytes=1 << 20)
    assert not docs and "decompression bomb refused" in skips[-1].reason


def test_tar_gz_refuses_traversal_and_links(tmp_path):
    p = tmp_path / "a.tar.gz"
    with tarfile.open(p, "w:gz") as tf:
        for name, data in {"src/ok.py": b"def f():\n    return 1\n", "../up.py": b"x = 1\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("src/out")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
        tf.addfile(link)
    docs, skips = read(p)
    assert [d.locator.split("!")[1] for d in docs] == ["src/ok.py"]
    assert {s.reason.split(":")[0].split(" (")[0] for s in skips} == {"path traversal refused",
                                                                      "link in archive refused"}


def test_damaged_archive_is_a_skip(tmp_path):
    p = tmp_path / "broken.tar.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage")
    docs, skips = read(p)
    assert not docs and "damaged or unreadable archive" in skips[0].reason


def _repo(repo: Path) -> tuple[list[str], str]:
    """A work tree with one commit (a.py = "v = 1"): the git command to run in it, and the commit."""
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    (repo / "a.py").write_text("v = 1\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "one"], check=True)
    head = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return git, head


def test_git_repository_at_a_revision(tmp_path):
    repo = tmp_path / "repo"
    git, _ = _repo(repo)
    subprocess.run(git + ["tag", "v1"], check=True)
    (repo / "a.py").write_text("v = 2\n")
    (repo / "b.py").write_text("w = 3\n")
    subprocess.run(git + ["commit", "-qam", "two"], check=True)
    docs, _ = read(repo, rev="v1")
    assert [(d.meta["path"], d.text) for d in docs] == [("a.py", "v = 1\n")]
    with pytest.raises(AscertainError, match="rev-parse failed"):
        read(repo, rev="no-such-rev")


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(AscertainError, match="no such file"):
        read(tmp_path / "nope")


def test_tar_zst_and_tar_bomb(tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for i in range(3):
            data = b"x = 1\n" * (300_000 + i)
            info = tarfile.TarInfo(f"f{i}.py")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    p = tmp_path / "a.tar.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(raw.getvalue()))
    docs, skips = read(p)
    assert [d.locator.split("!")[1] for d in docs] == ["f0.py", "f1.py", "f2.py"] and not skips
    docs, skips = read(p, min_bomb_bytes=2_500_000, max_archive_ratio=10)
    assert len(docs) == 1 and "decompression bomb refused" in skips[-1].reason


def test_jsonl_line_that_is_not_utf8(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"text": "ok"}\n{"text": "bad \xff byte"}\n')
    docs, skips = read(p)
    assert [d.text for d in docs] == ["ok"]
    assert skips[0].locator.endswith(":2") and "UTF-8" in skips[0].reason


# --- issue 9 item 13: bare repositories; --rev that cannot apply


def test_bare_repository_is_read_through_git_at_head(tmp_path):
    repo = tmp_path / "work"
    _, head = _repo(repo)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo), str(mirror)], check=True)
    docs, skips = read(mirror)
    assert [(d.meta["path"], d.text, d.meta["commit"]) for d in docs] == [("a.py", "v = 1\n", head)]
    assert docs[0].locator == f"{mirror}@{head[:12]}:a.py" and not skips
    folder = tmp_path / "mirrors"
    folder.mkdir()
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo), str(folder / "m.git")], check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(folder / "empty.git")], check=True)
    docs, skips = read(folder)  # inside a folder too; an empty mirror is a Skip
    assert [d.meta["path"] for d in docs] == ["a.py"]
    assert [Path(s.locator).name for s in skips] == ["empty.git"]


def test_rev_is_refused_for_inputs_that_are_not_repositories(tmp_path):
    repo = tmp_path / "work"
    _, head = _repo(repo)
    (tmp_path / "f.jsonl").write_text('{"text": "x"}\n')
    for other in (tmp_path / "f.jsonl", repo / "a.py", tmp_path):
        with pytest.raises(AscertainError, match="not a git repository"):
            read_inputs([repo, other], ReadOptions(rev=head))  # refused before anything is read
    with pytest.raises(AscertainError, match="rev-parse failed"):
        read_inputs([repo], ReadOptions(rev="no-such-rev"))
    docs, _ = read(repo, rev=head)
    assert [d.meta["path"] for d in docs] == ["a.py"]
    case = str(tmp_path / "case")
    assert runner.invoke(app, ["init", case]).exit_code == 0
    r = runner.invoke(app, ["corpus", "add", case, "c", str(tmp_path / "f.jsonl"), "--rev", head])
    assert r.exit_code == 2 and "not a git repository" in r.output
    shown = json.loads(runner.invoke(app, ["show", case, "--json"]).stdout)
    assert shown["sources"] == []  # refused before the source was recorded
