"""A work's CMI: the union of its files' CMI and its repository-level CMI, each item keeping its file."""

from __future__ import annotations

from pathlib import PurePosixPath

from sqlalchemy import insert, select

from ascertain.cmi.metadata import is_metadata
from ascertain.cmi.status import items
from ascertain.store import schema
from ascertain.text.languages import is_license_file


def scope_of(file_path: str, work_inputs: list[str]) -> str:
    """'repository' for LICENSE/COPYING/NOTICE and package metadata at the root of the work, else 'file'."""
    p = PurePosixPath(file_path)
    at_root = any(p.parent == PurePosixPath(i) or str(p) == i for i in work_inputs)
    return "repository" if at_root and (is_license_file(file_path) or is_metadata(file_path)) else "file"


def record_work_cmi(conn, work_id: int, inputs: list[str]) -> None:
    """Scan the work's files and store their CMI (called when the work is added)."""
    from ascertain.cmi.scan import scan_text  # the scanner's imports, only where a scan is made

    rows = conn.execute(select(schema.work_files.c.id, schema.work_files.c.path, schema.work_files.c.text,
                               schema.work_files.c.language).where(schema.work_files.c.work_id == work_id)
                        ).all()
    conn.execute(insert(schema.work_cmi), [
        {"work_file_id": fid, "work_id": work_id, "scope": scope_of(path, inputs),
         "cmi": scan_text(path, text, language)} for fid, path, text, language in rows])


def load_work_cmi(conn, files, work_id: int | None = None, work_ids: list[int] | None = None
                  ) -> tuple[dict[int, dict], dict[int, list[dict]]]:
    """(CMI per work file id, repository-level items per work id) of `files` (all of work_id's when given;
    only the rows of `work_ids` read when given: a batch of works); files of older cases are scanned now."""
    q = select(schema.work_cmi)
    if work_id is not None:
        rows = conn.execute(q.where(schema.work_cmi.c.work_id == work_id)).all()
    elif work_ids is not None:  # a few hundred bound ids a statement (SQLite's limit on variables)
        rows = [r for i in range(0, len(work_ids), 500)
                for r in conn.execute(q.where(schema.work_cmi.c.work_id.in_(work_ids[i:i + 500]))).all()]
    else:
        rows = conn.execute(q).all()
    stored = {r.work_file_id: r for r in rows}
    per_file: dict[int, dict] = {}
    repo: dict[int, list[dict]] = {}
    for f in files:
        row = stored.get(f["id"])
        if row:
            cmi = row.cmi
        else:
            from ascertain.cmi.scan import scan_text

            cmi = scan_text(f["path"], f["text"], f["language"])
        per_file[f["id"]] = cmi
        if row and row.scope == "repository":
            repo.setdefault(f["work_id"], []).extend({**i, "path": f["path"]} for i in items(cmi))
    return per_file, repo
