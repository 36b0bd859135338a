"""The image DECISION stage (imaging/compare.py) measured on the tuning split only: copies verified per
transformation and distinct candidate pairs called copies, with the time per decision.

Tuning sources only (scikit-image and openclipart's TUNE_CATEGORIES; the held-out categories are never read).
Per seed: works drawn from the tuning split, every transformation of validation/images.py applied, the corpus
of all copies scanned by the candidate stage (imaging/candidates.py, as `validate --images` does), and every
candidate pair decided. The corpus and the candidate pairs are cached per seed (`--cache`), so a change to the
decision is measured again on the same pairs:

    PYTHONPATH=src nice -n 10 python3 tools/image_decision_tuning.py --seeds 11 12 --works 40 --label before
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections import defaultdict
from pathlib import Path

from ascertain.imaging.candidates import CandidateIndex, candidates, query_variants
from ascertain.imaging.compare import ImageInput, compare_images
from ascertain.imaging.decode import decode
from ascertain.validation.images import (
    TRANSFORMS,
    build_corpus,
    load_works,
    same_author,
    source_files,
)

SOURCES = ("skimage", "openclipart-tune")  # the tuning split; never openclipart-heldout


def prepare(source: str, seed: int, works: int, cache: Path) -> dict:
    path = cache / f"{source}-{seed}-{works}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    assert source in SOURCES, source
    ws, _ = load_works(source_files(source), works, seed)
    corpus = build_corpus(ws, [], 0, seed + 1)
    index = CandidateIndex.build([c.descriptors for c in corpus])
    pairs = []
    for wi, w in enumerate(ws):
        for c in candidates(index, w.descriptors, query_variants(w.pixels, w.descriptors.pdq_dihedral)):
            pairs.append((wi, c.image))
    # every copy is decided, candidate or not: the decision is what is measured here
    pairs = sorted(set(pairs) | {(c.work, ci) for ci, c in enumerate(corpus) if c.work is not None})
    out = {"works": ws, "corpus": corpus, "pairs": pairs}
    path.write_bytes(pickle.dumps(out))
    return out


def decide(prep: dict, only_distinct: bool = False, every: int = 1) -> list[dict]:
    ws, corpus = prep["works"], prep["corpus"]
    rows = []
    for wi, ci in prep["pairs"][::every]:
        c = corpus[ci]
        kind = "copy" if c.work == wi else (
            "same_author" if same_author(ws[wi].name, ws[c.work].name) else "distinct")
        if only_distinct and kind == "copy":
            continue
        img = ImageInput(c.name, c.data, c.descriptors, decode(c.data, c.name).pixels)
        t0 = time.perf_counter()
        r = compare_images(ws[wi], img)
        dt = time.perf_counter() - t0
        reg = r.get("region") or {}
        rows.append({"work": Path(ws[wi].name).name, "image": c.name, "kind": kind, "transform": c.transform,
                     "decision": r["decision"], "tier": r["tier"], "inliers": reg.get("inliers"),
                     "correlation": r.get("pixel_correlation"), "detail": r.get("detail_share"),
                     "dense": r.get("dense_alignment"),
                     "rotation": reg.get("rotation_degrees"), "scale": reg.get("scale"),
                     "work_region": reg.get("work_region"), "seconds": round(dt, 4)})
    return rows


def summarise(rows: list[dict]) -> dict:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["kind"] == "copy":
            per[r["transform"]][0] += r["decision"] == "copied"
            per[r["transform"]][1] += 1
    dist = [r for r in rows if r["kind"] == "distinct"]
    fam = [r for r in rows if r["kind"] == "same_author"]
    secs = sorted(r["seconds"] for r in rows)
    return {"copies": {t: per[t] for t in TRANSFORMS if t in per},
            "copies_total": [sum(v[0] for v in per.values()), sum(v[1] for v in per.values())],
            "distinct_called": [sum(r["decision"] == "copied" for r in dist), len(dist)],
            "same_author_called": [sum(r["decision"] == "copied" for r in fam), len(fam)],
            "seconds_per_pair": {"mean": round(sum(secs) / max(1, len(secs)), 4),
                                 "median": secs[len(secs) // 2] if secs else None,
                                 "p95": secs[int(len(secs) * 0.95)] if secs else None},
            "false_positives": [(r["work"], r["image"], r["tier"], r["inliers"], r["correlation"]) for r in dist
                                if r["decision"] == "copied"],
            "missed": [(r["work"], r["image"], r["inliers"], r["correlation"]) for r in rows
                       if r["kind"] == "copy" and r["decision"] != "copied"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    ap.add_argument("--works", type=int, default=40, help="openclipart-tune works per seed (scikit-image: all)")
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    ap.add_argument("--label", default="run")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/imgdecide-cache"))
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--every", type=int, default=1, help="decide every n-th pair only (for timing)")
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for src in a.sources:
        for seed in a.seeds:
            prep = prepare(src, seed, a.works if src != "skimage" else 30, a.cache)
            print(f"{src} seed {seed}: {len(prep['works'])} works, {len(prep['pairs'])} pairs", flush=True)
            if not a.prepare_only:
                rows += [{"source": src, "seed": seed, **r} for r in decide(prep, every=a.every)]
    if a.prepare_only:
        return
    out = {"label": a.label, "seeds": a.seeds, "summary": summarise(rows), "rows": rows}
    (a.cache / f"decisions-{a.label}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out["summary"], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
