"""Keyed winnowing: SipHash-2-4 as published, the C kernel equal to its NumPy reference under a key, and
picked positions that depend on the key (a holder of a keyed index cannot recompute them for a guessed
text)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ascertain.fingerprint import winnow as wn
from ascertain.fingerprint.vectorized import hash_tokens, siphash64
from ascertain.fingerprint.winnow import Params, fingerprint, sip_key
from ascertain.text.tokenize import norm_tokens
from test_repetitive_text import batch_equal_to_reference

MASK = (1 << 64) - 1


def siphash24(k: bytes, msg: bytes) -> int:
    """SipHash-2-4 of any message, written from the paper (Aumasson & Bernstein 2012), in plain Python."""
    k0, k1 = int.from_bytes(k[:8], "little"), int.from_bytes(k[8:], "little")
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rotl(x: int, b: int) -> int:
        return ((x << b) | (x >> (64 - b))) & MASK

    def rnd() -> None:
        v[0] = (v[0] + v[1]) & MASK; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)  # noqa: E702
        v[2] = (v[2] + v[3]) & MASK; v[3] = rotl(v[3], 16) ^ v[2]  # noqa: E702
        v[0] = (v[0] + v[3]) & MASK; v[3] = rotl(v[3], 21) ^ v[0]  # noqa: E702
        v[2] = (v[2] + v[1]) & MASK; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)  # noqa: E702

    tail = len(msg) % 8
    blocks = [int.from_bytes(msg[i:i + 8], "little") for i in range(0, len(msg) - tail, 8)]
    blocks.append(int.from_bytes(msg[len(msg) - tail:], "little") | ((len(msg) & 0xFF) << 56))
    for m in blocks:
        v[3] ^= m
        rnd()
        rnd()
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def test_siphash_matches_the_paper_and_the_vectorized_form():
    key = bytes(range(16))
    assert siphash24(key, bytes(range(15))) == 0xA129CA6149BE45E5  # the paper's appendix A
    rng = np.random.default_rng(5)
    m = rng.integers(0, 2**63, 500, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 500, dtype=np.uint64)
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")
    assert siphash64(m, k0, k1).tolist() == [siphash24(key, int(x).to_bytes(8, "little")) for x in m]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.sampled_from(list("ab c.(\n")), max_size=150), min_size=1, max_size=5),
       st.integers(2, 6), st.integers(1, 8), st.binary(min_size=32, max_size=40))
def test_keyed_c_winnowing_equals_numpy_and_single_paths(docs, k, w, key):
    params = Params(k=k, w=w, keyed=True)
    fast = batch_equal_to_reference(docs, params, key)
    for i, text in enumerate(docs):
        h, p = fingerprint(norm_tokens(text), params, key)
        assert np.array_equal(fast.hashes[fast.doc == i], h) and np.array_equal(fast.pos[fast.doc == i], p)


def test_picked_positions_depend_on_the_key(data):
    text = (data / "works" / "python-rsa" / "pkcs1_v2.py").read_text()
    th = hash_tokens(norm_tokens(text))
    _, plain = fingerprint(norm_tokens(text), Params())
    _, a = wn.fingerprint_hashes(th, Params(keyed=True), bytes(range(32)))
    _, b = wn.fingerprint_hashes(th, Params(keyed=True), bytes(range(1, 33)))
    overlap = len(set(a.tolist()) & set(plain.tolist())) / len(a)
    assert overlap < 0.5 and not np.array_equal(a, b)  # unkeyed picks do not predict keyed ones
    assert sip_key(bytes(range(32))) != sip_key(bytes(range(1, 33)))
