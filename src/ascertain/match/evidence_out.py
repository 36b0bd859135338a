"""The evidence of a match run, written as it is found: the report streamed to a temporary file, the store's
rows spilled beside it, so memory holds one document's records at a time whatever the number of records.

reports/evidence.json is byte for byte what orjson gives for {"evidence": [...], "identical_copies": [...],
"manifest": {...}} with sorted keys ("evidence" sorts first, so the records go out before the manifest, whose
counts are known at the end). `identical_copies` (only when a record's document is one of several of the same
content, index/duplicates.py) lists, per such document, every document holding that content with its locator:
streamed from the index at the end, never held in memory.
It replaces the last report only when the run finishes (temporary file in the same folder, fsync, os.replace):
a crash or a concurrent run never leaves a torn report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import sqlalchemy as sa

from ascertain.temp_files import leftovers, remove, temp_name

SORTED = orjson.OPT_SORT_KEYS


class EvidenceOut:
    """Records in, one at a time; `commit` writes the manifest and puts the report in place."""

    def __init__(self, path: Path, store_row: Callable[[dict], dict]) -> None:
        self.path = path
        path.parent.mkdir(exist_ok=True)
        for stale in leftovers(path, ("tmp", "rows")):  # a killed run's (kill -9 runs no clean-up)
            remove(stale)
        self.tmp, self.spill = temp_name(path, "tmp"), temp_name(path, "rows")
        self.store_row = store_row
        self.count = self.copied = self.copied_documents = 0
        self.source_ids: set[int] = set()
        # (source, doc) -> (documents of its content, a callable giving their (doc, locator)s)
        self.copies: dict[tuple[str, int], tuple[int, Callable[[], Iterator[tuple[int, str]]]]] = {}
        self._fh = open(self.tmp, "wb")  # noqa: SIM115 (open for the whole run, closed by commit/discard)
        self._rows = open(self.spill, "wb")  # noqa: SIM115 (likewise)
        self._fh.write(b'{"evidence":[')

    def add(self, record: dict) -> None:
        if self.count:
            self._fh.write(b",")
        self._fh.write(orjson.dumps(record, option=SORTED))
        # the store's row without its run id (known when the run is recorded, at the end); its metrics already
        # as the JSON text the store holds (store_params)
        row = self.store_row(record)
        row["metrics"] = metrics_json(row["metrics"])
        self._rows.write(orjson.dumps(row) + b"\n")
        self.count += 1
        self.copied += bool(record["copied"])
        if record["copied"]:
            self.copied_documents += record["metrics"].get("identical_copies", {}).get("documents", 1)
        self.source_ids.add(record["source_id"])

    def add_copies(self, source: str, doc_id: int, documents: int,
                   locators: Callable[[], Iterator[tuple[int, str]]]) -> None:
        """Name every document holding the content of (source, doc_id) in the report (written at commit)."""
        self.copies[source, doc_id] = (documents, locators)

    def _write_copies(self) -> None:
        self._fh.write(b'],"identical_copies":[')
        for i, ((source, doc_id), (documents, locators)) in enumerate(sorted(self.copies.items(),
                                                                             key=lambda kv: kv[0])):
            self._fh.write((b"," if i else b"") + b'{"doc_id":' + orjson.dumps(doc_id) + b',"documents":[')
            n = 0
            for doc, locator in locators():
                self._fh.write((b"," if n else b"") + orjson.dumps({"doc_id": doc, "locator": locator},
                                                                   option=SORTED))
                n += 1
            if n != documents:  # the index changed under the run: never a silent miscount
                raise RuntimeError(f"{source} document {doc_id}: {documents} identical copies counted, {n} listed")
            self._fh.write(b'],"occurrences":' + orjson.dumps(documents) + b',"source":' + orjson.dumps(source)
                           + b"}")

    def commit(self, manifest: dict) -> None:
        if self.copies:
            self._write_copies()
        self._fh.write(b'],"manifest":' + orjson.dumps(manifest, option=SORTED) + b"}\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.tmp, self.path)

    def store_rows(self, batch: int = 1000) -> Iterator[list[dict]]:
        """The spilled store rows, a batch at a time, `metrics` as JSON text (`store_params` binds them)."""
        self._rows.close()
        with open(self.spill, "rb") as fh:
            rows: list[dict] = []
            for line in fh:
                rows.append(orjson.loads(line))
                if len(rows) >= batch:
                    yield rows
                    rows = []
            if rows:
                yield rows

    def discard(self) -> None:
        for fh in (self._fh, self._rows):
            fh.close()
        for p in (self.tmp, self.spill):
            p.unlink(missing_ok=True)

    def close(self) -> None:
        self._rows.close()
        self.spill.unlink(missing_ok=True)


def metrics_json(metrics: dict) -> str:
    """The text the store's JSON column holds for `metrics`: json.dumps, SQLAlchemy's serializer, of the value
    as read back from the spill (orjson), made once when the record is found. The same text whether made
    here or by SQLAlchemy at insert time: a float goes through orjson and back unchanged, and the one value
    orjson changes (NaN or an infinity, written `null`) is made by the round trip itself."""
    try:
        return json.dumps(metrics, allow_nan=False)
    except ValueError:
        return json.dumps(orjson.loads(orjson.dumps(metrics)))


def store_params(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> tuple[sa.Table, list[dict]]:
    """(table, rows) to insert spilled rows whose `metrics` is JSON text. On SQLite (its JSON column is text)
    the text goes in as it is, through a copy of the table whose `metrics` is Text: SQLAlchemy would encode
    each record again (most of the time of storing 100,000 records). Elsewhere the text is decoded and the
    column's own type binds it (the same text: json.dumps of json.loads of it)."""
    if conn.dialect.name == "sqlite":
        return _as_text(table), rows
    return table, [{**r, "metrics": json.loads(r["metrics"])} for r in rows]


_TEXT_TABLES: dict[int, sa.Table] = {}


def _as_text(table: sa.Table) -> sa.Table:
    t = _TEXT_TABLES.get(id(table))
    if t is None:
        t = _TEXT_TABLES[id(table)] = sa.Table(table.name, sa.MetaData(), *(
            sa.Column(c.name, sa.Text if c.name == "metrics" else c.type, primary_key=c.primary_key)
            for c in table.columns))
    return t
