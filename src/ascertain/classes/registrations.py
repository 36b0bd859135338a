"""Importing copyright registration records: checked, normalized, all rows of a file in one transaction."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.readers.base import Skip
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.tables import Table, cell, parse_mapping, yes_no
from ascertain.text.bibliographic import isbns, name_key, parse_date, registration_number, split_list, title_key

FIELDS = ("number", "effective_date", "title", "claimants", "authors", "publication_date", "isbn", "group",
          "supplementary", "work_type", "contents")
CONTENTS_FIELDS = ("number", "title", "authors", "publication_date", "position")
# Column labels of the Copyright Office's Public Catalog record display (not checked against a bulk export:
# if a file uses other labels, --map them).
PRESETS = {
    "copyright-office": {"Registration Number": "number", "Effective Date of Registration": "effective_date",
                         "Title": "title", "Copyright Claimant": "claimants", "Authorship on Application": "authors",
                         "Date of Publication": "publication_date", "ISBN": "isbn", "Type of Work": "work_type",
                         "Contents": "contents"},
}
# "Title (published 2021-03-04)" or "Title (2021-03-04)": a listed work with its own publication date
_LISTED_DATE = re.compile(r"\s*[\(\[]\s*(?:pub(?:lished|\.)?:?\s*)?(\d{4}(?:-\d{2}(?:-\d{2})?)?)\s*[\)\]]\s*$", re.I)
BATCH = 10_000


def _flag(row: dict, field: str) -> bool:
    return bool(yes_no(row.get(field), f"{field} flag", frozenset({"group", "supplementary"})))


def parse_registration(loc: str, row: dict) -> dict:
    """One record, checked and normalized; ValueError naming the problem."""
    if not cell(row, "number"):
        raise ValueError("the registration number is empty")
    if not cell(row, "title"):
        raise ValueError("the title is empty")
    eff = parse_date(row.get("effective_date"))
    if eff is None or len(eff) != 10:
        raise ValueError(f"effective date of registration {row.get('effective_date')!r} is not a full date "
                         "(YYYY-MM-DD)")
    authors, claimants = split_list(row.get("authors")), split_list(row.get("claimants"))
    contents = parse_contents(row.get("contents"))
    return {"number": registration_number(cell(row, "number")), "effective_date": eff,
            "title": cell(row, "title"), "title_key": title_key(cell(row, "title")), "claimants": claimants,
            "authors": authors, "author_key": " ; ".join(name_key(a) for a in authors),
            "publication_date": parse_date(row.get("publication_date")), "isbns": isbns(row.get("isbn")),
            "group_registration": _flag(row, "group") or len(contents) > 1,
            "supplementary": _flag(row, "supplementary"),
            "row": loc, "contents": contents}


def parse_contents(cell_value: object) -> list[dict]:
    """A contents cell: titles separated by ';' or '|' (or a JSON list), each optionally followed by its own
    publication date in parentheses."""
    out = []
    for item in split_list(cell_value if isinstance(cell_value, list) else (str(cell_value or "").strip() or None)):
        title, date = item, None
        m = _LISTED_DATE.search(item)
        if m:
            title, date = item[:m.start()].strip(), parse_date(m.group(1))
        if title:
            out.append({"title": title, "publication_date": date})
    return out


def _content_row(registration_id: int, position: int, title: str, authors: list[str], date: str | None,
                 loc: str) -> dict:
    return {"registration_id": registration_id, "position": position, "title": title, "title_key": title_key(title),
            "authors": authors, "author_key": " ; ".join(name_key(a) for a in authors), "publication_date": date,
            "row": loc}


def _insert_batch(c, batch: list[dict]) -> int:
    """Registrations, their ISBNs and their contents; returns how many registrations."""
    contents = {r["number"]: r.pop("contents") for r in batch}
    c.execute(insert(schema.registrations), batch)
    ids = dict(c.execute(select(schema.registrations.c.number, schema.registrations.c.id)
                         .where(schema.registrations.c.number.in_([r["number"] for r in batch]))).all())
    isbn_rows = [{"isbn": i, "registration_id": ids[r["number"]]} for r in batch for i in r["isbns"]]
    if isbn_rows:
        c.execute(insert(schema.registration_isbns), isbn_rows)
    rows = [_content_row(ids[r["number"]], n, x["title"], [], x["publication_date"], r["row"])
            for r in batch for n, x in enumerate(contents[r["number"]], 1)]
    if rows:
        c.execute(insert(schema.registration_contents), rows)
    return len(batch)


def import_registrations(case: Case, path: str, mapping: str | None = None, preset: str | None = None,
                         keep_unknown: bool = False, on_row: Callable[[], None] | None = None) -> dict:
    """Every good row of the file, in one transaction (an interruption leaves nothing); bad rows are skipped
    with the row and the reason; numbers already in the case are reported, not replaced."""
    if preset and preset not in PRESETS:
        raise AscertainError("--preset", f"unknown preset {preset!r}", f"choose one of {', '.join(PRESETS)}")
    cols = dict(PRESETS.get(preset or "", {}))
    cols.update(parse_mapping(mapping, FIELDS))
    table = Table(path, cols)
    unknown = [c for c, f in table.fields.items() if f not in FIELDS]
    if unknown and not keep_unknown:
        raise AscertainError(path, f"unknown column(s) {', '.join(unknown[:12])} (fields: {', '.join(FIELDS)}); "
                             "nothing was imported",
                             "map them (--map number=REGNO,...), or pass --keep-unknown to keep them as extra data")
    missing = [f for f in ("number", "effective_date", "title") if f not in table.fields.values()]
    if missing:
        raise AscertainError(path, f"no column for {', '.join(missing)} (columns: {', '.join(table.columns[:20])})",
                             "map them, e.g. --map number=RegNo,effective_date=EDR,title=Title")
    refresh_title_keys(case)
    t0 = time.perf_counter()
    with case.store.engine.connect() as c:
        known = {n for (n,) in c.execute(select(schema.registrations.c.number))}
    seen: dict[str, str] = {}
    skips: list[Skip] = []
    existing = added = 0
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    with case.store.begin() as c:
        run_id = c.execute(insert(schema.runs).values(
            stage="registrations import", manifest={"file": path, "sha256": digest, "mapping": cols,
                                                    "preset": preset}, started_at=now(), seconds=0.0)
        ).inserted_primary_key[0]
        batch: list[dict] = []
        for loc, row in table.records(skips, on_row):
            try:
                rec = parse_registration(loc, row)
            except ValueError as e:
                skips.append(Skip(path, loc, str(e), "fix that row and import the file again; the other rows "
                                  "were imported"))
                continue
            if rec["number"] in seen:
                skips.append(Skip(path, loc, f"duplicate registration number {rec['number']} (first at "
                                  f"{seen[rec['number']]})", "keep one record per registration number; the "
                                  "first was imported"))
                continue
            seen[rec["number"]] = loc
            if rec["number"] in known:
                existing += 1
                continue
            rec["extra"] = {k: v for k, v in row.items() if k not in FIELDS and v not in (None, "")}
            rec["import_id"] = run_id
            batch.append(rec)
            if len(batch) >= BATCH:
                added += _insert_batch(c, batch)
                batch = []
        if batch:
            added += _insert_batch(c, batch)
        summary = {"file": path, "imported": added, "already_in_case": existing, "skipped": len(skips),
                   "seconds": round(time.perf_counter() - t0, 3)}
        c.execute(schema.runs.update().where(schema.runs.c.id == run_id).values(
            manifest={"file": path, "sha256": digest, "mapping": cols, "preset": preset, **summary},
            seconds=summary["seconds"]))
    case.store.record_skips("registrations import", None, skips)
    case.store.audit("registrations import", summary)
    return {**summary, "skips": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in skips]}


def import_contents(case: Case, path: str, mapping: str | None = None) -> dict:
    """A contents file: one row per work a registration covers (number, title; authors, publication_date,
    position optional). Rows are added after the registration's existing contents; a row naming a registration
    not in the case, or repeating a title already listed for it, is skipped with the reason."""
    table = Table(path, parse_mapping(mapping, CONTENTS_FIELDS))
    missing = [f for f in ("number", "title") if f not in table.fields.values()]
    if missing:
        raise AscertainError(path, f"no column for {', '.join(missing)} (columns: {', '.join(table.columns[:20])})",
                             "map them, e.g. --map number=RegNo,title=Title")
    skips: list[Skip] = []
    r, rc = schema.registrations, schema.registration_contents
    with case.store.begin() as c:
        ids = dict(c.execute(select(r.c.number, r.c.id)).all())
        listed: dict[int, set[str]] = {}
        last: dict[int, int] = {}
        for rid, pos, tk in c.execute(select(rc.c.registration_id, rc.c.position, rc.c.title_key)):
            listed.setdefault(rid, set()).add(tk)
            last[rid] = max(last.get(rid, 0), pos)
        rows = []
        for loc, row in table.records(skips):
            try:
                number = registration_number(cell(row, "number"))
                if number not in ids:
                    raise ValueError(f"registration {number} is not in the case (import the registrations first)")
                title = cell(row, "title")
                if not title:
                    raise ValueError("the title is empty")
                rid = ids[number]
                if title_key(title) in listed.setdefault(rid, set()):
                    raise ValueError(f"{title!r} is already listed in the contents of {number}")
                date = parse_date(row.get("publication_date"))
            except ValueError as e:
                skips.append(Skip(path, loc, str(e), "fix that row and import the file again; the other rows "
                                  "were imported"))
                continue
            listed[rid].add(title_key(title))
            last[rid] = last.get(rid, 0) + 1
            rows.append(_content_row(rid, last[rid], title, split_list(row.get("authors")), date, loc))
        for i in range(0, len(rows), BATCH):
            c.execute(insert(rc), rows[i:i + BATCH])
        if rows:  # a registration with contents covers several works
            c.execute(r.update().where(r.c.id.in_(sorted({x["registration_id"] for x in rows}))).values(
                group_registration=True))
    summary = {"file": path, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(), "listed": len(rows),
               "registrations": len({x["registration_id"] for x in rows}), "skipped": len(skips)}
    case.store.record_skips("registration contents import", None, skips)
    case.store.audit("registration contents import", summary)
    return {**summary, "skips": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in skips]}


def refresh_title_keys(case: Case) -> int:
    """Fold the stored title keys again when text/bibliographic.title_key has changed since they were stored
    (meta title_key_version); returns how many rows were looked at."""
    from sqlalchemy import func

    from ascertain.text.bibliographic import TITLE_KEY_VERSION

    m = schema.meta
    with case.store.engine.connect() as c:
        have = c.execute(select(m.c.value).where(m.c.key == "title_key_version")).scalar()
    if have == str(TITLE_KEY_VERSION):
        return 0
    seen = 0
    with case.store.begin() as c:
        if c.execute(select(m.c.value).where(m.c.key == "title_key_version")).scalar() == str(TITLE_KEY_VERSION):
            return 0
        w, d, r, rc = schema.works, schema.work_details, schema.registrations, schema.registration_contents
        for table, key, rows in (
                (d, d.c.work_id, c.execute(select(d.c.work_id, w.c.title, d.c.title_key)
                                            .join_from(d, w, d.c.work_id == w.c.id)).all()),
                (r, r.c.id, c.execute(select(r.c.id, r.c.title, r.c.title_key)).all()),
                (rc, rc.c.id, c.execute(select(rc.c.id, rc.c.title, rc.c.title_key)).all())):
            seen += len(rows)
            for i, title, old in rows:
                new = title_key(title)
                if new != old:
                    c.execute(table.update().where(key == i).values(title_key=new))
        # a store from before registration_isbns existed: fill it from the records
        if not c.execute(select(func.count()).select_from(schema.registration_isbns)).scalar():
            ri = [{"isbn": i, "registration_id": rid} for rid, lst in c.execute(select(r.c.id, r.c.isbns))
                  for i in (lst or [])]
            for n in range(0, len(ri), BATCH):
                c.execute(insert(schema.registration_isbns), ri[n:n + BATCH])
        if c.execute(select(func.count()).select_from(m).where(m.c.key == "title_key_version")).scalar():
            c.execute(m.update().where(m.c.key == "title_key_version").values(value=str(TITLE_KEY_VERSION)))
        else:
            c.execute(insert(m).values(key="title_key_version", value=str(TITLE_KEY_VERSION)))
    return seen
