"""`ascertain match`: every work file against every indexed source, through a DuckDB hash join."""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
import math
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa
from sqlalchemy import delete, func, insert, select

from ascertain import __version__
from ascertain.case import Case
from ascertain.cmi.status import status_of_copy
from ascertain.cmi.work import load_work_cmi
from ascertain.engine import Executor, check_engine, make_executor, ordered_map
from ascertain.errors import AscertainError
from ascertain.fingerprint.keyed import key_check, keyed_sha256
from ascertain.fingerprint.winnow import Params, load_key
from ascertain.index import arrow_np
from ascertain.index.corpus_reader import (
    Seeds,
    fetch_docs,
    fetch_locators,
    lookup_of,
    near_duplicate_pairs,
    register_seeds,
    seed_tables,
)
from ascertain.index.duplicates import counts_of, documents_of
from ascertain.match.evidence_out import EvidenceOut, store_params
from ascertain.match.lookup_hits import lookup_hits
from ascertain.match.measure import Thresholds, measure
from ascertain.match.measure_docs import MatchContext, cut_chunks, identical_copies, measure_chunk, release
from ascertain.match.pairs import prepare
from ascertain.match.prepared_works import PreparedWorks
from ascertain.match.ranking import rank_regions
from ascertain.media import is_image_source
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.text.levels import DEFAULT_LEVEL, resolved_level
from ascertain.works_images import IMAGE_LANGUAGE

AUTO_LEVELS = ("layout", "book")  # the levels an `auto` index holds (text/levels.py resolved_level)

