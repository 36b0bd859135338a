"""The case key of a keyed exchange: made by the master, given to the defendant only (docs/methods.md)."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.fingerprint.keyed import key_check
from ascertain.fingerprint.winnow import load_key
from ascertain.new_files import write_new

KEY_BYTES = 32


def new_key(path: Path) -> dict:
    """A random 32-byte key in a new file readable by its owner only (0600); an existing file is never
    overwritten (a replaced key would orphan every index built with it)."""
    key = secrets.token_bytes(KEY_BYTES)
    try:
        write_new(path, key, 0o600)
    except FileExistsError:
        raise AscertainError(str(path), "already exists (a key file is never overwritten: indexes built with it "
                             "would no longer match)", "choose another file name, or keep using this key "
                             f"(`ascertain key check {path}`)") from None
    except OSError as e:
        raise AscertainError(str(path), f"cannot be created ({e.strerror})",
                             "choose a file in a folder you can write") from e
    return {"key_file": str(path), "bytes": KEY_BYTES, "mode": "0600", "key_check": key_check(key)}


def check_key(path: Path) -> dict:
    """The key check (an HMAC of a fixed label under the key, never the key), and a warning when the file
    can be read by others than its owner."""
    key = load_key(str(path))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    out = {"key_file": str(path), "bytes": len(key), "mode": f"{mode:04o}", "key_check": key_check(key)}
    if mode & 0o077:
        out["warning"] = (f"the key file can be read by others than its owner (mode {mode:04o}); "
                          f"run `chmod 600 {path}`")
    return out
