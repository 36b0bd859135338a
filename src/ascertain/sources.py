"""Adding training corpora and model outputs: read, fingerprint, index, record."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params, load_key
from ascertain.index.shards import IndexWriter
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.readers.records import read_jsonl
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.text.levels import LEVELS

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def describe_inputs(paths: list[str]) -> list[dict]:
    out = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise AscertainError(p, "no such file or folder", "check the path")
        entry: dict = {"path": str(path), "kind": "folder" if path.is_dir() else "file"}
        if path.is_file():
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            entry.update(sha256=h.hexdigest(), bytes=path.stat().st_size)
        out.append(entry)
    return out


def add_source(case: Case, name: str, kind: str, paths: list[str], opts: ReadOptions,
               key_file: str | None = None, store_text: bool = True, shard_bytes: int = 64 << 20,
               on_progress: Callable[[int, int], None] | None = None, level: str = "layout",
               acquired: str | None = None) -> dict:
    if not NAME_RE.match(name):
        raise AscertainError(name, "is not a usable source name",
                             "use letters, digits, '.', '_' or '-' (up to 100 characters)")
    if not paths:
        raise AscertainError(name, "no input paths given", "name the files or folders to read")
    key = load_key(key_file) if key_file else None
    if level not in LEVELS:
        raise AscertainError("--level", f"unknown level {level!r}", f"choose one of {', '.join(LEVELS)}")
    params = Params(k=case.params.k, w=case.params.w, keyed=key is not None, level=level)
    # Kept in the sources row only (not the index manifest): when the corpus was acquired (§412's
    # "infringement commenced"), and which record fields carry bibliographic metadata (in corpus by identifier).
    about = {"acquired": _acquired(acquired), "meta_fields": list(opts.meta_fields)}
    inputs = describe_inputs(paths)
    index_dir = case.source_dir(name)
    with case.store.engine.begin() as c:
        row = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
        if row and row["status"] == "complete":
            raise AscertainError(name, "is already indexed in this case",
                                 "use another name for new material")
        if row is None:
            c.execute(insert(schema.sources).values(
                name=name, kind=kind, inputs=inputs, params={**params.as_dict(), **about}, keyed=params.keyed,
                status="indexing", index_dir=str(index_dir.relative_to(case.root)), added_at=now()))
        source_id = c.execute(select(schema.sources.c.id).where(schema.sources.c.name == name)).scalar_one()
    reading = {"text_field": opts.text_field, "language": opts.language, "rev": opts.rev,
               "max_doc_bytes": opts.max_doc_bytes}
    writer = IndexWriter(index_dir, params, inputs, reading, store_text=store_text and key is None, key=key,
                         shard_bytes=shard_bytes)

    def on_shard(first_doc: int, docs: list[tuple[int, Document]], skips: list[Skip]) -> None:
        case.store.record_skips(f"{kind} add", name, skips)
        if kind == "outputs":
            with case.store.engine.begin() as c:
                c.execute(delete(schema.outputs).where(schema.outputs.c.source_id == source_id,
                                                       schema.outputs.c.doc_id >= first_doc))
                if docs:
                    c.execute(insert(schema.outputs), [
                        {"source_id": source_id, "doc_id": i, "locator": d.locator,
                         "prompt": str(d.meta.get("prompt", "")), "model": str(d.meta.get("model", "")),
                         "timestamp": str(d.meta.get("timestamp", ""))} for i, d in docs])

    items: Iterator[Document | Skip]
    if kind == "outputs":
        items = (item for p in paths for item in read_jsonl(Path(p), opts, p))
    else:
        items = read_inputs(paths, opts)
    t0 = time.perf_counter()
    manifest = writer.build(items, on_shard, on_progress)
    seconds = time.perf_counter() - t0
    with case.store.engine.begin() as c:
        c.execute(update(schema.sources).where(schema.sources.c.id == source_id).values(
            status="complete", documents=manifest["documents"], skipped=manifest["skipped"]))
    summary = {"source": name, "kind": kind, "documents": manifest["documents"],
               "skipped": manifest["skipped"], "fingerprints": manifest["fingerprints"],
               "tokens": manifest["tokens"], "shards": len(manifest["shards"]), "keyed": params.keyed,
               "skip_reasons": _merge_reasons(manifest["shards"]), "seconds": round(seconds, 3)}
    case.store.audit(f"{kind} add", {**summary, "inputs": inputs})
    return summary


def _acquired(value: str | None) -> str | None:
    from ascertain.text.bibliographic import parse_date

    try:
        return parse_date(value)
    except ValueError as e:
        raise AscertainError("--acquired", str(e), "give the date the corpus was acquired, e.g. 2021-06-30") from e


def _merge_reasons(shards: list[dict]) -> dict[str, int]:
    total: dict[str, int] = {}
    for s in shards:
        for k, v in s["skip_reasons"].items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))
