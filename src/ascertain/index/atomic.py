"""Files written whole or not at all: a temporary name, fsync, then a rename into place."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk or an interrupt leaves no partial file behind
        tmp.unlink(missing_ok=True)
        raise
