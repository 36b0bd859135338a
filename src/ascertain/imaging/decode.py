"""Decode an image safely: bounded pixels and bytes, one frame, 8-bit RGB, orientation applied.

Every failure is an AscertainError naming the image and what to do, so a reader records a skip and goes on.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ascertain.errors import AscertainError

# Bounds per image: a decompression bomb (a few KB declaring 100,000 x 100,000 pixels) is refused before any
# pixel is decoded; a large but honest photograph is reduced on decode (JPEG draft mode) to what descriptors need.
MAX_FILE_BYTES = 256 << 20
MAX_PIXELS = 80_000_000
WORK_SIDE = 1024  # descriptors and local features are computed at most at this size (longer side)
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff",
               "GIF": "image/gif", "BMP": "image/bmp", "MPO": "image/jpeg"}
# WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import; evidence must not be read from a
# truncated file as if whole, so decoding switches it off for its own load, under a lock
_STRICT = threading.Lock()
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp")


@dataclass
class DecodedImage:
    pixels: np.ndarray  # H x W x 3, uint8, RGB, at most WORK_SIDE on the longer side
    width: int  # the image's own size, before any reduction
    height: int
    media_type: str
    frames: int
    mode: str  # the stored mode (CMYK, I;16, P, RGBA ...), before conversion
    scale: float  # pixels side / original side


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def open_image(data: bytes, name: str) -> Image.Image:
    """The image object, its header checked; no pixel decoded yet."""
    if len(data) > MAX_FILE_BYTES:
        raise AscertainError(name, f"image file of {len(data):,} bytes is over the {MAX_FILE_BYTES:,}-byte bound",
                             "reduce the image or split the archive")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise AscertainError(name, f"not a readable image ({type(e).__name__})",
                             "check the file is a complete JPEG, PNG, WebP, TIFF, GIF or BMP") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise AscertainError(name, "declares more pixels than an image can safely hold (a decompression bomb)",
                             "leave the file out; a real image of this size must be reduced first") from None
    if im.format not in MEDIA_TYPES:
        raise AscertainError(name, f"image format {im.format} is not read", "convert it to PNG or JPEG")
    w, h = im.size
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
        raise AscertainError(name, f"declares {w:,} x {h:,} pixels, over the {MAX_PIXELS:,}-pixel bound",
                             "leave the file out or reduce the image first")
    return im


def decode(data: bytes, name: str, side: int = WORK_SIDE) -> DecodedImage:
    """Pixels for descriptors: first frame, EXIF orientation applied, 8-bit RGB, longer side <= `side`."""
    im = open_image(data, name)
    w, h = im.size
    mode, fmt, frames = im.mode, im.format, getattr(im, "n_frames", 1)
    try:
        if fmt == "JPEG" and max(w, h) > 2 * side:
            im.draft("RGB", (side, side))  # decode at 1/2, 1/4 or 1/8 scale: bounded memory for large photographs
        im.seek(0)
        with _STRICT:
            lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
            try:
                im.load()
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = lenient
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I;16", "I;16B", "I;16L", "I"):
            a = np.asarray(im, dtype=np.float64)
            top = a.max() or 1.0
            im = Image.fromarray(np.clip(a * (255.0 / top), 0, 255).astype(np.uint8), "L")
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparency composited on white
            im = Image.alpha_composite(bg, rgba)
        im = im.convert("RGB")
        if max(im.size) > side:
            im.thumbnail((side, side), Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError) as e:
        raise AscertainError(name, f"the image data is damaged or truncated ({type(e).__name__}: {e})",
                             "use a complete copy of the file") from None
    px = np.asarray(im, dtype=np.uint8)
    rotated = im.size != (w, h) and im.size[0] / max(im.size[1], 1) != w / max(h, 1)
    base = h if rotated else w
    return DecodedImage(px, w, h, MEDIA_TYPES[fmt], frames, mode, px.shape[1] / max(base, 1))
