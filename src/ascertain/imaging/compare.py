"""Is this image a copy of that work, and in which tier? The image counterpart of match/compare.py.

Tiers, strongest first (each names the facts it rests on):
- `same_bytes`: the files are identical (sha256);
- `same_pixels`: the decoded pixels are identical (re-saved, metadata changed or stripped);
- `near_duplicate`: PDQ distance within PDQ_NEAR in some dihedral orientation (re-encoded, resized, recoloured,
  overlaid, flipped, rotated by a right angle);
- `region_copy`: local features geometrically verified (cropped, padded, slightly rotated, pasted into another
  image) and the pixels under the fitted map correlated with the work's: the region, its share of the work's
  area and the transformation are reported. When the features cannot fit a map (textureless clip art keeps too
  few corners after a crop or a rotation), the pixels themselves are aligned (regions.align_dense) from the
  frames a copy usually keeps, and the stricter DENSE_MIN_CORRELATION applies (the alignment maximises that
  correlation); `region.method` says which found the map;
- `not_copied`: none of these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ascertain.imaging.decode import decode
from ascertain.imaging.descriptors import DIHEDRAL, ImageDescriptors, describe, hamming, pdq_hex
from ascertain.imaging.regions import (
    MIN_INLIER_RATIO,
    MIN_INLIERS,
    align_dense,
    detail_agreement,
    pixel_agreement,
    verify,
)

PDQ_NEAR = 31  # of 256 bits: the threshold Meta publishes for PDQ matching; measured here (docs/validation.md)
MIN_CORRELATION = 0.5  # of the work's and the copy's pixels under the verified map (regions.pixel_agreement)
DENSE_MIN_CORRELATION = 0.8  # the same, under a map found by aligning the pixels (which maximised it)
MIN_DETAIL = 0.6  # share of the work's detailed blocks whose fine detail the copy repeats under the map
#                  (regions.detail_agreement). Tuning split: copies 0.7-1.0 but for overlays; two photographs of
#                  one scene (a stereo pair) 0.28-0.48, one author's two drawings of a figure 0.14-0.40
DENSE_MIN_DETAIL = 0.8  # the same under a dense alignment, which maximised the agreement (tuning split: copies
#                        aligned so 0.97-1.0 but for a colour wheel, 0.64; a centre crop of the other view of a
#                        stereo pair 0.73)
MIN_DETAIL_BLOCKS = 8  # detailed blocks below which the detail says too little: a feature fit is then decided
#                        by its pixel correlation alone, a dense alignment not at all
MIN_QUALITY = 50  # PDQ's own quality below this (flat, near-blank images) makes its distances unreliable


@dataclass
class ImageInput:
    name: str
    data: bytes
    descriptors: ImageDescriptors
    pixels: np.ndarray


def load(data: bytes, name: str) -> ImageInput:
    img = decode(data, name)
    return ImageInput(name, data, describe(img, data), img.pixels)


def pdq_distance(work: ImageDescriptors, copy: ImageDescriptors) -> tuple[int, str]:
    """Smallest distance between the work's hash and any dihedral variant of the copy, and which variant."""
    d = hamming(copy.pdq_dihedral, work.pdq)
    i = int(np.argmin(d))
    return int(d[i]), DIHEDRAL[i]


def compare_images(work: ImageInput, copy: ImageInput) -> dict:
    wd, cd = work.descriptors, copy.descriptors
    dist, orient = pdq_distance(wd, cd)
    facts = {"pdq_distance": dist, "pdq_orientation": orient, "pdq_threshold": PDQ_NEAR,
             "pdq_quality": [wd.pdq_quality, cd.pdq_quality], "work_sha256": wd.sha256, "copy_sha256": cd.sha256,
             "work_size": [wd.width, wd.height], "copy_size": [cd.width, cd.height],
             "min_inliers": MIN_INLIERS, "min_inlier_ratio": MIN_INLIER_RATIO}
    if wd.sha256 == cd.sha256:
        return {"decision": "copied", "tier": "same_bytes", "work_area_share": 1.0, **facts}
    if wd.pixel_sha256 == cd.pixel_sha256:
        return {"decision": "copied", "tier": "same_pixels", "work_area_share": 1.0, **facts}
    region = verify(wd, cd, copy.pixels)
    correlation = None
    if region is not None:
        # the pixels under the fitted map must agree too: chance fits of repetitive or textureless features
        # (outlined clip art, a shared frame) satisfy the geometry, not the pixels
        correlation = pixel_agreement(work.pixels, copy.pixels, region.affine)
        facts["pixel_correlation"] = None if correlation is None else round(correlation, 4)
        detail = detail_agreement(work.pixels, copy.pixels, region.affine) if correlation is not None else None
        facts["detail_share"] = None if detail is None else round(detail[0], 4)
        facts["detail_blocks"] = None if detail is None else detail[1]
    facts["min_pixel_correlation"] = MIN_CORRELATION
    facts["min_detail_share"] = MIN_DETAIL
    reliable = min(wd.pdq_quality, cd.pdq_quality) >= MIN_QUALITY
    if dist <= PDQ_NEAR and reliable:
        out = {"decision": "copied", "tier": "near_duplicate", "work_area_share": 1.0, **facts}
        if region:
            out["region"] = region.as_dict()
        return out
    # a copy repeats the work's fine detail where it holds it; two images of one design or scene agree in layout
    detail_ok = facts.get("detail_blocks") is None or facts["detail_blocks"] < MIN_DETAIL_BLOCKS or (
        facts["detail_share"] >= MIN_DETAIL)
    if region and correlation is not None and correlation >= MIN_CORRELATION and detail_ok:
        return {"decision": "copied", "tier": "region_copy", "work_area_share": region.work_area_share,
                "region": {**region.as_dict(), "method": "local features"}, **facts}
    dense = align_dense(wd, cd, work.pixels, copy.pixels)
    facts["min_dense_correlation"] = DENSE_MIN_CORRELATION
    facts["min_dense_detail"] = DENSE_MIN_DETAIL
    if dense is not None:
        aligned, start = dense
        dc = pixel_agreement(work.pixels, copy.pixels, aligned.affine)
        detail = detail_agreement(work.pixels, copy.pixels, aligned.affine) if dc is not None else None
        facts["dense_alignment"] = {"start": start, "pixel_correlation": None if dc is None else round(dc, 4),
                                    "detail_share": None if detail is None else round(detail[0], 4),
                                    "detail_blocks": None if detail is None else detail[1]}
        if (dc is not None and dc >= DENSE_MIN_CORRELATION and detail is not None
                and detail[0] >= DENSE_MIN_DETAIL and detail[1] >= MIN_DETAIL_BLOCKS):
            return {"decision": "copied", "tier": "region_copy", "work_area_share": aligned.work_area_share,
                    "region": {**aligned.as_dict(), "method": "dense alignment"}, **facts}
    return {"decision": "not_copied", "tier": None, "work_area_share": 0.0, **facts}


