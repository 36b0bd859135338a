"""Winnowed k-gram fingerprints (Schleimer, Wilkerson & Aiken 2003), robust winnowing on ties.

Guarantee (tested in tests/test_winnow.py): two token sequences that share a run of at least w + k - 1
tokens share at least one fingerprint, and that fingerprint lies inside the run on both sides. The run
holds w consecutive k-grams, i.e. one whole winnowing window, and both sides pick in that window a k-gram
with the hash of its rightmost minimum. Ties (robust winnowing, section 4.1 of the paper): the previous
pick is kept while it is in the window and has the minimum's hash, so a run of equal k-grams gives one
fingerprint per w positions instead of one per position (tests/test_repetitive_text.py).

Hashes are 64-bit and stable across machines, NumPy and Python versions: each token's UTF-8 bytes are
hashed polynomially modulo 2^64, k consecutive token hashes are combined polynomially modulo 2^64, and both
are mixed with the splitmix64 finalizer (fingerprint/vectorized.py). In keyed mode every k-gram hash goes
through SipHash-2-4 (a keyed pseudorandom function) under a key derived from the case key, before
winnowing: the fingerprints and also the positions picked depend on the key, so a fingerprint file reveals
nothing of the text to anyone without it (docs/methods.md, "Keyed mode: threat model").
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import numpy as np

from ascertain.fingerprint.vectorized import (
    _kernel,
    hash_tokens,
    kgram_hashes,
    normalized_bytes,
    scan_hashes,
    siphash64,
    winnow_ranges,
)


@dataclass(frozen=True)
class Params:
    k: int = 8
    w: int = 13
    keyed: bool = False
    level: str = "layout"  # normalization level of the token stream (text/levels.py)

    @property
    def guarantee(self) -> int:
        """Every shared run of at least this many tokens is found."""
        return self.w + self.k - 1

    def as_dict(self) -> dict:
        return {"k": self.k, "w": self.w, "keyed": self.keyed, "level": self.level,
                "guarantee_tokens": self.guarantee,
                "hash": "polynomial mod 2^64 + splitmix64 (tokens, k-grams); robust winnowing; keyed: every "
                        "k-gram through SipHash-2-4 under HMAC-SHA256(key, label)[:16], before winnowing"}


def winnow(hashes: np.ndarray, w: int) -> np.ndarray:
    """Positions selected by winnowing one sequence: the rightmost minimum of every window of w."""
    return winnow_ranges(hashes, np.array([0]), np.array([len(hashes)]), w)


def sip_key(key: bytes | tuple[int, int]) -> tuple[int, int]:
    """The 128-bit SipHash key of a case key (an HMAC of a fixed label: the case key itself is never used
    twice for different purposes). A pair is that key already derived: what a shard task is given instead of
    the case key (index/shards.py ShardKey)."""
    if isinstance(key, tuple):
        return key
    d = hmac.digest(key, b"ascertain fingerprint siphash key v1", "sha256")
    return int.from_bytes(d[:8], "little"), int.from_bytes(d[8:16], "little")


def keyed(hashes: np.ndarray, key: bytes) -> np.ndarray:
    """k-gram hashes under the key: SipHash-2-4 of each, applied before winnowing."""
    return siphash64(hashes, *sip_key(key))


def fingerprint(tokens: list[str], params: Params, key: bytes | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(hashes uint64, token positions uint32) of one tokenized document."""
    return fingerprint_hashes(hash_tokens(tokens), params, key)


