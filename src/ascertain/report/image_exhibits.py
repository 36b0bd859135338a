"""Image exhibits: the work and the copy side by side at the same scale, the matched region outlined on both,
and a difference view (the copy mapped back into the work's frame, minus the work), with the tier, the share of
the work's area, the transformation and the CMI status per field.

Built on imaging/compare.py's result record (what `ascertain compare` prints and image evidence stores in its
`facts`), so it renders the same exhibit from two files or from the store. The mapping of the work into the copy
is the one the region's verification fitted and the evidence stores (`region.affine`; for evidence written
before it was stored, refitted from the same matches and the same seeded RANSAC), or, for a whole-image tier,
the dihedral orientation PDQ matched and the change of size.

Bytes are reproducible: the pictures are drawn with OpenCV (pinned; one thread) and numpy, with no text in
them, and written as PNG by Pillow (pinned) with no metadata. Labels are HTML, so they read the same in the
report, its PDF and the web pages.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ascertain.imaging.compare import ImageInput, load
from ascertain.imaging.descriptors import DIHEDRAL, local_features
from ascertain.imaging.regions import affine_array

PANEL = 380  # the larger of the two images is drawn at most this many pixels on its longer side
GAP = 16
OUTLINE = (214, 39, 40)  # the matched region, on both images
OUTSIDE = (222, 222, 222)  # difference view: parts of the work the copy does not hold
TIER_WORDS = {"same_bytes": "the same file (identical bytes)",
              "same_pixels": "the same image (identical decoded pixels, other file bytes)",
              "near_duplicate": "a near-duplicate of the whole work (perceptual hash within the threshold)",
              "region_copy": "a copy of a region of the work (located by a fitted map, from local features or dense "
                            "alignment, and checked against the pixels)",
              None: "not a copy"}
CMI_FIELD_WORDS = {"exif:Artist": "EXIF Artist", "exif:Copyright": "EXIF Copyright",
                   "iptc:By-line": "IPTC By-line", "iptc:CopyrightNotice": "IPTC Copyright Notice",
                   "iptc:Credit": "IPTC Credit Line", "xmp:dc:creator": "XMP dc:creator",
                   "xmp:dc:rights": "XMP dc:rights", "xmp:xmpRights:UsageTerms": "XMP xmpRights:UsageTerms",
                   "xmp:xmpRights:WebStatement": "XMP xmpRights:WebStatement",
                   "xmp:photoshop:Credit": "XMP photoshop:Credit", "xmp:plus:DataMining": "XMP plus:DataMining",
                   "xmp:plus:CopyrightOwner": "XMP plus:CopyrightOwner",
                   "xmp:plus:ImageCreator": "XMP plus:ImageCreator",
                   "visible:mark": "Visible signature / watermark (declared)"}


def _dense_words(result: dict) -> str | None:
    """How a region found by dense alignment (not local features) was checked, or None."""
    if (result.get("region") or {}).get("method") != "dense alignment" or not result.get("dense_alignment"):
        return None
    d = result["dense_alignment"]
    return (f"pixels aligned densely (near the frame '{d['start']}'), correlation {d['pixel_correlation']:.2f}, "
            f"detail agreeing in {d['detail_share']:.0%} of {d['detail_blocks']} blocks")


@dataclass
class Pictures:
    pair_png: bytes  # work | copy, same scale, region outlined on both
    diff_png: bytes  # the copy in the work's frame minus the work
    pair_size: tuple[int, int]
    diff_size: tuple[int, int]
    mapping: str  # how the copy was mapped into the work's frame: "features", "orientation" or "size"
    differing_share: float  # share of the work's area held by the copy whose pixels differ visibly


def _cv2():
    import cv2

    cv2.setNumThreads(1)  # one thread: the same pixels whatever the machine
    return cv2


def _affine_from_features(work: ImageInput, copy: ImageInput, mirrored: bool) -> np.ndarray | None:
    """2x3 map of work pixels (decoded) into copy pixels (decoded), from the verification's own matches."""
    from ascertain.imaging import regions

    wd, cd = work.descriptors, copy.descriptors
    kb, fb = cd.keypoints, cd.features
    if mirrored:
        cv2 = _cv2()
        gray = cv2.cvtColor(np.ascontiguousarray(copy.pixels[:, ::-1]), cv2.COLOR_RGB2GRAY)
        s = cd.feature_scale
        if s < 1.0:
            gray = cv2.resize(gray, (round(gray.shape[1] * s), round(gray.shape[0] * s)), interpolation=cv2.INTER_AREA)
        kb, fb = local_features(gray)
    fit = regions._fit(wd.keypoints, kb, regions._good_matches(wd.features, fb))
    if fit is None:
        return None
    m = fit[0].astype(np.float64)
    # feature coordinates -> decoded pixels: x_copy = (m @ [x_work * ws, 1]) / cs
    a = np.vstack([m, [0, 0, 1]]) @ np.diag([wd.feature_scale, wd.feature_scale, 1.0])
    a = np.diag([1 / cd.feature_scale, 1 / cd.feature_scale, 1.0]) @ a
    if mirrored:  # found on the mirrored copy: x -> width - x
        a = np.array([[-1, 0, copy.pixels.shape[1]], [0, 1, 0], [0, 0, 1]], np.float64) @ a
    return a[:2]


