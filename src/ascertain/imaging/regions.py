"""Geometric verification: which region of the work appears where in the copy, under which transformation.

Local features of the two images are matched (Hamming distance, Lowe's ratio test, cross-checked), and a
similarity transform (scale, rotation, translation; a mirrored copy is tried as well) is fitted by RANSAC. The
inliers are the image analogue of verified text spans: the transformation maps the work's frame into the copy,
so the copied region, its share of the work's area and the crop are read off it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ascertain.imaging.descriptors import DENSE_FEATURES, ImageDescriptors, feature_gray, local_features

RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
RANSAC_PX = 6.0  # reprojection tolerance, in feature pixels (longer side FEATURE_SIDE)
MIN_INLIERS = 12  # tuning split: 12-15 inliers hold rotated, overlaid and pasted copies; chance fits below 16 are
#                  rejected by the pixel check (compare.MIN_CORRELATION), not by the count (docs/validation.md)
MIN_INLIER_RATIO = 0.25


@dataclass
class RegionMatch:
    inliers: int
    matches: int
    scale: float  # copy size / work size
    rotation: float  # degrees, counter-clockwise
    mirrored: bool
    work_region: tuple[float, float, float, float]  # x0, y0, x1, y1 as shares of the work's width and height
    copy_region: tuple[float, float, float, float]  # the same region in the copy, as shares of its size
    work_area_share: float  # share of the work's area that is inside the copy's frame
    # 2 x 3: work pixels (decoded) -> copy pixels (decoded), mirroring included; what an exhibit draws with
    affine: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        out = {"inliers": self.inliers, "matches": self.matches, "scale": round(self.scale, 4),
               "rotation_degrees": round(self.rotation, 2) + 0.0, "mirrored": self.mirrored,
               "work_region": [round(v, 4) for v in self.work_region],
               "copy_region": [round(v, 4) for v in self.copy_region],
               "work_area_share": round(self.work_area_share, 4)}
        if self.affine is not None:  # stored with the evidence: exhibits and the visible-CMI check draw with it
            out["affine"] = affine_list(self.affine)
        return out


def affine_list(a: np.ndarray) -> list[list[float]]:
    """A 2 x 3 map as JSON holds it: rounded so the same fit gives the same bytes (1e-6 of a pixel per pixel)."""
    return [[round(float(v), 6) + 0.0 for v in row] for row in np.asarray(a, np.float64)[:2]]


def affine_array(v: list | None) -> np.ndarray | None:
    """The stored 2 x 3 map back as an array; None when the evidence predates it or it is malformed."""
    if v is None:
        return None
    a = np.asarray(v, np.float64)
    return a if a.shape == (2, 3) and np.isfinite(a).all() else None


def _good_matches(fa: np.ndarray, fb: np.ndarray) -> list[tuple[int, int]]:
    """Matches that pass Lowe's ratio test, each feature of the copy used once (RANSAC removes the rest)."""
    import cv2

    if len(fa) < 2 or len(fb) < 2:
        return []
    good, used = [], set()
    for pair in cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(fa, fb, k=2):
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance and pair[0].trainIdx not in used:
            used.add(pair[0].trainIdx)
            good.append((pair[0].queryIdx, pair[0].trainIdx))
    return good


def _fit(ka: np.ndarray, kb: np.ndarray, good: list[tuple[int, int]]) -> tuple[np.ndarray, int] | None:
    import cv2

    if len(good) < MIN_INLIERS:
        return None
    src = np.float32([ka[i] for i, _ in good])
    dst = np.float32([kb[j] for _, j in good])
    cv2.setRNGSeed(12345)  # RANSAC's draws: the same pair gives the same transform, run after run
    m, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                          maxIters=4000, confidence=0.999, refineIters=10)
    if m is None or mask is None:
        return None
    return m, int(mask.sum())


def _frame(shape: tuple[int, int], scale: float) -> np.ndarray:
    h, w = shape
    return np.float32([[0, 0], [w * scale, 0], [w * scale, h * scale], [0, h * scale]])


def _clip_share(poly: np.ndarray, w: float, h: float) -> tuple[tuple[float, float, float, float], float]:
    """Bounding box of a polygon inside a w x h frame (as shares) and the share of the frame it covers."""
    import cv2

    frame = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    area, inter = cv2.intersectConvexConvex(np.float32(poly), frame)
    if inter is None or area <= 0:
        return (0.0, 0.0, 0.0, 0.0), 0.0
    pts = inter.reshape(-1, 2)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return (float(x0 / w), float(y0 / h), float(x1 / w), float(y1 / h)), float(area / (w * h))


def verify(work: ImageDescriptors, copy: ImageDescriptors, copy_pixels: np.ndarray | None = None
           ) -> RegionMatch | None:
    """The verified region of `work` in `copy`, or None. With `copy_pixels` (RGB), two more looks when the
    stored features do not verify: denser features of the copy (text or a busy background around a pasted
    work takes ORB's budget), then the copy mirrored."""
    best = _verify_oriented(work, copy.keypoints, copy.features, copy, mirrored=False)
    if best is None and copy_pixels is not None:
        gray = feature_gray(copy_pixels, copy.feature_scale)
        kps, feats = local_features(gray, DENSE_FEATURES)
        best = _verify_oriented(work, kps, feats, copy, mirrored=False)
        if best is None:
            kps, feats = local_features(np.ascontiguousarray(gray[:, ::-1]))
            best = _verify_oriented(work, kps, feats, copy, mirrored=True)
    return best


