"""The cost of the image match's extra tiers, per image: the invisible-watermark check of an output, the learned
descriptor's embedding, and the visible-mark search (per work) and check (per copy).

    nice python3 benchmarks/image_tiers.py [--repeat 20]

Real images: scikit-image's bundled photographs (astronaut, chelsea, coffee, rocket) resized to each size. The
watermark check runs on the image at its stored size (imaging/watermark.py check_watermark_bytes, PNG bytes in);
the learned descriptor is the built-in SmallEmbedder (width 16, dim 32; untrained weights cost the same) at
input sides 64 and 224, in batches of 32 as match/image_learned.py embeds; the visible mark: find_corner_mark on
the decoded work, check_mark of a re-encoded copy mapped by its whole-image transform. Median milliseconds per
image over --repeat runs, one thread. Prints the markdown section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ascertain.imaging.compare import compare_images, load  # noqa: E402
from ascertain.imaging.visible_mark import check_mark, copy_map, find_corner_mark  # noqa: E402
from ascertain.imaging.watermark import check_watermark_bytes  # noqa: E402
from ascertain.validation.images import skimage_folder  # noqa: E402

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")


def _ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    root = skimage_folder()
    photos = [Image.open(root / n).convert("RGB") for n in PHOTOS]
    rows = []
    for side in (512, 1024):
        data = [_png(p.resize((side, side))) for p in photos]
        ms = statistics.median(_ms(lambda d=d: check_watermark_bytes(d, "x.png"), a.repeat) for d in data)
        rows.append(("invisible watermark check (per output)", f"{side} x {side}", ms))
    try:
        import torch

        from ascertain.imaging.learned import LearnedDescriptor, small_embedder

        torch.set_num_threads(1)
        folder = Path(__file__).resolve().parent / ".work"
        folder.mkdir(exist_ok=True)
        for side in (64, 224):
            net = small_embedder(16, 32).eval()
            path = folder / f"tiers_{side}.pt"
            torch.jit.save(torch.jit.trace(net, torch.zeros(1, 3, side, side)), path)
            d = LearnedDescriptor(str(path), side=side)
            batch = [np.asarray(p.resize((512, 512))) for p in photos] * 8
            ms = _ms(lambda d=d, b=batch: d.embed(b), max(3, a.repeat // 4)) / len(batch)
            rows.append((f"learned descriptor embedding (SmallEmbedder, side {side})", "512 x 512", ms))
    except ImportError:
        pass
    works = [load(_png(p.resize((640, 480))), "w.png") for p in photos]
    ms = statistics.median(_ms(lambda w=w: find_corner_mark(w.pixels), a.repeat) for w in works)
    rows.append(("visible mark: automatic search (per work)", "640 x 480", ms))
    checks = []
    for w, p in zip(works, photos, strict=True):
        buf = io.BytesIO()
        p.resize((512, 384)).save(buf, "JPEG", quality=80)
        c = load(buf.getvalue(), "c.jpg")
        amap = copy_map(compare_images(w, c), w.pixels, c.pixels)
        checks.append(_ms(lambda w=w, c=c, m=amap[0]: check_mark(w.pixels, c.pixels, m, [500, 420, 120, 30]),
                          a.repeat))
    rows.append(("visible mark: check (per copy)", "640 x 480 work, 512 x 384 copy", statistics.median(checks)))
    print("## The image match's extra tiers: cost per image (issue 27)\n")
    print(f"Command: `nice python3 benchmarks/image_tiers.py --repeat {a.repeat}` ({platform.machine()}, one thread, "
          "scikit-image's photographs). Median milliseconds per image.\n")
    print("| step | image | ms per image |\n|---|---|---:|")
    for step, size, ms in rows:
        print(f"| {step} | {size} | {ms:.1f} |")


if __name__ == "__main__":
    main()
