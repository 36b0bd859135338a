"""A visible signature or watermark region of a work (CMI drawn into the picture), found again in a copy.

The region is declared (a works list's `signature_box`: x,y,w,h in the work's pixels) or found automatically: a
high-contrast, text-like cluster of small strokes on a plain background in one corner of the work, marked as
automatic with its score. For a copy with a geometric match, the region is mapped into the copy with the stored
transform (the region's fitted 2 x 3 map, or the orientation and size of a whole-image match) and its status is:
- `cropped_out`: less than half of the region lies inside the copy's frame (the copy was cut so the mark is gone);
- `kept`: the copy's pixels there, mapped back, agree with the work's (correlation at least KEEP_CORR);
- `removed`: the mark's strokes are gone (blurred out, painted over: the region's stroke contrast, what a 2-pixel
  blur takes away, is below GONE_CONTRAST of the work's);
- `altered`: the strokes are there but different (written over, replaced, partly covered).
Each status comes with its scores (correlation, contrast ratio, share inside the copy) in the evidence. The
thresholds are chosen on the tuning split and measured on held-out images (docs/validation.md, "Visible
signature").
"""

from __future__ import annotations

import math

import numpy as np

from ascertain.errors import AscertainError

KEEP_CORR = 0.85  # correlation of the region's pixels (work vs copy mapped back) at or above which it is kept
GONE_CONTRAST = 0.15  # stroke contrast in the copy / in the work below which the mark is removed
STROKE_SIGMA = 2.0  # pixels (decoded): the high-pass that keeps a signature's strokes and drops a smudge
MIN_INSIDE = 0.5  # share of the region inside the copy's frame below which it is cropped out
CORNER_W, CORNER_H = 0.32, 0.26  # the corner windows searched for an automatic candidate (shares of the work)
INK_DELTA = 48  # grey levels from the window's background for a pixel to be ink
AUTO_MIN_SCORE = 0.5
AUTO_MIN_ASPECT = 1.6  # width / height of the candidate's strokes taken together
STATUSES = ("kept", "altered", "removed", "cropped_out")
ORIENTATION_MAPS = {  # unit square of the work -> unit square of the copy, per dihedral relation
    "original": ((1, 0, 0), (0, 1, 0)), "rotated 90° clockwise": ((0, -1, 1), (1, 0, 0)),
    "rotated 180°": ((-1, 0, 1), (0, -1, 1)), "rotated 90° counter-clockwise": ((0, 1, 0), (-1, 0, 1)),
    "flipped top to bottom": ((1, 0, 0), (0, -1, 1)), "mirrored left to right": ((-1, 0, 1), (0, 1, 0)),
    "transposed": ((0, 1, 0), (1, 0, 0)), "transversed": ((0, -1, 1), (-1, 0, 1))}


def parse_box(text: str, width: int, height: int, name: str) -> tuple[int, int, int, int]:
    """`x,y,w,h` in the work's pixels, inside its width x height."""
    try:
        x, y, w, h = (int(round(float(v))) for v in str(text).replace(";", ",").split(","))
    except ValueError:
        raise AscertainError(name, f"signature_box {text!r} is not x,y,w,h",
                             "give the box as four numbers in the work's pixels, e.g. 620,540,160,40") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise AscertainError(name, f"signature_box {text!r} is not inside the {width} x {height} image",
                             "give x,y,w,h within the work's own pixels (left, top, width, height)")
    return x, y, w, h


def _grey(px: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(px), cv2.COLOR_RGB2GRAY).astype(np.float32)


def find_corner_mark(pixels: np.ndarray) -> dict | None:
    """The automatic candidate in decoded pixels: {box: [x, y, w, h], corner, score} or None. A corner window
    whose background is plain and which holds at least three small high-contrast components (letters, strokes)
    clear of the window's inner edges (not the subject reaching into the corner)."""
    import cv2

    g = _grey(pixels)
    hh, ww = g.shape
    wx, wy = max(8, int(ww * CORNER_W)), max(8, int(hh * CORNER_H))
    best = None
    for corner, (x0, y0) in (("bottom right", (ww - wx, hh - wy)), ("bottom left", (0, hh - wy)),
                             ("top right", (ww - wx, 0)), ("top left", (0, 0))):
        win = g[y0:y0 + wy, x0:x0 + wx]
        bg = float(np.median(win))
        plain = float((np.abs(win - bg) < 12).mean())
        ink = (np.abs(win - bg) >= INK_DELTA).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        keep = []
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            small = area >= 3 and h <= 0.6 * wy and w <= 0.8 * wx
            inner = (x0 == 0 and x + w >= wx - 1) or (x0 > 0 and x <= 0) or (y0 == 0 and y + h >= wy - 1) \
                or (y0 > 0 and y <= 0)  # touches the window's edge toward the picture's middle
            if small and not inner:
                keep.append((x, y, w, h, area))
        if len(keep) < 3 or plain < 0.6:
            continue
        ink_share = sum(k[4] for k in keep) / float(wx * wy)
        if not 0.002 <= ink_share <= 0.25:
            continue
        bx0, by0 = min(k[0] for k in keep), min(k[1] for k in keep)
        bx1, by1 = max(k[0] + k[2] for k in keep), max(k[1] + k[3] for k in keep)
        if (bx1 - bx0) < AUTO_MIN_ASPECT * (by1 - by0):  # a line of writing is wide; a drawn detail rarely is
            continue
        score = round(min(1.0, plain) * min(1.0, len(keep) / 6.0), 4)
        if score >= AUTO_MIN_SCORE and (best is None or score > best["score"]):
            pad = 2
            best = {"box": [int(x0 + max(0, bx0 - pad)), int(y0 + max(0, by0 - pad)),
                            int(min(wx, bx1 + pad) - max(0, bx0 - pad)), int(min(wy, by1 + pad) - max(0, by0 - pad))],
                    "corner": corner, "score": score}
    return best


