"""Writing a source's index: streaming, bounded memory, atomic shards, resumable.

Layout of index/<source>/:
  fp-NNNNN.parquet    hash (uint64), doc (int64), pos (uint32): until the lookup tables hold the same rows
                      (then deleted, and dropped from the manifest: index format 3)
  docs-NNNNN.parquet  doc, locator, sha256, language, tokens, bytes, meta (JSON), text (null if text-less; zstd,
                      DOCS_ROW_GROUP documents a row group: a lookup decodes little more than its documents),
                      level (the level the document was indexed at, text/levels.py LEVEL_CODES: level `auto`
                      puts prose at book and code at layout)
  mh-NNNNN.parquet    doc, sig (MinHash signature, 128 x uint32): whole-document near-duplicates
  cd-NNNNN.npy        each document's content digest (128 bits as 2 x uint64, in doc order): documents of the
                      same language and text are one content, measured once by `match` (index/duplicates.py)
  lk-*.npy            the tables `match` reads by key, written once every shard is (index/lookup_tables.py)
  manifest.json       parameters, inputs, one entry per finished shard, and the lookup tables (`lookup`)

A shard is written to a temporary name and renamed into place, then the manifest (also renamed into
place) records it; an interrupted run therefore leaves only finished shards, and a resumed run skips the
stream items those shards consumed. Same inputs and parameters give byte-identical shards and manifest.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.engine import Executor
from ascertain.engine.local import InProcess
from ascertain.errors import AscertainError
from ascertain.fingerprint.keyed import key_check
from ascertain.fingerprint.minhash import NUM_PERM, MinHashParams, signatures
from ascertain.fingerprint.winnow import Params, fingerprint_batch, sip_key
from ascertain.index.atomic import atomic_write_bytes
from ascertain.index.input_units import resolve_texts
from ascertain.index.lookup_tables import (
    FP_ROWS,
    SPILL_DIR,
    build_lookup_tables,
    replaced_shard_files,
    spill_shard_rows,
)
from ascertain.readers.base import Document, Skip
from ascertain.text.levels import LEVEL_CODES, resolved_level

# 2: lookup tables (format 1 indexes are refused by `match`: add the source again); 3: smaller lookup tables, no
# shard fingerprint files once they are built, texts in zstd (index/lookup_tables.py; format 2 is still read)
FORMAT = 3
# documents per row group: fetching a matched document decodes only its group (256 in format 2: ~7 ms of a
# lookup's CPU per document fetched, 1-2 ms at 32, and zstd at 32 is 30 % smaller than LZ4 at 256)
DOCS_ROW_GROUP = 32
# signatures per row group of mh-NNNNN.parquet (one group per shard in format 2: a lookup's near-duplicate
# candidates read 3.5 MB of signatures each; 128 KB at 256)
MH_ROW_GROUP = 256
FP_SCHEMA = pa.schema([("hash", pa.uint64()), ("doc", pa.int64()), ("pos", pa.uint32())])
MH_SCHEMA = pa.schema([("doc", pa.int64()), ("sig", pa.binary(4 * NUM_PERM))])
DOCS_SCHEMA = pa.schema([
    ("doc", pa.int64()), ("locator", pa.string()), ("sha256", pa.string()), ("language", pa.string()),
    ("tokens", pa.int32()), ("bytes", pa.int64()), ("meta", pa.string()), ("text", pa.large_string()),
    ("level", pa.int8()),
])


def write_parquet_atomic(table: pa.Table, path: Path, row_group_size: int | None = None) -> str:
    tmp = path.with_name(path.name + ".tmp")
    # Statistics on integer columns only, dictionary encoding for the language only: on unique strings
    # (texts, locators, digests) both just cost time.
    ints = [f.name for f in table.schema if pa.types.is_integer(f.type)]
    # Everything zstd (texts were LZ4 in format 2: 1.4 times the size, and no faster to read a row group)
    codecs = {name: "zstd" for name in table.column_names}
    try:
        pq.write_table(table, tmp, compression=codecs, write_statistics=ints, row_group_size=row_group_size,
                       use_dictionary=[c for c in ("language",) if c in table.column_names])
        os.replace(tmp, path)
    except BaseException:  # a full disk or an interrupt leaves no partial file behind
        tmp.unlink(missing_ok=True)
        raise
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
    batches: list[tuple[list[str], list[str]]] = field(default_factory=list)  # (texts, languages) per batch
    rows: list[dict] = field(default_factory=list)  # the docs table's columns but tokens and text
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
    # runs write_shard and the lookup tables' partitions (engine/): in this process unless told otherwise
    executor: Executor = field(default_factory=InProcess)
    _pending: list[tuple[ShardBuffer, object]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.shard_seconds: dict[str, float] = {}  # the shard tasks' parts, summed (not recorded in the index)
        self._shard_key = ShardKey.of(self.key) if self.key is not None else None  # never the case key

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
        for stale in self.index_dir.glob("*.tmp"):  # left by a run that was killed mid-write
            stale.unlink(missing_ok=True)
        old = read_manifest(self.index_dir)
        header = self.manifest_header()
        if old is None:
            shutil.rmtree(self.index_dir / SPILL_DIR, ignore_errors=True)  # rows of no recorded shard
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
            if manifest.get("lookup", {}).get("format", 2) >= 3:  # left by a run stopped right after its manifest
                named = {sh.get("fingerprints_file") for sh in manifest["shards"]}
                self._remove([p.name for p in self.index_dir.glob("fp-*.parquet") if p.name not in named])
            return manifest
        next_doc = sum(s["documents"] for s in manifest["shards"])
        items = iter(items)
        self._verify_done(manifest, items)
        try:
            self._read(manifest, items, next_doc, on_shard, on_progress)
        except BaseException:  # shards already handed to workers are whole: record those that finish
            self._collect(manifest, on_shard, keep=0, failing=True)
            raise
        self._collect(manifest, on_shard, keep=0)
        manifest["lookup"] = build_lookup_tables(self.index_dir, manifest["shards"], self.executor)
        manifest["complete"] = True
        for key in ("documents", "skipped", "fingerprints", "tokens"):
            manifest[key] = sum(s[key] for s in manifest["shards"])
        digest = hashlib.sha256()
        for s in manifest["shards"]:
            digest.update(s["documents_digest"].encode())
        manifest["documents_digest"] = digest.hexdigest()
        replaced = replaced_shard_files(manifest)  # the lookup tables hold their rows now
        self._write_manifest(manifest)
        self._remove(replaced)
        return manifest

    def _remove(self, names: list[str]) -> None:
        for name in names:
            (self.index_dir / name).unlink(missing_ok=True)

    def _read(self, manifest: dict, items: Iterator[Document | Skip], next_doc: int, on_shard: ShardCallback | None,
              on_progress: Callable[[int, int], None] | None) -> None:
        """Batch the items into shards (by bytes and documents: the boundaries do not depend on the engine)."""
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
                    self._submit(manifest, buf, on_shard)
                    buf = ShardBuffer(first_doc=buf.first_doc + len(buf.rows))
        if on_progress:
            on_progress(len(pending), pending_bytes)
        self._add(buf, pending)
        if buf.items or not (manifest["shards"] or self._pending):
            self._submit(manifest, buf, on_shard)

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
        buf.batches.append(([d.text for d in docs], [d.language for d in docs]))
        for i, doc in enumerate(docs):
            buf.bytes += len(doc.text)
            buf.rows.append({
                "doc": first + i, "locator": doc.locator, "sha256": doc.sha256,
                # keyed: no language (it comes from the file name) and no metadata (titles, URLs, authors)
                "language": doc.language if self.key is None else "",
                # keyed: no byte count (nothing needs it, and an exact size joins a document to a known file)
                "bytes": int(doc.meta.get("bytes", len(doc.text))) if self.key is None else 0,
                "meta": json.dumps(doc.meta, sort_keys=True, ensure_ascii=False) if self.key is None else "{}",
                "_doc": replace(doc, text=""),  # for on_shard and the digest: the text goes to the shard only
            })

    def _submit(self, manifest: dict, buf: ShardBuffer, on_shard: ShardCallback | None) -> None:
        """Hand the shard to the executor; shards are recorded in the manifest in their order (_collect)."""
        n = len(manifest["shards"]) + len(self._pending)
        cols = {name: [r[name] for r in buf.rows] for name in DOCS_SCHEMA.names
                if name not in ("tokens", "text", "level")}
        handle = self.executor.submit(write_shard, str(self.index_dir), n, buf.first_doc, buf.batches, cols,
                                      self.store_text, self.params, self._shard_key)
        buf.batches = []  # the texts now belong to the shard's task
        self._pending.append((buf, handle))
        self._collect(manifest, on_shard, keep=self.executor.workers)

    def _collect(self, manifest: dict, on_shard: ShardCallback | None, keep: int, failing: bool = False) -> None:
        """Record finished shards, oldest first, until at most `keep` are in flight. While failing, a shard
        whose task failed ends the recording (its successors are not recorded: the manifest stays a prefix)."""
        while len(self._pending) > keep:
            buf, handle = self._pending.pop(0)
            try:
                done = self.executor.result(handle)
            except BaseException:
                if not failing:
                    raise
                self._pending.clear()
                return
            self._record(manifest, buf, done, on_shard)

    def _record(self, manifest: dict, buf: ShardBuffer, done: dict, on_shard: ShardCallback | None) -> None:
        done = dict(done)
        for part, seconds in done.pop("timing", {}).items():
            self.shard_seconds[part] = self.shard_seconds.get(part, 0.0) + seconds
        docs = [r["_doc"] for r in buf.rows]
        if on_shard:
            on_shard(buf.first_doc, [(r["doc"], r["_doc"]) for r in buf.rows], buf.skips)
        manifest["shards"].append({
            **done, "items": buf.items, "first_doc": buf.first_doc, "documents": len(docs),
            "skipped": len(buf.skips), "documents_digest": _docs_digest(docs),
            "skip_reasons": _reason_counts(buf.skips),
        })
        self._write_manifest(manifest)

    def _write_manifest(self, manifest: dict) -> None:
        data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        atomic_write_bytes(self.index_dir / "manifest.json", data)


@dataclass(frozen=True)
class ShardKey:
    """What a shard task is given of the case key in keyed mode: two keys derived from it, one a purpose (the
    SipHash key of the keyed fingerprints, the HMAC key of the content digests). The case key stays in the
    driver: from these a worker can compute neither the key check, nor keyed locators, document digests or
    input pins, nor another case's anything."""

    sip: tuple[int, int]
    content: bytes

    @classmethod
    def of(cls, key: bytes) -> ShardKey:
        return cls(sip_key(key), hmac.digest(key, b"ascertain content digest key v1", "sha256"))


