"""Metadata-only image datasets as corpora of a case (`corpus add --kind image-metadata`): nothing is indexed and
no URL is fetched; the Parquet files are pinned (path, size, SHA-256, rows, layout) and read again at match time."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.readers.image_metadata import Layout, file_layout, parquet_files
from ascertain.store import schema
from ascertain.store.db import now

KIND = "image-metadata"
SHARD_OR_IMAGE = (".tar", ".zip", ".tgz", ".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp")


def looks_like_image_metadata(paths: list[str]) -> bool:
    """Parquet inputs (files or folders of them) whose columns are a known image-metadata layout: a URL with the
    image's size or hash. A web-text corpus with `url` and `text` columns (C4) has neither: it stays text."""
    for p in map(Path, paths):  # image shards or images beside the Parquet: an image corpus (img2dataset output)
        if p.is_dir() and any(q.suffix.lower() in SHARD_OR_IMAGE for q in p.rglob("*") if q.is_file()):
            return False
    try:
        files = parquet_files(paths)
        if not files or any(f.suffix.lower() != ".parquet" for f in files):
            return False
        layout, _ = file_layout(files[0], None)
    except AscertainError:
        return False
    cols = layout.columns
    return "url" in cols and (("width" in cols and "height" in cols) or "sha256" in cols or "phash" in cols)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_image_metadata_source(case: Case, name: str, paths: list[str], mapping: dict[str, str] | None = None,
                              acquired: str | None = None) -> dict:
    files = parquet_files(paths)
    with case.store.engine.connect() as c:
        if c.execute(select(schema.sources.c.id).where(schema.sources.c.name == name)).first():
            raise AscertainError(name, "is already a source of this case",
                                 f"choose another name, or `ascertain sources remove {case.root} {name}` first")
    pinned, layouts, rows = [], {}, 0
    for f in files:
        layout, n = file_layout(f, mapping)
        if "url" not in layout.columns and "caption" not in layout.columns and not (
                {"sha256", "phash"} & set(layout.columns)):
            raise AscertainError(str(f), "has nothing to match", "map a url, caption, sha256 or phash column")
        layouts[layout.name] = layouts.get(layout.name, 0) + 1
        pinned.append({"path": os.path.abspath(f), "bytes": f.stat().st_size, "sha256": _sha256(f), "rows": n,
                       "layout": layout.as_dict()})
        rows += n
    params = {"mapping": dict(sorted((mapping or {}).items())), "files": pinned, "acquired": acquired, "level": "-",
              "layouts": layouts}
    with case.store.begin() as c:
        c.execute(insert(schema.sources).values(
            name=name, kind=KIND, inputs=[{"path": p, "kind": "folder" if Path(p).is_dir() else "file"}
                                          for p in paths],
            params=params, keyed=False, status="complete", documents=rows, skipped=0,
            index_dir=case.stable_path(str(case.source_dir(name))),  # never written: nothing is indexed
            added_at=now()))
    summary = {"source": name, "kind": KIND, "files": len(files), "rows": rows, "layouts": layouts,
               "columns": sorted({r for p in pinned for r in p["layout"]["columns"]})}
    case.store.audit("corpus add", {**summary, "inputs": [p["path"] for p in pinned]})
    return summary


def source_files(case: Case, src) -> tuple[list[str], Callable[[str], Layout]]:
    """The source's files (checked unchanged in size) and each one's layout as pinned when it was added."""
    pinned = src["params"]["files"]
    by_path = {}
    for p in pinned:
        path = Path(p["path"])
        if not path.is_file() or path.stat().st_size != p["bytes"]:
            raise AscertainError(p["path"], f"of source {src['name']} is missing or changed since it was added",
                                 f"restore the file, or remove the source (`ascertain sources remove {case.root} "
                                 f"{src['name']}`) and add it again")
        by_path[p["path"]] = Layout(p["layout"]["name"], p["layout"]["columns"])
    return [p["path"] for p in pinned], by_path.__getitem__
