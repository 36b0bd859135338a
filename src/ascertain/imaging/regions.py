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
    if mirrored:  # found on the mirrored copy (pixel i of the feature image's width wf is wf - 1 - i there), as a
        # map of pixel positions: x -> (wf - 0.5) / cs - 0.5 - x, not width - x, which put every pixel of the
        # copy about one pixel off (measured: fine detail then agrees in 13-35 % of a mirrored photo's blocks)
        wf = max(1, round(cw * cs)) if cs != 1.0 else cw
        a = np.array([[-1, 0, (wf - 0.5) / cs - 0.5], [0, 1, 0], [0, 0, 1]], np.float64) @ a
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

    mapped = _in_work_frame(work_pixels, copy_pixels, affine, CHECK_SIDE, 7)
    if mapped is None:
        return None
    wg, back, held = mapped
    return _corr(cv2.GaussianBlur(wg, (0, 0), 1.0)[held], cv2.GaussianBlur(back, (0, 0), 1.0)[held])


def _in_work_frame(work_pixels: np.ndarray, copy_pixels: np.ndarray, affine: np.ndarray, side: int, clear: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(the work in grey at `side` on its longer side, the copy mapped back into that frame through the map, the
    pixels the copy holds at least `clear` // 2 pixels from its border); None when it holds under
    CHECK_MIN_AREA of the frame."""
    import cv2

    wh, ww = work_pixels.shape[:2]
    t = min(1.0, side / max(wh, ww))
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
    held = cv2.erode(held.astype(np.uint8), np.ones((clear, clear), np.uint8)) > 0  # clear of the border, its blur
    if held.mean() < CHECK_MIN_AREA:
        return None
    return wg, back, held


# Dense alignment: the copy's pixels aligned with the work's by ECC (Evangelidis & Psarakis 2008, OpenCV's
# findTransformECC), for copies whose local features do not verify. Textureless clip art keeps its strokes
# after a crop or a small rotation but loses most of its corners (a 20 % crop of an outline drawing keeps 4-90
# ORB points), so the features cannot fit a map; the strokes themselves can be aligned, from the frames a copy
# usually keeps (the whole frame, a centred crop, a padding, a small rotation with the corners filled).
DENSE_SIDE = 128  # ECC runs on grey images of this longer side (after the coarse start at half of it)
DENSE_CROPS = (0.05, 0.10, 0.15, 0.20)  # centred crops per side tried as starts
DENSE_PADS = (0.10, 0.20)  # paddings per side tried as starts
DENSE_ROTATIONS = (-5.0, 5.0)  # degrees: a rotation whose frame grew to hold the turned work (corners filled)
DENSE_STARTS = 2  # the starts whose first map correlates best are aligned at half the side
DENSE_COARSE_MIN = 0.6  # ECC's correlation at half the side below which the pair is not aligned further
DENSE_DRIFT_SCALE = 1.12  # the aligned map's scale within this factor of its start's
DENSE_DRIFT_DEGREES = 4.0  # its rotation within this of its start's (the starts are 5° apart)
DENSE_DRIFT_SHIFT = 0.12  # the work's centre within this share of the copy's size of the start's
DENSE_MIN_SHARE = 0.25  # of the work's area held by the copy: less is not decided by alignment
DENSE_MAX_ANISOTROPY = 1.15  # ratio of the map's two scales: a copy keeps its aspect within this
DENSE_SCALE_RANGE = (0.25, 4.0)  # the map's scale, work pixels to copy pixels


def _dense_gray(px: np.ndarray, side: int) -> tuple[np.ndarray, float, float]:
    import cv2

    h, w = px.shape[:2]
    t = min(1.0, side / max(h, w))
    tw, th = max(8, round(w * t)), max(8, round(h * t))
    g = cv2.cvtColor(np.ascontiguousarray(px), cv2.COLOR_RGB2GRAY)
    return cv2.resize(g, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32), tw / w, th / h


def dense_starts(work_shape: tuple[int, int], copy_shape: tuple[int, int]) -> list[tuple[str, np.ndarray]]:
    """Maps (2 x 3, work pixels -> copy pixels) a copy's frame suggests: the work centred in the copy at the
    scale that fills the frame as it is, cropped, padded, turned, mirrored or flipped."""
    (wh, ww), (ch, cw) = work_shape, copy_shape
    starts: list[tuple[str, float, float, tuple[int, int]]] = [("whole frame", 1.0, 0.0, (1, 1))]
    starts += [(f"centre crop {p:.0%} per side", 1 - 2 * p, 0.0, (1, 1)) for p in DENSE_CROPS]
    starts += [(f"padded {p:.0%} per side", 1 + 2 * p, 0.0, (1, 1)) for p in DENSE_PADS]
    starts += [(f"rotated {d:+g}°", 0.0, d, (1, 1)) for d in DENSE_ROTATIONS]
    # near-symmetric drawings mirrored: the features fit them unmirrored, off by the drawing's asymmetry
    starts += [("mirrored left to right", 1.0, 0.0, (-1, 1)), ("flipped top to bottom", 1.0, 0.0, (1, -1))]
    out = []
    for label, k, deg, (fx, fy) in starts:
        r = math.radians(deg)
        if deg:  # the turned work's bounding box fills the copy
            s = min(cw / (ww * abs(math.cos(r)) + wh * abs(math.sin(r))),
                    ch / (ww * abs(math.sin(r)) + wh * abs(math.cos(r))))
        else:
            s = min(cw / (ww * k), ch / (wh * k))
        a = np.array([[s * math.cos(r), s * math.sin(r)], [-s * math.sin(r), s * math.cos(r)]]) @ np.diag([fx, fy])
        t = np.array([(cw - 1) / 2, (ch - 1) / 2]) - a @ np.array([(ww - 1) / 2, (wh - 1) / 2])  # pixel centres
        out.append((label, np.hstack([a, t[:, None]])))
    return out


def _similarity(m: np.ndarray) -> tuple[float, float, bool]:
    """Scale, rotation (degrees, counter-clockwise in the image) and mirroring of a map's linear part; a
    mirrored map is read as the copy mirrored left to right after the rotation, as `verify` reports it."""
    lin = np.asarray(m, np.float64)[:, :2]
    mirrored = float(np.linalg.det(lin)) < 0
    if mirrored:
        lin = np.diag([-1.0, 1.0]) @ lin
    rotation = -math.degrees(math.atan2(lin[1, 0] - lin[0, 1], lin[0, 0] + lin[1, 1]))
    return math.sqrt(abs(float(np.linalg.det(lin)))), rotation, mirrored


def _resize_matrix(sx: float, sy: float) -> np.ndarray:
    """Pixel positions of an image -> those of the same image resized by (sx, sy) (cv2.resize's pixel centres)."""
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], np.float64)


def _small_map(a: np.ndarray, wsx: float, wsy: float, csx: float, csy: float) -> np.ndarray:
    """A work -> copy map in decoded pixels as the same map between the two small images."""
    return (_resize_matrix(csx, csy) @ np.vstack([a[:2], [0, 0, 1]])
            @ np.linalg.inv(_resize_matrix(wsx, wsy)))[:2]


def _full_map(m: np.ndarray, wsx: float, wsy: float, csx: float, csy: float) -> np.ndarray:
    """The inverse of _small_map: a map between the small images as one between the decoded pixels."""
    return (np.linalg.inv(_resize_matrix(csx, csy)) @ np.vstack([m[:2], [0, 0, 1]])
            @ _resize_matrix(wsx, wsy))[:2]


def _start_score(wg: np.ndarray, cg: np.ndarray, m: np.ndarray) -> float:
    """Correlation of the work with the copy warped back by m, over the part of the work the copy holds."""
    import cv2

    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    back = cv2.warpAffine(cg, m.astype(np.float32), wg.shape[::-1], flags=flags)
    held = cv2.warpAffine(np.ones_like(cg), m.astype(np.float32), wg.shape[::-1], flags=flags) > 0.999
    if held.mean() < DENSE_MIN_SHARE:
        return -1.0
    a, b = wg[held] - wg[held].mean(), back[held] - back[held].mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else -1.0


def _ecc(wg: np.ndarray, cg: np.ndarray, m: np.ndarray, iters: int) -> tuple[float, np.ndarray] | None:
    """ECC's correlation and its map (small work -> small copy), or None when it does not converge."""
    import cv2

    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, iters, 1e-5)
    try:
        rho, w = cv2.findTransformECC(wg, cg, m.astype(np.float32).copy(), cv2.MOTION_AFFINE, crit, None, 3)
    except cv2.error:  # did not converge, or the images have no contrast
        return None
    return (float(rho), w.astype(np.float64)) if np.isfinite(w).all() and np.isfinite(rho) else None


