"""The tables `match` reads by key, written from a source's finished shards (index format 3, lookup format 3).

  lk-fp-PPPP.{hash,doc,pos}.npy   every fingerprint, sorted by (hash, doc, pos)
  lk-df-PPPP.{hash,df}.npy        the fingerprints found more than once in some document: documents holding
                                  each (for every other fingerprint that count is its rows in lk-fp)
  lk-lsh-PPPP.{band,doc}.npy      one key per MinHash band of each signature, sorted by (band, doc)
  lk-dup-PPPP.{rep,doc}.npy       documents of a content held more than once (index/duplicates.py)

Doc ids are 32-bit when the source has fewer than 2^32 documents (64-bit otherwise). A fingerprint's
occurrences (cf) are the length of its run in lk-fp (found by the binary search that finds its rows), and its
document frequency (df) equals it unless lk-df says otherwise (about 1 fingerprint in 10 of real text): format 2
stored (hash, df, cf) for every distinct fingerprint (24 bytes each) and 64-bit doc ids, and kept each shard's
fingerprints (fp-NNNNN.parquet) beside the same rows here: an index 1.6 times its corpus. Format 3 drops the
shards' fingerprint files once these tables are written (they stay until then: an interrupted indexing
resumes from them). Format-2 indexes are read as they are (`corpus_frequencies`).

Only one document of each content (its representative) has rows in the fp and lsh tables: a document
frequency counts distinct contents, and identical copies are measured once and counted (index/duplicates.py).

PPPP is the partition (index/partitions.py); each column is an uncompressed array read memory-mapped, so a
lookup costs a binary search per key, not a decompressed block per key (lookup format 1, Parquet row groups of
4,096 rows, took ~0.4 s for a 10 KB work's ~290 hashes; still read). The document frequencies are the
ones `match` used to count over the whole index on every run; precomputed, a lookup reads only its hashes'.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.engine import Executor, Shared, shared_value
from ascertain.engine.local import InProcess
from ascertain.fingerprint.minhash import NUM_PERM, MinHashParams, band_keys, band_shape
from ascertain.index import arrow_np
from ascertain.index.duplicates import DUP_SCHEMA, group_contents
from ascertain.index.partitions import (
    MAX_BITS,
    Spill,
    column_path,
    key_runs,
    lookup,
    mapped,
    partition_bits,
    partition_of,
    sort_rows,
    write_columns,
)

FORMAT = 3
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


def doc_dtype(n_docs: int) -> np.dtype:
    """The narrowest doc id column that holds every doc id of the source."""
    return np.dtype("<u4") if n_docs <= np.iinfo(np.uint32).max else np.dtype("<i8")


def narrowed(rows: np.ndarray, n_docs: int) -> np.ndarray:
    """Rows with their `doc` field as doc_dtype(n_docs), in the same field order."""
    dt = np.dtype([(n, doc_dtype(n_docs) if n == "doc" else rows.dtype[n]) for n in rows.dtype.names])
    out = np.empty(len(rows), dt)
    for n in rows.dtype.names:
        out[n] = rows[n]
    return out


def df_exceptions(rows: np.ndarray, n_docs: int) -> np.ndarray:
    """(hash, df) of the fingerprints of rows sorted by (hash, doc) whose df differs from their occurrences."""
    f = frequencies(rows)
    f = f[f["df"] != f["cf"]]
    out = np.empty(len(f), [("hash", "<u8"), ("df", doc_dtype(n_docs))])
    out["hash"], out["df"] = f["hash"], f["df"]
    return out


def build_lookup_tables(index_dir: Path, shards: list[dict], executor: Executor | None = None) -> dict:
    """Write the lookup tables from the shards' rows; the manifest's `lookup` entry.

    Each shard task spilled its own fingerprint and band rows (spill_shard_rows, called by write_shard); a shard
    without its spill (written before the spill moved into the shard tasks, or whose spill was removed) is
    spilled again here, by a task. Each partition is then gathered, filtered of identical copies, sorted and
    written by a task (write_spilled_partition): the driver reads no row of the fingerprint or band tables."""
    ex = executor or InProcess()
    n_fp = sum(s["fingerprints"] for s in shards)
    fp_bits = partition_bits(n_fp)
    bands, rows_per_band = band_shape()
    # documents x bands bounds the band rows (short documents have no signature)
    lsh_bits = partition_bits(sum(s["documents"] for s in shards) * bands)
    redo = [ex.submit(spill_shard, str(index_dir), n, s) for n, s in enumerate(shards)
            if not spilled(index_dir, n)]
    for handle in redo:
        ex.result(handle)
    # copy[doc]: an earlier doc holds its content (index/duplicates.py; 24 bytes a document, one task)
    packed, n_copies, spill_dup, dup_bits = ex.result(ex.submit(group_contents_packed, str(index_dir), shards))
    copies = ex.share(packed)
    n_docs, n_shards = sum(s["documents"] for s in shards), len(shards)  # doc ids 0 .. n_docs - 1
    handles = [ex.submit(write_spilled_partition, "fp", str(index_dir), n_shards, fp_bits, p, copies, n_docs)
               for p in range(1 << fp_bits)]
    handles += [ex.submit(write_spilled_partition, "lsh", str(index_dir), n_shards, lsh_bits, p, copies, n_docs)
                for p in range(1 << lsh_bits)]
    handles += [ex.submit(write_partition, "dup", spill_dup, p, index_dir) for p in range(1 << dup_bits)]
    sha: dict[str, str] = {}
    files: dict[str, list[str]] = {"fp": [], "df": [], "lsh": [], "dup": []}
    for handle in handles:  # in partition order, whichever finished first
        for kind, name, digests in ex.result(handle):
            sha.update(digests)
            files[kind].append(name)
    spill_dup.remove()
    shutil.rmtree(index_dir / SPILL_DIR, ignore_errors=True)
    return {"format": FORMAT, "fp_bits": fp_bits, "lsh_bits": lsh_bits, "dup_bits": dup_bits,
            "distinct_documents": n_docs - n_copies, "identical_copies": n_copies,
            "bands": bands, "rows_per_band": rows_per_band, "minhash_threshold": MinHashParams().threshold,
            "files": files, "sha256": sha}


def group_contents_packed(index_dir: str, shards: list[dict]) -> tuple[np.ndarray, int, Spill, int]:
    """group_contents as a stage: (the copy flags packed 8 a byte, how many, the spilled (rep, doc) rows, their
    partition bits)."""
    copy, spill_dup, dup_bits = group_contents(Path(index_dir), shards)
    return np.packbits(copy), int(copy.sum()), spill_dup, dup_bits


# The per-shard spill: shard n's rows of the fp and lsh tables in one raw file per table, ordered by their
# partition at SPILL_BITS (the finest there is) with the rows' offsets beside them. A partition at fewer bits
# is a run of consecutive fine partitions (the top bits of one mixed key), so its task reads one slice of each
# shard's file, whatever the number of partitions the corpus turns out to need.
SPILL_DIR = ".spill"
SPILL_BITS = MAX_BITS
SPILL_DTYPES = {"fp": FP_ROWS, "lsh": BAND_ROWS}


def _spill_paths(index_dir: Path, kind: str, n: int) -> tuple[Path, Path]:
    base = index_dir / SPILL_DIR / f"{kind}-{n:05d}"
    return base.with_name(base.name + ".bin"), base.with_name(base.name + ".at.npy")


def spilled(index_dir: Path, n: int) -> bool:
    """Whether shard n's rows are spilled whole: the offsets (written last) exist and their last says the size
    of the rows' file (the spill is not synced to disk: a machine that stopped mid-way may leave it short)."""
    for kind, dtype in SPILL_DTYPES.items():
        data, offsets = _spill_paths(index_dir, kind, n)
        try:
            at = np.load(offsets, allow_pickle=False)
            if len(at) != (1 << SPILL_BITS) + 1 or int(at[-1]) * dtype.itemsize != data.stat().st_size:
                return False
        except (OSError, ValueError):
            return False
    return True


