"""The index of an image source: per image, the digests and perceptual code the code scan and the exact joins
need, in Parquet shards with a manifest (the image counterpart of index/shards.py).

Per image: sha256 of the bytes, sha256 of the decoded pixels, the PDQ code (32 bytes) and its quality, size,
media type, frames and stored mode, the image CMI (cmi/image.py), caption and URL where the source holds them,
and where to read the bytes again (path, or archive + member + offset). Local features are not stored: they
are recomputed for the candidates a match verifies (measured: ORB features are ~40 KB an image, as much as a
small JPEG, and cost ~27 ms to recompute at 794 x 589; a candidate is a tiny share of a corpus, so recomputing
is cheaper than storing them for every image; see docs/benchmarks.md).

Identical bytes are decoded once (the same content measured once); every occurrence keeps its own row, so
matching counts the copies and lists every locator.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ascertain.cmi.image import read_image_cmi
from ascertain.engine import Executor, ordered_map
from ascertain.errors import AscertainError
from ascertain.imaging.code_scan import TABLE_FILE, CodeTable, TableWriter
from ascertain.imaging.decode import MAX_FILE_BYTES, MAX_PIXELS, WORK_SIDE, DecodedImage, decode
from ascertain.index.atomic import atomic_write_bytes
from ascertain.index.shards import write_parquet_atomic
from ascertain.media import IMAGE
from ascertain.readers.base import Skip
from ascertain.readers.images import ImageDocument

CODES_DIR = "codes"  # the source's code table (imaging/code_scan.py), inside its index folder
FEATURES_DIR = "features"  # its local-feature table, when indexed with features
SHARD_ROWS = 50_000
DESCRIBE_BATCH = 32  # images per engine task (decoding and hashing one is ~10-40 ms)
CODE_BYTES = 32
IMAGES_SCHEMA = pa.schema([
    ("doc", pa.int64()), ("locator", pa.string()), ("sha256", pa.string()), ("pixel_sha256", pa.string()),
    ("pdq", pa.binary(CODE_BYTES)), ("pdq_quality", pa.int16()), ("width", pa.int32()), ("height", pa.int32()),
    ("media_type", pa.string()), ("frames", pa.int32()), ("mode", pa.string()), ("bytes", pa.int64()),
    ("caption", pa.string()), ("url", pa.string()), ("meta", pa.string()), ("cmi", pa.string()),
    ("content", pa.int64()),  # the first document with the same bytes: identical copies share it (counted)
])


@dataclass
class ImageCodes:
    pixel_sha256: str
    pdq: bytes
    pdq_quality: int
    img: DecodedImage = field(repr=False)


def pixel_digest(px: np.ndarray) -> str:
    """The decoded-pixels digest, as imaging.descriptors.describe computes it (tested equal)."""
    return hashlib.sha256(px.tobytes() + np.asarray(px.shape, np.int64).tobytes()).hexdigest()


def image_codes(data: bytes, name: str) -> ImageCodes:
    """Decode within bounds and compute the index's codes (no local features: see the module note)."""
    import pdqhash

    img = decode(data, name)
    px = np.ascontiguousarray(img.pixels)
    bits, quality = pdqhash.compute(px)
    code = np.packbits(np.asarray(bits, np.uint8).reshape(-1)).tobytes()
    return ImageCodes(pixel_digest(px), code, int(quality), img)


def library_versions() -> dict:
    from importlib.metadata import version

    import cv2
    import PIL

    return {"pillow": PIL.__version__, "pdqhash": version("pdqhash"), "opencv": cv2.__version__}


def image_parameters() -> dict:
    """What an image index and an image match depend on, for manifests."""
    from ascertain.imaging import compare, descriptors, regions

    return {"decode": {"max_file_bytes": MAX_FILE_BYTES, "max_pixels": MAX_PIXELS, "work_side": WORK_SIDE},
            "pdq_near": compare.PDQ_NEAR, "pdq_min_quality": compare.MIN_QUALITY,
            "features": {"kind": "ORB", "side": descriptors.FEATURE_SIDE, "n": descriptors.N_FEATURES},
            "regions": {"ratio": regions.RATIO, "ransac_px": regions.RANSAC_PX, "min_inliers": regions.MIN_INLIERS,
                        "min_inlier_ratio": regions.MIN_INLIER_RATIO},
            "libraries": library_versions()}


