"""The tables `match` reads by key, written from a source's finished shards (index format 2, lookup format 2).

  lk-fp-PPPP.{hash,doc,pos}.npy   every fingerprint, sorted by (hash, doc, pos)
  lk-df-PPPP.{hash,df,cf}.npy     per distinct fingerprint: documents holding it, occurrences
  lk-lsh-PPPP.{band,doc}.npy      one key per MinHash band of each signature, sorted by (band, doc)
  lk-dup-PPPP.{rep,doc}.npy       documents of a content held more than once (index/duplicates.py)

Only one document of each content (its representative) has rows in the fp and lsh tables: a document
frequency counts distinct contents, and identical copies are measured once and counted (index/duplicates.py).

PPPP is the partition (index/partitions.py); each column is an uncompressed array read memory-mapped, so a
lookup costs a binary search per key, not a decompressed block per key (lookup format 1, Parquet row groups of
4,096 rows, took ~0.4 s for a 10 KB work's ~290 hashes; still read). The document frequencies are the
ones `match` used to count over the whole index on every run; precomputed, a lookup reads only its hashes'.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.engine import Executor
from ascertain.engine.local import InProcess
from ascertain.fingerprint.minhash import NUM_PERM, MinHashParams, band_keys, band_shape
from ascertain.index.duplicates import DUP_SCHEMA, group_contents
from ascertain.index.partitions import Spill, lookup, partition_bits, sort_rows, write_columns

FORMAT = 2
FP_ROWS = np.dtype([("hash", "<u8"), ("doc", "<i8"), ("pos", "<u4")])
BAND_ROWS = np.dtype([("band", "<u8"), ("doc", "<i8")])
SCHEMAS = {
    "fp": pa.schema([("hash", pa.uint64()), ("doc", pa.int64()), ("pos", pa.uint32())]),
    "df": pa.schema([("hash", pa.uint64()), ("df", pa.int64()), ("cf", pa.int64())]),
    "lsh": pa.schema([("band", pa.uint64()), ("doc", pa.int64())]),
    "dup": DUP_SCHEMA,
}


def frequencies(rows: np.ndarray) -> np.ndarray:
    """Per distinct hash of rows sorted by (hash, doc): (hash, df, cf)."""
    h, d = rows["hash"], rows["doc"]
    new_hash = np.ones(len(h), bool)
    new_hash[1:] = h[1:] != h[:-1]
    new_doc = new_hash.copy()
    new_doc[1:] |= d[1:] != d[:-1]
    starts = np.flatnonzero(new_hash)
    out = np.empty(len(starts), [("hash", "<u8"), ("df", "<i8"), ("cf", "<i8")])
    out["hash"] = h[starts]
    out["cf"] = np.diff(np.append(starts, len(h)))
    out["df"] = np.add.reduceat(new_doc.astype(np.int64), starts) if len(starts) else 0
    return out


def build_lookup_tables(index_dir: Path, shards: list[dict], executor: Executor | None = None) -> dict:
    """Write the lookup tables from the shards' fingerprint and MinHash files; the manifest's `lookup` entry.
    The spill is one pass here; each partition is then sorted and written by `executor` (write_partition)."""
    n_fp = sum(s["fingerprints"] for s in shards)
    fp_bits = partition_bits(n_fp)
    bands, rows_per_band = band_shape()
    # documents x bands bounds the band rows (short documents have no signature)
    lsh_bits = partition_bits(sum(s["documents"] for s in shards) * bands)
    copy, spill_dup, dup_bits = group_contents(index_dir, shards)  # copy[doc]: an earlier doc holds its content
    spill_fp = Spill(index_dir / ".spill-fp", fp_bits, FP_ROWS)
    spill_lsh = Spill(index_dir / ".spill-lsh", lsh_bits, BAND_ROWS)
    for s in shards:
        t = pq.read_table(index_dir / s["fingerprints_file"])
        rows = np.empty(t.num_rows, FP_ROWS)
        for name in FP_ROWS.names:
            rows[name] = t.column(name).to_numpy()
        spill_fp.add(rows[~copy[rows["doc"]]])
        mh = pq.read_table(index_dir / s["minhash_file"])
        mh_docs = mh.column("doc").to_numpy()
        sigs = np.frombuffer(b"".join(mh.column("sig").to_pylist()), "<u4").reshape(mh.num_rows, NUM_PERM)
        first = ~copy[mh_docs]
        keys = band_keys(sigs[first], bands, rows_per_band)
        b = np.empty(keys.size, BAND_ROWS)
        b["band"] = keys.ravel()
        b["doc"] = np.repeat(mh_docs[first], bands)
        spill_lsh.add(b)
    ex = executor or InProcess()
    handles = [ex.submit(write_partition, "fp", spill_fp, p, index_dir) for p in range(1 << fp_bits)]
    handles += [ex.submit(write_partition, "lsh", spill_lsh, p, index_dir) for p in range(1 << lsh_bits)]
    handles += [ex.submit(write_partition, "dup", spill_dup, p, index_dir) for p in range(1 << dup_bits)]
    sha: dict[str, str] = {}
    files: dict[str, list[str]] = {"fp": [], "df": [], "lsh": [], "dup": []}
    for handle in handles:  # in partition order, whichever finished first
        for kind, name, digests in ex.result(handle):
            sha.update(digests)
            files[kind].append(name)
    for spill in (spill_fp, spill_lsh, spill_dup):
        spill.remove()
    return {"format": FORMAT, "fp_bits": fp_bits, "lsh_bits": lsh_bits, "dup_bits": dup_bits,
            "distinct_documents": int(len(copy) - copy.sum()), "identical_copies": int(copy.sum()),
            "bands": bands, "rows_per_band": rows_per_band, "minhash_threshold": MinHashParams().threshold,
            "files": files, "sha256": sha}


def write_partition(kind: str, spill: Spill, p: int, index_dir: Path) -> list[tuple[str, str, dict[str, str]]]:
    """Sort one spilled partition and write its table(s): [(kind, base name, {file: sha256})] (a stage of an
    executor)."""
    rows = sort_rows(spill.read(p))
    tables = [("fp", rows), ("df", frequencies(rows))] if kind == "fp" else [(kind, rows)]
    out = []
    for k, t in tables:
        name = f"lk-{k}-{p:04d}"
        out.append((k, name, write_columns(t, index_dir / name)))
    return out


def corpus_fingerprints(index_dir: Path, lk: dict, hashes: np.ndarray, columns: list[str] | None = None
                        ) -> pa.Table:
    """Every (hash, doc, pos) of the corpus whose hash is one of `hashes`."""
    return lookup(index_dir, lk["files"]["fp"], lk["fp_bits"], "hash", hashes, SCHEMAS["fp"], columns)


def corpus_frequencies(index_dir: Path, lk: dict, hashes: np.ndarray) -> pa.Table:
    """(hash, df, cf) of those of `hashes` the corpus holds."""
    return lookup(index_dir, lk["files"]["df"], lk["fp_bits"], "hash", hashes, SCHEMAS["df"])


def band_candidates(index_dir: Path, lk: dict, keys: np.ndarray) -> pa.Table:
    """(band, doc) of the corpus signatures sharing one of the band keys."""
    return lookup(index_dir, lk["files"]["lsh"], lk["lsh_bits"], "band", keys, SCHEMAS["lsh"])

