"""What a probe knows of its model (identity, capability) and what scoring a text gives back."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEVELS = ("full", "prompt_logprobs", "output_logprobs", "top_k", "none")


@dataclass
class Scored:
    """Log-probabilities of a text's tokens given a context; mu/sigma: mean and spread of log p under the
    model's whole next-token distribution at each position (Min-K%++), only with `full` capability."""
    logprobs: np.ndarray
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None


@dataclass
class ModelInfo:
    spec: str
    kind: str  # hf | gguf | api
    model_id: str
    fingerprint: str  # sha256 of the weights (local) or the API's reported fingerprint
    capability: str  # one of LEVELS
    details: dict = field(default_factory=dict)

    def allows(self, test: str) -> bool:
        need = {"reproduction": "none", "np_extraction": "prompt_logprobs", "dataset_inference": "prompt_logprobs",
                "min_k_pp": "full", "indicative": "prompt_logprobs"}[test]
        return LEVELS.index(self.capability) <= LEVELS.index(need)

    def as_dict(self) -> dict:
        return {"spec": self.spec, "kind": self.kind, "model_id": self.model_id, "fingerprint": self.fingerprint,
                "capability": self.capability, **self.details}
