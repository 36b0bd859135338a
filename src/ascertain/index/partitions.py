"""Tables sorted by a 64-bit key, split by the key's top bits into Parquet files, read by key.

A lookup of k keys reads, in each partition holding one of them, only the row groups whose min/max statistics
can hold one: at most k small row groups per table whatever the corpus size, and at most every row group once
for a batch of many keys. Written once a source's shards are all indexed: rows are spilled to one raw file per
partition (one shard in memory at a time), then each partition alone is sorted and written, so the peak memory
of the stage is one partition (about PARTITION_ROWS rows), not the corpus.

These functions are pure over batches (rows in, files out; keys in, rows out): an executor that runs them on
other machines, one partition each, is the only thing a distributed engine adds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.index import arrow_np

ROW_GROUP_ROWS = 4096  # a lookup reads one such group per wanted key at most: small enough to be cheap
PARTITION_ROWS = 4_000_000  # rows per partition at most (about): the sort of one is the stage's peak memory
MAX_BITS = 12


def partition_bits(n_rows: int) -> int:
    """How many top bits of the key name the partition, for n_rows rows in all."""
    bits = 0
    while bits < MAX_BITS and (n_rows >> bits) > PARTITION_ROWS:
        bits += 1
    return bits


def partition_of(keys: np.ndarray, bits: int) -> np.ndarray:
    if bits == 0:
        return np.zeros(len(keys), np.int64)
    return (np.asarray(keys, np.uint64) >> np.uint64(64 - bits)).astype(np.int64)


class Spill:
    """Rows (a numpy structured array whose first field is the key) appended to one raw file per partition."""

    def __init__(self, folder: Path, bits: int, dtype: np.dtype) -> None:
        self.folder, self.bits, self.dtype = folder, bits, np.dtype(dtype)
        shutil.rmtree(folder, ignore_errors=True)  # a spill left by an interrupted run is redone
        folder.mkdir(parents=True)

    def add(self, rows: np.ndarray) -> None:
        part = partition_of(rows[self.dtype.names[0]], self.bits)
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


def to_table(rows: np.ndarray, schema: pa.Schema) -> pa.Table:
    return arrow_np.table({f.name: rows[f.name] for f in schema}, schema)


def row_group_ranges(pf: pq.ParquetFile, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of a sorted integer column in each row group, from the file's statistics."""
    md = pf.metadata
    j = pf.schema_arrow.get_field_index(column)
    dtype = np.uint64 if pa.types.is_unsigned_integer(pf.schema_arrow.field(j).type) else np.int64
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
    """The rows of one file sorted by `column` whose value is one of `keys` (sorted, unique)."""
    pf = pq.ParquetFile(path)
    lo, hi = row_group_ranges(pf, column)
    keys = np.asarray(keys, lo.dtype)
    groups = row_groups_holding(lo, hi, keys)
    if not groups:
        return arrow_np.empty(pf.schema_arrow, columns)
    t = pf.read_row_groups(groups, columns=columns)
    col = arrow_np.column(t, column)
    at = np.minimum(np.searchsorted(keys, col), len(keys) - 1)
    return arrow_np.take(t, keys[at] == col)


def lookup(index_dir: Path, files: list[str], bits: int, column: str, keys: np.ndarray,
           columns: list[str] | None = None) -> pa.Table:
    """The rows of a partitioned table whose key is one of `keys`, in key order."""
    keys = np.unique(np.asarray(keys, np.uint64))
    parts = partition_of(keys, bits)
    found = [read_keys(index_dir / files[p], column, keys[parts == p], columns) for p in np.unique(parts).tolist()]
    if not found:
        return arrow_np.empty(pq.read_schema(index_dir / files[0]), columns)
    return pa.concat_tables(found)
