"""Single files and directory trees."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from ascertain.readers.base import Document, ReadOptions, Skip, decode
from ascertain.text.languages import language_of

VCS_DIRS = {".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"}


def read_file(path: Path, opts: ReadOptions, input_name: str, locator: str | None = None
              ) -> Iterator[Document | Skip]:
    loc = locator or str(path)
    try:
        size = path.stat().st_size
        if size > opts.max_doc_bytes:
            yield Skip(input_name, loc, f"file of {size:,} bytes exceeds the {opts.max_doc_bytes:,}-byte "
                       "limit",
                       "split it, or raise --max-doc-bytes")
            return
        data = path.read_bytes()
    except OSError as e:
        yield Skip(input_name, loc, f"cannot read ({e.strerror})", "check the path and its permissions")
        return
    yield from document_from_bytes(data, input_name, loc, opts.language or language_of(loc))


def document_from_bytes(data: bytes, input_name: str, locator: str, language: str
                        ) -> Iterator[Document | Skip]:
    text, skip = decode(data, input_name, locator)
    if skip:
        yield skip
    elif text is not None:
        yield Document(locator, text, language, hashlib.sha256(data).hexdigest(), {"bytes": len(data)})


def walk(root: Path) -> Iterator[Path | Skip]:
    """Regular files under root in a stable (sorted) order; VCS folders and links are passed over."""
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        dirnames[:] = sorted(d for d in dirnames if d not in VCS_DIRS
                             and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            p = Path(dirpath, name)
            if p.is_symlink():
                yield Skip(str(root), str(p), "symbolic link, not followed",
                           "pass the link's target itself if it belongs to the input")
            elif p.is_file():
                yield p
