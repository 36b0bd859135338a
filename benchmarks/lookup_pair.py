"""Single-work lookups with two versions of the code, interleaved on the same works (fair under a varying load).

    git archive REV src | tar -x -C /tmp/before && cp src/ascertain/fingerprint/_kernel*.so \\
        /tmp/before/src/ascertain/fingerprint/
    nice python3 benchmarks/lookup_pair.py CASE /tmp/before/src src [--works 1,21,41,...]

Prints wall and CPU p50 (user + system, from os.wait4) and peak RSS p50 of each version.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case")
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--works", default=",".join(str(i) for i in range(1, 201, 20)))
    a = ap.parse_args()
    res: dict[str, list[tuple[float, float, float]]] = {"before": [], "after": []}
    for wid in a.works.split(","):
        for label, src in (("before", a.before), ("after", a.after)):
            t = time.perf_counter()
            p = subprocess.Popen([sys.executable, "-m", "ascertain", "match", a.case, "--work", wid, "--json",
                                  "--allow-empty"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={**os.environ, "PYTHONPATH": src})
            _, status, ru = os.wait4(p.pid, 0)
            if os.waitstatus_to_exitcode(status):
                raise SystemExit(f"{label}: work {wid} failed")
            res[label].append((time.perf_counter() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024))
    for label, v in res.items():
        print(label, "wall p50", round(statistics.median(x[0] for x in v), 2), "cpu p50",
              round(statistics.median(x[1] for x in v), 2), "cpu max", round(max(x[1] for x in v), 2),
              "rss p50 MB", round(statistics.median(x[2] for x in v)))


if __name__ == "__main__":
    main()
