"""The invisible-watermark check of an output set's images during `ascertain match` (imaging/watermark.py): every
distinct image of each image output set read again from its input at its stored size, checked against the known
messages of open image generators' reference code, and stored per document (store/schema.py image_watermarks).

What it can and cannot show is stored with each result (imaging/watermark.py SHOWS / CANNOT_SHOW): a message found
means the image went through a pipeline that embedded it, not which model made it; absence proves nothing.
Corpus images are not checked: the question is where a generated output came from.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select

from ascertain.engine import Executor, ordered_map
from ascertain.errors import AscertainError
from ascertain.index.images import iter_index
from ascertain.store import schema

BATCH = 16  # images per engine task (a check is ~5-30 ms at generator sizes)
WATERMARK_METHOD = "imaging.watermark.check_watermark_bytes"


def _check_batch(items: list[tuple[str, str, str]]) -> list[dict]:
    """(meta JSON, locator, sha256) -> the stored result of each (an unreadable image is a result too)."""
    from ascertain.imaging.watermark import CANNOT_SHOW, SHOWS, check_watermark_bytes, finding
    from ascertain.readers.images import read_image_at

    out = []
    for meta, locator, sha in items:
        data = read_image_at(json.loads(meta), locator, sha)
        if data is None:
            out.append({"status": "unreadable", "reason": "moved or changed since indexing"})
            continue
        try:
            r = check_watermark_bytes(data, locator)
        except AscertainError as e:
            out.append({"status": "unreadable", "reason": f"{e.problem}"})
            continue
        f = finding(r)
        out.append({"status": "present" if f["present"] else "absent", **f, "method": r["method"],
                    "alpha": r["alpha"], "messages": r["messages"], "shows": SHOWS, "cannot_show": CANNOT_SHOW})
    return out


def check_output_set(source_id: int, index_dir: Path, manifest: dict, executor: Executor) -> list[dict]:
    """One row per document of the output set (image_watermarks columns but run_id), in document order."""
    docs: list[tuple[int, str, str, int]] = []
    reps: dict[int, tuple[str, str, str]] = {}
    for batch in iter_index(index_dir, manifest, ["doc", "locator", "sha256", "meta", "content"]):
        for r in batch.to_pylist():
            docs.append((int(r["doc"]), r["locator"], r["sha256"], int(r["content"])))
            if r["doc"] == r["content"]:
                reps[int(r["content"])] = (r["meta"], r["locator"], r["sha256"])
    order = sorted(reps)
    batches = [([reps[c] for c in order[i:i + BATCH]],) for i in range(0, len(order), BATCH)]
    results: dict[int, dict] = {}
    done = 0
    for res in ordered_map(executor, _check_batch, batches):
        for c, r in zip(order[done:done + len(res)], res, strict=True):
            results[c] = r
        done += len(res)
    rows = []
    for doc, locator, sha, content in docs:
        r = results[content]
        rows.append({"source_id": source_id, "doc_id": doc, "locator": locator, "sha256": sha, "status": r["status"],
                     "message": r.get("message"), "closest": r.get("closest"), "agree": int(r.get("agree", 0)),
                     "bits": int(r.get("bits", 0)), "p_family": float(r.get("p_family", 1.0)), "facts": r})
    return rows


def tally(rows: list[dict]) -> dict:
    """Per output set: documents checked, with a known message (per message), absent, unreadable."""
    st = Counter(r["status"] for r in rows)
    return {"checked": len(rows), "present": st["present"], "absent": st["absent"], "unreadable": st["unreadable"],
            "by_message": dict(sorted(Counter(r["message"] for r in rows if r["status"] == "present").items()))}


def store(c: Connection, run_id: int, source_ids: list[int], rows: list[dict]) -> None:
    """Replace the sources' stored checks with these."""
    wm = schema.image_watermarks
    c.execute(delete(wm).where(wm.c.source_id.in_(source_ids)))
    if rows:
        c.execute(insert(wm), [{**r, "run_id": run_id} for r in rows])


def stored_by_doc(c: Connection, source_id: int) -> dict[int, dict]:
    """doc id -> the stored check of one output set (what a `--work` run attaches to its evidence)."""
    wm = schema.image_watermarks
    return {int(d): f for d, f in c.execute(select(wm.c.doc_id, wm.c.facts).where(wm.c.source_id == source_id))}


def short(f: dict | None) -> str:
    """The check in a few words, for tables and the CSV: 'SDXL (48/48 bits, p 1e-14)', 'none found', ..."""
    if not f:
        return ""
    if f["status"] == "unreadable":
        return "not checked (unreadable)"
    if f["status"] == "present":
        return f"{f['message']} ({f['agree']}/{f['bits']} bits, p {f['p_family']:.0e})"
    return "none found"


def stored_summary(c: Connection) -> dict[str, dict]:
    """Per output set (by name): the tally of its stored checks."""
    wm = schema.image_watermarks
    rows = [dict(r) for r in c.execute(select(schema.sources.c.name, wm.c.status, wm.c.message)
                                       .join(schema.sources, schema.sources.c.id == wm.c.source_id)).mappings()]
    out: dict[str, list] = {}
    for r in rows:
        out.setdefault(r["name"], []).append(r)
    return {name: tally(rs) for name, rs in sorted(out.items())}
