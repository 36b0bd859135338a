"""The candidate stage's feature vote (imaging/candidates.py): one rule for the case's match, the public lookup
and the validation; rare features weigh more than common ones; a work pasted into a busy background keeps its
features in the copy's row of the feature table, becomes a candidate and is matched by `ascertain match`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.imaging import candidates as cand
from ascertain.imaging.code_scan import Hits, scan_codes
from ascertain.imaging.compare import load
from ascertain.store import schema

IMAGES = Path(__file__).parent / "data" / "images"
runner = CliRunner()


def png(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


def pasted_into_noise(name: str, share: float = 0.40, seed: int = 1) -> tuple[Image.Image, Image.Image]:
    """The work and a copy of it pasted at `share` of the copy's area into coarse colour noise (as the
    validation's pastes: a background busy everywhere, whose corners outshine the work's)."""
    im = Image.open(IMAGES / name).convert("RGB")
    w, h = im.size
    side = (w * h / share) ** 0.5
    cw, ch = round(max(side, w * 1.05)), round(max(side, h * 1.05))
    noise = np.random.default_rng(seed).integers(0, 256, (ch // 8 + 1, cw // 8 + 1, 3)).astype(np.uint8)
    bg = Image.fromarray(noise).resize((cw, ch), Image.Resampling.BICUBIC)
    bg.paste(im, ((cw - w) // 3, (ch - h) // 2))
    return im, bg


def test_common_features_weigh_less_and_the_vote_does_not_depend_on_the_order_of_the_hits():
    # work 0's features 0-5 are each found in image 1 only; features 6-9 in images 2..101 (100 images each)
    q = [f for f in range(6)] + [f for f in range(6, 10) for _ in range(100)]
    ids = [1] * 6 + [i for _ in range(6, 10) for i in range(2, 102)]
    hits = Hits(np.array(q, np.int32), np.array(ids, np.int64), np.zeros(len(q), np.uint16))
    votes = cand.feature_votes(hits, np.zeros(10, np.int64), images=1000)
    assert votes == {(1, 0): 6.0}  # image 2..101: 4 features x 32/100 each, far below MIN_VOTES
    both = Hits(np.array([6, 7, 8, 9] * 5, np.int32), np.array([1] * 20, np.int64), np.zeros(20, np.uint16))
    again = cand.feature_votes(Hits.concat([hits, both]), np.zeros(10, np.int64), images=1000)
    assert again[(1, 0)] == round(6 + 4 * min(1.0, cand.DF_FLOOR / 101), 6)  # each feature counted once
    rng = np.random.default_rng(0)
    order = rng.permutation(len(hits))
    shuffled = Hits(hits.query[order], hits.id[order], hits.distance[order])
    assert cand.feature_votes(shuffled, np.zeros(10, np.int64), 1000) == votes
    # a corpus of billions: the same feature, found in 100 of 10^9 images, is no longer common
    assert cand.feature_votes(hits, np.zeros(10, np.int64), images=10**9) == {(1, 0): 6.0}


def test_all_works_in_one_scan_vote_as_each_work_alone():
    """The case's match scans every work's features at once, the validation one work at a time: the same votes."""
    works = [load(png(Image.open(IMAGES / n).convert("RGB")), n).descriptors
             for n in ("car.png", "the_moon.png", "carnegie_library.png")]
    corpus = cand.CandidateIndex.build(works + [load(png(pasted_into_noise(n)[1]), n).descriptors
                                                for n in ("car.png", "the_moon.png")])
    feats = [cand.query_features(w) for w in works]
    owner = np.repeat(np.arange(len(works)), [len(f) for f in feats])
    together = cand.feature_votes(scan_codes(corpus.feature_codes, np.concatenate(feats), cand.FEATURE_BITS,
                                             ids=corpus.feature_owner), owner, corpus.size)
    alone = {}
    for wi, f in enumerate(feats):
        hits = scan_codes(corpus.feature_codes, f, cand.FEATURE_BITS, ids=corpus.feature_owner)
        alone.update({(i, wi): v for (i, _), v in cand.feature_votes(hits, np.zeros(len(f), np.int64),
                                                                      corpus.size).items()})
    assert together == alone and (3, 0) in together and (4, 1) in together


def test_a_work_pasted_at_40_percent_into_noise_is_a_candidate_and_matched_end_to_end(tmp_path):
    work_im, copy_im = pasted_into_noise("daedalus_and_ikarus.png")
    work = load(png(work_im), "work.png")
    copy = load(png(copy_im), "pasted.png").descriptors
    other = load(png(Image.open(IMAGES / "watermelon.png").convert("RGB")), "other.png").descriptors
    # the copy's 100 strongest features all sit on the noise: none of the work's is near one of them
    old = scan_codes(cand.strongest_features(copy, 100), cand.strongest_features(work.descriptors, 100), 24)
    assert len(old) < cand.MIN_VOTES
    q = cand.query_features(work.descriptors, work.pixels)  # the work at full size, then reduced
    assert len(q) == cand.QUERY_FEATURES + cand.SMALL_FEATURES
    assert np.array_equal(q[:cand.QUERY_FEATURES], cand.query_features(work.descriptors))
    assert np.array_equal(q, cand.query_features(work.descriptors, work.pixels))
    index = cand.CandidateIndex.build([other, copy])
    first = cand.candidates(index, work.descriptors, cand.query_variants(work.pixels))
    assert [(c.image, c.pdq_distance) for c in first] == [(1, None)] and first[0].feature_votes >= cand.MIN_VOTES
    again = cand.candidates(cand.CandidateIndex.build([other, copy]), work.descriptors,
                            cand.query_variants(work.pixels))
    assert again == first  # same inputs, same candidates

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "pasted.png").write_bytes(png(copy_im))
    (corpus / "other.png").write_bytes(png(Image.open(IMAGES / "watermelon.png").convert("RGB")))
    (tmp_path / "daedalus.png").write_bytes(png(work_im))
    root = tmp_path / "case"
    for args in (["init", root], ["works", "add", root, tmp_path / "daedalus.png", "--claimant", "Ann Artist"],
                 ["corpus", "add", root, "c", corpus, "--local-features"]):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == 0, r.output
    runs = []
    for _ in range(2):  # matched twice: the same evidence
        r = runner.invoke(app, ["match", str(root), "--image-exhaustive-pairs", "0"])
        assert r.exit_code == 0, r.output
        ie = schema.image_evidence
        with Case.open(root).store.engine.connect() as c:
            rows = c.execute(select(ie.c.doc_locator, ie.c.tier, ie.c.copy_region, ie.c.work_area_share,
                                    ie.c.facts)).mappings().all()
        runs.append(json.dumps([dict(r) for r in rows], sort_keys=True, default=str))
    found = json.loads(runs[0])
    assert [r["doc_locator"].rsplit("/", 1)[-1] for r in found] == ["pasted.png"]
    assert found[0]["tier"] == "region_copy" and found[0]["work_area_share"] > 0.9
    facts = found[0]["facts"] if isinstance(found[0]["facts"], dict) else json.loads(found[0]["facts"])
    assert "local features" in facts["candidate_by"]
    assert runs[0] == runs[1]