# Seeds: fingerprints shared by a work and the corpus, minus frequent ones lying only in the work's notices and
# repetition (index/corpus_reader.py seed_tables): no frequency makes a copy disappear. The corpus side comes
# from the index's lookup tables: only the works' own hashes are read, one row per distinct content
# (index/lookup_tables.py, index/duplicates.py).
HITS_FROM_ROWS_SQL = """
CREATE OR REPLACE TEMP TABLE hits AS
SELECT w.file, c.doc, w.pos AS wpos, c.pos AS dpos, s.df, w.own
FROM corpus_rows AS c JOIN corpus_seeds AS s USING (hash) JOIN works_fp AS w USING (hash)
"""
# A pair can only be `copied` with at least 2 shared fingerprints when the work has 50+ own tokens (see
# docs/methods.md); pairs below their file's minimum are not evidence and are not fetched. Nor is a pair whose
# every shared fingerprint is frequent (df > max_seed_df) and lies in this work's notices only: the seeds are
# decided over all the run's works, so another work's own use of a common copyright page makes the page seed,
# but for this work it is boilerplate (a pair of notices alone, never a copy; issue 28 item 6).
PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE pairs AS
SELECT h.file, h.doc FROM hits h JOIN work_min USING (file)
GROUP BY h.file, h.doc, work_min.min_shared
HAVING count(DISTINCT h.wpos) >= work_min.min_shared AND bool_or(h.own = 1 OR h.df <= $max_df)
"""
HITS_SQL = """
SELECT h.doc, h.file, h.wpos, h.dpos, h.df FROM hits h SEMI JOIN pairs USING (file, doc)
ORDER BY h.doc, h.file, h.wpos, h.dpos
"""
HIT_COLUMNS = ("doc", "file", "wpos", "dpos", "df")
HITS_BATCH = 1 << 20  # hit rows read at a time from the sorted result: what bounds match's memory in hits
# a unit of work for the executor: small enough that two workers share even a small match, large enough that
# a task's overhead (pickling the hits, fetching the documents' row groups) stays small
CHUNK_DOCS = 256
CHUNK_ROWS = 1 << 18
# work files matched at a time (whole works): what bounds match's memory in works. Each batch is its own pass
# over the lookup tables; past one batch the seeds are decided over all the works first (a pass that only
# fingerprints them) and each batch's records are spilled, then merged in document order: the same evidence,
# byte for byte, as one pass. At most prepared_works.KEEP, so that a batch's files are prepared once; 500
# rather than 1,000: a lower peak at 10,000 and 30,000 works, no more CPU (docs/benchmarks.md)
FILES_BATCH = 500
# and at most this much work text a batch: a book-sized work holds ~10 bytes of tokens, offsets, masks and
# fingerprints per byte of text while it is matched (1,000 books of 0.55 MB in one pass: over 6 GB resident)
BATCH_BYTES = 64_000_000

WORKS_FP_SCHEMA = pa.schema([("hash", pa.uint64()), ("file", pa.int64()), ("pos", pa.uint32()),
                             ("own", pa.int32())])  # 1: the fingerprint touches the work's own text
WORK_MIN_SCHEMA = pa.schema([("file", pa.int64()), ("min_shared", pa.int64())])
TOTALS_PART_SCHEMA = pa.schema([("hash", pa.uint64()), ("m", pa.int64()), ("own", pa.int32()),
                                ("batch", pa.int32())])
HASHES_SCHEMA = pa.schema([("hash", pa.uint64())])
# the run's totals per distinct work fingerprint (occurrences in all works, one touching own text, the first
# batch holding it), from each batch's part
RUN_TOTALS_SQL = """
CREATE OR REPLACE TEMP TABLE run_totals AS
SELECT hash, sum(m)::BIGINT AS m, max(own) AS own, min(batch) AS first FROM run_parts GROUP BY hash;
DROP TABLE run_parts
"""
BATCH_TOTALS_SQL = """
SELECT t.m, t.own, t.first FROM run_totals t SEMI JOIN batch_hashes USING (hash) ORDER BY t.hash
"""
# work_files' columns but the text: a batch's texts are read when it is matched
FILE_COLUMNS = [c for c in schema.work_files.c if c.name != "text"]


@dataclass
class MatchOptions:
    sources: list[str] | None = None
    key_file: str | None = None
    # fingerprints in more distinct contents than this seed only through the work's own text (a frequent
    # fingerprint wholly inside the work's notices is boilerplate: never read)
    max_seed_df: int = 1000
    # fingerprints whose work occurrences x occurrences per corpus document pass this seed nothing (repetition)
    max_hash_hits: int = 100_000
    thresholds: Thresholds = Thresholds()
    copied_only: bool = False  # store and report only `copied` records (the manifest says so)
    allow_empty: bool = False  # let a run replace a source's stored evidence with none
    work: int | None = None  # match this work only (its evidence replaces only its own)
    engine: str = "local"  # where the per-document stage runs (engine/); never recorded: same evidence
    processes: int | None = None
    ray_address: str | None = None  # the Ray cluster to join (engine ray); default RAY_ADDRESS, else a local one


def run_match(case: Case, opts: MatchOptions, progress: Callable[[str, int, int], None] | None = None
              ) -> dict:
    started, t0 = now(), time.perf_counter()
    check_engine(opts.engine, opts.processes, opts.ray_address)  # refused before anything is read
    with case.store.engine.connect() as c:
        # image works are matched by match/images.py: their files hold no text
        q = select(*FILE_COLUMNS).where(schema.work_files.c.language != IMAGE_LANGUAGE)
        files = c.execute(q if opts.work is None else q.where(schema.work_files.c.work_id == opts.work)
                          ).mappings().all()
        if not files and opts.work is not None:
            has_works = c.execute(select(schema.work_files.c.id).where(
                schema.work_files.c.language != IMAGE_LANGUAGE).limit(1)).first() is not None
        # metadata-only image datasets have no index: match/image_metadata.py matches them
        srcs = c.execute(select(schema.sources).where(schema.sources.c.kind != "image-metadata")
                         .order_by(schema.sources.c.id)).mappings().all()
        # a case of image works only still gets its (empty) text run: the report and verify stand on it
        images_only = not files and opts.work is None and c.execute(select(schema.work_files.c.id).where(
            schema.work_files.c.language == IMAGE_LANGUAGE).limit(1)).first() is not None
    if not files and not images_only and (opts.work is None or not has_works):
        raise AscertainError(str(case.root), "has no works", "add works with `ascertain works add`")
    if opts.sources:
        unknown = set(opts.sources) - {s["name"] for s in srcs}
        if unknown:
            raise AscertainError(", ".join(sorted(unknown)), "no such source in this case",
                                 "see `ascertain show CASE` for the source names")
        srcs = [s for s in srcs if s["name"] in opts.sources]
    srcs = [s for s in srcs if not is_image_source(s["params"])]  # image sources: match/images.py
    incomplete = [s["name"] for s in srcs if s["status"] != "complete"]
    if incomplete:
        from ascertain.sources import last_failure

        why = "; ".join(f"{n}: {f}" for n in incomplete if (f := last_failure(case, n)))
        raise AscertainError(", ".join(incomplete),
                             "indexing did not finish" + (f" (last attempt: {why})" if why else ""),
                             "run the same `ascertain corpus add` / `outputs add` again to resume it, or "
                             f"`ascertain sources remove {case.root} NAME` to drop the source")
    _check_keys(case, srcs, opts)  # a wrong key would match nothing: refuse it before anything is touched
    if opts.work is not None:  # one work: its files only, its own report, its own stored evidence replaced
        files = [f for f in files if f["work_id"] == opts.work]
        if not files:
            raise AscertainError(f"work {opts.work}", "no such work in this case (or it has no files)",
                                 f"see the work ids with `ascertain show {case.root}`")
    con = _duckdb(case, opts.work is not None)
    # one work's lookup is small: in this process, no pool or Ray instance to start. Made before the report's
    # temporary files, so an engine that fails to start leaves nothing behind
    executor = make_executor(*(("local", 1) if opts.work is not None
                               else (opts.engine, opts.processes, opts.ray_address)))
    out = EvidenceOut(case.root / "reports" / report_name(opts), _evidence_row)
    source_manifests = {}
    tally = {"weak": 0, "not_copied": 0, "frequent": 0, "frequent_rows": 0, "left_out_notices_only": 0,
             "left_out_repetition": 0, "common_df": {}}
    batches = file_batches(files, FILES_BATCH, BATCH_BYTES)
    try:
        for src in srcs:
            index_dir = _index_dir(case, src)
            manifest_bytes = (index_dir / "manifest.json").read_bytes()
            manifest = json.loads(manifest_bytes)
            source_manifests[src["name"]] = hashlib.sha256(manifest_bytes).hexdigest()
            for group in _match_source(con, case, src, index_dir, manifest, batches, opts, progress, tally,
                                       executor):
                rank_regions(group)  # several works found in one region of the document: which explains it best
                for r in group:
                    if opts.copied_only and not r["copied"]:
                        tally["not_copied"] += 1
                    else:
                        out.add(r)
                        if n := r["metrics"].get("identical_copies"):  # its locators, streamed at the end
                            out.add_copies(src["name"], r["doc_id"], n["documents"],
                                           functools.partial(_locators, index_dir, manifest, r["doc_id"]))
        _check_not_emptied(case, srcs, out.source_ids, opts)
    except BaseException:
        out.discard()
        raise
    finally:
        executor.close()
    manifest = {
        "tool": "ascertain", "version": __version__, "stage": "match",
        "parameters": {"thresholds": opts.thresholds.as_dict(), "max_seed_df": opts.max_seed_df,
                       "max_hash_hits": opts.max_hash_hits, "copied_only": opts.copied_only,
                       "common_df_applied": dict(sorted(tally["common_df"].items())),
                       # each source's level as its index applied it (auto: prose at book, code at layout)
                       "levels_applied": {s["name"]: s["params"].get("level", DEFAULT_LEVEL)
                                          for s in sorted(srcs, key=lambda s: s["name"])},
                       "fingerprint": {**case.params.as_dict(), "keyed": any(s["keyed"] for s in srcs)},
                       "keyed_sources": sorted(s["name"] for s in srcs if s["keyed"]),
                       **({"work": opts.work} if opts.work is not None else {})},
        "works": sorted(({"file": f["path"], "sha256": f["sha256"]} for f in files),
                        key=lambda r: (r["file"], r["sha256"])),
        "sources": source_manifests,
        "counts": {"work_files": len(files), "sources": len(srcs), "evidence": out.count,
                   "weak_pairs_not_stored": tally["weak"], "not_copied_not_stored": tally["not_copied"],
                   "copied": out.copied, **_copy_counts(out)},
        "seeds": {"frequent_fingerprints": tally["frequent"], "frequent_corpus_rows": tally["frequent_rows"],
                  "left_out_notices_only": tally["left_out_notices_only"],
                  "left_out_repetition": tally["left_out_repetition"]},
    }
    out.commit(manifest)
    seconds = time.perf_counter() - t0
    try:  # the spilled rows go whatever happens (a full disk, an interrupt): never left beside the report
        with case.store.begin() as c:
            run_id = c.execute(insert(schema.runs).values(
                stage="match", manifest=manifest, started_at=started, seconds=seconds)).inserted_primary_key[0]
            # evidence is derived: this run's replaces the last for the same sources (and work); runs keep manifests
            c.execute(delete(schema.evidence).where(*_replaced(srcs, opts)))
            for batch in out.store_rows():
                table, rows = store_params(c, schema.evidence, batch)
                c.execute(insert(table), [{**r, "run_id": run_id} for r in rows])
    finally:
        out.close()
    case.store.audit("match", {"run": run_id, "sources": [s["name"] for s in srcs],
                               **({"work": opts.work} if opts.work is not None else {}),
                               "evidence": out.count, "seconds": round(seconds, 3)})
    return {"run": run_id, "evidence": out.count, "copied": out.copied,
            "report": str(out.path), "seconds": round(seconds, 3)}


_LOOKUP_DB: dict[str, duckdb.DuckDBPyConnection] = {}  # per case folder, in this process
_LOOKUP_LOCK = threading.Lock()


def _duckdb(case: Case, lookup: bool) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for one run. A single-work lookup joins its hits in NumPy (match/lookup_hits.py) and
    needs DuckDB only for a work of more files than FILES_BATCH: it takes a cursor of the process's database
    for the case (a new database costs about 15 ms of CPU; a resident process, the web app's workers, makes it
    once); each cursor has its own temporary tables and registered views."""
    config = {"threads": 2, "memory_limit": "768MB", "temp_directory": str(case.root / ".duckdb-tmp")}
    if not lookup:
        return duckdb.connect(config=config)
    with _LOOKUP_LOCK:
        db = _LOOKUP_DB.get(str(case.root))
        if db is None:
            db = _LOOKUP_DB[str(case.root)] = duckdb.connect(config=config)
        return db.cursor()


