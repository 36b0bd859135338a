"""Keyed ("text-less") mode: everything a keyed index holds that was derived from the corpus is keyed.

Fingerprints are keyed in winnow.keyed(). This module keys the rest (docs/methods.md, "Keyed mode: threat
model"): the key check kept in the manifest, each document's digest, its locator, and the input list.
Every value is an HMAC-SHA256 under the case key with a label of its own, so no two kinds of value can be
compared with each other, and none can be recomputed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from ascertain.readers.base import Document, Skip

KEY_CHECK_LABEL = b"ascertain key check v1"
_DIGEST_LABEL = b"ascertain document sha256 v1\0"
_LOCATOR_LABEL = b"ascertain locator v1\0"
_INPUT_LABEL = b"ascertain input v1\0"
LOCATOR_PREFIX = "keyed:"


def key_check(key: bytes) -> str:
    """What the manifest keeps to recognize the key: an HMAC of a fixed label, never the key."""
    return hmac.new(key, KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def keyed_sha256(key: bytes, sha256_hex: str) -> str:
    """A document's digest in a keyed index: the key holder computes it from a file's SHA-256 and compares."""
    return hmac.new(key, _DIGEST_LABEL + sha256_hex.encode("ascii"), hashlib.sha256).hexdigest()


def keyed_locator(key: bytes, locator: str, input_index: int, item: int) -> str:
    """`keyed:INPUT:ITEM:ID`: the input's place on the command line and the item's place in that input's
    stream (skips included), which the producing party maps back by reading its inputs again, and an
    opaque id (HMAC of the plain locator, 64 bits) by which the key holder can confirm a guessed locator."""
    tag = hmac.new(key, _LOCATOR_LABEL + locator.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return f"{LOCATOR_PREFIX}{input_index}:{item}:{tag[:16]}"


def keyed_inputs(key: bytes, inputs: list[dict]) -> list[dict]:
    """The input list of a keyed index: kind and an HMAC of the plain entry (path, content pin); no path,
    size or SHA-256 of any input. It still pins the inputs: a resume over changed inputs is refused."""
    out = []
    for entry in inputs:
        plain = json.dumps(entry, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
        out.append({"kind": entry["kind"], "pin": hmac.new(key, _INPUT_LABEL + plain, hashlib.sha256).hexdigest()})
    return out


def redact(item: Document | Skip, key: bytes, input_index: int, number: int) -> Document | Skip:
    """The item as a keyed index records it. The text stays (it is fingerprinted in memory, never written);
    the metadata keeps only the byte count (the index writer also drops the language, which comes from the
    file name). A skip keeps its reason's class only ("malformed JSON"): details may quote names."""
    loc = keyed_locator(key, item.locator, input_index, number)
    if isinstance(item, Skip):
        return Skip(f"{LOCATOR_PREFIX}{input_index}", loc, item.reason.split(" (")[0].split(":")[0], item.fix)
    return Document(loc, item.text, item.language, keyed_sha256(key, item.sha256),
                    {"bytes": int(item.meta.get("bytes", len(item.text)))})
