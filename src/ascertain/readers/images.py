"""Image documents: image files, folders of them, zip/tar archives of them, and img2dataset webdataset shards.

A webdataset shard (as img2dataset writes it) is a tar whose members share a key: `<key>.jpg|.png|.webp` (the
image), `<key>.txt` (its caption) and `<key>.json` (url, caption, size, ...), beside the shard's `<shard>.parquet`
(one row per sample, failed downloads included). Each image becomes one ImageDocument whose locator is
`shard.tar!<key>.jpg`; the caption and URL are kept as metadata. Archives are read by readers/archives.py, so
the same hostile-archive refusals (path traversal, links, decompression bombs) apply to image archives.

Nothing is decoded here: the index stage (index/images.py) decodes each image within bounds and records a
per-item skip with the reason when the image is bad.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import orjson

from ascertain.imaging.decode import IMAGE_SUFFIXES, is_image_name
from ascertain.readers.archives import is_archive, read_archive
from ascertain.readers.base import ReadOptions, Skip, printable, regular_file_skip
from ascertain.readers.files import walk
from ascertain.readers.records import is_jsonl
from ascertain.readers.zip_listing import declared_members

SIDECAR_SUFFIXES = (".txt", ".json")  # a webdataset sample's caption and metadata
CAPTION_MAX = 4096  # characters of a caption kept as metadata


@dataclass
class ImageDocument:
    locator: str  # path, or archive!member (a webdataset sample: shard.tar!KEY.jpg)
    data: bytes
    sha256: str  # of the bytes
    meta: dict = field(default_factory=dict)  # key, caption, url, container, member, offset, sidecar json


def is_image_input(path: Path) -> bool:
    """An input the image readers take: an image file, an archive, or a folder."""
    return path.is_dir() or is_image_name(path.name) or is_archive(path)


def read_images(paths: list[str | Path], opts: ReadOptions) -> Iterator[ImageDocument | Skip]:
    """One deterministic stream of image documents over the inputs (folders sorted, archives in member order)."""
    for p in paths:
        path = Path(p)
        name = printable(str(path))
        if path.is_dir():
            for item in walk(path):
                if isinstance(item, Skip):
                    yield item
                elif item.is_file():
                    yield from _read_one(item, opts, name, in_folder=True)
        else:
            yield from _read_one(path, opts, name, in_folder=False)


def _read_one(path: Path, opts: ReadOptions, input_name: str, in_folder: bool) -> Iterator[ImageDocument | Skip]:
    loc = printable(str(path))
    if is_jsonl(path) and not in_folder:
        yield from read_image_list(path, opts, input_name)
    elif is_archive(path):
        special = regular_file_skip(path, input_name, loc)
        if special:
            yield special
            return
        yield from read_shard(path, opts, input_name)
    elif is_image_name(path.name):
        yield from _read_image_file(path, opts, input_name, loc)
    elif path.name.lower().endswith((".parquet", "_stats.json")) or in_folder:
        return  # a shard's Parquet and stats are read with the shard; other files in a folder are not images
    else:
        yield Skip(input_name, loc, "not an image, archive or folder",
                   f"pass image files ({', '.join(IMAGE_SUFFIXES)}), folders, zip/tar archives or webdataset "
                   "shards")


IMAGE_KEYS = ("image", "path", "file", "file_name")  # the JSONL field naming the image file


def read_image_list(path: Path, opts: ReadOptions, input_name: str) -> Iterator[ImageDocument | Skip]:
    """Generated images listed in a JSONL, one object a line: the image file (`image`, or `path`/`file`,
    relative to the list's folder) with its `prompt`, `model` and `timestamp`, as text outputs carry them."""
    from ascertain.readers.records import jsonl_records

    for rec in jsonl_records(path, opts, input_name):
        if isinstance(rec, Skip):
            yield rec
            continue
        lineno, obj = rec
        name = next((str(obj[k]) for k in IMAGE_KEYS if obj.get(k)), None)
        if name is None:
            yield Skip(input_name, f"{printable(str(path))}:{lineno}", "no image file named (fields: "
                       f"{', '.join(IMAGE_KEYS)})", "name the generated image's file in an `image` field")
            continue
        img = Path(name) if Path(name).is_absolute() else path.parent / name
        for item in _read_image_file(img, opts, input_name, printable(str(img))):
            if isinstance(item, ImageDocument):
                item.meta.update({k: v for k, v in (("caption", obj.get("prompt")), ("list", f"{path}:{lineno}"))
                                  if v})
                item.meta["sample"] = {k: obj[k] for k in ("model", "timestamp", "seed") if obj.get(k) is not None}
            yield item


def _read_image_file(path: Path, opts: ReadOptions, input_name: str, loc: str) -> Iterator[ImageDocument | Skip]:
    special = regular_file_skip(path, input_name, loc)
    if special:
        yield special
        return
    try:
        size = path.stat().st_size
        if size > opts.max_doc_bytes:
            yield Skip(input_name, loc, f"image file of {size:,} bytes exceeds the {opts.max_doc_bytes:,}-byte "
                       "limit", "raise --max-doc-bytes if the image is genuine")
            return
        with open(path, "rb") as fh:
            data = fh.read(opts.max_doc_bytes + 1)
    except OSError as e:
        yield Skip(input_name, loc, f"cannot read ({e.strerror})", "check the path and its permissions")
        return
    yield ImageDocument(loc, data, hashlib.sha256(data).hexdigest(), {"path": loc})


def _key_of(member: str) -> tuple[str, str]:
    """(sample key, extension) as webdataset defines them: the key is the member's path up to the first dot of
    its file name (`a/b/000123.jpg` -> `a/b/000123`, `.jpg`)."""
    p = PurePosixPath(member)
    stem, dot, ext = p.name.partition(".")
    return str(p.with_name(stem)) if p.parent != PurePosixPath(".") else stem, (dot + ext).lower()


def shard_table(path: Path) -> dict[str, dict]:
    """The shard's Parquet (`00000.tar` -> `00000.parquet`), by key: url, caption and whatever else it holds.
    Missing or unreadable: empty (the samples' own .json/.txt carry the same fields)."""
    pq_path = path.with_name(path.name.split(".")[0] + ".parquet")
    if not pq_path.is_file():
        return {}
    try:
        import pyarrow.parquet as pq

        rows = pq.read_table(pq_path).to_pylist()
    except Exception:  # noqa: BLE001 (a damaged sidecar Parquet loses metadata only; the shard is still read)
        return {}
    return {str(r["key"]): r for r in rows if r.get("key") is not None}


def read_shard(path: Path, opts: ReadOptions, input_name: str) -> Iterator[ImageDocument | Skip]:
    """The images of a zip/tar archive or webdataset shard, each with its sample's caption and metadata.
    Members of one sample are consecutive in a shard; a sample's image is yielded once its key ends."""
    if path.name.lower().endswith(".zip"):  # refused before zipfile lists millions of members into memory
        declared = declared_members(path)
        if declared is not None and declared > opts.max_archive_members:
            yield Skip(input_name, printable(str(path)), f"the zip archive declares {declared:,} members, over the "
                       f"bound of {opts.max_archive_members:,} members for one archive; none was read",
                       "split the archive into shards, or raise --max-archive-members if it is genuine")
            return
    extra = shard_table(path)
    plain_tar = path.name.lower().endswith(".tar")  # offsets are file offsets only in an uncompressed tar
    held: dict = {"key": None, "images": [], "txt": None, "json": None}

    def flush() -> Iterator[ImageDocument | Skip]:
        key = held["key"]
        if key is None:
            return
        row = extra.get(PurePosixPath(key).name) or extra.get(key) or {}
        side = held["json"] if isinstance(held["json"], dict) else {}
        caption = held["txt"] if held["txt"] is not None else side.get("caption", row.get("caption"))
        url = side.get("url", row.get("url"))
        for loc, member, data, offset in held["images"]:
            meta = {"container": printable(str(path)), "member": member, "key": key,
                    "offset": offset if plain_tar else None, "bytes": len(data)}
            if caption:
                meta["caption"] = str(caption)[:CAPTION_MAX]
            if url:
                meta["url"] = str(url)
            if side:
                meta["sample"] = {k: v for k, v in side.items() if k not in ("caption",) and _small(v)}
            yield ImageDocument(loc, data, hashlib.sha256(data).hexdigest(), meta)
        held.update(key=None, images=[], txt=None, json=None)

    def member(data: bytes, name: str, loc: str, member_name: str, offset: int | None
               ) -> Iterator[ImageDocument | Skip]:
        key, ext = _key_of(member_name)
        if key != held["key"]:
            yield from flush()
            held["key"] = key
        if is_image_name(member_name):
            held["images"].append((loc, member_name, data, offset))
        elif ext.endswith(".txt"):
            held["txt"] = data.decode("utf-8", "replace").strip()
        elif ext.endswith(".json"):
            try:
                held["json"] = orjson.loads(data)
            except orjson.JSONDecodeError:
                yield Skip(input_name, loc, "sample metadata is not valid JSON",
                           "the image is read without it; repair the shard's JSON if its URL or caption matters")
        # other members (.cls, .npy, ...) are not images: not read as such

    yield from read_archive(path, opts, input_name, member)
    yield from flush()


def _small(v) -> bool:
    return v is None or isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= 2048)


