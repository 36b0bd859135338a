"""The audit log as a hash chain: each entry's hash covers its own fields and the previous entry's hash, so
a changed, removed or reordered entry breaks every hash after it (checked by `ascertain audit` and `verify`).
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from ascertain.store import schema

GENESIS = "0" * 64
# meta key: the id of the first entry the chain covers. Entries before it were written by a version without
# the chain; an entry from it on without a hash was stripped of it (an attack, not history).
CHAIN_FROM = "audit_chain_from"


def canonical(detail: object) -> object:
    """The detail as it reads back from a JSON column (tuples → lists, unknown types → str)."""
    return json.loads(json.dumps(detail, default=str, ensure_ascii=False))


def entry_hash(entry_id: int, at: str, action: str, detail: object, ok: bool, prev: str) -> str:
    body = json.dumps({"id": entry_id, "at": at, "action": action, "detail": detail, "ok": bool(ok), "prev": prev},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def append(conn: Connection, at: str, action: str, detail: dict, ok: bool) -> str:
    """Append one entry in the caller's transaction; returns its hash."""
    if conn.dialect.name == "postgresql":  # two writers must not chain onto the same previous entry
        conn.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
    last = conn.execute(select(schema.audit_log.c.id, schema.audit_log.c.entry_hash)
                        .order_by(schema.audit_log.c.id.desc()).limit(1)).first()
    prev = (last.entry_hash or GENESIS) if last else GENESIS
    detail = canonical(detail)
    new_id = conn.execute(schema.audit_log.insert().values(at=at, action=action, detail=detail, ok=ok,
                                                          prev_hash=prev)).inserted_primary_key[0]
    h = entry_hash(new_id, at, action, detail, ok, prev)
    conn.execute(schema.audit_log.update().where(schema.audit_log.c.id == new_id).values(entry_hash=h))
    return h


def record_start(conn: Connection) -> None:
    """Record where the chain began, once per store (in the caller's write transaction): entry 1 for a new
    store; for a store written before the chain existed, its first hashed entry, or the next entry to come."""
    if conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == CHAIN_FROM)).first() is not None:
        return
    log = schema.audit_log.c
    first = conn.execute(select(func.min(log.id)).where(log.entry_hash.is_not(None))).scalar()
    if first is None:
        first = (conn.execute(select(func.max(log.id))).scalar() or 0) + 1
    conn.execute(schema.meta.insert().values(key=CHAIN_FROM, value=str(first)))


def chain_from(conn: Connection) -> int | None:
    v = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == CHAIN_FROM)).scalar()
    return int(v) if v is not None else None


def check(engine: Engine) -> dict:
    """Walk the chain: {ok, entries, head, problems: [{id, problem}], legacy} (legacy: entries written before
    the chain existed, which carry no hash; they are listed, never silently trusted). An entry without a hash
    after the chain began is a problem: setting every hash to NULL must not read as an old, intact log."""
    problems: list[dict] = []
    prev, head, n, legacy = GENESIS, GENESIS, 0, 0
    with engine.connect() as c:
        began = chain_from(c)
        for r in c.execute(select(schema.audit_log).order_by(schema.audit_log.c.id)).mappings():
            n += 1
            if r["entry_hash"] is None:
                if began is not None and r["id"] < began:
                    legacy += 1
                    continue
                problems.append({"id": r["id"], "problem": "carries no hash, though the chain began at entry "
                                 f"{began} (its hash was removed)" if began is not None else
                                 "carries no hash, and the store does not record where the chain began "
                                 "(its meta row was removed)"})
                prev = head = ""
                continue
            if r["prev_hash"] != prev:
                problems.append({"id": r["id"], "problem": "previous-entry hash does not match the entry "
                                 "before it (an entry was removed, inserted or changed)"})
            want = entry_hash(r["id"], r["at"], r["action"], r["detail"], r["ok"], r["prev_hash"] or "")
            if r["entry_hash"] != want:
                problems.append({"id": r["id"], "problem": "entry hash does not match its contents "
                                 f"(action {r['action']!r} at {r['at']})"})
            prev = head = r["entry_hash"] or ""
    return {"ok": not problems, "entries": n, "legacy_entries": legacy, "head": head, "problems": problems}


def upgrade(engine: Engine) -> None:
    """Add the chain columns to a store created before they existed."""
    cols = {c["name"] for c in inspect(engine).get_columns("audit_log")}
    with engine.begin() as c:
        for name in ("prev_hash", "entry_hash"):
            if name not in cols:
                c.execute(text(f"ALTER TABLE audit_log ADD COLUMN {name} VARCHAR(64)"))
