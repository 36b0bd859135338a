"""The works' files as `match` needs them, in bounded memory whatever the number of works.

A prepared file (tokens, offsets, lines, kinds, mask, fingerprints) takes about 16 times its text (about 220 KB
for a 13 KB file): 10,000 works would hold over 2 GB. The fingerprints of every file are kept (the lookup needs
them all at once, about 1/20 of that); the full preparation of at most `keep` files, the most recently used,
and any other is prepared again from its text when a document matches it. Preparing is deterministic, so
evidence is the same bytes whatever `keep` is (tests/test_lookup_imports.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np

from ascertain.match.pairs import Prepared

KEEP = 1024  # fully prepared files held at once (about 220 MB for files of 13 KB)


class PreparedWorks:
    """file id -> Prepared, computed on demand from `make(file row)`; fingerprints of all files kept."""

    def __init__(self, files: Iterable, make: Callable[[dict], Prepared], keep: int | None = None,
                 fingerprints: bool = True, k: int = 1) -> None:
        self.rows = {f["id"]: f for f in files}
        self.make, self.keep = make, KEEP if keep is None else keep
        self.lru: OrderedDict[int, Prepared] = OrderedDict()
        self.hashes: dict[int, np.ndarray] = {}
        self.positions: dict[int, np.ndarray] = {}
        self.own: dict[int, np.ndarray] = {}  # per fingerprint: its k-gram holds a token of the file's own text
        self.min_shared: dict[int, int] = {}
        # one pass: fingerprints for the lookup, the first files kept prepared (a match worker, which only
        # measures, skips it: fingerprints=False prepares each file when a document first needs it)
        for fid in self.rows if fingerprints else ():
            w = self[fid]
            self.hashes[fid], self.positions[fid] = w.hashes, w.positions
            self.own[fid] = own_kgrams(w.mask, w.positions, k)
            # a pair can only be `copied` with 2+ shared fingerprints when the file has 50+ own tokens
            self.min_shared[fid] = 2 if int((~w.mask).sum()) >= 50 else 1

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, fid: int) -> Prepared:
        w = self.lru.get(fid)
        if w is None:
            w = self.lru[fid] = self.make(self.rows[fid])
            if len(self.lru) > self.keep:
                self.lru.popitem(last=False)
        else:
            self.lru.move_to_end(fid)
        return w


def own_kgrams(mask: np.ndarray, positions: np.ndarray, k: int) -> np.ndarray:
    """For k-grams starting at `positions`: whether any of their k tokens is outside the mask (notices)."""
    own = np.concatenate([[0], np.cumsum(~mask, dtype=np.int64)])
    start = positions.astype(np.int64)
    end = np.minimum(start + k, len(mask))
    return own[end] > own[start]
