"""Validation of the invisible-watermark check (imaging/watermark.py) on real images: how often a watermarked image
is still recognized after what happens to images on the way to a dataset or a court (re-saving, JPEG with and
without chroma subsampling, resizing, cropping, brightness, noise, greyscale), and how often an unwatermarked real
image is called watermarked (the empirical null beside the p-value under random bits).

Images: scikit-image's photographs and a sample of Debian's openclipart-png (reported per source); each watermarked
here with SDXL's 48-bit message and with "StableDiffusionV1" (the embedding reads back as the invisible-watermark
package writes it: tests/test_watermark.py).
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance

from ascertain.imaging.watermark import KNOWN, check_watermark, embed
from ascertain.validation.intervals import clopper_pearson, wilson


def _jpeg(q: int, subsampling: int) -> Callable[[np.ndarray, random.Random], np.ndarray]:
    def f(a: np.ndarray, _rng: random.Random) -> np.ndarray:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "JPEG", quality=q, subsampling=subsampling)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return f


def _resize(s: float) -> Callable[[np.ndarray, random.Random], np.ndarray]:
    def f(a: np.ndarray, _rng: random.Random) -> np.ndarray:
        h, w = a.shape[:2]
        return np.asarray(Image.fromarray(a).resize((round(w * s), round(h * s)), Image.Resampling.BICUBIC))
    return f


def _noise(a: np.ndarray, rng: random.Random) -> np.ndarray:
    g = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 2, a.shape)
    return np.clip(a + g, 0, 255).astype(np.uint8)


TRANSFORMS: dict[str, Callable[[np.ndarray, random.Random], np.ndarray]] = {
    "none (PNG as saved)": lambda a, _r: a,
    "JPEG 95, full chroma (4:4:4)": _jpeg(95, 0),
    "JPEG 75, full chroma (4:4:4)": _jpeg(75, 0),
    "JPEG 50, full chroma (4:4:4)": _jpeg(50, 0),
    "JPEG 95, chroma halved (4:2:0, the usual)": _jpeg(95, 2),
    "JPEG 75, chroma halved (4:2:0)": _jpeg(75, 2),
    "brightness +10 %": lambda a, _r: np.asarray(ImageEnhance.Brightness(Image.fromarray(a)).enhance(1.1)),
    "Gaussian noise (sigma 2)": _noise,
    "crop 8 px off the right and bottom": lambda a, _r: a[:-8, :-8],
    "crop 8 px off the left and top": lambda a, _r: a[8:, 8:],
    "resized to 90 %": _resize(0.9),
    "resized to 50 %": _resize(0.5),
    "greyscale": lambda a, _r: np.asarray(Image.fromarray(a).convert("L").convert("RGB")),
}
MESSAGES = ("SDXL", "StableDiffusionV1")


def _images(source: str, limit: int, seed: int) -> list[np.ndarray]:
    from ascertain.validation.images import source_files

    files = source_files(source)
    random.Random(seed).shuffle(files)
    out = []
    for f in files:
        if len(out) >= limit:
            break
        try:
            with Image.open(f) as im:
                if im.width * im.height > 16_000_000 or min(im.size) < 256:
                    continue
                im.load()
                if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                    rgba = im.convert("RGBA")
                    im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
                a = np.asarray(im.convert("RGB"))
        except (OSError, ValueError, Image.DecompressionBombError):
            continue
        if max(a.shape[:2]) > 1024:  # bounded cost: the long side to 1,024 px (before any watermark)
            s = 1024 / max(a.shape[:2])
            a = np.asarray(Image.fromarray(a).resize((round(a.shape[1] * s), round(a.shape[0] * s))))
        out.append(a)
    return out


def run_watermark_validation(seed: int = 7, per_source: int = 30, null_images: int = 300,
                             quick: bool = False) -> dict:
    if quick:
        per_source, null_images = 3, 10
    rng = random.Random(seed)
    r: dict = {"seed": seed, "sources": {}}
    msgs = {m.name: m for m in KNOWN}
    for src in ("skimage", "openclipart"):
        clean = _images(src, null_images, seed)
        if not clean:
            r["sources"][src] = {"not_run": f"{src} images not installed"}
            continue
        null = sum(1 for a in clean if check_watermark(a)["present"])
        imgs = clean[:per_source]
        found: dict[str, dict[str, int]] = {t: {"k": 0, "n": 0} for t in TRANSFORMS}
        agree: dict[str, list[float]] = {t: [] for t in TRANSFORMS}
        for a in imgs:
            for name in MESSAGES:
                marked = embed(a, msgs[name].bits)
                for t, f in TRANSFORMS.items():
                    res = check_watermark(f(marked, rng))
                    found[t]["n"] += 1
                    found[t]["k"] += res["message"] == name
                    m = next(x for x in res["messages"] if x["message"] == name)
                    agree[t].append(m["agree"] / m["bits"])
        r["sources"][src] = {"images": len(imgs), "null": {"k": null, "n": len(clean)}, "found": found,
                             "mean_agreement": {t: round(float(np.mean(v)), 3) for t, v in agree.items()}}
    return r


def _iv(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]" if n else "n/a"


def markdown(r: dict, command: str) -> str:
    lines = [f"Command: `{command}`", "",
             "Each image watermarked with SDXL's 48-bit message and with \"StableDiffusionV1\" (136 bits), then "
             "transformed; found: the check calls the right message present (family-wise p < 1e-4 under random "
             "bits). Null: unwatermarked real images called watermarked. Mean agreement: the share of the message's "
             "bits read right (0.5 is chance). Intervals: Wilson 95 % (null: exact upper bound).", ""]
    for src, s in r["sources"].items():
        if "not_run" in s:
            lines.append(f"{src}: not run ({s['not_run']}).")
            continue
        _lo, hi = clopper_pearson(s["null"]["k"], s["null"]["n"])
        lines += [f"{src}: {s['images']} images watermarked and transformed; unwatermarked images called "
                  f"watermarked: {s['null']['k']} of {s['null']['n']} (≤ {hi:.3f}).", "",
                  "| transformation | found | mean bit agreement |", "| --- | ---: | ---: |"]
        for t, v in s["found"].items():
            lines.append(f"| {t} | {_iv(v['k'], v['n'])} | {s['mean_agreement'][t]:.3f} |")
        lines.append("")
    lines += ["What it shows: a watermark found means the image passed through a pipeline that embedded that public "
              "message (the reference code of Stable Diffusion 1.x/2.x, SDXL, FLUX, or anyone using the package "
              "with it); it does not identify the model or its weights, and anyone can embed these messages in any "
              "image. What it cannot show: absence proves nothing (AUTOMATIC1111, ComfyUI and Forge do not embed it "
              "by default; hosted services may not; resizing, cropping (which renumbers the blocks), greyscale and "
              "the usual 4:2:0 JPEG remove it, as measured above; on flat or white areas, as in clip art, "
              "clipping to the 0-255 range erases it as it is written).", ""]
    return "\n".join(lines) + "\n"
