"""`verify` re-derives the image part of a report too (report/rederive.py calls these): each image work's file is
read again and its descriptors and CMI derived again; each image source's index is rebuilt from its inputs and
compared file by file (the code table's shards included) and image by image; the image match is run again with
the recorded parameters, and the store's image evidence compared with the re-run's."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select, update

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.imaging.decode import decode
from ascertain.imaging.descriptors import describe, pdq_hex
from ascertain.index.images import CODES_DIR, ImageIndexWriter, read_cmi
from ascertain.index.shards import read_manifest
from ascertain.readers.base import ReadOptions
from ascertain.readers.images import read_images
from ascertain.store import schema

Differ = Callable[[str, str, str], None]
IMAGE_DIGESTS = ("image_evidence_rows", "image_evidence_sha256", "image_evidence_copies_sha256",
                 "work_images_sha256", "image_metadata_evidence_sha256", "image_watermarks_sha256")


def rederive_image_works(case: Case, c2: Case, differ: Differ) -> int:
    """Read every image work's file again: its bytes, descriptors and CMI must be what the store holds."""
    wi, wf = schema.work_images, schema.work_files
    n = 0
    with c2.store.begin() as c:
        rows = c.execute(select(wi.c.work_file_id, wf.c.path, wf.c.sha256, wi.c.pixel_sha256, wi.c.pdq,
                                wi.c.pdq_dihedral, wi.c.cmi).join(wf, wf.c.id == wi.c.work_file_id)
                         .order_by(wi.c.work_file_id)).all()
        for fid, path, sha, pixel_sha, pdq, dihedral, cmi in rows:
            full = Path(path) if Path(path).is_absolute() else case.root / path
            try:
                data = full.read_bytes()
            except OSError:
                differ("input", path, "image work file is gone: its descriptors and CMI cannot be re-derived")
                continue
            n += 1
            if hashlib.sha256(data).hexdigest() != sha:
                differ("store", f"work file {path}", "the image file is not the one the work was added from "
                       "(sha256 differs)")
                continue
            try:
                d = describe(decode(data, path), data)
            except AscertainError as e:
                differ("input", path, f"image work file no longer decodes: {e.problem}")
                continue
            again = (d.pixel_sha256, pdq_hex(d.pdq), [pdq_hex(x) for x in d.pdq_dihedral], read_cmi(data))
            if again != (pixel_sha, pdq, dihedral, cmi):
                differ("store", f"work file {path}", "the store's descriptors or image CMI of this work are not "
                       "what the file gives (the store was changed)")
                c.execute(update(wi).where(wi.c.work_file_id == fid).values(
                    pixel_sha256=again[0], pdq=again[1], pdq_dihedral=again[2], cmi=again[3], data=data))
    return n


