"""Measured error rates of image copy detection, on real freely licensed images, split by source.

Sources on a machine with the project's dev install: scikit-image's bundled photographs (BSD-licensed data,
`skimage/data`), and Debian's `openclipart-png` (public-domain clip art; `apt-get install openclipart-png`).
Each work gets every transformation a dispute shows (re-encoding, resizing, colour changes, overlays, flips,
crops, pads, small rotations, pastes into another image); recall is counted per transformation, beside plain
PDQ (distance <= 31) and pHash (imagehash, distance <= 10) on the same pairs. The false-positive rate is counted
on every pair of distinct images (identical pixels removed first). The thresholds were set on the tuning source
(scikit-image) and are only reported on the other.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from ascertain.imaging.compare import ImageInput, compare_images, load
from ascertain.imaging.decode import IMAGE_SUFFIXES
from ascertain.imaging.descriptors import hamming

OPENCLIPART = Path("/usr/share/openclipart/png")


def skimage_folder() -> Path | None:
    try:
        import skimage
    except ImportError:
        return None
    return Path(skimage.__file__).parent / "data"


def source_files(source: str) -> list[Path]:
    if source == "skimage":
        root = skimage_folder()
    elif source == "openclipart":
        root = OPENCLIPART
    else:
        root = Path(source)
    if root is None or not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.stat().st_size > 4096)


def _enc(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def _crop(p: float) -> Callable[[Image.Image, random.Random], Image.Image]:
    def f(im: Image.Image, rng: random.Random) -> Image.Image:
        w, h = im.size
        return im.crop((round(w * p), round(h * p), round(w * (1 - p)), round(h * (1 - p))))
    return f


def _pad(p: float) -> Callable[[Image.Image, random.Random], Image.Image]:
    def f(im: Image.Image, rng: random.Random) -> Image.Image:
        w, h = im.size
        return ImageOps.expand(im, border=(round(w * p), round(h * p)), fill=(rng.randrange(256),) * 3)
    return f


def _rotate(deg: float) -> Callable[[Image.Image, random.Random], Image.Image]:
    return lambda im, rng: im.rotate(deg, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))


def _text(im: Image.Image, rng: random.Random) -> Image.Image:
    im = im.copy()
    d = ImageDraw.Draw(im)
    w, h = im.size
    for i in range(3):
        d.text((w * 0.05, h * (0.1 + 0.3 * i)), f"SAMPLE  @user  #{rng.randrange(1000)}", fill=(255, 255, 255),
               font_size=max(10, h // 14))
    return im


def _logo(im: Image.Image, rng: random.Random) -> Image.Image:
    im = im.copy()
    w, h = im.size
    d = ImageDraw.Draw(im)
    s = max(8, min(w, h) // 6)
    x, y = w - s - w // 20, h - s - h // 20
    d.ellipse((x, y, x + s, y + s), fill=(230, 30, 30))
    d.rectangle((x + s // 4, y + s // 4, x + 3 * s // 4, y + 3 * s // 4), fill=(255, 255, 255))
    return im


def _paste(share: float) -> Callable[[Image.Image, random.Random], Image.Image]:
    def f(im: Image.Image, rng: random.Random) -> Image.Image:
        w, h = im.size
        side = (w * h / share) ** 0.5
        cw, ch = round(max(side, w * 1.05)), round(max(side, h * 1.05))
        noise = np.random.default_rng(rng.randrange(1 << 30)).integers(0, 256, (ch // 8 + 1, cw // 8 + 1, 3))
        bg = Image.fromarray(noise.astype(np.uint8)).resize((cw, ch), Image.Resampling.BICUBIC)
        bg.paste(im, (rng.randrange(cw - w + 1), rng.randrange(ch - h + 1)))
        return bg
    return f


# transformation -> (group, function); group "a" targets recall >= 0.99, group "b" >= 0.95 (issue's targets)
TRANSFORMS: dict[str, tuple[str, Callable[[Image.Image, random.Random], Image.Image | bytes]]] = {
    "resize 50%": ("a", lambda im, rng: im.resize((max(1, im.width // 2), max(1, im.height // 2)))),
    "resize 150%": ("a", lambda im, rng: im.resize((im.width * 3 // 2, im.height * 3 // 2))),
    "jpeg q30": ("a", lambda im, rng: _enc(im, "JPEG", quality=30)),
    "jpeg q60": ("a", lambda im, rng: _enc(im, "JPEG", quality=60)),
    "jpeg q95": ("a", lambda im, rng: _enc(im, "JPEG", quality=95)),
    "gamma 0.6": ("a", lambda im, rng: im.point(lambda v: round(255 * (v / 255) ** 0.6))),
    "brightness +30%": ("a", lambda im, rng: ImageEnhance.Brightness(im).enhance(1.3)),
    "grayscale": ("a", lambda im, rng: ImageOps.grayscale(im).convert("RGB")),
    "text overlay": ("a", _text),
    "logo overlay": ("a", _logo),
    "mirror": ("a", lambda im, rng: ImageOps.mirror(im)),
    "flip": ("a", lambda im, rng: ImageOps.flip(im)),
    "crop 5%": ("b", _crop(0.05)),
    "crop 10%": ("b", _crop(0.10)),
    "crop 20%": ("b", _crop(0.20)),
    "pad 10%": ("b", _pad(0.10)),
    "pad 20%": ("b", _pad(0.20)),
    "rotate 2°": ("b", _rotate(2)),
    "rotate -5°": ("b", _rotate(-5)),
    "rotate 5°": ("b", _rotate(5)),
    "pasted at 40% of area": ("b", _paste(0.40)),
    "pasted at 60% of area": ("b", _paste(0.60)),
}


def _phash(data: bytes | np.ndarray):
    """pHash (imagehash) of a file's bytes, or of decoded pixels: a work is hashed from the same decoded pixels its
    copies are made from (transparency on white), so the peer is measured on the same images as ascertain."""
    import imagehash

    im = Image.fromarray(data) if isinstance(data, np.ndarray) else Image.open(io.BytesIO(data)).convert("RGB")
    return imagehash.phash(im)


def load_works(files: list[Path], limit: int, seed: int) -> tuple[list[ImageInput], dict]:
    """Up to `limit` distinct, measurable works: identical pixels once; PDQ quality < 50 (near-blank) left out,
    and counted."""
    rng = random.Random(seed)
    files = files[:]
    rng.shuffle(files)
    works, seen, counts = [], set(), {"read": 0, "unreadable": 0, "duplicate pixels": 0, "low quality": 0}
    for p in files:
        if len(works) >= limit:
            break
        counts["read"] += 1
        try:
            w = load(p.read_bytes(), str(p))
        except Exception:  # noqa: BLE001 (an unreadable file is counted, not measured)
            counts["unreadable"] += 1
            continue
        if w.descriptors.pixel_sha256 in seen:
            counts["duplicate pixels"] += 1
            continue
        if w.descriptors.pdq_quality < 50 or min(w.pixels.shape[:2]) < 64:
            counts["low quality"] += 1
            continue
        seen.add(w.descriptors.pixel_sha256)
        works.append(w)
    return works, counts


def recall(works: list[ImageInput], seed: int, only: tuple[str, ...] | None = None) -> dict:
    out: dict[str, dict] = {}
    work_phash: dict[int, object] = {}
    rng = random.Random(seed)
    for name, (group, fn) in TRANSFORMS.items():
        if only and name not in only:
            continue
        found = pdq = ph = 0
        for w in works:
            if id(w) not in work_phash:
                work_phash[id(w)] = _phash(w.pixels)
            im = Image.fromarray(w.pixels)
            t = fn(im, rng)
            data = t if isinstance(t, bytes) else _enc(t)
            c = load(data, name)
            r = compare_images(w, c)
            found += r["decision"] == "copied"
            pdq += int(hamming(c.descriptors.pdq, w.descriptors.pdq)) <= 31
            ph += (_phash(data) - work_phash[id(w)]) <= 10
        n = len(works)
        out[name] = {"group": group, "n": n, "ascertain": found, "pdq": pdq, "phash": ph}
    return out


def false_positives(works: list[ImageInput], max_pairs: int | None = None) -> dict:
    """Every pair of distinct works through the full decision; pairs decided `copied` are listed."""
    pairs = [(i, j) for i in range(len(works)) for j in range(len(works)) if i != j]
    if max_pairs and len(pairs) > max_pairs:
        pairs = random.Random(7).sample(pairs, max_pairs)
    codes = np.stack([w.descriptors.pdq for w in works])
    pdq_fp = ph_fp = 0
    phs = [_phash(w.pixels) for w in works]
    hits = []
    for i, j in pairs:
        r = compare_images(works[i], works[j])
        if r["decision"] == "copied":
            hits.append({"work": works[i].name, "copy": works[j].name, "tier": r["tier"],
                         "pdq_distance": r["pdq_distance"], "inliers": r.get("region", {}).get("inliers")})
        pdq_fp += int(hamming(codes[j], codes[i])) <= 31
        ph_fp += (phs[i] - phs[j]) <= 10
    return {"pairs": len(pairs), "ascertain": len(hits), "pdq": pdq_fp, "phash": ph_fp, "hits": hits}


def digest(works: list[ImageInput]) -> str:
    return hashlib.sha256("".join(w.descriptors.sha256 for w in works).encode()).hexdigest()[:16]


def _rate(k: int, n: int) -> dict:
    from ascertain.classes.estimates import clopper_pearson

    lo, hi = clopper_pearson(int(k), int(n)) if n else (0.0, 1.0)
    return {"k": int(k), "n": int(n), "rate": round(k / n, 4) if n else None,
            "ci95": [round(float(lo), 5), round(float(hi), 5)]}


def run_image_validation(sources: list[str], works: int, pairs: int, seed: int,
                         on_progress: Callable[[str], None] = lambda m: None,
                         only: tuple[str, ...] | None = None) -> dict:
    """Recall per transformation and false positives on distinct pairs, per source, beside PDQ and pHash."""
    out: dict = {"seed": seed, "sources": {}}
    for src in sources:
        files = source_files(src)
        if not files:
            out["sources"][src] = {"not_run": f"no images found for {src}"}
            continue
        ws, counts = load_works(files, works, seed)
        on_progress(f"{src}: {len(ws)} works ({counts})")
        rec = recall(ws, seed + 1, only)
        on_progress(f"{src}: recall measured; false positives on up to {pairs:,} ordered pairs")
        fp = false_positives(ws, pairs)
        out["sources"][src] = {
            "files": len(files), "works": len(ws), "counts": counts, "digest": digest(ws),
            "recall": {k: {"group": v["group"], **{t: _rate(v[t], v["n"]) for t in ("ascertain", "pdq", "phash")}}
                       for k, v in rec.items()},
            "false_positives": {"pairs": fp["pairs"], **{t: _rate(fp[t], fp["pairs"])
                                                        for t in ("ascertain", "pdq", "phash")},
                                "hits": fp["hits"]}}
    return out


def markdown(r: dict, command: str) -> str:
    lines = [f"Command: `{command}`", ""]
    for src, s in r["sources"].items():
        if "not_run" in s:
            lines += [f"**{src}**: not run ({s['not_run']})", ""]
            continue
        lines += [f"**{src}**: {s['works']} works of {s['files']} files ({s['counts']}); sample digest "
                  f"`{s['digest']}`", "",
                  "| transformation | target | ascertain | PDQ ≤ 31 | pHash ≤ 10 |", "|---|---|---|---|---|"]
        for name, v in s["recall"].items():
            target = "≥ 0.99" if v["group"] == "a" else "≥ 0.95"
            cells = [f"{v[t]['rate']:.3f} [{v[t]['ci95'][0]:.3f}, {v[t]['ci95'][1]:.3f}]"
                     for t in ("ascertain", "pdq", "phash")]
            lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")
        fp = s["false_positives"]
        lines += ["", f"False positives on {fp['pairs']:,} ordered pairs of distinct images: ascertain "
                  f"{fp['ascertain']['k']} ({fp['ascertain']['rate']:.5f}, 95 % CI up to "
                  f"{fp['ascertain']['ci95'][1]:.5f}),"
                  f" PDQ {fp['pdq']['k']}, pHash {fp['phash']['k']}."]
        for h in fp["hits"][:10]:
            lines.append(f"- `{Path(h['work']).name}` → `{Path(h['copy']).name}`: {h['tier']}, PDQ distance "
                         f"{h['pdq_distance']}, {h['inliers']} inliers")
        lines.append("")
    return "\n".join(lines) + "\n"
