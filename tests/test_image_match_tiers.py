"""The watermark and learned tiers of `ascertain match` on images, on real photographs (scikit-image's bundled
ones) and real watermarked files:
- every image of an output set is checked for the open generators' invisible watermark: files written by the
  `invisible-watermark` package itself and photographs watermarked here are found with their message, an
  unwatermarked output is not, and the result is stored per output, attached to an output's copy evidence and
  shown in `show`, the CSV and the report;
- `--learned-model` (a tiny model trained in the test): a thumbnail-sized, blurred copy that the hash and
  geometric tiers reject is recorded as tier `learned`, with the model pinned in the run's manifest; in a
  source too large to verify every pair, a crop the PDQ scan misses reaches verification as a learned
  candidate."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.imaging.watermark import KNOWN, embed
from ascertain.store import schema

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).parent))
from ascertain.imaging.learned import LearnedDescriptor, small_embedder  # noqa: E402
from test_learned_descriptor import SIDE, _batch, _photos, _variant  # noqa: E402

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def run(*args) -> str:
    """The command's output, its lines joined (80 columns wrap long lines)."""
    r = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    return " ".join(r.output.split())


def _works(c: Path) -> list[dict]:
    return json.loads(runner.invoke(app, ["show", str(c), "--json"]).output)["works"]


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _save(a: np.ndarray, path: Path) -> None:
    Image.fromarray(a).save(path, "PNG")