def spill_shard_rows(index_dir: Path, n: int, fp_rows: np.ndarray, mh_docs: np.ndarray, sigs: np.ndarray) -> None:
    """Spill shard n's fingerprint rows (FP_ROWS) and the band rows of its signatures (docs with one)."""
    bands, rows_per_band = band_shape()
    keys = band_keys(sigs, bands, rows_per_band)
    b = np.empty(keys.size, BAND_ROWS)
    b["band"] = keys.ravel()
    b["doc"] = np.repeat(mh_docs, bands)
    (index_dir / SPILL_DIR).mkdir(exist_ok=True)
    for kind, rows in (("fp", fp_rows), ("lsh", b)):
        part = partition_of(rows[rows.dtype.names[0]], SPILL_BITS, mixed=True).astype(np.uint16)
        order = np.argsort(part, kind="stable")  # 16-bit keys: a radix sort, linear
        at = np.searchsorted(part[order], np.arange((1 << SPILL_BITS) + 1)).astype(np.int64)
        data, offsets = _spill_paths(index_dir, kind, n)
        _write_unsynced(data, rows[order].tobytes())
        buf = io.BytesIO()
        np.save(buf, at, allow_pickle=False)
        _write_unsynced(offsets, buf.getvalue())


def _write_unsynced(path: Path, data: bytes) -> None:
    """A temporary name, then a rename: never a partial file under the name (not synced: a spill is redone
    when found short, `spilled`)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def spill_shard(index_dir: str, n: int, shard: dict) -> None:
    """Spill a written shard's rows again from its fp and mh files (a stage of an executor)."""
    folder = Path(index_dir)
    t = pq.read_table(folder / shard["fingerprints_file"])
    rows = np.empty(t.num_rows, FP_ROWS)
    for name in FP_ROWS.names:
        rows[name] = t.column(name).to_numpy()
    mh = pq.read_table(folder / shard["minhash_file"])
    sigs = np.frombuffer(b"".join(mh.column("sig").to_pylist()), "<u4").reshape(mh.num_rows, NUM_PERM)
    spill_shard_rows(folder, n, rows, mh.column("doc").to_numpy(), sigs)


