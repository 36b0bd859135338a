"""Image exhibits (report/image_exhibits.py) on the demo's planted copies: same scale, region outlined on both,
difference view, transformation and CMI per field, the same bytes every time, pictures withheld when redacted."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ascertain.cmi.image import image_cmi_status, read_image_cmi
from ascertain.imaging.compare import compare_images, load
from ascertain.report.image_exhibits import image_exhibit, render_page

IMAGES = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images"


def planted(work_file: str, kind_word: str) -> tuple[bytes, bytes, dict, dict]:
    p = next(p for p in json.loads((IMAGES / "planted.json").read_text())
             if p["work_file"] == work_file and kind_word in p["kind"])
    work = (IMAGES / "works" / work_file).read_bytes()
    if p["source"] == "images-corpus":
        with tarfile.open(IMAGES / "corpus" / "00000.tar") as tar:
            copy = tar.extractfile(p["document"].split("!", 1)[1]).read()
    else:
        copy = (IMAGES / "outputs" / p["document"]).read_bytes()
    r = compare_images(load(work, work_file), load(copy, p["document"]))
    r["cmi"] = image_cmi_status(read_image_cmi(work), read_image_cmi(copy))
    return work, copy, r, p


def exhibit(work_file: str, kind_word: str, **kw) -> tuple[dict, dict]:
    work, copy, r, p = planted(work_file, kind_word)
    return image_exhibit(work, copy, r, number="IMG-1", work_name=work_file, copy_name=p["document"], **kw), p


def png(b: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))


def red(px: np.ndarray) -> np.ndarray:
    return (px[..., 0] > 180) & (px[..., 1] < 80) & (px[..., 2] < 80)


def test_a_crop_is_outlined_on_the_work_and_the_diff_shows_what_the_copy_lacks():
    e, p = exhibit("full-moon.jpg", "cropped")
    assert e["tier"] == "region_copy" == p["tier"] and e["mapping"] == "features"
    assert 0.45 <= e["share"] <= 0.53  # 70% x 70% of the work
    assert "cut off: left 15%, top 15%, right 15%, bottom 15%" in e["transform"]
    pair, diff = png(e["pair_png"]), png(e["diff_png"])
    # the outline on the work: a red box inside the left panel, about 15% in from each side
    left = pair[:, : e["diff_size"][0]]
    ys, xs = np.nonzero(red(left))
    w, h = e["diff_size"]
    assert abs(xs.min() / w - 0.15) < 0.03 and abs(xs.max() / w - 0.85) < 0.03
    assert abs(ys.min() / h - 0.15) < 0.03 and abs(ys.max() / h - 0.85) < 0.03
    # the difference view: grey where the copy holds nothing (the cut-off border), near-white inside
    assert (diff[5, 5] == (222, 222, 222)).all() and diff[h // 2, w // 2].min() > 200
    assert e["differing_share"] < 0.02
    assert e["cmi_status"] == "removed" and {r["status"] for r in e["cmi_rows"]} == {"removed"}
    assert {"EXIF Artist", "IPTC By-line", "XMP dc:creator"} <= {r["field"] for r in e["cmi_rows"]}


def test_same_scale_a_copy_pasted_small_is_drawn_so_its_detail_matches_the_work():
    e, _ = exhibit("apple-with-worm.png", "pasted")
    pair = png(e["pair_png"])
    w = e["diff_size"][0]  # the work panel's width (the diff view is drawn at the work's scale)
    ys, xs = np.nonzero(red(pair[:, w + 16:]))  # the work's frame outlined inside the flyer
    assert abs((xs.max() - xs.min()) - w) <= 6  # the outlined region is as wide as the drawn work
    assert "pasted into a larger image" in e["transform"] and e["share"] > 0.95


def test_an_overlay_shows_in_the_difference_view_and_altered_cmi_per_field():
    e, _ = exhibit("earth-and-north-star.jpg", "watermark")
    diff = png(e["diff_png"])
    h = diff.shape[0]
    band, top = diff[int(h * 0.88):int(h * 0.94)], diff[int(h * 0.05):int(h * 0.3)]
    assert (band[..., 1] < 150).mean() > 0.5 and (top[..., 1] < 150).mean() < 0.05  # red band, white elsewhere
    v, _ = exhibit("venus.jpg", "CMI replaced")
    rows = {r["field"]: r for r in v["cmi_rows"]}
    assert v["cmi_status"] == "altered" and rows["EXIF Artist"]["status"] == "altered"
    assert rows["EXIF Artist"]["in_copy"] == "stockimages.example" and rows["XMP dc:creator"]["status"] == "removed"


def test_a_mirrored_near_duplicate_is_drawn_in_the_orientation_pdq_matched():
    e, _ = exhibit("saturn.jpg", "mirrored")
    assert e["tier"] == "near_duplicate" and e["mapping"] == "orientation"
    assert "mirrored left to right" in e["transform"]
    assert e["differing_share"] < 0.2  # mapped back, the copy lies on the work (colours were boosted)


def test_same_bytes_and_the_pictures_are_byte_stable():
    e1, _ = exhibit("saturn.jpg", "same bytes")
    assert e1["tier"] == "same_bytes" and e1["differing_share"] == 0.0 and e1["cmi_status"] == "retained"
    a, _ = exhibit("jupiter.png", "rotated")
    b, _ = exhibit("jupiter.png", "rotated")
    assert a["pair_png"] == b["pair_png"] and a["diff_png"] == b["diff_png"]
    assert "rotated 4.0° counter-clockwise" in a["transform"]
    assert Image.open(io.BytesIO(a["pair_png"])).info == {}  # no metadata, no time in the file


def test_redacted_exhibit_withholds_the_copy_and_the_page_renders_to_pdf(tmp_path):
    e, _ = exhibit("mars.jpg", "resized", show_copy=False, caption="mars red planet", url="https://x.example/m.jpg")
    assert e["pair_png"] is None and e["caption"] is None and e["url"] is None
    assert all(r["in_copy"] == "(withheld)" for r in e["cmi_rows"])
    html = render_page(e, tier="redacted")
    assert "data:image/png" not in html and "withheld" in html and "x.example" not in html
    full, _ = exhibit("mars.jpg", "resized", caption="mars red planet")
    page = render_page(full)
    assert page.count("data:image/png;base64,") == 2 and "near duplicate" in page
    weasyprint = pytest.importorskip("weasyprint")
    pdf = weasyprint.HTML(string=page).write_pdf(metadata=False)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Subtype /Image") >= 2


def test_a_dense_alignment_is_described_without_feature_matches():
    """A region found by dense alignment has no feature matches to count: the exhibit says how it was checked."""
    from ascertain.report.image_exhibits import _dense_words

    dense = {"region": {"method": "dense alignment", "inliers": 0},
             "dense_alignment": {"start": "centre crop 20%", "pixel_correlation": 0.93, "detail_share": 0.875,
                                 "detail_blocks": 48}}
    assert _dense_words(dense) == ("pixels aligned densely (near the frame 'centre crop 20%'), correlation 0.93, "
                                   "detail agreeing in 88% of 48 blocks")
    assert _dense_words({"region": {"method": "local features", "inliers": 40}}) is None
