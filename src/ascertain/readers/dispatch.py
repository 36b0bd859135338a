"""Choose the reader for each input path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.archives import is_archive, read_archive
from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.book_formats import is_book, read_book
from ascertain.readers.files import read_file, walk
from ascertain.readers.git import is_git_repo, read_git
from ascertain.readers.records import is_jsonl, is_parquet, read_jsonl, read_parquet


def read_inputs(paths: Iterable[str | Path], opts: ReadOptions) -> Iterator[Document | Skip]:
    """One deterministic stream over all inputs (inputs in the order given, folders sorted)."""
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise AscertainError(str(path), "no such file or folder", "check the path")
        name = str(path)
        if path.is_dir():
            if opts.rev and is_git_repo(path):
                yield from read_git(path, opts.rev, opts, name)
                continue
            for item in walk(path):
                if isinstance(item, Skip):
                    yield item
                elif opts.expand_containers:
                    yield from _read_one(item, opts, name)
                else:
                    yield from read_file(item, opts, name)
        else:
            yield from _read_one(path, opts, name)


def _read_one(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    if is_book(path):  # PDF, EPUB, HTML: their text, with pages or sections (readers/book_formats.py)
        yield from read_book(path, opts, input_name)
    elif is_jsonl(path):
        yield from read_jsonl(path, opts, input_name)
    elif is_parquet(path):
        yield from read_parquet(path, opts, input_name)
    elif is_archive(path):
        yield from read_archive(path, opts, input_name)
    else:
        yield from read_file(path, opts, input_name)
