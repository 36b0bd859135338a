"""infini-gram on the benchmark corpus: query latency of its C++ engine over a byte-level (u8) index.

    python3 benchmarks/infinigram_peer.py INDEX_DIR WORKS_DIR [--each]

The index is built by run.py with `python -m infini_gram.indexing_v6 --token_dtype u8`. Each query counts
the occurrences of a 64-byte passage of one work. Prints one JSON object (with `--each`, every query's seconds).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

SNIPPET = 64


def main(index_dir: str, works_dir: str, each: bool = False) -> dict:
    from infini_gram import cpp_engine

    # A u8 index: the document separator 0xff is the end-of-document token; vocab size is a U8 too.
    engine = cpp_engine.Engine_U8([index_dir], 255, 255, 4, False, 1, 3, 3, set(), 512, False, {})
    queries = []
    for p in sorted(Path(works_dir).iterdir()):
        data = p.read_bytes()
        mid = max(0, len(data) // 2 - SNIPPET // 2)
        queries.append(list(data[mid:mid + SNIPPET]))
    t0 = time.perf_counter()
    counts, times = [], []
    for q in queries:
        t1 = time.perf_counter()
        counts.append(engine.count(q).count)
        times.append(time.perf_counter() - t1)
    seconds = time.perf_counter() - t0
    return {"queries": len(queries), "seconds": seconds, "found": [c > 0 for c in counts],
            **({"each_seconds": times} if each else {})}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], "--each" in sys.argv[3:])))
