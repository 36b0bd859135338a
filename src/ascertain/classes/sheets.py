"""CSV files of the class layer that a person opens in a spreadsheet (member lists, sample sheets), written
through the project's one CSV writer (csv_out.py), so a cell cannot run as a formula (CSV injection). The
labels importer removes the apostrophe again (`unsafe_cell`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ascertain.csv_out import Writer, cell, plain


def safe_cell(value: object) -> object:
    return cell(value)


def unsafe_cell(value: str | None) -> str:
    """A cell read back from a sheet written here: the apostrophe the writer added removed."""
    return plain(value or "")


def write_csv(path: Path | str, columns: Iterable[str], rows: Iterable[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = Writer(fh, columns)
        w.header()
        for r in rows:
            w.record({k: "" if v is None else v for k, v in r.items()})
