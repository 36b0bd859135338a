"""Token hashing, k-gram hashing and winnowing over whole batches of documents with NumPy.

One pass over a byte buffer finds the tokens and hashes them: no Python object is made per token, which is
what makes indexing fast (docs/benchmarks.md). The buffer holds, per document, either its ASCII text
lower-cased (ASCII text is already NFKC, and its case folding is lower-casing) or, for any other text, its
normalized tokens joined by spaces. In both forms a token is a maximal run of word bytes (ASCII letters,
digits, `_`, and every byte >= 0x80) or a single ASCII punctuation byte, exactly the tokens of
`ascertain.text.tokenize` (tested in tests/test_fingerprint_paths.py).

Token hash: the polynomial sum(c[j] * B^(len-1-j)) mod 2^64 of the token's UTF-8 bytes, computed for all
tokens at once from one prefix sum (B is odd, hence invertible mod 2^64), then the length is mixed in and
the splitmix64 finalizer applied.
"""

from __future__ import annotations

import re

import numpy as np

from ascertain.text.normalize import normalize

try:  # the C scanner (built at install); the NumPy functions below are the reference and the fallback
    from ascertain.fingerprint import _kernel
except ImportError:  # pragma: no cover - only when the extension could not be built
    _kernel = None

U64 = np.uint64
_B = 0x100000001B3
_BINV = pow(_B, -1, 1 << 64)
_LEN_MIX = U64(0x9E3779B97F4A7C15)
_M1, _M2 = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB)
_KB = U64(0x100000001B3)  # multiplier for combining k token hashes

SPACE, WORD, PUNCT = 0, 1, 2
_CLASS = np.full(256, PUNCT, dtype=np.uint8)
_CLASS[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = SPACE  # exactly the ASCII characters \s matches
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _CLASS[_c] = WORD
_CLASS[0x80:] = WORD


class _Powers:
    """B^i and B^-i mod 2^64, grown on demand."""

    def __init__(self) -> None:
        self.fwd = np.ones(1, U64)
        self.inv = np.ones(1, U64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.fwd) < n:
            size = max(n, 2 * len(self.fwd))
            self.fwd = np.cumprod(np.concatenate(([U64(1)], np.full(size - 1, _B, U64))), dtype=U64)
            self.inv = np.cumprod(np.concatenate(([U64(1)], np.full(size - 1, _BINV, U64))), dtype=U64)
        return self.fwd, self.inv


_POWERS = _Powers()


def mix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> U64(30))
    x *= _M1
    x ^= x >> U64(27)
    x *= _M2
    x ^= x >> U64(31)
    return x


def token_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets of every token in a uint8 buffer."""
    cls = _CLASS[buf]
    word = cls == WORD
    punct = cls == PUNCT
    prev = np.empty_like(word)
    prev[0:1] = False
    prev[1:] = word[:-1]
    nxt = np.empty_like(word)
    nxt[-1:] = False
    nxt[:-1] = word[1:]
    starts = np.flatnonzero((word & ~prev) | punct)
    ends = np.flatnonzero((word & ~nxt) | punct) + 1
    return starts, ends


def token_hashes(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    n = len(buf)
    fwd, inv = _POWERS.get(n + 1)
    prefix = np.empty(n + 1, U64)
    prefix[0] = 0
    np.cumsum(buf.astype(U64) * inv[:n], dtype=U64, out=prefix[1:])
    h = fwd[ends - 1] * (prefix[ends] - prefix[starts])
    h ^= (ends - starts).astype(U64) * _LEN_MIX
    return mix64(h)


SCAN_PIECE = 1 << 20  # bytes scanned at a time: the scanner's room is 24 bytes per byte of a piece


def scan(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts, ends and hashes of every token of a byte buffer."""
    if _kernel is None:
        starts, ends = token_bounds(buf)
        return starts, ends, token_hashes(buf, starts, ends)
    if len(buf) <= SCAN_PIECE:
        n = len(buf)
        starts, ends, hashes = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, U64)
        t = _kernel.tokens(buf, starts, ends, hashes)
        return starts[:t], ends[:t], hashes[:t]
    pieces = [(s + off, e + off, h.copy()) for off, s, e, h in _scan_pieces(buf)]
    return tuple(np.concatenate([p[i] for p in pieces]) for i in range(3))


