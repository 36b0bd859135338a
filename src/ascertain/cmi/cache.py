"""CMI scans of corpus documents, kept in the source's index folder so each is computed once, not every run.

A scan (cmi/scan.py `scan_text`) depends on the document's text, its locator (file names decide metadata
files, authors files, licence files), its language and the scanner itself. The cache key is the SHA-256 of
all four: the scanner by a digest of the cmi package's source and data files and the SPDX list version, so
any change to the scanning code or its data makes every entry miss instead of giving a stale answer.

Results are JSON (orjson), and a cached result equals the scan it stands for (tests/test_scale_cmi_cache.py).
A folder that cannot hold the cache (read-only) only costs the scans.

Safe on a network filesystem shared by the nodes of a cluster (the case folder of a multi-node Ray run). SQLite's
WAL mode is not: its index of the log is a memory-mapped `-shm` file, which processes on different machines
cannot share, so a writer on one node and a reader on another can see a torn database. Instead:
  - each process writes its new scans to a file of its own (`cmi-part-RUN-HOST-PID.sqlite`, rollback journal):
    no file ever has two writers, and no two processes ever share memory through a file;
  - `cmi.sqlite` is read by every process (read only) and written by the run's driver alone, which merges the
    run's part files into it once the run's scans are done (`merge_parts`), in a rollback-journal transaction
    (POSIX file locks, which network filesystems such as NFSv4 serve; SQLite's own advice for shared files).
Part files are named by their run, and a driver merges only its own run's, after its last scan: a part file is
never read while written. A killed run's part files are left (a cache: only their scans are lost);
`leftover_parts` names them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import socket
import sqlite3
from importlib.metadata import version
from pathlib import Path

import orjson

# a subfolder: the report digests the index folder's files (report/manifest.py), not a cache that grows
FILE = Path("cache") / "cmi.sqlite"


@functools.cache
def scanner_digest() -> str:
    """A digest of everything a scan's result depends on besides its input."""
    h = hashlib.sha256(f"spdx {version('spdx')}\0".encode())
    pkg = importlib.resources.files("ascertain.cmi")
    for f in sorted((p for p in pkg.iterdir() if p.name.endswith((".py", ".json"))), key=lambda p: p.name):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(locator: str, text: str, language: str) -> str:
    h = hashlib.sha256(scanner_digest().encode())
    for part in (locator, language):
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    db = sqlite3.connect(path, timeout=60)
    db.execute("PRAGMA journal_mode=DELETE")  # a rollback journal: no shared-memory file (see the docstring)
    db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, result BLOB NOT NULL)")
    db.commit()
    return db


TABLE = "scans"
PART_GLOB = "cmi-part-{run}-*.sqlite"


class ScanCache:
    """scan_text, looked up first in the index folder's cache; new results are written in batches to this
    process's own part file (merged into the cache by `merge_parts`, or by `close` when merge=True)."""

    def __init__(self, index_dir: Path, batch: int = 200, run: str = "solo") -> None:
        self.batch = batch
        self.pending: list[tuple[str, bytes]] = []
        self.hits = self.misses = 0
        self.main = index_dir / FILE
        self.part_path = self.main.with_name(f"cmi-part-{run}-{socket.gethostname()}-{os.getpid()}.sqlite")
        self.part: sqlite3.Connection | None = None
        self.db: sqlite3.Connection | None = None
        try:
            self.main.parent.mkdir(exist_ok=True)
            self.writable = os.access(self.main.parent, os.W_OK)
            if self.main.exists():
                self.db = _connect(self.main, read_only=True)
        except (OSError, sqlite3.Error):  # e.g. a read-only index folder: scan every time
            self.db, self.writable = None, False

    def scan(self, locator: str, text: str, language: str) -> dict:
        key = cache_key(locator, text, language)
        if self.db is not None:
            try:
                row = self.db.execute(f"SELECT result FROM {TABLE} WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:  # a cache being replaced or damaged: scan
                row = None
            if row is not None:
                self.hits += 1
                return orjson.loads(row[0])
        self.misses += 1
        from ascertain.cmi.scan import scan_text  # 0.1-0.2 s of imports: only when a scan is not cached

        result = scan_text(locator, text, language)
        if self.writable:
            self.pending.append((key, orjson.dumps(result)))
            if len(self.pending) >= self.batch:
                self.flush()
        return result

    def flush(self) -> None:
        """The pending results into this process's part file (its only writer)."""
        if not self.writable or not self.pending:
            return
        try:
            if self.part is None:
                self.part = _connect(self.part_path)
                # a part file is a cache of this process's scans: lost on a crash, never wrong; no fsync per chunk
                self.part.execute("PRAGMA synchronous=OFF")
            with self.part:
                self.part.executemany(f"INSERT OR IGNORE INTO {TABLE} (key, result) VALUES (?, ?)", self.pending)
        except (OSError, sqlite3.Error):  # a full disk or read-only folder: the results stand, only the cache is lost
            self.writable = False
        self.pending = []

    def close(self, merge: bool = True) -> None:
        """Flush; with merge, this process's part file goes into the cache (a process on its own: tests, a
        single-process run). A run's workers leave theirs to the driver (merge=False)."""
        self.flush()
        for db in (self.db, self.part):
            if db is not None:
                db.close()
        self.db = self.part = None
        if merge and self.writable:
            _merge(self.main, [self.part_path])


def merge_parts(index_dir: Path, run: str) -> int:
    """The driver, once every scan of run `run` is done: its processes' part files merged into the cache and
    removed. Returns the number of part files merged."""
    main = index_dir / FILE
    parts = sorted(main.parent.glob(PART_GLOB.format(run=run))) if main.parent.is_dir() else []
    return _merge(main, parts)


def _merge(main: Path, parts: list[Path]) -> int:
    parts = [p for p in parts if p.exists()]
    if not parts:
        return 0
    try:
        db = _connect(main)
    except (OSError, sqlite3.Error):
        return 0
    merged = 0
    try:
        for p in parts:
            try:
                src = _connect(p, read_only=True)
                rows = src.execute(f"SELECT key, result FROM {TABLE}").fetchall()
                src.close()
                with db:
                    db.executemany(f"INSERT OR IGNORE INTO {TABLE} (key, result) VALUES (?, ?)", rows)
                p.unlink(missing_ok=True)
                for side in (p.with_name(p.name + "-journal"),):
                    side.unlink(missing_ok=True)
                merged += 1
            except (OSError, sqlite3.Error):  # a damaged part: its scans are lost, never the cache
                continue
    finally:
        db.close()
    return merged


def leftover_parts(index_dir: Path) -> list[Path]:
    """Part files no run merged (a killed run's)."""
    d = (index_dir / FILE).parent
    return sorted(d.glob(PART_GLOB.format(run="*"))) if d.is_dir() else []
