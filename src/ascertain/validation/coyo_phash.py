"""Which 64-bit pHash convention COYO-700M's `image_phash` column follows, measured.

COYO documents the column as "the perceptual hash (pHash) of the image" (dataset card and repository README, linking
phash.org) and its maintainers as "the 64-bit standard pHash represented as a hexadecimal string" (the repository's
issue 14, e.g. "bac58374982e0fc7"). Two conventions give 64 DCT-sign bits in 16 hex digits:
- imagehash (`str(imagehash.phash(img))`): a 32 x 32 grey image, its 2-D DCT-II, the 8 x 8 lowest frequencies *with*
  the DC term, each bit "above the median", row-major, the first coefficient (DC) the most significant bit;
- phash.org's C library (`ph_dct_imagehash`): the luma blurred by a 7 x 7 box, 32 x 32, the 8 x 8 block that
  *skips* the DC row and column, coefficient i the i-th *least* significant bit.
Under the first, the top bit is the DC term's, which is above the median for every image that is not black; under
the second it is the (8, 8) coefficient's, set for about half of images. All seven values COYO's documentation shows
(six README rows, the card's example, the issue's) have the top bit set: the chance of that under phash.org's
layout is 2^-7 = 0.8 %. This module measures the top-bit rate of both conventions on real images, so the
argument rests on figures (docs/validation.md: `python3 -m ascertain.validation.coyo_phash`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# every image_phash value in COYO-700M's documentation (README preview rows, the dataset card, issue 14)
DOCUMENTED = ("e9e90c24f1d9c674", "bac58374982e0fc7", "8374726575bc0f8a", "949d1fe559e2cc90", "e5ea35075ab912c6",
              "d0693e966993ce61", "c9b6a7d8469c1959")


def _dct_matrix(n: int = 32) -> np.ndarray:
    k = np.arange(n)[:, None]
    c = np.sqrt(2.0 / n) * np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n))
    c[0, :] = 1.0 / np.sqrt(n)
    return c


def phash_org_layout(rgb: np.ndarray) -> int:
    """64 bits in phash.org's layout (ph_dct_imagehash as its source describes it): luma, 7 x 7 box blur, nearest
    32 x 32, orthonormal DCT, coefficients (1..8, 1..8) above their median, coefficient i as bit i."""
    a = rgb.astype(np.float64)
    y = (66 * a[..., 0] + 129 * a[..., 1] + 25 * a[..., 2] + 128) / 256 + 16
    p = np.pad(y, 3, mode="edge")
    s = np.cumsum(np.cumsum(p, 0), 1)
    s = np.pad(s, ((1, 0), (1, 0)))
    box = s[7:, 7:] - s[:-7, 7:] - s[7:, :-7] + s[:-7, :-7]
    h, w = box.shape
    small = box[(np.arange(32) * h // 32)][:, (np.arange(32) * w // 32)]
    c = _dct_matrix()
    sub = (c @ small @ c.T)[1:9, 1:9].ravel()
    med = np.median(sub)
    return int(sum(1 << i for i in range(64) if sub[i] > med))


def top_bit_rates(paths: list[Path]) -> dict:
    """Share of images whose top bit is set, per convention, over the readable images among `paths`."""
    from PIL import Image

    from ascertain.match.metadata_hashes import work_phash

    n = k_ih = k_org = 0
    for p in paths:
        h = work_phash(p)
        if h is None:
            continue
        with Image.open(p) as im:
            rgb = np.asarray(im.convert("RGB"))
        n += 1
        k_ih += h >> 63
        k_org += phash_org_layout(rgb) >> 63
    return {"images": n, "imagehash_top_bit": k_ih, "phash_org_top_bit": k_org,
            "documented_top_bit": sum(int(v, 16) >> 63 for v in DOCUMENTED), "documented": len(DOCUMENTED)}


def main() -> None:
    from ascertain.validation.images import OPENCLIPART, skimage_folder

    paths = sorted(p for p in (skimage_folder() or Path("/nonexistent")).glob("*") if p.suffix in (".png", ".jpg"))
    if OPENCLIPART.is_dir():
        paths += sorted(OPENCLIPART.rglob("*.png"))[:: max(1, len(list(OPENCLIPART.rglob("*.png"))) // 400)]
    r = top_bit_rates(paths)
    print(f"{r['images']} real images (scikit-image's bundled images and every n-th openclipart PNG): top bit set "
          f"in {r['imagehash_top_bit']} under imagehash's layout, {r['phash_org_top_bit']} under phash.org's; "
          f"COYO's documented values: {r['documented_top_bit']} of {r['documented']}")


if __name__ == "__main__":
    sys.exit(main())
