"""Exact Hamming scan of 256-bit perceptual codes (PDQ) over sharded tables: every code within a distance.

Evidence needs every match, so the scan is exhaustive (100 % recall by construction); approximate indexes
(LSH, IVF, HNSW) trade recall for speed. The cost is kept low by layout rather than by skipping codes:

- a code is four 64-bit words; a shard stores them column by column (4 x N uint64), so each step of the scan
  runs over contiguous columns: xor with the query's words, popcount, add. The C kernel (imaging/_hamming.c,
  built with the package) does it tile by tile for every query with the CPU's vector or scalar popcount;
  without it, NumPy does it column by column (`np.bitwise_count`), ~3x slower (docs/benchmarks.md);
- a shard is scanned in blocks of BLOCK_ROWS rows through small reused buffers, from a memory-mapped file:
  the memory a scan holds is the buffers and the hits, whatever the shard's size;
- shards are independent, so `scan` hands each one to an executor (engine/: in process, a process pool, or
  Ray over a cluster) and merges the hits in shard order: the same hits in the same order on every engine. A
  large query batch is put once where the tasks read it (`executor.share`); with `verify=True` each task checks
  its shard's sha256 before scanning it, so the check runs in parallel rather than through the driver.

A table is a folder: `table.json` (the shards, their rows and sha256) and per shard two .npy files, the
codes (4 x N uint64) and the callers' 64-bit ids (N int64). Codes come in as PDQ's packed 32 bytes (N x 32
uint8, as imaging/descriptors.py makes them) or as N x 4 uint64 words.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ascertain.errors import AscertainError

BITS = 256
WORDS = BITS // 64
BLOCK_ROWS = 1 << 16  # rows per scan step: 4 columns x 64 K x 8 bytes = 2 MB, about an L2/L3 cache's share
SHARD_ROWS = 1 << 22  # rows per shard file: 128 MB of codes + 32 MB of ids; one engine task each
SHARE_BYTES = 1 << 16  # queries above this size go to the shard tasks once (executor.share), not once a task
HIT_CAPACITY = 1 << 16  # hits per kernel call; more (a radius near 256) and the rows are scanned in halves
TABLE_FILE = "table.json"
FORMAT = "ascertain-code-table/1"

try:
    from ascertain.imaging import _hamming
except ImportError:  # pragma: no cover (a source checkout without `setup.py build_ext`)
    _hamming = None

if hasattr(np, "bitwise_count"):  # numpy >= 2.0: a hardware popcount per element
    def _popcount(x: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.bitwise_count(x, out=out)
else:  # pragma: no cover (numpy < 2: a byte table)
    _TABLE = np.array([bin(i).count("1") for i in range(256)], np.uint8)

    def _popcount(x: np.ndarray, out: np.ndarray) -> np.ndarray:
        out[:] = _TABLE[x.view(np.uint8)].reshape(len(x), 8).sum(axis=1, dtype=np.uint8)
        return out


def to_words(codes: np.ndarray) -> np.ndarray:
    """N x 4 uint64 words of codes given as N x 32 packed bytes (or already as words; one code may be 1-d)."""
    a = np.asarray(codes)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.dtype == np.uint64 and a.shape[1] == WORDS:
        return np.ascontiguousarray(a)
    if a.dtype == np.uint8 and a.shape[1] == BITS // 8:
        return np.ascontiguousarray(a).view("<u8").astype(np.uint64, copy=False).reshape(-1, WORDS)
    raise AscertainError("codes", f"an array of shape {a.shape} and type {a.dtype} is not 256-bit codes",
                         "pass N x 32 uint8 (packed PDQ bits) or N x 4 uint64")


def to_bytes(words: np.ndarray) -> np.ndarray:
    """The inverse of `to_words`: N x 32 uint8."""
    return np.ascontiguousarray(np.asarray(words, dtype="<u8")).view(np.uint8).reshape(-1, BITS // 8)


@dataclass
class Hits:
    """Matches of a scan, one row each: which query, which stored id, at what distance (bits)."""

    query: np.ndarray  # int32, index into the queries
    id: np.ndarray  # int64, the stored code's id
    distance: np.ndarray  # uint16

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.uint16))

    @classmethod
    def concat(cls, parts: Iterable[Hits]) -> Hits:
        parts = list(parts)
        if not parts:
            return cls.empty()
        return cls(np.concatenate([p.query for p in parts]), np.concatenate([p.id for p in parts]),
                   np.concatenate([p.distance for p in parts]))

    def __len__(self) -> int:
        return len(self.id)

    def sorted(self) -> Hits:
        """By query, then distance, then id: a canonical order whatever the shards' order."""
        o = np.lexsort((self.id, self.distance, self.query))
        return Hits(self.query[o], self.id[o], self.distance[o])

    def best_per_id(self) -> Hits:
        """For each stored id, its closest query (the variant of the query image that matched best)."""
        if not len(self):
            return self
        o = np.lexsort((self.query, self.distance, self.id))
        ids = self.id[o]
        first = np.ones(len(ids), bool)
        first[1:] = ids[1:] != ids[:-1]
        keep = o[first]
        return Hits(self.query[keep], self.id[keep], self.distance[keep])


