"""Reading a source's index for `match`: seeds and their corpus rows, near-duplicate candidates, documents.

Everything is read by key from the lookup tables and row groups (index/lookup_tables.py): the cost follows
the works and what they match, not the corpus size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ascertain.errors import AscertainError
from ascertain.fingerprint.minhash import band_keys, bands_agree, has_signature, jaccard_estimate, signature
from ascertain.index import arrow_np
from ascertain.index.lookup_tables import band_candidates, corpus_fingerprints, corpus_frequencies
from ascertain.index.partitions import parquet_schema, read_keys
from ascertain.text.levels import CODE_LEVELS

DOC_COLUMNS = ["doc", "locator", "sha256", "language", "tokens", "text", "meta"]
SEED_SCHEMA = pa.schema([("hash", pa.uint64()), ("df", pa.int64())])


def lookup_of(name: str, manifest: dict) -> dict:
    """The lookup tables of a source's index; an index built before them is refused (it would need a scan)."""
    lk = manifest.get("lookup")
    if lk is None:
        raise AscertainError(name, f"was indexed by an older version (index format {manifest.get('format', 1)}, "
                             "without the lookup tables matching reads)",
                             "index it again: `ascertain sources remove CASE NAME`, then the same "
                             "`ascertain corpus add` / `outputs add` as before")
    return lk


@dataclass
class Seeds:
    """The corpus side of the works' hashes that seed spans, and what was left out."""

    seeds: pa.Table  # hash, df
    rows: pa.Table  # hash, doc, pos: every corpus fingerprint of a seed hash
    left_out: np.ndarray  # sorted: hashes the corpus holds that seed nothing (match/hit_bounds.py)
    counts: dict[str, int]


def register_seeds(con: duckdb.DuckDBPyConnection, seeds: Seeds) -> None:
    """Register corpus_seeds (hash, df) and corpus_rows (hash, doc, pos) for a DuckDB join (match/run.py)."""
    con.register("corpus_seeds", seeds.seeds)
    con.register("corpus_rows", seeds.rows)