def report_name(opts: MatchOptions) -> str:
    """A run over some sources (or one work) writes its own report beside the full one, never over it."""
    name = "evidence" + (f"-{'+'.join(sorted(opts.sources))}" if opts.sources else "")
    return name + (f"-work-{opts.work}" if opts.work is not None else "") + ".json"


def _replaced(srcs, opts: MatchOptions) -> list:
    """Where the stored evidence this run replaces is."""
    where = [schema.evidence.c.source_id.in_([s["id"] for s in srcs])]
    return where + ([schema.evidence.c.work_id == opts.work] if opts.work is not None else [])


def _index_dir(case: Case, src) -> Path:
    index_dir = Path(src["index_dir"])
    return index_dir if index_dir.is_absolute() else case.root / index_dir


def _check_keys(case: Case, srcs, opts: MatchOptions) -> None:
    """Every keyed source's manifest holds an HMAC of a fixed label under its key: compare before matching."""
    key = None
    for src in srcs:
        if not src["keyed"]:
            continue
        if not opts.key_file:
            raise AscertainError(src["name"], "is a keyed index",
                                 "pass --key-file with the key the index was built with")
        key = key if key is not None else load_key(opts.key_file)
        stored = json.loads((_index_dir(case, src) / "manifest.json").read_bytes()).get("key_check")
        if stored is None:
            raise AscertainError(src["name"], "is a keyed index without a key check (built by an older version)",
                                 f"rebuild it: `ascertain sources remove {case.root} {src['name']}`, then add it "
                                 "again with its key")
        if stored != key_check(key):
            raise AscertainError(f"{src['name']} / {opts.key_file}", "this is not the key the keyed index was built "
                                 "with (its key check differs); nothing was matched or changed",
                                 "pass --key-file with the key used for `corpus add`, or match only the other "
                                 "sources with --source NAME")


