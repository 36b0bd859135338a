"""`ascertain match`, image part: every image work against every image source (corpus or output set).

Candidates, per work and distinct content of a source (identical bytes are one content, measured once,
counted, every locator listed):
- the same sha256 or the same decoded-pixels digest (exact joins);
- a PDQ code within `candidate_radius` bits of any of the work's query codes, found by an exact scan of the
  source's codes (no approximate index: the scan itself loses nothing). The query codes are the work as a copy
  may show it (imaging/candidates.py): its 8 dihedral orientations, centre crops of 5-20 % per side, one side
  cut by 25 %, white and black paddings of 10-20 %;
- every content, when the source is small enough that works x contents <= `exhaustive_pairs` (1,000: an output
  set, a small corpus): a paste into a larger image, or a crop unlike the query variants, moves the whole-image
  code beyond any radius, so only this finds them. The manifest says, per source, which it was, and each
  record why its pair was a candidate.
Each candidate is decided by imaging/compare.py (tiers same_bytes, same_pixels, near_duplicate, region_copy,
with the region, the share of the work's area and the transformation) on the copy's bytes read again from the
input (checked against the indexed sha256); its image CMI status against the work's comes from cmi/image.py.
Copies are stored in image_evidence (store/schema.py), their locators in image_evidence_copies.

Two further tiers (their own modules): every image of an output set is checked for the invisible watermarks of
open image generators (match/image_watermarks.py; stored per document in image_watermarks and attached to the
output's evidence), and with a model file the user gives, a learned descriptor adds candidates and the tier
`learned` (match/image_learned.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, func, insert, select

from ascertain import __version__
from ascertain.case import Case
from ascertain.cmi.image import image_cmi_status
from ascertain.cmi.visible import with_visible_mark
from ascertain.engine import Executor, make_executor
from ascertain.errors import AscertainError
from ascertain.imaging.candidates import (
    CANDIDATE_PDQ,
    CROPS,
    FEATURE_BITS,
    MIN_VOTES,
    PADS,
    SIDE_CROP,
    feature_votes,
    query_features,
    query_variants,
    vote_parameters,
)
from ascertain.imaging.code_scan import CodeTable, scan
from ascertain.imaging.compare import ImageInput, compare_images, load
from ascertain.imaging.visible_mark import check_mark, copy_map, find_corner_mark, parse_box
from ascertain.imaging.watermark import ALPHA as WM_ALPHA
from ascertain.imaging.watermark import KNOWN as WM_KNOWN
from ascertain.index.images import image_parameters, iter_index
from ascertain.match import image_learned, image_watermarks
from ascertain.media import is_image_manifest, is_image_source
from ascertain.readers.images import read_image_at
from ascertain.store import schema
from ascertain.store.db import now

CANDIDATE_RADIUS = CANDIDATE_PDQ  # of 256 bits: looser than PDQ_NEAR (31); compare.py decides
# works x distinct contents up to which every pair is verified geometrically: ~50-160 ms a pair that is not a
# copy on this shared machine (ORB matchings direct, denser and mirrored; docs/benchmarks.md, image_case), so a
# few minutes at most; larger sources take their candidates from the scans (--local-features for pastes)
EXHAUSTIVE_PAIRS = 1_000
INDEX_COLUMNS = ["doc", "locator", "sha256", "pixel_sha256", "pdq", "caption", "url", "meta", "cmi", "mode", "frames",
                 "media_type", "content"]
IMAGE_STAGE = "match images"


@dataclass
class ImageMatchOptions:
    sources: list[str] | None = None
    work: int | None = None
    candidate_radius: int = CANDIDATE_RADIUS
    exhaustive_pairs: int = EXHAUSTIVE_PAIRS
    engine: str = "local"  # where the code scan's shards run (engine/); the hits are the same on every engine
    processes: int | None = None
    ray_address: str | None = None
    allow_empty: bool = False  # let a run replace a source's stored image evidence with none
    learned: object | None = None  # an imaging.learned.LearnedDescriptor: the learned tier (off without a model)


@dataclass
class ImageWork:
    file_id: int
    work_id: int
    path: str
    sha256: str
    pixel_sha256: str
    query: np.ndarray  # V x 32 uint8: the query-side variants' PDQ codes (imaging/candidates.py)
    labels: list[str]  # what each variant is ("original", "centre crop 10% per side", ...)
    cmi: dict
    image: ImageInput
    mark: dict | None = None  # its visible signature/watermark region (declared or automatic), or None


def _work_mark(identifiers: dict, image: ImageInput, path: str) -> dict | None:
    """The work's visible mark: the works list's `signature_box` (x,y,w,h in the work's pixels), else an automatic
    candidate in a corner; with the box in decoded pixels too (what the check maps). A box that is not valid is
    noted (the automatic candidate is not used in its place: the declaration was the user's)."""
    size = (image.descriptors.width, image.descriptors.height)
    scale = image.pixels.shape[1] / max(1, size[0])
    declared = (identifiers or {}).get("signature_box")
    if declared:
        try:
            box = list(parse_box(declared, *size, path))
        except AscertainError as e:
            return {"source": "declared", "problem": f"{e.problem}; {e.fix}", "box": None}
        return {"source": "declared", "box": box, "decoded_box": [v * scale for v in box]}
    found = find_corner_mark(image.pixels)
    if found is None:
        return None
    box = [round(v / scale) for v in found["box"]]
    return {"source": "automatic", "box": box, "decoded_box": found["box"], "corner": found["corner"],
            "score": found["score"]}


def image_inventory(case: Case) -> tuple[int, int]:
    """(image work files, complete image sources) of the case."""
    with case.store.engine.connect() as c:
        n_works = c.execute(select(func.count()).select_from(schema.work_images)).scalar_one()
        srcs = c.execute(select(schema.sources.c.params, schema.sources.c.status)).all()
    return int(n_works), sum(1 for p, st in srcs if is_image_source(p) and st == "complete")


def _load_works(case: Case, work: int | None) -> list[ImageWork]:
    wi, wf = schema.work_images, schema.work_files
    q = (select(wi.c.work_file_id, wi.c.work_id, wf.c.path, wf.c.sha256, wi.c.pixel_sha256, wi.c.pdq_dihedral,
                wi.c.cmi, wi.c.data, schema.works.c.identifiers).join(wf, wf.c.id == wi.c.work_file_id)
         .join(schema.works, schema.works.c.id == wi.c.work_id).order_by(wi.c.work_file_id))
    if work is not None:
        q = q.where(wi.c.work_id == work)
    with case.store.engine.connect() as c:
        rows = c.execute(q).all()
    out = []
    for fid, wid, path, sha, psha, dihedral, cmi, data, identifiers in rows:
        image = load(bytes(data), path)
        variants = query_variants(image.pixels, np.frombuffer(b"".join(bytes.fromhex(h) for h in dihedral),
                                                              np.uint8).reshape(-1, 32))
        out.append(ImageWork(fid, wid, path, sha, psha, variants.codes, variants.labels, cmi, image,
                             _work_mark(identifiers, image, path)))
    return out


def _image_sources(case: Case, names: list[str] | None) -> list[dict]:
    with case.store.engine.connect() as c:
        srcs = [dict(r) for r in c.execute(select(schema.sources).order_by(schema.sources.c.id)).mappings()]
    if names:
        srcs = [s for s in srcs if s["name"] in names]
    srcs = [s for s in srcs if is_image_source(s["params"])]
    unfinished = [s["name"] for s in srcs if s["status"] != "complete"]
    if unfinished:
        raise AscertainError(", ".join(unfinished), "indexing did not finish",
                             "run the same `ascertain corpus add` / `outputs add` again, or remove the source")
    return srcs


def _transform(r: dict) -> dict:
    reg = r.get("region")
    t: dict = {"orientation": r["pdq_orientation"] if r["tier"] == "near_duplicate" else "original"}
    if r["tier"] in ("same_bytes", "same_pixels"):
        t.update(scale=1.0, rotation_degrees=0.0, mirrored=False)
    if reg:
        t.update(scale=reg["scale"], rotation_degrees=reg["rotation_degrees"], mirrored=reg["mirrored"])
        if reg.get("affine") is not None:  # 2 x 3, work pixels -> copy pixels (decoded), as verification fitted
            t["affine"] = reg["affine"]
        x0, y0, x1, y1 = reg["work_region"]
        t["crop"] = {"left": round(x0, 4), "top": round(y0, 4), "right": round(1 - x1, 4),
                     "bottom": round(1 - y1, 4)}
    elif r["tier"] == "near_duplicate":
        (ww, _), (cw, ch) = r["work_size"], r["copy_size"]
        swapped = "90°" in t["orientation"] or t["orientation"] in ("transposed", "transversed")
        t["scale"] = round((ch if swapped else cw) / max(ww, 1), 4)
    return t


def _mark_check(work: ImageWork, copy: ImageInput, r: dict) -> dict | None:
    """The work's visible mark in this copy, mapped with the pair's stored transform (imaging/visible_mark.py)."""
    m = work.mark
    if not m or m.get("box") is None:
        return None
    mapped = copy_map(r, work.image.pixels, copy.pixels)
    if mapped is None:
        return {"status": "not_checked", "reason": "no stored transform maps the work into this copy"}
    return {**check_mark(work.image.pixels, copy.pixels, mapped[0], m["decoded_box"]), "mapped_by": mapped[1]}


def _evidence(work: ImageWork, copy_row: dict, r: dict, n_copies: int, source_id: int) -> dict:
    copy_cmi = json.loads(copy_row["cmi"])
    status = with_visible_mark(image_cmi_status(work.cmi, copy_cmi), work.mark, r.get("visible_mark"))
    reg = r.get("region")
    return {"work_id": work.work_id, "work_file_id": work.file_id, "source_id": source_id,
            "doc_id": int(copy_row["doc"]), "doc_locator": copy_row["locator"], "copy_sha256": copy_row["sha256"],
            "copied": r["decision"] == "copied", "tier": r["tier"], "pdq_distance": int(r["pdq_distance"]),
            "work_area_share": float(r["work_area_share"]),
            "work_region": reg["work_region"] if reg else None, "copy_region": reg["copy_region"] if reg else None,
            "transform": _transform(r), "inliers": int(reg["inliers"]) if reg else 0,
            "cmi_status": status["status"], "cmi": status["fields"], "c2pa": status["c2pa"], "copies": n_copies,
            "caption": copy_row.get("caption"), "url": copy_row.get("url"),
            # what the copy is as stored: an animated copy is compared by its first frame, a CMYK or 16-bit one
            # after conversion to 8-bit RGB (imaging/decode.py)
            "facts": {**r, "copy_cmi": copy_cmi, "copy_media_type": copy_row["media_type"],
                      "copy_mode": copy_row["mode"], "copy_frames": int(copy_row["frames"])}}


def _match_source(src: dict, index_dir: Path, manifest: dict, works: list[ImageWork], opts: ImageMatchOptions,
                  progress: Callable[[str, int, int], None] | None, executor: Executor,
                  work_emb: np.ndarray | None = None) -> tuple[list[tuple[dict, list]], dict]:
    """The source's copies of the works. The index is read a batch at a time, twice: once for the candidates
    (exact joins; every distinct content when the source is small), once for the candidates' rows and the
    locators of their identical copies; memory follows the candidates, not the corpus."""
    exhaustive = len(works) * int(manifest["distinct_images"]) <= opts.exhaustive_pairs
    by_sha: dict[str, list[int]] = {}
    by_pixels: dict[str, list[int]] = {}
    for wi, w in enumerate(works):
        by_sha.setdefault(w.sha256, []).append(wi)
        by_pixels.setdefault(w.pixel_sha256, []).append(wi)
    pairs: dict[int, set[int]] = {}  # content (its first document) -> works (their index) to verify against it
    everyone = set(range(len(works)))
    for batch in iter_index(index_dir, manifest, ["doc", "sha256", "pixel_sha256", "content"]):
        sha, pix, content = batch.column(1), batch.column(2), batch.column(3)
        if exhaustive:
            doc = batch.column(0)
            for c in pc.filter(content, pc.equal(doc, content)).to_pylist():
                pairs.setdefault(c, set()).update(everyone)
        for col, wanted in ((sha, by_sha), (pix, by_pixels)):
            hit = pc.is_in(col, value_set=pa.array(sorted(wanted), pa.string()))
            for key, c in zip(pc.filter(col, hit).to_pylist(), pc.filter(content, hit).to_pylist(), strict=True):
                pairs.setdefault(c, set()).update(wanted[key])
    why: dict[tuple[int, int], str] = {}  # (content, work) -> why the pair was a candidate (scan hits)
    if not exhaustive:  # one exact scan of the source's code table for every work's query codes at once
        owner = np.repeat(np.arange(len(works)), [len(w.query) for w in works])
        first_q = np.concatenate([[0], np.cumsum([len(w.query) for w in works])[:-1]])
        table = CodeTable(index_dir / manifest["codes"]["folder"])
        table.verify()  # shards changed since the index was written are refused, not scanned
        hits = scan(table, np.concatenate([w.query for w in works]), opts.candidate_radius, executor)
        for q, doc, d in zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), strict=True):
            wi = int(owner[q])  # a code's id is its content's first document
            pairs.setdefault(int(doc), set()).add(wi)
            why.setdefault((int(doc), wi), f"PDQ of the work's {works[wi].labels[q - first_q[wi]]} within {d} bits")
        if "features" in manifest:  # local-feature votes: pastes, rotations, crops no whole-image code finds
            for (doc, wi), votes in _feature_votes(index_dir / manifest["features"]["folder"], works, executor,
                                                    int(manifest["distinct_images"])).items():
                pairs.setdefault(doc, set()).add(wi)
                why.setdefault((doc, wi), f"the work's local features found in the image (within {FEATURE_BITS} "
                                          f"bits) vote {votes:g}, common ones weighing less ({MIN_VOTES:g} needed)")
    learned = opts.learned
    learned_tally: dict = {}
    if learned is not None and not exhaustive:  # (a small source verifies every pair anyway)
        sims, embedded = image_learned.similar_pairs(learned, work_emb, index_dir, manifest)
        for (doc, wi), cos in sorted(sims.items()):
            pairs.setdefault(doc, set()).add(wi)
            why.setdefault((doc, wi), f"learned descriptor cosine {cos:.3f} >= {learned.threshold}")
        learned_tally = {"learned_embedded": embedded, "learned_candidates": len(sims)}
    reps: dict[int, dict] = {}
    locators: dict[int, list[tuple[int, str]]] = {}
    wanted = pa.array(sorted(pairs), pa.int64())
    for batch in iter_index(index_dir, manifest, INDEX_COLUMNS):
        t = pa.Table.from_batches([batch])
        t = t.filter(pc.is_in(t.column("content"), value_set=wanted))
        for r in t.to_pylist():
            locators.setdefault(r["content"], []).append((int(r["doc"]), r["locator"]))
            if r["doc"] == r["content"]:
                reps[r["content"]] = r
    found: list[tuple[dict, list]] = []
    tally = {"distinct_contents": int(manifest["distinct_images"]), "documents": int(manifest["documents"]),
             "mode": "exhaustive" if exhaustive else "scan", "candidate_pairs": sum(len(v) for v in pairs.values()),
             "not_copied": 0, "unreadable": 0, **learned_tally}
    for done, c in enumerate(sorted(pairs)):
        row = reps[c]
        data = read_image_at(json.loads(row["meta"]), row["locator"], row["sha256"])
        if data is None:
            tally["unreadable"] += 1
            continue
        copy = load(data, row["locator"])
        copy_emb = image_learned.embed_pixels(learned, [copy.pixels])[0] if learned is not None else None
        for wi in sorted(pairs[c]):
            r = compare_images(works[wi].image, copy)
            if learned is not None:
                cos = round(float(np.clip(copy_emb @ work_emb[wi], -1, 1)), 6)
                r["learned"] = image_learned.learned_record(learned, cos)
                if r["decision"] != "copied" and r["learned"]["similar"]:  # the hash and geometric tiers said no
                    r.update(decision="copied", tier=image_learned.TIER, work_area_share=0.0)
            if r["decision"] != "copied":
                tally["not_copied"] += 1
                continue
            r["candidate_by"] = why.get((c, wi), "every pair verified (a small source)" if exhaustive
                                        else "the same file or decoded pixels")
            mark = _mark_check(works[wi], copy, r)
            if mark is not None:
                wm = works[wi].mark
                r["visible_mark"] = {**mark, "source": wm["source"], "work_box": wm["box"],
                                     **({"corner": wm["corner"], "score": wm["score"]}
                                        if wm["source"] == "automatic" else {})}
            found.append((_evidence(works[wi], row, r, len(locators[c]), src["id"]), locators[c]))
        if progress:
            progress(src["name"], done + 1, len(pairs))
    return found, tally


