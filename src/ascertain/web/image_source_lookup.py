"""An image source as the public image lookup holds it in a worker process: only what is cheap, whatever the
source's size (web/image_lookup.py uses it for cases too large to verify every image).

Held per source:
- its code table (imaging/code_scan.py), opened and checked; each upload scans it, shard by shard, memory-mapped;
  and its local-feature table when the source was indexed with one (scanned while it is small enough: see
  web/image_lookup.py, FEATURE_SCAN_BUDGET);
- two sorted digest columns, sha256 and pixel sha256: per distinct content the first 8 bytes of the digest (a
  uint64 key) and the content's id (its first document), searched with `np.searchsorted` (a few pages of a
  memory-mapped file are read per upload; the full digest is checked on the candidate's row);
- the identical copies: (content, document) for every row whose bytes an earlier row already had, sorted, so a
  matched content's every occurrence is counted and located;
- where each document's row is: the first document of each Parquet shard (from the manifest) and, once a shard
  is first read, the first row of each of its row groups.
A candidate's row (locator, digests, where to read its bytes) is read from its Parquet row group when an upload
verifies it: an upload reads at most `max_compared` candidates' row groups, never the whole index.

The columns are built from the index once (one pass over four of its columns, in batches) and kept in the
index folder's `cache/` (not part of the index: the report's digests and the exchange package leave it out),
named by the manifest's sha256 so a re-added source never reads stale columns; a folder that cannot be written
keeps them in the worker's memory instead (16 bytes a distinct content per column).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ascertain.errors import AscertainError
from ascertain.imaging.code_scan import CodeTable

CACHE_FORMAT = "image-lookup-1"
COLUMNS = ("sha_keys", "sha_docs", "pixel_keys", "pixel_docs", "copy_content", "copy_doc")
KEY_HEX = 16  # hex characters of a digest in its key (8 bytes)

_HEX = np.full(256, 255, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i


def digest_key(digest: str) -> int | None:
    """The sort key of a hex digest (its first 8 bytes), None when it is not one."""
    try:
        return int(digest[:KEY_HEX], 16) if len(digest) >= KEY_HEX else None
    except ValueError:
        return None


def hex_keys(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The keys of a column of hex digests, vectorized over its string buffer, and which rows have one (null,
    short or non-hex values have none)."""
    col = col.cast(pa.string())
    n = len(col)
    if n == 0:
        return np.zeros(0, np.uint64), np.zeros(0, bool)
    offsets = np.frombuffer(col.buffers()[1], np.int32, count=n + 1, offset=col.offset * 4).astype(np.int64)
    data = np.frombuffer(col.buffers()[2], np.uint8) if col.buffers()[2] is not None else np.zeros(0, np.uint8)
    ok = (offsets[1:] - offsets[:-1]) >= KEY_HEX
    if col.null_count:
        ok &= np.asarray(col.is_valid())
    idx = np.where(ok, offsets[:-1], 0)[:, None] + np.arange(KEY_HEX)
    nib = _HEX[data[np.minimum(idx, max(len(data) - 1, 0))]] if len(data) else np.full((n, KEY_HEX), 255, np.uint8)
    ok &= (nib != 255).all(axis=1)
    keys = np.zeros(n, np.uint64)
    for i in range(KEY_HEX):
        keys = (keys << np.uint64(4)) | nib[:, i].astype(np.uint64)
    return np.where(ok, keys, np.uint64(0)), ok


def build_columns(root: Path, manifest: dict) -> dict[str, np.ndarray]:
    """The digest and copy columns of a source, from one pass over its index (a batch at a time)."""
    from ascertain.index.images import iter_index

    parts: dict[str, list[np.ndarray]] = {k: [] for k in COLUMNS}
    for batch in iter_index(root, manifest, ["doc", "sha256", "pixel_sha256", "content"]):
        doc = np.asarray(batch.column(0).to_numpy(zero_copy_only=False), np.int64)
        content = np.asarray(batch.column(3).to_numpy(zero_copy_only=False), np.int64)
        first = doc == content  # the content's own row: its digests stand for every copy
        for name, col in (("sha", batch.column(1)), ("pixel", batch.column(2))):
            keys, ok = hex_keys(col)
            keep = first & ok
            parts[f"{name}_keys"].append(keys[keep])
            parts[f"{name}_docs"].append(doc[keep])
        parts["copy_content"].append(content[~first])
        parts["copy_doc"].append(doc[~first])
    cols = {k: np.concatenate(v) if v else np.zeros(0, np.uint64 if k.endswith("keys") else np.int64)
            for k, v in parts.items()}
    for name in ("sha", "pixel"):
        o = np.lexsort((cols[f"{name}_docs"], cols[f"{name}_keys"]))
        cols[f"{name}_keys"] = cols[f"{name}_keys"][o].astype(np.uint64)
        cols[f"{name}_docs"] = cols[f"{name}_docs"][o].astype(np.int64)
    o = np.lexsort((cols["copy_doc"], cols["copy_content"]))
    cols["copy_content"], cols["copy_doc"] = cols["copy_content"][o], cols["copy_doc"][o]
    return cols


