"""The exact code scan: every stored code within the distance, and no other, whatever the sharding and the engine;
checked against a brute-force count of differing bits."""

from __future__ import annotations

import numpy as np
import pytest

from ascertain.errors import AscertainError
from ascertain.imaging import code_scan
from ascertain.imaging.code_scan import CodeTable, Hits, scan, scan_codes, to_bytes, to_words, write_table


def brute(stored: np.ndarray, queries: np.ndarray, max_distance: int) -> set[tuple[int, int, int]]:
    d = np.unpackbits(np.bitwise_xor(queries[:, None, :], stored[None, :, :]), axis=-1).sum(axis=-1)
    return {(int(q), int(i), int(d[q, i])) for q, i in zip(*np.nonzero(d <= max_distance), strict=True)}


def as_set(h: Hits) -> set[tuple[int, int, int]]:
    return set(zip(h.query.tolist(), h.id.tolist(), h.distance.tolist(), strict=True))


@pytest.fixture(scope="module")
def codes():
    """Random codes plus planted neighbours of the queries at every distance 0..40 and the complement (256)."""
    rng = np.random.default_rng(1)
    stored = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    planted = []
    for q in queries:
        for d in range(41):
            bits = np.unpackbits(q)
            bits[rng.choice(256, d, replace=False)] ^= 1
            planted.append(np.packbits(bits))
        planted.append(np.bitwise_not(q))
    stored = np.concatenate([stored, np.array(planted)])
    return stored[rng.permutation(len(stored))], queries


def test_words_and_bytes_round_trip(codes):
    stored, _ = codes
    w = to_words(stored)
    assert w.shape == (len(stored), 4) and w.dtype == np.uint64
    assert np.array_equal(to_bytes(w), stored)
    with pytest.raises(AscertainError, match="not 256-bit codes"):
        to_words(np.zeros((2, 16), np.uint8))


@pytest.mark.parametrize("max_distance", [0, 15, 31, 255, 256])
def test_in_memory_scan_is_exact(codes, max_distance):
    stored, queries = codes
    got = scan_codes(stored, queries, max_distance)
    assert as_set(got) == brute(stored, queries, max_distance)


@pytest.mark.parametrize("max_distance", [0, 31, 200])
def test_the_c_kernel_and_the_numpy_path_find_the_same_hits(codes, max_distance, monkeypatch):
    if code_scan._hamming is None:
        pytest.skip("the C kernel is not built (python3 setup.py build_ext --inplace)")
    stored, queries = codes
    cols = np.ascontiguousarray(to_words(stored).T)
    ids = np.arange(len(stored), dtype=np.int64)
    want = brute(stored, queries, max_distance)
    assert as_set(code_scan.scan_columns(cols, ids, queries, max_distance, kernel=False)) == want
    # blocks that do not divide the rows, and a hit buffer so small that blocks are split again and again
    monkeypatch.setattr(code_scan, "HIT_CAPACITY", 5)
    got = code_scan.scan_columns(cols, ids, queries, max_distance, block_rows=777)
    assert as_set(got) == want and len(got) == len(want)


def test_sharded_table_scan_is_exact_in_canonical_order(codes, tmp_path):
    stored, queries = codes
    ids = np.arange(len(stored), dtype=np.int64) * 7 + 1_000_000_000_000  # the caller's own 64-bit ids
    table = write_table(tmp_path / "t", stored, ids, shard_rows=1000)
    assert len(table.shards) == 4 and table.rows == len(stored)
    table.verify()
    got = scan(table, queries, 31)
    want = {(q, int(ids[i]), d) for q, i, d in brute(stored, queries, 31)}
    assert as_set(got) == want and len(got) == len(want)
    assert list(got.query) == sorted(got.query)  # by query, then distance, then id
    one = got.query == 0
    assert list(got.distance[one]) == sorted(got.distance[one])
    again = scan(CodeTable(tmp_path / "t"), queries, 31)
    assert np.array_equal(again.id, got.id) and np.array_equal(again.distance, got.distance)


def test_best_variant_per_stored_code(codes):
    stored, queries = codes
    # a query's variants: itself and two codes near it; each stored code keeps the closest variant
    variants = np.stack([queries[0], stored[0], stored[1]])
    best = scan_codes(stored, variants, 40).best_per_id()
    assert len(set(best.id.tolist())) == len(best)
    assert best.distance[best.id == 0][0] == 0 and best.query[best.id == 0][0] == 1


def test_a_table_is_written_once_and_a_changed_shard_is_refused(codes, tmp_path):
    stored, _ = codes
    write_table(tmp_path / "t", stored, shard_rows=2000)
    with pytest.raises(AscertainError, match="already holds"):
        write_table(tmp_path / "t", stored)
    with pytest.raises(AscertainError, match="not a code table"):
        CodeTable(tmp_path / "nothing")
    path = tmp_path / "t" / "shard-00001.ids.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(AscertainError, match="changed since"):
        CodeTable(tmp_path / "t").verify()


def test_a_changed_shard_is_refused_by_its_own_scan_task(codes, tmp_path):
    from ascertain.engine import make_executor

    stored, queries = codes
    table = write_table(tmp_path / "t", stored, shard_rows=800)
    assert len(scan(table, queries, 31, verify=True)) == len(scan(table, queries, 31))
    path = tmp_path / "t" / "shard-00002.codes.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(AscertainError, match="shard-00002: changed since"):
        scan(table, queries, 31, verify=True)
    ex = make_executor("local", 2)
    try:  # the task's error reaches the driver whole, from a worker process
        with pytest.raises(AscertainError, match="shard-00002: changed since"):
            scan(table, queries, 31, ex, verify=True)
    finally:
        ex.close()


