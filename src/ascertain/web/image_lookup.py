"""The public lookup by image upload: "was my image used?", answered yes or no with metadata only.

An uploaded image is decoded within tighter bounds than a corpus image (UPLOAD_MAX_PIXELS, imaging/decode.py's
bomb checks), then compared (imaging/compare.py) with the case's images: its image works, and the images of its
image sources (training corpora and output sets). The answer names the tier, the dataset and the shard (the
archive's file name) of each match and how many images there hold it; never a corpus image, its URL, its caption
or its locator (the policy drops `locator` for the public and claims staff: web/policy.py).

What the upload is compared with comes from one function, `case_images`: the case's image works (work_images)
and the index of each image source (digests and PDQ codes, index/images.py), read once per worker process and
state of the store (outside an upload's time budget). Each upload then costs one exact scan of the codes and at
most `max_compared` geometric verifications, whose images are read again from their inputs (and kept decoded in
the worker): same bytes or pixels first, then by PDQ distance, and every image when the case holds few. The
worker runs it under a timer (web/lookup_pool.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.imaging.compare import PDQ_NEAR, ImageInput, compare_images, load
from ascertain.imaging.decode import IMAGE_SUFFIXES, is_image_name, open_image
from ascertain.imaging.descriptors import hamming
from ascertain.media import is_image_manifest, is_image_source

UPLOAD_MAX_PIXELS = 40_000_000  # an upload's declared size, checked before any pixel is decoded
MAX_COMPARED = 64  # geometric verifications per upload: candidates by digest and PDQ first, then the rest
CANDIDATE_RADIUS = 64  # PDQ bits: a loose pre-filter (as the image match's); compare.py decides
EXHAUSTIVE = 400  # up to this many case images every one is verified (crops and pastes change a whole-image hash)


@dataclass
class CaseImage:
    source: str  # the dataset (source name), or "works" for the case's own works
    kind: str  # corpus | outputs | work
    shard: str  # the archive or folder the image is in, by its file name only
    locator: str  # the image inside it (parties only: policy.FIELDS drops `locator` for others)
    sha256: str
    pixel_sha256: str
    title: str = ""  # a work's title and claimant (works only)
    claimant: str = ""
    read: Callable[[], bytes | None] | None = field(default=None, repr=False)  # the bytes again, to verify
    image: ImageInput | None = field(default=None, repr=False)  # decoded once, when first verified

    def loaded(self) -> ImageInput | None:
        if self.image is None and self.read is not None:
            data = self.read()
            try:
                self.image = load(data, self.locator) if data is not None else None
            except AscertainError:
                self.image, self.read = None, None
        return self.image


@dataclass
class CaseImages:
    images: list[CaseImage]
    codes: np.ndarray  # N x 32: each image's PDQ code (original orientation)


def _shard_of(locator: str) -> str:
    """The archive or folder an image sits in, by its file name only (never the server's path)."""
    outer = locator.split("!", 1)[0] if "!" in locator else str(Path(locator).parent)
    return Path(outer).name


def _from_index(case: Case) -> CaseImages:
    """The case's image works (work_images) and the images of its image sources (their index: digests and PDQ
    codes; the bytes are read again only for the images an upload verifies)."""
    from sqlalchemy import select

    from ascertain.index.images import codes_array, read_image_index
    from ascertain.readers.images import read_image_at
    from ascertain.store import schema as s

    out: list[CaseImage] = []
    codes: list[np.ndarray] = []
    wi = s.work_images
    with case.store.engine.connect() as c:
        works = c.execute(select(wi.c.work_file_id, wi.c.pixel_sha256, wi.c.pdq, s.work_files.c.path,
                                 s.work_files.c.sha256, s.works.c.title, s.claimants.c.name)
                          .join(s.work_files, s.work_files.c.id == wi.c.work_file_id)
                          .join(s.works, s.works.c.id == wi.c.work_id).join(s.claimants)
                          .order_by(wi.c.work_file_id)).all()
        sources = [dict(r) for r in c.execute(select(s.sources).order_by(s.sources.c.id)).mappings()]

    def work_bytes(fid: int) -> bytes:
        with case.store.engine.connect() as c:
            return bytes(c.execute(select(wi.c.data).where(wi.c.work_file_id == fid)).scalar_one())

    for fid, psha, pdq, path, sha, title, claimant in works:
        out.append(CaseImage("works", "work", "works", Path(path).name, sha, psha, title, claimant,
                             lambda fid=fid: work_bytes(fid)))
        codes.append(np.frombuffer(bytes.fromhex(pdq), np.uint8))
    for src in sources:
        if not is_image_source(src["params"]) or src["status"] != "complete":
            continue
        root = Path(src["index_dir"])
        root = root if root.is_absolute() else case.root / root
        manifest = json.loads((root / "manifest.json").read_text())
        if not is_image_manifest(manifest):
            continue
        table = read_image_index(root, manifest, ["locator", "sha256", "pixel_sha256", "pdq", "meta"])
        cs = codes_array(table)
        for i, r in enumerate(table.select(["locator", "sha256", "pixel_sha256", "meta"]).to_pylist()):
            out.append(CaseImage(src["name"], src["kind"], _shard_of(r["locator"]), r["locator"], r["sha256"],
                                 r["pixel_sha256"], read=lambda r=r: read_image_at(json.loads(r["meta"]),
                                                                                   r["locator"], r["sha256"])))
            codes.append(cs[i])
    return CaseImages(out, np.stack(codes) if codes else np.zeros((0, 32), np.uint8))


_PREPARED: dict[str, tuple[tuple, CaseImages]] = {}


def _state(case: Case) -> tuple:
    from sqlalchemy import func, select

    from ascertain.store import schema as s

    with case.store.engine.connect() as c:
        return (c.execute(select(func.max(s.audit_log.c.id))).scalar(),)


def case_images(case: Case) -> CaseImages:
    """What an upload is compared with, prepared once per process for each state of the case's store (every
    write stage ends with an audit entry)."""
    key, state = str(case.root.resolve()), _state(case)
    hit = _PREPARED.get(key)
    if hit is None or hit[0] != state:
        _PREPARED[key] = (state, _from_index(case))
    return _PREPARED[key][1]


def decode_upload(data: bytes, name: str) -> ImageInput:
    """The upload, refused before decoding when it is not an image or declares too many pixels."""
    if not is_image_name(name):
        kinds = ", ".join(sorted({s.lstrip(".") for s in IMAGE_SUFFIXES}))
        raise AscertainError(name, "is not an image file this lookup reads", f"upload the image as one of {kinds}")
    im = open_image(data, name)  # a decompression bomb or a truncated header is refused here
    w, h = im.size
    if w * h > UPLOAD_MAX_PIXELS:
        raise AscertainError(name, f"declares {w:,} x {h:,} pixels, over the lookup's {UPLOAD_MAX_PIXELS:,}-pixel "
                             "bound", "upload a smaller copy of the image (the lookup compares at 1024 pixels)")
    return load(data, name)


def _order(upload: ImageInput, images: CaseImages, max_compared: int) -> list[int]:
    """Which case images to verify, most likely first: same bytes or pixels, then by PDQ distance (the upload's 8
    orientations against each image's code)."""
    n = len(images.images)
    if n == 0:
        return []
    d = hamming(images.codes[:, None, :], upload.descriptors.pdq_dihedral[None, :, :]).min(axis=1)
    exact = [i for i, ci in enumerate(images.images)
             if ci.sha256 == upload.descriptors.sha256 or ci.pixel_sha256 == upload.descriptors.pixel_sha256]
    by_distance = [int(i) for i in np.argsort(d, kind="stable")]
    near = [i for i in by_distance if d[i] <= CANDIDATE_RADIUS]
    rest = by_distance if n <= EXHAUSTIVE else []
    seen, order = set(), []
    for i in exact + near + rest:
        if i not in seen:
            seen.add(i)
            order.append(i)
    return order[:max_compared]


def lookup_image(case: Case, data: bytes, name: str, max_compared: int = MAX_COMPARED) -> dict:
    """The answer for one uploaded image (the caller bounds its time: web/lookup_pool.py)."""
    upload = decode_upload(data, name)
    images = case_images(case)
    found = []
    order = _order(upload, images, max_compared)
    for i in order:
        ci = images.images[i]
        image = ci.loaded()
        if image is None:  # the input changed or is gone since it was indexed
            continue
        # the upload stands for the creator's work: is it (or a region of it) in this image?
        r = compare_images(upload, image)
        if r["decision"] != "copied":
            continue
        found.append({"dataset": ci.source, "kind": ci.kind, "shard": ci.shard, "locator": ci.locator,
                      "tier": r["tier"], "share_of_your_image": round(float(r["work_area_share"]), 3),
                      "title": ci.title, "claimant": ci.claimant})
    in_sets = [f for f in found if f["kind"] != "work"]
    where: dict[tuple, dict] = {}
    for f in in_sets:  # one line per dataset, shard and tier, with how many images there match
        k = (f["dataset"], f["kind"], f["shard"], f["tier"])
        w = where.setdefault(k, {"dataset": f["dataset"], "kind": f["kind"], "shard": f["shard"], "tier": f["tier"],
                                 "images": 0, "share_of_your_image": 0.0, "locator": []})
        w["images"] += 1
        w["share_of_your_image"] = max(w["share_of_your_image"], f["share_of_your_image"])
        w["locator"].append(f["locator"])  # the parties' view only (policy.FIELDS)
    rows = sorted(where.values(), key=lambda w: (w["kind"], w["dataset"], w["shard"], w["tier"]))
    works = [{"title": f["title"], "claimant": f["claimant"], "tier": f["tier"]} for f in found if f["kind"] == "work"]
    return {"query": name, "sha256": hashlib.sha256(data).hexdigest(), "found": bool(in_sets),
            "in_training_data": any(w["kind"] == "corpus" for w in rows),
            "in_outputs": any(w["kind"] == "outputs" for w in rows), "where": rows, "works": works,
            "checked": {"images": len(images.images), "verified": len(order),
                        "pdq_threshold": PDQ_NEAR}}


def lookup_image_file(case: Case, path: str) -> dict:
    """The lookup of an uploaded file kept at `path` (the worker's entry point)."""
    p = Path(path)
    return lookup_image(case, p.read_bytes(), p.name)


