"""The DWT-DCT invisible watermark of open image generators: reference vectors written by invisible-watermark
0.2.0 read bit for bit; images watermarked here detected with each known message; unwatermarked real images not;
what re-encoding and resizing do."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ascertain.imaging.watermark import KNOWN, binomial_tail, check_watermark, check_watermark_file, embed
from ascertain.validation.images import skimage_folder

DATA = Path(__file__).parent / "data"


def _photo(name: str) -> np.ndarray:
    root = skimage_folder()
    if root is None or not (root / name).exists():
        pytest.skip("scikit-image's bundled images are not installed")
    return np.asarray(Image.open(root / name).convert("RGB"))


def _by_name(r: dict) -> dict:
    return {m["message"]: m for m in r["messages"]}


def test_reference_vectors_read_bit_for_bit() -> None:
    r = check_watermark_file(str(DATA / "watermark_sdxl_by_invisible_watermark_0.2.0.png"))
    assert r["present"] and r["message"] == "SDXL"
    assert _by_name(r)["SDXL"]["agree"] == 41  # as the package's own decoder reads it
    r = check_watermark_file(str(DATA / "watermark_sd1_by_invisible_watermark_0.2.0.png"))
    assert r["present"] and r["message"] == "StableDiffusionV1"
    assert _by_name(r)["StableDiffusionV1"]["agree"] == 136


@pytest.mark.parametrize("message", [m.name for m in KNOWN])
def test_each_known_message_embedded_here_is_found(message: str) -> None:
    rgb = _photo("astronaut.png")
    m = next(k for k in KNOWN if k.name == message)
    r = check_watermark(embed(rgb, m.bits))
    assert r["present"] and r["message"] == message
    assert _by_name(r)[message]["agree"] == len(m.bits)
    assert _by_name(r)[message]["p_value"] < 1e-9


@pytest.mark.parametrize("name", ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "hubble_deep_field.jpg"])
def test_unwatermarked_photographs_are_not_flagged(name: str) -> None:
    r = check_watermark(_photo(name))
    assert not r["present"]
    assert min(m["p_family"] for m in r["messages"]) > 1e-4


def _jpeg(rgb: np.ndarray, **kw) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", **kw)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_survives_full_chroma_jpeg_not_subsampling_or_resize() -> None:
    rgb = _photo("astronaut.png")
    sdxl = next(k for k in KNOWN if k.name == "SDXL")
    marked = embed(rgb, sdxl.bits)
    assert check_watermark(_jpeg(marked, quality=90, subsampling=0))["message"] == "SDXL"  # 4:4:4
    # the usual 4:2:0 JPEG halves the chroma planes the watermark lives in
    assert not check_watermark(_jpeg(marked, quality=95))["present"]
    half = np.asarray(Image.fromarray(marked).resize((rgb.shape[1] // 2, rgb.shape[0] // 2), Image.Resampling.BICUBIC))
    assert not check_watermark(half)["present"]  # resizing moves the block grid: the watermark is gone


def test_binomial_tail() -> None:
    assert binomial_tail(48, 48) == pytest.approx(2.0 ** -48)
    assert binomial_tail(0, 48) == pytest.approx(1.0)
    assert binomial_tail(24, 48) == pytest.approx(0.5573, abs=1e-3)


def test_cli(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from ascertain.cli import app

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    r = CliRunner().invoke(app, ["watermark", str(DATA / "watermark_sd1_by_invisible_watermark_0.2.0.png"),
                                 str(bad), "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got[0]["present"] and got[0]["message"] == "StableDiffusionV1"
    assert "not a readable image" in got[1]["error"]
