"""Choose the reader for each input path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.archives import is_archive, read_archive
from ascertain.readers.base import Document, ReadOptions, Skip, printable, regular_file_skip
from ascertain.readers.book_formats import is_book, read_book
from ascertain.readers.compressed_text import is_compressed_text, read_compressed_text
from ascertain.readers.files import read_file, walk
from ascertain.readers.git import read_git, resolve
from ascertain.readers.records import is_jsonl, is_parquet, read_jsonl, read_parquet
from ascertain.readers.repo_layout import is_bare_repo, is_git_repo


def check_inputs(paths: Iterable[str | Path], opts: ReadOptions) -> None:
    """Refuse, before anything is read, inputs that do not exist and a --rev that cannot apply to one of them
    (a --rev is for git repositories only, and must name a commit there)."""
    for p in paths:
        path = Path(p)
        if not path.exists() and not path.is_symlink():
            raise AscertainError(printable(str(path)), "no such file or folder", "check the path")
        if not opts.rev:
            continue
        if not (is_git_repo(path) or is_bare_repo(path)):
            raise AscertainError(printable(str(path)), f"--rev {opts.rev} given, but this input is not a git "
                                 "repository (a --rev cannot apply to a file, folder, archive or record file)",
                                 "drop --rev, or read this input in a separate command without it")
        resolve(path, opts.rev)


def read_inputs(paths: Iterable[str | Path], opts: ReadOptions) -> Iterator[Document | Skip]:
    """One deterministic stream over all inputs (inputs in the order given, folders sorted).

    The inputs are checked (check_inputs) when this is called, before the stream starts."""
    paths = list(paths)
    check_inputs(paths, opts)
    return _stream(paths, opts)


def _stream(paths: list[str | Path], opts: ReadOptions) -> Iterator[Document | Skip]:
    for p in paths:
        path = Path(p)
        name = printable(str(path))
        if path.is_dir():
            if (opts.rev and is_git_repo(path)) or is_bare_repo(path):
                yield from read_git(path, opts.rev or "HEAD", opts, name)
                continue
            for item in walk(path):
                yield from read_walk_entry(item, opts, name)
        else:
            yield from _read_one(path, opts, name)


def read_walk_entry(item: Path | Skip, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    """The items of one entry of a folder's walk (readers/files.py walk), as the folder's stream holds them."""
    if isinstance(item, Skip):
        yield item
    elif item.is_dir():  # a bare repository inside the folder
        yield from _read_nested_bare(item, opts, input_name)
    elif opts.expand_containers:
        yield from _read_one(item, opts, input_name)
    else:
        yield from read_file(item, opts, input_name)


def read_input(path: Path, opts: ReadOptions) -> Iterator[Document | Skip]:
    """The items of one input, as read_inputs streams them (the inputs already checked)."""
    return _stream([path], opts)


def _read_nested_bare(repo: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    try:
        yield from read_git(repo, "HEAD", opts, input_name)
    except AscertainError as e:  # e.g. an empty mirror (no commit at HEAD): a Skip, the stream goes on
        yield Skip(input_name, printable(str(repo)), f"bare git repository not read ({e.problem})", e.fix)


def _read_one(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    if not (is_jsonl(path) or is_parquet(path) or is_archive(path) or is_book(path) or is_compressed_text(path)):
        yield from read_file(path, opts, input_name)  # checks the file type on the open descriptor
        return
    special = regular_file_skip(path, input_name, printable(str(path)))
    if special:
        yield special
    elif is_book(path):  # PDF, EPUB, HTML: their text, with pages or sections (readers/book_formats.py)
        yield from read_book(path, opts, input_name)
    elif is_jsonl(path):
        yield from read_jsonl(path, opts, input_name)
    elif is_parquet(path):
        yield from read_parquet(path, opts, input_name)
    elif is_compressed_text(path) and not is_archive(path):  # notes.txt.gz: one text file, compressed
        yield from read_compressed_text(path, opts, input_name)
    else:
        yield from read_archive(path, opts, input_name)