def _check_not_emptied(case: Case, srcs, found: set[int], opts: MatchOptions) -> None:
    """A run may not silently replace a source's stored evidence with none."""
    if opts.allow_empty:
        return
    with case.store.engine.connect() as c:
        stored = dict(c.execute(select(schema.evidence.c.source_id, func.count()).where(*_replaced(srcs, opts))
                                .group_by(schema.evidence.c.source_id)).all())
    lost = [(s["name"], stored[s["id"]]) for s in srcs if stored.get(s["id"]) and s["id"] not in found]
    if lost:
        raise AscertainError(", ".join(n for n, _ in lost), "this run found no evidence where the store holds "
                             + ", ".join(f"{m} record(s) for {n}" for n, m in lost)
                             + "; they were kept and no report was written",
                             "check the works, sources and key; pass --allow-empty to replace them with nothing")


def _evidence_row(r: dict) -> dict:
    m = r["metrics"]
    return {"work_id": r["work_id"], "work_file_id": r["work_file_id"],
            "source_id": r["source_id"], "doc_id": r["doc_id"], "doc_locator": r["doc_locator"],
            "copied": m["copied"], "coverage": m["coverage"], "own_coverage": m["own_coverage"],
            "longest_run_tokens": m["longest_run_tokens"], "fragments": m["fragments"],
            "identical": m["identical"], "byte_identical": m["byte_identical"],
            "rarity_docs": min((s["rarity_docs"] for s in m["spans"]), default=0), "metrics": m}


