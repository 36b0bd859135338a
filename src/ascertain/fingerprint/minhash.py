"""Whole-document MinHash signatures (rensa) and LSH (datasketch): the supplementary near-duplicate signal.

Containment of a work's spans in a document is the primary measure. A near-duplicate whose runs were all
broken by scattered edits keeps few long runs, but still shares most of its fingerprints with the work.
A document's signature is the MinHash of its set of winnowed fingerprints: winnowing picks the same
fingerprints wherever two texts agree for w + k - 1 tokens, so the Jaccard of the fingerprint sets tracks
the Jaccard of the k-gram sets, at a seventh of the input (indexing pays about 5 % more, not 20 % as with
every 5-gram). Fingerprints of a keyed index are keyed already, so its signatures reveal nothing more.
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
                "lsh": f"datasketch {version('datasketch')} MinHashLSH", "num_perm": self.num_perm, "seed": self.seed,
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
