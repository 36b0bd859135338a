"""The optional learned descriptor: a tiny model trained here on real photographs (each image and its re-encoded,
cropped, recoloured versions pulled together), saved as TorchScript, as a state file and as ONNX, loaded from the
path only, giving the same embeddings in every format; copies score above the threshold, other images below."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance
from typer.testing import CliRunner

from ascertain.errors import AscertainError
from ascertain.validation.images import skimage_folder

torch = pytest.importorskip("torch")
from ascertain.imaging.learned import LearnedDescriptor, small_embedder  # noqa: E402

NAMES = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg")
SIDE = 64


def _photos() -> list[np.ndarray]:
    root = skimage_folder()
    if root is None:
        pytest.skip("scikit-image's bundled images are not installed")
    out = []
    for n in NAMES:  # reduced first: the model sees 64 px, and variants of full-size photos cost seconds
        im = Image.open(root / n).convert("RGB")
        im.thumbnail((160, 160))
        out.append(np.asarray(im))
    return out


def _variant(a: np.ndarray, rng: random.Random) -> np.ndarray:
    im = Image.fromarray(a)
    w, h = im.size
    c = rng.uniform(0, 0.15)
    im = im.crop((int(w * c * rng.random()), int(h * c * rng.random()), w - int(w * c * rng.random()),
                  h - int(h * c * rng.random())))
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.8, 1.2))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=rng.randrange(40, 95))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _batch(imgs: list[np.ndarray], d: LearnedDescriptor) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([d.prepare(a) for a in imgs]))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # a tiny model: more threads only wait on each other on a shared machine
    rng = random.Random(0)
    photos = _photos()
    model = small_embedder(16, 32)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    prep = LearnedDescriptor.__new__(LearnedDescriptor)  # only its prepare(): side and normalization
    prep.side, prep.mean, prep.std = SIDE, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for _ in range(80):  # contrastive: each photo's variant against every photo
        a = _batch([_variant(p, rng) for p in photos], prep)
        b = _batch([_variant(p, rng) for p in photos], prep)
        za = torch.nn.functional.normalize(model(a), dim=1)
        zb = torch.nn.functional.normalize(model(b), dim=1)
        loss = torch.nn.functional.cross_entropy(za @ zb.T / 0.1, torch.arange(len(photos)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    folder = tmp_path_factory.mktemp("model")
    torch.jit.save(torch.jit.trace(model, torch.zeros(1, 3, SIDE, SIDE)), folder / "tiny.pt")
    torch.save(model.state_dict(), folder / "tiny_state.pth")
    try:
        import onnx  # noqa: F401 - the exporter needs it

        torch.onnx.export(model, torch.zeros(1, 3, SIDE, SIDE), folder / "tiny.onnx", dynamo=False,
                          input_names=["images"], output_names=["embeddings"])
    except ImportError:
        pass
    return folder, photos


def test_copies_above_threshold_others_below(trained) -> None:
    folder, photos = trained
    d = LearnedDescriptor(str(folder / "tiny.pt"), side=SIDE, threshold=0.8)
    rng = random.Random(99)  # variants never seen in training
    same = [d.compare(p, _variant(p, rng))["cosine"] for p in photos]
    e = d.embed(photos)
    other = [float(e[i] @ e[j]) for i in range(len(photos)) for j in range(i + 1, len(photos))]
    assert min(same) > max(other)
    assert sum(c >= 0.8 for c in same) >= len(same) - 1
    assert all(c < 0.8 for c in other)


def test_formats_agree_and_manifest(trained) -> None:
    folder, photos = trained
    ts = LearnedDescriptor(str(folder / "tiny.pt"), side=SIDE)
    st = LearnedDescriptor(str(folder / "tiny_state.pth"), side=SIDE, state_width=16, state_dim=32)
    assert ts.format == "torchscript" and st.format.startswith("torch state")
    np.testing.assert_allclose(ts.embed(photos[:3]), st.embed(photos[:3]), atol=1e-5)
    if (folder / "tiny.onnx").exists():
        ox = LearnedDescriptor(str(folder / "tiny.onnx"), side=SIDE)
        assert ox.format.startswith("onnx")
        np.testing.assert_allclose(ts.embed(photos[:3]), ox.embed(photos[:3]), atol=1e-4)
    m = ts.manifest()
    assert m["sha256"] == __import__("hashlib").sha256((folder / "tiny.pt").read_bytes()).hexdigest()
    assert m["threshold"] == 0.9 and m["side"] == SIDE
    # same inputs, same bytes
    assert ts.embed(photos[:2]).tobytes() == ts.embed(photos[:2]).tobytes()


def test_refusals(trained, tmp_path: Path) -> None:
    folder, _ = trained
    with pytest.raises(AscertainError, match="never downloaded"):
        LearnedDescriptor("https://example.org/model.onnx")
    with pytest.raises(AscertainError, match="not a model file"):
        LearnedDescriptor(str(tmp_path / "missing.pt"))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(AscertainError, match="neither TorchScript nor a torch state file"):
        LearnedDescriptor(str(junk))
    with pytest.raises(AscertainError, match="not a state file of the built-in SmallEmbedder"):
        LearnedDescriptor(str(folder / "tiny_state.pth"), state_width=8)


def test_compare_cli_reports_learned_tier(trained, tmp_path: Path) -> None:
    from ascertain.cli import app

    folder, photos = trained
    a, b = tmp_path / "work.png", tmp_path / "copy.jpg"
    Image.fromarray(photos[1]).save(a)
    Image.fromarray(_variant(photos[1], random.Random(5))).save(b, quality=80)
    r = CliRunner().invoke(app, ["compare", str(a), str(b), "--learned-model", str(folder / "tiny.pt"),
                                 "--learned-side", str(SIDE), "--learned-threshold", "0.8", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["learned"]["model"]["sha256"] and out["learned"]["cosine"] > 0.8 and out["learned"]["similar"]
