"""Tables sorted by a 64-bit key, split into partitions by the key's top bits, read by key.

Lookup formats 2 and 3 (3 written now; index/lookup_tables.py says what each table holds): each partition of a
table is one uncompressed `.npy` file per column, sorted by the key, read memory-mapped: a lookup of k keys is a
binary search per key in the key column (a few pages each) and the pages of the rows found, whatever the corpus
size. The partition is named by the top bits of the key times an odd constant: winnowing keeps the smallest
hash of each window, so the fingerprints crowd the low end of the 64-bit range and their own top bits would put
almost every row in partition 0.
Format 1 (read only, from indexes built before): Parquet files partitioned by the key's own top bits, read by
the row groups whose min/max statistics can hold a key.

A process that looks up many times (the web app's workers, a batch) opens each file once: the memory maps and
Parquet footers (with their row groups' key ranges) are kept per path, and opened again when the file changes
(its inode, size or modification time), at most OPEN_FILES at a time.

Written once a source's shards are all indexed: rows are spilled to one raw file per partition (one shard in
memory at a time), then each partition alone is sorted and written, so the peak memory of the stage is one
partition (about PARTITION_ROWS rows), not the corpus.

These functions are pure over batches (rows in, files out; keys in, rows out): an executor that runs them on
other machines, one partition each, is the only thing a distributed engine adds.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.index import arrow_np
from ascertain.index.atomic import atomic_write_bytes

PARTITION_ROWS = 4_000_000  # rows per partition at most (about): the sort of one is the stage's peak memory
MAX_BITS = 12


def partition_bits(n_rows: int) -> int:
    """How many top bits of the key name the partition, for n_rows rows in all."""
    bits = 0
    while bits < MAX_BITS and (n_rows >> bits) > PARTITION_ROWS:
        bits += 1
    return bits


MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it permutes the 64-bit keys (format 2 partitions)


def partition_of(keys: np.ndarray, bits: int, mixed: bool = False) -> np.ndarray:
    if bits == 0:
        return np.zeros(len(keys), np.int64)
    keys = np.asarray(keys, np.uint64)
    if mixed:
        keys = keys * MIX  # wraps modulo 2**64, as meant
    return (keys >> np.uint64(64 - bits)).astype(np.int64)


class Spill:
    """Rows (a numpy structured array whose first field is the key) appended to one raw file per partition."""

    def __init__(self, folder: Path, bits: int, dtype: np.dtype) -> None:
        self.folder, self.bits, self.dtype = folder, bits, np.dtype(dtype)  # partitions as in format 2 (mixed)
        shutil.rmtree(folder, ignore_errors=True)  # a spill left by an interrupted run is redone
        folder.mkdir(parents=True)

    def add(self, rows: np.ndarray) -> None:
        part = partition_of(rows[self.dtype.names[0]], self.bits, mixed=True)
        order = np.argsort(part, kind="stable")
        part = part[order]
        bounds = np.searchsorted(part, np.arange((1 << self.bits) + 1))
        for p in np.flatnonzero(np.diff(bounds)).tolist():
            with open(self.folder / f"{p}.bin", "ab") as fh:
                rows[order[bounds[p]:bounds[p + 1]]].tofile(fh)

    def read(self, p: int) -> np.ndarray:
        path = self.folder / f"{p}.bin"
        return np.fromfile(path, self.dtype) if path.exists() else np.empty(0, self.dtype)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def sort_rows(rows: np.ndarray) -> np.ndarray:
    """Rows in the order of their fields (key first, then the others): one order for the same rows."""
    names = rows.dtype.names
    return rows[np.lexsort([rows[n] for n in reversed(names)])]


OPEN_FILES = 1024  # memory maps and Parquet footers kept open by a process (each map holds a file descriptor)
_OPEN: OrderedDict[str, tuple[tuple, object]] = OrderedDict()
_OPEN_LOCK = threading.Lock()


def _opened(path: Path, kind: str, make: Callable[[Path], object]) -> object:
    """`make(path)`, made once per process while the file stays the same (least recently used dropped)."""
    st = os.stat(path)
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    key = f"{kind}\0{path}"
    with _OPEN_LOCK:
        held = _OPEN.get(key)
        if held is not None and held[0] == stamp:
            _OPEN.move_to_end(key)
            return held[1]
    value = make(path)  # outside the lock: two threads may both open it, one is kept
    with _OPEN_LOCK:
        _OPEN[key] = (stamp, value)
        _OPEN.move_to_end(key)
        while len(_OPEN) > OPEN_FILES:
            _OPEN.popitem(last=False)
    return value


def mapped(path: Path) -> np.ndarray:
    """A `.npy` column, memory-mapped read-only (kept open: `_opened`)."""
    return _opened(path, "npy", lambda p: np.load(p, mmap_mode="r", allow_pickle=False))


class _Footer:
    """A Parquet file's footer and the key ranges of its row groups per sorted column (computed once)."""

    def __init__(self, path: Path) -> None:
        self.metadata = pq.read_metadata(path)
        self.schema = self.metadata.schema.to_arrow_schema()
        self.ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def ranges_of(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self.ranges:
            self.ranges[column] = _ranges(self.metadata, self.schema, column)
        return self.ranges[column]


def parquet_schema(path: Path) -> pa.Schema:
    """A Parquet file's schema, from its footer read once per process."""
    return _opened(path, "parquet", _Footer).schema


def row_group_ranges(pf: pq.ParquetFile, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of a sorted integer column in each row group, from the file's statistics."""
    return _ranges(pf.metadata, pf.schema_arrow, column)


def _ranges(md: pq.FileMetaData, schema: pa.Schema, column: str) -> tuple[np.ndarray, np.ndarray]:
    j = schema.get_field_index(column)
    dtype = np.uint64 if pa.types.is_unsigned_integer(schema.field(j).type) else np.int64
    lo = np.empty(md.num_row_groups, dtype)
    hi = np.empty_like(lo)
    info = np.iinfo(dtype)
    for i in range(md.num_row_groups):
        st = md.row_group(i).column(j).statistics
        if st is None or not st.has_min_max:  # no statistics (an empty group): read it
            lo[i], hi[i] = (info.min, info.max) if md.row_group(i).num_rows else (info.max, info.min)
        else:
            lo[i], hi[i] = st.min, st.max
    return lo, hi


def row_groups_holding(lo: np.ndarray, hi: np.ndarray, keys: np.ndarray) -> list[int]:
    """Row groups whose [min, max] holds at least one of the sorted keys."""
    a = np.searchsorted(keys, lo, "left")
    b = np.searchsorted(keys, hi, "right")
    return np.flatnonzero(b > a).tolist()


def read_keys(path: Path, column: str, keys: np.ndarray, columns: list[str] | None = None) -> pa.Table:
    """The rows of one file sorted by `column` whose value is one of `keys` (sorted, unique). The footer is read
    once per process (`_opened`); each read opens the file anew (a ParquetFile is not shared between threads)."""
    footer: _Footer = _opened(path, "parquet", _Footer)
    lo, hi = footer.ranges_of(column)
    keys = np.asarray(keys, lo.dtype)
    groups = row_groups_holding(lo, hi, keys)
    if not groups:
        return arrow_np.empty(footer.schema, columns)
    t = pq.ParquetFile(path, metadata=footer.metadata).read_row_groups(groups, columns=columns)
    col = arrow_np.column(t, column)
    at = np.minimum(np.searchsorted(keys, col), len(keys) - 1)
    return arrow_np.take(t, keys[at] == col)


def write_columns(rows: np.ndarray, base: Path) -> dict[str, str]:
    """Each field of sorted rows as `BASE.FIELD.npy`, written atomically: {file name: sha256}."""
    out = {}
    for name in rows.dtype.names:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(rows[name]), allow_pickle=False)
        data = buf.getvalue()
        path = column_path(base, name)
        atomic_write_bytes(path, data)
        out[path.name] = hashlib.sha256(data).hexdigest()  # of the bytes written, not read back
    return out


def read_keys_mapped(base: Path, column: str, keys: np.ndarray, columns: list[str]) -> dict[str, np.ndarray]:
    """The rows of one format-2 partition whose key is one of `keys` (sorted, unique), as {column: values}."""
    lo, hi = key_runs(base, column, keys)
    n = hi - lo
    # the row numbers of every match, in key order: each key's run lo..hi-1
    at = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n) + np.arange(int(n.sum()))
    return {c: np.asarray(mapped(column_path(base, c))[at]) for c in columns}