class ImageIndexWriter:
    """Writes an image source's shards and manifest.json into index_dir, from a stream of image documents."""

    def __init__(self, index_dir: Path, inputs: list[dict], reading: dict, features: bool = False) -> None:
        self.dir = Path(index_dir)
        self.inputs, self.reading = inputs, reading
        self.features = features  # also a table of each image's strongest local features (feature votes)

    def build(self, items: Iterator[ImageDocument | Skip], on_skips: Callable[[list[Skip]], None],
              on_progress: Callable[[int, int], None] | None = None,
              on_docs: Callable[[list[tuple[int, ImageDocument]]], None] | None = None,
              executor: Executor | None = None) -> dict:
        """Decoding and hashing run on `executor` (engine/: in process, a process pool or Ray), a batch of
        images a task; the rows are written in the stream's order, so the index is the same bytes on any engine."""
        from ascertain.engine.local import InProcess

        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("images-*.parquet"):  # a rerun of an unfinished add starts again, whole
            old.unlink()
        for folder in (CODES_DIR, FEATURES_DIR):
            if (self.dir / folder).exists():
                shutil.rmtree(self.dir / folder)
        # one PDQ code per distinct content, its id the content's first document: the table the exact code scan
        # (imaging/code_scan.py) reads, shard by shard, on any engine; with features, the strongest ORB
        # descriptors of each distinct content, the same ids (imaging/candidates.py's feature votes)
        codes_out = TableWriter(self.dir / CODES_DIR)
        features_out = TableWriter(self.dir / FEATURES_DIR) if self.features else None
        described: dict[str, dict] = {}  # sha256 -> codes (or the decode error): identical bytes decoded once
        content: dict[str, int] = {}  # sha256 -> its first document
        rows: list[dict] = []
        docs: list[tuple[int, ImageDocument]] = []
        skips: list[Skip] = []
        shards: list[dict] = []
        reasons: dict[str, int] = {}
        n_doc = n_skip = 0
        queue: deque[list] = deque()

        def tasks() -> Iterator[tuple]:
            submitted: set[str] = set()
            batch: list = []
            for item in items:
                batch.append(item)
                if len(batch) >= DESCRIBE_BATCH:
                    yield self._task(batch, submitted, queue) + (self.features,)
                    batch = []
            if batch:
                yield self._task(batch, submitted, queue) + (self.features,)

        for result in ordered_map(executor or InProcess(), describe_images, tasks()):
            described.update(result)
            for item in queue.popleft():
                if isinstance(item, Skip):
                    skips.append(item)
                    continue
                codes = described[item.sha256]
                if "problem" in codes:
                    skips.append(Skip(item.meta.get("container") or item.locator, item.locator, codes["problem"],
                                      codes["fix"]))
                    continue
                if item.sha256 not in content:
                    content[item.sha256] = n_doc
                    codes_out.add(np.frombuffer(codes["pdq"], np.uint8).reshape(1, CODE_BYTES), np.array([n_doc]))
                    if features_out is not None and codes["features"]:
                        f = np.frombuffer(codes["features"], np.uint8).reshape(-1, CODE_BYTES)
                        features_out.add(f, np.full(len(f), n_doc, np.int64))
                rows.append(self._row(n_doc, item, {k: v for k, v in codes.items() if k != "features"},
                                      content[item.sha256]))
                docs.append((n_doc, item))
                n_doc += 1
                if on_progress:
                    on_progress(1, len(item.data))
                if len(rows) >= SHARD_ROWS:
                    shards.append(self._write(len(shards), rows))
                    rows = []
            if len(skips) >= 1000 or len(docs) >= 1000:
                n_skip += self._flush(skips, reasons, on_skips)
                if on_docs:
                    on_docs(docs)
                docs = []
        if rows or not shards:
            shards.append(self._write(len(shards), rows))
        n_skip += self._flush(skips, reasons, on_skips)
        if on_docs and docs:
            on_docs(docs)
        codes_out.close()
        table_json = (self.dir / CODES_DIR / TABLE_FILE).read_bytes()
        extra = {}
        if features_out is not None:
            from ascertain.imaging.candidates import CANDIDATE_FEATURES, GRID

            features_out.close()
            extra["features"] = {"folder": FEATURES_DIR, "per_image": CANDIDATE_FEATURES,
                                 "selection": f"spread over {GRID} x {GRID} cells", "table_sha256":
                                 hashlib.sha256((self.dir / FEATURES_DIR / TABLE_FILE).read_bytes()).hexdigest()}
        manifest = {"medium": IMAGE, "tool": "ascertain", "parameters": image_parameters(),
                    "inputs": self.inputs, "reading": self.reading, "documents": n_doc,
                    "distinct_images": len(content), "skipped": n_skip,
                    "skip_reasons": dict(sorted(reasons.items())), "shards": shards,
                    "codes": {"folder": CODES_DIR, "table_sha256": hashlib.sha256(table_json).hexdigest()}, **extra}
        atomic_write_bytes(self.dir / "manifest.json",
                           (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode())
        return manifest

    @staticmethod
    def _task(batch: list, submitted: set[str], queue: deque) -> tuple:
        """One task's images: those of the batch whose bytes no earlier task was given."""
        new = []
        for item in batch:
            if isinstance(item, ImageDocument) and item.sha256 not in submitted:
                submitted.add(item.sha256)
                new.append((item.sha256, item.locator, item.data))
        queue.append(batch)
        return (new,)

    @staticmethod
    def _flush(skips: list[Skip], reasons: dict[str, int], on_skips: Callable[[list[Skip]], None]) -> int:
        n = len(skips)
        for s in skips:
            key = s.reason.split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
        if skips:
            on_skips(list(skips))
        skips.clear()
        return n

    @staticmethod
    def _row(doc: int, item: ImageDocument, codes: dict, content: int) -> dict:
        meta = {k: v for k, v in item.meta.items() if k not in ("caption", "url")}
        return {"doc": doc, "locator": item.locator, "sha256": item.sha256, **codes, "bytes": len(item.data),
                "caption": item.meta.get("caption"), "url": item.meta.get("url"),
                "meta": json.dumps(meta, sort_keys=True, ensure_ascii=False), "content": content}

    def _write(self, n: int, rows: list[dict]) -> dict:
        name = f"images-{n:05d}.parquet"
        table = pa.Table.from_pylist(rows, schema=IMAGES_SCHEMA)
        sha = write_parquet_atomic(table, self.dir / name)
        return {"file": name, "sha256": sha, "documents": len(rows)}


def read_cmi(data: bytes) -> dict:
    """The image's CMI (cmi/image.py), with what Pillow warned of while reading it (corrupt EXIF, ...) kept in
    its errors: damaged metadata is recorded, never silently read as absent."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cmi = read_image_cmi(data)
    seen = sorted({f"metadata warning: {w.message}".strip() for w in caught})
    return {**cmi, "errors": list(cmi.get("errors", [])) + seen} if seen else cmi


def describe_images(images: list[tuple[str, str, bytes]], features: bool = False) -> dict[str, dict]:
    """An engine task: for each (sha256, locator, bytes), the index's codes and CMI (and the strongest local
    features), or the decode error's problem and fix (plain data: it travels to and from worker processes)."""
    out: dict[str, dict] = {}
    for sha, locator, data in images:
        try:
            c = image_codes(data, locator)
        except AscertainError as e:
            out[sha] = {"problem": e.problem, "fix": e.fix}
            continue
        feats = b""
        if features:
            from ascertain.imaging.candidates import table_features
            from ascertain.imaging.descriptors import describe

            feats = np.ascontiguousarray(table_features(describe(c.img, data))).tobytes()
        out[sha] = {"features": feats, "pixel_sha256": c.pixel_sha256, "pdq": c.pdq, "pdq_quality": c.pdq_quality,
                    "width": c.img.width, "height": c.img.height, "media_type": c.img.media_type,
                    "frames": c.img.frames, "mode": c.img.mode,
                    "cmi": json.dumps(read_cmi(data), sort_keys=True, ensure_ascii=False)}
    return out