def read_image_at(meta: dict, locator: str, sha256: str, opts: ReadOptions | None = None) -> bytes | None:
    """The bytes of one indexed image again (for geometric verification of a candidate), checked against the
    sha256 the index recorded; None when the input changed or is gone. An uncompressed tar member is read at its
    recorded offset; any other archive member by reading the archive to it."""
    opts = opts or ReadOptions(max_doc_bytes=1 << 30)
    container, offset, size = meta.get("container"), meta.get("offset"), meta.get("bytes")
    data: bytes | None = None
    try:
        if not container:
            data = Path(meta.get("path", locator)).read_bytes()
        elif offset is not None and size is not None:
            with open(container, "rb") as fh:
                fh.seek(int(offset))
                data = fh.read(int(size))
    except OSError:
        data = None
    if data is not None and hashlib.sha256(data).hexdigest() == sha256:
        return data
    if container and Path(container).is_file():
        for item in read_shard(Path(container), opts, container):
            if isinstance(item, ImageDocument) and item.locator == locator:
                return item.data if item.sha256 == sha256 else None
    return None


def read_image_locator(locator: str, opts: ReadOptions | None = None) -> bytes:
    """The bytes of an image named by a path or by an archive member's locator (`shard.tar!KEY.jpg`, as image
    evidence names it), read through the same hostile-archive-safe reader that indexed it."""
    from ascertain.errors import AscertainError

    path = Path(locator)
    if path.is_file():
        return path.read_bytes()
    container, bang, _member = locator.rpartition("!")
    if bang and Path(container).is_file() and is_archive(Path(container)):
        opts = opts or ReadOptions(max_doc_bytes=256 << 20)
        for item in read_shard(Path(container), opts, container):
            if item.locator == locator:
                if isinstance(item, Skip):
                    raise AscertainError(locator, item.reason, item.fix)
                return item.data
        raise AscertainError(locator, f"no such image member in {container}",
                             "copy the locator from the evidence (`ascertain show CASE WORK`)")
    raise AscertainError(locator, "no such file, and not an image member of an existing archive",
                         "check the path; an image inside an archive is named archive.tar!member.jpg")
