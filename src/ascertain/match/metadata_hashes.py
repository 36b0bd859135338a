"""A work's bytes or pixels against the hashes a metadata-only dataset keeps: SHA-256 (DataComp, img2dataset) and
the 64-bit pHash (COYO-700M's `image_phash`).

COYO-700M's `image_phash` is "the 64-bit standard pHash represented as a hexadecimal string" (its maintainers, in
the dataset repository's issue 14; its dataset card and README call it "the perceptual hash (pHash) of the image",
linking phash.org, with example values such as `e9e90c24f1d9c674`). The implementation is not named. Its layout is
measured (validation/coyo_phash.py, docs/validation.md): every value in COYO's documentation has its top bit set,
as imagehash's layout sets it for every real image (the DC term first, most significant: 433 of 433 images here),
while phash.org's C library (DC row and column skipped, coefficient 0 the least significant bit) sets it for 61 %
(265 of 433): all seven documented values so under phash.org's layout has a chance of about 3 %. So works are hashed
as `str(imagehash.phash(image))` prints it (imagehash 4.3.2, pinned): 16 lowercase hex digits of the 8 x 8
low-frequency DCT signs of a 32 x 32 grey image, row-major, most significant bit first. COYO's images were decoded
by Pillow ("all image formats that Pillow can decode"); how its pipeline treated transparency is not documented, so
an image with an alpha channel gets two targets: as Pillow decodes it (alpha dropped, imagehash's own conversion)
and flattened on white. Until a hash computed here is checked against a COYO row whose image the expert holds, a
pHash hit is a lead, and the report says so. The column may hold the hash as text (16 hex digits, any case, an
optional 0x) or as a 64-bit integer (signed or not: the same 64 bits). The Hamming threshold and its false-positive
rate are measured (`ascertain validate --image-metadata`).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PHASH_THRESHOLD = 2  # differing bits of 64 at most: chosen on openclipart, FPR measured (docs/validation.md)


def work_phashes(path: Path | BinaryIO) -> list[int]:
    """imagehash's pHash of an image file or its bytes, as unsigned 64-bit integers: the image as Pillow decodes it
    (what `imagehash.phash(Image.open(f))` gives), and for an image with transparency also flattened on white.
    Empty when the image cannot be read."""
    import imagehash
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            out = [int(str(imagehash.phash(im)), 16)]
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                flat = int(str(imagehash.phash(Image.alpha_composite(bg, rgba).convert("RGB"))), 16)
                if flat != out[0]:
                    out.append(flat)
            return out
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return []


def work_phash(path: Path | BinaryIO) -> int | None:
    """The pHash of the image as Pillow decodes it (work_phashes' first), or None when unreadable."""
    hashes = work_phashes(path)
    return hashes[0] if hashes else None


def parse_phash_column(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(row indices with a hash, the hashes as uint64): 16 hex digits (any case, optional 0x) or a 64-bit integer;
    other values are left out."""
    if pa.types.is_integer(col.type):
        ok = pc.is_valid(col).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(ok)
        vals = pc.filter(col, pc.is_valid(col)).to_numpy(zero_copy_only=False)
        return rows, vals.astype(np.int64).view(np.uint64) if vals.dtype.kind == "i" else vals.astype(np.uint64)
    s = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    s = pc.replace_substring_regex(s, "^0x", "")
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
