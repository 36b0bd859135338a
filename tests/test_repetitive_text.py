"""Robust winnowing: a run of equal (or periodic) k-grams gives one fingerprint per w positions, not one per
position, in the C kernel, its NumPy reference and the plain-Python definition below alike; the winnowing
guarantee still holds; indexing a repetitive document takes bounded fingerprints and memory."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ascertain.fingerprint import vectorized as v
from ascertain.fingerprint import winnow as wn
from ascertain.fingerprint.vectorized import POS_BITS, hash_tokens, kgram_hashes
from ascertain.fingerprint.winnow import Params, fingerprint_batch, winnow
from ascertain.text.tokenize import norm_tokens


def robust_reference(grams: list[int], w: int) -> list[int]:
    """The rule as stated (Schleimer et al. 2003, 4.1): each window's minimum (top bits of the hash, then
    rightmost); the previous pick stays while it is in the window and has the minimum's hash."""
    n = len(grams)
    if n == 0:
        return []

    def order(i: int) -> tuple[int, int]:
        return grams[i] >> POS_BITS, -i

    if n < w:
        return [min(range(n), key=order)]
    picks, last = [], -1
    for j in range(n - w + 1):
        r = min(range(j, j + w), key=order)
        if last >= j and grams[last] == grams[r]:
            continue
        if r != last:
            picks.append(r)
            last = r
    return picks


def batch_equal_to_reference(texts: list[str], params: Params, key: bytes | None = None):
    """The batch through the C kernel, checked equal to the NumPy reference."""
    fast = fingerprint_batch(texts, params, key)
    kernel, wn._kernel = wn._kernel, None
    try:
        ref = fingerprint_batch(texts, params, key)
    finally:
        wn._kernel = kernel
    assert kernel is not None
    for field in ("hashes", "doc", "pos", "tokens"):
        assert np.array_equal(getattr(fast, field), getattr(ref, field))
    return fast


FEW = st.sampled_from(["a", "b", "c"])  # few tokens: runs of equal and periodic k-grams everywhere


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(FEW, max_size=120), min_size=1, max_size=5), st.integers(1, 5), st.integers(1, 20))
def test_c_numpy_and_python_definitions_agree(docs, k, w):
    fast = batch_equal_to_reference([" ".join(d) for d in docs], Params(k=k, w=w))
    for i, tokens in enumerate(docs):
        grams = kgram_hashes(hash_tokens(tokens), k)
        want = robust_reference([int(g) for g in grams], w)
        assert winnow(grams, w).tolist() == want
        assert fast.pos[fast.doc == i].tolist() == want


@settings(max_examples=300, deadline=None)
@given(k=st.integers(2, 6), w=st.integers(1, 16), left=st.lists(FEW, max_size=40),
       right=st.lists(FEW, max_size=40), extra=st.integers(0, 30), data=st.data())
def test_guarantee_holds_on_repetitive_runs(k, w, left, right, extra, data):
    """Every shared run of w + k - 1 tokens shares a fingerprint inside it on both sides (C path)."""
    params = Params(k=k, w=w)
    n = params.guarantee + extra
    run = data.draw(st.lists(FEW, min_size=n, max_size=n))
    a, b = left + run, right + run + left
    batch = fingerprint_batch([" ".join(a), " ".join(b)], params)
    ra, rb = (len(left), len(left) + n), (len(right), len(right) + n)
    found = []
    for i, (lo, hi) in enumerate((ra, rb)):
        mine = batch.doc == i
        found.append({int(h) for h, p in zip(batch.hashes[mine], batch.pos[mine], strict=True)
                      if lo <= p and p + k <= hi})
    assert found[0] & found[1]


