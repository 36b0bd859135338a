"""A file written once: created new (never over an existing file), with an exact mode, synced to disk, and
removed again if the write fails. Key files (keyed exchange, expert signing) are written this way."""

from __future__ import annotations

import os
from pathlib import Path


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Raises FileExistsError when `path` exists and OSError when it cannot be created; nothing is left behind."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(path, mode)  # the creation mode is masked by the umask; make it exact
    except BaseException:
        os.unlink(path)
        raise
