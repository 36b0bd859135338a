"""Single files and directory trees."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ascertain.readers.base import (
    Document,
    ReadOptions,
    Skip,
    decode,
    non_regular,
    os_error_fix,
    printable,
    special_file_skip,
)
from ascertain.readers.repo_layout import is_bare_repo
from ascertain.text.languages import language_of

VCS_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"}


def read_file(path: Path, opts: ReadOptions, input_name: str, locator: str | None = None
              ) -> Iterator[Document | Skip]:
    """One regular file. Anything else (FIFO, device, socket) is a Skip and is never read: the file is opened
    non-blocking and checked with fstat before a byte is read, and at most max_doc_bytes + 1 bytes are read
    (a file that grows, or lies about its size, cannot make the read endless)."""
    loc = locator or printable(str(path))
    limit = opts.max_doc_bytes
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        yield Skip(input_name, loc, f"cannot read ({e.strerror})", os_error_fix(e))
        return
    try:
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            what = non_regular(st.st_mode) if not stat.S_ISDIR(st.st_mode) else "folder"
            if what:
                yield special_file_skip(input_name, loc, what)
                return
            if st.st_size > limit:
                yield Skip(input_name, loc, f"file of {st.st_size:,} bytes exceeds the {limit:,}-byte limit",
                           "split it, or raise --max-doc-bytes")
                return
            data = fh.read(limit + 1)
    except OSError as e:
        yield Skip(input_name, loc, f"cannot read ({e.strerror})", os_error_fix(e))
        return
    if len(data) > limit:
        yield Skip(input_name, loc, f"file grew past the {limit:,}-byte limit while it was read",
                   "split it, or raise --max-doc-bytes")
        return
    yield from document_from_bytes(data, input_name, loc, opts.language or language_of(loc))


def document_from_bytes(data: bytes, input_name: str, locator: str, language: str
                        ) -> Iterator[Document | Skip]:
    text, how = decode(data, input_name, locator)
    if isinstance(how, Skip):
        yield how
    elif text is not None:
        yield Document(locator, text, language, hashlib.sha256(data).hexdigest(),
                       {"bytes": len(data), "encoding": how})


def walk(root: Path) -> Iterator[Path | Skip]:
    """Regular files under root in a stable (sorted) order: the files of a folder, then its subfolders.

    VCS folders are passed over. Everything else that is not a regular file is a Skip that says what it is
    (file and directory symlinks, FIFOs, sockets, devices, unreadable folders): nothing is dropped silently,
    and nothing but a regular file is ever opened. Folders that are bare git repositories are yielded as
    folders (the caller reads them through git)."""
    root_name = printable(str(root))

    def skip(path: str, reason: str, fix: str) -> Skip:
        return Skip(root_name, printable(path), reason, fix)

    def visit(folder: str) -> Iterator[Path | Skip]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield skip(folder, f"folder not read ({e.strerror})", "check its permissions")
            return
        subfolders = []
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    target_is_dir = e.is_dir(follow_symlinks=True)
            except OSError as err:
                yield skip(e.path, f"cannot read ({err.strerror})", os_error_fix(err))
                continue
            if stat.S_ISLNK(st.st_mode):
                if target_is_dir:
                    yield skip(e.path, "directory symlink not followed",
                               "pass the link's target itself if it belongs to the input")
                else:
                    yield skip(e.path, "symbolic link, not followed",
                               "pass the link's target itself if it belongs to the input")
            elif stat.S_ISDIR(st.st_mode):
                if e.name not in VCS_DIRS:
                    subfolders.append(e.path)
            elif stat.S_ISREG(st.st_mode):
                yield Path(e.path)
            else:
                yield special_file_skip(root_name, printable(e.path), non_regular(st.st_mode) or "special file")
        for sub in subfolders:
            if is_bare_repo(Path(sub)):
                yield Path(sub)
            else:
                yield from visit(sub)

    yield from visit(str(root))
