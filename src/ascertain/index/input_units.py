"""Reading the inputs as tasks: the driver plans units, the workers read them, the driver keeps the order.

A unit is a piece of one input that can be read alone and gives the same items the input's stream gives there:

    stream   a whole input read by its reader (a file, an archive, a git repository)
    entries  consecutive entries of a folder's walk (files, nested bare repositories, the walk's skips), grouped
             up to about UNIT_BYTES of file size
    lines    a byte range of a plain JSONL file, cut at line starts (readers/records.py line_cuts); the lines
             before it are counted by a task per range first, so its records keep their line numbers

`read_unit` (a stage) returns the unit's items with their texts taken out, and the texts apart: the driver gets
the items (locators, digests, metadata: what it records) and a handle on the texts (a Ray object, kept on the
node that read them); each shard task fetches the texts of its documents itself (TextRef). The items come back
in plan order, so the index writer cuts the same shards as from the serial stream (index/shards.py), and the
index is byte-identical whichever engine read it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ascertain.engine import Executor, Shared, shared_value
from ascertain.readers.base import Document, ReadOptions, Skip, printable, regular_file_skip
from ascertain.readers.dispatch import read_input, read_walk_entry
from ascertain.readers.files import walk
from ascertain.readers.records import count_lines, is_plain_jsonl, line_cuts, read_jsonl
from ascertain.readers.repo_layout import is_bare_repo, is_git_repo

UNIT_BYTES = 16 * 1024 * 1024  # of input file size per unit: a folder's small files grouped, a JSONL file cut


@dataclass(frozen=True)
class Unit:
    input_index: int  # the input's place on the command line
    kind: str  # stream | entries | lines
    path: str  # the input (stream, entries) or the JSONL file (lines)
    input_name: str
    entries: tuple = ()  # entries: the walk's items (Path or Skip)
    start: int = 0  # lines: the byte range and the lines before it
    end: int = 0
    lines_before: int = 0


@dataclass(frozen=True)
class TextRef:
    """A document's text held by the unit that read it: the `i`-th text of `texts`, `n` characters long."""

    texts: Shared
    i: int
    n: int

    def __len__(self) -> int:
        return self.n


def plan_units(kind: str, paths: list[str], opts: ReadOptions, executor: Executor,
               unit_bytes: int | None = None) -> list[Unit]:
    """The units of the inputs (source kind corpus or outputs), in stream order. Folders are listed here (names
    and sizes only); JSONL ranges have their lines counted by tasks."""
    unit_bytes = unit_bytes or UNIT_BYTES
    units: list[Unit] = []
    for i, p in enumerate(paths):
        path, name = Path(p), printable(p)
        if kind == "outputs":
            units += _jsonl_units(i, path, name, unit_bytes) if is_plain_jsonl(path) else [Unit(i, "stream", p, name)]
        elif path.is_dir() and not ((opts.rev and is_git_repo(path)) or is_bare_repo(path)):
            units += _folder_units(i, path, name, opts, unit_bytes)
        elif path.is_file() and is_plain_jsonl(path) and regular_file_skip(path, name, name) is None:
            units += _jsonl_units(i, path, name, unit_bytes)
        else:
            units.append(Unit(i, "stream", p, name))
    ranges = [n for n, u in enumerate(units) if u.kind == "lines"]
    counts = [executor.submit(count_lines, Path(units[n].path), units[n].start, units[n].end) for n in ranges]
    before = 0
    for n, handle in zip(ranges, counts, strict=True):
        if units[n].start == 0:
            before = 0
        units[n] = replace(units[n], lines_before=before)
        before += executor.result(handle)
    return units


def _jsonl_units(i: int, path: Path, name: str, unit_bytes: int) -> list[Unit]:
    cuts = line_cuts(path, unit_bytes)
    if len(cuts) <= 2:
        return [Unit(i, "lines", str(path), name, start=0, end=cuts[-1])]
    return [Unit(i, "lines", str(path), name, start=a, end=b) for a, b in zip(cuts, cuts[1:], strict=False)]


def _folder_units(i: int, root: Path, name: str, opts: ReadOptions, unit_bytes: int) -> list[Unit]:
    units, group, size = [], [], 0

    def flush() -> None:
        nonlocal group, size
        if group:
            units.append(Unit(i, "entries", str(root), name, entries=tuple(group)))
        group, size = [], 0

    for item in walk(root):
        if isinstance(item, Path) and opts.expand_containers and item.is_file() and is_plain_jsonl(item):
            try:
                big = item.stat().st_size > unit_bytes and regular_file_skip(item, name, printable(str(item))) is None
            except OSError:
                big = False
            if big:  # read like _read_one reads a JSONL file, one range at a time
                flush()
                units += _jsonl_units(i, item, name, unit_bytes)
                continue
        group.append(item)
        if isinstance(item, Path):
            with contextlib.suppress(OSError):  # vanished or unreadable: its reader records it
                size += os.stat(item).st_size
        if size >= unit_bytes:
            flush()
    flush()
    return units


def unit_items(unit: Unit, opts: ReadOptions, kind: str) -> Iterator[Document | Skip]:
    """The items of one unit, as the input's stream holds them."""
    if unit.kind == "lines":
        yield from read_jsonl(Path(unit.path), opts, unit.input_name, (unit.start, unit.end, unit.lines_before))
    elif unit.kind == "entries":
        for entry in unit.entries:
            yield from read_walk_entry(entry, opts, unit.input_name)
    elif kind == "outputs":
        yield from read_jsonl(Path(unit.path), opts, unit.input_name)
    else:
        yield from read_input(Path(unit.path), opts)


def read_unit(unit: Unit, opts: ReadOptions, kind: str) -> tuple[tuple[list[Document | Skip], list[int]], list[str]]:
    """((the unit's items with empty texts, each document's text length), the texts) (a stage: the first part
    goes to the driver, the texts stay where the executor keeps them)."""
    items, lengths, texts = [], [], []
    for item in unit_items(unit, opts, kind):
        if isinstance(item, Document):
            texts.append(item.text)
            lengths.append(len(item.text))
            item = replace(item, text="")
        items.append(item)
    return (items, lengths), texts


def read_planned(executor: Executor, units: list[Unit], opts: ReadOptions, kind: str
                 ) -> Iterator[tuple[int, Document | Skip]]:
    """(input index, item) of every unit in plan order, read by the executor's workers (a window of units in
    flight); each document's text is a TextRef to the texts its unit's task kept."""
    window = 2 * executor.workers + 1
    pending: list[tuple[Unit, object]] = []
    todo = iter(units)
    while True:
        while len(pending) < window and (u := next(todo, None)) is not None:
            pending.append((u, executor.submit_split(read_unit, u, opts, kind)))
        if not pending:
            return
        unit, handle = pending.pop(0)
        (items, lengths), texts = executor.result_split(handle)
        j = 0
        for item in items:
            if isinstance(item, Document):
                item = replace(item, text=TextRef(texts, j, lengths[j]))
                j += 1
            yield unit.input_index, item


def resolve_texts(texts: list) -> list[str]:
    """The texts of a batch whose items may be TextRefs (each unit's texts fetched once)."""
    got: dict[str, list[str]] = {}
    out = []
    for t in texts:
        if isinstance(t, TextRef):
            held = got.get(t.texts.token)
            if held is None:
                held = got[t.texts.token] = shared_value(t.texts)
            out.append(held[t.i])
        else:
            out.append(t)
    return out