def _copy_counts(out: EvidenceOut) -> dict:
    """Corpus documents holding a copy: each identical copy of a copied record counted."""
    return {"copied_documents": out.copied_documents}


def _locators(index_dir: Path, manifest: dict, rep: int) -> Iterator[tuple[int, str]]:
    """(doc, locator) of every document holding the content of representative doc `rep`, in doc order."""
    for ids in documents_of(index_dir, manifest["lookup"], rep):
        yield from fetch_locators(index_dir, manifest, ids)


def file_batches(files, size: int, max_bytes: int | None = None) -> list[list]:
    """The files in batches of whole works (a work's repository-level CMI applies to all its files), in work
    order, each of at most `size` files and `max_bytes` of text unless one work has more."""
    by_work: dict[int, list] = {}
    for f in sorted(files, key=lambda f: (f["work_id"], f["id"])):
        by_work.setdefault(f["work_id"], []).append(f)
    batches: list[list] = []
    batch_bytes = 0
    for fs in by_work.values():
        grows = sum(f["bytes"] for f in fs) if max_bytes is not None else 0
        if not batches or len(batches[-1]) + len(fs) > size or (
                max_bytes is not None and batch_bytes + grows > max_bytes):
            batches.append([])
            batch_bytes = 0
        batch_bytes += grows
        batches[-1].extend(fs)
    return [b for b in batches if b] or [[]]


def _with_texts(case: Case, batch) -> list[dict]:
    """The batch's file rows with their texts (read now: the run holds one batch's texts at a time)."""
    ids = [f["id"] for f in batch]
    texts: dict[int, str] = {}
    with case.store.engine.connect() as c:
        for i in range(0, len(ids), 500):  # a few hundred bound ids a statement (SQLite's limit on variables)
            texts.update(c.execute(select(schema.work_files.c.id, schema.work_files.c.text).where(
                schema.work_files.c.id.in_(ids[i:i + 500]))).all())
    return [{**f, "text": texts[f["id"]]} for f in batch]


def _batch_cmi(case: Case, batch: list[dict], opts: MatchOptions) -> tuple[dict, dict]:
    with case.store.engine.connect() as c:
        return load_work_cmi(c, batch, opts.work, sorted({f["work_id"] for f in batch}))


def _prepared_works(rows: dict[int, dict], params: Params, key: bytes | None, keep: int | None = None
                    ) -> PreparedWorks:
    return PreparedWorks(rows.values(), lambda f: prepare(
        f["text"], f["language"], f["path"], f["sha256"], params, key, f["level"]), keep=keep, k=params.k)


def _run_totals(con: duckdb.DuckDBPyConnection, case: Case, batches: list[list], params: Params,
                key: bytes | None) -> None:
    """Table run_totals: every distinct fingerprint of all the works with its occurrences, whether one touches
    a work's own text, and the first batch holding it (seed_tables decides the seeds from them, as over
    all the works at once). The works are fingerprinted a batch at a time, nothing kept but the totals."""
    con.execute("CREATE OR REPLACE TEMP TABLE run_parts (hash UBIGINT, m BIGINT, own INTEGER, batch INTEGER)")
    for b, batch in enumerate(batches):
        prepared = _prepared_works(_file_rows(_with_texts(case, batch), params.level, key), params, key, keep=0)
        fids = list(prepared)
        hashes = np.concatenate([prepared.hashes[f] for f in fids] + [np.zeros(0, np.uint64)])
        own = np.concatenate([prepared.own[f] for f in fids] + [np.zeros(0, bool)])
        wh, inverse, m = np.unique(hashes, return_inverse=True, return_counts=True)
        own_any = np.zeros(len(wh), bool)
        own_any[inverse[own]] = True
        con.register("run_part", arrow_np.table({"hash": wh, "m": m.astype(np.int64), "own": own_any.astype(np.int32),
                                                 "batch": np.full(len(wh), b, np.int32)}, TOTALS_PART_SCHEMA))
        con.execute("INSERT INTO run_parts SELECT * FROM run_part")
        con.unregister("run_part")
    con.execute(RUN_TOTALS_SQL)