def seed_tables(index_dir: Path, lk: dict, work_hashes: np.ndarray, work_own: np.ndarray, max_df: int,
                max_hash_hits: int, run_totals: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Seeds:
    """The corpus side of the works' hashes that seed spans, read from the lookup tables.

    No document frequency makes a copy disappear: a fingerprint in more than `max_df` distinct contents
    still seeds when one of its work occurrences touches the work's own text (`work_own`: not only notices or
    licence text). Left out are only (1) frequent fingerprints lying wholly in the work's notices (boilerplate
    that counts for nothing: a document sharing only a licence is not a copy of the work), never read; (2)
    repetition: a fingerprint whose work occurrences x its occurrences per corpus document holding it exceed
    `max_hash_hits` (`0, 0, 0, ...` in data tables), which multiplies hits in each document without adding
    evidence. Counting distinct contents (index/duplicates.py), identical copies raise no frequency at all.

    `run_totals`, when the run's works are matched in batches (match/run.py): for each distinct hash of this
    batch's `work_hashes` (in hash order), its occurrences in all the run's works, whether one of them touches
    a work's own text, and whether this batch is the first holding it: the seeds are decided over all the works,
    as in one pass, and each fingerprint left out is counted once (in its first batch)."""
    wh, m = np.unique(work_hashes, return_counts=True)
    own = np.unique(work_hashes[work_own])
    first = None
    if run_totals is not None:
        m, own_any, first = run_totals
        own = wh[own_any]
    freq = corpus_frequencies(index_dir, lk, wh)
    h, df, cf = (arrow_np.column(freq, c) for c in ("hash", "df", "cf"))
    per_doc = cf * m[np.searchsorted(wh, h)] / np.maximum(df, 1)  # hits it adds in a document holding it
    frequent = df > max_df
    notices_only = frequent & ~np.isin(h, own)
    repetition = per_doc > max_hash_hits
    keep = ~notices_only & ~repetition
    seeds = arrow_np.table({"hash": h[keep], "df": df[keep]}, SEED_SCHEMA)
    counted = np.ones(len(h), bool) if first is None else first[np.searchsorted(wh, h)]
    # what the corpus holds but does not seed: a pair's hits are bounded knowing them (match/hit_bounds.py)
    return Seeds(seeds, corpus_fingerprints(index_dir, lk, h[keep]), np.sort(h[~keep]),
                 {"frequent": int((frequent & keep & counted).sum()),
                  "frequent_rows": int(cf[frequent & keep & counted].sum()),
                  "left_out_notices_only": int((notices_only & ~repetition & counted).sum()),
                  "left_out_repetition": int((repetition & counted).sum())})


def near_duplicate_pairs(index_dir: Path, manifest: dict, works: dict[int, np.ndarray]
                         ) -> dict[tuple[int, int], float]:
    """{(work file, doc): estimated Jaccard} of the corpus documents near-duplicating each work (fingerprint
    set -> MinHash signature -> its bands looked up in the index; candidates checked on the signatures)."""
    lk = manifest["lookup"]
    bands, rows = lk["bands"], lk["rows_per_band"]
    sigs = {fid: sig for fid, h in works.items() if has_signature(sig := signature(h))}
    if not sigs:
        return {}
    fids = np.array(list(sigs), np.int64)
    keys = band_keys(np.stack(list(sigs.values())), bands, rows).ravel()
    key_fid = np.repeat(fids, bands)
    order = np.argsort(keys, kind="stable")
    keys, key_fid = keys[order], key_fid[order]
    cand = band_candidates(index_dir, lk, keys)
    ck, cdoc = arrow_np.column(cand, "band"), arrow_np.column(cand, "doc")
    lo, hi = np.searchsorted(keys, ck, "left"), np.searchsorted(keys, ck, "right")
    pairs = sorted({(int(f), int(d)) for a, b, d in zip(lo.tolist(), hi.tolist(), cdoc.tolist(), strict=True)
                    for f in key_fid[a:b]})
    doc_sigs = _signatures_of(index_dir, manifest, np.unique(np.array([d for _, d in pairs], np.int64)))
    threshold = lk["minhash_threshold"]
    found = {}
    for fid, doc in pairs:
        q, c = sigs[fid], doc_sigs[doc]
        j = jaccard_estimate(q, c)
        if j >= threshold and bands_agree(q, c, bands, rows):
            found[fid, doc] = j
    return found


def _by_shard(manifest: dict, doc_ids: np.ndarray):
    """(shard, its doc ids) for sorted doc ids, in doc order."""
    firsts = np.array([s["first_doc"] for s in manifest["shards"]], np.int64)
    at = np.searchsorted(firsts, doc_ids, "right") - 1
    for n in np.unique(at).tolist():
        yield manifest["shards"][n], doc_ids[at == n]


def _signatures_of(index_dir: Path, manifest: dict, doc_ids: np.ndarray) -> dict[int, np.ndarray]:
    out = {}
    for shard, ids in _by_shard(manifest, doc_ids):
        t = read_keys(index_dir / shard["minhash_file"], "doc", ids)
        for d, sig in zip(t.column("doc").to_pylist(), t.column("sig").to_pylist(), strict=True):
            out[d] = np.frombuffer(sig, "<u4")
    return out


def fetch_docs(index_dir: Path, manifest: dict, doc_ids: np.ndarray, chunk: int = 256):
    """(doc, locator, sha256, language, tokens, text, meta JSON, level) of the sorted doc ids, in doc order, a
    chunk at a time (bounded memory whatever the match count); only the row groups holding them are read.
    `level` is the level the document was indexed at (None in an index written before it was stored: the
    source's level)."""
    for shard, ids in _by_shard(manifest, doc_ids):
        path = index_dir / shard["documents_file"]
        stored = "level" in parquet_schema(path).names  # the footer read once per process
        for lo in range(0, len(ids), chunk):
            t = read_keys(path, "doc", ids[lo:lo + chunk], DOC_COLUMNS + (["level"] if stored else []))
            levels = [CODE_LEVELS[c] for c in t.column("level").to_pylist()] if stored else [None] * t.num_rows
            yield from zip(*(t.column(c).to_pylist() for c in DOC_COLUMNS), levels, strict=True)


def fetch_locators(index_dir: Path, manifest: dict, doc_ids: np.ndarray):
    """(doc, locator) of the sorted doc ids, in doc order (the locator column only)."""
    for shard, ids in _by_shard(manifest, doc_ids):
        t = read_keys(index_dir / shard["documents_file"], "doc", ids, ["doc", "locator"])
        yield from zip(t.column("doc").to_pylist(), t.column("locator").to_pylist(), strict=True)
