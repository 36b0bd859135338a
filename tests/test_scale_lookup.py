"""Lookups that do not scan the corpus: the partitioned tables give exactly what a full scan gives."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.fingerprint.minhash import MinHashParams, signature
from ascertain.index.corpus_reader import fetch_docs, lookup_of, near_duplicate_pairs
from ascertain.index.lookup_tables import corpus_fingerprints, corpus_frequencies
from ascertain.index.partitions import lookup, partition_of, write_columns
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.store import schema
from ascertain.works import import_manifest


def test_partitioned_lookup_equals_a_scan(tmp_path):
    """Keys spread over partitions and row groups, repeated keys crossing group boundaries, absent keys."""
    rng = np.random.default_rng(7)
    keys = np.sort(np.concatenate([rng.integers(0, 2**63, 3000, dtype=np.uint64) * np.uint64(2),
                                   np.full(250, 2**63 + 5, np.uint64)]))  # one key over several groups
    bits = 3
    files = []
    for p in range(1 << bits):
        k = keys[partition_of(keys, bits) == p]
        name = f"t-{p}.parquet"
        pq.write_table(pa.table({"key": pa.array(k, pa.uint64()), "v": pa.array(np.arange(len(k)), pa.int64())}),
                       tmp_path / name, row_group_size=64)
        files.append(name)
    wanted = np.concatenate([keys[::37], [np.uint64(1), np.uint64(2**64 - 1), np.uint64(2**63 + 5)]])
    schema = pa.schema([("key", pa.uint64()), ("v", pa.int64())])
    got = lookup(tmp_path, files, bits, "key", wanted, schema)
    expect = np.sort(keys[np.isin(keys, wanted)])
    assert np.array_equal(got.column("key").to_numpy(), expect)
    assert lookup(tmp_path, files, bits, "key", np.array([3], np.uint64), schema).num_rows == 0
    # format 2: the same rows as memory-mapped columns, partitioned by the mixed key, give the same answer
    rows = np.empty(len(keys), [("key", "<u8"), ("v", "<i8")])
    rows["key"], rows["v"] = keys, np.arange(len(keys))
    mapped = []
    for p in range(1 << bits):
        write_columns(rows[partition_of(keys, bits, mixed=True) == p], tmp_path / f"m-{p}")
        mapped.append(f"m-{p}")
    got2 = lookup(tmp_path, mapped, bits, "key", wanted, schema)
    assert np.array_equal(got2.column("key").to_numpy(), expect)
    assert lookup(tmp_path, mapped, bits, "key", np.array([3], np.uint64), schema).num_rows == 0
    assert lookup(tmp_path, mapped, bits, "key", wanted, schema, ["v"]).column_names == ["v"]


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory, data):
    case = Case.init(tmp_path_factory.mktemp("scale") / "case")
    import_manifest(case, str(data / "works.csv"))
    add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    run_match(case, MatchOptions())
    return case


def _index(case: Case) -> tuple:
    index_dir = case.root / "index" / "corpus"
    return index_dir, json.loads((index_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def kept_case(tmp_path_factory, data):
    """The demo corpus indexed with the shards' fingerprint files kept (format 3 deletes them once the lookup
    tables are written): the rows the tables were built from, to scan."""
    import ascertain.index.shards as shards

    keep = pytest.MonkeyPatch()
    keep.setattr(shards, "replaced_shard_files", lambda manifest: [])
    try:
        case = Case.init(tmp_path_factory.mktemp("kept") / "case")
        add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    finally:
        keep.undo()
    return case


def test_lookup_tables_hold_what_a_scan_of_the_shards_counts(kept_case):
    index_dir, manifest = _index(kept_case)
    lk = lookup_of("corpus", manifest)
    assert lk["format"] == 3
    fp = [str(index_dir / s["fingerprints_file"]) for s in manifest["shards"]]
    con = duckdb.connect()
    scan = con.execute("SELECT hash, count(DISTINCT doc) AS df, count(*) AS cf FROM read_parquet($f) "
                       "GROUP BY hash ORDER BY hash", {"f": fp}).fetchnumpy()
    assert (scan["df"] != scan["cf"]).any()  # fingerprints repeated within a document: lk-df's rows
    some = np.concatenate([scan["hash"][::7], scan["hash"][scan["df"] != scan["cf"]]])
    at = np.searchsorted(scan["hash"], np.unique(some))
    freq = corpus_frequencies(index_dir, lk, some)
    assert np.array_equal(freq.column("hash").to_numpy(), scan["hash"][at])
    assert np.array_equal(freq.column("df").to_numpy(), scan["df"][at])
    assert np.array_equal(freq.column("cf").to_numpy(), scan["cf"][at])
    absent = np.setdiff1d(np.arange(1, 500, dtype=np.uint64), scan["hash"])
    assert corpus_frequencies(index_dir, lk, absent).num_rows == 0
    rows = corpus_fingerprints(index_dir, lk, some)
    want = con.execute("SELECT hash, doc, pos FROM read_parquet($f) WHERE hash IN (SELECT unnest($h)) "
                       "ORDER BY hash, doc, pos", {"f": fp, "h": some.tolist()}).fetchnumpy()
    for c in ("hash", "doc", "pos"):
        assert np.array_equal(rows.column(c).to_numpy(), want[c])
    assert rows.schema.field("doc").type == pa.int64()  # stored as 32-bit ids, read as the schema's
    # a format-2 index (a row of hash, df, cf per distinct fingerprint) is read as it is
    f = scan
    for p, base in enumerate(lk["files"]["df"]):
        mine = partition_of(f["hash"], lk["fp_bits"], mixed=True) == p
        t = np.empty(int(mine.sum()), [("hash", "<u8"), ("df", "<i8"), ("cf", "<i8")])
        t["hash"], t["df"], t["cf"] = f["hash"][mine], f["df"][mine], f["cf"][mine]
        write_columns(t, index_dir / f"v2-{base}")
    v2 = {**lk, "format": 2, "files": {**lk["files"], "df": [f"v2-{b}" for b in lk["files"]["df"]]}}
    assert corpus_frequencies(index_dir, v2, some).equals(freq)


def test_format_3_keeps_no_shard_fingerprint_files(demo_case):
    index_dir, manifest = _index(demo_case)
    assert manifest["format"] == 3 and manifest["lookup"]["format"] == 3
    assert not list(index_dir.glob("fp-*.parquet"))
    assert all("fingerprints_file" not in s and not any(n.startswith("fp-") for n in s["sha256"])
               for s in manifest["shards"])
    assert manifest["fingerprints"] == sum(s["fingerprints"] for s in manifest["shards"]) > 0
    assert np.load(index_dir / f"{manifest['lookup']['files']['fp'][0]}.doc.npy", mmap_mode="r").dtype == "<u4"


def test_near_duplicates_are_datasketchs(demo_case, data):
    """The bands written at indexing give the candidates of datasketch's MinHashLSH built per run."""
    from datasketch import LeanMinHash, MinHashLSH

    from ascertain.fingerprint.winnow import Params
    from ascertain.match.pairs import prepare

    index_dir, manifest = _index(demo_case)
    p = MinHashParams()
    lsh = MinHashLSH(threshold=p.threshold, num_perm=p.num_perm)
    sigs = {}
    for s in manifest["shards"]:
        t = pq.read_table(index_dir / s["minhash_file"])
        for d, sig in zip(t.column("doc").to_pylist(), t.column("sig").to_pylist(), strict=True):
            sigs[d] = np.frombuffer(sig, "<u4")
            lsh.insert(d, LeanMinHash(seed=p.seed, hashvalues=sigs[d].astype(np.uint64), scheme="affine32"))
    works, expect = {}, {}
    for i, path in enumerate(sorted((data / "corpus").rglob("*.py")) + sorted((data / "works").rglob("*.py"))):
        w = prepare(path.read_text(), "python", str(path), "", Params())
        works[i] = w.hashes
        q = signature(w.hashes)
        if q.any():
            for d in lsh.query(LeanMinHash(seed=p.seed, hashvalues=q.astype(np.uint64), scheme="affine32")):
                if (j := float(np.mean(q == sigs[d]))) >= p.threshold:
                    expect[i, d] = j
    assert len(expect) >= 10  # the corpus files find themselves, and the planted near-copies
    assert near_duplicate_pairs(index_dir, manifest, works) == expect