def align_dense(work: ImageDescriptors, copy: ImageDescriptors, work_pixels: np.ndarray, copy_pixels: np.ndarray
                ) -> tuple[RegionMatch, str] | None:
    """The work's region in the copy found by aligning their pixels (ECC, affine), from the starts a copy's frame
    suggests; with the start it came from. None when no start converges to a plausible copy map (near-similar,
    scale in range, at least DENSE_MIN_SHARE of the work held). The pixels' agreement under the map is checked
    by the caller (pixel_agreement), as for a feature fit."""
    half = DENSE_SIDE // 2
    wg1, wsx1, wsy1 = _dense_gray(work_pixels, half)
    cg1, csx1, csy1 = _dense_gray(copy_pixels, half)
    scored = []
    starts = dict(dense_starts(work_pixels.shape[:2], copy_pixels.shape[:2]))
    for label, a in starts.items():
        m = _small_map(a, wsx1, wsy1, csx1, csy1)
        scored.append((_start_score(wg1, cg1, m), label, a))
    scored.sort(key=lambda s: -s[0])  # stable: equal scores keep the starts' order
    coarse: tuple[float, str, np.ndarray] | None = None
    for score, label, a in scored[:DENSE_STARTS]:
        fit = _ecc(wg1, cg1, _small_map(a, wsx1, wsy1, csx1, csy1), 25) if score > 0 else None
        if fit is not None and (coarse is None or fit[0] > coarse[0]):
            coarse = (fit[0], label, fit[1])
    if coarse is None or coarse[0] < DENSE_COARSE_MIN:
        return None
    full = _full_map(coarse[2], wsx1, wsy1, csx1, csy1)
    for side, iters in ((DENSE_SIDE, 20), (DETAIL_SIDE, 10)):  # refined at the pixel and the detail checks' sides
        wg, wsx, wsy = _dense_gray(work_pixels, side)
        cg, csx, csy = _dense_gray(copy_pixels, side)
        fit = _ecc(wg, cg, _small_map(full, wsx, wsy, csx, csy), iters)
        if fit is None or fit[0] < DENSE_COARSE_MIN:
            return None
        full = _full_map(fit[1], wsx, wsy, csx, csy)
    near = [label for label, a in starts.items()
            if _near_start(full, a, work_pixels.shape[:2], copy_pixels.shape[:2])]
    if not near:  # the alignment wandered off every frame a copy keeps: a search, not a refinement
        return None
    region = _region_of_map(full, work, copy, work_pixels.shape[:2], copy_pixels.shape[:2])
    return (region, near[0]) if region is not None else None