def _match_source(con: duckdb.DuckDBPyConnection, case: Case, src, index_dir: Path, manifest: dict,
                  batches: list[list], opts: MatchOptions, progress, tally: dict, executor: Executor
                  ) -> Iterator[list[dict]]:
    """The source's evidence records, one document's at a time (weak pairs are counted in tally; the caller
    ranks each document's records), then the whole-document near-duplicates without span evidence. The works
    a batch at a time
    (`FILES_BATCH`): past one batch, each batch's records are spilled to a file and the files merged in
    document order (a document's records in the order one pass gives: by prepared file id)."""
    p = src["params"]
    params = Params(k=int(p["k"]), w=int(p["w"]), keyed=bool(p["keyed"]), level=p.get("level", DEFAULT_LEVEL))
    key = load_key(opts.key_file) if params.keyed and opts.key_file else None  # checked by _check_keys
    lk = lookup_of(src["name"], manifest)
    # identical copies are one content: the baseline counts distinct contents, as document frequencies do
    n_docs = int(lk.get("distinct_documents", manifest["documents"]))
    th = opts.thresholds
    if not th.common_df:
        th = Thresholds(**{**th.as_dict(), "common_df": max(5, math.ceil(0.01 * n_docs))})
    tally["common_df"][src["name"]] = th.common_df  # as applied: the manifest (and the report) show it
    # rarity against the corpus is the chance baseline here: spans in more than common_df documents are common
    baseline = {"reference": "the source's documents", "reference_size": n_docs, "common_df": th.common_df}
    batch_of = functools.partial(_match_batch, con, case, src, index_dir, manifest, lk, params, key, th,
                                 baseline, opts, tally, executor)
    if len(batches) == 1:
        for _near, group, _ in batch_of(batches[0], None, _progress(progress, src["name"])):
            yield group
        return
    _run_totals(con, case, batches, params, key)
    with tempfile.TemporaryDirectory(prefix=".match-batches-", dir=case.root) as tmp:
        docs, nears = [], []
        for b, batch in enumerate(batches):
            docs.append(Path(tmp) / f"{b}.docs")
            nears.append(Path(tmp) / f"{b}.near")
            label = f"{src['name']} (works batch {b + 1} of {len(batches)})"
            with open(docs[-1], "wb") as d_out, open(nears[-1], "wb") as n_out:
                for near, group, vids in batch_of(batch, b, _progress(progress, label)):
                    for r in group if near else ():
                        n_out.write(orjson.dumps([r["doc_id"], r["work_file_id"], r]) + b"\n")
                    if group and not near:
                        d_out.write(orjson.dumps([group[0]["doc_id"], list(zip(vids, group, strict=True))]) + b"\n")
        con.execute("DROP TABLE run_totals")
        yield from _merged_docs(docs)
        for _doc, _fid, r in heapq.merge(*(_lines(f) for f in nears), key=lambda x: (x[0], x[1])):
            yield [r]  # one pass gives them in one list (doc, file order); without spans, ranking leaves them be


def _progress(progress, label: str):
    return None if progress is None else functools.partial(progress, label)


def _lines(path: Path) -> Iterator[list]:
    with open(path, "rb") as fh:
        for line in fh:
            yield orjson.loads(line)


def _merged_docs(paths: list[Path]) -> Iterator[list[dict]]:
    """The spilled groups of every batch merged: one group per document, in document order, its records in
    prepared file id order (each batch holds other files: the ids never tie)."""
    held: list = []
    doc = None
    for d, pairs in heapq.merge(*(_lines(p) for p in paths), key=lambda x: x[0]):
        if d != doc and held:
            yield [r for _, r in sorted(held, key=lambda x: x[0])]
            held = []
        doc = d
        held.extend(pairs)
    if held:
        yield [r for _, r in sorted(held, key=lambda x: x[0])]