def summary(r: dict) -> str:
    """One line a person reads: the tier and the facts behind it."""
    if r["decision"] != "copied":
        why = "no verified region" if r.get("pixel_correlation") is None else (
            f"a region fits the features but its pixels correlate {r['pixel_correlation']:.2f} "
            f"(needs {r['min_pixel_correlation']})")
        if r.get("detail_share") is not None:
            why += (f" and its detail agrees in {r['detail_share']:.0%} of {r['detail_blocks']} blocks (needs "
                    f"{r['min_detail_share']:.0%})")
        dense = r.get("dense_alignment")
        if dense and dense["pixel_correlation"] is not None:
            why += (f"; aligned pixels correlate {dense['pixel_correlation']:.2f} (needs "
                    f"{r['min_dense_correlation']}), detail agrees in "
                    + ("no block" if dense["detail_share"] is None else f"{dense['detail_share']:.0%} of blocks")
                    + f" (needs {r['min_dense_detail']:.0%})")
        return f"not copied (PDQ distance {r['pdq_distance']} > {r['pdq_threshold']}; {why})"
    if r["tier"] in ("same_bytes", "same_pixels"):
        return "copied: " + ("identical file" if r["tier"] == "same_bytes" else "identical pixels, other file bytes")
    reg = r.get("region")
    parts = [f"copied ({r['tier'].replace('_', ' ')})", f"PDQ distance {r['pdq_distance']}"]
    if r["pdq_orientation"] != "original" and r["tier"] == "near_duplicate":
        parts.append(r["pdq_orientation"])
    if reg:
        x0, y0, x1, y1 = reg["work_region"]
        parts.append(f"{reg['work_area_share']:.0%} of the work's area (x {x0:.2f}–{x1:.2f}, y {y0:.2f}–{y1:.2f})")
        parts.append(f"scale {reg['scale']:.2f}, rotation {reg['rotation_degrees']:.1f}°"
                     + (", mirrored" if reg["mirrored"] else ""))
        if reg.get("method") == "dense alignment":
            d = r["dense_alignment"]
            parts.append(f"pixels aligned (near the frame '{d['start']}'), correlation {d['pixel_correlation']:.2f}, "
                         f"detail agreeing in {d['detail_share']:.0%} of {d['detail_blocks']} blocks")
        else:
            parts.append(f"{reg['inliers']} verified feature matches")
    return "; ".join(parts)


__all__ = ["ImageInput", "compare_images", "load", "pdq_hex", "summary"]


def compare_image_files(work_path: str, copy_path: str) -> dict:
    """Two image files compared: the tier and its facts, and the work's image CMI in the copy."""

    from ascertain.cmi.image import image_cmi_status, read_image_cmi
    from ascertain.errors import AscertainError
    from ascertain.readers.images import read_image_locator

    blobs = []
    for p in (work_path, copy_path):
        try:  # a file, or an archive member as image evidence names it (shard.tar!KEY.jpg)
            blobs.append(read_image_locator(p))
        except OSError as e:
            raise AscertainError(p, f"cannot be read ({e.strerror})", "check the path and its permissions") from None
    work, copy = load(blobs[0], work_path), load(blobs[1], copy_path)
    r = compare_images(work, copy)
    wc, cc = read_image_cmi(blobs[0]), read_image_cmi(blobs[1])
    r["cmi"] = {"work": wc, "copy": cc, **image_cmi_status(wc, cc)}
    r["summary"] = summary(r)
    r["original"], r["copy"] = work_path, copy_path
    return r
