"""A report folder replaced whole or not at all: the new report is written beside the old one
(`.NAME.PID.tmp`), then swapped in by two renames. A `report` killed at any point leaves the previous report
readable: killed while writing, the next run removes the half-written folder; killed between the renames
(the old report is at `.NAME.PID.old`, none at NAME), the next run puts it back first."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.temp_files import leftovers, remove, temp_name

_locks: dict[Path, int] = {}  # staging folder -> its lock's file descriptor, held until finish/abandon


def begin(out: Path, marker: str) -> Path:
    """Clean a killed run's leftovers and make this run's staging folder. `marker` is the file every report
    folder holds (its manifest): a folder without it is not replaced. Two runs writing the same folder at once
    are refused (a lock on `.NAME.lock` beside it, released by the system when a run dies)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out.parent / f".{out.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AscertainError(str(out), "another `ascertain report` is writing this folder now",
                             "wait for it to finish, or pass --out with another folder") from None
    try:
        work = _begin(out, marker)
    except BaseException:
        os.close(fd)
        raise
    _locks[work] = fd
    return work


def _begin(out: Path, marker: str) -> Path:
    for p in leftovers(out, ("tmp", "old")):
        if p.name.endswith(".old") and not out.exists() and (p / marker).is_file():
            os.replace(p, out)  # killed between the renames: the previous report goes back in place
        else:
            remove(p)
    if out.exists() and not (out / marker).is_file():
        raise AscertainError(str(out), "exists and is not an ascertain report folder",
                             "pass --out with a new folder, or remove this one")
    work = temp_name(out, "tmp")
    work.mkdir()
    return work


def finish(work: Path, out: Path) -> None:
    """Put the finished report in place of the previous one."""
    try:
        _swap(work, out)
    finally:
        _release(work)


def _swap(work: Path, out: Path) -> None:
    _fsync_dir(work)
    if out.exists():
        old = temp_name(out, "old")
        os.replace(out, old)
        os.replace(work, out)
        _fsync_dir(out.parent)
        remove(old)
    else:
        os.replace(work, out)
    _fsync_dir(out.parent)


def abandon(work: Path) -> None:
    remove(work)
    _release(work)


def _release(work: Path) -> None:
    fd = _locks.pop(work, None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the lock


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
