"""The keyed exchange for a neutral expert (Rule 53), end to end through the CLI, with three separate case folders:
the master (holds the key), the defendant (holds the corpus and the key), the plaintiffs (hold their works only).
Real data: the demo corpus and works, with their planted copies."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.exchange.request import request_mac
from ascertain.fingerprint.keyed import key_check, keyed_locator
from ascertain.readers import Document, ReadOptions, read_inputs
from ascertain.sources import list_sources

runner = CliRunner()


def run(*args: str, code: int = 0):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == code, r.output
    return r


def ok_json(*args: str) -> dict:
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture(scope="module")
def ex(tmp_path_factory, data: Path) -> dict:
    """Every party's step, once: key, keyed index and export (defendant), import, match and request (master),
    production (defendant), and the clear comparison of the produced documents (plaintiffs)."""
    root = tmp_path_factory.mktemp("exchange")
    key = root / "master" / "case.key"
    key.parent.mkdir()
    made = ok_json("key", "new", key)
    # the defendant: its corpus on its own machine, indexed keyed and text-less in its own case folder
    corpus = root / "defendant-data" / "corpus"
    shutil.copytree(data / "corpus", corpus)
    run("init", root / "defendant")
    run("corpus", "add", root / "defendant", "crawl", corpus, "--key-file", key, "--no-text")
    package = root / "outbox" / "crawl.tar"
    package.parent.mkdir()
    exported = ok_json("corpus", "export", root / "defendant", "crawl", package)
    # the plaintiffs: their works in their own case folder
    works = root / "plaintiffs-data"
    shutil.copytree(data / "works", works / "works")
    shutil.copy(data / "works.csv", works / "works.csv")
    run("init", root / "plaintiffs")
    run("works", "import", root / "plaintiffs", works / "works.csv")
    # the master: the plaintiffs' works (from their files) and the defendant's package, matched on keyed hashes
    run("init", root / "master" / "case")
    run("works", "import", root / "master" / "case", works / "works.csv")
    imported = ok_json("corpus", "import", root / "master" / "case", package, "--key-file", key)
    matched = ok_json("match", root / "master" / "case", "--key-file", key)
    request = root / "master" / "request.json"
    requested = ok_json("corpus", "request", root / "master" / "case", "crawl", request, "--key-file", key)
    # the defendant produces exactly the requested documents
    production = root / "production"
    produced = ok_json("corpus", "produce", root / "defendant", "crawl", request, production, corpus,
                       "--key-file", key)
    # the master checks each produced file against the keyed digests of the documents it matched
    received = ok_json("corpus", "check-production", root / "master" / "case", "crawl", production, "--key-file", key)
    # the plaintiffs (or the master) compare the produced documents in the clear
    run("corpus", "add", root / "plaintiffs", "produced", production / "documents")
    clear = ok_json("match", root / "plaintiffs")
    return {"root": root, "key": key, "made": made, "corpus": corpus, "package": package, "exported": exported,
            "imported": imported, "matched": matched, "request": request, "requested": requested,
            "production": production, "produced": produced, "received": received, "clear": clear, "data": data}


def planted(ex: dict) -> dict[str, str]:
    """keyed locator -> plain locator of the demo corpus's planted copies, computed independently with the key."""
    names = {p["document"] for p in json.loads((ex["data"] / "planted.json").read_text()) if p["source"] == "corpus"}
    key = ex["key"].read_bytes()
    out = {}
    for n, item in enumerate(read_inputs([str(ex["corpus"])], ReadOptions())):
        rel = os.path.relpath(item.locator, ex["corpus"])
        if isinstance(item, Document) and rel in names:
            out[keyed_locator(key, item.locator, 0, n)] = item.locator
    assert len(out) == len(names) == 5
    return out


