"""The invisible DWT-DCT watermark that common open image generators' reference code embeds by default, read back
and compared with each known message.

The method is the `invisible-watermark` package's "dwtDct" (the generators call `WatermarkEncoder().encode(image,
"dwtDct")` with its defaults). The package cannot be installed beside the project's pins (it requires the full
opencv-python, which overwrites opencv-python-headless's cv2, and torch), so this is an implementation of our own.
Its published description (the package's wiki, "Frequency Methods"): the image in YUV (OpenCV's conversion); the U
plane through a one-level Haar DWT; the approximation band cut into 4 x 4 blocks; block n carries bit n mod L of an
L-bit message by quantizing its largest non-trivial coefficient with scale 36 to a residue of 0.75 x 36 (a 1) or
0.25 x 36 (a 0). What version 0.2.0 writes was measured from outside (embedding all-ones and all-zeros messages
into flat and real images and looking at what changed, tests/test_watermark.py): it quantizes the largest value
other than the first of each block of the approximation band itself (the block DCT does not reach its output),
blocks in row-major order, U plane only. That is what is read here, and messages embedded by the package decode
here bit for bit and the reverse (checked during development against invisible-watermark 0.2.0 installed apart
from the project). Reading takes the same value in every block, calls the bit 1 when its residue is above half the
scale, and lets all the blocks of a bit position vote.

Known messages (fixed, public, no key):
  - "StableDiffusionV1" as bytes (136 bits): Stable Diffusion 1.x reference scripts (CompVis txt2img/img2img);
  - "SDV2" as bytes (32 bits): Stable Diffusion 2.x reference scripts (Stability AI);
  - SDXL's 48-bit message 0b1011001111101100...: Stability's generative-models and the diffusers SDXL pipelines
    (when `invisible-watermark` is installed);
  - 0b0010101011111110... (46 bits once Python's bin() drops its two leading zeros): Black Forest Labs' FLUX
    reference code.
Which programs use which message is as their public source code reads; a program that copied one of these
embedders carries its message too.

What the check can show, and what it cannot (measured in docs/validation.md, `ascertain validate --watermark`):
  - present (agreement far above chance, with a p-value under random bits and an empirical null of real
    unwatermarked images): the image went through a pipeline that embedded that message, typically the reference
    code or a library using it. It identifies the pipeline's message, not the model or its weights: anyone can
    embed any of these messages in any image, and several models share one.
  - absent proves nothing: the popular front ends (AUTOMATIC1111, ComfyUI, Forge) do not embed it by default,
    hosted services may not, and the watermark does not survive resizing, cropping that moves the 8-pixel block
    grid, or rotation; it survives JPEG re-encoding, noise and brightness changes to the degree measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALES = {"U": 36.0}
BLOCK = 4


def _bits_of_int(value: int) -> tuple[int, ...]:
    return tuple(int(b) for b in bin(value)[2:])  # as the reference scripts write them: leading zeros dropped


def _bits_of_bytes(data: bytes) -> tuple[int, ...]:
    return tuple((byte >> (7 - i)) & 1 for byte in data for i in range(8))


@dataclass(frozen=True)
class Message:
    name: str
    bits: tuple[int, ...]
    who: str


KNOWN = (
    Message("StableDiffusionV1", _bits_of_bytes(b"StableDiffusionV1"),
            "Stable Diffusion 1.x reference scripts (CompVis), bytes 'StableDiffusionV1'"),
    Message("SDV2", _bits_of_bytes(b"SDV2"), "Stable Diffusion 2.x reference scripts (Stability AI), bytes 'SDV2'"),
    Message("SDXL", _bits_of_int(0b101100111110110010010000011110111011000110011110),
            "SDXL: Stability generative-models and diffusers SDXL pipelines, fixed 48-bit message"),
    Message("FLUX", _bits_of_int(0b001010101111111010000111100111001111010100101110),
            "Black Forest Labs FLUX reference code, 48-bit message (46 bits embedded)"),
)


def _planes(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb[:, :, ::-1]), cv2.COLOR_BGR2YUV).astype(np.float64)


def _blocks(ca: np.ndarray) -> np.ndarray:
    """The approximation band's whole 4 x 4 blocks, row-major: (n, 4, 4)."""
    h, w = (ca.shape[0] // BLOCK) * BLOCK, (ca.shape[1] // BLOCK) * BLOCK
    b = ca[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).swapaxes(1, 2)
    return b.reshape(-1, BLOCK, BLOCK)


def _carrier(d: np.ndarray) -> np.ndarray:
    """Index (flattened 0..15) of each block's largest value (in magnitude) other than the first."""
    a = np.abs(d.reshape(len(d), -1))
    a[:, 0] = -1
    return a.argmax(axis=1)


def embed(rgb: np.ndarray, bits: tuple[int, ...] | list[int]) -> np.ndarray:
    """The image (H x W x 3 RGB uint8) with the message embedded as described above (for tests and the
    validation: the method's robustness is measured on images watermarked here and by the reference package)."""
    import cv2
    import pywt

    yuv = _planes(rgb)
    n_bits = len(bits)
    for ch, scale in SCALES.items():
        k = "YUV".index(ch)
        ca, details = pywt.dwt2(yuv[:, :, k], "haar")
        d = _blocks(ca).copy()
        flat = d.reshape(len(d), -1)
        idx = _carrier(d)
        rows = np.arange(len(d))
        want = np.array([bits[n % n_bits] for n in range(len(d))], dtype=np.float64)
        c = flat[rows, idx]
        flat[rows, idx] = (np.floor(c / scale) + np.where(want > 0, 0.75, 0.25)) * scale
        blocks = flat.reshape(-1, BLOCK, BLOCK)
        nb_h, nb_w = ca.shape[0] // BLOCK, ca.shape[1] // BLOCK
        ca = ca.copy()
        ca[:nb_h * BLOCK, :nb_w * BLOCK] = blocks.reshape(nb_h, nb_w, BLOCK, BLOCK).swapaxes(1, 2).reshape(
            nb_h * BLOCK, nb_w * BLOCK)
        plane = pywt.idwt2((ca, details), "haar")
        yuv[:, :, k] = plane[:yuv.shape[0], :yuv.shape[1]]
    out = cv2.cvtColor(np.clip(np.rint(yuv), 0, 255).astype(np.uint8), cv2.COLOR_YUV2BGR)
    return out[:, :, ::-1].copy()


def block_bits(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Each block's bit (0/1) per channel, in block order."""
    import pywt

    yuv = _planes(rgb)
    out = {}
    for ch, scale in SCALES.items():
        ca, _ = pywt.dwt2(yuv[:, :, "YUV".index(ch)], "haar")
        d = _blocks(ca)
        c = d.reshape(len(d), -1)[np.arange(len(d)), _carrier(d)]
        out[ch] = (np.mod(c, scale) > 0.5 * scale).astype(np.uint8)
    return out


def read_message(votes: dict[str, np.ndarray], length: int) -> np.ndarray:
    """The share of blocks voting 1 for each of `length` bit positions (every channel read)."""
    ones = np.zeros(length)
    total = np.zeros(length)
    for b in votes.values():
        pos = np.arange(len(b)) % length
        ones += np.bincount(pos, weights=b, minlength=length)
        total += np.bincount(pos, minlength=length)
    return ones / np.maximum(total, 1)


def binomial_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2): the chance that random bits agree in k or more of n places."""
    from scipy.stats import binom

    return float(binom.sf(k - 1, n, 0.5))


ALPHA = 1e-4  # family-wise (Bonferroni over the known messages): "present" below it


def check_watermark(rgb: np.ndarray) -> dict:
    """Bit agreement of the image's DWT-DCT watermark with each known message, with p-values."""
    votes = block_bits(rgb)
    blocks = min(len(v) for v in votes.values())
    results = []
    for m in KNOWN:
        share = read_message(votes, len(m.bits))
        decoded = (share > 0.5).astype(int)
        agree = int((decoded == np.array(m.bits)).sum())
        p = binomial_tail(agree, len(m.bits))
        results.append({"message": m.name, "who": m.who, "bits": len(m.bits), "agree": agree,
                        "p_value": p, "p_family": min(1.0, p * len(KNOWN)),
                        "blocks_per_bit": round(blocks / len(m.bits), 1)})
    best = min(results, key=lambda r: (r["p_family"], r["message"]))
    present = best["p_family"] < ALPHA and best["blocks_per_bit"] >= 1
    return {"method": "invisible-watermark dwtDct as written by version 0.2.0 (U plane, scale 36, 4 x 4 blocks of "
                      "the Haar approximation band)",
            "present": present, "message": best["message"] if present else None, "messages": results,
            "alpha": ALPHA, "blocks": blocks}


def check_watermark_bytes(data: bytes, name: str) -> dict:
    """The check on an image's bytes at its stored size (a resized copy loses the watermark; no orientation is
    applied: the watermark is in the pixels as stored). Bounded like every decode (imaging/decode.py)."""
    from PIL import Image

    from ascertain.imaging.decode import open_image

    im = open_image(data, name)
    try:
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, rgba)
        rgb = np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as e:
        from ascertain.errors import AscertainError

        raise AscertainError(name, f"the image data is damaged or truncated ({type(e).__name__})",
                             "use a complete copy of the file") from None
    return check_watermark(rgb)


def check_watermark_file(path: str) -> dict:
    """The check on an image file (check_watermark_bytes)."""
    from pathlib import Path

    return check_watermark_bytes(Path(path).read_bytes(), path)


# What a finding means, recorded with every check the match stores (the module's docstring, in two sentences)
SHOWS = ("present: the image went through a pipeline that embedded that public message (typically an open "
         "generator's reference code or a library using it); it does not identify the model or its weights, and "
         "anyone can embed these messages in any image")
CANNOT_SHOW = ("absent proves nothing: common front ends (AUTOMATIC1111, ComfyUI, Forge) and hosted services may "
               "not embed it, and resizing, cropping off the 8-pixel grid, rotation or strong JPEG remove it")


def finding(result: dict) -> dict:
    """The stored summary of one check: the verdict, the closest message and its agreement and p-value."""
    best = min(result["messages"], key=lambda m: (m["p_family"], m["message"]))
    return {"present": bool(result["present"]), "message": result["message"], "closest": best["message"],
            "who": best["who"], "agree": int(best["agree"]), "bits": int(best["bits"]),
            "p_family": float(best["p_family"]), "blocks": int(result["blocks"])}
