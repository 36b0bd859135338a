"""Opening the store and the few writes every stage shares (audit log, skipped inputs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import create_engine, event, insert, select
from sqlalchemy.engine import Engine

from ascertain.errors import AscertainError
from ascertain.readers.base import Skip
from ascertain.store import audit_chain, schema


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            schema.metadata.create_all(self.engine)
            audit_chain.upgrade(self.engine)
        except Exception as e:  # driver missing, server down, bad URL
            raise AscertainError(url, f"cannot open the case store ({type(e).__name__}: {e})",
                                 "check the store URL in case.json; for PostgreSQL install "
                                 "`ascertain[postgres]` and make sure the server is running") from e
        with self.engine.begin() as c:
            if c.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema")).first() is None:
                c.execute(insert(schema.meta).values(key="schema", value=str(schema.SCHEMA_VERSION)))

    def audit(self, action: str, detail: dict, ok: bool = True) -> str:
        """Append to the hash-chained audit log; returns the new entry's hash."""
        with self.engine.begin() as c:
            return audit_chain.append(c, now(), action, detail, ok)

    def record_skips(self, stage: str, source: str | None, skips: Iterable[Skip]) -> None:
        rows = [{"stage": stage, "source": source, "input": s.input, "locator": s.locator,
                 "reason": s.reason, "fix": s.fix, "at": now()} for s in skips]
        if rows:
            with self.engine.begin() as c:
                c.execute(insert(schema.skipped), rows)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