def fingerprint_hashes(token_hashes: np.ndarray, params: Params, key: bytes | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The same, from the tokens' hashes (TokenStream.hashes)."""
    grams = kgram_hashes(token_hashes, params.k)
    if key is not None:  # keyed before winnowing: the picks' positions, too, depend on the key
        grams = keyed(grams, key)
    pos = winnow(grams, params.w)
    return grams[pos], pos.astype(np.uint32)


@dataclass
class Batch:
    """Fingerprints of a batch of documents: row i belongs to document doc[i] (index into the batch)."""

    hashes: np.ndarray
    doc: np.ndarray
    pos: np.ndarray
    tokens: np.ndarray  # tokens per document


def fingerprint_batch(texts: list[str], params: Params, key: bytes | None = None,
                      languages: list[str] | None = None) -> Batch:
    """Fingerprints of many documents in one vectorized pass (the corpus indexing path)."""
    if params.level == "auto" and languages is not None:
        return _fingerprint_batch_auto(texts, languages, params, key)
    if params.level != "layout":
        return _fingerprint_batch_level(texts, languages or ["prose"] * len(texts), params, key)
    parts = [normalized_bytes(t) for t in texts]
    offsets = np.cumsum([0] + [len(p) + 1 for p in parts])
    buf = np.frombuffer(b" ".join(parts) + b" ", np.uint8)
    del parts
    th, bounds = scan_hashes(buf, offsets)  # first token of each document (and the end)
    t0, ntok = bounds[:-1].astype(np.int64), np.diff(bounds).astype(np.int64)
    if _kernel is not None:
        # room for the expected picks (2 / (w + 1) of the k-grams, with a margin); in the rare text that
        # yields more, again with room for one pick per k-gram (the most there can be)
        cap = min(len(th), int(len(th) * 3 / (params.w + 1)) + len(texts) + 16)
        while True:
            fp, doc, pos = np.empty(cap, np.uint64), np.empty(cap, np.int64), np.empty(cap, np.uint32)
            m = _kernel.winnow(th, t0, ntok, params.k, params.w, fp, doc, pos, *(sip_key(key) if key else ()))
            if m >= 0:
                break
            cap = len(th)
        fp, doc, pos = fp[:m].copy(), doc[:m].copy(), pos[:m].copy()  # copies: free the unused room
    else:  # the NumPy reference
        grams = kgram_hashes(th, params.k)
        if key is not None:
            grams = keyed(grams, key)
        g1 = np.maximum(t0 + ntok - params.k + 1, t0)  # k-grams of a document stay inside it
        sel = winnow_ranges(grams, t0, g1, params.w)
        doc = np.searchsorted(t0, sel, side="right") - 1
        fp, pos = grams[sel], (sel - t0[doc]).astype(np.uint32)
    return Batch(fp, doc.astype(np.int64), pos, ntok)


def _fingerprint_batch_auto(texts: list[str], languages: list[str], params: Params, key: bytes | None) -> Batch:
    """Level auto: code at layout (the vectorized pass), prose at book (one document at a time); rows in
    document order, as one pass would give them."""
    from dataclasses import replace

    from ascertain.text.levels import resolved_level

    levels = [resolved_level("auto", lang) for lang in languages]
    parts: dict[str, list[int]] = {}
    for i, lv in enumerate(levels):
        parts.setdefault(lv, []).append(i)
    fps, docs, poss = [], [], []
    ntok = np.zeros(len(texts), np.int64)
    for lv, idx in parts.items():
        b = fingerprint_batch([texts[i] for i in idx], replace(params, level=lv), key, [languages[i] for i in idx])
        at = np.array(idx, np.int64)
        fps.append(b.hashes)
        docs.append(at[b.doc])
        poss.append(b.pos)
        ntok[at] = b.tokens
    if not fps:
        return Batch(np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.uint32), ntok)
    doc = np.concatenate(docs)
    order = np.argsort(doc, kind="stable")  # each document's rows stay in their order
    return Batch(np.concatenate(fps)[order], doc[order], np.concatenate(poss)[order], ntok)


def _fingerprint_batch_level(texts: list[str], languages: list[str], params: Params, key: bytes | None) -> Batch:
    """Other levels need each document's syntax (comments, identifiers): one document at a time."""
    from ascertain.text.levels import level_stream
    from ascertain.text.tokenize import tokenize

    fps, docs, poss, ntok = [], [], [], []
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        ts = level_stream(tokenize(text, language), params.level, language)
        fp, pos = fingerprint_hashes(ts.hashes, params, key)
        fps.append(fp)
        poss.append(pos)
        docs.append(np.full(len(fp), i, np.int64))
        ntok.append(len(ts))
    return Batch(np.concatenate(fps) if fps else np.empty(0, np.uint64),
                 np.concatenate(docs) if docs else np.empty(0, np.int64),
                 np.concatenate(poss) if poss else np.empty(0, np.uint32), np.array(ntok, np.int64))


def load_key(path: str) -> bytes:
    from ascertain.errors import AscertainError

    try:
        with open(path, "rb") as fh:
            key = fh.read()
    except OSError as e:
        raise AscertainError(path, f"cannot read the key file ({e.strerror})",
                             "pass --key-file with a readable file of at least 32 random bytes "
                             "(e.g. `head -c 32 /dev/urandom > case.key`)") from e
    if len(key) < 32:
        raise AscertainError(path, f"the key file holds {len(key)} bytes, fewer than 32",
                             "make a key of at least 32 random bytes: `head -c 32 /dev/urandom > case.key`")
    return key
