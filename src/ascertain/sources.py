"""Adding training corpora and model outputs: read, fingerprint, index, record."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params, load_key
from ascertain.index.shards import IndexWriter
from ascertain.readers import Document, ReadOptions, Skip, check_inputs, read_inputs
from ascertain.readers.base import printable
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
        entry: dict = {"path": printable(str(path)), "kind": "folder" if path.is_dir() else "file"}
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
               on_progress: Callable[[int, int], None] | None = None, level: str = "layout") -> dict:
    if not NAME_RE.match(name):
        raise AscertainError(name, "is not a usable source name",
                             "use letters, digits, '.', '_' or '-' (up to 100 characters)")
    if not paths:
        raise AscertainError(name, "no input paths given", "name the files or folders to read")
    key = load_key(key_file) if key_file else None
    if level not in LEVELS:
        raise AscertainError("--level", f"unknown level {level!r}", f"choose one of {', '.join(LEVELS)}")
    params = Params(k=case.params.k, w=case.params.w, keyed=key is not None, level=level)
    paths = [os.path.abspath(p) for p in paths]  # locators the same whatever folder the command ran from
    inputs = describe_inputs(paths)
    check_inputs(paths, opts)  # e.g. a --rev that cannot apply: refused before the source is recorded
    index_dir = case.source_dir(name)
    with case.store.engine.begin() as c:
        row = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
        if row and row["status"] == "complete":
            raise AscertainError(name, "is already indexed in this case",
                                 "use another name for new material, or replace it: `ascertain sources remove "
                                 f"{case.root} {name}`, then add it again")
        if row is None:
            c.execute(insert(schema.sources).values(
                name=name, kind=kind, inputs=inputs, params=params.as_dict(), keyed=params.keyed,
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
        items = (item for p in paths for item in read_jsonl(Path(p), opts, printable(p)))
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
               "skip_reasons": _merge_reasons(manifest["shards"]), "seconds": round(seconds, 3),
               "languages": _languages(index_dir, manifest["shards"])}
    case.store.audit(f"{kind} add", {**summary, "inputs": inputs})
    return summary


def _merge_reasons(shards: list[dict]) -> dict[str, int]:
    total: dict[str, int] = {}
    for s in shards:
        for k, v in s["skip_reasons"].items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))


def _languages(index_dir: Path, shards: list[dict]) -> dict[str, int]:
    """Documents per language over every shard (resumed ones too), for warnings on levels that cannot apply."""
    import pyarrow.parquet as pq

    total: dict[str, int] = {}
    for s in shards:
        path = index_dir / s["documents_file"]
        if "language" not in pq.read_schema(path).names:
            continue
        for lang in pq.read_table(path, columns=["language"]).column("language").to_pylist():
            total[lang or "unknown"] = total.get(lang or "unknown", 0) + 1
    return dict(sorted(total.items()))


def list_sources(case: Case) -> list[dict]:
    """Every source of the case with its status, size and parameters."""
    with case.store.engine.connect() as c:
        rows = c.execute(select(schema.sources).order_by(schema.sources.c.id)).mappings().all()
    return [{"name": r["name"], "kind": r["kind"], "status": r["status"], "documents": r["documents"],
             "skipped": r["skipped"], "keyed": r["keyed"], "level": r["params"].get("level", "layout"),
             "inputs": [i["path"] for i in r["inputs"]], "added_at": r["added_at"]} for r in rows]


def remove_source(case: Case, name: str) -> dict:
    """Remove a source: its index folder, its evidence, its outputs and skip records; audited."""
    import shutil

    with case.store.engine.begin() as c:
        row = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
        if row is None:
            raise AscertainError(name, "no such source in this case", "see `ascertain sources list CASE`")
        sid = row["id"]
        evidence = c.execute(delete(schema.evidence).where(schema.evidence.c.source_id == sid)).rowcount
        c.execute(delete(schema.outputs).where(schema.outputs.c.source_id == sid))
        c.execute(delete(schema.skipped).where(schema.skipped.c.source == name))
        c.execute(delete(schema.sources).where(schema.sources.c.id == sid))
    index_dir = Path(row["index_dir"])
    index_dir = index_dir if index_dir.is_absolute() else case.root / index_dir
    shutil.rmtree(index_dir, ignore_errors=True)
    result = {"source": name, "kind": row["kind"], "documents": row["documents"], "evidence_removed": evidence}
    case.store.audit("sources remove", result)
    return result