def write_shard(index_dir: str, n: int, first_doc: int, batches: list[tuple[list[str], list[str]]],
                cols: dict[str, list], store_text: bool, params: Params, key: ShardKey | None) -> dict:
    """Fingerprint one shard's batches and write its fp, docs and mh files (a stage run by an executor:
    plain data in, files and their digests out). Row i of `cols` is the i-th document of the batches."""
    folder = Path(index_dir)
    clock = _Clock()
    batches = [(resolve_texts(texts), languages) for texts, languages in batches]  # read by tasks: fetched here
    clock.lap("fetch texts")
    hashes, docs_col, positions, sigs, tokens = [], [], [], [], []
    first = first_doc
    for texts, languages in batches:
        batch = fingerprint_batch(texts, params, key.sip if key else None, languages)
        hashes.append(batch.hashes)
        positions.append(batch.pos)
        docs_col.append(batch.doc + first)
        sigs.append(signatures(batch.hashes, batch.doc, len(texts)))
        tokens.append(batch.tokens)
        first += len(texts)
    clock.lap("fingerprint")
    fp_name, docs_name, mh_name = f"fp-{n:05d}.parquet", f"docs-{n:05d}.parquet", f"mh-{n:05d}.parquet"
    fp_table = pa.table({"hash": _cat(hashes, np.uint64), "doc": _cat(docs_col, np.int64),
                         "pos": _cat(positions, np.uint32)}, schema=FP_SCHEMA)
    n_tokens = [int(t) for t in _cat(tokens, np.int64)]
    texts = [t for batch_texts, _ in batches for t in batch_texts] if store_text else [None] * len(n_tokens)
    levels = [LEVEL_CODES[resolved_level(params.level, lang)] for _, langs in batches for lang in langs]
    # keyed: a document's token count as its power-of-two bucket (the master reports a copy's size from it)
    doc_tokens = n_tokens if key is None else [size_bucket(t) for t in n_tokens]
    docs_table = pa.table({**cols, "tokens": doc_tokens, "text": texts, "level": levels}, schema=DOCS_SCHEMA)
    sha_fp = write_parquet_atomic(fp_table, folder / fp_name)
    sha_docs = write_parquet_atomic(docs_table, folder / docs_name, DOCS_ROW_GROUP)
    sig = np.concatenate(sigs) if sigs else np.zeros((0, NUM_PERM), np.uint32)
    with_sig = sig.any(axis=1).nonzero()[0]  # short documents have none
    mh_table = pa.table({"doc": pa.array(with_sig + first_doc, pa.int64()),
                         "sig": pa.array([sig[i].astype("<u4").tobytes() for i in with_sig],
                                         pa.binary(4 * NUM_PERM))}, schema=MH_SCHEMA)
    sha_mh = write_parquet_atomic(mh_table, folder / mh_name, MH_ROW_GROUP)
    clock.lap("write")
    # this shard's rows of the lookup tables, spilled here by partition: the driver never reads them
    fp_rows = np.empty(fp_table.num_rows, FP_ROWS)
    fp_rows["hash"], fp_rows["doc"], fp_rows["pos"] = (fp_table.column(c).to_numpy() for c in FP_ROWS.names)
    spill_shard_rows(folder, n, fp_rows, with_sig + first_doc, sig[with_sig])
    clock.lap("spill")
    cd_name = f"cd-{n:05d}.npy"
    digests = [content_digest(t, lang, key.content if key else None) for batch_texts, langs in batches
               for t, lang in zip(batch_texts, langs, strict=True)]
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(b"".join(digests), "<u8"), allow_pickle=False)
    atomic_write_bytes(folder / cd_name, buf.getvalue())
    sha_cd = hashlib.sha256(buf.getvalue()).hexdigest()
    clock.lap("content digests")
    return {"timing": clock.laps, "fingerprints_file": fp_name, "documents_file": docs_name, "minhash_file": mh_name,
            "digest_file": cd_name,
            "sha256": {fp_name: sha_fp, docs_name: sha_docs, mh_name: sha_mh, cd_name: sha_cd},
            "fingerprints": fp_table.num_rows, "tokens": sum(n_tokens)}


class _Clock:
    """Seconds per part of a shard task (where the time goes; popped before the manifest records the shard)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._t
        self._t = now


def size_bucket(n: int) -> int:
    """The smallest power of two that is at least n (0 stays 0): a size that says "at most", not "exactly"."""
    return 0 if n <= 0 else 1 << (n - 1).bit_length()


_CONTENT_LABEL = b"ascertain content v1\0"


def content_digest(text: str, language: str, key: bytes | None) -> bytes:
    """16 bytes naming a document's content as matching sees it (its language and extracted text): two
    documents with the same digest give the same evidence but for their locators. Keyed: an HMAC under a key
    derived from the case key (ShardKey.content; a plain digest would let anyone confirm a guessed document)."""
    data = language.encode() + b"\0" + text.encode("utf-8", "surrogatepass")
    if key is not None:
        return hmac.new(key, _CONTENT_LABEL + data, hashlib.sha256).digest()[:16]
    return hashlib.sha256(data).digest()[:16]


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
