"""A work's bytes or pixels against the hashes a metadata-only dataset keeps: SHA-256 (DataComp, img2dataset) and
the 64-bit pHash (COYO-700M's `image_phash`).

COYO-700M's `image_phash` is "the 64-bit standard pHash represented as a hexadecimal string" (its maintainers, in
the dataset repository's issue 14; the README's example rows: `e9e90c24f1d9c674`). The library is not named there;
its form is exactly what `str(imagehash.phash(image))` prints (16 hex digits, the 8 x 8 low-frequency DCT signs of a
32 x 32 grey image, row-major, most significant bit first), so works are hashed with imagehash 4.3.2 (pinned). A
different pHash implementation (phash.org's C library) gives different bits for the same image; until a hash
computed here is checked against a COYO row whose image the expert holds, a pHash hit is a lead, and the report
says so. The Hamming threshold and its false-positive rate are measured (`ascertain validate --image-metadata`).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PHASH_THRESHOLD = 2  # differing bits of 64 at most: chosen on openclipart, FPR measured (docs/validation.md)


def work_phash(path: Path | BinaryIO) -> int | None:
    """imagehash's pHash of an image file or its bytes (transparency flattened on white), as an unsigned 64-bit
    integer."""
    import imagehash
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, rgba).convert("RGB")
            return int(str(imagehash.phash(im)), 16)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def parse_phash_column(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(row indices with a 16-hex-digit hash, the hashes as uint64); other values are left out."""
    s = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    ok = pc.and_(pc.equal(pc.utf8_length(s), 16), pc.match_substring_regex(s, "^[0-9a-f]{16}$"))
    ok = pc.fill_null(ok, False)
    rows = np.flatnonzero(ok.to_numpy(zero_copy_only=False))
    if not len(rows):
        return rows, np.zeros(0, np.uint64)
    vals = pc.filter(s, ok).to_pylist()
    hashes = np.frombuffer(bytes.fromhex("".join(vals)), dtype=">u8").astype(np.uint64)
    return rows, hashes


def phash_hits(hashes: np.ndarray, targets: np.ndarray, threshold: int = PHASH_THRESHOLD
               ) -> list[tuple[int, int, int]]:
    """(index into hashes, index into targets, differing bits) for every pair within the threshold."""
    out = []
    for t, target in enumerate(targets):
        d = np.bitwise_count(hashes ^ target)
        for i in np.flatnonzero(d <= threshold):
            out.append((int(i), t, int(d[i])))
    return sorted(out)


def sha256_hits(col: pa.Array, targets: dict[str, list[int]]) -> list[tuple[int, str]]:
    """(row, sha256) for every row whose SHA-256 is a work's."""
    if not targets:
        return []
    s = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    mask = pc.fill_null(pc.is_in(s, value_set=pa.array(sorted(targets), pa.string())), False)
    rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    vals = pc.take(s, pa.array(rows, pa.int64())).to_pylist() if len(rows) else []
    return list(zip(rows.tolist(), vals, strict=True))
