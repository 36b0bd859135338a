"""Transfers and licences of works, with their dates, and who holds each claim on the date infringement began.

An assignment dated on or before that date moves the assignor's claim to the assignee (the member is then the
assignee); an exclusive licence adds the licensee (who may sue for the licensed right, 17 U.S.C. §501(b)); a
non-exclusive licence changes nobody's claim. Conflicts go to review instead of being resolved by the tool:
two claimants listing the same work (same folded title and author), one owner assigning the same work twice to
different people, or an assignment by someone who held no claim then.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.readers.base import Skip
from ascertain.store import schema
from ascertain.tables import Table, cell, parse_mapping
from ascertain.text.bibliographic import fold, parse_date, title_key

FIELDS = ("work_id", "title", "kind", "from", "to", "date")
KINDS = {"assignment": "assignment", "exclusive licence": "exclusive licence", "exclusive license": "exclusive licence",
         "non-exclusive licence": "non-exclusive licence", "non-exclusive license": "non-exclusive licence"}


def import_transfers(case: Case, path: str, mapping: str | None = None) -> dict:
    """Rows: the work (work_id, or a title that names one work), kind, from, to, date (YYYY-MM-DD)."""
    table = Table(path, parse_mapping(mapping, FIELDS))
    have = set(table.fields.values())
    missing = [f for f in ("kind", "from", "to", "date") if f not in have]
    if missing or not have & {"work_id", "title"}:
        raise AscertainError(path, f"no column for {', '.join(missing or ['work_id or title'])} (columns: "
                             f"{', '.join(table.columns[:20])})", "map them, e.g. --map from=Assignor,to=Assignee")
    skips: list[Skip] = []
    with case.store.engine.connect() as c:
        ids = {i for (i,) in c.execute(select(schema.works.c.id))}
        by_title: dict[str, list[int]] = {}
        for i, t in c.execute(select(schema.works.c.id, schema.works.c.title)):
            by_title.setdefault(title_key(t), []).append(i)
    rows = []
    for loc, row in table.records(skips):
        try:
            if cell(row, "work_id"):
                wid = int(cell(row, "work_id"))
                if wid not in ids:
                    raise ValueError(f"work {wid} is not in the case")
            else:
                found = by_title.get(title_key(cell(row, "title")), [])
                if len(found) != 1:
                    raise ValueError(f"title {cell(row, 'title')!r} names {len(found)} works: give the work_id")
                wid = found[0]
            kind = KINDS.get(cell(row, "kind").lower())
            if kind is None:
                raise ValueError(f"kind {cell(row, 'kind')!r} is not assignment, exclusive licence or "
                                 "non-exclusive licence")
            date = parse_date(row.get("date"))
            if date is None or len(date) != 10:
                raise ValueError(f"date {row.get('date')!r} is not a full date (YYYY-MM-DD)")
            if not cell(row, "from") or not cell(row, "to"):
                raise ValueError("from and to must both be named")
        except ValueError as e:
            skips.append(Skip(path, loc, str(e), "fix that row and import the file again; the other rows were "
                              "imported"))
            continue
        rows.append({"work_id": wid, "kind": kind, "from_name": cell(row, "from"), "to_name": cell(row, "to"),
                     "date": date, "row": loc})
    with case.store.begin() as c:
        if rows:
            c.execute(insert(schema.ownership_transfers), rows)
    summary = {"file": path, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(), "imported": len(rows),
               "skipped": len(skips)}
    case.store.record_skips("transfers import", None, skips)
    case.store.audit("transfers import", summary)
    return {**summary, "skips": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in skips]}


def transfers(case: Case) -> dict[int, list[dict]]:
    t = schema.ownership_transfers
    out: dict[int, list[dict]] = {}
    with case.store.engine.connect() as c:
        for r in c.execute(select(t).order_by(t.c.date, t.c.id)).mappings():
            out.setdefault(r["work_id"], []).append(dict(r))
    return out


def owners_at(owners: list[dict], moves: list[dict], date: str | None) -> tuple[list[dict], list[str], list[str]]:
    """(owners on `date`, what changed, conflicts). Without a date no transfer is applied, and that is said."""
    if not moves:
        return owners, [], []
    if date is None:
        return owners, [f"{len(moves)} transfer(s) recorded, but the date infringement began is unknown: the "
                        "owners listed are shown"], []
    held = [dict(o) for o in owners]
    notes: list[str] = []
    conflicts: list[str] = []
    assigned: dict[str, str] = {}
    for m in moves:
        if m["date"] > date[:10]:
            notes.append(f"{m['kind']} {m['from_name']} → {m['to_name']} on {m['date']}, after infringement began "
                         f"{date}: not applied")
            continue
        if m["kind"] == "non-exclusive licence":
            notes.append(f"non-exclusive licence to {m['to_name']} ({m['date']}): no claim")
            continue
        if m["kind"] == "exclusive licence":
            held.append({"name": m["to_name"], "role": "exclusive licensee", "share": None})
            notes.append(f"exclusive licence {m['from_name']} → {m['to_name']} on {m['date']}")
            continue
        key = fold(m["from_name"])
        if key in assigned and assigned[key] != fold(m["to_name"]):
            conflicts.append(f"{m['from_name']} assigned the work twice ({assigned[key]!r} and {m['to_name']!r})")
            continue
        hit = [o for o in held if fold(o["name"]) == key and o["role"] != "exclusive licensee"]
        if not hit:
            conflicts.append(f"{m['from_name']} assigned the work on {m['date']} without holding a claim then")
            continue
        for o in hit:
            o["name"] = m["to_name"]
        assigned[key] = fold(m["to_name"])
        notes.append(f"assignment {m['from_name']} → {m['to_name']} on {m['date']}, before infringement began "
                     f"{date}: {m['to_name']} holds the claim")
    seen, out = set(), []
    for o in held:  # once per (name, role)
        if (o["name"], o["role"]) not in seen:
            seen.add((o["name"], o["role"]))
            out.append(o)
    return out, notes, conflicts


def claimant_conflicts(facts: dict) -> dict[int, str]:
    """Works listed by different claimants with the same folded title and author: one work, two claimants."""
    groups: dict[tuple[str, str], list[int]] = {}
    for f in facts.values():
        if f.authors:
            groups.setdefault((title_key(f.title), " ; ".join(sorted(fold(a) for a in f.authors))), []).append(
                f.work_id)
    out = {}
    for wids in groups.values():
        names = {o["name"] for w in wids for o in facts[w].owners if o["role"] in ("legal owner", "co-owner")}
        if len(wids) > 1 and len(names) > 1:
            for w in wids:
                out[w] = (f"works {', '.join(map(str, sorted(wids)))} list the same title and author with different "
                          f"claimants ({'; '.join(sorted(names))})")
    return out