def scan_hashes(buf: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes of a byte buffer and, for each byte offset, the number of tokens that start before it;
    without keeping every token's start and end (memory: 8 bytes a token, plus one piece's room)."""
    if _kernel is None:
        starts, _, hashes = scan(buf)
        return hashes, np.searchsorted(starts, offsets)
    # the hashes go straight into one array of a slot per byte, the most tokens there can be: pages past
    # the last token are never written, so they take no memory
    hashes, before, t = np.empty(len(buf), U64), np.zeros(len(offsets), np.int64), 0
    for off, starts, _, _ in _scan_pieces(buf, hashes):
        before += np.searchsorted(starts, offsets - off)
        t += len(starts)
    return hashes[:t], before


def _scan_pieces(buf: np.ndarray, hashes_out: np.ndarray | None = None):
    """(offset, starts, ends, hashes) of consecutive pieces of buf, cut where no token can span the cut (not
    between two word bytes). Starts and ends are relative to the piece; the arrays are views into the
    scanner's room, which the next piece reuses: copy what is kept. With hashes_out (a slot per byte of
    buf), the hashes are written there, one piece after the other."""
    n, off, t = len(buf), 0, 0
    room = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, U64))
    while True:
        end = min(n, off + SCAN_PIECE)
        if end < n:
            end = _cut(buf, off, end)
        piece = buf[off:end]
        if len(room[0]) < len(piece):
            room = (np.empty(len(piece), np.int64), np.empty(len(piece), np.int64),
                    np.empty(len(piece) if hashes_out is None else 0, U64))
        out = room[2] if hashes_out is None else hashes_out[t:t + len(piece)]
        m = _kernel.tokens(piece, room[0], room[1], out)
        yield off, room[0][:m], room[1][:m], out[:m]
        t += m
        if end >= n:
            return
        off = end


def _cut(buf: np.ndarray, off: int, end: int) -> int:
    """The last offset in (off, end] that no token spans (not between two word bytes); past end if one word
    runs over the whole piece."""
    for lo in (max(off, end - 4096), off):  # nearly always within the last few bytes
        word = _CLASS[buf[lo:end + 1]] == WORD
        ok = np.flatnonzero(~(word[:-1] & word[1:]))  # a cut before byte lo + i + 1 splits no word
        if len(ok):
            return lo + int(ok[-1]) + 1
    rest = np.flatnonzero(_CLASS[buf[end:]] != WORD)
    return end + int(rest[0]) if len(rest) else len(buf)


def hash_tokens(tokens: list[str]) -> np.ndarray:
    """Hashes of already normalized tokens (the detailed path: works, compare, verification)."""
    if not tokens:
        return np.empty(0, U64)
    buf = np.frombuffer(" ".join(tokens).encode("utf-8", "surrogatepass"), np.uint8)
    starts, _, hashes = scan(buf)
    if len(starts) != len(tokens):  # cannot happen for tokens made by text.tokenize
        raise ValueError("tokens do not round-trip through the byte form")
    return hashes


_NON_ASCII_NON_WORD = re.compile(r"[^\x00-\x7f\w\s]")
_NON_ASCII_SPACE = re.compile(r"[^\S\x00-\x7f]")


def normalized_bytes(text: str) -> bytes:
    """The byte form of a document. Non-ASCII text: NFKC, each non-ASCII punctuation or symbol set apart
    by spaces (it is a token of its own), non-ASCII white space made a space, then case folding (which
    maps character by character, so it cannot move a token boundary that the spaces now fix)."""
    if text.isascii():
        return text.encode("ascii").lower()
    text = normalize(text)
    text = _kernel.isolate(text) if _kernel is not None else _isolate_reference(text)
    return text.casefold().encode("utf-8", "surrogatepass")


def _isolate_reference(text: str) -> str:
    return _NON_ASCII_SPACE.sub(" ", _NON_ASCII_NON_WORD.sub(r" \g<0> ", text))


def kgram_hashes(th: np.ndarray, k: int) -> np.ndarray:
    n = len(th) - k + 1
    if n <= 0:
        return np.empty(0, U64)
    acc = th[:n].copy()
    for j in range(1, k):
        acc *= _KB
        acc += th[j:j + n]
    return mix64(acc)


_SIP_C = (U64(0x736F6D6570736575), U64(0x646F72616E646F6D), U64(0x6C7967656E657261), U64(0x7465646279746573))


def _rotl(x: np.ndarray, b: int) -> np.ndarray:
    return (x << U64(b)) | (x >> U64(64 - b))


def siphash64(m: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """SipHash-2-4 of each uint64 as an 8-byte little-endian message, under the 128-bit key (k0, k1): the
    keyed k-gram hashes of a keyed index (the NumPy reference of the kernel's siphash8)."""
    m = m.astype(U64, copy=False)
    key0, key1 = U64(k0), U64(k1)
    v0, v1 = np.full_like(m, key0 ^ _SIP_C[0]), np.full_like(m, key1 ^ _SIP_C[1])
    v2, v3 = np.full_like(m, key0 ^ _SIP_C[2]), np.full_like(m, key1 ^ _SIP_C[3])

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 += v1
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 += v3
            v3 = _rotl(v3, 16) ^ v2
            v0 += v3
            v3 = _rotl(v3, 21) ^ v0
            v2 += v1
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    b = U64(8 << 56)
    v3 ^= m
    rounds(2)
    v0 ^= m
    v3 ^= b
    rounds(2)
    v0 ^= b
    v2 ^= U64(0xFF)
    rounds(4)
    return v0 ^ v1 ^ v2 ^ v3


POS_BITS = 28  # positions in the low bits break ties between equal hash prefixes: rightmost wins
_POS_MASK = U64((1 << POS_BITS) - 1)
MAX_BATCH_GRAMS = 1 << POS_BITS


def sliding_min(v: np.ndarray, w: int) -> np.ndarray:
    """min(v[i:i+w]) for every i, from tables of minima over power-of-two widths (O(n log w))."""
    length = len(v) - w + 1
    tables = [v]
    while (1 << len(tables)) <= w:
        step = 1 << (len(tables) - 1)
        prev = tables[-1]
        tables.append(np.minimum(prev[:-step], prev[step:]))
    out = None
    off = 0
    for b in range(len(tables) - 1, -1, -1):
        if w & (1 << b):
            part = tables[b][off:off + length]
            out = part if out is None else np.minimum(out, part)
            off += 1 << b
    return out


def winnow_ranges(grams: np.ndarray, g0: np.ndarray, g1: np.ndarray, w: int) -> np.ndarray:
    """Robust winnowing inside each [g0, g1) range of a k-gram array: positions (into the array) of the
    picks of every window of w k-grams that lies in one range; a range shorter than w gives the rightmost
    minimum of the whole range.

    Minimum means: smallest hash in its top 64 - POS_BITS bits, then rightmost. A window's pick is the
    previous window's pick if that is still in the window and has the minimum's (full) hash, else the
    rightmost minimum; either way the picked hash is the rightmost minimum's hash, which depends only on the
    window's content, so both sides of a shared run pick the same hash inside it."""
    n = len(grams)
    if n == 0:
        return np.empty(0, np.int64)
    if n > MAX_BATCH_GRAMS:
        raise ValueError(f"winnowing batch of {n} k-grams exceeds {MAX_BATCH_GRAMS}")
    keys = (grams & ~_POS_MASK) | (_POS_MASK - np.arange(n, dtype=U64))
    picks = []
    lengths = g1 - g0
    long = lengths >= w
    if n >= w and long.any():
        best = (_POS_MASK - (sliding_min(keys, w) & _POS_MASK)).astype(np.int64)  # rightmost minimum
        delta = np.zeros(n - w + 2, dtype=np.int32)  # +1 where a range's valid windows start, -1 after
        np.add.at(delta, g0[long], 1)
        np.add.at(delta, (g1 - w + 1)[long], -1)
        first = np.zeros(n - w + 1, dtype=bool)
        first[g0[long]] = True
        picks.append(_robust_picks(grams, best, np.flatnonzero(np.cumsum(delta[:-1]) > 0), first))
    short = (lengths < w) & (lengths > 0)
    if short.any():
        idx = np.empty(2 * int(short.sum()), dtype=np.int64)
        idx[0::2], idx[1::2] = g0[short], g1[short]
        low = np.minimum.reduceat(np.append(keys, U64(0)), idx)[0::2]
        picks.append((_POS_MASK - (low & _POS_MASK)).astype(np.int64))
    if not picks:
        return np.empty(0, np.int64)
    pos = np.concatenate(picks)
    if len(picks) > 1:  # short ranges' picks are distinct from the long ones': merge in order
        pos.sort(kind="stable")
    return pos


def _robust_picks(grams: np.ndarray, best: np.ndarray, windows: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Robust winnowing (Schleimer et al. 2003, section 4.1) over the valid windows, given each window's
    rightmost minimum `best`: the previous pick is kept while it is in the window and has the minimum's hash.

    Windows are grouped into stretches of consecutive windows of one range whose minimum has one hash. A
    stretch whose rightmost minimum never moves (all of real text, nearly) gives that one pick; in one where
    it moves (the hash repeats within a window: runs of equal or periodic k-grams) the pick is kept until it
    leaves the window, then the window's rightmost minimum is taken: one pick per w windows."""
    if not len(windows):
        return np.empty(0, np.int64)
    pick = best[windows]
    h = grams[pick]
    new = np.ones(len(windows), dtype=bool)
    new[1:] = (windows[1:] != windows[:-1] + 1) | (h[1:] != h[:-1]) | first[windows[1:]]
    lo = np.flatnonzero(new)
    hi = np.append(lo[1:], len(windows)) - 1
    steady = pick[lo] == pick[hi]  # the rightmost minimum is non-decreasing: constant iff first == last
    out = [pick[lo[steady]]]
    for a, b in zip(windows[lo[~steady]].tolist(), windows[hi[~steady]].tolist(), strict=True):
        p, chain = int(best[a]), []
        while True:
            chain.append(p)
            if p + 1 > b:  # the pick leaves the window at window p + 1: past this stretch
                break
            p = int(best[p + 1])
        out.append(np.array(chain, np.int64))
    res = np.concatenate(out)
    res.sort(kind="stable")
    return res