def _thumbnail_copy(a: np.ndarray) -> np.ndarray:
    """A degraded copy: reduced to a 24-pixel-wide thumbnail, blurred (radius 2: at 1 the dense alignment of
    imaging/regions.py aligns most of them, correlation 0.84-0.88), shown again at 96 pixels."""
    im = Image.fromarray(a)
    im = im.resize((24, 24 * im.height // im.width)).filter(ImageFilter.GaussianBlur(2))
    return np.asarray(im.resize((96, 96 * a.shape[0] // a.shape[1])))


def _crop(a: np.ndarray, f: float) -> np.ndarray:
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[int(h * f):h - int(h * f), int(w * f):w - int(w * f)])


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A tiny descriptor trained here on the works' photographs (as tests/test_learned_descriptor.py does)."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = random.Random(0)
    photos = _photos()
    net = small_embedder(16, 32)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    prep = LearnedDescriptor.__new__(LearnedDescriptor)
    prep.side, prep.mean, prep.std = SIDE, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for _ in range(80):
        a = _batch([_variant(p, rng) for p in photos], prep)
        b = _batch([_variant(p, rng) for p in photos], prep)
        za = torch.nn.functional.normalize(net(a), dim=1)
        zb = torch.nn.functional.normalize(net(b), dim=1)
        loss = torch.nn.functional.cross_entropy(za @ zb.T / 0.1, torch.arange(len(photos)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 3, SIDE, SIDE)), path)
    return path


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    root = tmp_path_factory.mktemp("tiers")
    photos = _photos()  # astronaut, coffee, chelsea, rocket, motorcycle, hubble (160 px)
    works, corpus, outputs = root / "works", root / "corpus", root / "outputs"
    for d in (works, corpus, outputs):
        d.mkdir()
    for i in (1, 2, 3, 5):
        _save(photos[i], works / f"work{i}.png")
    _save(_thumbnail_copy(photos[1]), corpus / "thumb1.png")  # rejected by hash and geometry (measured)
    _save(_thumbnail_copy(photos[2]), corpus / "thumb2.png")
    _save(photos[0], corpus / "unrelated.png")
    sdxl = next(m for m in KNOWN if m.name == "SDXL").bits
    flux = next(m for m in KNOWN if m.name == "FLUX").bits
    big = np.asarray(Image.fromarray(photos[3]).resize((320, 320 * photos[3].shape[0] // photos[3].shape[1])))
    _save(embed(big, sdxl), outputs / "a-work-copied-with-sdxl-mark.png")  # copies work 3 and carries SDXL
    _save(embed(np.asarray(Image.fromarray(photos[4]).resize((320, 240))), flux), outputs / "flux-mark.png")
    _save(photos[0], outputs / "no-mark.png")
    for name in ("watermark_sdxl_by_invisible_watermark_0.2.0.png", "watermark_sd1_by_invisible_watermark_0.2.0.png"):
        (outputs / name).write_bytes((DATA / name).read_bytes())  # written by the package itself
    c = root / "case"
    run("init", c)
    run("works", "add", c, works, "--claimant", "A. Photographer")
    run("corpus", "add", c, "corpus", corpus)
    run("outputs", "add", c, "gen", outputs)
    return c, photos


def _evidence(c: Path) -> list[dict]:
    case = Case.open(c)
    with case.store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(schema.image_evidence, schema.work_files.c.path, schema.sources.c.name)
            .join(schema.work_files, schema.work_files.c.id == schema.image_evidence.c.work_file_id)
            .join(schema.sources, schema.sources.c.id == schema.image_evidence.c.source_id)).mappings()]


def test_outputs_are_checked_for_the_generators_watermark(case, tmp_path):
    c, _ = case
    out = run("match", c)
    assert "invisible watermark of an open generator in 4 of 5 outputs (FLUX 1, SDXL 2, StableDiffusionV1 1)" in out
    with Case.open(c).store.engine.connect() as conn:
        marks = {Path(r["locator"]).name: r for r in conn.execute(select(schema.image_watermarks)).mappings()}
    assert {n: (m["status"], m["message"]) for n, m in marks.items()} == {
        "a-work-copied-with-sdxl-mark.png": ("present", "SDXL"), "flux-mark.png": ("present", "FLUX"),
        "no-mark.png": ("absent", None),
        "watermark_sdxl_by_invisible_watermark_0.2.0.png": ("present", "SDXL"),
        "watermark_sd1_by_invisible_watermark_0.2.0.png": ("present", "StableDiffusionV1")}
    assert marks["no-mark.png"]["p_family"] > 1e-4 and marks["flux-mark.png"]["p_family"] < 1e-9
    assert "absent proves nothing" in marks["no-mark.png"]["facts"]["cannot_show"]
    assert "does not identify the model" in marks["flux-mark.png"]["facts"]["shows"]
    # the output copying work 3 carries its check in the evidence; corpus evidence carries none
    ev = _evidence(c)
    gen = [e for e in ev if e["name"] == "gen" and Path(e["path"]).name == "work3.png"]
    assert gen and gen[0]["facts"]["watermark"]["message"] == "SDXL"
    assert all("watermark" not in e["facts"] for e in ev if e["name"] == "corpus")
    summary = run("show", c)
    assert "gen: invisible watermark of an open generator in 4 of 5 outputs" in summary
    work3 = next(w for w in _works(c) if w["title"].startswith("work3"))
    shown = run("show", c, str(work3["id"]))
    assert "invisible watermark in gen: …/outputs/a-work-copied-with-sdxl-mark.png: SDXL (4" in shown
    run("show", c, "--csv", tmp_path / "ev.csv")
    rows = _csv(tmp_path / "ev.csv")
    marked = [r for r in rows if r["source"] == "gen" and r["work_file"].endswith("work3.png")]
    assert marked and marked[0]["watermark"] == "SDXL" and float(marked[0]["watermark_p"]) < 1e-9
    # the same checks again: the same stored rows (byte-reproducible evidence)
    before = sorted((r["doc_id"], r["status"], r["agree"], r["p_family"]) for r in marks.values())
    run("match", c)
    with Case.open(c).store.engine.connect() as conn:
        again = sorted((r["doc_id"], r["status"], r["agree"], r["p_family"])
                       for r in conn.execute(select(schema.image_watermarks)).mappings())
    assert again == before


def test_the_learned_tier_records_what_hash_and_geometry_miss(case, model, tmp_path):
    c, _ = case
    run("match", c)
    plain = {(Path(e["path"]).name, Path(e["doc_locator"]).name) for e in _evidence(c) if e["name"] == "corpus"}
    assert ("work1.png", "thumb1.png") not in plain and ("work2.png", "thumb2.png") not in plain
    out = run("match", c, "--learned-model", model, "--learned-side", SIDE, "--learned-threshold", 0.8)
    assert "images:" in out
    ev = [e for e in _evidence(c) if e["name"] == "corpus"]
    learned = {(Path(e["path"]).name, Path(e["doc_locator"]).name): e for e in ev if e["tier"] == "learned"}
    assert set(learned) == {("work1.png", "thumb1.png"), ("work2.png", "thumb2.png")}
    for e in learned.values():
        assert e["copied"] and e["facts"]["learned"]["cosine"] >= 0.8 and e["work_region"] is None
    assert not any(Path(e["doc_locator"]).name == "unrelated.png" for e in ev)
    case_ = Case.open(c)
    with case_.store.engine.connect() as conn:
        m = conn.execute(select(schema.runs.c.manifest).where(schema.runs.c.stage == "match images")
                         .order_by(schema.runs.c.id.desc())).scalars().first()
    assert m["parameters"]["learned"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert m["parameters"]["learned"]["threshold"] == 0.8 and m["parameters"]["learned"]["side"] == SIDE
    work1 = next(w for w in _works(c) if w["title"].startswith("work1"))
    assert "learned corpus …orpus/thumb1.png similar by the" in run("show", c, str(work1["id"]))
    shown = json.loads(runner.invoke(app, ["show", str(c), str(work1["id"]), "--json"]).output)["image_evidence"]
    assert [e["learned"]["cosine"] >= 0.8 for e in shown if e["tier"] == "learned"] == [True]
    run("show", c, "--csv", tmp_path / "ev.csv")
    rows = [r for r in _csv(tmp_path / "ev.csv") if r["image_tier"] == "learned"]
    assert len(rows) == 2 and all(float(r["learned_cosine"]) >= 0.8 for r in rows)
    run("report", c)
    html = (c / "reports" / "report" / "report.html").read_text()
    assert "Invisible watermarks in output sets" in html and "SDXL 2" in html
    assert "similar by a learned descriptor from a model file the user supplied" in html
    assert "verified" in run("verify", c / "reports" / "report")


def test_a_learned_candidate_reaches_verification_in_a_large_source(model, tmp_path):
    photos = _photos()
    works, corpus = tmp_path / "works", tmp_path / "corpus"
    works.mkdir()
    corpus.mkdir()
    _save(photos[2], works / "work2.png")
    _save(_crop(photos[2], 0.12), corpus / "cropped.png")  # 12 % off every side: beyond the scan's radius 0
    _save(photos[0], corpus / "unrelated.png")
    c = tmp_path / "case"
    run("init", c)
    run("works", "add", c, works, "--claimant", "A. Photographer")
    run("corpus", "add", c, "corpus", corpus)
    scan_only = ("--image-exhaustive-pairs", 0, "--image-radius", 0)  # as in a corpus too large for every pair
    run("match", c, *scan_only, "--allow-empty")
    assert not _evidence(c)
    run("match", c, *scan_only, "--learned-model", model, "--learned-side", SIDE, "--learned-threshold", 0.8)
    ev = _evidence(c)
    assert [Path(e["doc_locator"]).name for e in ev] == ["cropped.png"]
    assert ev[0]["tier"] == "region_copy" and ev[0]["facts"]["candidate_by"].startswith("learned descriptor cosine")
    assert ev[0]["facts"]["learned"]["similar"]


def test_a_model_url_or_missing_file_is_refused_before_matching(case):
    c, _ = case
    r = runner.invoke(app, ["match", str(c), "--learned-model", "https://example.org/m.onnx"])
    assert r.exit_code != 0 and "never downloaded" in r.output
    r = runner.invoke(app, ["match", str(c), "--learned-model", str(c / "none.pt")])
    assert r.exit_code != 0 and "is not a model file" in r.output



