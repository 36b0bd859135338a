"""The project's one CSV writer: every CSV a person may open in a spreadsheet is written through it.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run by a spreadsheet as a
formula (CSV injection: a work titled `=HYPERLINK(...)` or `+cmd|' /C calc'!A0`); such a cell is written with
an apostrophe before it, which spreadsheets show as text and do not display. Numbers, booleans and empty
cells are written as they are (a negative number is a number, not a formula). `plain` undoes the apostrophe
for a program that reads the CSV back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """The value as it is safe to write in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def plain(text: str) -> str:
    """A cell read back from a CSV this module wrote, as it was before `cell`."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


class Writer:
    """csv.writer / csv.DictWriter in one, every cell through `cell`."""

    def __init__(self, fh: IO[str], columns: Iterable[str], lineterminator: str = "\r\n") -> None:
        self.columns = list(columns)
        self._w = csv.writer(fh, lineterminator=lineterminator)

    def header(self) -> None:
        self._w.writerow([cell(c) for c in self.columns])

    def row(self, values: Iterable[object]) -> None:
        self._w.writerow([cell(v) for v in values])

    def record(self, record: dict) -> None:
        """A dict's values in column order (missing keys are empty)."""
        self.row(record.get(c) for c in self.columns)


def csv_text(columns: Iterable[str], records: Iterable[dict], lineterminator: str = "\r\n") -> str:
    buf = io.StringIO()
    w = Writer(buf, columns, lineterminator)
    w.header()
    for r in records:
        w.record(r)
    return buf.getvalue()
