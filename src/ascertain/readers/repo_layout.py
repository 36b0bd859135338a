"""Is a folder a git repository (a work tree, or a bare mirror)? Path checks only: no git command."""

from __future__ import annotations

from pathlib import Path


def is_git_repo(path: Path) -> bool:
    return path.is_dir() and (path / ".git").exists()


def is_bare_repo(path: Path) -> bool:
    """The layout of a bare repository: HEAD file, objects/ and refs/ folders, and no .git of its own."""
    return ((path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()
            and not (path / ".git").exists())
