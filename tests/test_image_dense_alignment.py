"""The pixel-domain fallback of the image decision (imaging/regions.align_dense): copies of a drawing whose local
features cannot be fitted (too few corners after a crop of a textureless pictogram, or soft strokes) are aligned
pixel by pixel and decided copies with the right region, share and rotation; different images are not, even
when their smooth shapes align (bright discs on black), because their detail does not agree block by block."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ascertain.imaging.compare import compare_images, load, summary
from ascertain.imaging.regions import align_dense, dense_starts, pixel_agreement

skdata = pytest.importorskip("skimage.data")
WORKS = Path(__file__).parents[1] / "src/ascertain/demo_data/images/works"
APPLE = WORKS / "apple-with-worm.png"  # openclipart, CC0
# a textureless AIGA pictogram of the tuning split (Debian's openclipart-png, public domain)
PICTOGRAM = Path("/usr/share/openclipart/png/transportation/aiga-symbols/aiga_rail_transportation_.png")


def enc(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


@pytest.fixture(scope="module")
def apple():
    work = load(APPLE.read_bytes(), APPLE.name)
    return Image.fromarray(work.pixels), work


def _crop20(im: Image.Image) -> Image.Image:
    w, h = im.size
    return im.crop((round(w * 0.2), round(h * 0.2), round(w * 0.8), round(h * 0.8)))


def test_a_crop_of_soft_strokes_is_aligned_with_its_region_and_share(apple):
    im, work = apple
    copy = load(enc(_crop20(im).filter(ImageFilter.GaussianBlur(3))), "crop")
    assert len(copy.descriptors.keypoints) < 50  # the features cannot fit a map: this is the dense path's case
    r = compare_images(work, copy)
    assert r["decision"] == "copied" and r["tier"] == "region_copy", r
    reg = r["region"]
    assert reg["method"] == "dense alignment" and reg["inliers"] == 0
    x0, y0, x1, y1 = reg["work_region"]
    assert max(abs(x0 - 0.2), abs(y0 - 0.2), abs(x1 - 0.8), abs(y1 - 0.8)) < 0.01
    assert abs(r["work_area_share"] - 0.36) < 0.01 and abs(reg["scale"] - 1) < 0.02
    assert r["dense_alignment"]["pixel_correlation"] >= r["min_dense_correlation"]
    assert "pixels aligned" in summary(r) and "36% of the work's area" in summary(r)


def test_a_20_percent_crop_of_a_textureless_pictogram_is_a_copy_with_its_crop():
    if not PICTOGRAM.exists():
        pytest.skip("Debian's openclipart-png is not installed")
    work = load(PICTOGRAM.read_bytes(), PICTOGRAM.name)
    r = compare_images(work, load(enc(_crop20(Image.fromarray(work.pixels))), "crop"))
    assert r["decision"] == "copied" and r["region"]["method"] == "dense alignment", r  # features: no fit
    x0, y0, x1, y1 = r["region"]["work_region"]
    assert max(abs(x0 - 0.2), abs(y0 - 0.2), abs(x1 - 0.8), abs(y1 - 0.8)) < 0.01
    assert abs(r["work_area_share"] - 0.36) < 0.01 and abs(r["region"]["rotation_degrees"]) < 0.3


def test_a_five_degree_rotation_the_features_miss_is_aligned_with_its_angle(apple, monkeypatch):
    from ascertain.imaging import compare

    im, work = apple
    turned = load(enc(im.rotate(5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))), "t")
    monkeypatch.setattr(compare, "verify", lambda *a: None)  # as for clip art whose corners are too few
    r = compare.compare_images(work, turned)
    assert r["decision"] == "copied" and r["region"]["method"] == "dense alignment", r
    assert abs(r["region"]["rotation_degrees"] - 5) < 0.3 and abs(r["region"]["scale"] - 1) < 0.02
    assert r["work_area_share"] > 0.98 and r["dense_alignment"]["detail_share"] > 0.9
    # the stored map is the one the checks used: mapped back, the copy agrees with the work
    assert pixel_agreement(work.pixels, turned.pixels, np.asarray(r["region"]["affine"])) > 0.95


def test_bright_discs_that_align_are_not_copies():
    """Photographs of planets: ECC lays one disc on another (pixels correlate 0.89-0.92), the detail of
    fewer than half of their blocks agrees."""
    jupiter, venus, mars = (load((WORKS / n).read_bytes(), n) for n in ("jupiter.png", "venus.jpg", "mars.jpg"))
    for a, b in ((jupiter, venus), (venus, jupiter), (jupiter, mars)):
        r = compare_images(a, b)
        assert r["decision"] == "not_copied", r
        d = r.get("dense_alignment")
        assert d is None or d["detail_share"] is None or d["detail_share"] < 0.6, d


@pytest.mark.parametrize("other", ["horse", "camera", "coins"])
def test_different_images_are_not_aligned_into_a_copy(apple, other):
    _, work = apple
    px = getattr(skdata, other)()
    px = (~px).astype(np.uint8) * 255 if px.dtype == bool else px
    r = compare_images(work, load(enc(Image.fromarray(px).convert("RGB")), other))
    assert r["decision"] == "not_copied", r
    # the pair went through the dense path and was refused there, not skipped
    assert r["min_dense_correlation"] == 0.8
    assert r.get("dense_alignment") is None or r["dense_alignment"]["pixel_correlation"] < 0.8


def test_the_starts_centre_the_work_as_each_frame_suggests():
    starts = dict(dense_starts((100, 200), (60, 120)))
    crop = starts["centre crop 20% per side"]  # 60 % of the work fills the copy: scale 1.0, shifted by 40 px
    assert np.allclose(crop, [[1, 0, -40], [0, 1, -20]])
    whole = starts["whole frame"]  # pixel centres: the work's (99.5, 49.5) onto the copy's (59.5, 29.5)
    assert np.allclose(whole, [[0.6, 0, -0.2], [0, 0.6, -0.2]])
    mirrored = dict(dense_starts((100, 200), (100, 200)))["mirrored left to right"]
    assert np.allclose(mirrored, [[-1, 0, 199], [0, 1, 0]])  # pixel i onto pixel 199 - i
    turned = starts["rotated +5°"]  # counter-clockwise in the image (y down), as the region reports it
    assert np.isclose(-np.degrees(np.arctan2(turned[1, 0] - turned[0, 1], turned[0, 0] + turned[1, 1])), 5)


def test_the_dense_decision_is_byte_reproducible(apple):
    im, work = apple
    data = enc(_crop20(im).filter(ImageFilter.GaussianBlur(3)))
    runs = [json.dumps(compare_images(work, load(data, "crop")), sort_keys=True) for _ in range(2)]
    assert runs[0] == runs[1]
    found = align_dense(work.descriptors, load(data, "crop").descriptors, work.pixels, load(data, "crop").pixels)
    assert found is not None and found[1].startswith("centre crop")


def test_two_photographs_of_one_scene_are_not_copies_but_a_crop_of_one_is():
    """scikit-image's stereo pair: the features fit one map over much of the scene (100-200 inliers, pixels
    correlating 0.74-0.90), but parallax leaves the fine detail of most blocks out of place; a copy repeats it."""
    left, right, _ = skdata.stereo_motorcycle()
    a, b = load(enc(Image.fromarray(left)), "left"), load(enc(Image.fromarray(right)), "right")
    r = compare_images(a, b)
    assert r["decision"] == "not_copied", r
    assert r["detail_share"] < r["min_detail_share"] and r["detail_blocks"] >= 8
    assert "detail agrees in" in summary(r)
    crop = compare_images(a, load(enc(_crop20(Image.fromarray(left))), "crop"))
    assert crop["decision"] == "copied" and crop["detail_share"] > 0.9, crop


def test_a_mirrored_near_symmetric_drawing_is_aligned_mirrored(apple, monkeypatch):
    """A near-symmetric drawing mirrored: features can fit it unmirrored, off by its asymmetry, and PDQ's
    dihedral match may miss it (a silhouette of the tuning split: distance 40); the mirrored start aligns it."""
    from PIL import ImageOps

    from ascertain.imaging import compare

    im, work = apple
    monkeypatch.setattr(compare, "verify", lambda *a: None)
    monkeypatch.setattr(compare, "PDQ_NEAR", -1)
    r = compare.compare_images(work, load(enc(ImageOps.mirror(im)), "mirrored"))
    assert r["decision"] == "copied" and r["region"]["mirrored"], r
    assert r["dense_alignment"]["start"] == "mirrored left to right" and abs(r["region"]["rotation_degrees"]) < 0.5


def test_a_mirrored_copy_maps_each_pixel_onto_its_own():
    """The map of a copy verified on its mirror image: pixel i of a w-wide copy is pixel w - 1 - i of the work
    (before, w - i: one pixel off, and the fine detail of a texture agreed in a third of its blocks)."""
    from PIL import ImageOps

    work = load(enc(Image.fromarray(skdata.brick()).convert("RGB")), "brick")
    copy = load(enc(ImageOps.mirror(Image.fromarray(work.pixels))), "mirrored")
    r = compare_images(work, copy)
    assert r["tier"] == "region_copy" and r["region"]["mirrored"], r
    a = np.asarray(r["region"]["affine"])
    assert abs(a[0, 0] + 1) < 0.01 and abs(a[0, 2] - (work.pixels.shape[1] - 1)) < 0.3, a
    assert r["detail_share"] > 0.95
