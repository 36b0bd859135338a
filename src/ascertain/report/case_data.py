"""What a report reads from a case: works, sources, the last match's evidence and the copies' texts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import func, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema as s


@dataclass
class CaseData:
    case: Case
    config: dict
    works: dict[int, dict]  # work id -> {claimant, title, identifiers}
    files: dict[int, dict]  # work file id -> {work_id, path, sha256, text, language}
    sources: dict[int, dict]  # source id -> row (+ index_path)
    evidence: list[dict]  # the copies' store rows (`copied`), metrics included, in a stable order
    evidence_count: int  # every evidence row of the store (the others are counted, not loaded)
    match_run: dict | None  # the last match run: id, started_at, manifest
    classes_run: dict | None  # the last `ascertain classes` run (counts per class, §412 split), if any
    registrations: int  # registration records imported
    image_run: dict | None = None  # the last image match run (match/images.py), if any


def index_path(case: Case, src: dict) -> Path:
    p = Path(src["index_dir"])
    return p if p.is_absolute() else case.root / p


def load(case: Case) -> CaseData:
    with case.store.engine.connect() as c:
        works = {r.id: {"claimant": r.claimant, "title": r.title, "identifiers": r.identifiers, "inputs": r.inputs}
                 for r in c.execute(select(s.works.c.id, s.works.c.title, s.works.c.identifiers, s.works.c.inputs,
                                           s.claimants.c.name.label("claimant")).join(s.claimants))}
        files = {r.id: dict(r._mapping) for r in c.execute(select(s.work_files))}
        sources = {r.id: {**dict(r._mapping), "index_path": index_path(case, dict(r._mapping))}
                   for r in c.execute(select(s.sources).order_by(s.sources.c.id))}
        # a report shows the copies; the other records (often most of them) are counted, not held in memory
        evidence = [dict(r._mapping) for r in c.execute(select(s.evidence).where(s.evidence.c.copied.is_(True))
                                                        .order_by(s.evidence.c.work_file_id, s.evidence.c.source_id,
                                                                  s.evidence.c.doc_id))]
        evidence_count = c.execute(select(func.count()).select_from(s.evidence)).scalar_one()
        last = select(s.runs).order_by(s.runs.c.id.desc()).limit(1)
        run = c.execute(last.where(s.runs.c.stage == "match")).mappings().first()
        classes_run = c.execute(last.where(s.runs.c.stage == "classes")).mappings().first()
        image_run = c.execute(last.where(s.runs.c.stage == "match images")).mappings().first()
        registrations = c.execute(select(func.count()).select_from(s.registrations)).scalar_one()
    if not files:
        raise AscertainError(str(case.root), "has no works", "add works with `ascertain works add`")
    if run is None:
        raise AscertainError(str(case.root), "has no match run to report on", f"run `ascertain match {case.root}`")
    return CaseData(case, case.config, works, files, sources, evidence, evidence_count, dict(run),
                    dict(classes_run) if classes_run else None, registrations, dict(image_run) if image_run else None)


def fetch_documents(src: dict, doc_ids: list[int]) -> dict[int, dict]:
    """doc id -> {locator, sha256, language, text (None in a text-less index)} from the source's shards."""
    if not doc_ids:
        return {}
    root = src["index_path"]
    manifest = json.loads((root / "manifest.json").read_text())
    files = [str(root / sh["documents_file"]) for sh in manifest["shards"]]
    con = duckdb.connect()
    con.register("wanted", pa.table({"doc": pa.array(sorted(set(doc_ids)), pa.int64())}))
    rows = con.execute("SELECT d.doc, d.locator, d.sha256, d.language, d.text FROM read_parquet($files) AS d "
                       "SEMI JOIN wanted USING (doc)", {"files": files}).fetchall()
    con.close()
    return {r[0]: {"locator": r[1], "sha256": r[2], "language": r[3], "text": r[4]} for r in rows}


def load_light(case: Case, evidence_id: int) -> CaseData | None:
    """Only what one exhibit needs (one evidence row, its work file, work and source): for the web viewer."""
    with case.store.engine.connect() as c:
        e = c.execute(select(s.evidence).where(s.evidence.c.id == evidence_id)).mappings().first()
        if e is None:
            return None
        f = c.execute(select(s.work_files).where(s.work_files.c.id == e["work_file_id"])).mappings().one()
        w = c.execute(select(s.works.c.id, s.works.c.title, s.works.c.identifiers,
                             s.claimants.c.name.label("claimant")).join(s.claimants)
                      .where(s.works.c.id == f["work_id"])).mappings().one()
        src = dict(c.execute(select(s.sources).where(s.sources.c.id == e["source_id"])).mappings().one())
    src["index_path"] = index_path(case, src)
    return CaseData(case, case.config, {w["id"]: {"claimant": w["claimant"], "title": w["title"],
                                                   "identifiers": w["identifiers"]}},
                    {f["id"]: dict(f)}, {src["id"]: src}, [dict(e)], 1, None, None, 0)
