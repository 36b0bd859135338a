"""Git repositories at a named revision, read through the git command (no checkout needed)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.files import document_from_bytes
from ascertain.text.languages import language_of


def is_git_repo(path: Path) -> bool:
    return path.is_dir() and (path / ".git").exists()


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                              check=True).stdout
    except FileNotFoundError as e:
        raise AscertainError(str(repo), "the git command is not installed",
                             "install git (`apt-get install git`)") from e
    except subprocess.CalledProcessError as e:
        raise AscertainError(str(repo), f"git {args[0]} failed: {e.stderr.decode(errors='replace').strip()}",
                             "check the path is a git repository and the revision exists "
                             "(`git -C REPO log --oneline REV`)") from e


def read_git(repo: Path, rev: str, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    commit = _git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", "-l", commit).split(b"\0")
    for entry in listing:
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        mode, kind, sha, size = meta.split()
        path = name.decode("utf-8", "replace")
        loc = f"{repo}@{commit[:12]}:{path}"
        if kind != b"blob" or mode == b"120000":
            if mode == b"120000":
                yield Skip(input_name, loc, "symbolic link, not followed", "nothing to do")
            continue
        if int(size) > opts.max_doc_bytes:
            yield Skip(input_name, loc, f"blob of {int(size):,} bytes exceeds the limit",
                       "raise --max-doc-bytes if it is genuine text")
            continue
        data = _git(repo, "cat-file", "blob", sha.decode())
        for item in document_from_bytes(data, input_name, loc, opts.language or language_of(path)):
            if isinstance(item, Document):
                item.meta.update({"commit": commit, "path": path})
            yield item