def _verify_oriented(work: ImageDescriptors, kb: np.ndarray, fb: np.ndarray, copy: ImageDescriptors,
                     mirrored: bool) -> RegionMatch | None:
    good = _good_matches(work.features, fb)
    fit = _fit(work.keypoints, kb, good)
    if fit is None:
        return None
    m, inliers = fit
    if inliers < MIN_INLIERS or inliers < MIN_INLIER_RATIO * len(good):
        return None
    scale = math.hypot(m[0, 0], m[1, 0])
    if not 0.05 <= scale <= 20:
        return None
    rotation = -math.degrees(math.atan2(m[1, 0], m[0, 0]))  # image y points down: counter-clockwise > 0
    ws, cs = work.feature_scale, copy.feature_scale
    wh, ww = work.shape
    ch, cw = copy.shape
    # the work's frame mapped into the copy (feature coordinates of the copy)
    corners = _frame((wh, ww), ws)
    mapped = corners @ m[:, :2].T + m[:, 2]
    if mirrored:  # features were found on the mirrored copy: mirror the region back into the copy's frame
        mapped[:, 0] = cw * cs - mapped[:, 0]
    copy_box, _ = _clip_share(mapped if not mirrored else mapped[::-1], cw * cs, ch * cs)
    # the copy's frame mapped back into the work: what share of the work lies inside the copy
    inv = _invert(m)
    cframe = _frame((ch, cw), cs)
    if mirrored:
        cframe[:, 0] = cw * cs - cframe[:, 0]
        cframe = cframe[::-1]
    back = cframe @ inv[:, :2].T + inv[:, 2]
    work_box, share = _clip_share(back, ww * ws, wh * ws)
    if share <= 0:
        return None
    # scale between the images as stored: feature pixels -> decoded pixels -> the files' own sizes
    stored = scale * ws / cs * (copy.width / cw) / (work.width / ww)
    a = np.diag([1 / cs, 1 / cs, 1.0]) @ np.vstack([m, [0, 0, 1]]) @ np.diag([ws, ws, 1.0])
    if mirrored:  # found on the mirrored copy: x -> width - x
        a = np.array([[-1, 0, cw], [0, 1, 0], [0, 0, 1]], np.float64) @ a
    return RegionMatch(inliers, len(good), stored, rotation, mirrored, work_box, copy_box, share, a[:2])


def _invert(m: np.ndarray) -> np.ndarray:
    a = np.vstack([m, [0, 0, 1]])
    return np.linalg.inv(a)[:2]


CHECK_SIDE = 160  # the pixel check compares the work and the copy mapped back into its frame at this longer side
CHECK_MIN_AREA = 0.05  # of the work's frame: less held by the copy is not checked (the region is too small)


def pixel_agreement(work_pixels: np.ndarray, copy_pixels: np.ndarray, affine: np.ndarray) -> float | None:
    """How well the copy's pixels, mapped back through the fitted map, agree with the work's: the normalised
    correlation of the two (grey, lightly blurred, CHECK_SIDE on the longer side) over the part of the work's
    frame the copy holds. Chance fits of repetitive or textureless features satisfy the geometry but not the
    pixels; a re-encoded, recoloured or overlaid copy keeps most of the correlation. None: too little overlap."""
    import cv2

    wh, ww = work_pixels.shape[:2]
    t = min(1.0, CHECK_SIDE / max(wh, ww))
    tw, th = max(8, round(ww * t)), max(8, round(wh * t))
    wg = cv2.resize(cv2.cvtColor(np.ascontiguousarray(work_pixels), cv2.COLOR_RGB2GRAY), (tw, th),
                    interpolation=cv2.INTER_AREA).astype(np.float32)
    cg = cv2.cvtColor(np.ascontiguousarray(copy_pixels), cv2.COLOR_RGB2GRAY)
    # small-frame pixels -> work pixels -> copy pixels; the copy brought near the small frame's scale first
    # (area averaging), so the warp samples it without aliasing
    m = np.vstack([np.asarray(affine, np.float64)[:2], [0, 0, 1]]) @ np.diag([ww / tw, wh / th, 1.0])
    k = min(1.0, 1.0 / max(math.hypot(m[0, 0], m[1, 0]), 1e-9))
    if k < 1.0:
        ch, cw = cg.shape
        sw, sh = max(1, round(cw * k)), max(1, round(ch * k))
        cg = cv2.resize(cg, (sw, sh), interpolation=cv2.INTER_AREA)
        m = np.diag([sw / cw, sh / ch, 1.0]) @ m
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    back = cv2.warpAffine(cg.astype(np.float32), m[:2], (tw, th), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    held = cv2.warpAffine(np.ones(cg.shape, np.float32), m[:2], (tw, th), flags=flags,
                          borderMode=cv2.BORDER_CONSTANT) > 0.999
    held = cv2.erode(held.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # clear of the border and its blur
    if held.mean() < CHECK_MIN_AREA:
        return None
    a = cv2.GaussianBlur(wg, (0, 0), 1.0)[held]
    b = cv2.GaussianBlur(back, (0, 0), 1.0)[held]
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0
