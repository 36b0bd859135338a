"""Adding claimants' works: one work per path (a file, a folder or a git repository), or a CSV manifest."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select

from ascertain.case import Case
from ascertain.cmi.work import record_work_cmi
from ascertain.errors import AscertainError
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.store import schema
from ascertain.store.db import now

REQUIRED_COLUMNS = ("claimant", "title", "path")


@dataclass
class WorksReport:
    added: list[dict] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"added": self.added, "existing": self.existing,
                "skipped": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in self.skipped]}


def _claimant_id(conn, name: str) -> int:
    row = conn.execute(select(schema.claimants.c.id).where(schema.claimants.c.name == name)).first()
    if row:
        return row[0]
    return conn.execute(insert(schema.claimants).values(name=name)).inserted_primary_key[0]


def add_work(case: Case, claimant: str, path: str, title: str | None = None,
             identifiers: dict | None = None, rev: str | None = None, report: WorksReport | None = None
             ) -> WorksReport:
    report = report or WorksReport()
    first_skip = len(report.skipped)  # record only this work's skips: the report may span many works
    claimant = claimant.strip()
    if not claimant:
        raise AscertainError("--claimant", "is empty", "name the claimant")
    title = (title or Path(path).name).strip()
    docs: list[Document] = []
    for item in read_inputs([path], ReadOptions(rev=rev, expand_containers=False)):
        if isinstance(item, Skip):
            report.skipped.append(item)
        else:
            docs.append(item)
    if not docs:
        report.skipped.append(Skip(path, path, "no readable text file in this work",
                                   "check the path; binary files are not works' text"))
        case.store.record_skips("works", None, report.skipped[first_skip:])
        return report
    with case.store.engine.begin() as c:
        cid = _claimant_id(c, claimant)
        exists = c.execute(select(schema.works.c.id).where(
            schema.works.c.claimant_id == cid, schema.works.c.title == title)).first()
        if exists:
            report.existing.append(f"{claimant} / {title}")
            return report
        wid = c.execute(insert(schema.works).values(
            claimant_id=cid, title=title, identifiers=identifiers or {}, inputs=[str(path)],
            added_at=now())).inserted_primary_key[0]
        c.execute(insert(schema.work_files), [
            {"work_id": wid, "path": d.locator, "sha256": d.sha256, "bytes": d.meta.get("bytes", 0),
             "language": d.language, "text": d.text} for d in docs])
        record_work_cmi(c, wid, [str(path)])
    report.added.append({"work_id": wid, "claimant": claimant, "title": title, "files": len(docs)})
    case.store.record_skips("works", None, report.skipped[first_skip:])
    case.store.audit("works add", {"claimant": claimant, "title": title, "path": str(path),
                                   "files": len(docs)})
    return report


def read_text_table(manifest: str) -> str:
    """The whole CSV as text, or an error naming the first line that is not UTF-8 (before anything is written)."""
    try:
        data = Path(manifest).read_bytes()
    except OSError as e:
        raise AscertainError(manifest, f"cannot open ({e.strerror})", "check the path") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise AscertainError(manifest, f"is not UTF-8 text (line {line}, byte {e.start}: "
                             f"{data[e.start:e.start + 1]!r}); nothing was imported",
                             f"convert it, e.g. `iconv -f LATIN1 -t UTF-8 {manifest} > works-utf8.csv`, "
                             "and import that file") from e


def import_manifest(case: Case, manifest: str, on_row: Callable[[], None] | None = None) -> WorksReport:
    """Rows: claimant, title, path[, any identifier columns such as isbn, registration_number]."""
    report = WorksReport()
    row_skips: list[Skip] = []  # skips of whole rows; add_work records the skips inside each work itself
    base = Path(manifest).parent
    reader = csv.DictReader(io.StringIO(read_text_table(manifest), newline=""))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AscertainError(manifest, f"missing column(s) {', '.join(missing)} "
                             f"(header: {', '.join(reader.fieldnames or [])})",
                             "the first row must name at least claimant,title,path")
    for rowno, row in enumerate(reader, 2):
        if on_row:
            on_row()
        loc = f"{manifest}:{rowno}"
        if None in row or any(not (row.get(c) or "").strip() for c in REQUIRED_COLUMNS):
            row_skips.append(Skip(manifest, loc, "row has extra cells or an empty claimant, "
                                  "title or path", "fix that row; the other rows were imported"))
            continue
        path = Path(row["path"].strip())
        path = path if path.is_absolute() else base / path
        if not path.exists():
            row_skips.append(Skip(manifest, loc, f"path {str(path)!r} does not exist",
                                  "correct the path (relative paths are from the CSV's folder)"))
            continue
        ids = {k: v.strip() for k, v in row.items() if k not in REQUIRED_COLUMNS and v and v.strip()}
        add_work(case, row["claimant"], str(path), row["title"], ids, report=report)
    report.skipped.extend(row_skips)
    case.store.record_skips("works import", None, row_skips)
    return report