def test_fetch_docs_reads_the_asked_documents_in_order(demo_case):
    index_dir, manifest = _index(demo_case)
    ids = np.array([0, 3, manifest["documents"] - 1], np.int64)
    got = list(fetch_docs(index_dir, manifest, ids))
    assert [r[0] for r in got] == ids.tolist()
    assert all(r[5] for r in got)  # texts


def test_one_work_is_looked_up_alone_and_keeps_the_others_evidence(demo_case):
    full = orjson.loads((demo_case.root / "reports" / "evidence.json").read_bytes())
    work = full["evidence"][0]["work_id"]
    r = run_match(demo_case, MatchOptions(work=work))
    assert r["report"].endswith(f"evidence-work-{work}.json")
    one = orjson.loads((demo_case.root / "reports" / f"evidence-work-{work}.json").read_bytes())
    mine = [e for e in full["evidence"] if e["work_id"] == work]

    def strip(e):  # region ranks are among the works of the run
        return {**e, "metrics": {k: v for k, v in e["metrics"].items() if k != "region_rank"}}

    assert [strip(e) for e in one["evidence"]] == [strip(e) for e in mine] and mine
    with demo_case.store.engine.connect() as c:
        stored = c.execute(select(func.count()).select_from(schema.evidence)).scalar_one()
    assert stored == len(full["evidence"])  # the other works' evidence is kept
    with pytest.raises(AscertainError, match="no such work"):
        run_match(demo_case, MatchOptions(work=9999))


