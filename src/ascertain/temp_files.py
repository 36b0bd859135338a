"""Temporary files and folders named after the process that writes them (`.NAME.PID.tmp`), and the cleaning
of those a killed process left: a run removes the leftovers of dead writers before it writes its own, and
never touches a live writer's."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def temp_name(path: Path, suffix: str = "tmp") -> Path:
    """The temporary sibling of `path` this process writes: `.NAME.PID.SUFFIX`."""
    return path.with_name(f".{path.name}.{os.getpid()}.{suffix}")


def leftovers(path: Path, suffixes: tuple[str, ...] = ("tmp",)) -> list[Path]:
    """Siblings `.NAME.PID.SUFFIX` of `path` whose writer is no longer running (its own, from an earlier
    process with this id, count as left over too: this process has not made them yet)."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.({'|'.join(map(re.escape, suffixes))})$")
    out = []
    try:
        siblings = list(path.parent.iterdir())
    except FileNotFoundError:
        return []
    for p in siblings:
        m = pattern.match(p.name)
        if m and (int(m.group(1)) == os.getpid() or not pid_alive(int(m.group(1)))):
            out.append(p)
    return sorted(out)


def remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)