def code_table(index_dir: Path, manifest: dict, which: str = "codes", verify_shards: bool = True) -> CodeTable:
    """The source's sharded code table (`codes`: one PDQ code per distinct content; `features`: its strongest
    local features), checked: table.json as the manifest recorded it, and (`verify_shards`) every shard as
    table.json recorded it, here. Scan it with imaging/code_scan.scan(table, queries, radius, executor): one
    engine task per shard; at scale pass verify_shards=False and scan(..., verify=True), so that each shard is
    checked in its own task, in parallel."""
    entry = manifest.get(which)
    if not isinstance(entry, dict) or "folder" not in entry:
        raise AscertainError(str(index_dir), f"has no {which} table", "add the source again with this version"
                             + (" and --local-features" if which == "features" else ""))
    folder = Path(index_dir) / entry["folder"]
    try:
        meta = (folder / TABLE_FILE).read_bytes()
    except OSError:
        meta = b""
    if hashlib.sha256(meta).hexdigest() != entry.get("table_sha256"):
        raise AscertainError(str(folder), "is not the code table this index was written with",
                             "add the source again (its index changed or is incomplete)")
    table = CodeTable(folder)
    if verify_shards:
        table.verify()
    return table


def read_image_index(index_dir: Path, manifest: dict, columns: list[str] | None = None) -> pa.Table:
    """Every row of the source's image shards (in doc order)."""
    tables = [pq.read_table(Path(index_dir) / s["file"], columns=columns) for s in manifest["shards"]]
    return pa.concat_tables(tables) if tables else IMAGES_SCHEMA.empty_table()


def codes_array(table: pa.Table) -> np.ndarray:
    """The PDQ codes of an index table as an N x 32 uint8 array (the code scan's input)."""
    col = table.column("pdq").combine_chunks()
    if len(col) == 0:
        return np.zeros((0, CODE_BYTES), np.uint8)
    buf = col.buffers()[1]
    start = col.offset * CODE_BYTES
    return np.frombuffer(buf, np.uint8, count=len(col) * CODE_BYTES, offset=start).reshape(-1, CODE_BYTES)


def iter_index(index_dir: Path, manifest: dict, columns: list[str], batch_rows: int = 65_536
               ) -> Iterator[pa.RecordBatch]:
    """The source's index rows a batch at a time (memory bounded by the batch, whatever the corpus's size)."""
    for s in manifest["shards"]:
        yield from pq.ParquetFile(Path(index_dir) / s["file"]).iter_batches(batch_rows, columns=columns)
