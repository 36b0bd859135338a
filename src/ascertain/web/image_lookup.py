"""The public lookup by image upload: "was my image used?", answered yes or no with metadata only.

An uploaded image is decoded within tighter bounds than a corpus image (UPLOAD_MAX_PIXELS, imaging/decode.py's
bomb checks), then compared (imaging/compare.py) with the case's images: its image works, and the images of its
image sources (training corpora and output sets). The answer names the tier, the dataset and the shard (the
archive's file name) of each match and how many images there hold it; never a corpus image, its URL, its caption
or its locator (the policy drops `locator` for the public and claims staff: web/policy.py).

What the upload is compared with comes from one function, `case_images`, prepared once per worker process and
state of the store (outside an upload's time budget):
- a small case (at most EXHAUSTIVE images, works and sources together) is held whole: every image's digests and
  PDQ code, and each one is verified (crops and pastes change a whole-image hash);
- a larger case holds its works (few) and, per image source, only what is cheap whatever its size
  (web/image_source_lookup.py): the opened code table, sorted digest columns and where each row is, memory-mapped.
  Each upload then costs one exact scan of each source's codes (imaging/code_scan.py) for the upload's query
  variants (8 orientations, crops and paddings: imaging/candidates.py) within CANDIDATE_RADIUS, two binary
  searches per source for the same bytes or pixels, a scan of the source's local-feature table when it has one
  within FEATURE_SCAN_BUDGET (pastes and rotations), and the rows of at most `max_compared` candidates.
Candidates are verified most likely first (same bytes or pixels, then by PDQ distance), at most `max_compared`;
their images are read again from their inputs. A matched content counts every identical copy of it in the
source (MAX_COPIES of them located, by shard). The worker runs it under a timer (web/lookup_pool.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
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
from ascertain.web.image_source_lookup import SourceIndex, open_source

UPLOAD_MAX_PIXELS = 40_000_000  # an upload's declared size, checked before any pixel is decoded
MAX_COMPARED = 64  # geometric verifications per upload: candidates by digest and PDQ first, then the rest
CANDIDATE_RADIUS = 64  # PDQ bits: a loose pre-filter (as the image match's); compare.py decides
EXHAUSTIVE = 400  # up to this many case images every one is verified (crops and pastes change a whole-image hash)
MAX_COPIES = 10_000  # identical copies of a matched content located per upload (the rest are counted)
NOT_LOCATED = "(identical copies in other shards, not located by the lookup)"
DECODED = 16  # candidates of a large case kept decoded in a worker (the most recently verified)
# a large case's local-feature tables are scanned (pastes and rotations no whole-image code finds) while the
# upload's strongest features x the table's rows stay within this many code comparisons (~0.4 ns each: ~0.7 s
# of CPU); past it the source is too large for a per-upload feature scan and only its codes and digests are used
FEATURE_SCAN_BUDGET = 2_000_000_000


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
    images: list[CaseImage]  # the works, and every source image when the case is small (<= EXHAUSTIVE)
    codes: np.ndarray  # N x 32: each of those images' PDQ code (original orientation)
    sources: list[SourceIndex] = field(default_factory=list)  # a large case's sources, scanned per upload
    total: int = 0  # images in the case (works and every source's documents)
    decoded: OrderedDict = field(default_factory=OrderedDict, repr=False)  # (source, content) -> ImageInput

    def held_bytes(self) -> int:
        """This worker's own memory the sources' state holds (memory-mapped files count 0): bounded by the
        shards' and row groups' counts, not by the number of images."""
        return sum(s.held_bytes() for s in self.sources)


def _shard_of(locator: str) -> str:
    """The archive or folder an image sits in, by its file name only (never the server's path)."""
    outer = locator.split("!", 1)[0] if "!" in locator else str(Path(locator).parent)
    return Path(outer).name


def _from_index(case: Case) -> CaseImages:
    """The case's image works (work_images) and its image sources: every image's digests and PDQ code when the
    case is small (the bytes are read again only for the images an upload verifies), else each source's lookup
    state (web/image_source_lookup.py), never one object per image."""
    from sqlalchemy import select

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
    images: list[tuple[dict, Path, bytes, dict]] = []
    for src in sources:
        if not is_image_source(src["params"]) or src["status"] != "complete":
            continue
        root = Path(src["index_dir"])
        root = root if root.is_absolute() else case.root / root
        raw = (root / "manifest.json").read_bytes()
        manifest = json.loads(raw)
        if is_image_manifest(manifest):
            images.append((src, root, raw, manifest))
    total = len(out) + sum(int(m["documents"]) for _, _, _, m in images)
    if total > EXHAUSTIVE:  # too many to hold or verify them all: each source's lookup state instead
        opened = [open_source(src, case.root, raw) for src, _, raw, _ in images]
        return CaseImages(out, _stack(codes), [o for o in opened if o is not None], total)
    for src, root, _, manifest in images:
        _small_source(src, root, manifest, out, codes)
    return CaseImages(out, _stack(codes), [], total)


def _stack(codes: list[np.ndarray]) -> np.ndarray:
    return np.stack(codes) if codes else np.zeros((0, 32), np.uint8)


def _small_source(src: dict, root: Path, manifest: dict, out: list[CaseImage], codes: list[np.ndarray]) -> None:
    """Every image of a source of a small case, each verified by every upload."""
    from ascertain.index.images import codes_array, read_image_index
    from ascertain.readers.images import read_image_at

    table = read_image_index(root, manifest, ["locator", "sha256", "pixel_sha256", "pdq", "meta"])
    cs = codes_array(table)
    for i, r in enumerate(table.select(["locator", "sha256", "pixel_sha256", "meta"]).to_pylist()):
        out.append(CaseImage(src["name"], src["kind"], _shard_of(r["locator"]), r["locator"], r["sha256"],
                             r["pixel_sha256"], read=lambda r=r: read_image_at(json.loads(r["meta"]),
                                                                               r["locator"], r["sha256"])))
        codes.append(cs[i])


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


Candidate = tuple[int, int]  # (-1, index into CaseImages.images) or (source's position, content)


def _order(upload: ImageInput, images: CaseImages, max_compared: int) -> list[Candidate]:
    """Which case images to verify, most likely first: same bytes or pixels, then by PDQ distance (the upload's
    orientations, and in a large case its crops and paddings, against each image's code); every image of a
    small case. A large case's sources are searched (digest columns) and scanned (code tables), not read."""
    from ascertain.imaging.candidates import query_variants
    from ascertain.imaging.code_scan import scan

    ud = upload.descriptors
    queries = query_variants(upload.pixels, ud.pdq_dihedral).codes if images.sources else ud.pdq_dihedral
    exact: list[tuple[int, int, Candidate]] = []  # (rank, id, candidate): the case's order
    near: list[tuple[int, int, int, Candidate]] = []  # (distance, rank, id, candidate)
    voted: list[tuple[int, int, int, Candidate]] = []  # (-votes, rank, id, candidate): local-feature candidates
    n = len(images.images)
    rest = []
    if n:
        d = hamming(images.codes[:, None, :], queries[None, :, :]).min(axis=1)
        exact += [(0, i, (-1, i)) for i, ci in enumerate(images.images)
                  if ci.sha256 == ud.sha256 or ci.pixel_sha256 == ud.pixel_sha256]
        near += [(int(d[i]), 0, i, (-1, i)) for i in range(n) if d[i] <= CANDIDATE_RADIUS]
        if images.total <= EXHAUSTIVE:
            rest = [(-1, int(i)) for i in np.argsort(d, kind="stable")]
    for k, src in enumerate(images.sources):
        found = sorted(set(src.find("sha", ud.sha256)) | set(src.find("pixel", ud.pixel_sha256)))
        if found:  # a key is 8 bytes of the digest: the whole digest is checked on the row
            rows = src.rows(found, ["sha256", "pixel_sha256"])
            exact += [(k + 1, c, (k, c)) for c in found if c in rows
                      and (rows[c]["sha256"] == ud.sha256 or rows[c]["pixel_sha256"] == ud.pixel_sha256)]
        hits = scan(src.table, queries, CANDIDATE_RADIUS).best_per_id()
        # at most max_compared of a source can be verified: the nearest, so a flood of near codes (flat images)
        # costs a sort in NumPy, not a Python object per hit
        top = np.lexsort((hits.id, hits.distance))[:max_compared]
        near += [(dist, k + 1, c, (k, c)) for c, dist in zip(hits.id[top].tolist(), hits.distance[top].tolist(),
                                                             strict=True)]
        votes = _feature_votes(src, ud, upload.pixels)
        voted += sorted((-v, k + 1, c, (k, c)) for c, v in votes.items())[:max_compared]
    seen, order = set(), []
    ranked = [e[-1] for e in sorted(exact)] + [e[-1] for e in sorted(near)] + [e[-1] for e in sorted(voted)]
    for cand in ranked + rest:
        if cand not in seen:
            seen.add(cand)
            order.append(cand)
    return order[:max_compared]


def _feature_votes(src: SourceIndex, ud, pixels: np.ndarray) -> dict[int, float]:
    """Contents the upload's local features vote for (imaging/candidates.py's `feature_votes`, the image match's
    rule), when the source has a feature table small enough to scan per upload."""
    from ascertain.imaging.candidates import FEATURE_BITS, feature_votes, query_features
    from ascertain.imaging.code_scan import scan

    feats = query_features(ud, pixels)
    if src.features is None or not len(feats) or len(feats) * src.features.rows > FEATURE_SCAN_BUDGET:
        return {}
    votes = feature_votes(scan(src.features, feats, FEATURE_BITS), np.zeros(len(feats), np.int64),
                          src.table.rows)  # the source's distinct images (one code each)
    return {i: v for (i, _), v in votes.items()}


def _decoded(images: CaseImages, src: SourceIndex, k: int, content: int, row: dict | None) -> ImageInput | None:
    """A large case's candidate image, decoded (the last DECODED are kept in the worker)."""
    from ascertain.readers.images import read_image_at

    key = (k, content)
    if key in images.decoded:
        images.decoded.move_to_end(key)
        return images.decoded[key]
    image = None
    if row is not None:
        data = read_image_at(json.loads(row["meta"]), row["locator"], row["sha256"])
        try:
            image = load(data, row["locator"]) if data is not None else None
        except AscertainError:
            image = None
    images.decoded[key] = image
    while len(images.decoded) > DECODED:
        images.decoded.popitem(last=False)
    return image


def _verified(upload: ImageInput, images: CaseImages, order: list[Candidate]) -> list[dict]:
    """The candidates the upload is copied in (the upload stands for the creator's work: is it, or a region of
    it, in this image?), one entry per image holding it."""
    found = []
    rows: dict[int, dict[int, dict]] = {}
    for k, src in enumerate(images.sources):  # the candidates' rows, a row group read once for all of them
        want = [c for kk, c in order if kk == k]
        rows[k] = src.rows(want, ["locator", "sha256", "meta"]) if want else {}
    for k, i in order:
        if k < 0:
            ci = images.images[i]
            image = ci.loaded()
        else:
            image = _decoded(images, images.sources[k], k, i, rows[k].get(i))
        if image is None:  # the input changed or is gone since it was indexed
            continue
        r = compare_images(upload, image)
        if r["decision"] != "copied":
            continue
        hit = {"tier": r["tier"], "share_of_your_image": round(float(r["work_area_share"]), 3)}
        if k < 0:
            found.append({"dataset": ci.source, "kind": ci.kind, "shard": ci.shard, "locator": ci.locator,
                          "title": ci.title, "claimant": ci.claimant, **hit})
            continue
        src = images.sources[k]
        docs, total = src.copies_of(i, MAX_COPIES)  # every identical copy holds it too: each is an image that matches
        located = src.rows(docs, ["locator"]) if len(docs) > 1 else {i: rows[k][i]}
        for doc in docs:
            if doc in located:
                loc = located[doc]["locator"]
                found.append({"dataset": src.name, "kind": src.kind, "shard": _shard_of(loc), "locator": loc,
                              "title": "", "claimant": "", **hit})
        if total > len(docs):  # counted, not read: their rows would cost more than the upload's bound
            found.append({"dataset": src.name, "kind": src.kind, "shard": NOT_LOCATED, "locator": None,
                          "title": "", "claimant": "", "count": total - len(docs), **hit})
    return found


def lookup_image(case: Case, data: bytes, name: str, max_compared: int = MAX_COMPARED) -> dict:
    """The answer for one uploaded image (the caller bounds its time: web/lookup_pool.py)."""
    upload = decode_upload(data, name)
    images = case_images(case)
    order = _order(upload, images, max_compared)
    found = _verified(upload, images, order)
    in_sets = [f for f in found if f["kind"] != "work"]
    where: dict[tuple, dict] = {}
    for f in in_sets:  # one line per dataset, shard and tier, with how many images there match
        k = (f["dataset"], f["kind"], f["shard"], f["tier"])
        w = where.setdefault(k, {"dataset": f["dataset"], "kind": f["kind"], "shard": f["shard"], "tier": f["tier"],
                                 "images": 0, "share_of_your_image": 0.0, "locator": []})
        w["images"] += f.get("count", 1)
        w["share_of_your_image"] = max(w["share_of_your_image"], f["share_of_your_image"])
        if f["locator"] is not None:
            w["locator"].append(f["locator"])  # the parties' view only (policy.FIELDS)
    rows = sorted(where.values(), key=lambda w: (w["kind"], w["dataset"], w["shard"], w["tier"]))
    works = [{"title": f["title"], "claimant": f["claimant"], "tier": f["tier"]} for f in found if f["kind"] == "work"]
    return {"query": name, "sha256": hashlib.sha256(data).hexdigest(), "found": bool(in_sets),
            "in_training_data": any(w["kind"] == "corpus" for w in rows),
            "in_outputs": any(w["kind"] == "outputs" for w in rows), "where": rows, "works": works,
            "checked": {"images": images.total, "verified": len(order),
                        "pdq_threshold": PDQ_NEAR}}


def lookup_image_file(case: Case, path: str) -> dict:
    """The lookup of an uploaded file kept at `path` (the worker's entry point)."""
    p = Path(path)
    return lookup_image(case, p.read_bytes(), p.name)


