"""Images as evidence: copies in each tier found with their region and transformation, distinct images not,
image CMI read and its status in a copy, hostile images refused with the reason, the dihedral order measured."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.cmi.image import image_cmi_status, read_image_cmi
from ascertain.errors import AscertainError
from ascertain.imaging.compare import compare_images, load
from ascertain.imaging.decode import decode

skdata = pytest.importorskip("skimage.data")
runner = CliRunner()


def enc(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


@pytest.fixture(scope="module")
def astronaut():
    im = Image.fromarray(skdata.astronaut())
    return im, load(enc(im), "astronaut.png")


@pytest.mark.parametrize("name,make,tier", [
    ("jpeg q30", lambda im: enc(im, "JPEG", quality=30), "near_duplicate"),
    ("half size", lambda im: enc(im.resize((256, 256))), "near_duplicate"),
    ("mirrored", lambda im: enc(ImageOps.mirror(im)), "near_duplicate"),
    ("grayscale", lambda im: enc(ImageOps.grayscale(im)), "near_duplicate"),
    ("crop 20% per side", lambda im: enc(im.crop((102, 102, 410, 410))), "region_copy"),
    ("pad 20%", lambda im: enc(ImageOps.expand(im, border=102, fill=(0, 0, 0))), "region_copy"),
    ("rotated 5°", lambda im: enc(im.rotate(5, expand=True)), "region_copy"),
])
def test_copies_are_found_in_their_tier(astronaut, name, make, tier):
    im, work = astronaut
    r = compare_images(work, load(make(im), name))
    assert r["decision"] == "copied" and r["tier"] == tier, (name, r)


def test_a_crop_reports_its_region_share_and_a_rotation_its_angle(astronaut):
    im, work = astronaut
    crop = compare_images(work, load(enc(im.crop((102, 102, 410, 410))), "crop"))
    x0, y0, x1, y1 = crop["region"]["work_region"]
    assert abs(x0 - 0.2) < 0.02 and abs(x1 - 0.8) < 0.02 and abs(y0 - 0.2) < 0.02 and abs(y1 - 0.8) < 0.02
    assert abs(crop["work_area_share"] - 0.36) < 0.03
    rot = compare_images(work, load(enc(im.rotate(5, expand=True)), "rot"))
    assert abs(rot["region"]["rotation_degrees"] - 5) < 0.5 and abs(rot["region"]["scale"] - 1) < 0.03


def test_a_work_pasted_into_another_image_is_located(astronaut):
    im, work = astronaut
    bg = Image.fromarray(skdata.coffee()).resize((800, 800))
    bg.paste(im.resize((506, 506)), (150, 150))
    r = compare_images(work, load(enc(bg), "pasted"))
    assert r["tier"] == "region_copy"
    x0, y0, x1, y1 = r["region"]["copy_region"]
    assert abs(x0 - 150 / 800) < 0.02 and abs(x1 - 656 / 800) < 0.02 and abs(y0 - 150 / 800) < 0.02


def test_identical_files_and_pixels_and_distinct_images(astronaut):
    im, work = astronaut
    assert compare_images(work, load(enc(im), "same"))["tier"] == "same_bytes"
    assert compare_images(work, load(enc(im, "PNG", compress_level=1), "resaved"))["tier"] == "same_pixels"
    for other in (skdata.coffee(), skdata.chelsea(), skdata.rocket()):
        r = compare_images(work, load(enc(Image.fromarray(other)), "other"))
        assert r["decision"] == "not_copied", r


def test_pdq_dihedral_order_is_the_one_the_names_say(astronaut):
    im, work = astronaut
    from ascertain.imaging.compare import pdq_distance

    for make, name in ((lambda i: i.rotate(-90, expand=True), "rotated 90° clockwise"),
                       (lambda i: i.rotate(90, expand=True), "rotated 90° counter-clockwise"),
                       (ImageOps.mirror, "mirrored left to right"), (ImageOps.flip, "flipped top to bottom")):
        d, orient = pdq_distance(work.descriptors, load(enc(make(im)), name).descriptors)
        assert orient == name and d <= 31


def _iptc_jpeg(jpeg: bytes, byline: str, notice: str) -> bytes:
    """A JPEG with an IPTC-IIM block (APP13 Photoshop resource 0x0404), written by hand as a camera would."""
    iim = b"".join(b"\x1c\x02" + bytes([ds]) + struct.pack(">H", len(v)) + v
                   for ds, v in ((80, byline.encode()), (116, notice.encode())))
    res = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    if len(iim) % 2:
        res += b"\x00"
    payload = b"Photoshop 3.0\x00" + res
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmpRights="http://ns.adobe.com/xap/1.0/'
       'rights/" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" plus:DataMining="http://ns.useplus.org/ldf/vocab/'
       'DMI-PROHIBITED"><dc:creator><rdf:Seq><rdf:li>Ana Artist</rdf:li></rdf:Seq></dc:creator><dc:rights>'
       '<rdf:Alt><rdf:li xml:lang="x-default">© 2021 Ana Artist</rdf:li></rdf:Alt></dc:rights>'
       '<xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang="x-default">All rights reserved</rdf:li></rdf:Alt>'
       '</xmpRights:UsageTerms></rdf:Description></rdf:RDF></x:xmpmeta>')


def _with_cmi(im: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Ana Artist"
    exif[0x8298] = "Copyright 2021 Ana Artist"
    return _iptc_jpeg(enc(im, "JPEG", quality=92, exif=exif, xmp=XMP.encode()), "Ana Artist", "(c) 2021 Ana Artist")


def test_image_cmi_is_read_from_exif_iptc_and_xmp(astronaut):
    im, _ = astronaut
    f = read_image_cmi(_with_cmi(im))["fields"]
    assert f["exif:Artist"] == "Ana Artist" and f["exif:Copyright"] == "Copyright 2021 Ana Artist"
    assert f["iptc:By-line"] == "Ana Artist" and f["iptc:CopyrightNotice"] == "(c) 2021 Ana Artist"
    assert f["xmp:dc:creator"] == "Ana Artist" and f["xmp:dc:rights"] == "© 2021 Ana Artist"
    assert f["xmp:xmpRights:UsageTerms"] == "All rights reserved"
    assert f["xmp:plus:DataMining"].endswith("DMI-PROHIBITED")


def test_image_cmi_status_kept_altered_removed_never(astronaut):
    im, _ = astronaut
    work = read_image_cmi(_with_cmi(im))
    assert image_cmi_status(work, work)["status"] == "retained"
    stripped = read_image_cmi(enc(im.resize((256, 256)), "JPEG", quality=80))  # a scraper's re-encode
    assert image_cmi_status(work, stripped)["status"] == "removed"
    exif = Image.Exif()
    exif[0x013B] = "Someone Else"
    altered = read_image_cmi(enc(im, "JPEG", exif=exif))
    st = image_cmi_status(work, altered)
    assert st["status"] == "altered" and st["fields"]["exif:Artist"]["status"] == "altered"
    assert image_cmi_status(stripped, stripped)["status"] == "never_present"


def test_hostile_images_are_refused_with_the_reason(tmp_path):
    bomb = enc(Image.new("1", (20000, 20000)))  # 50 KB declaring 400 million pixels
    with pytest.raises(AscertainError, match="bomb|pixel"):
        decode(bomb, "bomb.png")
    good = enc(Image.fromarray(skdata.astronaut()), "JPEG")
    with pytest.raises(AscertainError, match="damaged|truncated|not a readable"):
        decode(good[: len(good) // 3], "cut.jpg")
    import weasyprint  # noqa: F401 (sets Pillow's LOAD_TRUNCATED_IMAGES process-wide: a report built in this process)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    with pytest.raises(AscertainError, match="damaged|truncated"):
        decode(good[: len(good) // 3], "cut.jpg")
    with pytest.raises(AscertainError, match="not a readable"):
        decode(b"GIF89a" + b"\x00" * 10, "junk.gif")
    cmyk = decode(enc(Image.fromarray(skdata.astronaut()).convert("CMYK"), "JPEG"), "cmyk.jpg")
    assert cmyk.mode == "CMYK" and cmyk.pixels.shape[2] == 3
    deep = decode(enc(Image.fromarray((np.arange(256 * 256).reshape(256, 256) % 65536).astype(np.uint16))), "16.png")
    assert deep.pixels.dtype == np.uint8
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 255, 0))]
    anim = io.BytesIO()
    frames[0].save(anim, "GIF", save_all=True, append_images=frames[1:])
    g = decode(anim.getvalue(), "anim.gif")
    assert g.frames == 2 and tuple(g.pixels[0, 0]) == (255, 0, 0)


def test_compare_command_on_two_images(tmp_path, astronaut):
    im, _ = astronaut
    (tmp_path / "work.jpg").write_bytes(_with_cmi(im))
    (tmp_path / "copy.png").write_bytes(enc(im.crop((50, 50, 480, 480))))
    r = runner.invoke(app, ["compare", str(tmp_path / "work.jpg"), str(tmp_path / "copy.png"), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["decision"] == "copied" and d["tier"] == "region_copy" and d["cmi"]["status"] == "removed"
    r = runner.invoke(app, ["compare", str(tmp_path / "work.jpg"), str(tmp_path / "copy.png")])
    assert "COPIED" in r.output and "exif:Artist: removed" in r.output


def test_validate_images_runs_through_the_candidate_stage(tmp_path):
    from ascertain.validation.images import design_family, markdown, run_image_validation

    r = run_image_validation(["skimage"], works=6, pairs=40, seed=3, only=("jpeg q30", "crop 10%", "mirror"))
    s = r["sources"]["skimage"]
    assert s["works"] == 3 and s["corpus"] == 9 and len(s["recall"]) == 3
    assert all(v["ascertain"]["n"] == 3 for v in s["recall"].values())
    assert s["recall"]["jpeg q30"]["ascertain"]["k"] == 3  # found through the candidates, decided copied
    fp = s["false_positives"]
    assert fp["pairs"] + fp["family_pairs"] == 3 * 6 and fp["ascertain"]["k"] == 0
    md = markdown(r, "ascertain validate --images --works 6")
    assert "| crop 10% | ≥ 0.95 |" in md and "False positives on 18 (work, image) pairs" in md
    assert design_family("a/smiley104.png", "a/smiley112.png") and design_family("x/cat_01.png", "x/cat_02.png")
    assert not design_family("a/smiley104.png", "b/smiley112.png") and not design_family("a/cat.png", "a/dog.png")


def test_the_region_carries_its_pixel_map(astronaut):
    from ascertain.imaging.regions import verify

    im, work = astronaut
    copy = load(enc(im.crop((102, 102, 410, 410))), "crop")
    r = verify(work.descriptors, copy.descriptors, copy.pixels)
    x, y = r.affine @ np.array([200.0, 300.0, 1.0])  # work pixel (200, 300) is at (98, 198) in the crop
    assert abs(x - 98) < 3 and abs(y - 198) < 3


def test_the_stored_map_is_what_the_exhibit_draws_with(astronaut):
    from ascertain.imaging.regions import affine_array
    from ascertain.report.image_exhibits import work_to_copy

    im, work = astronaut
    # a small copy enlarged for local features: the stored map is in decoded pixels of both images
    copy = load(enc(im.crop((102, 102, 410, 410)).resize((154, 154))), "crop-half")
    r = compare_images(work, copy)
    stored = affine_array(r["region"]["affine"])
    x, y = stored @ np.array([200.0, 300.0, 1.0])  # (98, 198) in the crop, halved
    assert abs(x - 49) < 2 and abs(y - 99) < 2
    a, how = work_to_copy(work, copy, json.loads(json.dumps(r)))  # as the evidence store holds it
    assert how == "features" and np.array_equal(a, stored)
    # evidence written before the map was stored: refitted from the features, the same map within a pixel
    old = json.loads(json.dumps(r))
    del old["region"]["affine"]
    b, how = work_to_copy(work, copy, old)
    assert how == "features" and np.abs(b @ [200.0, 300.0, 1.0] - stored @ [200.0, 300.0, 1.0]).max() < 2


def test_the_pixel_check_keeps_a_copy_and_rejects_a_fit_the_pixels_do_not_bear(astronaut):
    from ascertain.imaging.regions import pixel_agreement, verify

    im, work = astronaut
    copy = load(enc(im.rotate(5, expand=True).resize((300, 300)), "JPEG", quality=40), "rotated")
    r = verify(work.descriptors, copy.descriptors, copy.pixels)
    assert pixel_agreement(work.pixels, copy.pixels, r.affine) > 0.9
    # the same geometry laid over another picture: features could fit it by chance, the pixels do not agree
    other = load(enc(Image.fromarray(skdata.coffee()).resize((300, 300))), "coffee")
    assert pixel_agreement(work.pixels, other.pixels, r.affine) < 0.3
    # a map that puts the work outside the copy's frame leaves nothing to check
    far = r.affine.copy()
    far[:, 2] += 5000
    assert pixel_agreement(work.pixels, copy.pixels, far) is None


def test_a_region_whose_pixels_disagree_is_not_a_copy(astronaut, monkeypatch):
    from ascertain.imaging import compare

    im, work = astronaut
    copy = load(enc(im.crop((102, 102, 410, 410))), "crop")
    r = compare.compare_images(work, copy)
    assert r["tier"] == "region_copy" and r["pixel_correlation"] > 0.9
    monkeypatch.setattr(compare, "MIN_CORRELATION", 1.5)  # beyond any correlation
    monkeypatch.setattr(compare, "DENSE_MIN_CORRELATION", 1.5)  # and the dense alignment's too
    r = compare.compare_images(work, copy)
    assert r["decision"] == "not_copied" and "pixels correlate" in compare.summary(r)
    assert "aligned pixels correlate" in compare.summary(r)  # the dense path ran, found the crop, was refused


def test_candidate_features_take_the_edges_last(astronaut):
    from ascertain.imaging.candidates import EDGE, strongest_features

    _, work = astronaut
    d = work.descriptors
    h, w = d.shape[0] * d.feature_scale, d.shape[1] * d.feature_scale
    x, y = d.keypoints[:, 0] / w, d.keypoints[:, 1] / h
    inner = (x >= EDGE) & (x <= 1 - EDGE) & (y >= EDGE) & (y <= 1 - EDGE)
    k = int(inner.sum()) + 5
    picked = strongest_features(d, k)
    assert np.array_equal(picked[:-5], d.features[inner])  # the inner ones, strongest first
    assert np.array_equal(picked[-5:], d.features[~inner][:5])  # then the strongest at the edges


def test_pairs_by_one_author_are_set_apart(tmp_path):
    from PIL import PngImagePlugin

    from ascertain.validation.images import same_author

    def png(name: str, author: str | None) -> str:
        info = PngImagePlugin.PngInfo()
        if author:
            info.add_text("Author", author)
        p = tmp_path / name
        Image.new("RGB", (8, 8)).save(p, pnginfo=info)
        return str(p)

    a, b = png("sign_a.png", "Yves  GUILLOU"), png("sign_b.png", "yves guillou")
    c, d = png("tree.png", "Jean-Victor Balin"), png("dog.png", None)
    assert same_author(a, b) and not same_author(a, c) and not same_author(d, png("cat.png", None))
    assert same_author(str(tmp_path / "smiley104.png"), str(tmp_path / "smiley112.png"))  # numbered, no file