def _files(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _images(index_dir: Path) -> dict[str, str]:
    m = read_manifest(index_dir) or {"shards": []}
    out: dict[str, str] = {}
    for shard in m["shards"]:
        t = pq.read_table(index_dir / shard["file"], columns=["locator", "sha256"])
        out.update(zip(t.column("locator").to_pylist(), t.column("sha256").to_pylist(), strict=True))
    return out


def rebuild_image_index(src: dict, original: Path, dest: Path, differ: Differ) -> int:
    """Rebuild an image source's index from its inputs into `dest`; compare with the case's. 1 when rebuilt,
    0 when an input is gone (the case's index is then copied and the difference said)."""
    from ascertain.sources import describe_inputs

    name, recorded = src["name"], src["inputs"]
    paths = [i["path"] for i in recorded]
    gone = [p for p in paths if not Path(p).exists()]
    for p in gone:
        differ("input", p, f"input of image source {name} is gone: its index cannot be re-derived")
    if gone:
        shutil.copytree(original, dest, dirs_exist_ok=True)
        return 0
    for before, after in zip(recorded, describe_inputs(paths), strict=True):
        if before != after:
            differ("input", before["path"], f"input of image source {name} changed since it was indexed")
    old = read_manifest(original) or {}
    params = src.get("params") or {}
    max_bytes = int(params.get("max_doc_bytes") or ReadOptions.max_doc_bytes)
    members = int(params.get("max_archive_members") or ReadOptions.max_archive_members)  # as the source was read
    ImageIndexWriter(dest, recorded, old.get("reading", {"max_doc_bytes": max_bytes}), "features" in old).build(
        read_images(paths, ReadOptions(max_doc_bytes=max_bytes, max_archive_members=members)), lambda _skips: None)
    have, again = _images(original), _images(dest)
    for loc in sorted(set(have) | set(again))[:50]:
        if have.get(loc) != again.get(loc):
            differ("input", loc, f"image of source {name} " + ("changed since it was indexed" if loc in have
                                                                 and loc in again else "is gone from the inputs"
                                                                 if loc in have else "is not in the index"))
    fa, fb = _files(original), _files(dest)
    for f in sorted(set(fa) | set(fb)):
        if f.startswith("cache/"):
            continue
        if fa.get(f) != fb.get(f):
            differ("index", f"{name}/{f}", "differs from the index rebuilt from the inputs" if f in fa and f in fb
                   else "missing from the case's index" if f in fb else "not in the index rebuilt from the inputs")
    return 1


def rerun_image_match(c2: Case, m: dict, differ: Differ) -> bool:
    """Run the image match again with the parameters the report's image run recorded (nothing to do without one)."""
    run = m.get("image_match_run")
    if not run:
        return False
    from ascertain.match.images import ImageMatchOptions, run_image_match

    p = run["manifest"]["parameters"]
    try:
        learned = _learned_again(p["learned"]) if p.get("learned") else None
        run_image_match(c2, ImageMatchOptions(candidate_radius=int(p["candidate_radius"]),
                                              exhaustive_pairs=int(p["exhaustive_pairs"]), learned=learned))
    except AscertainError as e:
        differ("rerun", "match images", f"the image match could not be re-run: {e.what}: {e.problem}")
        return False
    return True


def _learned_again(m: dict):
    """The learned descriptor the run used, loaded again from its path and checked against its SHA-256."""
    from ascertain.imaging.learned import LearnedDescriptor

    d = LearnedDescriptor(m["path"], side=int(m["side"]), threshold=float(m["threshold"]), mean=tuple(m["mean"]),
                          std=tuple(m["std"]), state_width=int(m.get("state_width", 16)),
                          state_dim=int(m.get("state_dim", 32)))
    if d.sha256 != m["sha256"]:
        raise AscertainError(m["path"], f"is not the model the image match used (sha256 {d.sha256[:16]}..., the "
                             f"run's {m['sha256'][:16]}...)", "give the model file the run recorded")
    return d


def rerun_image_metadata_match(c2: Case, differ: Differ) -> bool:
    """The metadata-only datasets' match (match/image_metadata.py) again, when the case ran one: it re-reads the
    Parquet files pinned (by sha256) in each source's parameters."""
    from ascertain.match.image_metadata import run_image_metadata_match

    with c2.store.engine.connect() as c:
        ran = c.execute(select(schema.runs.c.id).where(schema.runs.c.stage == "match image-metadata")
                        .limit(1)).first() is not None
    if not ran:
        return False
    try:
        run_image_metadata_match(c2)
    except AscertainError as e:
        differ("rerun", "match image-metadata", f"the metadata match could not be re-run: {e.what}: {e.problem}")
        return False
    return True


def compare_image_digests(now: dict, derived: dict, differ: Differ) -> None:
    for key in IMAGE_DIGESTS:
        if now.get(key) != derived.get(key):
            differ("rerun", f"store {key}", "the store's image evidence differs from the re-run's "
                   f"({now.get(key)} in the store, {derived.get(key)} re-derived)")
            return


__all__ = ["CODES_DIR", "compare_image_digests", "rebuild_image_index", "rederive_image_works",
           "rerun_image_match", "rerun_image_metadata_match"]