def _affine_from_orientation(work: ImageInput, copy: ImageInput, orientation: str) -> np.ndarray:
    """Work pixels into copy pixels for a whole-image match: the dihedral relation and the change of size."""
    wh, ww = work.pixels.shape[:2]
    ch, cw = copy.pixels.shape[:2]
    # unit square of the work -> unit square of the copy, for each way the copy relates to the work
    u = {"original": ((1, 0, 0), (0, 1, 0)), "rotated 90° clockwise": ((0, -1, 1), (1, 0, 0)),
         "rotated 180°": ((-1, 0, 1), (0, -1, 1)), "rotated 90° counter-clockwise": ((0, 1, 0), (-1, 0, 1)),
         "flipped top to bottom": ((1, 0, 0), (0, -1, 1)), "mirrored left to right": ((-1, 0, 1), (0, 1, 0)),
         "transposed": ((0, 1, 0), (1, 0, 0)), "transversed": ((0, -1, 1), (-1, 0, 1))}[orientation]
    to_unit = np.diag([1 / ww, 1 / wh, 1.0])
    from_unit = np.diag([cw, ch, 1.0])
    return (from_unit @ np.vstack([np.array(u, np.float64), [0, 0, 1]]) @ to_unit)[:2]


def work_to_copy(work: ImageInput, copy: ImageInput, result: dict) -> tuple[np.ndarray, str]:
    """The map the exhibit draws with, and where it comes from. A near-duplicate found in another orientation is
    drawn in that orientation: PDQ's dihedral match is what the tier rests on (a symmetric drawing can also fit a
    rotation of its mirror image)."""
    region = result.get("region")
    orient = result.get("pdq_orientation") or "original"
    if orient not in DIHEDRAL:
        orient = "original"
    by_orientation = result.get("tier") == "near_duplicate" and orient != "original"
    if region and not by_orientation:
        # the map the verification fitted, as stored with the evidence; refitted only for evidence written
        # before the map was stored
        a = affine_array(region.get("affine"))
        if a is None:
            a = _affine_from_features(work, copy, bool(region.get("mirrored")))
        if a is not None:
            return a, "features"
    return _affine_from_orientation(work, copy, orient), ("orientation" if orient != "original" else "size")


def _scale_of(a: np.ndarray) -> float:
    return math.hypot(a[0, 0], a[1, 0])


def _frame(w: int, h: int) -> np.ndarray:
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)


