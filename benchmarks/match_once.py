"""One `ascertain match CASE --json` of a given checkout's code, measured as benchmarks/scale.py measures it
(wall, CPU and peak RSS of the process) with the evidence digests (report and stored rows): two checkouts
run on two copies of one case give the before / after of a change, and equal digests say the evidence is the
same bytes.

    nice python3 benchmarks/match_once.py SRC CASE      # SRC: a `src` folder (e.g. `git archive REV src`)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402


def main() -> None:
    src, case = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    out, s, cpu, peak = scale.run([sys.executable, "-m", "ascertain", "match", str(case), "--json"], src)
    print(json.dumps({"case": str(case), "src": str(src), "match_seconds": round(s, 2),
                      "match_cpu_seconds": round(cpu, 2), "match_peak_mb": round(peak), **json.loads(out),
                      **scale.evidence_digests(case)}), flush=True)


if __name__ == "__main__":
    main()
