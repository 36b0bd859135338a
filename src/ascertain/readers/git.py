"""Git repositories at a named revision, read through the git command (no checkout needed).

A work tree is read at --rev when one is given (else as a folder); a bare repository (a mirror: HEAD,
objects/, refs/, no work tree) has no files to walk and is always read through git, at --rev or HEAD.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.base import Document, ReadOptions, Skip, name_from_bytes, printable
from ascertain.readers.files import document_from_bytes
from ascertain.text.languages import language_of


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                              check=True).stdout
    except FileNotFoundError as e:
        raise AscertainError(printable(str(repo)), "the git command is not installed",
                             "install git (`apt-get install git`)") from e
    except subprocess.CalledProcessError as e:
        raise AscertainError(printable(str(repo)),
                             f"git {args[0]} failed: {e.stderr.decode(errors='replace').strip()}",
                             "check the path is a git repository and the revision exists "
                             "(`git -C REPO log --oneline REV`)") from e


def resolve(repo: Path, rev: str) -> str:
    """The full commit id rev names; an AscertainError when it names none."""
    return _git(repo, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").decode().strip()


def read_git(repo: Path, rev: str, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    commit = resolve(repo, rev)
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", "-l", commit).split(b"\0")
    shown = printable(str(repo))
    for entry in listing:
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        mode, kind, sha, size = meta.split()
        path = name_from_bytes(name)
        loc = f"{shown}@{commit[:12]}:{path}"
        if mode == b"120000":
            yield Skip(input_name, loc, "symbolic link, not followed", "nothing to do")
            continue
        if kind == b"commit":
            yield Skip(input_name, loc, "submodule not read (its commit is in another repository)",
                       "pass the submodule's own repository if it belongs to the input")
            continue
        if kind != b"blob":
            continue
        if int(size) > opts.max_doc_bytes:
            yield Skip(input_name, loc, f"blob of {int(size):,} bytes exceeds the limit",
                       "raise --max-doc-bytes if it is genuine text")
            continue
        try:
            data = _git(repo, "cat-file", "blob", sha.decode())
        except AscertainError as e:  # a missing or corrupt object: that file only
            yield Skip(input_name, loc, f"blob {sha.decode()} unreadable ({e.problem})",
                       "repair the repository (`git fsck`) or obtain an intact clone")
            continue
        for item in document_from_bytes(data, input_name, loc, opts.language or language_of(path)):
            if isinstance(item, Document):
                item.meta.update({"commit": commit, "path": path})
            yield item