def copy_map(result: dict, work_px: np.ndarray, copy_px: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The stored transform of a decided pair as a 2 x 3 map of decoded work pixels into decoded copy pixels, and
    what it is: the region's fitted map, or the orientation and size of a whole-image match. None: no transform
    stored (an old record, or the learned tier, which locates nothing)."""
    region = result.get("region") or {}
    orient = result.get("pdq_orientation") or "original"
    tier = result.get("tier")
    if region.get("affine") is not None and not (tier == "near_duplicate" and orient != "original"):
        a = np.asarray(region["affine"], np.float64)
        if a.shape == (2, 3) and np.isfinite(a).all():
            return a, "region"
    if tier in ("same_bytes", "same_pixels", "near_duplicate"):
        if tier != "near_duplicate":
            orient = "original"
        wh, ww = work_px.shape[:2]
        ch, cw = copy_px.shape[:2]
        u = np.vstack([np.array(ORIENTATION_MAPS.get(orient, ORIENTATION_MAPS["original"]), np.float64), [0, 0, 1]])
        return (np.diag([cw, ch, 1.0]) @ u @ np.diag([1 / ww, 1 / wh, 1.0]))[:2], "orientation"
    return None


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


def check_mark(work_px: np.ndarray, copy_px: np.ndarray, affine: np.ndarray, box: list[float]) -> dict:
    """The mark's status in the copy, with its scores. `box`: x, y, w, h in decoded work pixels; `affine`: decoded
    work pixels -> decoded copy pixels."""
    import cv2

    x, y, w, h = (float(v) for v in box)
    ch, cw = copy_px.shape[:2]
    gx, gy = np.meshgrid(np.linspace(x, x + w, 16), np.linspace(y, y + h, 16))
    pts = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])
    mx, my = affine @ pts
    inside = float(((mx >= 0) & (mx <= cw) & (my >= 0) & (my <= ch)).mean())
    corners = affine @ np.array([[x, x + w, x + w, x], [y, y, y + h, y + h], [1, 1, 1, 1]], np.float64)
    copy_box = [round(float(corners[0].min()), 1), round(float(corners[1].min()), 1),
                round(float(corners[0].max() - corners[0].min()), 1),
                round(float(corners[1].max() - corners[1].min()), 1)]
    out = {"inside_share": round(inside, 4), "box_in_copy": copy_box}
    if inside < MIN_INSIDE:
        return {**out, "status": "cropped_out", "correlation": None, "contrast_ratio": None}
    wh, ww = work_px.shape[:2]
    x0, y0 = max(0, int(math.floor(x))), max(0, int(math.floor(y)))
    x1, y1 = min(ww, int(math.ceil(x + w))), min(wh, int(math.ceil(y + h)))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    # the copy sampled at the box's work pixels (dst(p) = copy(affine p)), and where it holds any pixel
    shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    m = (np.vstack([affine, [0, 0, 1]]) @ shift)[:2]
    size = (x1 - x0, y1 - y0)
    back = cv2.warpAffine(_grey(copy_px), m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    held = cv2.warpAffine(np.ones((ch, cw), np.float32), m, size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0.5
    wa = _grey(work_px)[y0:y1, x0:x1]
    a = cv2.GaussianBlur(wa, (0, 0), 1.0)
    b = cv2.GaussianBlur(back, (0, 0), 1.0)
    if held.sum() < 16:
        return {**out, "status": "cropped_out", "correlation": None, "contrast_ratio": None}
    # stroke contrast: what a blur of STROKE_SIGMA takes away (the strokes' edges), work vs copy
    ha = (wa - cv2.GaussianBlur(wa, (0, 0), STROKE_SIGMA))[held]
    hb = (back - cv2.GaussianBlur(back, (0, 0), STROKE_SIGMA))[held]
    corr = _corr(a[held], b[held])
    ratio = float(hb.std() / ha.std()) if ha.std() > 1e-6 else 1.0
    status = "kept" if corr >= KEEP_CORR else "removed" if ratio < GONE_CONTRAST else "altered"
    return {**out, "status": status, "correlation": round(corr, 4), "contrast_ratio": round(ratio, 4)}
