"""Which images of a corpus could be copies of a work: the cheap, exhaustive stage before the full decision.

Deciding a pair (imaging/compare.py) costs tens of milliseconds; a work against a corpus of millions needs a
stage that looks at every image exactly and cheaply, and lets through every image the decision could call a
copy. Two exact scans, their union is the candidate set:

- **codes**: the PDQ code of every corpus image against the work's query-side variants — its 8 dihedral
  orientations, centre crops, crops of one side and paddings — within CANDIDATE_PDQ bits (looser than the
  decision's 31, so re-encoded and lightly changed copies are not lost here). Variants on the query side
  cost nothing per corpus image and find the copies whole-image hashes miss (a flip, a symmetric crop).
- **local features**: the work's strongest ORB features against the corpus's feature table, each corpus
  image voted for by the work's features that have a descriptor within FEATURE_BITS bits in it; MIN_VOTES or
  more make a candidate. This catches what no whole-image code can: a small crop, a rotation, a work pasted
  into a larger image.

Both are exact Hamming scans (imaging/code_scan.py): no image is skipped by an approximation, so the stage's
losses are measured (docs/validation.md, images), not sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ascertain.imaging.code_scan import Hits, scan_codes
from ascertain.imaging.descriptors import DIHEDRAL, ImageDescriptors, pack_bits

CANDIDATE_PDQ = 40  # bits: the decision's 31 plus room for a variant that is close but not exact
FEATURE_BITS = 24  # tuning split: the same point after re-encoding/rescaling; clip art's corners are alike
#                   across images, so a looser bound mostly adds distinct images (40 bits: ~350 a work of 1,638)
CANDIDATE_FEATURES = 100  # strongest features per image in the feature table (and per work as queries)
MIN_VOTES = 6  # distinct work features with a near descriptor in the image
EDGE = 0.10  # features within this share of the width or height from an edge are taken last
CROPS = (0.05, 0.10, 0.15, 0.20)  # centre crops per side
SIDE_CROP = 0.25  # one side cut by this share
PADS = (0.10, 0.20)  # padding per side, white and black


@dataclass
class QueryVariants:
    codes: np.ndarray  # V x 32 uint8
    labels: list[str]


def query_variants(pixels: np.ndarray, dihedral: np.ndarray | None = None) -> QueryVariants:
    """PDQ codes of the work as a copy may show it: 8 orientations, centre and side crops, paddings."""
    import pdqhash

    px = np.ascontiguousarray(pixels)
    if dihedral is None:
        dihedral = pack_bits(np.stack(pdqhash.compute_dihedral(px)[0]))
    codes, labels = [dihedral], list(DIHEDRAL)
    h, w = px.shape[:2]
    views: list[tuple[str, np.ndarray]] = []
    for p in CROPS:
        dy, dx = round(h * p), round(w * p)
        if h - 2 * dy >= 16 and w - 2 * dx >= 16:
            views.append((f"centre crop {p:.0%} per side", px[dy:h - dy, dx:w - dx]))
    dy, dx = round(h * SIDE_CROP), round(w * SIDE_CROP)
    views += [("left cut", px[:, dx:]), ("right cut", px[:, :w - dx]), ("top cut", px[dy:]),
              ("bottom cut", px[:h - dy])]
    for p in PADS:
        dy, dx = round(h * p), round(w * p)
        for name, v in (("white", 255), ("black", 0)):
            views.append((f"padded {p:.0%} {name}", np.pad(px, ((dy, dy), (dx, dx), (0, 0)), constant_values=v)))
    for label, v in views:
        code, _ = pdqhash.compute(np.ascontiguousarray(v))
        codes.append(pack_bits(code))
        labels.append(label)
    return QueryVariants(np.concatenate(codes), labels)


def strongest_features(d: ImageDescriptors, k: int = CANDIDATE_FEATURES) -> np.ndarray:
    """k of an image's ORB descriptors, strongest first, those clear of the image's edges before the rest.

    The edges are where copies differ most from their work: a rotated copy's fill corners, a pad's border, a
    crop's cut make the strongest corners of the copy (tuning split: rotations of ±5° lost as candidates fell
    from 21 of 164 to 3 with the same k, and fewer distinct images passed the vote)."""
    if not len(d.keypoints):
        return d.features[:k]
    h, w = d.shape[0] * d.feature_scale, d.shape[1] * d.feature_scale
    x, y = d.keypoints[:, 0] / max(w, 1.0), d.keypoints[:, 1] / max(h, 1.0)
    inner = (x >= EDGE) & (x <= 1 - EDGE) & (y >= EDGE) & (y <= 1 - EDGE)
    order = np.concatenate([np.flatnonzero(inner), np.flatnonzero(~inner)])  # each part keeps strongest first
    return d.features[order[:k]]


@dataclass
class CandidateIndex:
    """The corpus side: one PDQ code per image and a table of each image's strongest local features."""

    codes: np.ndarray  # N x 32 uint8
    feature_codes: np.ndarray  # M x 32 uint8
    feature_owner: np.ndarray  # M int64: the image each feature belongs to
    size: int = field(default=0)

    @classmethod
    def build(cls, images: list[ImageDescriptors], k: int = CANDIDATE_FEATURES) -> CandidateIndex:
        codes = np.stack([d.pdq for d in images]) if images else np.zeros((0, 32), np.uint8)
        feats = [strongest_features(d, k) for d in images]
        owner = np.concatenate([np.full(len(f), i, np.int64) for i, f in enumerate(feats)]) if feats else \
            np.zeros(0, np.int64)
        fc = np.concatenate(feats) if feats else np.zeros((0, 32), np.uint8)
        return cls(codes, np.ascontiguousarray(fc), owner, len(images))


@dataclass
class Candidate:
    image: int  # index into the corpus
    pdq_distance: int | None  # closest query variant, if within CANDIDATE_PDQ
    pdq_variant: str | None
    feature_votes: int


def candidates(index: CandidateIndex, work: ImageDescriptors, variants: QueryVariants) -> list[Candidate]:
    """Every corpus image passing either exact scan, in corpus order."""
    by_code: dict[int, tuple[int, str]] = {}
    if index.size:
        hits = scan_codes(index.codes, variants.codes, CANDIDATE_PDQ).best_per_id()
        for q, i, d in zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), strict=True):
            by_code[i] = (d, variants.labels[q])
    votes = feature_votes(index, strongest_features(work))
    out = []
    for i in sorted(set(by_code) | {i for i, v in votes.items() if v >= MIN_VOTES}):
        d, label = by_code.get(i, (None, None))
        out.append(Candidate(i, d, label, votes.get(i, 0)))
    return out


def feature_votes(index: CandidateIndex, queries: np.ndarray) -> dict[int, int]:
    """For each corpus image, how many of the query features have a descriptor within FEATURE_BITS in it."""
    if not len(queries) or not len(index.feature_codes):
        return {}
    hits: Hits = scan_codes(index.feature_codes, queries, FEATURE_BITS)
    if not len(hits):
        return {}
    owners = index.feature_owner[hits.id]
    pairs = np.unique(np.stack([owners, hits.query.astype(np.int64)], axis=1), axis=0)  # one vote per feature
    imgs, counts = np.unique(pairs[:, 0], return_counts=True)
    return dict(zip(imgs.tolist(), counts.tolist(), strict=True))
