"""The public image lookup on a case too large to hold whole (web/image_lookup.py, web/image_source_lookup.py):
a source of a few thousand images in the real index layout (the demo's real shard, grown by synthetic rows as
benchmarks/image_lookup_scale.py grows it to millions) is answered from its code table, sorted digest columns
and the candidates' rows, with the same answers as verifying every image, and without one object per row."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ascertain.case import Case
from ascertain.readers import ReadOptions
from ascertain.sources_images import add_image_source
from ascertain.web import image_lookup
from ascertain.web.policy import redact
from ascertain.web.users import User
from ascertain.web.views import image_answer_for
from ascertain.works import import_manifest

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "src" / "ascertain" / "demo_data" / "images"
ROWS = 3000


def _bench():
    spec = importlib.util.spec_from_file_location("image_lookup_scale", ROOT / "benchmarks" / "image_lookup_scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def large_case(tmp_path_factory):
    case = Case.init(tmp_path_factory.mktemp("imglookup-scale") / "case")
    import_manifest(case, str(IMAGES / "works.csv"))
    add_image_source(case, "laion-demo-shard", "corpus", [str(IMAGES / "corpus" / "00000.tar")], ReadOptions())
    grown = _bench().grow_source(case, "laion-demo-shard", ROWS, copies={"00000.tar!000000000.jpg": 3,
                                                                           "00000.tar!000000002.jpg": 2})
    assert grown["documents"] == ROWS and grown["synthetic_copies"] > 0
    return case


def _where(a: dict) -> list[tuple]:
    return [(w["dataset"], w["shard"], w["tier"], w["images"]) for w in a["where"]]


def test_a_large_case_is_prepared_without_one_object_per_image(large_case, monkeypatch):
    def no_full_read(*args, **kwargs):
        raise AssertionError("a large case's index is never read whole")

    monkeypatch.setattr("ascertain.index.images.read_image_index", no_full_read)
    image_lookup._PREPARED.clear()
    images = image_lookup.case_images(large_case)
    assert images.total == ROWS + 7 and len(images.images) == 7  # the works only: no object per corpus image
    (src,) = images.sources
    assert src.documents == ROWS and src.mapped
    assert all(isinstance(v, np.memmap) for v in src.cols.values())  # digest columns: files, not memory
    assert images.held_bytes() < 4096  # shard starts: bounded by the shards, not the images
    # the columns hold each distinct content once, identical copies apart
    assert len(src.cols["sha_keys"]) == len(src.cols["pixel_keys"]) == src.table.rows
    assert len(src.cols["copy_doc"]) == ROWS - src.table.rows


def test_a_large_case_answers_as_verifying_every_image_would(large_case, monkeypatch):
    image_lookup._PREPARED.clear()
    large = {p.name: image_lookup.lookup_image(large_case, p.read_bytes(), p.name)
             for p in sorted((IMAGES / "works").iterdir())}
    saturn, mars = large["saturn.jpg"], large["mars.jpg"]
    # the same bytes found by the digest columns, with every identical copy counted where it is
    assert _where(saturn) == [("laion-demo-shard", "00000.tar", "same_bytes", 1)] + [
        ("laion-demo-shard", f"copies-{j:02d}.tar", "same_bytes", 1) for j in range(3)]
    assert _where(mars) == [("laion-demo-shard", "00000.tar", "near_duplicate", 1)] + [
        ("laion-demo-shard", f"copies-{j:02d}.tar", "near_duplicate", 1) for j in range(2)]
    assert _where(large["jupiter.png"])[0] == ("laion-demo-shard", "00000.tar", "same_pixels", 1)
    assert _where(large["full-moon.jpg"]) == [("laion-demo-shard", "00000.tar", "region_copy", 1)]  # a crop variant
    assert all(a["checked"]["images"] == ROWS + 7 and a["checked"]["verified"] <= 8 for a in large.values())
    # the reference: every image of the same case verified (the small-case path, forced)
    monkeypatch.setattr(image_lookup, "EXHAUSTIVE", 10 ** 9)
    image_lookup._PREPARED.clear()
    for name in ("mars.jpg", "full-moon.jpg"):  # ~4 s each: every real image's features matched
        a = large[name]
        ref = image_lookup.lookup_image(large_case, (IMAGES / "works" / name).read_bytes(), name, max_compared=10 ** 6)
        found = {w for w in _where(ref) if w[2] != "region_copy"}  # whole-image tiers: the scan and digests find them
        assert found <= set(_where(a)), name
        assert a["works"] == ref["works"], name
        # and nothing the exhaustive check does not find
        assert set(_where(a)) <= set(_where(ref)), name
    image_lookup._PREPARED.clear()


def test_a_large_case_never_shows_the_public_a_locator_and_finds_no_unrelated_image(large_case):
    image_lookup._PREPARED.clear()
    bench = _bench()
    a = image_lookup.lookup_image(large_case, bench.noise_png(5), "noise.png")
    assert not a["found"] and a["where"] == [] and a["checked"]["images"] == ROWS + 7
    saturn = image_lookup.lookup_image(large_case, (IMAGES / "works" / "saturn.jpg").read_bytes(), "s.jpg")
    public = redact("public", image_answer_for(saturn, User(1, "p", "public")))
    assert public["found"] and "locator" not in repr(public) and ".tar!" not in repr(public)
    assert any(loc.endswith("00000.tar!000000000.jpg") for w in saturn["where"] for loc in w["locator"])


def test_a_large_source_with_local_features_finds_a_rotated_copy_by_their_votes(tmp_path):
    """The source added with local features: the upload's strongest features vote (as the match's do) for the
    copy rotated 4 degrees and padded, which no whole-image code of the upload's variants comes near."""
    case = Case.init(tmp_path / "case")
    add_image_source(case, "laion-demo-shard", "corpus", [str(IMAGES / "corpus" / "00000.tar")], ReadOptions(),
                     features=True)
    _bench().grow_source(case, "laion-demo-shard", ROWS)
    image_lookup._PREPARED.clear()
    a = image_lookup.lookup_image(case, (IMAGES / "works" / "jupiter.png").read_bytes(), "jupiter.png")
    assert image_lookup.case_images(case).sources[0].features is not None
    assert a["checked"]["images"] == ROWS
    assert _where(a) == [("laion-demo-shard", "00000.tar", "region_copy", 1),  # 000000007: rotated and padded
                         ("laion-demo-shard", "00000.tar", "same_pixels", 1)]
    assert any(loc.endswith("00000.tar!000000007.jpg") for w in a["where"] for loc in w["locator"])
    image_lookup._PREPARED.clear()


def test_identical_copies_past_the_located_bound_are_counted_not_read(large_case, monkeypatch):
    monkeypatch.setattr(image_lookup, "MAX_COPIES", 2)  # the content's own row and one copy located
    image_lookup._PREPARED.clear()
    a = image_lookup.lookup_image(large_case, (IMAGES / "works" / "saturn.jpg").read_bytes(), "saturn.jpg")
    assert _where(a) == [("laion-demo-shard", image_lookup.NOT_LOCATED, "same_bytes", 2),
                         ("laion-demo-shard", "00000.tar", "same_bytes", 1),
                         ("laion-demo-shard", "copies-00.tar", "same_bytes", 1)]
    assert sum(w["images"] for w in a["where"]) == 4 and all(w["locator"] is not None for w in a["where"])
    image_lookup._PREPARED.clear()