def scan_columns(columns: np.ndarray, ids: np.ndarray, queries: np.ndarray, max_distance: int,
                 block_rows: int = BLOCK_ROWS, kernel: bool = True) -> Hits:
    """Every (query, id) whose codes differ in at most `max_distance` bits. `columns` is 4 x N uint64 (an array
    or a memory map); `queries` Q x 4 uint64. Exhaustive: every stored code is compared with every query. The
    hits are in no particular order (`scan` and `scan_codes` sort them); `kernel=False` forces the NumPy path."""
    if not 0 <= max_distance <= BITS:
        raise AscertainError("max_distance", f"{max_distance} is not a number of bits", f"pass 0 to {BITS}")
    q = to_words(queries)
    n = columns.shape[1]
    if kernel and _hamming is not None:
        return _scan_kernel(columns, ids, q, max_distance, block_rows)
    b = min(block_rows, max(n, 1))
    x = np.empty(b, np.uint64)
    pc = np.empty(b, np.uint8)
    acc = np.empty(b, np.uint16)  # a distance reaches 256 (every bit differs): beyond uint8
    out: list[Hits] = []
    for start in range(0, n, b):
        stop = min(n, start + b)
        m = stop - start
        block = [np.asarray(columns[k, start:stop]) for k in range(WORDS)]
        for qi in range(len(q)):
            a = acc[:m]
            a[:] = 0
            for k in range(WORDS):
                np.bitwise_xor(block[k], q[qi, k], out=x[:m])
                _popcount(x[:m], pc[:m])
                np.add(a, pc[:m], out=a)
            hit = np.flatnonzero(a <= max_distance)
            if hit.size:
                out.append(Hits(np.full(hit.size, qi, np.int32), np.asarray(ids[start:stop])[hit].astype(np.int64),
                                a[hit].astype(np.uint16)))
    return Hits.concat(out)


def _scan_kernel(columns: np.ndarray, ids: np.ndarray, q: np.ndarray, max_distance: int, block_rows: int) -> Hits:
    """scan_columns through the C kernel, a block of rows at a time (a memory map's block is read once). A list
    of row ranges, not a recursive closure: a closure over the memory maps would keep them (and their pages)
    alive until the cyclic garbage collector ran."""
    n = columns.shape[1]
    cap = max(HIT_CAPACITY, len(q))  # one row has at most Q hits: a single row always fits
    oq, orow, od = np.empty(cap, np.int32), np.empty(cap, np.int64), np.empty(cap, np.uint16)
    qw = np.ascontiguousarray(q, dtype=np.uint64)
    out: list[Hits] = []
    step = max(1, block_rows)
    todo = [(start, min(n, start + step)) for start in range(0, n, step)][::-1]
    while todo:  # popped from the end: the blocks in row order
        start, stop = todo.pop()
        cols = [np.ascontiguousarray(columns[k, start:stop], dtype=np.uint64) for k in range(WORDS)]
        got = _hamming.scan(*cols, qw, max_distance, oq, orow, od)
        if got < 0:  # more hits than the buffers hold: the two halves apart, the first one next
            mid = (start + stop) // 2
            todo += [(mid, stop), (start, mid)]
        elif got:
            out.append(Hits(oq[:got].copy(), np.asarray(ids[start:stop])[orow[:got]].astype(np.int64),
                            od[:got].copy()))
    return Hits.concat(out)


# ---------------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class ShardInfo:
    name: str  # file stem inside the table's folder
    rows: int
    sha256: str  # of the codes file, then the ids file

    def paths(self, folder: Path) -> tuple[Path, Path]:
        return folder / f"{self.name}.codes.npy", folder / f"{self.name}.ids.npy"


class TableWriter:
    """Writes codes with their ids into shards of at most `shard_rows` rows, holding at most one shard."""

    def __init__(self, folder: str | os.PathLike, shard_rows: int = SHARD_ROWS) -> None:
        self.folder = Path(folder)
        if (self.folder / TABLE_FILE).exists():
            raise AscertainError(str(self.folder), "already holds a code table",
                                 "write to a new folder (a table is written once)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.shard_rows = max(1, int(shard_rows))
        self.shards: list[ShardInfo] = []
        self._codes: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._pending = 0

    def add(self, codes: np.ndarray, ids: np.ndarray) -> None:
        w = to_words(codes)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(w):
            raise AscertainError("ids", f"{len(ids)} ids for {len(w)} codes", "pass one id per code")
        while len(w):
            take = min(len(w), self.shard_rows - self._pending)
            self._codes.append(w[:take])
            self._ids.append(ids[:take])
            self._pending += take
            w, ids = w[take:], ids[take:]
            if self._pending == self.shard_rows:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        info_name = f"shard-{len(self.shards):05d}"
        cols = np.ascontiguousarray(np.concatenate(self._codes).T)
        ids = np.concatenate(self._ids)
        cpath, ipath = self.folder / f"{info_name}.codes.npy", self.folder / f"{info_name}.ids.npy"
        np.save(cpath, cols, allow_pickle=False)
        np.save(ipath, ids, allow_pickle=False)
        h = hashlib.sha256()
        for p in (cpath, ipath):
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        self.shards.append(ShardInfo(info_name, len(ids), h.hexdigest()))
        self._codes, self._ids, self._pending = [], [], 0

    def close(self) -> CodeTable:
        self._flush()
        meta = {"format": FORMAT, "bits": BITS, "rows": sum(s.rows for s in self.shards),
                "shards": [{"name": s.name, "rows": s.rows, "sha256": s.sha256} for s in self.shards]}
        tmp = self.folder / (TABLE_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=1) + "\n")
        os.replace(tmp, self.folder / TABLE_FILE)  # the table exists only once every shard is written
        return CodeTable(self.folder)


