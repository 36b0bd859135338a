"""Probing a model whose training data is not disclosed.

models.py loads the model (Hugging Face folder, GGUF file, OpenAI-compatible API) and detects what it
exposes; reproduction.py (Tier A), dataset_inference.py (Tier B) and indicative.py (Tier C) are the tests;
calibration.py measures their error rates on models trained with a known member / non-member split.
"""

LIMITATIONS = (
    "Limitations (fixed text): no claim is made that any single passage was trained on from scores alone; "
    "a null result is not evidence that a work was not trained on; no claim is made about which copy of a "
    "work was used in training. Tier C scores are indicative only, never proof of membership."
)
