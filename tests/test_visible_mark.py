"""A work's visible signature region (works list `signature_box`), checked in each copy with the match's stored
transform: kept in a re-encoded copy, removed when blurred out or painted over, cropped out when the copy cuts it
off; the field counts as image CMI (show, CSV, report rates); a bad box is a recorded skip and the work is kept;
an automatic candidate is found in a plain corner holding writing and is reported apart from the CMI."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.imaging.compare import compare_images, load
from ascertain.imaging.visible_mark import check_mark, copy_map, find_corner_mark
from ascertain.store import schema
from ascertain.validation.visible_marks import _font, _rgb, make_copy, sign

WORKS = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images" / "works"
runner = CliRunner()


def run(*args) -> str:
    r = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    return " ".join(r.output.split())


def _signed(name: str, text: str = "R. Lindqvist 2021") -> tuple[Image.Image, list[int]]:
    """The demo work with a signature written bottom right; its box."""
    im = _rgb(WORKS / name)
    d = ImageDraw.Draw(im)
    font = _font(max(14, im.height // 18))
    left, top, right, bottom = d.textbbox((0, 0), text, font=font)
    x, y = im.width - (right - left) - 12, im.height - (bottom - top) - 12
    d.text((x - left, y - top), text, font=font, fill=(25, 25, 25))
    return im, [x, y, right - left, bottom - top]


def _save(im: Image.Image, path: Path, fmt: str = "PNG", **kw) -> None:
    im.save(path, fmt, **kw)


def test_signature_status_in_copies_through_the_case(tmp_path):
    signed, box = _signed("saturn.jpg")
    works = tmp_path / "works"
    corpus = tmp_path / "corpus"
    works.mkdir()
    corpus.mkdir()
    _save(signed, works / "saturn-signed.png")
    _save(_rgb(WORKS / "jupiter.png"), works / "jupiter.png")
    x, y, w, h = box
    kept = signed.resize((int(signed.width * 0.8), int(signed.height * 0.8)), Image.Resampling.LANCZOS)
    _save(kept, corpus / "kept.jpg", "JPEG", quality=85)
    blurred = signed.copy()
    area = (x - 4, y - 4, x + w + 4, y + h + 4)
    blurred.paste(blurred.crop(area).filter(ImageFilter.GaussianBlur(h)), area[:2])  # illegible
    _save(blurred.crop((20, 15, blurred.width, blurred.height)), corpus / "blurred.jpg", "JPEG", quality=85)
    painted = signed.copy()
    ImageDraw.Draw(painted).rectangle(area, fill=tuple(int(v) for v in np.median(
        np.asarray(signed.crop((area[0] - 6, area[1] - 6, area[2] + 6, area[3] + 6))).reshape(-1, 3), axis=0)))
    _save(painted.crop((20, 15, painted.width, painted.height)), corpus / "painted.png")
    _save(signed.crop((0, 0, signed.width, y - 3)), corpus / "cropped.png")  # the strip holding it cut off
    listing = tmp_path / "works.csv"
    with open(listing, "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh)
        wr.writerow(["path", "title", "claimant", "signature_box"])
        wr.writerow([str(works / "saturn-signed.png"), "Saturn, signed", "R. Lindqvist", ",".join(map(str, box))])
        wr.writerow([str(works / "jupiter.png"), "Jupiter", "R. Lindqvist", "9000,10,50,20"])  # outside the image
    case = tmp_path / "case"
    run("init", case)
    run("works", "import", case, listing)
    skips = json.loads(runner.invoke(app, ["show", str(case), "--skipped", "--json"]).output)
    assert any("signature_box not used" in s["reason"] and s["locator"].endswith("jupiter.png") for s in skips)
    run("corpus", "add", case, "corpus", corpus)
    run("match", case)
    with Case.open(case).store.engine.connect() as conn:
        ev = {Path(r["doc_locator"]).name: dict(r) for r in conn.execute(select(schema.image_evidence)).mappings()}
    got = {n: e["facts"]["visible_mark"]["status"] for n, e in ev.items() if "visible_mark" in e["facts"]}
    assert got == {"kept.jpg": "kept", "blurred.jpg": "removed", "painted.png": "removed",
                   "cropped.png": "cropped_out"}, {n: e["facts"].get("visible_mark") for n, e in ev.items()}
    assert ev["kept.jpg"]["cmi"]["visible:mark"]["status"] == "kept"
    assert ev["cropped.png"]["cmi"]["visible:mark"]["status"] == "removed"  # cropped out: the CMI is gone
    assert ev["cropped.png"]["cmi"]["visible:mark"]["how"] == "cropped_out"
    assert ev["cropped.png"]["cmi_status"] == "removed" and ev["kept.jpg"]["cmi_status"] == "retained"
    summary = run("show", case)
    assert "corpus: visible mark (declared) in 4 copies: cropped out 1, kept 1, removed 2" in summary
    shown = run("show", case, "1")
    assert "visible mark in corpus: …/corpus/kept.jpg: declared signature kept (correlation" in shown
    assert "visible:mark declared: box " in shown  # the work's own CMI lists the declared region
    run("show", case, "--csv", tmp_path / "ev.csv")
    with open(tmp_path / "ev.csv", encoding="utf-8") as fh:
        rows = {Path(r["document"]).name: r for r in csv.DictReader(fh)}
    assert rows["blurred.jpg"]["visible_mark"] == "removed" and rows["kept.jpg"]["visible_mark_source"] == "declared"
    run("report", case)
    html = (case / "reports" / "report" / "report.html").read_text()
    assert "Visible signatures and watermark regions in copies" in html
    assert "verified" in run("verify", case / "reports" / "report")


def test_the_automatic_candidate_and_its_check():
    signed, box = _signed("jupiter.png", "K. Brandt")
    work = load(_png(signed), "w.png")
    cand = find_corner_mark(work.pixels)
    assert cand and cand["corner"] == "bottom right"
    s = work.pixels.shape[1] / signed.width
    bx, by, bw, bh = (v / s for v in cand["box"])
    assert bx <= box[0] + 4 and by <= box[1] + 4 and bx + bw >= box[0] + box[2] - 4  # it holds the signature
    for name in ("apple-with-worm.png", "full-moon.jpg", "saturn.jpg"):  # plain works: no candidate
        assert find_corner_mark(load((WORKS / name).read_bytes(), name).pixels) is None
    rng = random.Random(5)
    for truth in ("kept", "removed", "cropped_out"):
        copy_im = make_copy(signed, box, "bottom right", truth, rng, 0)
        copy = load(_png(copy_im), "c.png")
        r = compare_images(work, copy)
        mapped = copy_map(r, work.pixels, copy.pixels)
        assert mapped is not None, r
        assert check_mark(work.pixels, copy.pixels, mapped[0], [v * s for v in box])["status"] == truth


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_the_signer_of_the_validation_draws_inside_the_image():
    im = _rgb(WORKS / "venus.jpg")
    signed, box, corner = sign(im, random.Random(1))
    x, y, w, h = box
    assert x >= 0 and y >= 0 and x + w <= signed.width and y + h <= signed.height and w > 2 * h
    assert np.abs(np.asarray(signed, np.int16) - np.asarray(im, np.int16)).sum() > 0
