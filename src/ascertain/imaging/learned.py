"""An optional learned image descriptor: a model the user supplies as a file (never downloaded; no weights ship
with ascertain), turning an image into an embedding; two images are similar when the cosine of their embeddings
reaches a threshold the user sets. Off unless a model path is given; when used, the model's SHA-256, format, input
size, normalization and threshold go into the run's manifest, so the result can be reproduced with the same file.

Formats:
  - TorchScript (`torch.jit.save`; .pt / .pth / .ts / .torchscript): run with torch (the `learned` extra);
  - ONNX (.onnx): run with OpenCV's DNN module (already a dependency: no extra needed);
  - a torch state file (`torch.save(model.state_dict())`, .safetensors not read) of the built-in architecture
    `SmallEmbedder` (given its width and embedding size), loaded with `weights_only=True` (no code in the file
    is run): for a descriptor trained with this module.
A model takes a batch of RGB images, N x 3 x side x side, float32, scaled to 0..1 then normalized by the mean and
standard deviation given (ImageNet's by default), and returns N x D embeddings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ascertain.errors import AscertainError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHSCRIPT = (".pt", ".pth", ".ts", ".torchscript")


def small_embedder(width: int = 16, dim: int = 32):
    """The built-in architecture a torch state file may hold: four strided convolutions, global average pooling, a
    linear projection (a few thousand parameters; for descriptors trained on a case's own images)."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(3, width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width, width * 2, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width * 2, width * 4, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width * 4, width * 4, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width * 4, dim))


@dataclass
class LearnedDescriptor:
    path: str
    side: int = 224
    threshold: float = 0.9
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    state_width: int = 16  # for a state file of the built-in architecture
    state_dim: int = 32
    format: str = ""
    sha256: str = ""
    _run: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if "://" in self.path:
            raise AscertainError(self.path, "is a URL: models are never downloaded",
                                 "download the model yourself, check it, and give its local path")
        p = Path(self.path)
        if not p.is_file():
            raise AscertainError(self.path, "is not a model file", "give the path of a TorchScript, ONNX or torch "
                                 "state file")
        if not 0 < self.threshold <= 1 or self.side < 8:
            raise AscertainError("--learned-threshold/--learned-side", "threshold must be in (0, 1], side >= 8",
                                 "e.g. --learned-threshold 0.9 --learned-side 224")
        data = p.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        suffix = p.suffix.lower()
        if suffix == ".onnx":
            self._load_onnx(p)
        else:
            self._load_torch(p)

    def _load_onnx(self, p: Path) -> None:
        import cv2

        try:
            net = cv2.dnn.readNetFromONNX(str(p))
        except cv2.error as e:
            raise AscertainError(str(p), f"is not an ONNX model OpenCV can run ({str(e).splitlines()[-1][:160]})",
                                 "export the model with a standard opset (e.g. torch.onnx.export, opset 17)") from None
        self.format = "onnx (OpenCV DNN)"

        def run(batch: np.ndarray) -> np.ndarray:
            net.setInput(batch)
            return np.asarray(net.forward(), dtype=np.float32)

        self._run = run

    def _load_torch(self, p: Path) -> None:
        try:
            import torch
        except ImportError:
            raise AscertainError(str(p), "is a torch model but torch is not installed",
                                 "install the extra: pip install 'ascertain[learned]'") from None
        torch.set_num_threads(1)  # the same float sums every run
        try:
            model = torch.jit.load(str(p), map_location="cpu")
            self.format = "torchscript"
        except (RuntimeError, ValueError):
            model = self._state_model(torch, p)
        model.eval()

        def run(batch: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model(torch.from_numpy(batch)).numpy().astype(np.float32)

        self._run = run

    def _state_model(self, torch, p: Path):
        """The built-in architecture with the weights of a state file (weights_only: no code in it is run)."""
        try:
            state = torch.load(str(p), map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input problem
            raise AscertainError(str(p), f"is neither TorchScript nor a torch state file ({type(e).__name__})",
                                 "save the model with torch.jit.save, or export it to ONNX") from None
        if not isinstance(state, dict):
            raise AscertainError(str(p), "holds no state dict", "save model.state_dict() of SmallEmbedder")
        model = small_embedder(self.state_width, self.state_dim)
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise AscertainError(str(p), "is not a state file of the built-in SmallEmbedder "
                                 f"(width {self.state_width}, dim {self.state_dim}): {str(e)[:160]}",
                                 "give the width and embedding size it was trained with, or save the model as "
                                 "TorchScript") from None
        self.format = f"torch state (SmallEmbedder width {self.state_width}, dim {self.state_dim})"
        return model

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """RGB uint8 H x W x 3 -> 1 x 3 x side x side float32, normalized."""
        from PIL import Image

        im = Image.fromarray(rgb).convert("RGB").resize((self.side, self.side), Image.Resampling.BILINEAR)
        a = np.asarray(im, dtype=np.float32) / 255.0
        a = (a - np.array(self.mean, np.float32)) / np.array(self.std, np.float32)
        return np.ascontiguousarray(a.transpose(2, 0, 1)[None])

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Unit-length embeddings, one row per image."""
        if not images:
            return np.zeros((0, 0), np.float32)
        out = self._run(np.concatenate([self.prepare(a) for a in images]))
        out = out.reshape(len(images), -1)
        if not np.isfinite(out).all():
            raise AscertainError(self.path, "returned non-finite embeddings", "check the model and its input size")
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def compare(self, a: np.ndarray, b: np.ndarray) -> dict:
        ea, eb = self.embed([a, b])
        cos = float(np.clip(ea @ eb, -1, 1))
        return {"cosine": round(cos, 6), "similar": cos >= self.threshold, "model": self.manifest()}

    def manifest(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "format": self.format, "side": self.side,
                "mean": list(self.mean), "std": list(self.std), "threshold": self.threshold,
                **({"state_width": self.state_width, "state_dim": self.state_dim}
                   if self.format.startswith("torch state") else {})}
