"""Adding claimants' works: one work per path (a file, a folder or a git repository), or a works list
(CSV, JSONL or Parquet; see works_list.py) where a work may have files or be metadata-only."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, insert, select

from ascertain.case import Case
from ascertain.cmi.work import record_work_cmi
from ascertain.errors import AscertainError
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.tables import Table, cell, parse_mapping
from ascertain.text.bibliographic import isbns, name_key, parse_date, registration_number, split_list, title_key
from ascertain.text.names import unsafe_character


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
             identifiers: dict | None = None, rev: str | None = None, report: WorksReport | None = None,
             on_insert: Callable[[Connection, int], None] | None = None, images: bool = False) -> WorksReport:
    """Add one work with its files; `on_insert(conn, work_id)` writes more about it in the same transaction.
    An image file, or a folder of images (any folder's images with `images`), is one image work per image
    (works_images.py)."""
    from ascertain.works_images import add_image_works, image_work_paths

    report = report or WorksReport()
    if (picked := image_work_paths(os.path.abspath(path), images)) is not None:
        if not claimant.strip():
            raise AscertainError("--claimant", "is empty", "name the claimant")
        add_image_works(case, claimant.strip(), os.path.abspath(path), picked, title, identifiers, report,
                        _claimant_id, on_insert)
        return report
    if images:
        raise AscertainError(path, "holds no image (--images reads a folder's images only)",
                             "check the path, or leave out --images for a text work")
    first_skip = len(report.skipped)  # record only this work's skips: the report may span many works
    claimant = claimant.strip()
    if not claimant:
        raise AscertainError("--claimant", "is empty", "name the claimant")
    title = (title or Path(path).name).strip()
    for what, value in (("--claimant", claimant), ("--title", title)):
        if why := unsafe_character(value):
            raise AscertainError(what, f"holds {why}", "remove that character (names are shown as written)")
    path = os.path.abspath(path)  # stored as case.stable_path: the same whatever folder the command ran from
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
    with case.store.begin() as c:
        cid = _claimant_id(c, claimant)
        exists = c.execute(select(schema.works.c.id).where(
            schema.works.c.claimant_id == cid, schema.works.c.title == title)).first()
        if exists:
            report.existing.append(f"{claimant} / {title}")
            return report
        wid = c.execute(insert(schema.works).values(
            claimant_id=cid, title=title, identifiers=identifiers or {}, inputs=[case.stable_path(path)],
            added_at=now())).inserted_primary_key[0]
        c.execute(insert(schema.work_files), [
            {"work_id": wid, "path": case.stable_path(d.locator), "sha256": d.sha256, "bytes": d.meta.get("bytes", 0),
             "language": d.language, "text": d.text} for d in docs])
        record_work_cmi(c, wid, [case.stable_path(path)])
        if on_insert:
            on_insert(c, wid)
    report.added.append({"work_id": wid, "claimant": claimant, "title": title, "files": len(docs)})
    case.store.record_skips("works", None, report.skipped[first_skip:])
    case.store.audit("works add", {"claimant": claimant, "title": title, "path": str(path),
                                   "files": len(docs)})
    return report


# --- Works lists: many works at once, with bibliographic details and owners; files optional ---

WORK_FIELDS = ("claimant", "claimant_role", "claimant_share", "claimants", "title", "authors", "isbn", "asin",
               "publication_date", "language", "work_type", "registration_number", "path")
ROLES = ("legal owner", "beneficial owner", "co-owner")
BATCH_ROWS = 5000


@dataclass
class ListedWork:
    loc: str
    title: str
    owners: list[tuple[str, str, float | None]]  # (name, role, share), once per (name, role)
    details: dict
    identifiers: dict
    path: Path | None


def _role(text: str, loc: str) -> str:
    r = text.strip().lower().replace("_", " ").replace("coowner", "co-owner").replace("co owner", "co-owner")
    r = {"legal": "legal owner", "beneficial": "beneficial owner", "owner": "legal owner"}.get(r, r)
    if r not in ROLES:
        raise ValueError(f"owner role {text!r} is not one of: {', '.join(ROLES)}")
    return r


def _share(text, where: str) -> float | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        v = float(str(text).strip().rstrip("%")) / (100 if str(text).strip().endswith("%") else 1)
    except ValueError:
        raise ValueError(f"share {text!r} of {where} is not a number (write 0.5 or 50%)") from None
    if not 0 < v <= 1:
        raise ValueError(f"share {text!r} of {where} is not between 0 and 1 (or 0% and 100%)")
    return v


def _owners(row: dict, loc: str) -> list[tuple[str, str, float | None]]:
    """Owners from `claimant` (+ `claimant_role`, `claimant_share`) and/or `claimants`:
    'Alice Smith: legal owner 50%; Bob Press: beneficial owner' or a JSON list of {name, role, share}."""
    out: list[tuple[str, str, float | None]] = []
    name = cell(row, "claimant")
    if name:
        out.append((name, _role(cell(row, "claimant_role") or "legal owner", loc),
                    _share(row.get("claimant_share"), name)))
    many = row.get("claimants")
    entries = many if isinstance(many, list) else split_list(many)
    for e in entries:
        if isinstance(e, dict):
            n, role, share = str(e.get("name", "")).strip(), str(e.get("role") or "legal owner"), e.get("share")
        else:
            n, _, rest = str(e).partition(":")
            n, rest = n.strip(), rest.strip()
            parts = rest.rsplit(" ", 1)
            if len(parts) == 2 and any(ch.isdigit() for ch in parts[1]):
                role, share = parts[0], parts[1]
            else:
                role, share = rest or "legal owner", None
        if n:
            out.append((n, _role(role, loc), _share(share, n)))
    seen: dict[tuple[str, str], float | None] = {}
    for n, role, share in out:
        if (n, role) in seen and seen[(n, role)] != share:
            raise ValueError(f"conflicting owners: {n!r} is listed twice as {role} with different shares")
        seen[(n, role)] = share
    for role in ROLES:
        total = sum(s or 0 for (n, r), s in seen.items() if r == role)
        if total > 1.0001:
            raise ValueError(f"conflicting owners: the {role} shares add up to {total:.0%}, more than 100%")
    return [(n, r, s) for (n, r), s in seen.items()]


def parse_listed_work(loc: str, row: dict, base: Path) -> ListedWork:
    """One row of a works list, checked; ValueError naming the problem."""
    title = cell(row, "title")
    if not title:
        raise ValueError("the title is empty")
    owners = _owners(row, loc)
    if not owners:
        raise ValueError("no claimant (fill `claimant` or `claimants`)")
    authors = split_list(row.get("authors"))
    details = {"authors": authors, "isbns": isbns(row.get("isbn")),
               "other_ids": {"asin": cell(row, "asin")} if cell(row, "asin") else {},
               "publication_date": parse_date(row.get("publication_date")),
               "language": cell(row, "language") or None, "work_type": cell(row, "work_type") or None,
               "registration_number": registration_number(cell(row, "registration_number"))
               if cell(row, "registration_number") else None,
               "title_key": title_key(title), "author_key": " ; ".join(name_key(a) for a in authors), "row": loc}
    identifiers = {k: str(v).strip() for k, v in row.items()
                   if k not in WORK_FIELDS and v is not None and str(v).strip()}
    for k in ("isbn", "asin", "registration_number"):
        if cell(row, k):
            identifiers[k] = cell(row, k)
    path = None
    if cell(row, "path"):
        path = Path(cell(row, "path"))
        path = path if path.is_absolute() else base / path
        if not path.exists():
            raise ValueError(f"path {str(path)!r} does not exist (relative paths are from the list's folder)")
    return ListedWork(loc, title, owners, details, identifiers, path)


def _primary(owners: list[tuple[str, str, float | None]]) -> str:
    """The claimant the works row names: the first legal owner, else the first co-owner, else the first."""
    for role in ("legal owner", "co-owner"):
        for n, r, _ in owners:
            if r == role:
                return n
    return owners[0][0]


def import_manifest(case: Case, manifest: str, on_row: Callable[[], None] | None = None,
                    mapping: str | None = None, batch_rows: int = BATCH_ROWS) -> WorksReport:
    """A works list: CSV, JSONL or Parquet; fields WORK_FIELDS (rename columns with `mapping`), other columns
    kept as identifiers. Rows with a path add the work's files; rows without one are metadata-only works,
    inserted in batches of `batch_rows`, one transaction each. A bad row is skipped and recorded."""
    report = WorksReport()
    row_skips: list[Skip] = []  # skips of whole rows; add_work records the skips inside each work itself
    base = Path(manifest).parent
    table = Table(manifest, parse_mapping(mapping, WORK_FIELDS))
    fields = set(table.fields.values())
    if "title" not in fields or not fields & {"claimant", "claimants"}:
        raise AscertainError(manifest, f"needs a title and a claimant or claimants column "
                             f"(columns: {', '.join(table.columns[:30])})",
                             "name them in the header, or map them: --map title=Title,claimant=Owner")
    with case.store.engine.connect() as c:
        claimant_ids = {n: i for i, n in c.execute(select(schema.claimants.c.id, schema.claimants.c.name))}
        existing = {(cid, t) for cid, t in c.execute(select(schema.works.c.claimant_id, schema.works.c.title))}
    pending: list[ListedWork] = []
    by_isbn: dict[str, tuple[str, str]] = {}  # ISBN -> (row, legal owner): one book, one owner

    def flush() -> None:
        if pending:
            _insert_metadata_works(case, pending, claimant_ids, existing, report)
            pending.clear()

    for loc, row in table.records(row_skips, on_row):
        try:
            w = parse_listed_work(loc, row, base)
            owner = _primary(w.owners)
            for i in w.details["isbns"]:
                if i in by_isbn and by_isbn[i][1] != owner:
                    raise ValueError(f"conflicting owners: ISBN {i} is listed at {by_isbn[i][0]} with owner "
                                     f"{by_isbn[i][1]!r} and here with {owner!r}")
            for i in w.details["isbns"]:
                by_isbn.setdefault(i, (loc, owner))
        except ValueError as e:
            row_skips.append(Skip(manifest, loc, str(e), "fix that row and import the list again; the other rows "
                                  "were imported (rows already in the case are not added twice)"))
            continue
        if w.path is None:
            pending.append(w)
            if len(pending) >= batch_rows:
                flush()
            continue
        flush()
        add_work(case, owner, str(w.path), w.title, w.identifiers, report=report,
                 on_insert=lambda conn, wid, w=w: _write_details(conn, wid, w, claimant_ids, False))
    flush()
    report.skipped.extend(row_skips)
    case.store.record_skips("works import", None, row_skips)
    if report.added:
        case.store.audit("works import", {"list": manifest, "added": len(report.added),
                                          "existing": len(report.existing), "skipped": len(row_skips)})
    return report


def _claimant_ids(conn: Connection, names: list[str], ids: dict[str, int]) -> None:
    new = sorted({n for n in names if n not in ids})
    if new:  # add_work may have created some of them meanwhile
        for i, n in conn.execute(select(schema.claimants.c.id, schema.claimants.c.name)
                                 .where(schema.claimants.c.name.in_(new))):
            ids[n] = i
        new = [n for n in new if n not in ids]
    if new:
        conn.execute(insert(schema.claimants), [{"name": n} for n in new])
        for i, n in conn.execute(select(schema.claimants.c.id, schema.claimants.c.name)
                                 .where(schema.claimants.c.name.in_(new))):
            ids[n] = i


def _write_details(conn: Connection, wid: int, w: ListedWork, ids: dict[str, int], metadata_only: bool) -> None:
    _claimant_ids(conn, [n for n, _, _ in w.owners], ids)
    conn.execute(insert(schema.work_details).values(work_id=wid, metadata_only=metadata_only, **w.details))
    conn.execute(insert(schema.work_owners), [{"work_id": wid, "claimant_id": ids[n], "role": r, "share": s}
                                              for n, r, s in w.owners])


def _insert_metadata_works(case: Case, rows: list[ListedWork], ids: dict[str, int],
                           existing: set[tuple[int, str]], report: WorksReport) -> None:
    """One transaction for a batch of metadata-only works: claimants, works, details, owners."""
    from sqlalchemy import func

    added_at = now()
    with case.store.begin() as c:
        _claimant_ids(c, [n for w in rows for n, _, _ in w.owners], ids)
        next_id = (c.execute(select(func.max(schema.works.c.id))).scalar() or 0) + 1
        works, details, owners, added = [], [], [], []
        for w in rows:
            primary = _primary(w.owners)
            key = (ids[primary], w.title)
            if key in existing:
                report.existing.append(f"{primary} / {w.title}")
                continue
            existing.add(key)
            wid, next_id = next_id, next_id + 1
            works.append({"id": wid, "claimant_id": ids[primary], "title": w.title, "identifiers": w.identifiers,
                          "inputs": [], "added_at": added_at})
            details.append({"work_id": wid, "metadata_only": True, **w.details})
            owners.extend({"work_id": wid, "claimant_id": ids[n], "role": r, "share": s} for n, r, s in w.owners)
            added.append({"work_id": wid, "claimant": primary, "title": w.title, "files": 0})
        if works:
            c.execute(insert(schema.works), works)
            c.execute(insert(schema.work_details), details)
            c.execute(insert(schema.work_owners), owners)
    report.added.extend(added)
