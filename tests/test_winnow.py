"""The winnowing guarantee, proved on random token sequences: every shared run of at least w + k - 1
tokens yields a shared fingerprint inside the run on both sides."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ascertain.fingerprint.vectorized import hash_tokens, kgram_hashes
from ascertain.fingerprint.winnow import Params, fingerprint, winnow

VOCAB = [f"t{i}" for i in range(12)]  # a small vocabulary makes many equal hashes and ties


@settings(max_examples=300, deadline=None)
@given(
    k=st.integers(2, 9), w=st.integers(1, 16),
    left=st.lists(st.sampled_from(VOCAB), max_size=60), right=st.lists(st.sampled_from(VOCAB), max_size=60),
    prefix=st.lists(st.sampled_from(VOCAB), max_size=60), extra=st.integers(0, 30), data=st.data(),
)
def test_every_run_of_guarantee_length_is_found(k, w, left, right, prefix, extra, data):
    params = Params(k=k, w=w)
    run = data.draw(st.lists(st.sampled_from(VOCAB), min_size=params.guarantee + extra,
                             max_size=params.guarantee + extra))
    a, b = left + run, prefix + run + right
    ha, pa_ = fingerprint(a, params)
    hb, pb = fingerprint(b, params)
    ra = (len(left), len(left) + len(run))
    rb = (len(prefix), len(prefix) + len(run))
    in_a = {int(h) for h, p in zip(ha, pa_, strict=True) if ra[0] <= p and p + k <= ra[1]}
    in_b = {int(h) for h, p in zip(hb, pb, strict=True) if rb[0] <= p and p + k <= rb[1]}
    assert in_a & in_b


def test_density_and_determinism():
    rng = np.random.default_rng(7)
    tokens = [f"w{x}" for x in rng.integers(0, 5000, 20000)]
    params = Params(k=8, w=13)
    h1, p1 = fingerprint(tokens, params)
    h2, p2 = fingerprint(tokens, params)
    assert np.array_equal(h1, h2) and np.array_equal(p1, p2)
    density = len(h1) / (len(tokens) - params.k + 1)
    assert abs(density - 2 / (params.w + 1)) < 0.02  # the paper's expected density for random text


def test_hashes_are_stable_across_versions():
    """Fingerprint values are part of the evidence: a change here breaks shared fingerprint files."""
    h = kgram_hashes(hash_tokens(["def", "f", "(", "x", ")", ":"]), 3)
    assert [int(x) for x in h] == STABLE


def test_winnow_short_inputs():
    assert winnow(np.array([], dtype=np.uint64), 4).tolist() == []
    assert winnow(np.array([5, 1, 1], dtype=np.uint64), 4).tolist() == [2]  # rightmost minimum


STABLE = [5092273945164559281, 17842671349992774757, 7498130773280682385, 15365592192224852967]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=80), st.lists(st.integers(0, 3), max_size=80),
       st.integers(1, 5), st.data())
def test_c_seed_extension_equals_reference(work, copy, k, data):
    """The C loop that turns seeds into runs gives exactly the Python reference's runs."""
    from ascertain.match import spans as sp

    if not work or not copy:
        return
    n = data.draw(st.integers(0, 40))
    wpos = np.array(data.draw(st.lists(st.integers(0, len(work) - 1), min_size=n, max_size=n)), np.int64)
    dpos = np.array(data.draw(st.lists(st.integers(0, len(copy) - 1), min_size=n, max_size=n)), np.int64)
    df = np.array(data.draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), np.int64)
    w, c = np.array(work, np.uint64), np.array(copy, np.uint64)
    fast = sp.extend_seeds(w, c, wpos, dpos, k, df)
    kernel, sp._kernel = sp._kernel, None
    try:
        ref = sp.extend_seeds(w, c, wpos, dpos, k, df)
    finally:
        sp._kernel = kernel
    assert kernel is not None and fast == ref
