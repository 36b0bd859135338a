"""One document named by its locator, read by the same readers that index it.

A locator is what the readers record for every document: a file path, `file.jsonl:LINE`,
`data.parquet#rowN`, `archive.zip!member/path.py` or `repo@REV:path`. The container is read with its reader
and the record with that exact locator is taken, so `compare` sees the same text `corpus add` indexed.
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.archives import is_archive
from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.dispatch import read_inputs
from ascertain.readers.files import document_from_bytes
from ascertain.readers.git import _git
from ascertain.readers.records import is_jsonl, is_parquet
from ascertain.text.languages import language_of

_RECORD = {"jsonl": re.compile(r":(\d+)"), "parquet": re.compile(r"#row(\d+)"), "archive": re.compile(r"!(.+)")}
_GIT = re.compile(r"(?P<repo>.+?)@(?P<rev>[^@:/\s]+):(?P<path>.+)")
EXAMPLES = "file.jsonl:LINE, data.parquet#rowN, archive.zip!member/path, repo@REV:path"


def _kind(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "jsonl" if is_jsonl(path) else "parquet" if is_parquet(path) else "archive" if is_archive(path) else None


def split_locator(locator: str) -> tuple[Path, str] | None:
    """(container, record part as the reader writes it after the container's path), or None."""
    for i, ch in enumerate(locator):
        if ch not in ":#!":
            continue
        container, rest = Path(locator[:i]), locator[i:]
        kind = _kind(container)
        if kind and _RECORD[kind].fullmatch(rest):
            return container, rest
    return None


def read_locator(locator: str, opts: ReadOptions) -> Document:
    """The document at `locator`; a clear error when it does not exist, is skipped, or is not one record."""
    path = Path(locator)
    if path.exists():
        return _only_document(path, opts)
    split = split_locator(locator)
    if split is None:
        git = _GIT.fullmatch(locator)
        if git and Path(git["repo"]).is_dir():
            data = _git(Path(git["repo"]), "cat-file", "blob", f"{git['rev']}:{git['path']}")
            return _document(list(document_from_bytes(data, git["repo"], locator, language_of(git["path"]))),
                             locator)
        raise AscertainError(locator, "no such file, and not a record locator of an existing container",
                             f"check the path; a record inside a container is named as in {EXAMPLES}")
    container, rest = split
    wanted = f"{container}{rest}"  # readers write the locator from the path as given
    seen = 0
    for item in read_inputs([container], opts):
        if item.locator == wanted:
            return _document([item], locator)
        seen += isinstance(item, Document)
    raise AscertainError(locator, f"no such record in {container} ({seen:,} records read)",
                         "check the line / row number / member name (`ascertain doc` shows indexed documents)")


def _only_document(path: Path, opts: ReadOptions) -> Document:
    """A plain file, or a container holding exactly one record (more would make the choice a guess)."""
    items = list(islice(read_inputs([path], opts), 2))
    if len(items) == 2:
        raise AscertainError(str(path), f"holds several records (first: {items[0].locator}, {items[1].locator})",
                             f"name one record, e.g. `{items[0].locator}`")
    return _document(items, str(path))


def _document(items: list[Document | Skip], locator: str) -> Document:
    doc = items[0] if items else None
    if isinstance(doc, Document):
        return doc
    why = f"{doc.reason}" if doc else "empty input"
    fix = doc.fix if doc else "pass a file with text"
    raise AscertainError(locator, f"not readable as text ({why})", fix)
