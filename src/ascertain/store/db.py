"""Opening the store and the few writes every stage shares (audit log, skipped inputs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import Connection, Engine

from ascertain.errors import AscertainError
from ascertain.readers.base import Skip
from ascertain.store import audit_chain, schema

WRITE_WAIT_S = 600  # how long a SQLite writer waits for the write lock
WRITE_LOCK_KEY = 0x61736365  # PostgreSQL advisory lock id of the store's writers ("asce")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            sqlite = url.startswith("sqlite")
            # a writer waiting for another's transaction (a long evidence insert) waits, rather than failing
            self.engine: Engine = create_engine(url, future=True,
                                                connect_args={"timeout": WRITE_WAIT_S} if sqlite else {})
            if sqlite:
                event.listen(self.engine, "connect", _sqlite_pragmas)
                event.listen(self.engine, "begin", _sqlite_begin)
            self._writer = self.engine.execution_options(ascertain_write=True)
            schema.metadata.create_all(self.engine)
            audit_chain.upgrade(self.engine)
        except Exception as e:  # driver missing, server down, bad URL
            raise AscertainError(url, f"cannot open the case store ({type(e).__name__}: {e})",
                                 "check the store URL in case.json; for PostgreSQL install "
                                 "`ascertain[postgres]` and make sure the server is running") from e
        with self.begin() as c:
            if c.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema")).first() is None:
                c.execute(insert(schema.meta).values(key="schema", value=str(schema.SCHEMA_VERSION)))
            audit_chain.record_start(c)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction, serialized with every other writer of this store (other processes included):
        SQLite takes its write lock at BEGIN IMMEDIATE, PostgreSQL an advisory transaction lock. Without it
        two writers could each delete the old evidence and both insert theirs (PostgreSQL, read committed),
        or a SQLite writer that read first would fail on upgrading its lock."""
        with self._writer.begin() as c:
            if c.dialect.name == "postgresql":
                c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            yield c

    def audit(self, action: str, detail: dict, ok: bool = True) -> str:
        """Append to the hash-chained audit log; returns the new entry's hash."""
        with self.begin() as c:
            return audit_chain.append(c, now(), action, detail, ok)

    def record_skips(self, stage: str, source: str | None, skips: Iterable[Skip]) -> None:
        rows = [{"stage": stage, "source": source, "input": s.input, "locator": s.locator,
                 "reason": s.reason, "fix": s.fix, "at": now()} for s in skips]
        if rows:
            with self.begin() as c:
                c.execute(insert(schema.skipped), rows)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # the driver's own implicit BEGIN off: _sqlite_begin emits it
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # readers begin deferred (WAL: they never block a writer nor wait for one); writers take the lock first
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ascertain_write") else "BEGIN")