def read_spilled(index_dir: Path, kind: str, n_shards: int, bits: int, p: int) -> np.ndarray:
    """Partition p (of `bits` bits) of table `kind`: its slice of every shard's spill."""
    dtype = SPILL_DTYPES[kind]
    lo, hi = p << (SPILL_BITS - bits), (p + 1) << (SPILL_BITS - bits)
    parts = []
    for n in range(n_shards):
        data, offsets = _spill_paths(index_dir, kind, n)
        at = np.load(offsets, allow_pickle=False)
        a, b = int(at[lo]), int(at[hi])
        if b > a:
            parts.append(np.fromfile(data, dtype, count=b - a, offset=a * dtype.itemsize))
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def write_spilled_partition(kind: str, index_dir: str, n_shards: int, bits: int, p: int, copies: Shared,
                            n_docs: int) -> list[tuple[str, str, dict[str, str]]]:
    """Gather partition p of table `kind` from the shards' spills, drop the rows of identical copies (only a
    content's representative has rows), sort and write it (a stage of an executor)."""
    folder = Path(index_dir)
    rows = read_spilled(folder, kind, n_shards, bits, p)
    copy = np.unpackbits(shared_value(copies), count=n_docs).astype(bool)
    return _write_sorted(kind, rows[~copy[rows["doc"]]], p, folder, n_docs)


def write_partition(kind: str, spill: Spill, p: int, index_dir: Path) -> list[tuple[str, str, dict[str, str]]]:
    """Sort one spilled partition and write its table(s): [(kind, base name, {file: sha256})] (a stage of an
    executor)."""
    return _write_sorted(kind, spill.read(p), p, index_dir)


def _write_sorted(kind: str, rows: np.ndarray, p: int, index_dir: Path, n_docs: int | None = None
                  ) -> list[tuple[str, str, dict[str, str]]]:
    rows = sort_rows(rows)  # one order whatever order the rows were spilled in
    if kind == "fp":
        tables = [("fp", narrowed(rows, n_docs)), ("df", df_exceptions(rows, n_docs))]
    else:
        tables = [(kind, narrowed(rows, n_docs) if n_docs is not None else rows)]
    out = []
    for k, t in tables:
        name = f"lk-{k}-{p:04d}"
        out.append((k, name, write_columns(t, index_dir / name)))
    return out


def replaced_shard_files(manifest: dict) -> list[str]:
    """Drop the shards' fingerprint files from a manifest whose lookup tables (format 3) hold their rows: the
    names to delete once the manifest is written. Each shard keeps its fingerprint count."""
    if manifest.get("lookup", {}).get("format", 2) < 3:
        return []
    names = []
    for s in manifest["shards"]:
        name = s.pop("fingerprints_file", None)
        if name:
            s.get("sha256", {}).pop(name, None)
            names.append(name)
    return names


def corpus_fingerprints(index_dir: Path, lk: dict, hashes: np.ndarray, columns: list[str] | None = None
                        ) -> pa.Table:
    """Every (hash, doc, pos) of the corpus whose hash is one of `hashes`."""
    return lookup(index_dir, lk["files"]["fp"], lk["fp_bits"], "hash", hashes, SCHEMAS["fp"], columns)


def corpus_frequencies(index_dir: Path, lk: dict, hashes: np.ndarray) -> pa.Table:
    """(hash, df, cf) of those of `hashes` the corpus holds, in hash order."""
    if lk.get("format", 2) < 3:  # a (hash, df, cf) row per distinct fingerprint
        return lookup(index_dir, lk["files"]["df"], lk["fp_bits"], "hash", hashes, SCHEMAS["df"])
    keys = np.unique(np.asarray(hashes, np.uint64))
    parts = partition_of(keys, lk["fp_bits"], mixed=True)
    found = []
    for p in np.unique(parts).tolist():
        k = keys[parts == p]
        lo, hi = key_runs(index_dir / lk["files"]["fp"][p], "hash", k)
        held = hi > lo
        h, cf = k[held], (hi - lo)[held].astype(np.int64)
        df = cf.copy()
        x = index_dir / lk["files"]["df"][p]
        xh = mapped(column_path(x, "hash"))
        if len(xh) and len(h):
            at = np.minimum(np.searchsorted(xh, h), len(xh) - 1)
            other = xh[at] == h
            df[other] = mapped(column_path(x, "df"))[at[other]]
        found.append((h, df, cf))
    if not found:
        return arrow_np.empty(SCHEMAS["df"])
    h, df, cf = (np.concatenate(c) for c in zip(*found, strict=True))
    order = np.argsort(h, kind="stable")  # mixed partitions are not in hash order
    return arrow_np.table({"hash": h[order], "df": df[order], "cf": cf[order]}, SCHEMAS["df"])


def band_candidates(index_dir: Path, lk: dict, keys: np.ndarray) -> pa.Table:
    """(band, doc) of the corpus signatures sharing one of the band keys."""
    return lookup(index_dir, lk["files"]["lsh"], lk["lsh_bits"], "band", keys, SCHEMAS["lsh"])

