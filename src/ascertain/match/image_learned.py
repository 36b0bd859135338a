"""The learned-descriptor tier of the image match (`ascertain match --learned-model PATH`; imaging/learned.py).

Off unless the user gives a model file. When on, every image work and every distinct image of each image source
is embedded (decoded as for the other tiers, then reduced to the model's input side), and:
- candidate: a pair whose cosine reaches the threshold is verified like every other candidate (its reason says
  the cosine), so a copy the PDQ scan misses in a large corpus still reaches geometric verification;
- decision: a pair that the hash and geometric tiers do not call a copy but whose cosine reaches the threshold
  is recorded as tier `learned` (no region located: the descriptor says "similar", not where). Every decided
  pair records its cosine in the evidence's facts, and the run's manifest pins the model (SHA-256, format, input
  side, normalization, threshold), so the result can be reproduced with the same file.
A learned descriptor's error rates are the model's: the threshold is the user's, and the report names the tier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ascertain.errors import AscertainError
from ascertain.imaging.decode import decode
from ascertain.index.images import iter_index
from ascertain.readers.images import read_image_at

TIER = "learned"
EMBED_BATCH = 32


def embed_pixels(learned, images: list[np.ndarray]) -> np.ndarray:
    return learned.embed(images) if images else np.zeros((0, 1), np.float32)


def _contents(index_dir: Path, manifest: dict) -> Iterator[tuple[int, np.ndarray | None]]:
    """(content, its decoded pixels or None when unreadable) for each distinct image of the source."""
    for batch in iter_index(index_dir, manifest, ["doc", "locator", "sha256", "meta", "content"]):
        for r in batch.to_pylist():
            if r["doc"] != r["content"]:
                continue
            data = read_image_at(json.loads(r["meta"]), r["locator"], r["sha256"])
            if data is None:
                yield int(r["content"]), None
                continue
            try:
                yield int(r["content"]), decode(data, r["locator"]).pixels
            except AscertainError:
                yield int(r["content"]), None


def similar_pairs(learned, work_emb: np.ndarray, index_dir: Path, manifest: dict
                  ) -> tuple[dict[tuple[int, int], float], int]:
    """((content, work index) -> cosine for every pair at or above the threshold, contents embedded)."""
    out: dict[tuple[int, int], float] = {}
    ids: list[int] = []
    pix: list[np.ndarray] = []
    n = 0

    def flush() -> None:
        nonlocal n
        if not ids:
            return
        cos = embed_pixels(learned, pix) @ work_emb.T  # contents x works
        for i, j in zip(*np.nonzero(cos >= learned.threshold), strict=True):
            out[(ids[int(i)], int(j))] = round(float(cos[i, j]), 6)
        n += len(ids)
        ids.clear()
        pix.clear()

    for content, pixels in _contents(index_dir, manifest):
        if pixels is None:
            continue
        ids.append(content)
        pix.append(pixels)
        if len(ids) >= EMBED_BATCH:
            flush()
    flush()
    return out, n


def pair_cosine(learned, work_vec: np.ndarray, copy_pixels: np.ndarray) -> float:
    return round(float(np.clip(embed_pixels(learned, [copy_pixels])[0] @ work_vec, -1, 1)), 6)


def learned_record(learned, cosine: float) -> dict:
    """What the evidence's facts hold about the tier for one pair."""
    return {"cosine": cosine, "threshold": learned.threshold, "similar": cosine >= learned.threshold,
            "model_sha256": learned.sha256}
