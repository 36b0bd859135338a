"""A benchmark corpus larger than the real text on the machine: the real corpus, then renamed variants of it.

    nice python3 benchmarks/corpus_large.py REAL.jsonl OUT.jsonl MB

REAL.jsonl is benchmarks/corpus.py's output with every real file it finds (about 509 MB on this machine:
`python3 benchmarks/corpus.py benchmarks/.data/corpus-real-all.jsonl 100000 benchmarks/.data/holdout-all`).
OUT.jsonl holds all of it, then variant 1, 2, ... of each record until MB is reached. Variant v of a document
keeps its layout, punctuation, numbers, length and language, and renames about half of its distinct words
(3+ letters) the same way throughout the document set of that variant (`name` -> `name_x7q`), like a
refactored fork: its fingerprints are almost all new, so the index grows as with new text, but the vocabulary
is more varied than real text (fewer shared fingerprints between documents, a flatter document frequency).
The same inputs give the same bytes (the renaming is a keyed hash of the variant number and the word).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def renamer(variant: int):
    cache: dict[str, str] = {}
    salt = f"variant-{variant}:".encode()

    def rename(m: re.Match) -> str:
        w = m.group(0)
        if w not in cache:
            d = hashlib.blake2b(salt + w.encode(), digest_size=8).digest()
            cache[w] = w if d[0] & 1 else w + "_" + "".join(ALPHABET[b % 36] for b in d[1:4])
        return cache[w]

    return rename


def build(real: Path, out: Path, target_bytes: int) -> dict:
    total = docs = variant = 0
    h = hashlib.sha256()
    with open(out, "w", encoding="utf-8") as fh:
        while total < target_bytes:
            rename = renamer(variant) if variant else None
            with open(real, encoding="utf-8") as src:
                for line in src:
                    if rename is not None:
                        rec = json.loads(line)
                        rec = {"path": f"variant-{variant}{rec['path']}", "text": WORD.sub(rename, rec["text"])}
                        line = json.dumps(rec, ensure_ascii=False) + "\n"
                    fh.write(line)
                    h.update(line.encode())
                    total += len(line.encode())
                    docs += 1
                    if total >= target_bytes:
                        break
            variant += 1
    return {"bytes": total, "documents": docs, "variants": variant - 1, "sha256": h.hexdigest()}


if __name__ == "__main__":
    print(json.dumps(build(Path(sys.argv[1]), Path(sys.argv[2]), int(float(sys.argv[3]) * 1e6))))
