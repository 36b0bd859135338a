"""Which images of a corpus could be copies of a work: the cheap, exhaustive stage before the full decision.

Deciding a pair (imaging/compare.py) costs tens of milliseconds; a work against a corpus of millions needs a
stage that looks at every image exactly and cheaply, and lets through every image the decision could call a
copy. Two exact scans, their union is the candidate set:

- **codes**: the PDQ code of every corpus image against the work's query-side variants — its 8 dihedral
  orientations, centre crops, crops of one side and paddings — within CANDIDATE_PDQ bits (looser than the
  decision's 31, so re-encoded and lightly changed copies are not lost here). Variants on the query side
  cost nothing per corpus image and find the copies whole-image hashes miss (a flip, a symmetric crop).
- **local features**: the work's QUERY_FEATURES strongest ORB features (and SMALL_FEATURES of the work reduced
  to SMALL_SCALE, as a paste shows it) against the corpus's feature table
  (CANDIDATE_FEATURES per image: half its strongest, half spread over a grid of cells, so a work pasted into a
  busy background keeps some of its features in the copy's row), each corpus image voted for by the work's
  features that have a descriptor within FEATURE_BITS bits in it, a feature found in many images weighing
  less (`feature_votes`, the one rule of the case's match, the public lookup and the validation); MIN_VOTES
  make a candidate. This catches what no whole-image code can: a small crop, a rotation, a work pasted into
  a larger image.

Both are exact Hamming scans (imaging/code_scan.py): no image is skipped by an approximation, so the stage's
losses are measured (docs/validation.md, images), not sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ascertain.imaging.code_scan import Hits, scan_codes
from ascertain.imaging.descriptors import DIHEDRAL, ImageDescriptors, pack_bits

CANDIDATE_PDQ = 40  # bits: the decision's 31 plus room for a variant that is close but not exact
FEATURE_BITS = 28  # tuning split: the same point after re-encoding/rescaling (24 lost more pastes and flips);
#                   clip art's corners are alike across images, which the vote's rarity weights answer
CANDIDATE_FEATURES = 100  # features per image in the feature table (spread_features)
QUERY_FEATURES = 300  # strongest features per work as queries (strongest_features): the work is one image, so
#                       more of its features cost only scan time (3x the scan of 100), nothing in the table
SMALL_SCALE = 0.6  # the work also reduced to this, as a paste at 40-60 % of a copy's area shows it
SMALL_FEATURES = 75  # its strongest features there, added to the queries
MIN_VOTES = 6.0  # distinct work features with a near descriptor in the image, weighted by rarity (feature_votes)
DF_FLOOR = 32.0  # a query feature found in up to max(DF_FLOOR, DF_SHARE x images) images votes 1
DF_SHARE = 0.01  # (tuning split: a work's own features are in its ~22 copies; outline corners in hundreds)
GRID = 4  # cells per side for the corpus side's features (spread_features)
STRONGEST_SHARE = 0.5  # of the table's features taken strongest first before the spread
EDGE = 0.10  # features within this share of the width or height from an edge are taken last
CROPS = (0.05, 0.10, 0.15, 0.20)  # centre crops per side
SIDE_CROP = 0.25  # one side cut by this share
PADS = (0.10, 0.20)  # padding per side, white and black


@dataclass
class QueryVariants:
    codes: np.ndarray  # V x 32 uint8
    labels: list[str]
    pixels: np.ndarray | None = field(default=None, repr=False)  # the work's (its reduced features' source)


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
    return QueryVariants(np.concatenate(codes), labels, px)


def strongest_features(d: ImageDescriptors, k: int = CANDIDATE_FEATURES) -> np.ndarray:
    """k of an image's ORB descriptors, strongest first, those clear of the image's edges before the rest.

    The edges are where copies differ most from their work: a rotated copy's fill corners, a pad's border, a
    crop's cut make the strongest corners of the copy (tuning split: rotations of ±5° lost as candidates fell
    from 21 of 164 to 3 with the same k, and fewer distinct images passed the vote)."""
    return d.features[_edge_last(d)[:k]]


def _edge_last(d: ImageDescriptors) -> np.ndarray:
    """Feature indices, strongest first, those within EDGE of an edge after the rest."""
    n = len(d.features)
    if not len(d.keypoints):
        return np.arange(n)
    x, y = _relative(d)
    inner = (x >= EDGE) & (x <= 1 - EDGE) & (y >= EDGE) & (y <= 1 - EDGE)
    return np.concatenate([np.flatnonzero(inner), np.flatnonzero(~inner)])  # each part keeps strongest first


def _relative(d: ImageDescriptors) -> tuple[np.ndarray, np.ndarray]:
    h, w = d.shape[0] * d.feature_scale, d.shape[1] * d.feature_scale
    return d.keypoints[:, 0] / max(w, 1.0), d.keypoints[:, 1] / max(h, 1.0)


def spread_features(d: ImageDescriptors, k: int = CANDIDATE_FEATURES, grid: int = GRID) -> np.ndarray:
    """k of an image's ORB descriptors spread over a grid x grid of cells: the strongest of every cell, then the
    second of every cell, and so on (within a round, strongest first; edge features after the rest, as in
    `strongest_features`). The corpus side of the vote: a work pasted into a busy background keeps the cells it
    covers, where the strongest 100 of the whole image would all sit on the background."""
    order = _edge_last(d)
    if not len(d.keypoints) or grid <= 1:
        return d.features[order[:k]]
    first = round(k * STRONGEST_SHARE)
    head, rest = order[:first], order[first:]
    x, y = _relative(d)
    cell = (np.clip((y * grid).astype(np.int64), 0, grid - 1) * grid
            + np.clip((x * grid).astype(np.int64), 0, grid - 1))[rest]
    rank = np.zeros(len(rest), np.int64)  # the feature's place among its cell's features (in `order`)
    seen: dict[int, int] = {}
    for i, c in enumerate(cell.tolist()):
        rank[i] = seen.get(c, 0)
        seen[c] = rank[i] + 1
    pick = np.lexsort((np.arange(len(rest)), rank))[:k - len(head)]  # round by round, each round in `order`
    return d.features[np.concatenate([head, rest[pick]])]


def table_features(d: ImageDescriptors) -> np.ndarray:
    """The features an image puts in the corpus's feature table (the candidate index, `corpus add
    --local-features`)."""
    return spread_features(d, CANDIDATE_FEATURES, GRID)


def query_features(d: ImageDescriptors, pixels: np.ndarray | None = None) -> np.ndarray:
    """The features a work scans the feature table with: its QUERY_FEATURES strongest and, given its pixels, the
    SMALL_FEATURES strongest of the work reduced to SMALL_SCALE (a work pasted into a larger image is smaller in
    the copy's feature image, where clip art's smooth outlines give other corners than at full size)."""
    feats = strongest_features(d, QUERY_FEATURES)
    if pixels is None or not SMALL_FEATURES:
        return feats
    from ascertain.imaging.descriptors import feature_gray, local_features

    _, small = local_features(feature_gray(pixels, d.feature_scale * SMALL_SCALE))
    return np.concatenate([feats, small[:SMALL_FEATURES]])


@dataclass
class CandidateIndex:
    """The corpus side: one PDQ code per image and a table of each image's strongest local features."""

    codes: np.ndarray  # N x 32 uint8
    feature_codes: np.ndarray  # M x 32 uint8
    feature_owner: np.ndarray  # M int64: the image each feature belongs to
    size: int = field(default=0)

    @classmethod
    def build(cls, images: list[ImageDescriptors]) -> CandidateIndex:
        codes = np.stack([d.pdq for d in images]) if images else np.zeros((0, 32), np.uint8)
        feats = [table_features(d) for d in images]
        owner = np.concatenate([np.full(len(f), i, np.int64) for i, f in enumerate(feats)]) if feats else \
            np.zeros(0, np.int64)
        fc = np.concatenate(feats) if feats else np.zeros((0, 32), np.uint8)
        return cls(codes, np.ascontiguousarray(fc), owner, len(images))


@dataclass
class Candidate:
    image: int  # index into the corpus
    pdq_distance: int | None  # closest query variant, if within CANDIDATE_PDQ
    pdq_variant: str | None
    feature_votes: float


def candidates(index: CandidateIndex, work: ImageDescriptors, variants: QueryVariants) -> list[Candidate]:
    """Every corpus image passing either exact scan, in corpus order."""
    by_code: dict[int, tuple[int, str]] = {}
    if index.size:
        hits = scan_codes(index.codes, variants.codes, CANDIDATE_PDQ).best_per_id()
        for q, i, d in zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), strict=True):
            by_code[i] = (d, variants.labels[q])
    votes = {}
    if len(index.feature_codes):
        q = query_features(work, variants.pixels)
        hits = scan_codes(index.feature_codes, q, FEATURE_BITS, ids=index.feature_owner)
        votes = {img: n for (img, _), n in feature_votes(hits, np.zeros(len(q), np.int64), index.size).items()}
    out = []
    for i in sorted(set(by_code) | set(votes)):
        d, label = by_code.get(i, (None, None))
        out.append(Candidate(i, d, label, votes.get(i, 0)))
    return out


def vote_parameters() -> dict:
    """What the feature vote depends on, for manifests."""
    return {"query_features": QUERY_FEATURES, "small_scale": SMALL_SCALE, "small_features": SMALL_FEATURES,
            "table_features": CANDIDATE_FEATURES,
            "table_selection": {"strongest_share": STRONGEST_SHARE, "grid": GRID, "edge": EDGE},
            "feature_bits": FEATURE_BITS, "min_votes": MIN_VOTES, "df_floor": DF_FLOOR, "df_share": DF_SHARE}


def feature_votes(hits: Hits, query_work: np.ndarray, images: int) -> dict[tuple[int, int], float]:
    """The feature vote, the one rule of the case's match (match/images.py), the public lookup and the
    validation: for each (image, work), the work's query features that have a descriptor within FEATURE_BITS in
    the image's table row, each counted once and weighted by how rare it is, where the sum reaches MIN_VOTES.

    A query feature found in df images of the `images` scanned weighs min(1, common / df), common being
    max(DF_FLOOR, DF_SHARE x images): the corners of black outlines on white are near descriptors in hundreds of
    drawings and each of them would otherwise vote as much as a feature found only in the work's copies. The
    floor keeps a work's own features whole while its copies are few; the share keeps a work copied thousands of
    times in a corpus of billions whole too. `hits` come from an exact scan of the feature table (their ids are
    the images) with every work's query features at once; `query_work[q]` is the work of query q."""
    if not len(hits):
        return {}
    q = hits.query.astype(np.int64)
    pair = np.unique(np.stack([q, hits.id.astype(np.int64)], axis=1), axis=0)  # one vote per feature and image
    df = np.bincount(pair[:, 0], minlength=len(query_work))
    common = max(DF_FLOOR, DF_SHARE * images)
    weight = np.minimum(1.0, common / np.maximum(df, 1))[pair[:, 0]]
    work = np.asarray(query_work, np.int64)[pair[:, 0]]
    keys, at = np.unique(np.stack([pair[:, 1], work], axis=1), axis=0, return_inverse=True)
    sums = np.bincount(at.reshape(-1), weights=weight, minlength=len(keys))
    sums = np.round(sums, 6)  # the same sum whatever the order it was added in
    return {(int(i), int(w)): float(v) for (i, w), v in zip(keys.tolist(), sums.tolist(), strict=True)
            if v >= MIN_VOTES}
