"""Tables for the terminal: readable at 80 columns and when piped, user data printed as written."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text


def new_table(*headers: str, title: str | None = None, numbers: tuple[str, ...] = (),
              words: tuple[str, ...] = ()) -> Table:
    """No vertical rules; numbers right-aligned and never broken; one-word columns (`words`) never broken;
    the other columns wrap (paths fold where they must)."""
    t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
              title_justify="left", title_style="bold")
    for h in headers:
        if h in numbers:
            t.add_column(h, justify="right", no_wrap=True)
        elif h in words:
            t.add_column(h, no_wrap=True)
        else:
            t.add_column(h, overflow="fold")
    return t


def add_row(t: Table, *cells: object) -> None:
    """Cells as plain text: a Table parses str cells as markup, and user data must print as written."""
    t.add_row(*(c if isinstance(c, Text) else Text(str(c)) for c in cells))
