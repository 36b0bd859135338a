"""CSV files of the class layer that a person opens in a spreadsheet (member lists, sample sheets), written so a
cell cannot run as a formula (CSV injection): a text cell starting with =, +, -, @, a tab or a carriage return
gets a leading apostrophe, which spreadsheets show as text. The labels importer removes it again.

(The project-wide CSV writer of the hardening work replaces this module when it is on main.)"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def unsafe_cell(value: str | None) -> str:
    """A cell read back from a sheet this module wrote: the apostrophe it added removed."""
    v = value or ""
    return v[1:] if v.startswith("'") and v[1:].startswith(_TRIGGERS) else v


def write_csv(path: Path | str, columns: Iterable[str], rows: Iterable[dict]) -> None:
    cols = list(columns)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: safe_cell(r.get(k, "")) for k in cols})