def _columns(index_dir: Path, manifest: dict) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_schema(index_dir / manifest["shards"][0]["file"]).names if manifest.get("shards") else []


def _feature_votes(folder: Path, works: list[ImageWork], executor: Executor, images: int
                   ) -> dict[tuple[int, int], float]:
    """(content, work) -> the feature vote of imaging/candidates.py (`feature_votes`, the rule the validation
    measures), from one exact scan of the source's feature table with every work's query features."""
    feats = [query_features(w.image.descriptors, w.image.pixels) for w in works]
    owner = np.repeat(np.arange(len(works)), [len(f) for f in feats])
    if not len(owner):
        return {}
    table = CodeTable(folder)
    table.verify()
    return feature_votes(scan(table, np.concatenate(feats), FEATURE_BITS, executor), owner, images)


def _one_source(case: Case, src: dict, works: list[ImageWork], opts: ImageMatchOptions, progress, executor: Executor,
                all_rows: list, per_source: dict, manifests: dict, watermarks: list, work_emb: np.ndarray | None
                ) -> None:
    index_dir = Path(src["index_dir"])
    index_dir = index_dir if index_dir.is_absolute() else case.root / index_dir
    raw = (index_dir / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    if not is_image_manifest(manifest) or "codes" not in manifest or "content" not in _columns(index_dir, manifest):
        raise AscertainError(src["name"], "its index is not an image index of this version",
                             f"remove it (`ascertain sources remove {case.root} {src['name']}`) and add it again")
    manifests[src["name"]] = hashlib.sha256(raw).hexdigest()
    found, tally = _match_source(src, index_dir, manifest, works, opts, progress, executor, work_emb)
    if src["kind"] == "outputs":  # generated images: the generators' invisible watermark, per document
        if opts.work is None:
            rows = image_watermarks.check_output_set(src["id"], index_dir, manifest, executor)
            watermarks.extend(rows)
            tally["watermarks"] = image_watermarks.tally(rows)
            by_doc = {r["doc_id"]: r["facts"] for r in rows}
        else:  # a one-work lookup keeps the output set's stored checks
            with case.store.engine.connect() as c:
                by_doc = image_watermarks.stored_by_doc(c, src["id"])
        for row, _ in found:
            if row["doc_id"] in by_doc:
                row["facts"]["watermark"] = by_doc[row["doc_id"]]
    all_rows.extend(found)
    per_source[src["name"]] = tally


def run_image_match(case: Case, opts: ImageMatchOptions,
                    progress: Callable[[str, int, int], None] | None = None) -> dict | None:
    """Match image works with image sources and store the evidence; None when the case has no image works or
    no image sources (selected)."""
    started, t0 = now(), time.perf_counter()
    srcs = _image_sources(case, opts.sources)
    works = _load_works(case, opts.work) if srcs else []
    if not srcs or not works:
        return None
    all_rows: list[tuple[dict, list]] = []
    per_source: dict[str, dict] = {}
    manifests: dict[str, str] = {}
    watermarks: list[dict] = []
    work_emb = (image_learned.embed_pixels(opts.learned, [w.image.pixels for w in works])
                if opts.learned is not None else None)
    executor = make_executor(opts.engine, opts.processes, opts.ray_address)
    try:
        for src in srcs:
            _one_source(case, src, works, opts, progress, executor, all_rows, per_source, manifests, watermarks,
                        work_emb)
    finally:
        executor.close()
    all_rows.sort(key=lambda fr: (fr[0]["source_id"], fr[0]["work_file_id"], fr[0]["doc_id"]))
    if not opts.allow_empty:
        _check_not_emptied(case, srcs, {r["source_id"] for r, _ in all_rows}, opts.work)
    rates = cmi_rates([r for r, _ in all_rows], {s["id"]: s["name"] for s in srcs})
    manifest = {"tool": "ascertain", "version": __version__, "stage": IMAGE_STAGE,
                "parameters": {**image_parameters(), "candidate_radius": opts.candidate_radius,
                               "exhaustive_pairs": opts.exhaustive_pairs,
                               "query_codes": "imaging.candidates.query_variants",
                               "query_variants": {"crops": list(CROPS), "side_crop": SIDE_CROP, "pads": list(PADS)},
                               "feature_vote": vote_parameters(),
                               **({"work": opts.work} if opts.work is not None else {}),
                               **({"learned": opts.learned.manifest()} if opts.learned is not None else {}),
                               **({"watermark": {"method": image_watermarks.WATERMARK_METHOD, "alpha": WM_ALPHA,
                                                 "messages": [m.name for m in WM_KNOWN]}}
                                  if any(s["kind"] == "outputs" for s in srcs) else {})},
                "works": sorted(({"file": w.path, "sha256": w.sha256} for w in works),
                                key=lambda r: (r["file"], r["sha256"])),
                "visible_marks": {w.path: {k: v for k, v in w.mark.items() if k != "decoded_box"}
                                  for w in sorted(works, key=lambda w: w.path) if w.mark},
                "sources": manifests, "per_source": per_source,
                "counts": {"image_work_files": len(works), "sources": len(srcs), "evidence": len(all_rows),
                           "copied_documents": sum(r["copies"] for r, _ in all_rows)},
                "cmi_rates": rates}
    seconds = time.perf_counter() - t0
    ie, ic = schema.image_evidence, schema.image_evidence_copies
    with case.store.begin() as c:
        run_id = c.execute(insert(schema.runs).values(stage=IMAGE_STAGE, manifest=manifest, started_at=started,
                                                      seconds=seconds)).inserted_primary_key[0]
        where = [ie.c.source_id.in_([s["id"] for s in srcs])]
        if opts.work is not None:
            where.append(ie.c.work_id == opts.work)
        old = select(ie.c.id).where(*where)
        c.execute(delete(ic).where(ic.c.evidence_id.in_(old)))
        c.execute(delete(ie).where(*where))
        for row, locs in all_rows:
            eid = c.execute(insert(ie).values(**row, run_id=run_id)).inserted_primary_key[0]
            c.execute(insert(ic), [{"evidence_id": eid, "doc_id": d, "locator": loc} for d, loc in locs])
        if opts.work is None:
            image_watermarks.store(c, run_id, [s["id"] for s in srcs if s["kind"] == "outputs"], watermarks)
    case.store.audit(IMAGE_STAGE, {"run": run_id, "sources": [s["name"] for s in srcs],
                                   "evidence": len(all_rows), "seconds": round(seconds, 3)})
    return {"run": run_id, "evidence": len(all_rows), "copied_documents": manifest["counts"]["copied_documents"],
            "per_source": per_source, "cmi_rates": rates, "seconds": round(seconds, 3)}


def _check_not_emptied(case: Case, srcs: list[dict], found: set[int], work: int | None) -> None:
    """A run may not silently replace a source's stored image evidence with none (as for text evidence)."""
    ie = schema.image_evidence
    where = [ie.c.source_id.in_([s["id"] for s in srcs])] + ([ie.c.work_id == work] if work is not None else [])
    with case.store.engine.connect() as c:
        stored = dict(c.execute(select(ie.c.source_id, func.count()).where(*where).group_by(ie.c.source_id)).all())
    lost = [(s["name"], stored[s["id"]]) for s in srcs if stored.get(s["id"]) and s["id"] not in found]
    if lost:
        raise AscertainError(", ".join(n for n, _ in lost), "this image match found no evidence where the store "
                             "holds " + ", ".join(f"{m} image record(s) for {n}" for n, m in lost)
                             + "; they were kept", "check the works and the sources' inputs (a moved shard is "
                             "unreadable); pass --allow-empty to replace them with nothing")


def cmi_rates(rows: list[dict], names: dict[int, str]) -> dict[str, dict]:
    """Per source: of the documents holding a copy of a work that carried image CMI, how many kept it, altered
    it or removed it (overall and per field), each identical copy counted. Scraping pipelines re-encode and drop
    metadata by design: the rate over a corpus is the finding, not one example."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(names[r["source_id"]], {"copies": 0, "with_work_cmi": 0, "retained": 0, "altered": 0,
                                                   "removed": 0, "fields": {}, "c2pa": {}, "visible_marks": {}})
        n = int(r["copies"])
        s["copies"] += n
        vm = (r.get("facts") or {}).get("visible_mark")
        if vm:  # declared and automatic marks apart: kept / altered / removed / cropped_out / not_checked
            by = s["visible_marks"].setdefault(vm["source"], {})
            by[vm["status"]] = by.get(vm["status"], 0) + n
        if r["c2pa"] != "never_present":
            s["c2pa"][r["c2pa"]] = s["c2pa"].get(r["c2pa"], 0) + n
        if r["cmi_status"] == "never_present":
            continue
        s["with_work_cmi"] += n
        s[r["cmi_status"]] += n
        for field, f in r["cmi"].items():
            fs = s["fields"].setdefault(field, {"kept": 0, "altered": 0, "removed": 0})
            fs[f["status"]] += n
    for s in out.values():
        base = s["with_work_cmi"]
        s["removed_share"] = round(s["removed"] / base, 4) if base else None
        s["fields"] = dict(sorted(s["fields"].items()))
        s["visible_marks"] = {k: dict(sorted(v.items())) for k, v in sorted(s["visible_marks"].items())}
    return dict(sorted(out.items()))


def stored_cmi_rates(case: Case) -> dict[str, dict]:
    """The CMI rates of the image evidence in the store (what the report shows)."""
    ie = schema.image_evidence
    with case.store.engine.connect() as c:
        rows = [dict(r) for r in c.execute(select(ie.c.source_id, ie.c.copies, ie.c.cmi_status, ie.c.cmi,
                                                  ie.c.c2pa, ie.c.facts).where(ie.c.copied.is_(True))).mappings()]
        names = dict(c.execute(select(schema.sources.c.id, schema.sources.c.name)).all())
    return cmi_rates(rows, names)