def test_shards_on_a_process_pool_give_the_same_hits(codes, tmp_path, monkeypatch):
    from ascertain.engine import make_executor

    stored, queries = codes
    table = write_table(tmp_path / "t", stored, shard_rows=800)
    ex = make_executor("local", 2)
    try:
        pooled = scan(table, queries, 31, ex)
        monkeypatch.setattr(code_scan, "SHARE_BYTES", 0)  # the queries put once, read by each task
        shared = scan(table, queries, 31, ex)
    finally:
        ex.close()
    local = scan(table, queries, 31)
    for got in (pooled, shared):
        assert np.array_equal(got.id, local.id) and np.array_equal(got.query, local.query)
        assert np.array_equal(got.distance, local.distance)


def test_candidate_stage_finds_copies_by_code_and_by_features_and_not_distinct_images():
    skdata = pytest.importorskip("skimage.data")
    import io

    from PIL import Image, ImageOps

    from ascertain.imaging.candidates import CandidateIndex, candidates, query_variants
    from ascertain.imaging.compare import load

    def enc(im: Image.Image) -> bytes:
        b = io.BytesIO()
        im.save(b, "PNG")
        return b.getvalue()

    im = Image.fromarray(skdata.astronaut())
    work = load(enc(im), "astronaut.png")
    bg = Image.fromarray(skdata.coffee()).resize((900, 900))
    bg.paste(im.resize((600, 600)), (150, 150))
    corpus = [load(enc(x), n).descriptors for x, n in (
        (Image.fromarray(skdata.chelsea()), "chelsea"), (ImageOps.flip(im), "flipped"),
        (im.crop((51, 51, 461, 461)), "centre crop 10%"), (Image.fromarray(skdata.rocket()), "rocket"),
        (bg, "pasted"))]
    found = {c.image: c for c in candidates(CandidateIndex.build(corpus), work.descriptors,
                                            query_variants(work.pixels, work.descriptors.pdq_dihedral))}
    assert set(found) == {1, 2, 4}
    assert found[1].pdq_variant == "flipped top to bottom" and found[1].pdq_distance <= 31
    assert found[2].pdq_variant == "centre crop 10% per side"
    assert found[4].pdq_distance is None and found[4].feature_votes >= 6  # only local features see a paste


def test_an_image_index_exposes_its_checked_code_table(tmp_path):
    skdata = pytest.importorskip("skimage.data")
    from PIL import Image

    from ascertain.index.images import ImageIndexWriter, code_table, codes_array, read_image_index
    from ascertain.readers.base import ReadOptions
    from ascertain.readers.images import read_images

    for name in ("astronaut", "chelsea", "coffee"):
        Image.fromarray(getattr(skdata, name)()).save(tmp_path / f"{name}.png")
    m = ImageIndexWriter(tmp_path / "idx", [], {}).build(read_images([tmp_path], ReadOptions()), lambda s: None)
    table = code_table(tmp_path / "idx", m)
    assert table.rows == 3
    codes = codes_array(read_image_index(tmp_path / "idx", m))
    hits = scan(table, codes[1:2], 31)  # an image's own code finds it, at distance 0, and no other image
    assert hits.id.tolist() == [1] and hits.distance.tolist() == [0]
    with pytest.raises(AscertainError, match="has no features table"):
        code_table(tmp_path / "idx", m, "features")
    shard = next((tmp_path / "idx" / "codes").glob("*.codes.npy"))
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(AscertainError, match="changed since"):
        code_table(tmp_path / "idx", m)
    (tmp_path / "idx" / "codes" / "table.json").write_text("{}")
    with pytest.raises(AscertainError, match="not the code table"):
        code_table(tmp_path / "idx", m)


@pytest.mark.parametrize("path", ["plain", "popcnt"])
def test_every_kernel_path_is_exact(codes, path, tmp_path):
    """The kernel's lesser builds (chosen on CPUs without the vector or scalar popcount) give the same hits."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if code_scan._hamming is None:
        pytest.skip("the C kernel is not built (python3 setup.py build_ext --inplace)")
    stored, queries = codes
    np.save(tmp_path / "s.npy", stored)
    np.save(tmp_path / "q.npy", queries)
    child = ("import sys, numpy as np\nfrom ascertain.imaging import code_scan\n"
             "s, q = np.load(sys.argv[1]), np.load(sys.argv[2])\n"
             "h = code_scan.scan_codes(s, q, 40)\nprint(code_scan._hamming.PATH)\n"
             "np.save(sys.argv[3], np.stack([h.query.astype(np.int64), h.id, h.distance.astype(np.int64)]))\n")
    src = str(Path(code_scan.__file__).resolve().parents[2])
    r = subprocess.run([sys.executable, "-c", child, str(tmp_path / "s.npy"), str(tmp_path / "q.npy"),
                        str(tmp_path / "h.npy")], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "ASCERTAIN_HAMMING": path, "PYTHONPATH": src})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() in ({"plain C"} if path == "plain" else {"popcnt", "plain C"})  # no popcnt: plain C
    got = np.load(tmp_path / "h.npy")
    assert set(zip(*got.tolist(), strict=True)) == brute(stored, queries, 40)
