"""One indexed document, by doc id or locator, from a source's docs shards (what `ascertain doc` shows).

A locator is matched exactly, or else as the end of one stored locator (`vendor/randnum.py` for
`/data/corpus/vendor/randnum.py`); several matches are an error that lists them. A text-less index
(fingerprint-only or keyed) holds no text: the lookup says so and names the locator from which the producing
party can produce the document.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.index.shards import read_manifest
from ascertain.media import is_image_manifest
from ascertain.store import schema

MAX_LISTED = 5


def source_index(case: Case, name: str) -> tuple[Path, dict]:
    """(index folder, manifest) of a source of the case."""
    with case.store.engine.connect() as c:
        src = c.execute(select(schema.sources).where(schema.sources.c.name == name)).mappings().first()
        names = [r[0] for r in c.execute(select(schema.sources.c.name).order_by(schema.sources.c.id))]
    if src is None:
        raise AscertainError(name, "no such source in this case",
                             f"choose one of: {', '.join(names) or 'none yet (add one with `ascertain corpus add`)'}")
    index_dir = Path(src["index_dir"])
    index_dir = index_dir if index_dir.is_absolute() else case.root / index_dir
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise AscertainError(name, "has no index yet", "run its `ascertain corpus add` / `outputs add` again")
    return index_dir, manifest


def find_document(case: Case, source: str, wanted: str) -> dict:
    """The document record {doc, locator, sha256, language, tokens, bytes, meta, text (None if not stored)}."""
    index_dir, manifest = source_index(case, source)
    if is_image_manifest(manifest):
        raise AscertainError(source, "is an image source: its documents are images, not text",
                             "see the image evidence with `ascertain show CASE WORK` (tier, region, locator), and "
                             "compare one image with a work's file: `ascertain compare WORK.jpg COPY.jpg`")
    shards = manifest["shards"]
    if wanted.isdigit():
        doc = int(wanted)
        shard = next((s for s in shards if s["first_doc"] <= doc < s["first_doc"] + s["documents"]), None)
        if shard is None:
            raise AscertainError(f"{source} document {doc}", f"no such document id (the source holds "
                                 f"{manifest.get('documents', sum(s['documents'] for s in shards)):,} documents, "
                                 "ids from 0)", "use a doc_id from the evidence, or the document's locator")
        return _row(index_dir / shard["documents_file"], pc.field("doc") == doc)
    matches: list[tuple[Path, str]] = []
    for exact in (True, False):
        for s in shards:
            path = index_dir / s["documents_file"]
            if "locator" not in pq.read_schema(path).names:
                raise AscertainError(source, "this index stores no locators (keyed index)",
                                     "look the document up by its doc id (the doc_id of an evidence record)")
            locs = pq.read_table(path, columns=["locator"]).column("locator")
            hit = pc.equal(locs, wanted) if exact else pc.ends_with(locs, "/" + wanted.lstrip("/"))
            matches += [(path, loc) for loc in pc.filter(locs, hit).to_pylist()]
        if matches:
            break
    if not matches:
        raise AscertainError(f"{source}: {wanted}", "no indexed document has this locator",
                             "use the doc_locator or doc_id of an evidence record (`ascertain show CASE WORK`); "
                             "in a keyed index locators may be keyed: use the doc id")
    if len(matches) > 1:
        listed = ", ".join(loc for _, loc in matches[:MAX_LISTED])
        raise AscertainError(f"{source}: {wanted}", f"{len(matches)} documents end with this locator ({listed}"
                             + (", ..." if len(matches) > MAX_LISTED else "") + ")", "give the full locator")
    path, loc = matches[0]
    return _row(path, pc.field("locator") == loc)


def _row(path: Path, where) -> dict:
    rows = pq.read_table(path, filters=where).to_pylist()
    row = rows[0]
    row["meta"] = json.loads(row["meta"]) if row.get("meta") else {}
    return row


def document_text(case: Case, source: str, wanted: str, lines: str | None = None) -> dict:
    """The document with its text (lines A-B only if asked); an error when the index holds no text."""
    d = find_document(case, source, wanted)
    if d.get("text") is None:
        raise AscertainError(f"{source} document {d['doc']}", "the index holds no text (a fingerprint-only or "
                             "keyed index keeps fingerprints, not documents)",
                             f"ask the producing party to produce the document at locator {d.get('locator')!r} "
                             f"(sha256 {d.get('sha256')}), then `ascertain compare` it against the work")
    d["lines"] = None
    if lines:
        a, b = _line_range(lines)
        all_lines = d["text"].splitlines(keepends=True)
        if a > len(all_lines):
            raise AscertainError(f"--lines {lines}", f"the document has {len(all_lines)} lines",
                                 f"choose lines within 1-{len(all_lines)}")
        d["lines"] = [a, min(b, len(all_lines))]
        d["text"] = "".join(all_lines[a - 1:b])
    return d


def _line_range(spec: str) -> tuple[int, int]:
    a, _, b = spec.partition("-")
    try:
        first, last = int(a), int(b or a)
    except ValueError:
        first = last = 0
    if not 1 <= first <= last:
        raise AscertainError(f"--lines {spec}", "not a line range", "pass A-B with 1 <= A <= B, e.g. --lines 10-40")
    return first, last
