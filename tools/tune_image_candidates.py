"""Candidate-stage losses of image copies on the TUNING split only (issue 27; never the held-out categories).

For each seed and tuning source (scikit-image, openclipart's tuning categories) the validation's works, every
transformation of them and `--distractors` further tuning-split images are described once (cached under
--cache); then the candidate stage (imaging/candidates.py, exactly as `ascertain validate --images` runs it)
is run and, per transformation, the copies that never become candidates are counted, with the other images
passing per work (what the decision stage then has to decide). Nothing is decided here: the decision is
imaging/compare.py's, measured by the validation itself.

    PYTHONPATH=src nice -n 10 python3 tools/tune_image_candidates.py --seeds 7 8 9
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections import Counter
from pathlib import Path

from ascertain.imaging import candidates as cand
from ascertain.validation import images as v

TUNING = ("skimage", "openclipart-tune")


def corpus_for(source: str, seed: int, works: int, distractors: int, cache: Path) -> tuple[list, list]:
    path = cache / f"{source}-{seed}-{works}-{distractors}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    if source not in TUNING:
        sys.exit(f"{source} is not a tuning source: only {', '.join(TUNING)} may be measured here")
    files = v.source_files(source)
    ws, _ = v.load_works(files, works, seed)
    corpus = v.build_corpus(ws, files, distractors, seed + 1, None, print)
    for w in ws:
        w.data = b""  # the works' pixels and descriptors are what the stage reads
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((ws, [(c.descriptors, c.work, c.transform, c.name) for c in corpus])))
    return ws, [(c.descriptors, c.work, c.transform, c.name) for c in corpus]


def measure(ws: list, corpus: list) -> dict:
    index = cand.CandidateIndex.build([c[0] for c in corpus])
    lost: Counter = Counter()
    total: Counter = Counter()
    others = by_feature = 0
    for wi, w in enumerate(ws):
        got = {c.image: c for c in cand.candidates(index, w.descriptors,
                                                     cand.query_variants(w.pixels, w.descriptors.pdq_dihedral))}
        for ci, (_d, work, transform, _name) in enumerate(corpus):
            if work == wi:
                total[transform] += 1
                lost[transform] += ci not in got
            elif ci in got:
                others += 1
                by_feature += got[ci].pdq_distance is None
    return {"lost": lost, "copies": total, "others": others, "others_by_feature_only": by_feature,
            "works": len(ws)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[7])
    ap.add_argument("--works", type=int, default=30, help="works per source (openclipart-tune; scikit-image "
                                                          "has 22 measurable images)")
    ap.add_argument("--distractors", type=int, default=400, help="further tuning-split images per source")
    ap.add_argument("--sources", nargs="+", default=list(TUNING))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/imgcand-cache"))
    ap.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                    help="override a constant of imaging/candidates.py for this run (GRID=4, QUERY_FEATURES=200, ...)")
    a = ap.parse_args()
    for kv in a.set:
        name, value = kv.split("=", 1)
        if not hasattr(cand, name):
            sys.exit(f"imaging/candidates.py has no {name}")
        setattr(cand, name, type(getattr(cand, name))(value))
        print(f"{name} = {getattr(cand, name)}")
    lost: Counter = Counter()
    copies: Counter = Counter()
    others = by_feature = works = 0
    for seed in a.seeds:
        for src in a.sources:
            ws, corpus = corpus_for(src, seed, a.works, a.distractors if src != "skimage" else 0, a.cache)
            r = measure(ws, corpus)
            print(f"seed {seed} {src}: {len(ws)} works, corpus {len(corpus)}; lost {sum(r['lost'].values())} of "
                  f"{sum(r['copies'].values())}; other images passing per work {r['others'] / len(ws):.1f} "
                  f"(by features only {r['others_by_feature_only'] / len(ws):.1f})", flush=True)
            lost.update(r["lost"])
            copies.update(r["copies"])
            others += r["others"]
            by_feature += r["others_by_feature_only"]
            works += r["works"]
    print("transformation: copies not a candidate / copies")
    for t in v.TRANSFORMS:
        if copies[t]:
            print(f"  {t}: {lost[t]} / {copies[t]}")
    print(f"total lost {sum(lost.values())} of {sum(copies.values())}; other images passing per work "
          f"{others / max(works, 1):.1f} (by features only {by_feature / max(works, 1):.1f})")


if __name__ == "__main__":
    main()
