"""Importing copyright registration records: checked, normalized, all rows of a file in one transaction."""

from __future__ import annotations

import hashlib
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
          "supplementary", "work_type")
# Column labels of the Copyright Office's Public Catalog record display (not checked against a bulk export:
# if a file uses other labels, --map them).
PRESETS = {
    "copyright-office": {"Registration Number": "number", "Effective Date of Registration": "effective_date",
                         "Title": "title", "Copyright Claimant": "claimants", "Authorship on Application": "authors",
                         "Date of Publication": "publication_date", "ISBN": "isbn", "Type of Work": "work_type"},
}
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
    return {"number": registration_number(cell(row, "number")), "effective_date": eff,
            "title": cell(row, "title"), "title_key": title_key(cell(row, "title")), "claimants": claimants,
            "authors": authors, "author_key": " ; ".join(name_key(a) for a in authors),
            "publication_date": parse_date(row.get("publication_date")), "isbns": isbns(row.get("isbn")),
            "group_registration": _flag(row, "group"), "supplementary": _flag(row, "supplementary"),
            "row": loc}


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
                c.execute(insert(schema.registrations), batch)
                added += len(batch)
                batch = []
        if batch:
            c.execute(insert(schema.registrations), batch)
            added += len(batch)
        summary = {"file": path, "imported": added, "already_in_case": existing, "skipped": len(skips),
                   "seconds": round(time.perf_counter() - t0, 3)}
        c.execute(schema.runs.update().where(schema.runs.c.id == run_id).values(
            manifest={"file": path, "sha256": digest, "mapping": cols, "preset": preset, **summary},
            seconds=summary["seconds"]))
    case.store.record_skips("registrations import", None, skips)
    case.store.audit("registrations import", summary)
    return {**summary, "skips": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in skips]}
