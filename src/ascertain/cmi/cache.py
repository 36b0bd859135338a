"""CMI scans of corpus documents, kept in the source's index folder so each is computed once, not every run.

A scan (cmi/scan.py `scan_text`) depends on the document's text, its locator (file names decide metadata
files, authors files, licence files), its language and the scanner itself. The cache key is the SHA-256 of
all four: the scanner by a digest of the cmi package's source and data files and the SPDX list version, so
any change to the scanning code or its data makes every entry miss instead of giving a stale answer.

Stored in SQLite (WAL) so two concurrent `match` runs share it safely; results are JSON (orjson), and a
cached result equals the scan it stands for (tests/test_scale_cmi_cache.py). A folder that cannot hold the
cache (read-only) only costs the scans.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
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


class ScanCache:
    """scan_text, looked up first in the index folder's cache; new results are written in batches."""

    def __init__(self, index_dir: Path, batch: int = 200) -> None:
        self.batch = batch
        self.pending: list[tuple[str, bytes]] = []
        self.hits = self.misses = 0
        try:
            (index_dir / FILE).parent.mkdir(exist_ok=True)
            self.db: sqlite3.Connection | None = sqlite3.connect(index_dir / FILE, timeout=60)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS scans (key TEXT PRIMARY KEY, result BLOB NOT NULL)")
            self.db.commit()
        except (OSError, sqlite3.Error):  # e.g. a read-only index folder: scan every time
            self.db = None

    def scan(self, locator: str, text: str, language: str) -> dict:
        key = cache_key(locator, text, language)
        if self.db is not None:
            row = self.db.execute("SELECT result FROM scans WHERE key = ?", (key,)).fetchone()
            if row is not None:
                self.hits += 1
                return orjson.loads(row[0])
        self.misses += 1
        from ascertain.cmi.scan import scan_text  # 0.1-0.2 s of imports: only when a scan is not cached

        result = scan_text(locator, text, language)
        if self.db is not None:
            self.pending.append((key, orjson.dumps(result)))
            if len(self.pending) >= self.batch:
                self.flush()
        return result

    def flush(self) -> None:
        if self.db is None or not self.pending:
            return
        try:
            with self.db:
                self.db.executemany("INSERT OR IGNORE INTO scans (key, result) VALUES (?, ?)", self.pending)
        except sqlite3.Error:  # a full disk or read-only folder: the results stand, only the cache is lost
            pass
        self.pending = []

    def close(self) -> None:
        self.flush()
        if self.db is not None:
            self.db.close()
