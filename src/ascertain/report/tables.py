"""Tables for the terminal: readable at 80 columns and when piped, user data printed as written."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
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
    """Cells as plain text: a Table parses str cells as markup, and user data must print as written. A cell of
    one long word (a path, locator, file or model name) is never broken: it is shortened in the middle to fit
    (`Elided`); other text wraps between words."""
    t.add_row(*(c if isinstance(c, Text | Elided) else Elided(str(c)) if _one_long_word(str(c)) else Text(str(c))
                for c in cells))


def _one_long_word(s: str) -> bool:
    return len(s) > ELIDE_MIN and not any(ch.isspace() for ch in s)


ELIDE_MIN = 12  # a word this long or shorter is shown whole


def elide(s: str, width: int) -> str:
    """s in at most `width` cells: its start and its end (the end is the file name), "…" between."""
    if cell_len(s) <= width:
        return s
    if width <= 1:
        return "…"[:max(width, 0)]
    if s.startswith("…"):  # already a tail ("…/dir/file.py"): keep the end
        return "…" + _tail(s, width - 1)
    head = (width - 1) // 3
    return s[:head] + "…" + _tail(s, width - 1 - head)


def _tail(s: str, width: int) -> str:
    out = ""
    for ch in reversed(s):
        if cell_len(ch + out) > width:
            break
        out = ch + out
    return out


class Elided:
    """A word that is never wrapped inside: shortened in the middle to the column's width instead."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        n = cell_len(self.text)
        return Measurement(min(n, ELIDE_MIN), n)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Segment(elide(self.text, options.max_width))

    def __str__(self) -> str:
        return self.text
