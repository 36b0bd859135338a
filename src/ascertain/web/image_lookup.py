"""The public lookup by image upload: "was my image used?", answered yes or no with metadata only.

An uploaded image is decoded within tighter bounds than a corpus image (UPLOAD_MAX_PIXELS, imaging/decode.py's
bomb checks), then compared (imaging/compare.py) with the case's images: its image works, and the images of its
image sources (training corpora and output sets). The answer names the tier, the dataset and the shard (the
archive's file name) of each match and how many copies it holds; never a corpus image, its URL, its caption or
its locator (the policy drops `locator` for the public and claims staff: web/policy.py).

What the upload is compared with comes from one function, `case_images`: the case's image index and image
works when the case has them (the image match stage's tables), else the sources' input folders and webdataset
shards read directly. Either way the case's images are prepared once per worker process (outside an upload's
time budget) and each upload then costs at most `max_compared` geometric verifications: exact digests and the
PDQ distance choose the candidates first (web/lookup_pool.py runs it in a worker with a timer).
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.imaging.compare import PDQ_NEAR, ImageInput, compare_images, load
from ascertain.imaging.decode import IMAGE_SUFFIXES, is_image_name, open_image
from ascertain.imaging.descriptors import hamming

UPLOAD_MAX_PIXELS = 40_000_000  # an upload's declared size, checked before any pixel is decoded
MAX_COMPARED = 64  # geometric verifications per upload: candidates by digest and PDQ first, then the rest
CANDIDATE_RADIUS = 64  # PDQ bits: a loose pre-filter; compare.py decides
EXHAUSTIVE = 400  # up to this many case images, every one is verified (crops and pastes change a whole-image hash)


@dataclass
class CaseImage:
    source: str  # the dataset (source name), or "works" for the case's own works
    kind: str  # corpus | outputs | work
    shard: str  # the archive or folder the image is in, by its file name only
    locator: str  # the image inside it (parties only: policy.FIELDS drops `locator` for others)
    title: str = ""  # a work's title and claimant (works only)
    claimant: str = ""
    image: ImageInput | None = field(default=None, repr=False)


@dataclass
class CaseImages:
    images: list[CaseImage]
    codes: np.ndarray  # N x 8 x 32: each image's dihedral PDQ codes
    skipped: int = 0
    origin: str = "inputs"  # "index" (the case's image index) or "inputs" (the sources' files read directly)


def _iter_inputs(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """(shard, member, bytes) of every image in a folder, an image file or a webdataset tar."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            yield from _iter_inputs(p) if p.is_file() and p.suffix.lower() == ".tar" else (
                [(p.parent.name, p.name, p.read_bytes())] if p.is_file() and is_image_name(p.name) else [])
    elif path.suffix.lower() == ".tar":
        with tarfile.open(path) as tar:
            for m in tar:
                if m.isfile() and is_image_name(m.name) and m.size <= 64 << 20:
                    f = tar.extractfile(m)
                    if f is not None:
                        yield path.name, m.name, f.read()
    elif path.is_file() and is_image_name(path.name):
        yield path.parent.name, path.name, path.read_bytes()


def _from_inputs(case: Case) -> CaseImages:
    """The case's image works and the images of its sources, read from the files the case recorded."""
    from sqlalchemy import select

    from ascertain.store import schema as s

    out, skipped = [], 0
    with case.store.engine.connect() as c:
        files = c.execute(select(s.work_files.c.path, s.works.c.title, s.claimants.c.name)
                          .join(s.works, s.works.c.id == s.work_files.c.work_id).join(s.claimants)
                          .order_by(s.work_files.c.id)).all()
        sources = c.execute(select(s.sources.c.name, s.sources.c.kind, s.sources.c.inputs)
                            .order_by(s.sources.c.id)).all()
    for path, title, claimant in files:
        p = Path(path)
        if is_image_name(p.name) and p.is_file():
            try:
                out.append(CaseImage("works", "work", p.parent.name, p.name, title, claimant, load(p.read_bytes(),
                                                                                                  p.name)))
            except AscertainError:
                skipped += 1
    for name, kind, inputs in sources:
        for i in inputs or []:
            for shard, member, data in _iter_inputs(Path(i.get("path", ""))):
                try:
                    out.append(CaseImage(name, kind, shard, f"{shard}:{member}", image=load(data, member)))
                except AscertainError:
                    skipped += 1
    codes = (np.stack([i.image.descriptors.pdq_dihedral for i in out]) if out
             else np.zeros((0, 8, 32), np.uint8))
    return CaseImages(out, codes, skipped, "inputs")


_PREPARED: dict[str, tuple[tuple, CaseImages]] = {}


def _state(case: Case) -> tuple:
    from sqlalchemy import func, select

    from ascertain.store import schema as s

    with case.store.engine.connect() as c:
        return (c.execute(select(func.max(s.audit_log.c.id))).scalar(),)


def case_images(case: Case) -> CaseImages:
    """What an upload is compared with, prepared once per process for each state of the case's store."""
    key, state = str(case.root.resolve()), _state(case)
    hit = _PREPARED.get(key)
    if hit is None or hit[0] != state:
        _PREPARED[key] = (state, _from_inputs(case))
    return _PREPARED[key][1]


def decode_upload(data: bytes, name: str) -> ImageInput:
    """The upload, refused before decoding when it is not an image or declares too many pixels."""
    if not is_image_name(name):
        raise AscertainError(name, "is not an image file this lookup reads",
                             f"upload the image as one of {', '.join(sorted({s.lstrip('.') for s in IMAGE_SUFFIXES}))}")
    im = open_image(data, name)  # a decompression bomb or a truncated header is refused here
    w, h = im.size
    if w * h > UPLOAD_MAX_PIXELS:
        raise AscertainError(name, f"declares {w:,} x {h:,} pixels, over the lookup's {UPLOAD_MAX_PIXELS:,}-pixel "
                             "bound", "upload a smaller copy of the image (the lookup compares at 1024 pixels)")
    return load(data, name)


def _order(upload: ImageInput, images: CaseImages, max_compared: int) -> list[int]:
    """Which case images to verify, most likely first: same bytes or pixels, then by PDQ distance."""
    n = len(images.images)
    if n == 0:
        return []
    d = hamming(images.codes, upload.descriptors.pdq[None, None, :]).min(axis=1)
    exact = [i for i, ci in enumerate(images.images)
             if ci.image.descriptors.sha256 == upload.descriptors.sha256
             or ci.image.descriptors.pixel_sha256 == upload.descriptors.pixel_sha256]
    near = [int(i) for i in np.argsort(d, kind="stable") if d[i] <= CANDIDATE_RADIUS]
    rest = [int(i) for i in np.argsort(d, kind="stable")] if n <= EXHAUSTIVE else []
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
        # the upload stands for the creator's work: is it (or a region of it) in this image?
        r = compare_images(upload, ci.image)
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
            "checked": {"images": len(images.images), "verified": len(order), "skipped": images.skipped,
                        "pdq_threshold": PDQ_NEAR}}


def lookup_image_file(case: Case, path: str) -> dict:
    """The lookup of an uploaded file kept at `path` (the worker's entry point)."""
    p = Path(path)
    return lookup_image(case, p.read_bytes(), p.name)


