"""Challenges to class membership: a party contests a member of a class, with its reason and the evidence it
offers; the master resolves it (upheld: the work leaves the class at the next `classes` run; rejected: it stays,
by the master's decision). Every step is in the audit log; member lists and the report show both."""

from __future__ import annotations

from sqlalchemy import insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema
from ascertain.store.db import now

OUTCOMES = ("upheld", "rejected")
ROLES = ("defendant", "plaintiff", "master", "claims", "cli")


def _class_names(c) -> set[str]:
    d = schema.class_decisions
    return {r[0] for r in c.execute(select(d.c.class_name).distinct())}


def open_dispute(case: Case, class_name: str, work_id: int, reason: str, evidence: str, by: str,
                 role: str = "cli") -> dict:
    if not reason.strip():
        raise AscertainError("--reason", "is empty", "say why the work is not a member, e.g. --reason 'a different "
                             "book of the same title'")
    if role not in ROLES:
        raise AscertainError("role", f"{role!r} is not a party's role", f"use one of {', '.join(ROLES)}")
    with case.store.begin() as c:
        names = _class_names(c)
        if class_name not in names:
            raise AscertainError(class_name, "is not a class of the latest classes run",
                                 f"choose one of: {', '.join(sorted(names)) or '(run `ascertain classes` first)'}")
        if c.execute(select(schema.works.c.id).where(schema.works.c.id == work_id)).first() is None:
            raise AscertainError(str(work_id), "is not a work id", "find it with `ascertain lookup CASE TITLE`")
        d = schema.disputes
        same = c.execute(select(d.c.id).where(d.c.class_name == class_name, d.c.work_id == work_id,
                                              d.c.status == "open")).first()
        if same is not None:
            raise AscertainError(f"work {work_id}", f"already has an open dispute (#{same[0]}) in {class_name}",
                                 "add to it by asking the master, or wait for its resolution")
        row = {"class_name": class_name, "work_id": work_id, "opened_by": by, "role": role, "reason": reason.strip(),
               "evidence": evidence.strip(), "status": "open", "opened_at": now()}
        did = c.execute(insert(d).values(**row)).inserted_primary_key[0]
    detail = {"dispute": did, **row}
    case.store.audit("dispute open", detail)
    return detail


def resolve(case: Case, dispute_id: int, outcome: str, resolution: str, by: str) -> dict:
    if outcome not in OUTCOMES:
        raise AscertainError(outcome, "is not an outcome", "use upheld (the work leaves the class) or rejected "
                             "(it stays)")
    if not resolution.strip():
        raise AscertainError("--resolution", "is empty", "give the master's reasons")
    d = schema.disputes
    with case.store.begin() as c:
        row = c.execute(select(d).where(d.c.id == dispute_id)).mappings().first()
        if row is None:
            raise AscertainError(str(dispute_id), "is not a dispute id", "list them with `ascertain dispute CASE list`")
        if row["status"] != "open":
            raise AscertainError(f"dispute {dispute_id}", f"is already resolved ({row['status']})",
                                 "a resolved dispute stays as decided; open a new one with new evidence")
        c.execute(d.update().where(d.c.id == dispute_id).values(status=outcome, resolution=resolution.strip(),
                                                                resolved_by=by, resolved_at=now()))
    detail = {"dispute": dispute_id, "class_name": row["class_name"], "work_id": row["work_id"], "was": "open",
              "now": outcome, "resolution": resolution.strip(), "resolved_by": by}
    case.store.audit("dispute resolve", detail)
    return detail


def list_disputes(case: Case, status: str | None = None, class_name: str | None = None) -> list[dict]:
    d, w = schema.disputes, schema.works
    q = select(d, w.c.title).join_from(d, w, d.c.work_id == w.c.id).order_by(d.c.id)
    if status:
        q = q.where(d.c.status == status)
    if class_name:
        q = q.where(d.c.class_name == class_name)
    with case.store.engine.connect() as c:
        return [dict(r) for r in c.execute(q).mappings()]


def by_class_and_work(case: Case) -> dict[tuple[str, int], dict]:
    """The latest dispute of each (class, work)."""
    return {(x["class_name"], x["work_id"]): x for x in list_disputes(case)}


def label(x: dict | None) -> str:
    """A member list's dispute column."""
    if x is None:
        return ""
    if x["status"] == "open":
        return f"open #{x['id']} ({x['role']}: {x['reason']})"
    return f"{x['status']} #{x['id']} by {x['resolved_by']}: {x['resolution']}"