def _near_start(a: np.ndarray, start: np.ndarray, work_shape: tuple[int, int], copy_shape: tuple[int, int]
                ) -> bool:
    """Is the aligned map one of the frames a copy keeps: scale within DENSE_DRIFT_SCALE, rotation within
    DENSE_DRIFT_DEGREES, the work's centre within DENSE_DRIFT_SHIFT of the copy's size of where the start puts it.
    Free, ECC fits any bright disc onto any other at any scale (measured on the demo's planets)."""
    (s1, r1, m1), (s0, r0, m0) = _similarity(a), _similarity(start)
    (wh, ww), (ch, cw) = work_shape, copy_shape
    c = np.array([ww / 2, wh / 2])
    shift = np.abs((a[:, :2] @ c + a[:, 2]) - (start[:, :2] @ c + start[:, 2])) / np.array([cw, ch])
    turn = abs((r1 - r0 + 180) % 360 - 180)
    return (m1 == m0 and abs(math.log(s1 / s0)) <= math.log(DENSE_DRIFT_SCALE) and turn <= DENSE_DRIFT_DEGREES
            and float(shift.max()) <= DENSE_DRIFT_SHIFT)


def _region_of_map(a: np.ndarray, work: ImageDescriptors, copy: ImageDescriptors, work_shape: tuple[int, int],
                   copy_shape: tuple[int, int]) -> RegionMatch | None:
    """Region, share and transformation read off a work -> copy map in decoded pixels; None if it is not a
    plausible copy map."""
    sv = np.linalg.svd(a[:, :2], compute_uv=False)
    if sv[1] <= 0 or sv[0] / sv[1] > DENSE_MAX_ANISOTROPY:
        return None
    scale, rotation, mirrored = _similarity(a)
    if not DENSE_SCALE_RANGE[0] <= scale <= DENSE_SCALE_RANGE[1]:
        return None
    (wh, ww), (ch, cw) = work_shape, copy_shape
    mapped = _frame((wh, ww), 1.0) @ a[:, :2].T + a[:, 2]
    copy_box, _ = _clip_share(mapped[::-1] if mirrored else mapped, cw, ch)  # a mirrored frame turns the other way
    back = _frame((ch, cw), 1.0) @ _invert(a)[:, :2].T + _invert(a)[:, 2]
    work_box, share = _clip_share(back[::-1] if mirrored else back, ww, wh)
    if share < DENSE_MIN_SHARE:
        return None
    stored = scale * (copy.width / cw) / (work.width / ww)
    return RegionMatch(0, 0, stored, rotation, mirrored, work_box, copy_box, share, np.asarray(a, np.float64))