def _match_batch(con: duckdb.DuckDBPyConnection, case: Case, src, index_dir: Path, manifest: dict, lk: dict,
                 params: Params, key: bytes | None, th: Thresholds, baseline: dict, opts: MatchOptions, tally: dict,
                 executor: Executor, files: list, batch: int | None, progress
                 ) -> Iterator[tuple[bool, list[dict], list[int] | None]]:
    """(False, a document's records, ...) for each matched document of this batch of files, in doc order,
    then (True, the near-duplicates without span evidence, ...): the hits from DuckDB here, each chunk of
    documents measured by the executor (match/measure_docs.py). `batch`: its number when the run has several
    (the seeds decided from run_totals; each document's records come with the ids their files were prepared
    under, the order measure_chunk gives them in: minus the file's id at its other level in an `auto`
    source), else None."""
    files = _with_texts(case, files)
    cmi = _batch_cmi(case, files, opts)
    work_of = {f["id"]: f["work_id"] for f in files}
    file_rows = _file_rows(files, params.level, key)
    prepared = _prepared_works(file_rows, params, key)
    fids = list(prepared)
    own = np.concatenate([prepared.own[fid] for fid in fids])
    works_fp = arrow_np.table({
        "hash": np.concatenate([prepared.hashes[fid] for fid in fids]),
        "file": np.concatenate([np.full(len(prepared.hashes[fid]), fid, np.int64) for fid in fids]),
        "pos": np.concatenate([prepared.positions[fid] for fid in fids]),
        "own": own.astype(np.int32)}, WORKS_FP_SCHEMA)
    work_min = arrow_np.table({"file": np.array(fids, np.int64),
                               "min_shared": np.array([prepared.min_shared[fid] for fid in fids], np.int64)},
                              WORK_MIN_SCHEMA)
    hashes = arrow_np.column(works_fp, "hash")
    seeds = seed_tables(index_dir, lk, hashes, own, opts.max_seed_df, opts.max_hash_hits,
                        None if batch is None else _batch_totals(con, hashes, batch))
    for name, n in seeds.counts.items():
        tally[name] += n
    # one work's hits: joined in NumPy (DuckDB's statements cost ~15 ms of a lookup), unless they are millions
    found = None if opts.work is None else lookup_hits(works_fp, prepared.min_shared, seeds.seeds, seeds.rows,
                                                       opts.max_seed_df)
    if found is not None:
        matched, hits = found
        hit_chunks = iter([(matched, hits)] if len(matched) else [])
    else:
        matched, hit_chunks = _duckdb_hits(con, works_fp, work_min, seeds, opts.max_seed_df)
    n_matched = len(matched)
    file_cmi, repo_cmi = cmi
    # whole-document near-duplicates: each file at its own level (id > 0)
    near = near_duplicate_pairs(index_dir, manifest, {fid: h for fid, h in prepared.hashes.items() if fid > 0})
    copies = counts_of(index_dir, lk, np.union1d(matched, np.array([d for _, d in near], np.int64)))
    shared = executor.share(MatchContext(
        str(index_dir), manifest, {"id": src["id"], "name": src["name"]}, params, th, baseline, file_rows,
        file_cmi, repo_cmi, near, prepared, copies, seeds.left_out))
    with_spans: set[tuple[int, int]] = set()  # near-duplicate pairs that have span evidence
    done = 0
    try:
        chunks = cut_chunks(hit_chunks, CHUNK_DOCS, CHUNK_ROWS)
        # results in chunk order whichever worker finished first: the same bytes on every engine
        for res in ordered_map(executor, measure_chunk, ((shared, d, h) for d, h in chunks)):
            tally["weak"] += res.weak
            with_spans.update(res.with_spans)
            for group in res.groups:
                if group:  # most documents of a lookup have no record (weak pairs)
                    yield False, group, None if batch is None else [
                        r["work_file_id"] * (1 if file_rows[r["work_file_id"]]["level"] == r["metrics"]["level"]
                                             else -1) for r in group]
                done += 1
                if progress:
                    progress(done, n_matched)
    finally:
        release(shared, index_dir)
    yield True, _near_duplicates(index_dir, manifest, prepared, near, with_spans, th, src, work_of, cmi,
                                 copies), None


def _duckdb_hits(con: duckdb.DuckDBPyConnection, works_fp: pa.Table, work_min: pa.Table, seeds: Seeds,
                 max_df: int) -> tuple[np.ndarray, Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]]:
    """(the matched documents, sorted; their hits a batch at a time) from DuckDB's join (it spills past memory:
    a batch match's)."""
    con.register("works_fp", works_fp)
    con.register("work_min", work_min)
    register_seeds(con, seeds)
    con.execute(HITS_FROM_ROWS_SQL)
    con.execute(PAIRS_SQL, {"max_df": max_df})
    for name in ("works_fp", "work_min", "corpus_rows", "corpus_seeds"):  # in the hits table now
        con.unregister(name)
    matched = con.execute("SELECT DISTINCT doc FROM pairs ORDER BY doc").fetchnumpy()["doc"]

    def chunks() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        yield from _hit_chunks(con.sql(HITS_SQL).to_arrow_reader(HITS_BATCH))
        con.execute("DROP TABLE hits; DROP TABLE pairs")

    return matched, chunks()