def column_path(base: Path, column: str) -> Path:
    return base.with_name(f"{base.name}.{column}.npy")


def key_runs(base: Path, column: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted keys, the row range [lo, hi) each covers in a format-2/3 partition's sorted key column."""
    key_col = mapped(column_path(base, column))
    keys = np.asarray(keys, key_col.dtype)
    return np.searchsorted(key_col, keys, "left"), np.searchsorted(key_col, keys, "right")


def lookup(index_dir: Path, files: list[str], bits: int, column: str, keys: np.ndarray, schema: pa.Schema,
           columns: list[str] | None = None) -> pa.Table:
    """The rows of a partitioned table whose key is one of `keys`, in key order. `files` are the partitions'
    `.parquet` files (format 1) or their base names (format 2, one `.npy` per column of `schema`)."""
    keys = np.unique(np.asarray(keys, np.uint64))
    mapped = bool(files) and not files[0].endswith(".parquet")
    parts = partition_of(keys, bits, mixed=mapped)
    wanted = columns or schema.names
    out = schema if columns is None else pa.schema([schema.field(c) for c in columns])
    if mapped:
        read = list(dict.fromkeys([column, *wanted]))  # the key too: mixed partitions are not in key order
        found = [read_keys_mapped(index_dir / files[p], column, keys[parts == p], read)
                 for p in np.unique(parts).tolist()]
        if not found:
            return arrow_np.empty(out)
        cols = {c: np.concatenate([f[c] for f in found]) for c in read}
        # a key's rows all sit in one partition, in (key, doc, pos) order: a stable sort on the key restores the
        # order of one sorted table
        order = np.argsort(cols[column], kind="stable")
        return arrow_np.table({c: cols[c][order] for c in wanted}, out)
    tables = [read_keys(index_dir / files[p], column, keys[parts == p], columns) for p in np.unique(parts).tolist()]
    return pa.concat_tables(tables) if tables else arrow_np.empty(out)
