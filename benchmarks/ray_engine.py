"""Local vs `--processes 2` vs Ray (1 and 2 workers) on the same run: `corpus add` and `match`.

    nice python3 benchmarks/ray_engine.py [--mb 200] [--works 200] [--configs local,processes-2,ray-1,ray-2]

For each configuration: a fresh case, `corpus add` of the benchmark corpus (benchmarks/corpus.py, real text),
`works import` of `--works` works (half from the corpus, half held out: benchmarks/scale.py), `match` (on the
same engine and processes). Each
command is one process; its wall time, CPU time and peak memory are those of its whole process tree (Ray's
raylet, GCS and workers included), sampled every 0.1 s with psutil. Then the check: every configuration's
index files, reports/evidence.json and stored evidence must equal the local engine's, byte for byte.
Writes benchmarks/.work/ray-engine.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import WORK, corpus_of, make_works  # noqa: E402

CONFIGS = {"local": [], "processes-2": ["--processes", "2"], "ray-1": ["--engine", "ray", "--processes", "1"],
           "ray-2": ["--engine", "ray", "--processes", "2"]}


def measured(cmd: list[str]) -> dict:
    """Run one command; wall s, CPU s and peak RSS MB of its process tree."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(p.pid)
    cpu: dict[int, float] = {}
    peak = 0
    while p.poll() is None:
        rss = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for q in procs:
            try:
                t = q.cpu_times()
                cpu[q.pid] = t.user + t.system + t.children_user + t.children_system
                rss += q.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, rss)
        time.sleep(0.1)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-3000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(sum(cpu.values()), 2), "peak_rss_mb": round(peak / 2**20),
            "stdout": out.decode()}


def digest_files(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "cache" not in p.relative_to(folder).parts:
            h.update(str(p.relative_to(folder)).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def stored_evidence(case: Path) -> str:
    with sqlite3.connect(case / "store.sqlite") as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(evidence)") if r[1] not in ("id", "run_id")]
        rows = db.execute(f"SELECT {', '.join(cols)} FROM evidence ORDER BY id").fetchall()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--works", type=int, default=200)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    a = ap.parse_args()
    corpus, holdout = corpus_of(a.mb)
    base = WORK / f"ray-{a.mb}"
    csv = make_works(corpus, holdout, a.works, base / "works")
    exe = [sys.executable, "-m", "ascertain"]
    results = []
    for name in a.configs.split(","):
        case = base / name
        shutil.rmtree(case, ignore_errors=True)
        measured(exe + ["init", str(case)])
        add = measured(exe + ["corpus", "add", str(case), "pile", str(corpus), "--json", *CONFIGS[name]])
        measured(exe + ["works", "import", str(case), str(csv)])
        match = measured(exe + ["match", str(case), "--json", *CONFIGS[name]])
        r = {"config": name, "corpus_mb": round(corpus.stat().st_size / 1e6, 1), "works": a.works,
             "documents": json.loads(add.pop("stdout"))["documents"], "add": add,
             "evidence": json.loads(match.pop("stdout"))["evidence"], "match": match,
             "index_mb": round(sum(p.stat().st_size for p in (case / "index").rglob("*") if p.is_file()
                                   and "cache" not in p.parts) / 1e6, 1),
             "index_sha": digest_files(case / "index" / "pile"),
             "report_sha": hashlib.sha256((case / "reports" / "evidence.json").read_bytes()).hexdigest(),
             "stored_sha": stored_evidence(case)}
        results.append(r)
        print(json.dumps(r), flush=True)
    ref = results[0]
    for r in results:
        r["add_speedup"] = round(ref["add"]["wall_s"] / r["add"]["wall_s"], 2)
        r["match_speedup"] = round(ref["match"]["wall_s"] / r["match"]["wall_s"], 2)
        r["identical"] = all(r[k] == ref[k] for k in ("index_sha", "report_sha", "stored_sha"))
    print(f"{'config':12} {'add wall':>9} {'add CPU':>8} {'add RSS':>8} {'speed-up':>8} {'match wall':>10} "
          f"{'match CPU':>9} {'match RSS':>9} {'speed-up':>8} identical")
    for r in results:
        print(f"{r['config']:12} {r['add']['wall_s']:9.1f} {r['add']['cpu_s']:8.1f} {r['add']['peak_rss_mb']:8d} "
              f"{r['add_speedup']:8.2f} {r['match']['wall_s']:10.1f} {r['match']['cpu_s']:9.1f} "
              f"{r['match']['peak_rss_mb']:9d} {r['match_speedup']:8.2f} {r['identical']}")
    WORK.mkdir(exist_ok=True)
    (WORK / "ray-engine.json").write_text(json.dumps(results, indent=1) + "\n")
    if not all(r["identical"] for r in results):
        raise SystemExit("outputs differ between engines")


if __name__ == "__main__":
    main()
