"""Adding training corpora and model outputs: read, fingerprint, index, record."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update

from ascertain.case import Case
from ascertain.engine import Executor, check_engine, make_executor
from ascertain.errors import AscertainError
from ascertain.fingerprint.keyed import keyed_inputs, redact
from ascertain.fingerprint.winnow import Params, load_key
from ascertain.index.input_units import plan_units, read_planned
from ascertain.index.shards import IndexWriter
from ascertain.media import is_image_source
from ascertain.readers import Document, ReadOptions, Skip, check_inputs, read_inputs
from ascertain.readers.base import printable
from ascertain.readers.files import walk
from ascertain.readers.records import read_jsonl
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.text.levels import CORPUS_LEVEL, DEFAULT_LEVEL, LEVELS, resolved_level

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def describe_inputs(paths: list[str]) -> list[dict]:
    """Each input and a pin of its content, which a resume must find unchanged: a file's SHA-256; a
    folder's listing (every relative path and size, in reading order), which depends on neither mtimes
    nor where the folder lies, so manifests stay byte-identical across copies of the same data.

    Anything but a regular file or a folder (FIFOs, devices, sockets) is refused here, unopened: reading
    /dev/zero or a FIFO never ends."""
    for p in paths:
        check_regular(p)
    out = []
    for p in paths:
        path = Path(p)
        entry: dict = {"path": printable(str(path)), "kind": "folder" if path.is_dir() else "file"}
        if path.is_file():
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            entry.update(sha256=h.hexdigest(), bytes=path.stat().st_size)
        else:
            entry.update(folder_listing(path))
        out.append(entry)
    return out


def check_regular(p: str) -> None:
    try:
        mode = os.stat(p).st_mode  # follows a symbolic link to its target; opens nothing
    except FileNotFoundError:
        raise AscertainError(p, "no such file or folder", "check the path") from None
    except OSError as e:
        raise AscertainError(p, f"cannot be read ({e.strerror})", "check the path and its permissions") from e
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
                else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "not a regular file")
        raise AscertainError(p, f"is {kind}, not a regular file or folder (reading it might never end)",
                             "copy the data into a regular file and pass that file")


def folder_listing(root: Path) -> dict:
    """The folder's listing digest: relative paths and sizes of the files read, in reading order."""
    h = hashlib.sha256()
    files = total = 0
    for item in walk(root):
        if isinstance(item, Skip):
            h.update(f"skip\0{os.path.relpath(item.locator, root)}\n".encode("utf-8", "surrogatepass"))
            continue
        try:
            size = item.stat().st_size
        except OSError:
            size = -1  # vanished or unreadable: the reader will record it
        h.update(f"{item.relative_to(root).as_posix()}\0{size}\n".encode("utf-8", "surrogatepass"))
        files += 1
        total += max(size, 0)
    return {"listing_sha256": h.hexdigest(), "files": files, "bytes": total}


def unfinished_source(c, case: Case, name: str):
    """The sources row of `name` to resume (None when new); a source already indexed is refused."""
    row = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
    if row and row["status"] == "complete":
        raise AscertainError(name, "is already indexed in this case",
                             f"to replace it run `ascertain sources remove {case.root} {name}` and add it "
                             "again; use another name for new material")
    return row


