"""Image corpora and image output sets: read (readers/images.py), index (index/images.py), record (the sources
row, skips, outputs rows), the image counterpart of sources.py. A source is one medium: its sources row says
`"medium": "image"` in params and its index manifest too, so the text stages pass it by."""

from __future__ import annotations

import os
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from ascertain.case import Case
from ascertain.engine import check_engine, make_executor
from ascertain.errors import AscertainError
from ascertain.imaging.decode import is_image_name
from ascertain.media import IMAGE, is_image_source
from ascertain.readers.archives import is_archive
from ascertain.readers.base import ReadOptions, Skip
from ascertain.readers.files import walk
from ascertain.readers.images import ImageDocument, read_images
from ascertain.readers.zip_listing import first_names
from ascertain.sources import NAME_RE, _acquired, _describe, check_regular, describe_inputs, unfinished_source
from ascertain.store import schema
from ascertain.store.db import now

# members read from one archive (a webdataset shard): img2dataset writes 10,000 samples (~30,000 members) a shard;
# a hostile archive of millions of tiny members stops here, with a recorded skip (--max-archive-members raises it)
IMAGE_ARCHIVE_MEMBERS = 250_000
PEEK_MEMBERS = 64  # archive members looked at to tell an image archive (or webdataset shard) from a text one
SIDECARS = (".txt", ".json", ".cls", ".parquet")


def _archive_is_images(path: Path) -> bool:
    names: list[str] = []
    try:
        if path.name.lower().endswith(".zip"):  # read from the central directory: no full listing in memory
            names = first_names(path, PEEK_MEMBERS)
        else:
            with tarfile.open(path, "r|*") as tf:
                for i, m in enumerate(tf):
                    if i >= PEEK_MEMBERS:
                        break
                    names.append(m.name)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    images = sum(is_image_name(n) for n in names)
    others = sum(not is_image_name(n) and not n.lower().endswith(SIDECARS) and not n.endswith("/") for n in names)
    return images > 0 and images >= others


def looks_like_images(paths: list[str]) -> bool:
    """Every input is an image file, an image archive (webdataset shard), or a folder holding only those (with
    their sidecars: captions, JSON, a shard's Parquet): then `corpus add` / `outputs add` read images."""
    def one(p: Path) -> bool:
        if p.is_file():
            return is_image_name(p.name) or (is_archive(p) and _archive_is_images(p))
        if p.is_dir():  # stops at the first file that is not an image (a text corpus is not walked whole)
            media = False
            for f in walk(p):
                if isinstance(f, Path) and f.is_file() and not f.name.lower().endswith(SIDECARS):
                    if not one(f):
                        return False
                    media = True
            return media
        return False
    return bool(paths) and all(one(Path(p)) for p in paths)


def add_image_source(case: Case, name: str, kind: str, paths: list[str], opts: ReadOptions,
                     on_progress: Callable[[int, int], None] | None = None, acquired: str | None = None,
                     engine: str = "local", processes: int | None = None, ray_address: str | None = None,
                     features: bool = False, max_archive_members: int = IMAGE_ARCHIVE_MEMBERS) -> dict:
    """Index an image corpus or output set. An unfinished earlier run of the same source is indexed again whole
    (image indexing keeps no partial state to resume). At most `max_archive_members` members of each archive are
    read; past them, a recorded skip names the archive (the members before are indexed)."""
    if max_archive_members < 1:
        raise AscertainError("--max-archive-members", f"{max_archive_members} is not a number of members",
                             "give a whole number of 1 or more")
    opts = replace(opts, max_archive_members=max_archive_members)
    if not NAME_RE.match(name):
        raise AscertainError(name, "is not a usable source name",
                             "use letters, digits, '.', '_' or '-' (up to 100 characters)")
    if not paths:
        raise AscertainError(name, "no input paths given", "name the image files, folders or shards to read")
    check_engine(engine, processes, ray_address)  # refused before the source is recorded
    paths = [os.path.abspath(p) for p in paths]
    for p in paths:
        check_regular(p)
    inputs = describe_inputs(paths)
    about = {"medium": IMAGE, "acquired": _acquired(acquired), "max_doc_bytes": opts.max_doc_bytes,
             "local_features": features, "max_archive_members": max_archive_members}
    index_dir = case.source_dir(name)
    with case.store.begin() as c:
        row = unfinished_source(c, case, name)
        if row and not is_image_source(row["params"]):
            raise AscertainError(name, "is an unfinished text source", "resume it with the text inputs, or remove "
                                 f"it: `ascertain sources remove {case.root} {name}`")
        if row is None:
            c.execute(insert(schema.sources).values(
                name=name, kind=kind, inputs=inputs, params=about, keyed=False, status="indexing",
                index_dir=str(index_dir.relative_to(case.root)), added_at=now()))
        else:
            c.execute(update(schema.sources).where(schema.sources.c.id == row["id"]).values(inputs=inputs,
                                                                                           params=about))
        source_id = c.execute(select(schema.sources.c.id).where(schema.sources.c.name == name)).scalar_one()
        c.execute(delete(schema.skipped).where(schema.skipped.c.source == name))
        c.execute(delete(schema.outputs).where(schema.outputs.c.source_id == source_id))

    def on_skips(skips: list[Skip]) -> None:
        case.store.record_skips(f"{kind} add", name, skips)

    def on_docs(docs: list[tuple[int, ImageDocument]]) -> None:
        if kind != "outputs":
            return
        with case.store.begin() as c:
            c.execute(insert(schema.outputs), [
                {"source_id": source_id, "doc_id": i, "locator": d.locator,
                 "prompt": str(d.meta.get("caption") or ""),
                 "model": str((d.meta.get("sample") or {}).get("model") or ""),
                 "timestamp": str((d.meta.get("sample") or {}).get("timestamp") or "")} for i, d in docs])

    from ascertain.index.images import ImageIndexWriter  # decoding and hashing: loaded only to index

    t0 = time.perf_counter()
    writer = ImageIndexWriter(index_dir, inputs, {"max_doc_bytes": opts.max_doc_bytes}, features)
    executor = make_executor(engine, processes, ray_address)
    try:
        manifest = writer.build(read_images(paths, opts), on_skips, on_progress, on_docs, executor)
    except BaseException as e:
        case.store.audit(f"{kind} add", {"source": name, "kind": kind, "medium": IMAGE, "status": "indexing",
                                         "error": _describe(e), "inputs": inputs}, ok=False)
        raise
    finally:
        executor.close()
    with case.store.begin() as c:
        c.execute(update(schema.sources).where(schema.sources.c.id == source_id).values(
            status="complete", documents=manifest["documents"], skipped=manifest["skipped"]))
    summary = {"source": name, "kind": kind, "medium": IMAGE, "documents": manifest["documents"],
               "distinct_images": manifest["distinct_images"], "skipped": manifest["skipped"],
               "skip_reasons": manifest["skip_reasons"], "shards": len(manifest["shards"]),
               "seconds": round(time.perf_counter() - t0, 3)}
    case.store.audit(f"{kind} add", {**summary, "inputs": inputs})
    return summary
