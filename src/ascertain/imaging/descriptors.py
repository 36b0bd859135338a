"""Image descriptors: exact digests, PDQ perceptual hashes (with the 8 dihedral variants), local features.

PDQ (Meta's 256-bit perceptual hash, through the maintained `pdqhash` binding) finds re-encoded, resized,
recoloured and overlaid copies; its dihedral variants find flipped and 90°-rotated ones. Local features (ORB,
OpenCV) with geometric verification (imaging/regions.py) find crops, pads, small rotations and pastes, which
whole-image hashes miss.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from ascertain.imaging.decode import DecodedImage

# How a copy relates to the work when the i-th of pdqhash's 8 dihedral variants of the copy matches the work
# (pdqhash's order: original, rotated 90° counter-clockwise, 180°, 270°, flipped top-bottom, flipped left-right,
# transposed, transversed; measured in tests/test_images.py)
DIHEDRAL = ("original", "rotated 90° clockwise", "rotated 180°", "rotated 90° counter-clockwise",
            "flipped top to bottom", "mirrored left to right", "transposed", "transversed")
FEATURE_SIDE = 640  # local features at this longer side: enough detail, bounded cost
MAX_UPSCALE = 4.0  # a small image (clip art, thumbnails) is enlarged up to this for features: ORB's 31-pixel
#                    patches find few or no points on a 100-pixel image (tuning split: resize 50% 156 -> 160/160)
N_FEATURES = 1000
DENSE_FEATURES = 3000  # a copy's second look when the first fails: text or a busy background took the budget


@dataclass
class ImageDescriptors:
    sha256: str  # of the file's bytes
    pixel_sha256: str  # of the decoded RGB pixels (same image re-saved losslessly or with other metadata)
    pdq: np.ndarray  # 256 bits packed into 32 bytes, original orientation
    pdq_dihedral: np.ndarray  # 8 x 32 bytes
    pdq_quality: int
    width: int
    height: int
    keypoints: np.ndarray = field(repr=False)  # N x 2 float32, in FEATURE_SIDE coordinates
    features: np.ndarray = field(repr=False)  # N x 32 uint8 ORB descriptors
    feature_scale: float = 1.0  # feature coordinates / decoded pixels coordinates
    shape: tuple[int, int] = (0, 0)  # decoded pixels (h, w)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    return np.packbits(np.asarray(bits, dtype=np.uint8).reshape(-1, 256), axis=1)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distance between packed codes; broadcasts (N x 32 against 32, or M x 1 x 32 against 1 x N x 32)."""
    return np.unpackbits(np.bitwise_xor(a, b), axis=-1).sum(axis=-1)


def pdq_hex(code: np.ndarray) -> str:
    return bytes(code).hex()


def describe(img: DecodedImage, data: bytes) -> ImageDescriptors:
    import pdqhash

    px = np.ascontiguousarray(img.pixels)
    hashes, qualities = pdqhash.compute_dihedral(px)
    dihedral = pack_bits(np.stack(hashes))
    scale = feature_scale(px.shape[:2])
    kps, feats = local_features(feature_gray(px, scale))
    return ImageDescriptors(
        sha256=hashlib.sha256(data).hexdigest(),
        pixel_sha256=hashlib.sha256(px.tobytes() + np.asarray(px.shape, np.int64).tobytes()).hexdigest(),
        pdq=dihedral[0], pdq_dihedral=dihedral, pdq_quality=int(np.min(qualities)), width=img.width,
        height=img.height, keypoints=kps, features=feats, feature_scale=scale, shape=px.shape[:2])


def feature_scale(shape: tuple[int, ...]) -> float:
    """Feature pixels per decoded pixel: the longer side brought to FEATURE_SIDE (enlarged at most MAX_UPSCALE)."""
    return min(MAX_UPSCALE, FEATURE_SIDE / max(shape[0], shape[1], 1))


def feature_gray(px: np.ndarray, scale: float) -> np.ndarray:
    """The grey image features are found on, at `scale` (area averaging down, cubic up)."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(px), cv2.COLOR_RGB2GRAY)
    if scale != 1.0:
        gray = cv2.resize(gray, (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC)
    return gray


def local_features(gray: np.ndarray, n: int = N_FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """ORB keypoints (x, y) and descriptors, strongest first; deterministic for the same pixels."""
    import cv2

    orb = cv2.ORB_create(nfeatures=n, scaleFactor=1.2, nlevels=8, edgeThreshold=15, patchSize=31,
                         fastThreshold=10)
    kps, feats = orb.detectAndCompute(gray, None)
    if feats is None or not kps:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    # strongest first (ORB returns them level by level): the candidate stage keeps the first few
    order = np.argsort(-np.array([k.response for k in kps], np.float32), kind="stable")
    return np.array([k.pt for k in kps], np.float32)[order], feats[order]
