"""Whole-document MinHash signatures (rensa) and LSH bands: the supplementary near-duplicate signal.

Containment of a work's spans in a document is the primary measure. A near-duplicate whose runs were all
broken by scattered edits keeps few long runs, but still shares most of its fingerprints with the work.
A document's signature is the MinHash of its set of winnowed fingerprints: winnowing picks the same
fingerprints wherever two texts agree for w + k - 1 tokens, so the Jaccard of the fingerprint sets tracks
the Jaccard of the k-gram sets, at a seventh of the input (indexing pays about 5 % more, not 20 % as with
every 5-gram). Fingerprints of a keyed index are keyed already, so its signatures reveal nothing more.

LSH banding as datasketch's MinHashLSH does it (same bands and rows per band, same candidates), but with the
band keys written at indexing (index/lookup_tables.py): a run looks up its works' bands instead of building
the table over every corpus signature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_PERM = 128
SEED = 1
NEAR_DUPLICATE_JACCARD = 0.4  # estimated Jaccard of the fingerprint sets at or above which a pair is reported
MIN_FINGERPRINTS = 4  # fewer: no signature (the estimate would be noise)


@dataclass(frozen=True)
class MinHashParams:
    num_perm: int = NUM_PERM
    seed: int = SEED
    threshold: float = NEAR_DUPLICATE_JACCARD

    def as_dict(self) -> dict:
        from importlib.metadata import version

        return {"signatures": f"rensa {version('rensa')} RMinHash over each document's winnowed fingerprints",
                "lsh": f"bands of datasketch {version('datasketch')} MinHashLSH's shape, keys at indexing",
                "num_perm": self.num_perm, "seed": self.seed,
                "threshold": self.threshold, "min_fingerprints": MIN_FINGERPRINTS}


def signatures(fingerprints: np.ndarray, doc: np.ndarray, n_docs: int, params: MinHashParams = MinHashParams()
               ) -> np.ndarray:
    """One signature row (num_perm uint32) per document; `doc` (non-decreasing) gives each fingerprint's
    document. Rows of documents with fewer than MIN_FINGERPRINTS fingerprints are all zero."""
    from rensa import RMinHash

    offsets = np.searchsorted(doc, np.arange(n_docs + 1)).astype(np.uint64)
    counts = np.diff(offsets.astype(np.int64))
    out = np.zeros((n_docs, params.num_perm), np.uint32)
    if len(fingerprints):
        m = RMinHash.digest_matrix_from_flat_token_hashes(np.ascontiguousarray(fingerprints, dtype=np.uint64),
                                                          offsets, params.num_perm, params.seed)
        out[:] = np.asarray(m.to_rows(), dtype=np.uint32)
    out[counts < MIN_FINGERPRINTS] = 0
    return out


def signature(fingerprints: np.ndarray, params: MinHashParams = MinHashParams()) -> np.ndarray:
    return signatures(fingerprints, np.zeros(len(fingerprints), np.int64), 1, params)[0]


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def has_signature(sig: np.ndarray) -> bool:
    return bool(sig.any())


def band_shape(params: MinHashParams = MinHashParams()) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH chooses for the threshold: two signatures are
    candidates when all the values of one band are equal."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    return lsh.b, lsh.r


_GOLDEN, _M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer (wrapping uint64 arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: one key per band of each signature, equal when the band's values are equal (a key
    names its band too). Different bands colliding on one key is possible (about 2^-64 a pair): candidates
    are checked on the signatures (bands_agree), so the answers are datasketch's."""
    sigs = np.asarray(sigs, np.uint32)
    out = np.empty((len(sigs), bands), np.uint64)
    for b in range(bands):
        h = np.full(len(sigs), b + 1, np.uint64) * _GOLDEN  # array arithmetic wraps silently
        for j in range(b * rows, (b + 1) * rows):
            h = _mix(h ^ sigs[:, j].astype(np.uint64))
        out[:, b] = h
    return out


def bands_agree(a: np.ndarray, b: np.ndarray, bands: int, rows: int) -> bool:
    """Do two signatures have one band with all values equal (an LSH candidate pair)?"""
    eq = (a[:bands * rows] == b[:bands * rows]).reshape(bands, rows)
    return bool(eq.all(axis=1).any())
