"""Small file helpers the exchange steps share: digests, writes that never clobber, JSON files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ascertain.errors import AscertainError


def refuse_existing(path: Path, what: str) -> None:
    """Outputs of the exchange are evidence of what was sent: never written over."""
    if path.exists() or path.is_symlink():
        raise AscertainError(str(path), f"already exists (a {what} is never written over)",
                             "choose a new file or folder name, or move the old one away first")


def write_new(path: Path, data: bytes) -> None:
    """Write a new file atomically (temporary name in the same folder, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def canonical(obj: object) -> bytes:
    """The bytes a digest or MAC is computed over: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def dump(obj: object) -> bytes:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"


def load_json(path: Path, what: str, fix: str) -> dict:
    try:
        obj = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise AscertainError(str(path), "no such file", "check the path") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AscertainError(str(path), f"is not a readable {what} ({e})", fix) from e
    if not isinstance(obj, dict):
        raise AscertainError(str(path), f"is not a {what} (not a JSON object)", fix)
    return obj