def _apply(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ a[:, :2].T + a[:, 2]


def _invert(a: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.vstack([a, [0, 0, 1]]))[:2]


def _clip(poly: np.ndarray, w: int, h: int) -> np.ndarray | None:
    """The part of a (convex) polygon inside a w x h frame, or None."""
    cv2 = _cv2()
    p = np.float32(poly)
    if cv2.contourArea(p, oriented=True) < 0:  # intersectConvexConvex wants one winding
        p = p[::-1].copy()
    area, inter = cv2.intersectConvexConvex(p, np.float32(_frame(w, h)))
    return None if inter is None or area <= 0 else inter.reshape(-1, 2).astype(np.float64)


def _resized(px: np.ndarray, f: float) -> np.ndarray:
    cv2 = _cv2()
    h, w = px.shape[:2]
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(np.ascontiguousarray(px), size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


def _outline(px: np.ndarray, poly: np.ndarray | None, f: float) -> np.ndarray:
    cv2 = _cv2()
    out = np.ascontiguousarray(px.copy())
    if poly is not None:
        h, w = out.shape[:2]
        pts = np.round(poly * f).astype(np.int32)
        pts[:, 0], pts[:, 1] = pts[:, 0].clip(1, w - 2), pts[:, 1].clip(1, h - 2)  # the frame's edge stays drawn
        pts = pts.reshape(-1, 1, 2)
        cv2.polylines(out, [pts], isClosed=True, color=OUTLINE, thickness=3, lineType=cv2.LINE_8)
    return out


def _png(px: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # zlib level 3: level 9 costs about 12 times the time for 5 % fewer bytes (measured on an exhibit's pair)
    Image.fromarray(np.ascontiguousarray(px, dtype=np.uint8), "RGB").save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def _border(px: np.ndarray, colour=(170, 170, 170)) -> np.ndarray:
    out = px.copy()
    out[0, :], out[-1, :], out[:, 0], out[:, -1] = colour, colour, colour, colour
    return out


def draw(work: ImageInput, copy: ImageInput, result: dict, panel: int = PANEL) -> Pictures:
    """The exhibit's two pictures for a compare result (imaging/compare.py) of `work` against `copy`."""
    cv2 = _cv2()
    wpx, cpx = work.pixels, copy.pixels
    wh, ww = wpx.shape[:2]
    ch, cw = cpx.shape[:2]
    a, mapping = work_to_copy(work, copy, result)
    s = _scale_of(a)  # copy pixels per work pixel
    # one scale for the drawn work (fw) and copy (fw / s): the same detail is the same size on both sides
    fw = min(panel / max(ww, wh), panel * s / max(cw, ch))
    fc = fw / s
    in_work = _clip(_apply(_invert(a), _frame(cw, ch)), ww, wh)  # the work's part that the copy holds
    in_copy = _clip(_apply(a, _frame(ww, wh)), cw, ch)  # where that part is in the copy
    left = _border(_outline(_resized(wpx, fw), in_work, fw))
    right = _border(_outline(_resized(cpx, fc), in_copy, fc))
    h = max(left.shape[0], right.shape[0])
    pair = np.full((h, left.shape[1] + GAP + right.shape[1], 3), 255, np.uint8)
    pair[:left.shape[0], :left.shape[1]] = left
    pair[:right.shape[0], left.shape[1] + GAP:] = right
    # the copy mapped back into the work's frame, compared pixel by pixel where it holds the work
    back = cv2.warpAffine(np.ascontiguousarray(cpx), _invert(a), (ww, wh), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    held = cv2.warpAffine(np.full((ch, cw), 255, np.uint8), _invert(a), (ww, wh), flags=cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    d = np.abs(back.astype(np.int16) - wpx.astype(np.int16)).max(axis=2)
    # white where the pixels agree, red in proportion to the difference; grey where the copy holds no pixel
    v = np.clip(255 - 2 * d, 0, 255).astype(np.uint8)
    diff = np.stack([np.full_like(v, 255), v, v], axis=2)
    diff[~held] = OUTSIDE
    visible = (d >= 48) & held  # a difference a reader sees, not JPEG noise (measured on re-encoded copies)
    diff = _border(_resized(diff, fw))
    share = float(visible.sum() / max(1, held.sum()))
    return Pictures(_png(pair), _png(diff), (pair.shape[1], pair.shape[0]), (diff.shape[1], diff.shape[0]),
                    mapping, round(share, 4))


def transform_words(result: dict, mapping: str) -> str:
    """The transformation in a sentence: scale, rotation, mirroring, crop, orientation."""
    reg = result.get("region")
    ws, cs = result.get("work_size") or [0, 0], result.get("copy_size") or [0, 0]
    if result.get("tier") in ("same_bytes", "same_pixels"):
        return "none: the copy is the work's image at the same size"
    parts = []
    if reg and mapping == "features":
        parts.append(f"scale {reg['scale']:.2f}")
        rot = reg["rotation_degrees"]
        parts.append("no rotation" if abs(rot) < 0.5 else f"rotated {abs(rot):.1f}° "
                     + ("counter-clockwise" if rot > 0 else "clockwise"))
        if reg.get("mirrored"):
            parts.append("mirrored")
        x0, y0, x1, y1 = reg["work_region"]
        cut = {"left": x0, "top": y0, "right": 1 - x1, "bottom": 1 - y1}
        cuts = [f"{k} {v:.0%}" for k, v in cut.items() if v >= 0.01]
        parts.append("the whole work is in the copy" if not cuts else "cut off: " + ", ".join(cuts))
        cx0, cy0, cx1, cy1 = reg["copy_region"]
        if (cx1 - cx0) * (cy1 - cy0) < 0.9:
            parts.append(f"the work fills {(cx1 - cx0) * (cy1 - cy0):.0%} of the copy's frame "
                         "(pasted into a larger image)")
    else:
        if ws[0] and cs[0]:
            parts.append(f"resized {ws[0]}×{ws[1]} → {cs[0]}×{cs[1]}")
        if result.get("pdq_orientation") and result["pdq_orientation"] != "original":
            parts.append(result["pdq_orientation"])
    return "; ".join(parts) + ("" if mapping != "size" or reg else " (mapped by size only)")


def cmi_rows(cmi: dict, show_values: bool = True) -> list[dict]:
    """The work's CMI fields with their status in the copy (cmi/image.py image_cmi_status)."""
    rows = []
    for f, v in (cmi.get("fields") or {}).items():
        rows.append({"field": CMI_FIELD_WORDS.get(f, f), "status": v["status"],
                     "in_work": v.get("work") if show_values else "(withheld)",
                     "in_copy": (v.get("copy") or "–") if show_values else "(withheld)"})
    if cmi.get("c2pa") and cmi["c2pa"] != "never_present":
        rows.append({"field": "C2PA manifest", "status": cmi["c2pa"], "in_work": "present", "in_copy":
                     "present" if cmi["c2pa"] == "kept" else "–"})
    return rows


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def image_exhibit(work_bytes: bytes, copy_bytes: bytes | None, result: dict, *, number: str, work_name: str,
                  copy_name: str, title: str = "", claimant: str = "", source: str = "", source_kind: str = "corpus",
                  show_copy: bool = True, caption: str | None = None, url: str | None = None) -> dict:
    """The record the image exhibit template renders. `result`: imaging/compare.py's record for these two images,
    with `cmi` (image_cmi_status) when known. `show_copy` False (redacted tier, public role): the copy's picture,
    caption, URL and CMI values are withheld; the figures stay. `copy_bytes` None: the copy cannot be read
    again (figures only)."""
    pics = None
    if show_copy and copy_bytes is not None:
        pics = draw(load(work_bytes, work_name), load(copy_bytes, copy_name), result)
    reg_ok = result.get("region") and not (result.get("tier") == "near_duplicate"
                                           and result.get("pdq_orientation") not in (None, "original"))
    mapping = pics.mapping if pics else ("features" if reg_ok else "orientation"
                                         if result.get("pdq_orientation") not in (None, "original") else "size")
    cmi = result.get("cmi") or {}
    dense = _dense_words(result)
    return {"number": number, "kind": "image", "title": title, "claimant": claimant, "work_file": work_name,
            "work_sha256": result.get("work_sha256"), "source": source, "source_kind": source_kind,
            "locator": copy_name, "doc_sha256": result.get("copy_sha256"), "tier": result.get("tier"),
            "tier_words": TIER_WORDS.get(result.get("tier"), result.get("tier")),
            "share": result.get("work_area_share", 0.0), "transform": transform_words(result, mapping),
            "pdq_distance": result.get("pdq_distance"), "pdq_threshold": result.get("pdq_threshold"),
            "inliers": None if dense else (result.get("region") or {}).get("inliers"), "dense": dense,
            "work_size": result.get("work_size"),
            "copy_size": result.get("copy_size"), "differing_share": pics.differing_share if pics else None,
            "mapping": mapping, "cmi_status": cmi.get("status", "unknown"),
            "cmi_rows": cmi_rows(cmi, show_values=show_copy), "hide_copy": not show_copy,
            "caption": caption if show_copy else None, "url": url if show_copy else None,
            "pair_png": pics.pair_png if pics else None, "diff_png": pics.diff_png if pics else None,
            "pair_uri": data_uri(pics.pair_png) if pics else None,
            "diff_uri": data_uri(pics.diff_png) if pics else None,
            "pair_size": pics.pair_size if pics else None, "diff_size": pics.diff_size if pics else None,
            "note": "" if pics or not show_copy else "The copy's bytes could not be read again: figures only."}


def render_page(e: dict, case_name: str = "", tier: str = "full", paper: str = "a4") -> str:
    """One image exhibit as a standalone HTML page (the report's exhibits/ files, `ascertain compare --exhibit`)."""
    from ascertain import __version__
    from ascertain.report.build import _css, _env

    return _env().get_template("image_exhibit_page.html.j2").render(e=e, css=_css(paper), version=__version__,
                                                                     case_name=case_name, tier=tier)