DETAIL_SIDE = 256  # the detail check compares at this longer side: finer than the pixel check's 160
DETAIL_SIGMA = 2.0  # detail = the grey image minus its Gaussian blur of this sigma (strokes, edges, texture)
DETAIL_BLOCK = 16  # pixels at DETAIL_SIDE: a 16 x 16 grid on the work
DETAIL_MIN_STD = 2.0  # grey levels of detail below which a block is flat
DETAIL_BLOCK_MIN = 0.5  # a block's detail correlation from which it agrees


def detail_agreement(work_pixels: np.ndarray, copy_pixels: np.ndarray, affine: np.ndarray
                     ) -> tuple[float, int] | None:
    """The share of the work's detailed blocks (DETAIL_BLOCK pixels at DETAIL_SIDE, held by the copy, with fine
    detail: the grey image minus its blur) whose detail the copy mapped back through the map correlates with
    (>= DETAIL_BLOCK_MIN), and how many such blocks there are. Smooth shapes in the same place (a bright disc on
    black) correlate in their pixels, not block by block in their detail; a copy keeps its strokes and edges
    where the work has them, except under an overlay. None: no detailed block held by the copy."""
    import cv2

    mapped = _in_work_frame(work_pixels, copy_pixels, affine, DETAIL_SIDE, 9)
    if mapped is None:
        return None
    wg, back, held = mapped
    th, tw = wg.shape
    a = wg - cv2.GaussianBlur(wg, (0, 0), DETAIL_SIGMA)
    b = back - cv2.GaussianBlur(back, (0, 0), DETAIL_SIGMA)
    agree = textured = 0
    for y in range(0, th - DETAIL_BLOCK + 1, DETAIL_BLOCK):
        for x in range(0, tw - DETAIL_BLOCK + 1, DETAIL_BLOCK):
            if not held[y:y + DETAIL_BLOCK, x:x + DETAIL_BLOCK].all():
                continue
            pa, pb = a[y:y + DETAIL_BLOCK, x:x + DETAIL_BLOCK], b[y:y + DETAIL_BLOCK, x:x + DETAIL_BLOCK]
            if float(pa.std()) < DETAIL_MIN_STD:  # flat in the work: agrees with anything, says nothing
                continue
            textured += 1
            agree += _corr(pa, pb) >= DETAIL_BLOCK_MIN
    return (agree / textured, textured) if textured else None


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0
