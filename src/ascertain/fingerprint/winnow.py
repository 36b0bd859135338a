"""Winnowed k-gram fingerprints (Schleimer, Wilkerson & Aiken 2003).

Guarantee (tested in tests/test_winnow.py): two token sequences that share a run of at least w + k - 1
tokens share at least one fingerprint, and that fingerprint lies inside the run on both sides. The run
holds w consecutive k-grams, i.e. one whole winnowing window, and both sides select the same (rightmost
minimal) k-gram of that window.

Hashes are 64-bit and stable across machines and Python versions: each token is hashed with BLAKE2b-64
(hashlib), k consecutive token hashes are combined polynomially modulo 2^64 and mixed with the splitmix64
finalizer. In keyed mode every selected fingerprint is replaced by HMAC-SHA256(key, fingerprint)[:8], so
a fingerprint file reveals nothing of the text to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np

_B = np.uint64(0x100000001B3)  # odd multiplier of the polynomial
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class Params:
    k: int = 8
    w: int = 13
    keyed: bool = False

    @property
    def guarantee(self) -> int:
        """Every shared run of at least this many tokens is found."""
        return self.w + self.k - 1

    def as_dict(self) -> dict:
        return {"k": self.k, "w": self.w, "keyed": self.keyed, "guarantee_tokens": self.guarantee,
                "hash": "blake2b-64 tokens, polynomial mod 2^64 + splitmix64; keyed: HMAC-SHA256[:8]"}


class TokenHasher(dict):
    """Token → 64-bit hash, memoized (token vocabularies repeat heavily); bounded in size."""

    def __init__(self, max_entries: int = 2_000_000) -> None:
        super().__init__()
        self.max_entries = max_entries

    def __missing__(self, token: str) -> int:
        if len(self) >= self.max_entries:
            self.clear()
        value = int.from_bytes(
            hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
        self[token] = value
        return value

    def hashes(self, tokens: list[str]) -> np.ndarray:
        return np.fromiter(map(self.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def kgram_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    n = len(token_hashes) - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    acc = token_hashes[:n].copy()
    for j in range(1, k):
        acc *= _B
        acc += token_hashes[j:j + n]
    acc ^= acc >> np.uint64(30)
    acc *= _M1
    acc ^= acc >> np.uint64(27)
    acc *= _M2
    acc ^= acc >> np.uint64(31)
    return acc


def winnow(hashes: np.ndarray, w: int) -> np.ndarray:
    """Positions selected by winnowing: the rightmost minimum of every window of w hashes."""
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n <= w:
        return np.array([n - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(hashes, w)[:, ::-1]
    picks = np.arange(n - w + 1) + (w - 1 - np.argmin(windows, axis=1))
    return np.unique(picks)


def keyed(hashes: np.ndarray, key: bytes) -> np.ndarray:
    data = hashes.astype("<u8").tobytes()
    return np.fromiter(
        (int.from_bytes(hmac.digest(key, data[i:i + 8], "sha256")[:8], "little")
         for i in range(0, len(data), 8)),
        dtype=np.uint64, count=len(hashes))


def fingerprint(tokens: list[str], params: Params, hasher: TokenHasher,
                key: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(hashes uint64, token positions uint32) of one document."""
    grams = kgram_hashes(hasher.hashes(tokens), params.k)
    pos = winnow(grams, params.w)
    fp = grams[pos]
    if key is not None:
        fp = keyed(fp, key)
    return fp, pos.astype(np.uint32)


def load_key(path: str) -> bytes:
    from ascertain.errors import AscertainError

    try:
        with open(path, "rb") as fh:
            key = fh.read()
    except OSError as e:
        raise AscertainError(path, f"cannot read the key file ({e.strerror})",
                             "pass --key-file with a readable file of at least 32 random bytes "
                             "(e.g. `head -c 32 /dev/urandom > case.key`)") from e
    if len(key) < 32:
        raise AscertainError(path, f"the key file holds {len(key)} bytes, fewer than 32",
                             "make a key of at least 32 random bytes: `head -c 32 /dev/urandom > case.key`")
    return key
