"""The stages as a user runs them: init, works, corpus, outputs, match, show; resume; keyed mode."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.index.shards import IndexWriter
from ascertain.readers import ReadOptions, read_inputs
from ascertain.sources import add_source

runner = CliRunner()


def ok(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


def test_end_to_end_cli(tmp_path, data):
    case = str(tmp_path / "case")
    ok("init", case)
    ok("works", "import", case, str(data / "works.csv"))
    ok("works", "add", case, "--claimant", "Someone", str(data / "corpus" / "unrelated" / "six.py"))
    added = json.loads(ok("corpus", "add", case, "corpus", str(data / "corpus"), "--json"))
    assert added["documents"] == 16 and added["skipped"] == 1
    assert added["skip_reasons"] == {"malformed JSON": 1}
    ok("outputs", "add", case, "outputs", str(data / "outputs.jsonl"))
    summary = json.loads(ok("match", case, "--json"))
    assert summary["copied"] == 8  # 7 planted + six.py, which is in the corpus verbatim
    shown = json.loads(ok("show", case, "--json"))
    by_title = {w["title"]: w for w in shown["works"]}
    assert by_title["python-rsa"]["copies"] == 3 and by_title["six.py"]["copies"] == 1
    detail = json.loads(ok("show", case, "1", "--json"))
    assert {e["document"].rsplit("/", 1)[-1] for e in detail["evidence"] if e["copied"]} == {
        "randnum.py", "parallel_nohdr.py", "outputs.jsonl:1"}
    skipped = json.loads(ok("show", case, "--skipped", "--json"))
    assert skipped[0]["locator"].endswith("scraped.jsonl:4") and "malformed" in skipped[0]["reason"]
    r = runner.invoke(app, ["corpus", "add", case, "corpus", str(data / "corpus")])
    assert r.exit_code == 2 and "already indexed" in r.output


def test_rerun_gives_byte_identical_index_and_evidence(tmp_path, data):
    outs = []
    for n in range(2):
        case = Case.init(tmp_path / f"c{n}")
        from ascertain.match.run import MatchOptions, run_match
        from ascertain.works import import_manifest

        import_manifest(case, str(data / "works.csv"))
        add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
        run_match(case, MatchOptions())
        root = tmp_path / f"c{n}"
        outs.append({p.name: p.read_bytes() for p in sorted((root / "index" / "corpus").iterdir()) if p.is_file()}
                    | {"evidence": (root / "reports" / "evidence.json").read_bytes()})
    assert outs[0] == outs[1]


class Boom(Exception):
    pass


def test_interrupted_indexing_resumes_without_redoing_shards(tmp_path, data):
    params = Case.init(tmp_path / "c").params
    inputs = [{"path": "corpus"}]
    items = list(read_inputs([data / "corpus"], ReadOptions()))

    def failing():
        for n, item in enumerate(items):
            if n == 9:
                raise Boom()
            yield item

    writer = IndexWriter(tmp_path / "idx", params, inputs, shard_docs=4)
    with pytest.raises(Boom):
        writer.build(failing())
    shards = sorted(p.name for p in (tmp_path / "idx").iterdir() if p.is_file())  # and the shards' spill folder
    assert shards == ["cd-00000.npy", "cd-00001.npy", "docs-00000.parquet", "docs-00001.parquet",
                      "fp-00000.parquet", "fp-00001.parquet", "manifest.json", "mh-00000.parquet",
                      "mh-00001.parquet"]  # two finished shards (with their content digests), no partial file
    before = {p: (tmp_path / "idx" / p).stat().st_mtime_ns for p in shards if p.endswith(("parquet", "npy"))}
    done = sum(s["items"] for s in json.loads((tmp_path / "idx" / "manifest.json").read_text())["shards"])
    assert done == 9  # 8 documents and the malformed JSONL line
    seen = []
    resumed = IndexWriter(tmp_path / "idx", params, inputs, shard_docs=4).build(
        iter(items), on_progress=lambda n, b: seen.append(n))
    assert sum(seen) == len(items) - done  # only the documents after the finished shards were read
    # the finished shards were not written again; their fingerprint files went once the lookup tables held the rows
    assert all((tmp_path / "idx" / p).stat().st_mtime_ns == t for p, t in before.items() if not p.startswith("fp-"))
    assert not list((tmp_path / "idx").glob("fp-*.parquet"))
    fresh = IndexWriter(tmp_path / "fresh", params, inputs, shard_docs=4).build(iter(items))
    assert resumed["documents_digest"] == fresh["documents_digest"]
    assert resumed["fingerprints"] == fresh["fingerprints"] and resumed["documents"] == 16
    with pytest.raises(AscertainError, match="other inputs or parameters"):
        IndexWriter(tmp_path / "idx", params, [{"path": "other"}]).build(iter(items))


def test_keyed_index_matches_without_text(tmp_path, data):
    key = tmp_path / "case.key"
    key.write_bytes(bytes(range(32)))
    case = str(tmp_path / "case")
    ok("init", case)
    ok("works", "import", case, str(data / "works.csv"))
    ok("corpus", "add", case, "secret", str(data / "corpus"), "--key-file", str(key))
    docs = tmp_path / "case" / "index" / "secret" / "docs-00000.parquet"
    import pyarrow.parquet as pq

    assert pq.read_table(docs, columns=["text"]).column("text").null_count == 16  # no text kept
    r = runner.invoke(app, ["match", case])
    assert r.exit_code == 2 and "--key-file" in r.output
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(bytes(range(1, 33)))
    r = runner.invoke(app, ["match", case, "--key-file", str(wrong)])
    assert r.exit_code == 2 and "not the key" in r.output  # refused, never "0 evidence records"
    summary = json.loads(ok("match", case, "--key-file", str(key), "--json"))
    assert summary["copied"] == 5  # the five planted corpus copies, found from fingerprints alone
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    r = runner.invoke(app, ["corpus", "add", case, "x", str(data / "corpus"), "--key-file", str(short)])
    assert r.exit_code == 2 and "fewer than 32" in r.output


def test_demo_finds_every_planted_copy_and_nothing_else(tmp_path):
    r = runner.invoke(app, ["demo", "--case", str(tmp_path / "demo"), "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    # 7 copies of code, 3 of a book (PDF, HTML, Books3-like record), 1 Stack-like record (CMI in its fields)
    assert result["ok"] and result["found"] == result["planted"] == 11 and not result["false_positives"]


def test_case_errors(tmp_path):
    r = runner.invoke(app, ["show", str(tmp_path)])
    assert r.exit_code == 2 and "ascertain init" in r.output
    ok("init", str(tmp_path / "c"))
    r = runner.invoke(app, ["corpus", "add", str(tmp_path / "c"), "bad/name", str(tmp_path)])
    assert r.exit_code == 2 and "source name" in r.output
    r = runner.invoke(app, ["match", str(tmp_path / "c")])
    assert r.exit_code == 2 and "has no works" in r.output
    shutil.rmtree(tmp_path / "c")


def test_matching_one_source_keeps_the_others_evidence(tmp_path, data):
    case = str(tmp_path / "case")
    ok("init", case)
    ok("works", "import", case, str(data / "works.csv"))
    ok("corpus", "add", case, "corpus", str(data / "corpus"))
    ok("outputs", "add", case, "outputs", str(data / "outputs.jsonl"))
    assert json.loads(ok("match", case, "--json"))["copied"] == 7
    assert json.loads(ok("match", case, "--source", "outputs", "--json"))["copied"] == 2
    shown = json.loads(ok("show", case, "--json"))
    assert sum(w["copies"] for w in shown["works"]) == 7  # the corpus evidence is still there
    assert (tmp_path / "case" / "reports" / "evidence-outputs.json").exists()