def test_real_text_keeps_its_fingerprints(data):
    """Where no k-gram hash repeats within a window the picks are the rightmost minima, as before."""
    for path in sorted((data / "works").rglob("*.py")):
        grams = kgram_hashes(hash_tokens(norm_tokens(path.read_text())), 8)
        keys = (grams & ~v._POS_MASK) | (v._POS_MASK - np.arange(len(grams), dtype=np.uint64))
        former = np.unique(v._POS_MASK - (v.sliding_min(keys, 13) & v._POS_MASK)).astype(np.int64)
        robust = winnow(grams, 13)
        assert set(robust.tolist()) <= set(former.tolist())  # never a new pick, only fewer in repeats
        if len(set(grams.tolist())) == len(grams):  # no k-gram repeats: the very same fingerprints
            assert robust.tolist() == former.tolist(), path.name


def test_runs_of_equal_kgrams_give_one_fingerprint_per_window():
    """A run of one repeated k-gram: one pick per w positions; a periodic run of period q <= w: one per
    q * floor(w / q) positions (never closer than floor(w / 2) + 1)."""
    params = Params()
    for unit in ("a", "a b", "x = 0 ,", "- - - - - - +", "a b c d e f g h i j k l m n"):
        q = len(unit.split())
        spacing = q * (params.w // q) if q <= params.w else None
        tokens = (unit + " ") * 3_000
        batch = fingerprint_batch([tokens, "some real words around " + tokens + " and after"], params)
        grams = int(batch.tokens[0]) - params.k + 1
        mine = batch.doc == 0
        if spacing is None:  # period longer than a window: no ties, ordinary winnowing
            assert int(mine.sum()) > grams / params.w
            continue
        assert spacing >= params.w // 2 + 1
        assert int(mine.sum()) <= math.ceil(grams / spacing) + 1, unit
        assert len(set(batch.hashes[mine].tolist())) == 1  # the run's one minimal k-gram
        assert set(np.diff(batch.pos[mine]).tolist()) == {spacing}  # kept until it leaves the window


def test_scan_in_pieces_equals_scan_whole():
    rng = np.random.default_rng(3)
    words = [b"alpha", b"b", b"((", b"x_1", b"\xc3\xa9t\xc3\xa9", b"9", b".", b"-" * 50, b"w" * 3000]
    data = b" ".join(words[i] for i in rng.integers(0, len(words), 40_000)) + b" "
    buf = np.frombuffer(data, np.uint8)
    whole = v.scan(buf)
    offsets = np.array([0, 17, 5000, len(buf) // 2, len(buf)])
    piece = v.SCAN_PIECE
    v.SCAN_PIECE = 4096  # many cuts, some inside the long words (which must not be split)
    try:
        pieces = v.scan(buf)
        hashes, before = v.scan_hashes(buf, offsets)
    finally:
        v.SCAN_PIECE = piece
    for a, b in zip(whole, pieces, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(hashes, whole[2]) and np.array_equal(before, np.searchsorted(whole[0], offsets))


MEASURE = textwrap.dedent("""
    import json, resource, sys, tempfile
    from pathlib import Path
    from ascertain.case import Case
    from ascertain.readers import ReadOptions
    from ascertain.sources import add_source
    tmp = Path(tempfile.mkdtemp())
    (tmp / "warm.txt").write_text("a few words to warm up every import and first use " * 50)
    (tmp / "rep.txt").write_text("a " * (5 << 19))  # 5 MB of "a a a ..."
    case = Case.init(tmp / "case")
    add_source(case, "warm", "corpus", [str(tmp / "warm.txt")], ReadOptions())
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = add_source(case, "rep", "corpus", [str(tmp / "rep.txt")], ReadOptions())
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    print(json.dumps({"fingerprints": s["fingerprints"], "tokens": s["tokens"], "grown_kb": grown}))
""")


def test_repetitive_document_is_indexed_with_bounded_fingerprints_and_memory():
    """5 MB of "a a a ...": was 2,621,421 fingerprints and +169 MB peak; now one per window, under 96 MB."""
    r = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, check=True)
    m = json.loads(r.stdout)
    assert m["tokens"] == 5 << 19
    assert m["fingerprints"] <= math.ceil((m["tokens"] - 7) / 13) + 1
    assert m["grown_kb"] < 96 * 1024, m
