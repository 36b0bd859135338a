"""One `match` of a case in this process with a given batch size (match/run.py FILES_BATCH): the resident memory
after each batch of works (with the Python objects alive and DuckDB's buffer), then wall, CPU, peak resident
memory (the kernel's rusage) and the report's sha256 (equal for every batch size: the same evidence).

    nice python3 benchmarks/match_batches.py CASE [--files-batch 1000] [--cold]

Run with the code to measure first on the path (PYTHONPATH=SRC). `--cold` removes the CMI scan cache first.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import resource
import shutil
import sys
import time
from pathlib import Path


def rss_mb() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", type=Path)
    ap.add_argument("--files-batch", type=int, default=None)
    ap.add_argument("--cold", action="store_true")
    a = ap.parse_args()
    import ascertain.match.run as run
    from ascertain.case import Case

    case = Case.open(a.case)
    if a.files_batch:
        run.FILES_BATCH = a.files_batch
    if a.cold:
        for cache in (case.root / "index").glob("*/cache"):
            shutil.rmtree(cache)
    t0, n = time.perf_counter(), 0
    one_batch = run._match_batch

    def traced(con, *args, **kw):
        nonlocal n
        yield from one_batch(con, *args, **kw)
        n += 1
        gc.collect()
        duck = con.execute("SELECT sum(memory_usage_bytes) >> 20 FROM duckdb_memory()").fetchall()[0][0]
        print(json.dumps({"batch": n, "seconds": round(time.perf_counter() - t0, 1), "rss_mb": rss_mb(),
                          "python_objects": len(gc.get_objects()), "duckdb_mb": duck}), file=sys.stderr, flush=True)

    run._match_batch = traced
    r = run.run_match(case, run.MatchOptions())
    u = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({**r, "files_batch": run.FILES_BATCH, "batches": n, "wall_s": round(time.perf_counter() - t0, 1),
                      "cpu_s": round(u.ru_utime + u.ru_stime, 2), "peak_mb": round(u.ru_maxrss / 1024),
                      "report_sha256": hashlib.sha256(Path(r["report"]).read_bytes()).hexdigest()}), flush=True)


if __name__ == "__main__":
    main()
