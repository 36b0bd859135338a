"""The vectorized batch path (corpus indexing) and the per-document path (works, compare) must give the
same tokens and the same fingerprints for any text, or a work would not match its own copy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ascertain.fingerprint.vectorized import hash_tokens
from ascertain.fingerprint.winnow import Params, fingerprint, fingerprint_batch
from ascertain.text.tokenize import norm_tokens, tokenize

ALPHABET = st.sampled_from(list("ab_ZÉéß9 \t\n\x1c\x0b.(){}#\"'ﬁ①«»·\u00a0\u2028\x00日本µ\u0345\u1e9eﬀ“”")
                           + ["\u0307", "ǅ", "İ", "\ud800", "Ⓐ", "\u2160"])
texts = st.lists(st.text(ALPHABET, max_size=120), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(2, 6), st.integers(1, 5))
def test_batch_equals_single(docs, k, w):
    params = Params(k=k, w=w)
    batch = fingerprint_batch(docs, params)
    for i, text in enumerate(docs):
        tokens = norm_tokens(text)
        assert batch.tokens[i] == len(tokens)
        h, p = fingerprint(tokens, params)
        mine = batch.doc == i
        assert np.array_equal(batch.hashes[mine], h), text
        assert np.array_equal(batch.pos[mine], p), text


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=200))
def test_detailed_tokens_equal_fast_tokens(text):
    ts = tokenize(text, "python")
    assert ts.norm == norm_tokens(text)
    assert np.array_equal(ts.hashes, hash_tokens(norm_tokens(text)))


def test_real_file_batch_equals_single(data):
    files = sorted((data / "corpus" / "unrelated").iterdir())
    docs = [f.read_text() for f in files]
    params = Params()
    batch = fingerprint_batch(docs, params)
    for i, text in enumerate(docs):
        h, p = fingerprint(norm_tokens(text), params)
        assert np.array_equal(batch.hashes[batch.doc == i], h)
        assert np.array_equal(batch.pos[batch.doc == i], p)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_c_scanner_equals_numpy_reference(data):
    from ascertain.fingerprint import vectorized as v

    if v._kernel is None:
        pytest.skip("C scanner not built")
    buf = np.frombuffer(data, np.uint8)
    starts, ends, hashes = v.scan(buf)
    ref_s, ref_e = v.token_bounds(buf)
    assert np.array_equal(starts, ref_s) and np.array_equal(ends, ref_e)
    assert np.array_equal(hashes, v.token_hashes(buf, ref_s, ref_e))


def test_c_scanner_is_built():
    """CI installs with the extension; the NumPy path is only a fallback."""
    from ascertain.fingerprint import vectorized as v

    assert v._kernel is not None


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(2, 6), st.integers(1, 5))
def test_c_winnowing_equals_numpy_reference(docs, k, w):
    from ascertain.fingerprint import vectorized as v
    from ascertain.fingerprint import winnow as wn

    fast = fingerprint_batch(docs, Params(k=k, w=w))
    kernel = wn._kernel
    wn._kernel = None
    try:
        ref = fingerprint_batch(docs, Params(k=k, w=w))
    finally:
        wn._kernel = kernel
    assert v._kernel is not None
    for field in ("hashes", "doc", "pos", "tokens"):
        assert np.array_equal(getattr(fast, field), getattr(ref, field))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
@example("\u2028")  # only a non-ASCII space: the result must be a canonical (ASCII) str
@example("a\ud800«b\u00a0")
def test_c_isolate_equals_regex_reference(text):
    from ascertain.fingerprint import vectorized as v

    assert v._kernel is not None
    assert v._kernel.isolate(text) == v._isolate_reference(text)