def add_source(case: Case, name: str, kind: str, paths: list[str], opts: ReadOptions,
               key_file: str | None = None, store_text: bool = True, shard_bytes: int = 64 << 20,
               on_progress: Callable[[int, int], None] | None = None, level: str | None = None,
               acquired: str | None = None, engine: str = "local", processes: int | None = None,
               ray_address: str | None = None) -> dict:
    if not NAME_RE.match(name):
        raise AscertainError(name, "is not a usable source name",
                             "use letters, digits, '.', '_' or '-' (up to 100 characters)")
    if not paths:
        raise AscertainError(name, "no input paths given", "name the files or folders to read")
    key = load_key(key_file) if key_file else None
    # a corpus holds books and code alike: each document at its own level (prose at book, code at layout);
    # model outputs at layout, as `compare` reads them
    level = level or (CORPUS_LEVEL if kind == "corpus" else DEFAULT_LEVEL)
    if level not in LEVELS:
        raise AscertainError("--level", f"unknown level {level!r}", f"choose one of {', '.join(LEVELS)}")
    check_engine(engine, processes, ray_address)  # refused before the source is recorded
    params = Params(k=case.params.k, w=case.params.w, keyed=key is not None, level=level)
    paths = [os.path.abspath(p) for p in paths]  # locators the same whatever folder the command ran from
    # Kept in the sources row only (not the index manifest): when the corpus was acquired (§412's
    # "infringement commenced"), and which record fields carry bibliographic metadata (in corpus by identifier).
    about = {"acquired": _acquired(acquired), "meta_fields": list(opts.meta_fields)}
    inputs = describe_inputs(paths)
    check_inputs(paths, opts)  # e.g. a --rev that cannot apply: refused before the source is recorded
    if key is not None:  # the paths and digests of a keyed corpus's inputs are the producing party's own
        inputs = keyed_inputs(key, inputs)
    index_dir = case.source_dir(name)
    with case.store.begin() as c:
        row = unfinished_source(c, case, name)
        resuming = row is not None
        if row is None:
            c.execute(insert(schema.sources).values(
                name=name, kind=kind, inputs=inputs, params={**params.as_dict(), **about}, keyed=params.keyed,
                status="indexing", index_dir=str(index_dir.relative_to(case.root)), added_at=now()))
        source_id = c.execute(select(schema.sources.c.id).where(schema.sources.c.name == name)).scalar_one()
    reading = {"text_field": opts.text_field, "language": opts.language, "rev": opts.rev,
               "max_doc_bytes": opts.max_doc_bytes,
               # recorded when not the default (indexes made before the budget existed resume unchanged)
               **({"max_markup_tags": opts.max_markup_tags}
                  if opts.max_markup_tags != ReadOptions.max_markup_tags else {})}
    executor = make_executor(engine, processes, ray_address)
    writer = IndexWriter(index_dir, params, inputs, reading, store_text=store_text and key is None, key=key,
                         shard_bytes=shard_bytes, executor=executor)

    def on_shard(first_doc: int, docs: list[tuple[int, Document]], skips: list[Skip]) -> None:
        case.store.record_skips(f"{kind} add", name, skips)
        if kind == "outputs":
            with case.store.begin() as c:
                c.execute(delete(schema.outputs).where(schema.outputs.c.source_id == source_id,
                                                       schema.outputs.c.doc_id >= first_doc))
                if docs:
                    c.execute(insert(schema.outputs), [
                        {"source_id": source_id, "doc_id": i, "locator": d.locator,
                         "prompt": str(d.meta.get("prompt", "")), "model": str(d.meta.get("model", "")),
                         "timestamp": str(d.meta.get("timestamp", ""))} for i, d in docs])

    t0 = time.perf_counter()
    previous = last_failure(case, name) if resuming else None
    try:
        # one process reads as it goes; workers (a pool, Ray) read the inputs as tasks, the driver keeps the order
        items = (_stream(kind, paths, opts, key) if executor.name == "local" and executor.workers == 1
                 else _planned_stream(kind, paths, opts, key, executor))
        manifest = writer.build(items, on_shard, on_progress)
    except BaseException as e:  # interrupted or failed: the source stays resumable, and the log says why
        case.store.audit(f"{kind} add", {"source": name, "kind": kind, "status": "indexing",
                                         "error": _describe(e), "inputs": inputs}, ok=False)
        raise
    finally:
        executor.close()
    seconds = time.perf_counter() - t0
    with case.store.begin() as c:
        c.execute(update(schema.sources).where(schema.sources.c.id == source_id).values(
            status="complete", documents=manifest["documents"], skipped=manifest["skipped"]))
    summary = {"source": name, "kind": kind, "documents": manifest["documents"],
               "skipped": manifest["skipped"], "fingerprints": manifest["fingerprints"],
               "tokens": manifest["tokens"], "shards": len(manifest["shards"]), "keyed": params.keyed,
               "skip_reasons": _merge_reasons(manifest["shards"]), "seconds": round(seconds, 3),
               "languages": _languages(index_dir, manifest["shards"]),
               # where the time went: the engine's calls per stage, the shard tasks' parts (not in the index)
               "stages": {**executor.stage_times(), "write_shard parts": {
                   k: round(v, 3) for k, v in writer.shard_seconds.items()}}}
    summary["levels"] = _levels(level, summary["languages"]) if not params.keyed else {level: manifest["documents"]}
    if previous:
        summary["resumed_after"] = previous
    # the stages' times are the run's, not the case's: printed (--json), not audited
    case.store.audit(f"{kind} add", {**{k: v for k, v in summary.items() if k != "stages"}, "inputs": inputs})
    return summary


def _stream(kind: str, paths: list[str], opts: ReadOptions, key: bytes | None) -> Iterator[Document | Skip]:
    """The items of every input in order; in keyed mode each is redacted (fingerprint/keyed.py) with its
    input's place on the command line and its own place in that input's stream."""
    for i, p in enumerate(paths):
        items = read_jsonl(Path(p), opts, printable(p)) if kind == "outputs" else read_inputs([p], opts)
        if key is None:
            yield from items
        else:
            for n, item in enumerate(items):
                yield redact(item, key, i, n)


def _planned_stream(kind: str, paths: list[str], opts: ReadOptions, key: bytes | None, executor: Executor
                    ) -> Iterator[Document | Skip]:
    """The same items as _stream, read by the executor's workers a unit at a time (index/input_units.py); the
    keyed redaction is done here, so the key stays in this process."""
    counts: dict[int, int] = {}
    for i, item in read_planned(executor, plan_units(kind, paths, opts, executor), opts, kind):
        if key is None:
            yield item
        else:
            n = counts[i] = counts.get(i, -1) + 1
            yield redact(item, key, i, n)