def open_columns(root: Path, manifest_sha256: str, manifest: dict) -> tuple[dict[str, np.ndarray], bool]:
    """The source's columns, memory-mapped from its cache (built there first when missing); in memory when the
    index folder cannot be written. The flag says whether they are memory-mapped."""
    folder = root / "cache" / f"{CACHE_FORMAT}-{manifest_sha256[:32]}"
    if not all((folder / f"{k}.npy").is_file() for k in COLUMNS):
        cols = build_columns(root, manifest)
        pa.default_memory_pool().release_unused()  # the batches read to build them
        tmp = root / "cache" / f".{folder.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            tmp.mkdir(parents=True)
            for k, v in cols.items():
                np.save(tmp / f"{k}.npy", v, allow_pickle=False)
            try:
                os.replace(tmp, folder)  # whole or not at all; a worker that lost the race drops its copy
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:  # a read-only index folder: the columns stay in this worker's memory
            shutil.rmtree(tmp, ignore_errors=True)
            return cols, False
        for old in (root / "cache").glob(f"{CACHE_FORMAT}-*"):  # columns of an earlier index of this folder
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)
    try:
        return {k: np.load(folder / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in COLUMNS}, True
    except (OSError, ValueError):
        return build_columns(root, manifest), False


@dataclass
class SourceIndex:
    """One image source as an upload reads it (see the module note)."""

    name: str
    kind: str  # corpus | outputs
    root: Path
    documents: int
    table: CodeTable
    features: CodeTable | None  # the strongest local features of each distinct image, when indexed with them
    files: list[str]  # the Parquet shards, in document order
    starts: np.ndarray  # the first document of each shard, then the number of documents
    cols: dict[str, np.ndarray] = field(repr=False)
    mapped: bool = True
    _groups: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def find(self, which: str, digest: str) -> list[int]:
        """The contents whose sha256 (`which`="sha") or pixel sha256 ("pixel") starts as `digest` does (the
        full digest is checked on the row)."""
        key = digest_key(digest)
        if key is None:
            return []
        keys = self.cols[f"{which}_keys"]
        lo, hi = np.searchsorted(keys, np.uint64(key), "left"), np.searchsorted(keys, np.uint64(key), "right")
        return [int(d) for d in self.cols[f"{which}_docs"][lo:hi]]

    def copies_of(self, content: int, limit: int) -> tuple[list[int], int]:
        """The documents holding a content (its own first), at most `limit`, and how many there are."""
        cc = self.cols["copy_content"]
        lo, hi = int(np.searchsorted(cc, content, "left")), int(np.searchsorted(cc, content, "right"))
        docs = [content] + [int(d) for d in self.cols["copy_doc"][lo:min(hi, lo + max(limit - 1, 0))]]
        return docs, 1 + hi - lo

    def rows(self, docs: list[int], columns: list[str]) -> dict[int, dict]:
        """The index rows of these documents (only the row groups that hold them are read)."""
        import pyarrow.parquet as pq

        want = np.unique(np.asarray(docs, np.int64))
        want = want[(want >= 0) & (want < self.documents)]
        out: dict[int, dict] = {}
        shard_of = np.searchsorted(self.starts, want, "right") - 1
        for s in np.unique(shard_of).tolist():
            in_shard = want[shard_of == s] - self.starts[s]
            pf = pq.ParquetFile(self.root / self.files[s])
            if s not in self._groups:
                sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)]
                self._groups[s] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            gstarts = self._groups[s]
            group_of = np.searchsorted(gstarts, in_shard, "right") - 1
            for g in np.unique(group_of).tolist():
                local = in_shard[group_of == g] - gstarts[g]
                t = pf.read_row_group(g, columns=["doc", *columns]).take(pa.array(local))
                for r in t.to_pylist():
                    out[int(r["doc"])] = r
        return out

    def held_bytes(self) -> int:
        """Bytes of this worker's own memory the source's state holds (memory-mapped columns count 0)."""
        own = 0 if self.mapped else sum(int(v.nbytes) for v in self.cols.values())
        return own + int(self.starts.nbytes) + sum(int(g.nbytes) for g in self._groups.values())


def open_source(src: dict, case_root: Path, manifest_raw: bytes | None = None) -> SourceIndex | None:
    """The lookup state of one image source (a `sources` row), None when it is not a complete image index."""
    from ascertain.index.images import code_table
    from ascertain.media import is_image_manifest

    root = Path(src["index_dir"])
    root = root if root.is_absolute() else case_root / root
    raw = manifest_raw if manifest_raw is not None else (root / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    if not is_image_manifest(manifest):
        return None
    if not manifest.get("shards") or "codes" not in manifest:
        raise AscertainError(src["name"], "its index is not an image index of this version",
                             "remove the source and add it again")
    table = code_table(root, manifest)  # checked here, once per worker and state of the case
    features = code_table(root, manifest, "features") if "features" in manifest else None
    cols, mapped = open_columns(root, hashlib.sha256(raw).hexdigest(), manifest)
    docs = [int(s["documents"]) for s in manifest["shards"]]
    starts = np.concatenate([[0], np.cumsum(docs)]).astype(np.int64)
    return SourceIndex(src["name"], src["kind"], root, int(manifest["documents"]), table, features,
                       [s["file"] for s in manifest["shards"]], starts, cols, mapped)