def test_key_is_new_private_and_shown_only_by_its_check(ex):
    key = ex["key"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    shown = run("key", "check", key).stdout
    assert key_check(key.read_bytes()) in shown and ex["made"]["key_check"] in shown
    assert key.read_bytes().hex() not in shown + json.dumps(ex["made"])
    before = key.read_bytes()
    r = run("key", "new", key, code=2)
    assert "never overwritten" in r.output and key.read_bytes() == before


def test_planted_copies_are_found_on_keyed_hashes_and_requested_exactly(ex):
    want = planted(ex)
    report = json.loads(Path(ex["matched"]["report"]).read_bytes())
    assert report["manifest"]["parameters"]["fingerprint"]["keyed"] is True
    copied = {r["doc_locator"] for r in report["evidence"] if r["copied"]}
    assert copied == set(want)  # found, and nothing else decided copied
    req = json.loads(ex["request"].read_bytes())
    assert {d["locator"] for d in req["documents"]} == set(want) and ex["requested"]["documents"] == 5
    assert all(set(d) == {"doc_id", "locator", "sha256", "works"} for d in req["documents"])
    assert all(set(w) == {"work_id", "title", "claimant", "copied", "own_coverage", "longest_run_tokens"}
               for d in req["documents"] for w in d["works"])
    assert not any(want[d["locator"]] in json.dumps(req) for d in req["documents"])  # no plain locator
    # the imported source is keyed, complete, and names the package it came from
    src = next(s for s in list_sources(Case.open(ex["root"] / "master" / "case")) if s["name"] == "crawl")
    assert src["keyed"] and src["status"] == "complete" and src["documents"] == ex["exported"]["documents"] == 16
    assert ex["imported"]["package_sha256"] == ex["exported"]["sha256"]
    assert "pkg" not in ex["imported"]["receipt"] and "crawl.tar.sha256" in ex["imported"]["receipt"]


def test_produced_documents_are_exactly_the_requested_and_byte_identical(ex):
    want = planted(ex)
    prod = json.loads((ex["production"] / "production.json").read_bytes())
    assert {d["keyed_locator"]: d["locator"] for d in prod["documents"]} == want
    files = sorted(p.name for p in (ex["production"] / "documents").iterdir())
    assert files == sorted(Path(d["file"]).name for d in prod["documents"]) and len(files) == 5
    second = json.loads((ex["corpus"] / "scraped.jsonl").read_text().splitlines()[1])
    for d in prod["documents"]:
        written = (ex["production"] / d["file"]).read_bytes()
        assert hashlib.sha256(written).hexdigest() == d["sha256"] and d["as_indexed"]
        if d["form"] == "file":
            assert written == Path(d["locator"]).read_bytes()
        else:  # the JSONL record scraped.jsonl:2: its text, as UTF-8
            assert d["locator"].endswith("scraped.jsonl:2")
            assert written == second["text"].encode("utf-8")
    assert prod["request_sha256"] == hashlib.sha256(ex["request"].read_bytes()).hexdigest()
    # in the clear, the plaintiffs' case finds every produced document a copy of its work
    assert ex["clear"]["copied"] == 5
    assert ex["received"]["verified"] and ex["received"]["documents"] == 5


def test_a_substituted_or_extra_produced_document_is_caught_by_the_master(ex, tmp_path):
    prod = tmp_path / "production"
    shutil.copytree(ex["production"], prod)
    first = sorted((prod / "documents").iterdir())[1]
    first.write_bytes(first.read_bytes() + b"\n# changed\n")
    (prod / "documents" / "000099-extra.py").write_text("print('not requested')\n")
    r = run("corpus", "check-production", ex["root"] / "master" / "case", "crawl", prod, "--key-file", ex["key"],
            code=1)
    assert f"DIFFERS documents/{first.name}: not the document" in r.output and "000099-extra.py: not listed" in r.output
    assert "NOT verified" in r.output


def _members(package: Path) -> dict[str, bytes]:
    with tarfile.open(package) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_package_holds_no_corpus_text_and_no_plain_digest(ex):
    docs = [d for d in read_inputs([str(ex["corpus"])], ReadOptions()) if isinstance(d, Document)]
    assert len(docs) == 16
    members = _members(ex["package"])
    assert set(members) == {"package.json", *(f["path"] for f in json.loads(members["package.json"])["files"])}
    values = []  # every value of every Parquet column, decoded (the raw bytes are compressed)
    for name, raw in members.items():
        if name.endswith(".parquet"):
            for col in pq.read_table(io.BytesIO(raw)).columns:
                values += [str(v) for v in col.to_pylist()]
    strings = "\n".join(values)
    raw = ex["package"].read_bytes() + b"".join(members.values())
    for d in docs:
        line = max(d.text.splitlines(), key=lambda s: len(s.strip())).strip()
        assert len(line) >= 20
        assert line.encode() not in raw and line not in strings, (d.locator, line)
        digest = hashlib.sha256(d.text.encode("utf-8")).hexdigest()
        for secret in (d.sha256, digest):
            assert secret.encode() not in raw and bytes.fromhex(secret) not in raw and secret not in strings
        assert os.path.relpath(d.locator, ex["corpus"]).encode() not in raw
    file_digest = hashlib.sha256((ex["corpus"] / "scraped.jsonl").read_bytes()).hexdigest()
    assert file_digest.encode() not in raw and str(ex["corpus"]).encode() not in raw
    # the key is in no file the exchange writes
    key = ex["key"].read_bytes()
    for path in (ex["package"], ex["request"], ex["production"] / "production.json"):
        assert key not in path.read_bytes() and key.hex().encode() not in path.read_bytes()


def test_wrong_key_is_refused_at_import_and_at_produce(ex, tmp_path):
    wrong = tmp_path / "other.key"
    run("key", "new", wrong)
    master = ex["root"] / "master" / "case"
    r = run("corpus", "import", master, ex["package"], "--key-file", wrong, "--name", "again", code=2)
    assert "another key" in r.output and "key check" in r.output
    assert [s["name"] for s in list_sources(Case.open(master))] == ["crawl"]
    assert not (master / "index" / "again").exists() and not list((master / "index").glob(".import-*"))
    defendant = ex["root"] / "defendant"
    # the defendant's own key is not the one the request was made with: refused before anything is read
    r = run("corpus", "produce", defendant, "crawl", ex["request"], tmp_path / "p1", ex["corpus"],
            "--key-file", wrong, code=2)
    assert "not the key the source was indexed with" in r.output and not (tmp_path / "p1").exists()
    # a request made (and authenticated) with another key
    req = json.loads(ex["request"].read_bytes())
    body = {k: v for k, v in req.items() if k != "mac"}
    body["key_check"] = key_check(wrong.read_bytes())
    other = tmp_path / "other-request.json"
    other.write_text(json.dumps({**body, "mac": request_mac(wrong.read_bytes(), body)}))
    r = run("corpus", "produce", defendant, "crawl", other, tmp_path / "p2", ex["corpus"], "--key-file", ex["key"],
            code=2)
    assert "made with another key" in r.output and not (tmp_path / "p2").exists()
    # a request altered after the master wrote it (one more locator asked for)
    body = {k: v for k, v in req.items() if k != "mac"}
    body["documents"] = [*body["documents"], {**body["documents"][0], "doc_id": 0,
                                              "locator": "keyed:0:0:0000000000000000"}]
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps({**body, "mac": req["mac"]}))
    r = run("corpus", "produce", defendant, "crawl", altered, tmp_path / "p3", ex["corpus"], "--key-file", ex["key"],
            code=2)
    assert "MAC does not verify" in r.output and not (tmp_path / "p3").exists()
    # other inputs than the indexed ones cannot be produced from
    r = run("corpus", "produce", defendant, "crawl", ex["request"], tmp_path / "p4", ex["data"] / "works",
            "--key-file", ex["key"], code=2)
    assert "is not input 1 the source was indexed from" in r.output and not (tmp_path / "p4").exists()


