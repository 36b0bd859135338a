"""Which medium a source holds. A source is one medium: an image source says `"medium": "image"` in its sources
row's params and in its index manifest, so the text stages pass it by. No heavy imports: every stage asks this."""

from __future__ import annotations

IMAGE = "image"


def is_image_source(params: dict | None) -> bool:
    """The sources row's params name an image source."""
    return bool(params) and params.get("medium") == IMAGE


def is_image_manifest(manifest: dict | None) -> bool:
    """The index manifest is an image index's."""
    return bool(manifest) and manifest.get("medium") == IMAGE
