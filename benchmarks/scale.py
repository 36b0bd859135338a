"""Matching at scale: single-work lookup latency, batch match time and peak memory, at several corpus sizes.

    nice python3 benchmarks/scale.py --sizes 50,200,413 --works 200 --lookups 100 [--src DIR] [--label NAME]

For each size (MB of real text, benchmarks/corpus.py): a case with the corpus and `--works` works (half taken
from the corpus, half real files kept out of it); `corpus add` and `match` timed, with their peak resident
memory from the kernel's rusage; then `--lookups` single-work lookups (`ascertain match CASE --work ID`), one
process each, process start included (p50 / p95). `--src` runs another checkout's code (its `src` folder),
e.g. the code before a change: before/after figures from one script. Prints and writes one JSON file per
run to benchmarks/.work/scale-LABEL.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))
from corpus import build as build_corpus  # noqa: E402


def run(cmd: list[str], src: Path) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak resident MB) of one process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode()[-3000:]}")
        out.seek(0)
        return out.read().decode(), seconds, usage.ru_maxrss / 1024


def corpus_of(mb: int) -> tuple[Path, Path]:
    corpus, holdout = DATA / f"corpus-{mb}.jsonl", DATA / f"holdout-{mb}"
    if not corpus.exists():
        build_corpus(corpus, mb * 1_000_000, holdout)
    return corpus, holdout


def make_works(corpus: Path, holdout: Path, n: int, folder: Path) -> Path:
    """n works: n/2 corpus files spread over it (should be found), n/2 held-out real files; a works CSV."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = corpus.read_text(encoding="utf-8").split("\n")[:-1]  # only "\n" ends a JSONL record
    half = n // 2
    for i, line in enumerate(lines[::max(1, len(lines) // half)][:half]):
        rec = json.loads(line)
        (folder / f"in-{i:05d}{Path(rec['path']).suffix}").write_text(rec["text"], encoding="utf-8")
    for p in sorted(holdout.iterdir())[:n - half]:
        shutil.copy(p, folder / f"out-{p.name}")
    csv = folder.with_suffix(".csv")
    rows = "".join(f"bench,{p.name},{p.resolve()}\n" for p in sorted(folder.iterdir()))
    csv.write_text("claimant,title,path\n" + rows)
    return csv


def bench_size(mb: int, n_works: int, n_lookups: int, src: Path, exe: list[str]) -> dict:
    corpus, holdout = corpus_of(mb)
    base = WORK / f"scale-{mb}"
    case = base / "case"
    shutil.rmtree(case, ignore_errors=True)
    csv = make_works(corpus, holdout, n_works, base / "works")
    run(exe + ["init", str(case)], src)
    out, add_s, add_mb = run(exe + ["corpus", "add", str(case), "pile", str(corpus), "--json"], src)
    added = json.loads(out)
    run(exe + ["works", "import", str(case), str(csv)], src)
    out, match_s, match_mb = run(exe + ["match", str(case), "--json"], src)
    rows = json.loads(out)["evidence"]
    r = {"mb": mb, "documents": added["documents"], "works": n_works, "index_seconds": round(add_s, 2),
         "index_peak_mb": round(add_mb), "index_mb": round(sum(p.stat().st_size for p in (case / "index").rglob("*")
                                                                if p.is_file()) / 1e6, 1),
         "match_seconds": round(match_s, 2), "match_peak_mb": round(match_mb), "evidence": rows,
         "evidence_rows_per_s": round(rows / match_s, 1)}
    if n_lookups:
        times, sizes = [], []
        files = sorted((base / "works").iterdir())
        step = max(1, len(files) // n_lookups)
        for work_id in range(1, len(files) + 1, step)[:n_lookups]:  # works are numbered in CSV order
            _, s, peak = run(exe + ["match", str(case), "--work", str(work_id), "--json", "--allow-empty"], src)
            times.append(s)
            sizes.append(files[work_id - 1].stat().st_size)
        times.sort()
        r["lookup"] = {"n": len(times), "p50_s": round(statistics.median(times), 3),
                       "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3),
                       "max_s": round(times[-1], 3), "median_work_kb": round(statistics.median(sizes) / 1e3, 1)}
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="50,200,413", help="corpus sizes in MB, comma-separated")
    ap.add_argument("--works", type=int, default=200)
    ap.add_argument("--lookups", type=int, default=100, help="single-work lookups per size (0: none)")
    ap.add_argument("--src", type=Path, default=HERE.parent / "src", help="the code to run (a src folder)")
    ap.add_argument("--label", default="after")
    a = ap.parse_args()
    exe = [sys.executable, "-m", "ascertain"]
    results = []
    for mb in (int(s) for s in a.sizes.split(",")):
        results.append(bench_size(mb, a.works, a.lookups, a.src.resolve(), exe))
        print(json.dumps(results[-1]), flush=True)
    WORK.mkdir(exist_ok=True)
    (WORK / f"scale-{a.label}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