def _describe(e: BaseException) -> str:
    if isinstance(e, AscertainError):
        return f"{e.what}: {e.problem}"
    if isinstance(e, KeyboardInterrupt):
        return "interrupted"
    return f"{type(e).__name__}: {e}"


def last_failure(case: Case, name: str) -> str | None:
    """How the last attempt to index source `name` ended, if it failed (from the audit log)."""
    with case.store.engine.connect() as c:
        rows = c.execute(select(schema.audit_log.c.at, schema.audit_log.c.detail)
                         .where(schema.audit_log.c.ok.is_(False),
                                schema.audit_log.c.action.in_(["corpus add", "outputs add"]))
                         .order_by(schema.audit_log.c.id.desc())).all()
    for at, detail in rows:
        if isinstance(detail, dict) and detail.get("source") == name:
            return f"{detail.get('error', 'failed')} (at {at})"
    return None


def list_sources(case: Case) -> list[dict]:
    """Every source of the case: name, kind, status, counts, keyed, and how an unfinished one ended."""
    with case.store.engine.connect() as c:
        rows = c.execute(select(schema.sources).order_by(schema.sources.c.id)).mappings().all()
        ev = dict(c.execute(select(schema.evidence.c.source_id, func.count())
                            .group_by(schema.evidence.c.source_id)).all())
        for sid, n in c.execute(select(schema.image_evidence.c.source_id, func.count())
                                .group_by(schema.image_evidence.c.source_id)).all():
            ev[sid] = ev.get(sid, 0) + n
    out = []
    for r in rows:
        entry = {"name": r["name"], "kind": r["kind"], "status": r["status"], "documents": r["documents"],
                 "skipped": r["skipped"], "keyed": bool(r["keyed"]), "evidence": int(ev.get(r["id"], 0)),
                 "index_dir": r["index_dir"], "added_at": r["added_at"],
                 "level": r["params"].get("level", "image" if is_image_source(r["params"]) else "layout"),
                 "inputs": [i.get("path", "(keyed)") for i in r["inputs"]]}
        if r["status"] != "complete":
            entry["last_failure"] = last_failure(case, r["name"])
        out.append(entry)
    return out


def remove_source(case: Case, name: str) -> dict:
    """Delete a source: its row, its outputs, its evidence, its skip records and its index folder (audited).
    Runs keep their manifests: they record what was matched then."""
    with case.store.begin() as c:
        row = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
        if row is None:
            raise AscertainError(name, "no such source in this case",
                                 "see `ascertain sources list CASE` for the source names")
        sid = row["id"]
        counts = {"source": name, "kind": row["kind"], "status": row["status"], "documents": row["documents"]}
        counts["evidence"] = c.execute(delete(schema.evidence).where(schema.evidence.c.source_id == sid)).rowcount
        ie, ic = schema.image_evidence, schema.image_evidence_copies
        c.execute(delete(ic).where(ic.c.evidence_id.in_(select(ie.c.id).where(ie.c.source_id == sid))))
        counts["evidence"] += c.execute(delete(ie).where(ie.c.source_id == sid)).rowcount
        c.execute(delete(schema.image_watermarks).where(schema.image_watermarks.c.source_id == sid))
        counts["outputs"] = c.execute(delete(schema.outputs).where(schema.outputs.c.source_id == sid)).rowcount
        imeta = schema.image_metadata_evidence
        if n := c.execute(delete(imeta).where(imeta.c.source_id == sid)).rowcount:
            counts["image_metadata_evidence"] = n
        counts["skipped"] = c.execute(delete(schema.skipped).where(schema.skipped.c.source == name)).rowcount
        c.execute(delete(schema.sources).where(schema.sources.c.id == sid))
    index_dir = Path(row["index_dir"])
    if not index_dir.is_absolute():
        index_dir = case.root / index_dir
    inside = index_dir.resolve().is_relative_to(case.index_dir.resolve())
    counts["index_files"] = sum(1 for p in index_dir.rglob("*") if p.is_file()) if index_dir.is_dir() else 0
    if inside and index_dir.is_dir():  # never delete outside the case's index folder
        shutil.rmtree(index_dir)
    counts["index_removed"] = inside and not index_dir.exists()
    case.store.audit("sources remove", counts)
    return counts
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


def _levels(level: str, languages: dict[str, int]) -> dict[str, int]:
    """Documents per level they were indexed at (each document's is in its index row, `level`)."""
    out: dict[str, int] = {}
    for lang, n in languages.items():
        lv = resolved_level(level, "prose" if lang == "unknown" else lang)
        out[lv] = out.get(lv, 0) + n
    return dict(sorted(out.items()))


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
