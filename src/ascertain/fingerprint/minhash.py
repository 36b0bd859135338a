"""Whole-document MinHash signatures (rensa) and LSH (datasketch): the supplementary near-duplicate signal.

Containment of a work's spans in a document is the primary measure. A near-duplicate whose runs were all
broken by scattered edits (a word in twenty changed) keeps no long run, but still shares many of its
5-token shingles with the work. Signatures are taken over the token hashes the fingerprints use (at the
index's level). For a keyed index the permutations are seeded from the key, so a signature cannot be
tested against a guessed text without it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.vectorized import kgram_hashes

NUM_PERM = 128
SHINGLE = 5
SEED = 1
NEAR_DUPLICATE_JACCARD = 0.5  # estimated Jaccard of the shingle sets at or above which a pair is reported
MIN_SHINGLES = 20  # shorter documents get no signature: a handful of shingles makes the estimate noise


@dataclass(frozen=True)
class MinHashParams:
    num_perm: int = NUM_PERM
    shingle: int = SHINGLE
    seed: int = SEED
    threshold: float = NEAR_DUPLICATE_JACCARD

    def as_dict(self) -> dict:
        return {"signatures": "rensa RMinHash", "lsh": "datasketch MinHashLSH", "num_perm": self.num_perm,
                "shingle_tokens": self.shingle, "seed": self.seed, "threshold": self.threshold}


def seed_for(key: bytes | None) -> int:
    if key is None:
        return SEED
    return int.from_bytes(hmac.digest(key, b"ascertain minhash seed", hashlib.sha256)[:8], "little")


def signatures(token_hashes: np.ndarray, starts: np.ndarray, counts: np.ndarray,
               params: MinHashParams = MinHashParams(), key: bytes | None = None) -> np.ndarray:
    """One signature row (num_perm uint32) per document of a flat token-hash array; rows of documents with
    fewer than MIN_SHINGLES shingles are all zero (no signature)."""
    from rensa import RMinHash

    th = np.ascontiguousarray(token_hashes, dtype=np.uint64)
    k = params.shingle
    grams = kgram_hashes(th, k)
    n_grams = np.maximum(counts.astype(np.int64) - k + 1, 0)
    # the shingles of document i are the grams starting in its first n_grams[i] tokens: the grams starting in
    # each document's last k-1 tokens cross into the next one and are cut out (one pass, not a mask)
    ends = starts.astype(np.int64) + counts.astype(np.int64)
    cut = ends[:, None] - np.arange(1, k, dtype=np.int64)[None, :]
    cut = cut[(cut >= starts.astype(np.int64)[:, None]) & (cut < len(grams))]
    flat = np.ascontiguousarray(np.delete(grams, cut))
    offsets = np.concatenate([[0], np.cumsum(n_grams)]).astype(np.uint64)
    out = np.zeros((len(counts), params.num_perm), np.uint32)
    if len(flat):
        m = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, params.num_perm, seed_for(key))
        out[:] = np.asarray(m.to_rows(), dtype=np.uint32)
    out[n_grams < MIN_SHINGLES] = 0
    return out


def signature(token_hashes: np.ndarray, params: MinHashParams = MinHashParams(), key: bytes | None = None
              ) -> np.ndarray:
    return signatures(token_hashes, np.array([0]), np.array([len(token_hashes)]), params, key)[0]


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def has_signature(sig: np.ndarray) -> bool:
    return bool(sig.any())


class NearDuplicateIndex:
    """datasketch's MinHashLSH (banding) over one source's signatures; candidates are checked on the
    signatures and kept at or above the threshold."""

    def __init__(self, params: MinHashParams = MinHashParams()) -> None:
        from datasketch import MinHashLSH

        self.params = params
        self.lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
        self.sigs: dict[int, np.ndarray] = {}

    def _lean(self, sig: np.ndarray):
        from datasketch import LeanMinHash

        # the LSH bands only the values; the scheme tag names the family (32-bit affine permutations, as
        # rensa's) and stops datasketch merging them with its own signatures
        return LeanMinHash(seed=self.params.seed, hashvalues=sig.astype(np.uint64), scheme="affine32")

    def add(self, doc: int, sig: np.ndarray) -> None:
        if has_signature(sig):
            self.sigs[doc] = sig
            self.lsh.insert(doc, self._lean(sig), check_duplication=False)

    def query(self, sig: np.ndarray) -> list[tuple[int, float]]:
        """(doc, estimated Jaccard) of the documents at or above the threshold, best first."""
        if not has_signature(sig) or not self.sigs:
            return []
        scored = [(int(d), jaccard_estimate(sig, self.sigs[d])) for d in self.lsh.query(self._lean(sig))]
        return sorted([s for s in scored if s[1] >= self.params.threshold], key=lambda s: (-s[1], s[0]))
