"""Tabular lists (works lists, registration records): CSV, JSONL or Parquet, with a column mapping.

A mapping renames the file's columns to the fields the tool knows (`title=Title,authors=Author`); rows come
out as dicts keyed by field, with the file's row number for messages. Whole-file problems (unreadable,
not UTF-8, a mapped column missing) raise before anything is written; row problems are the caller's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.base import ReadOptions, Skip
from ascertain.readers.records import is_jsonl, is_parquet, jsonl_records
from ascertain.text.names import unsafe_character


def parse_mapping(spec: str | None, known: tuple[str, ...]) -> dict[str, str]:
    """'title=Title,authors=Author' -> {'Title': 'title', 'Author': 'authors'} (file column -> field)."""
    mapping: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise AscertainError("--map", f"{part.strip()!r} is not FIELD=COLUMN", "write e.g. --map title=Title")
        if field not in known:
            raise AscertainError("--map", f"unknown field {field!r}", f"map to one of: {', '.join(known)}")
        mapping[column] = field
    return mapping


def read_csv_text(path: str) -> str:
    """The whole CSV as text, or an error naming the first line that is not UTF-8 (before anything is written)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise AscertainError(path, f"cannot open ({e.strerror})", "check the path") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise AscertainError(path, f"is not UTF-8 text (line {line}, byte {e.start}: "
                             f"{data[e.start:e.start + 1]!r}); nothing was imported",
                             f"convert it, e.g. `iconv -f LATIN1 -t UTF-8 {path} > list-utf8.csv`, "
                             "and import that file") from e


class Table:
    """Rows of one list file, renamed by the mapping. `columns` are the file's columns, `fields` their fields."""

    def __init__(self, path: str, mapping: dict[str, str]) -> None:
        self.path, self.mapping = path, mapping
        p = Path(path)
        if not p.is_file():
            raise AscertainError(path, "is not a file", "check the path")
        self.kind = "parquet" if is_parquet(p) else "jsonl" if is_jsonl(p) else "csv"
        if self.kind == "csv":
            self._csv = csv.DictReader(io.StringIO(read_csv_text(path), newline=""))
            self.columns = [c.strip() for c in (self._csv.fieldnames or [])]
        elif self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                self._pq = pq.ParquetFile(p)
            except (pa.ArrowException, OSError) as e:
                raise AscertainError(path, f"is not a readable Parquet file ({e})", "re-export it") from e
            self.columns = list(self._pq.schema_arrow.names)
        else:
            first = next((r for r in jsonl_records(p, ReadOptions(), path) if not isinstance(r, Skip)), None)
            self.columns = list(first[1]) if first else []
        missing = [c for c in mapping if c not in self.columns]
        if missing:
            raise AscertainError(path, f"mapped column(s) {', '.join(missing)} not in the file "
                                 f"(columns: {', '.join(self.columns[:30])})", "correct --map")
        self.fields = {c: mapping.get(c, c) for c in self.columns}

    def rows(self) -> Iterator[tuple[str, dict] | Skip]:
        """(locator, {field: value}) per row; a Skip for a row that cannot be read at all, or whose text holds
        a character no name may hold (text/names.py: NUL, control, bidirectional control)."""
        for item in self._raw_rows():
            if isinstance(item, Skip):
                yield item
                continue
            loc, row = item
            bad = next(((k, why) for k, v in row.items() if isinstance(v, str) and (why := unsafe_character(v))),
                       None)
            if bad:
                yield Skip(self.path, loc, f"{bad[0]} holds {bad[1]}", "remove that character from the cell and "
                           "import the list again (the other rows were imported)")
                continue
            yield item

    def _raw_rows(self) -> Iterator[tuple[str, dict] | Skip]:
        if self.kind == "csv":
            while True:
                try:
                    row = next(self._csv)
                except StopIteration:
                    return
                except csv.Error as e:  # e.g. a field past the csv module's 131,072-character limit
                    # the csv module counts the line it failed on only once it is read whole
                    yield Skip(self.path, f"{self.path}:{self._csv.line_num + 1}", f"unreadable CSV row ({e})",
                               "fix that row (a cell of a list holds a name, a title or a date, never a text)")
                    continue
                loc = f"{self.path}:{self._csv.line_num}"
                if None in row:
                    yield Skip(self.path, loc, "row has more cells than the header", "fix that row")
                    continue
                yield loc, {self.fields[k.strip()]: v for k, v in row.items() if k is not None}
        elif self.kind == "parquet":
            n = 0
            for batch in self._pq.iter_batches(batch_size=8192):
                for obj in batch.to_pylist():
                    n += 1
                    yield f"{self.path}#row{n}", {self.fields.get(k, k): v for k, v in obj.items()}
        else:
            for item in jsonl_records(Path(self.path), ReadOptions(), self.path):
                if isinstance(item, Skip):
                    yield item
                    continue
                n, obj = item
                yield f"{self.path}:{n}", {self.mapping.get(k, k): v for k, v in obj.items()}


    def records(self, skips: list[Skip], on_row: Callable[[], None] | None = None) -> Iterator[tuple[str, dict]]:
        """The readable rows; the unreadable ones go to `skips`; `on_row` is called for every row."""
        for item in self.rows():
            if on_row:
                on_row()
            if isinstance(item, Skip):
                skips.append(item)
            else:
                yield item


_YES, _NO = {"1", "true", "yes", "y", "x"}, {"", "0", "false", "no", "n"}


def yes_no(value, what: str, yes: frozenset[str] = frozenset()) -> bool | None:
    """A yes/no cell (None when empty); ValueError naming `what` otherwise."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return None
    if text in _YES or text in yes:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{what} {value!r} is not yes or no")


def cell(row: dict, field: str) -> str:
    """A cell as stripped text ('' when absent or null)."""
    v = row.get(field)
    return "" if v is None else str(v).strip()