def write_table(folder: str | os.PathLike, codes: np.ndarray, ids: np.ndarray | None = None,
                shard_rows: int = SHARD_ROWS) -> CodeTable:
    """A table of `codes` (ids 0..N-1 unless given)."""
    w = TableWriter(folder, shard_rows)
    w.add(codes, np.arange(len(to_words(codes))) if ids is None else ids)
    return w.close()


class CodeTable:
    """A written table: its shards, each scanned on its own (and on any engine)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        try:
            meta = json.loads((self.folder / TABLE_FILE).read_text())
        except (OSError, ValueError):
            raise AscertainError(str(self.folder), "is not a code table (no readable table.json)",
                                 "pass the folder a code table was written to") from None
        if meta.get("format") != FORMAT:
            raise AscertainError(str(self.folder), f"has table format {meta.get('format')!r}, not {FORMAT}",
                                 "rewrite the table with this version")
        self.rows = int(meta["rows"])
        self.shards = [ShardInfo(s["name"], int(s["rows"]), s["sha256"]) for s in meta["shards"]]

    def verify(self) -> None:
        """Refuse a table whose shard files changed since they were written (every shard, in this process: at
        scale, `scan(..., verify=True)` checks each shard in its own task instead, in parallel)."""
        for s in self.shards:
            check_shard(str(self.folder), s.name, s.sha256)


def check_shard(folder: str, name: str, sha256: str) -> None:
    """Refuse a shard whose files changed since the table was written."""
    h = hashlib.sha256()
    for p in (Path(folder) / f"{name}.codes.npy", Path(folder) / f"{name}.ids.npy"):
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    if h.hexdigest() != sha256:
        raise AscertainError(str(Path(folder) / name), "changed since the table was written",
                             "rewrite the table from its source")


def scan_shard(folder: str, name: str, queries, max_distance: int, sha256: str | None = None) -> Hits:
    """One shard's hits (an engine task: plain arguments, the shard memory-mapped, scanned block by block);
    `queries` are Q x 4 uint64 words or a Shared handle on them; with `sha256`, the shard's files are checked
    first, in the task."""
    from ascertain.engine import Shared, shared_value

    if sha256 is not None:
        check_shard(folder, name, sha256)
    if isinstance(queries, Shared):
        queries = shared_value(queries)
    cols = np.load(Path(folder) / f"{name}.codes.npy", mmap_mode="r", allow_pickle=False)
    ids = np.load(Path(folder) / f"{name}.ids.npy", mmap_mode="r", allow_pickle=False)
    return scan_columns(cols, ids, queries, max_distance)


def scan(table: CodeTable, queries: np.ndarray, max_distance: int, executor=None, verify: bool = False) -> Hits:
    """Every stored code within `max_distance` bits of any query, over all shards, in canonical order.
    `executor` is an engine executor (engine.make_executor); without one the shards run in this process. With
    `verify`, each shard task first checks its shard's sha256 (a changed shard is refused, not scanned): the
    check runs where the shard is scanned, in parallel, instead of serially in the driver (`CodeTable.verify`),
    which at billions of codes would read every shard once more through one process."""
    from ascertain.engine import ordered_map
    from ascertain.engine.local import InProcess

    q = to_words(queries)
    ex = executor or InProcess()
    # a case's queries (1,000 works x 30 variants: 1 MB) would otherwise be sent again with each of thousands of
    # shard tasks; shared, they are put once (Ray's object store, or a file for a process pool)
    arg = ex.share(q) if q.nbytes > SHARE_BYTES and len(table.shards) > 1 else q
    parts = ordered_map(ex, scan_shard, ((str(table.folder), s.name, arg, max_distance, s.sha256 if verify else None)
                                         for s in table.shards))
    return Hits.concat(parts).sorted()


def scan_codes(stored: np.ndarray, queries: np.ndarray, max_distance: int, ids: np.ndarray | None = None) -> Hits:
    """The same exact scan over codes held in memory (N x 32 uint8 or N x 4 uint64), without a table."""
    w = to_words(stored)
    cols = np.ascontiguousarray(w.T)
    return scan_columns(cols, np.arange(len(w)) if ids is None else np.asarray(ids, np.int64), queries,
                        max_distance).sorted()