def _hostile(path: Path, ex: dict, member: tarfile.TarInfo, data: bytes = b"", listed: bool = True,
             sha256: str | None = None) -> Path:
    """The real package's header (listing the hostile member too) followed by one hostile member."""
    header = json.loads(_members(ex["package"])["package.json"])
    if listed:
        header["files"].append({"path": member.name, "bytes": member.size,
                                "sha256": sha256 or hashlib.sha256(data).hexdigest()})
    raw = json.dumps(header).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("package.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
        tar.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, b""


@pytest.mark.parametrize(("case", "expected"), [
    ("traversal", "outside the package's index/ folder"),
    ("absolute", "outside the package's index/ folder"),
    ("symlink", "is a symbolic link"),
    ("hardlink", "is a hard link"),
    ("huge", "more than the 1,000 allowed"),
    ("unlisted", "is not listed in package.json"),
    ("altered", "SHA-256 is not the one package.json lists"),
    ("gzip", "not an uncompressed tar package"),
    ("damaged", "(damaged or altered in transit)"),
])
def test_hostile_package_is_refused(ex, tmp_path, case, expected):
    master = ex["root"] / "master" / "case"
    bad = tmp_path / "bad.tar"
    if case == "traversal":
        _hostile(bad, ex, *_file("index/../../../escaped.txt", b"x"))
    elif case == "absolute":
        _hostile(bad, ex, *_file(str(tmp_path / "escaped.txt"), b"x"))
    elif case == "symlink":
        _hostile(bad, ex, *_link("index/manifest.json", "/etc/passwd", tarfile.SYMTYPE))
    elif case == "hardlink":
        _hostile(bad, ex, *_link("index/fp.parquet", "/etc/passwd", tarfile.LNKTYPE))
    elif case == "huge":
        _hostile(bad, ex, *_file("index/big.parquet", b"\0" * 5000))
    elif case == "unlisted":
        _hostile(bad, ex, *_file("index/extra.parquet", b"x"), listed=False)
    elif case == "altered":
        _hostile(bad, ex, *_file("index/extra.parquet", b"x"), sha256="0" * 64)
    elif case == "gzip":
        with tarfile.open(bad, "w:gz") as tar:
            tar.add(ex["package"], arcname="package.json")
    elif case == "damaged":
        shutil.copy(ex["package"], bad)
        shutil.copy(str(ex["package"]) + ".sha256", str(bad) + ".sha256")
        raw = bytearray(bad.read_bytes())
        raw[-2000] ^= 1
        bad.write_bytes(bytes(raw))
    r = run("corpus", "import", master, bad, "--key-file", ex["key"], "--name", "hostile", "--max-file-bytes",
            "1000", code=2)
    assert expected in r.output and str(bad) in r.output and "fix:" in r.output
    assert [s["name"] for s in list_sources(Case.open(master))] == ["crawl"]
    assert not (master / "index" / "hostile").exists() and not list((master / "index").glob(".import-*"))
    assert not (tmp_path / "escaped.txt").exists() and not (ex["root"] / "escaped.txt").exists()


def test_a_source_with_text_or_not_keyed_is_not_exported(ex, tmp_path):
    case = tmp_path / "plain"
    run("init", case)
    run("corpus", "add", case, "open", ex["data"] / "corpus" / "vendor")
    r = run("corpus", "export", case, "open", tmp_path / "open.tar", code=2)
    assert "not a complete keyed, text-less index" in r.output and "it is not keyed" in r.output
    assert "--no-text" in r.output and not (tmp_path / "open.tar").exists()
    assert not list(tmp_path.glob(".open.tar*"))
    r = run("corpus", "export", ex["root"] / "defendant", "crawl", ex["package"], code=2)  # never written over
    assert "never written over" in r.output
    assert hmac.compare_digest(hashlib.sha256(ex["package"].read_bytes()).hexdigest(), ex["exported"]["sha256"])


def test_export_leaves_out_what_a_match_run_caches_beside_the_index(ex, tmp_path):
    """A defendant who matched against its own index has index/NAME/cache/ (CMI scans): derived data, not
    part of the index, so the export neither refuses it nor carries it."""
    cache = ex["root"] / "defendant" / "index" / "crawl" / "cache"
    cache.mkdir()
    (cache / "cmi.sqlite").write_bytes(b"derived")
    try:
        ok_json("corpus", "export", ex["root"] / "defendant", "crawl", tmp_path / "again.tar")
        assert _members(tmp_path / "again.tar") == _members(ex["package"])
    finally:
        shutil.rmtree(cache)


def _repack(ex: dict, path: Path, manifest_edit=None, header_edit=None) -> Path:
    """The real package with its index manifest (and package.json) edited, listed sizes and digests made to
    agree: what a sender who lies in the manifest would send."""
    members = _members(ex["package"])
    header = json.loads(members.pop("package.json"))
    if manifest_edit:
        manifest = json.loads(members["index/manifest.json"])
        manifest_edit(manifest)
        members["index/manifest.json"] = json.dumps(manifest).encode()
    if header_edit:
        header_edit(header)
    header["files"] = [{"path": n, "bytes": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                       for n, d in members.items()]
    with tarfile.open(path, "w") as tar:
        for name, data in [("package.json", json.dumps(header).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(("case", "expected"), [
    ("foreign-documents", "names documents_file"),
    ("dotdot-lookup", "lookup table '../../../plaintiffs/index/produced/lk-fp-0000'"),
    ("lying-documents", "says 999999 documents, its file holds 16"),
    ("lying-total", "says 999999 documents, its shards hold 16"),
    ("lying-header", "its counts"),
    ("truncated", "is truncated or damaged"),
])
def test_a_package_may_name_only_its_own_files_and_its_counts_must_be_true(ex, tmp_path, case, expected):
    """Issue 26, item 7: an absolute documents_file pointing at another case's plain index was accepted (and
    `match` then recorded that case's plain locators); a '..' lookup path crashed `match`; lying counts passed;
    a truncated package without its .sha256 gave a traceback."""
    master = ex["root"] / "master" / "case"
    plain_docs = ex["root"] / "plaintiffs" / "index" / "produced" / "docs-00000.parquet"
    assert plain_docs.is_file()
    bad = tmp_path / "bad.tar"

    def shard(key, value):
        return lambda m: m["shards"][0].__setitem__(key, value)

    if case == "foreign-documents":
        _repack(ex, bad, shard("documents_file", str(plain_docs)))
    elif case == "dotdot-lookup":
        _repack(ex, bad, lambda m: m["lookup"]["files"].__setitem__(
            "fp", ["../../../plaintiffs/index/produced/lk-fp-0000"]))
    elif case == "lying-documents":
        _repack(ex, bad, lambda m: (m["shards"][0].__setitem__("documents", 999999),
                                    m.__setitem__("documents", 999999)),
                lambda h: h["counts"].__setitem__("documents", 999999))
    elif case == "lying-total":
        _repack(ex, bad, lambda m: m.__setitem__("documents", 999999),
                lambda h: h["counts"].__setitem__("documents", 999999))
    elif case == "lying-header":
        _repack(ex, bad, None, lambda h: h["counts"].__setitem__("documents", 999999))
    else:
        raw = ex["package"].read_bytes()
        bad.write_bytes(raw[: len(raw) // 2])  # cut in transit, and no .sha256 beside it
    r = run("corpus", "import", master, bad, "--key-file", ex["key"], "--name", "liar", code=2)
    assert expected in r.output and "Traceback" not in r.output, r.output
    assert [s["name"] for s in list_sources(Case.open(master))] == ["crawl"]
    assert not (master / "index" / "liar").exists() and not list((master / "index").glob(".import-*"))


def test_the_package_document_table_no_longer_names_files_by_size(ex, tmp_path):
    """Issue 26, item 8: exact byte and token counts in the package joined against a plain index of candidate
    files identified 14 of 16 corpus documents. Now no bytes travel and tokens only as power-of-two buckets."""
    members = _members(ex["package"])
    docs = pq.read_table(io.BytesIO(next(v for k, v in members.items() if "/docs-" in k))).to_pylist()
    assert docs and all(d["bytes"] == 0 for d in docs)
    assert all(d["tokens"] & (d["tokens"] - 1) == 0 for d in docs)  # powers of two (or 0)
    run("init", tmp_path / "outsider")  # the attack: a plain index of the candidate files, joined on sizes
    run("corpus", "add", tmp_path / "outsider", "candidates", ex["corpus"], ex["data"] / "works")
    outsider = Case.open(tmp_path / "outsider")
    index_dir = outsider.index_dir / "candidates"
    cands = pq.read_table(sorted(index_dir.glob("docs-*.parquet")), columns=["sha256", "tokens", "bytes"]
                          ).to_pylist()
    key = ex["key"].read_bytes()
    from ascertain.fingerprint.keyed import keyed_sha256
    from ascertain.index.shards import size_bucket

    exact = unique = 0
    for d in docs:
        truth = [c for c in cands if keyed_sha256(key, c["sha256"]) == d["sha256"]]
        same_bucket = [c for c in cands if size_bucket(c["tokens"]) == d["tokens"]]
        exact += bool(truth)
        unique += len(same_bucket) == 1 and same_bucket[0] in truth
    assert exact >= 14 and unique <= 2, (exact, unique)