def test_streamed_report_is_what_one_dump_gives(demo_case):
    raw = (demo_case.root / "reports" / "evidence.json").read_bytes()
    assert raw == orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    assert not [p for p in (demo_case.root / "reports").iterdir() if p.name.startswith(".")]  # no temp left


def test_index_without_lookup_tables_is_refused_with_the_fix(demo_case):
    _, manifest = _index(demo_case)
    old = {k: v for k, v in manifest.items() if k != "lookup"} | {"format": 1}
    with pytest.raises(AscertainError) as e:
        lookup_of("corpus", old)
    assert "older version" in e.value.problem and "corpus add" in e.value.fix


def test_opened_files_are_kept_until_they_change(tmp_path):
    """A resident process maps a column once, and maps it again when the file is replaced (a source re-indexed)."""
    from ascertain.index.partitions import column_path, mapped

    rows = np.empty(3, [("key", "<u8")])
    rows["key"] = [1, 2, 3]
    write_columns(rows, tmp_path / "t")
    first = mapped(column_path(tmp_path / "t", "key"))
    assert mapped(column_path(tmp_path / "t", "key")) is first
    rows["key"] = [4, 5, 6]
    write_columns(rows, tmp_path / "t")  # a new file under the same name
    assert mapped(column_path(tmp_path / "t", "key")).tolist() == [4, 5, 6]


def test_only_format_3_drops_the_shards_fingerprint_files():
    from ascertain.index.lookup_tables import replaced_shard_files

    def manifest(fmt):
        return {"lookup": {"format": fmt}, "shards": [{"fingerprints_file": "fp-00000.parquet", "fingerprints": 9,
                                                      "sha256": {"fp-00000.parquet": "x", "docs-00000.parquet": "y"}}]}

    old = manifest(2)
    assert replaced_shard_files(old) == [] and old == manifest(2)
    new = manifest(3)
    assert replaced_shard_files(new) == ["fp-00000.parquet"]
    assert new["shards"] == [{"fingerprints": 9, "sha256": {"docs-00000.parquet": "y"}}]


def test_a_format_2_index_gives_the_same_evidence(demo_case, tmp_path):
    """The reader follows the manifest's lookup format: the demo index rewritten as format 2 (a (hash, df, cf) row
    per distinct fingerprint, 64-bit doc ids) gives the evidence format 3 gives."""
    import shutil

    from ascertain.index.lookup_tables import frequencies

    run_match(demo_case, MatchOptions())
    want = orjson.loads((demo_case.root / "reports" / "evidence.json").read_bytes())["evidence"]
    assert len(want) > 5
    shutil.copytree(demo_case.root, tmp_path / "case")
    old = Case.open(tmp_path / "case")
    index_dir, manifest = _index(old)
    lk = manifest["lookup"]
    for base in lk["files"]["fp"] + lk["files"]["lsh"]:
        doc = index_dir / f"{base}.doc.npy"
        np.save(doc, np.load(doc).astype("<i8"), allow_pickle=False)
    for fp, df in zip(lk["files"]["fp"], lk["files"]["df"], strict=True):
        rows = np.empty(len(np.load(index_dir / f"{fp}.hash.npy")), [("hash", "<u8"), ("doc", "<i8")])
        rows["hash"], rows["doc"] = np.load(index_dir / f"{fp}.hash.npy"), np.load(index_dir / f"{fp}.doc.npy")
        write_columns(frequencies(rows), index_dir / df)
    lk["format"] = 2
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    run_match(old, MatchOptions())
    assert orjson.loads((old.root / "reports" / "evidence.json").read_bytes())["evidence"] == want
