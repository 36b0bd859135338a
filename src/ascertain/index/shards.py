"""Writing a source's index: streaming, bounded memory, atomic shards, resumable.

Layout of index/<source>/:
  fp-NNNNN.parquet    hash (uint64), doc (int64), pos (uint32)
  docs-NNNNN.parquet  doc, locator, sha256, language, tokens, bytes, meta (JSON), text (null if text-less)
  mh-NNNNN.parquet    doc, sig (MinHash signature, 128 x uint32): whole-document near-duplicates
  lk-*.parquet        the tables `match` reads by key, written once every shard is (index/lookup_tables.py)
  manifest.json       parameters, inputs, one entry per finished shard, and the lookup tables (`lookup`)

A shard is written to a temporary name and renamed into place, then the manifest (also renamed into
place) records it; an interrupted run therefore leaves only finished shards, and a resumed run skips the
stream items those shards consumed. Same inputs and parameters give byte-identical shards and manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.errors import AscertainError
from ascertain.fingerprint.keyed import key_check
from ascertain.fingerprint.minhash import NUM_PERM, MinHashParams, signatures
from ascertain.fingerprint.winnow import Params, fingerprint_batch
from ascertain.index.lookup_tables import build_lookup_tables
from ascertain.readers.base import Document, Skip

FORMAT = 2  # 2: lookup tables (format 1 indexes are refused by `match`: add the source again)
DOCS_ROW_GROUP = 256  # documents per row group: fetching a matched document decodes only its group
FP_SCHEMA = pa.schema([("hash", pa.uint64()), ("doc", pa.int64()), ("pos", pa.uint32())])
MH_SCHEMA = pa.schema([("doc", pa.int64()), ("sig", pa.binary(4 * NUM_PERM))])
DOCS_SCHEMA = pa.schema([
    ("doc", pa.int64()), ("locator", pa.string()), ("sha256", pa.string()), ("language", pa.string()),
    ("tokens", pa.int32()), ("bytes", pa.int64()), ("meta", pa.string()), ("text", pa.large_string()),
])


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_parquet_atomic(table: pa.Table, path: Path, row_group_size: int | None = None) -> str:
    tmp = path.with_name(path.name + ".tmp")
    # Statistics on integer columns only, dictionary encoding for the language only: on unique strings
    # (texts, locators, digests) both just cost time.
    ints = [f.name for f in table.schema if pa.types.is_integer(f.type)]
    # Texts are LZ4 (twice as fast to write as zstd, ~45 % larger); everything else zstd.
    codecs = {name: "lz4" if name == "text" else "zstd" for name in table.column_names}
    pq.write_table(table, tmp, compression=codecs, write_statistics=ints, row_group_size=row_group_size,
                   use_dictionary=[c for c in ("language",) if c in table.column_names])
    os.replace(tmp, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(index_dir: Path) -> dict | None:
    p = index_dir / "manifest.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise AscertainError(str(p), f"damaged manifest ({e})",
                             "remove the source's index folder and add the source again") from e


@dataclass
class ShardBuffer:
    first_doc: int
    items: int = 0
    bytes: int = 0
    hashes: list[np.ndarray] = field(default_factory=list)
    docs_col: list[np.ndarray] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    signatures: list[np.ndarray] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)


ShardCallback = Callable[[int, list[tuple[int, Document]], list[Skip]], None]


@dataclass
class IndexWriter:
    index_dir: Path
    params: Params
    inputs: list[dict]
    reading: dict = field(default_factory=dict)  # reader options (text field, language, revision, limits)
    store_text: bool = True
    key: bytes | None = None
    shard_bytes: int = 64 * 1024 * 1024
    shard_docs: int = 100_000
    batch_bytes: int = 4 * 1024 * 1024  # documents are fingerprinted together, in one vectorized pass

    def manifest_header(self) -> dict:
        header = {"format": FORMAT, "params": self.params.as_dict(), "minhash": MinHashParams().as_dict(),
                  "inputs": self.inputs,
                  "reading": self.reading, "store_text": self.store_text}
        if self.key is not None:  # lets `match` refuse a wrong key before it touches anything
            header["key_check"] = key_check(self.key)
        return header

    def open(self) -> dict:
        """The manifest to continue from: a new one, or the interrupted run's after checking it matches."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        old = read_manifest(self.index_dir)
        header = self.manifest_header()
        if old is None:
            return {**header, "shards": [], "complete": False}
        differ = [k for k in header if old.get(k) != header[k]] + [k for k in ("key_check",)
                                                                   if k in old and k not in header]
        if differ:
            raise AscertainError(str(self.index_dir), "an index with other inputs or parameters is here "
                                 f"(different: {_what_differs(old, header, differ)})",
                                 "restore the inputs and options of the interrupted run to resume it, or remove "
                                 "the source (`ascertain sources remove CASE NAME`) and add it again")
        return old

    def build(self, items: Iterator[Document | Skip], on_shard: ShardCallback | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> dict:
        manifest = self.open()
        if manifest["complete"]:
            return manifest
        next_doc = sum(s["documents"] for s in manifest["shards"])
        items = iter(items)
        self._verify_done(manifest, items)
        buf = ShardBuffer(first_doc=next_doc)
        pending: list[Document] = []
        pending_bytes = 0
        for item in items:
            buf.items += 1
            if isinstance(item, Skip):
                buf.skips.append(item)
            else:
                pending.append(item)
                pending_bytes += len(item.text)
            if pending_bytes >= self.batch_bytes or len(buf.rows) + len(pending) >= self.shard_docs:
                if on_progress:  # once a batch: a progress update per document costs real time
                    on_progress(len(pending), pending_bytes)
                self._add(buf, pending)
                pending, pending_bytes = [], 0
                if buf.bytes >= self.shard_bytes or len(buf.rows) >= self.shard_docs:
                    self._flush(manifest, buf, on_shard)
                    buf = ShardBuffer(first_doc=buf.first_doc + len(buf.rows))
        if on_progress:
            on_progress(len(pending), pending_bytes)
        self._add(buf, pending)
        if buf.items or not manifest["shards"]:
            self._flush(manifest, buf, on_shard)
        manifest["lookup"] = build_lookup_tables(self.index_dir, manifest["shards"], write_parquet_atomic)
        manifest["complete"] = True
        for key in ("documents", "skipped", "fingerprints", "tokens"):
            manifest[key] = sum(s[key] for s in manifest["shards"])
        digest = hashlib.sha256()
        for s in manifest["shards"]:
            digest.update(s["documents_digest"].encode())
        manifest["documents_digest"] = digest.hexdigest()
        self._write_manifest(manifest)
        return manifest

    def _verify_done(self, manifest: dict, items: Iterator[Document | Skip]) -> None:
        """Consume the items the finished shards of an interrupted run hold, checking they are the same
        documents (locator and SHA-256): inputs that changed in place must not be resumed over."""
        for n, shard in enumerate(manifest["shards"]):
            digest, count = hashlib.sha256(), 0
            for it in islice(items, shard["items"]):  # streamed: the texts are not kept
                if isinstance(it, Document):
                    _digest_doc(digest, it)
                    count += 1
            if count != shard["documents"] or digest.hexdigest() != shard["documents_digest"]:
                raise AscertainError(str(self.index_dir), f"the inputs changed since the interrupted run (shard {n} "
                                     "of that run read other documents than the inputs give now)",
                                     "restore the inputs of the interrupted run to resume it, or remove the source "
                                     "(`ascertain sources remove CASE NAME`) and add it again")

    def _add(self, buf: ShardBuffer, docs: list[Document]) -> None:
        if not docs:
            return
        first = buf.first_doc + len(buf.rows)
        batch = fingerprint_batch([d.text for d in docs], self.params, self.key, [d.language for d in docs])
        buf.hashes.append(batch.hashes)
        buf.positions.append(batch.pos)
        buf.docs_col.append(batch.doc + first)
        buf.signatures.append(signatures(batch.hashes, batch.doc, len(docs)))
        for i, doc in enumerate(docs):
            buf.bytes += len(doc.text)
            buf.rows.append({
                "doc": first + i, "locator": doc.locator, "sha256": doc.sha256,
                # keyed: no language (it comes from the file name) and no metadata (titles, URLs, authors)
                "language": doc.language if self.key is None else "",
                "tokens": int(batch.tokens[i]), "bytes": int(doc.meta.get("bytes", len(doc.text))),
                "meta": json.dumps(doc.meta, sort_keys=True, ensure_ascii=False) if self.key is None else "{}",
                "text": doc.text if self.store_text else None,
                # the text is not written: do not hold it until the shard is flushed
                "_doc": doc if self.store_text else replace(doc, text=""),
            })

    def _flush(self, manifest: dict, buf: ShardBuffer, on_shard: ShardCallback | None) -> None:
        n = len(manifest["shards"])
        fp_name, docs_name, mh_name = f"fp-{n:05d}.parquet", f"docs-{n:05d}.parquet", f"mh-{n:05d}.parquet"
        fp_table = pa.table({"hash": _cat(buf.hashes, np.uint64), "doc": _cat(buf.docs_col, np.int64),
                             "pos": _cat(buf.positions, np.uint32)}, schema=FP_SCHEMA)
        docs = buf.rows  # columns are taken by name: the "_doc" entry is not written
        docs_table = pa.table({name: [r[name] for r in docs] for name in DOCS_SCHEMA.names},
                              schema=DOCS_SCHEMA)
        sha_fp = write_parquet_atomic(fp_table, self.index_dir / fp_name)
        sha_docs = write_parquet_atomic(docs_table, self.index_dir / docs_name, DOCS_ROW_GROUP)
        sigs = np.concatenate(buf.signatures) if buf.signatures else np.zeros((0, NUM_PERM), np.uint32)
        with_sig = sigs.any(axis=1).nonzero()[0]  # short documents have none
        mh_table = pa.table({"doc": pa.array(with_sig + buf.first_doc, pa.int64()),
                             "sig": pa.array([sigs[i].astype("<u4").tobytes() for i in with_sig],
                                             pa.binary(4 * NUM_PERM))}, schema=MH_SCHEMA)
        sha_mh = write_parquet_atomic(mh_table, self.index_dir / mh_name)
        if on_shard:
            on_shard(buf.first_doc, [(r["doc"], r["_doc"]) for r in buf.rows], buf.skips)
        manifest["shards"].append({
            "fingerprints_file": fp_name, "documents_file": docs_name, "minhash_file": mh_name,
            "sha256": {fp_name: sha_fp, docs_name: sha_docs, mh_name: sha_mh},
            "items": buf.items, "first_doc": buf.first_doc, "documents": len(docs),
            "skipped": len(buf.skips), "fingerprints": fp_table.num_rows,
            "tokens": sum(r["tokens"] for r in docs),
            "documents_digest": _docs_digest([r["_doc"] for r in docs]),
            "skip_reasons": _reason_counts(buf.skips),
        })
        self._write_manifest(manifest)

    def _write_manifest(self, manifest: dict) -> None:
        data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        atomic_write_bytes(self.index_dir / "manifest.json", data)


def _digest_doc(digest, d: Document) -> None:
    digest.update(f"{d.locator}\0{d.sha256}\n".encode("utf-8", "surrogatepass"))


def _docs_digest(docs: list[Document]) -> str:
    digest = hashlib.sha256()
    for d in docs:
        _digest_doc(digest, d)
    return digest.hexdigest()


def _what_differs(old: dict, new: dict, keys: list[str]) -> str:
    parts = []
    for k in keys:
        if k == "inputs" and isinstance(old.get(k), list) and len(old[k]) == len(new[k]):
            changed = [str(a.get("path", f"input {i}")) for i, (a, b) in enumerate(zip(old[k], new[k], strict=True))
                       if a != b]
            parts.append("content or listing of " + ", ".join(changed))
        elif k == "key_check":
            parts.append("the key (the interrupted run used another key)")
        else:
            parts.append(k)
    return "; ".join(parts)


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def _reason_counts(skips: list[Skip]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in skips:
        key = s.reason.split(" (")[0]
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