def _batch_totals(con: duckdb.DuckDBPyConnection, hashes: np.ndarray, batch: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """seed_tables' run_totals for this batch's distinct hashes (in hash order), from table run_totals."""
    wh = np.unique(hashes)
    con.register("batch_hashes", arrow_np.table({"hash": wh}, HASHES_SCHEMA))
    t = con.execute(BATCH_TOTALS_SQL).fetchnumpy()
    con.unregister("batch_hashes")
    if len(t["m"]) != len(wh):
        raise RuntimeError(f"works batch {batch}: {len(wh)} fingerprints, {len(t['m'])} in the run's totals")
    return np.asarray(t["m"], np.int64), np.asarray(t["own"]) == 1, np.asarray(t["first"]) == batch


def _file_rows(files, level: str, key: bytes | None) -> dict[int, dict]:
    """The work files as matching prepares them, by id: each at the source's level. In an `auto` source
    (prose indexed at book, code at layout: text/levels.py) a file is prepared at its own level (id: the file's
    id) and at the other (id: minus the file's id), so a code file is found inside prose (a chat answer, a
    README) and prose inside code; a document is measured against the file at the document's level only."""
    rows = {}
    for f in files:
        own = resolved_level(level, f["language"])
        # plain rows the workers get too; a keyed index holds keyed digests: like with like
        row = {"work_id": f["work_id"], "path": f["path"], "text": f["text"], "language": f["language"],
               "sha256": f["sha256"] if key is None else keyed_sha256(key, f["sha256"]), "file_id": f["id"]}
        for lv in AUTO_LEVELS if level == "auto" else (level,):
            vid = f["id"] if lv == own else -f["id"]
            rows[vid] = {**row, "id": vid, "level": lv}
    return rows


def _hit_chunks(reader: pa.RecordBatchReader) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(doc ids, their hits) from the hits sorted by doc, a batch at a time; a document's hits are never split
    between two chunks (the last document of a batch waits for the next batch)."""
    held: dict[str, np.ndarray] | None = None
    for batch in reader:
        t = pa.Table.from_batches([batch])
        cols = {c: arrow_np.column(t, c) for c in HIT_COLUMNS}
        if held is not None:
            cols = {c: np.concatenate([held[c], cols[c]]) for c in HIT_COLUMNS}
        if not len(cols["doc"]):
            continue
        cut = int(np.searchsorted(cols["doc"], cols["doc"][-1], "left"))  # the last document may go on
        held = {c: v[cut:] for c, v in cols.items()}
        if cut:
            yield np.unique(cols["doc"][:cut]), {c: v[:cut] for c, v in cols.items()}
    if held is not None and len(held["doc"]):
        yield np.unique(held["doc"]), held


def _near_duplicates(index_dir: Path, manifest: dict, prepared: PreparedWorks,
                     found: dict[tuple[int, int], float], with_spans: set[tuple[int, int]], th: Thresholds, src,
                     work_of: dict, cmi: tuple[dict, dict], copies: dict[int, int]) -> list[dict]:
    """Whole-document near-duplicates (MinHash LSH) without span evidence: a record of their own (not
    `copied`: containment decides that); pairs with span evidence carry the figure in their record."""
    new = sorted({d for (f, d) in found if (f, d) not in with_spans})
    if not new:
        return []
    file_cmi, repo_cmi = cmi
    out = []
    for doc_id, locator, sha, _language, n_tokens, _text, _meta, _level in fetch_docs(
            index_dir, manifest, np.array(new, np.int64)):
        for fid in sorted(f for (f, d) in found if d == doc_id and (f, d) not in with_spans):
            w = prepared[fid]
            metrics = {"level": w.level, **measure(w.tokens, w.mask, [], th, None, int(n_tokens), w.sha256 == sha),
                       "near_duplicate": {"jaccard_estimate": round(found[fid, doc_id], 4)},
                       **identical_copies(copies, int(doc_id))}
            # not `copied` (containment decides that): the CMI status is not applicable, the copy is not scanned
            metrics["cmi"] = status_of_copy(file_cmi[fid], w.tokens, None, [], repo_cmi.get(work_of[fid]),
                                            copied=False)
            out.append({"work_id": work_of[fid], "work_file_id": fid, "work_file": w.path, "source_id": src["id"],
                        "source": src["name"], "doc_id": int(doc_id), "doc_locator": locator, "copied": False,
                        "metrics": metrics})
    return out
