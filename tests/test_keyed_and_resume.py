"""Keyed mode (key check, nothing plain in a keyed index), evidence never emptied silently, resume over changed
inputs, inputs that are not regular files, failed indexing, removing a source: on the demo data."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.fingerprint.keyed import keyed_sha256
from ascertain.fingerprint.minhash import signatures
from ascertain.fingerprint.winnow import Params, fingerprint_batch
from ascertain.index import shards
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import Document, ReadOptions, read_inputs
from ascertain.sources import add_source, describe_inputs, list_sources, remove_source
from ascertain.store import schema
from ascertain.works import import_manifest

runner = CliRunner()
RECORDS = [  # metadata a keyed index must not keep
    {"title": "Quidditch Through The Ages Unique Title", "url": "https://example.org/leaked-url-7f3a",
     "author": "Ann Uniquename-Author", "path": "secret_dir/harry_potter_1.txt"},
    {"title": "Second Record Title Zq", "url": "https://example.org/other-url-9c1b",
     "author": "Bob Otherauthor", "path": "vendored/rsa_randnum_copy.py"},
]


def ok(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


def corpus_copy(tmp_path: Path, data: Path) -> Path:
    """The demo corpus plus a JSONL of records with titles, URLs, authors and paths."""
    corpus = tmp_path / "corpus"
    shutil.copytree(data / "corpus", corpus)
    texts = [(data / "works" / "python-rsa" / "randnum.py").read_text(),
             (data / "works" / "boto3" / "utils.py").read_text()]
    with open(corpus / "library.jsonl", "w") as fh:
        for rec, text in zip(RECORDS, texts, strict=True):
            fh.write(json.dumps({**rec, "text": text}) + "\n")
    return corpus


def keyed_case(tmp_path: Path, data: Path) -> tuple[str, Path, Path]:
    key = tmp_path / "case.key"
    key.write_bytes(bytes(range(32)))
    corpus = corpus_copy(tmp_path, data)
    case = str(tmp_path / "case")
    ok("init", case)
    ok("works", "import", case, str(data / "works.csv"))
    ok("corpus", "add", case, "secret", str(corpus), "--key-file", str(key))
    return case, key, corpus


def evidence_count(case: str) -> int:
    with Case.open(Path(case)).store.engine.connect() as c:
        return c.execute(select(func.count()).select_from(schema.evidence)).scalar_one()


def test_wrong_key_is_refused_before_anything_is_touched(tmp_path, data):
    case, key, _ = keyed_case(tmp_path, data)
    first = json.loads(ok("match", case, "--key-file", str(key), "--json"))
    assert first["copied"] == 7  # the five planted copies and the two records of library.jsonl
    report = Path(first["report"])
    before, stored = report.read_bytes(), evidence_count(case)
    assert stored == first["evidence"] > 0
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(bytes(range(1, 33)))
    r = runner.invoke(app, ["match", case, "--key-file", str(wrong)])
    assert r.exit_code == 2
    assert "secret" in r.output and "not the key the keyed index was built with" in r.output
    assert "--key-file" in r.output  # the fix
    assert report.read_bytes() == before and evidence_count(case) == stored  # nothing written, nothing lost
    manifest = json.loads((tmp_path / "case" / "index" / "secret" / "manifest.json").read_text())
    assert len(manifest["key_check"]) == 64 and key.read_bytes().hex() not in json.dumps(manifest)
    # the evidence manifest of a keyed run says so
    assert json.loads(report.read_bytes())["manifest"]["parameters"]["fingerprint"]["keyed"] is True
    # resuming or re-adding with another key is refused, naming the key
    with pytest.raises(AscertainError, match="another key"):
        shards.IndexWriter(tmp_path / "case" / "index" / "secret", Params(keyed=True),
                           manifest["inputs"], manifest["reading"], store_text=False,
                           key=wrong.read_bytes()).open()


def test_match_never_replaces_stored_evidence_with_nothing_silently(tmp_path, data):
    case = Case.init(tmp_path / "case")
    import_manifest(case, str(data / "works.csv"))
    # a partial copy inside a long unrelated file: found by its spans only (no whole-document near-duplicate)
    work = (data / "works" / "python-rsa" / "randnum.py").read_text().splitlines(keepends=True)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "mixed.py").write_text((data / "corpus" / "unrelated" / "six.py").read_text()
                                                  + "".join(work[20:70]))
    add_source(case, "corpus", "corpus", [str(tmp_path / "corpus")], ReadOptions())
    full = run_match(case, MatchOptions())
    report = tmp_path / "case" / "reports" / "evidence.json"
    before, stored = report.read_bytes(), evidence_count(str(case.root))
    assert full["evidence"] == stored > 0
    starved = MatchOptions(max_hash_hits=0)  # no fingerprint may seed: this run finds nothing
    with pytest.raises(AscertainError, match=rf"store holds {stored} record\(s\) for corpus") as e:
        run_match(case, starved)
    assert "--allow-empty" in e.value.fix
    assert report.read_bytes() == before and evidence_count(str(case.root)) == stored
    emptied = run_match(case, MatchOptions(max_hash_hits=0, allow_empty=True))  # said explicitly: allowed
    assert emptied["evidence"] == 0 and evidence_count(str(case.root)) == 0


def _all_index_strings(index_dir: Path) -> tuple[bytes, str]:
    raw = b"".join(p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file())
    values = []
    for p in sorted(index_dir.glob("*.parquet")):
        for col in pq.read_table(p).columns:
            values += [str(v) for v in col.to_pylist()]
    return raw, "\n".join(values)


def test_keyed_index_holds_nothing_plain(tmp_path, data):
    case, key, corpus = keyed_case(tmp_path, data)
    k = key.read_bytes()
    index_dir = tmp_path / "case" / "index" / "secret"
    docs = [d for d in read_inputs([str(corpus)], ReadOptions()) if isinstance(d, Document)]
    assert len(docs) == 18
    secrets = {d.sha256 for d in docs}  # plain digests of documents and of input files
    secrets |= {e["sha256"] for e in describe_inputs([str(corpus / "library.jsonl")])}
    secrets |= {str(v) for d in docs for name, v in d.meta.items() if name != "bytes"}  # titles, URLs, ...
    secrets |= {v for r in RECORDS for v in r.values()} | {"rec-1", "boto3_compat.py"}
    for d in docs:  # plain locators, relative paths and file names of the corpus inputs
        rel = os.path.relpath(d.locator, corpus)
        secrets |= {d.locator, rel, Path(d.locator.split(":")[0]).name}
    secrets |= {str(corpus), "scraped.jsonl", "library.jsonl", "vendor", "unrelated"}
    raw, strings = _all_index_strings(index_dir)
    for s in sorted(secrets):
        assert s.encode() not in raw, s
        assert s not in strings, s
    # what a keyed index does hold instead: keyed digests, and locators that map back by ordinal
    table = pq.read_table(index_dir / "docs-00000.parquet").to_pylist()
    assert {r["sha256"] for r in table} == {keyed_sha256(k, d.sha256) for d in docs}
    assert all(r["locator"].startswith("keyed:0:") and r["meta"] == "{}" and r["language"] == "" for r in table)
    assert all(r["text"] is None for r in table)
    # the store rows for this source: sources, skips, audit and evidence hold no plain value either
    ok("match", case, "--key-file", str(key))
    store = Case.open(Path(case)).store
    with store.engine.connect() as c:
        sid = c.execute(select(schema.sources.c.id).where(schema.sources.c.name == "secret")).scalar_one()
        rows = [dict(r) for r in c.execute(select(schema.sources).where(schema.sources.c.id == sid)).mappings()]
        rows += [dict(r) for r in c.execute(select(schema.skipped).where(schema.skipped.c.source == "secret"))
                 .mappings()]
        rows += [dict(r) for r in c.execute(select(schema.audit_log)).mappings()
                 if r["detail"].get("source") == "secret"]
        evidence = [r["doc_locator"] for r in c.execute(select(schema.evidence).where(
            schema.evidence.c.source_id == sid)).mappings()]
    assert len(rows) >= 3 and evidence
    dumped = json.dumps(rows, default=str) + "\n".join(evidence)
    for s in sorted(secrets):
        assert s not in dumped, s
    # MinHash signatures of a keyed index are computed over the keyed fingerprints
    mh = pq.read_table(index_dir / "mh-00000.parquet").to_pylist()
    texts = [d.text for d in docs]
    langs = [d.language for d in docs]  # `corpus add` indexes at level auto: each document at its own level
    keyed_b = fingerprint_batch(texts, Params(keyed=True, level="auto"), k, langs)
    plain_b = fingerprint_batch(texts, Params(level="auto"), None, langs)
    want = signatures(keyed_b.hashes, keyed_b.doc, len(texts))
    plain = signatures(plain_b.hashes, plain_b.doc, len(texts))
    assert mh and all(np.array_equal(np.frombuffer(r["sig"], "<u4"), want[r["doc"]]) for r in mh)
    assert not any(np.array_equal(np.frombuffer(r["sig"], "<u4"), plain[r["doc"]]) for r in mh)


class Boom(Exception):
    pass


def _interrupting(after_batches: int):
    calls = {"n": 0}

    def on_progress(n: int, nbytes: int) -> None:
        calls["n"] += 1
        if calls["n"] > after_batches:
            raise Boom()

    return on_progress


@pytest.fixture
def small_shards(monkeypatch):
    """Shards of 4 documents, so that the demo corpus makes several and an interruption leaves some."""
    monkeypatch.setattr("ascertain.sources.IndexWriter", functools.partial(shards.IndexWriter, shard_docs=4))


def _index_bytes(root: Path, name: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "index" / name).iterdir()) if p.is_file()}


def test_resume_over_a_changed_folder_is_refused(tmp_path, data, small_shards):
    corpus = corpus_copy(tmp_path, data)
    case = Case.init(tmp_path / "case")
    with pytest.raises(Boom):
        add_source(case, "c", "corpus", [str(corpus)], ReadOptions(), on_progress=_interrupting(2))
    assert len(json.loads((tmp_path / "case" / "index" / "c" / "manifest.json").read_text())["shards"]) == 2
    (corpus / "unrelated" / "added_later.py").write_text("def added():\n    return 'a file added after'\n")
    with pytest.raises(AscertainError, match="other inputs or parameters") as e:
        add_source(case, "c", "corpus", [str(corpus)], ReadOptions())
    assert "content or listing of " + str(corpus) in e.value.problem and "sources remove" in e.value.fix
    # a file changed in place (same size, same listing) inside a finished shard: also refused
    (corpus / "unrelated" / "added_later.py").unlink()
    first = sorted((corpus / "scraped.jsonl",))[0]
    body = first.read_bytes()
    first.write_bytes(body.replace(b"quick brown fox", b"quick brown cat", 1))
    with pytest.raises(AscertainError, match="inputs changed since the interrupted run"):
        add_source(case, "c", "corpus", [str(corpus)], ReadOptions())
    first.write_bytes(body)
    # unchanged: resumes, and gives the bytes a fresh run gives
    resumed = add_source(case, "c", "corpus", [str(corpus)], ReadOptions())
    assert resumed["documents"] == 18 and "inputs changed" in resumed["resumed_after"]  # the last attempt
    fresh = Case.init(tmp_path / "fresh")
    add_source(fresh, "c", "corpus", [str(corpus)], ReadOptions())
    assert _index_bytes(tmp_path / "case", "c") == _index_bytes(tmp_path / "fresh", "c")


def test_failed_indexing_is_logged_and_named_by_match(tmp_path, data, small_shards):
    case = Case.init(tmp_path / "case")
    import_manifest(case, str(data / "works.csv"))
    with pytest.raises(Boom):
        add_source(case, "c", "corpus", [str(data / "corpus")], ReadOptions(), on_progress=_interrupting(1))
    with case.store.engine.connect() as c:
        status = c.execute(select(schema.sources.c.status)).scalar_one()
        failed = c.execute(select(schema.audit_log.c.detail).where(schema.audit_log.c.ok.is_(False))).scalars().all()
    assert status == "indexing" and failed[-1]["source"] == "c" and failed[-1]["error"].startswith("Boom")
    assert list_sources(case)[0]["last_failure"].startswith("Boom")
    with pytest.raises(AscertainError, match="indexing did not finish \\(last attempt: c: Boom") as e:
        run_match(case, MatchOptions())
    assert "resume" in e.value.fix and "sources remove" in e.value.fix
    assert add_source(case, "c", "corpus", [str(data / "corpus")], ReadOptions())["documents"] == 16
    assert run_match(case, MatchOptions())["copied"] == 5


@pytest.mark.parametrize("kind", ["fifo", "chardev"])
def test_inputs_that_are_not_regular_files_are_refused_unopened(tmp_path, data, kind):
    if kind == "fifo":
        special = tmp_path / "pipe"
        os.mkfifo(special)  # opening it for reading would block forever: it must not be opened
    else:
        special = Path("/dev/zero")  # reading it never ends
    case = str(tmp_path / "case")
    ok("init", case)
    r = runner.invoke(app, ["corpus", "add", case, "x", str(data / "corpus" / "vendor"), str(special)])
    assert r.exit_code == 2 and str(special) in r.output
    assert ("FIFO" if kind == "fifo" else "character device") in r.output and "regular file" in r.output
    assert not (tmp_path / "case" / "index" / "x").exists() and list_sources(Case.open(Path(case))) == []
    r = runner.invoke(app, ["outputs", "add", case, "o", str(special)])
    assert r.exit_code == 2 and "regular file" in r.output
    link = tmp_path / "link.py"  # a symbolic link to a regular file is a regular input
    link.symlink_to(data / "corpus" / "vendor" / "randnum.py")
    assert json.loads(ok("corpus", "add", case, "y", str(link), "--json"))["documents"] == 1


def test_remove_source_and_add_it_again(tmp_path, data):
    case = str(tmp_path / "case")
    ok("init", case)
    ok("works", "import", case, str(data / "works.csv"))
    ok("corpus", "add", case, "corpus", str(data / "corpus"))
    ok("outputs", "add", case, "outputs", str(data / "outputs.jsonl"))
    ok("match", case)
    r = runner.invoke(app, ["corpus", "add", case, "corpus", str(data / "corpus")])
    assert r.exit_code == 2 and f"ascertain sources remove {case} corpus" in r.output
    c = Case.open(Path(case))
    listed = {s["name"]: s for s in list_sources(c)}
    assert listed["corpus"]["status"] == "complete" and listed["corpus"]["evidence"] > 0
    counts = remove_source(c, "outputs")
    assert counts["outputs"] == 3 and counts["evidence"] == listed["outputs"]["evidence"] > 0
    assert counts["index_removed"] and not (tmp_path / "case" / "index" / "outputs").exists()
    assert [s["name"] for s in list_sources(c)] == ["corpus"]
    with c.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.outputs)).scalar_one() == 0
        last = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.id.desc())).mappings().first()
    assert last["action"] == "sources remove" and last["detail"]["source"] == "outputs"
    with pytest.raises(AscertainError, match="no such source"):
        remove_source(c, "outputs")
    ok("outputs", "add", case, "outputs", str(data / "outputs.jsonl"))
    assert json.loads(ok("match", case, "--json"))["copied"] == 7


def test_outputs_with_no_documents_say_so(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    case = Case.init(tmp_path / "case")
    assert add_source(case, "o", "outputs", [str(empty)], ReadOptions())["documents"] == 0
