"""MinHash peers on the benchmark corpus, run in their own process by run.py (one core, own peak memory).

    python3 benchmarks/peers.py rensa|datasketch CORPUS.jsonl WORKS_DIR

Shingles are the same as ascertain's k-grams: ascertain's normalized tokens, k = 8, joined by spaces.
Phase 1 (index): shingle and MinHash every corpus document (128 permutations). Phase 2 (match): build an
LSH index over the corpus (threshold 0.5) and query every work. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ascertain.text.tokenize import norm_tokens

K, PERM, SEED, BATCH = 8, 128, 42, 512


def shingles(text: str) -> list[str]:
    t = norm_tokens(text)
    return [" ".join(t[i:i + K]) for i in range(max(1, len(t) - K + 1))]


def read_corpus(path: str):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["text"]


def run_rensa(corpus: str, works: list[str]) -> dict:
    from rensa import RMinHash, RMinHashLSH

    t0 = time.perf_counter()
    hashes, batch, nbytes = [], [], 0
    for text in read_corpus(corpus):
        nbytes += len(text.encode())
        batch.append(shingles(text))
        if len(batch) == BATCH:
            hashes += RMinHash.from_token_sets(batch, PERM, SEED)
            batch = []
    hashes += RMinHash.from_token_sets(batch, PERM, SEED)
    t1 = time.perf_counter()
    lsh = RMinHashLSH(threshold=0.5, num_perm=PERM, num_bands=16)
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    found = [bool(lsh.query(m)) for m in RMinHash.from_token_sets([shingles(w) for w in works], PERM, SEED)]
    t2 = time.perf_counter()
    return {"documents": len(hashes), "bytes": nbytes, "index_seconds": t1 - t0, "match_seconds": t2 - t1,
            "found": found}


def run_datasketch(corpus: str, works: list[str]) -> dict:
    from datasketch import MinHash, MinHashLSH

    def minhash(text: str) -> MinHash:
        m = MinHash(num_perm=PERM, seed=SEED)
        m.update_batch([s.encode("utf-8") for s in shingles(text)])
        return m

    t0 = time.perf_counter()
    hashes, nbytes = [], 0
    for text in read_corpus(corpus):
        nbytes += len(text.encode())
        hashes.append(minhash(text))
    t1 = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=PERM)
    for i, m in enumerate(hashes):
        lsh.insert(str(i), m)
    found = [bool(lsh.query(minhash(w))) for w in works]
    t2 = time.perf_counter()
    return {"documents": len(hashes), "bytes": nbytes, "index_seconds": t1 - t0, "match_seconds": t2 - t1,
            "found": found}


if __name__ == "__main__":
    tool, corpus, works_dir = sys.argv[1:4]
    works = [p.read_text(encoding="utf-8") for p in sorted(Path(works_dir).iterdir())]
    result = {"rensa": run_rensa, "datasketch": run_datasketch}[tool](corpus, works)
    print(json.dumps(result))
