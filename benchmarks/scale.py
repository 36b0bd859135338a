"""Matching at scale: single-work lookup latency, batch match time and peak memory, at several corpus sizes.

    nice python3 benchmarks/scale.py lookups --sizes 50,200,413 --lookups 100 [--src DIR] [--label NAME]
    nice python3 benchmarks/scale.py match --size 413 --works 1000 [--src DIR] [--label NAME] [--cold] [--no-show]
    nice python3 benchmarks/scale.py infinigram --sizes 50,200,413
    nice python3 benchmarks/scale.py resident --sizes 413,5000 --lookups 100 [--case-dir scale-413] [--src DIR]
    nice python3 benchmarks/scale.py startup --case CASE --lookups 20 [--src DIR]

`lookups`, for each size (MB of real text, benchmarks/corpus.py; a size above the real text on the machine is
benchmarks/corpus_large.py's corpus, which must exist): a case with the corpus and 200 works (half taken from
the corpus, half real files kept out of it), `corpus add` timed once (the case is kept in benchmarks/.work and
reused), then `--lookups` single-work lookups (`ascertain match CASE --work ID`), one process each, process
start included: p50 / p95 of wall and CPU seconds. `match`: a case with `--works` works, one `match` of all of
them (wall, CPU, peak resident memory from the kernel's rusage, evidence rows/s), then `show` and
`show --csv` on its evidence (same figures). `infinigram`: the peer beside the lookups, on the same corpus and
works (the `lookups` case of each size must exist): its byte-level index built (`infini_gram.indexing_v6
--token_dtype u8`, one CPU), then one process that loads it and counts a 64-byte passage of each of the 200 works
(infini-gram answers exact-string counts, not ascertain's evidence: its figure is the floor of a lookup).
`resident`: the lookups of a process that opened the case once, as the web app's workers do: one process
calls `run_match(case, MatchOptions(work=ID))` for each work (a first lookup, of another work, not counted),
and reports each lookup's wall and CPU seconds, p50 / p95 over all the works and over the 10 KB ones (8-12.5 KB
files), and a digest of each work's evidence records (equal digests: equal evidence, whatever index format or
code produced them). `--case-dir` names the case folder under benchmarks/.work (default scale-MB).
`startup`: a CLI lookup (`ascertain match CASE --work 1`) against `ascertain --version`, one process each,
interleaved `--lookups` times: wall and CPU p50 of each and their ratio, and the modules the lookup imports
beyond --version's with their cumulative import time (`python -X importtime`, one run each).
`--src` runs another checkout's code (its `src` folder), e.g. the
code before a change. Prints and writes one JSON file per run to benchmarks/.work/scale-LABEL.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# ASCERTAIN_BENCH_DATA / ASCERTAIN_BENCH_WORK: the corpora and the cases elsewhere (e.g. a shared folder reused
# by several checkouts)
DATA = Path(os.environ.get("ASCERTAIN_BENCH_DATA", HERE / ".data"))
WORK = Path(os.environ.get("ASCERTAIN_BENCH_WORK", HERE / ".work"))
sys.path.insert(0, str(HERE))
from corpus import build as build_corpus  # noqa: E402


def run(cmd: list[str], src: Path) -> tuple[str, float, float, float]:
    """(stdout, wall seconds, CPU seconds, peak resident MB) of one process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    # as on a user's machine: the modules' bytecode is cached after the first run (this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which recompiles the project's ~70 modules in every process: ~0.1-0.15 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode()[-3000:]}")
        out.seek(0)
        return out.read().decode(), seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def corpus_of(mb: int) -> tuple[Path, Path]:
    corpus, holdout = DATA / f"corpus-{mb}.jsonl", DATA / f"holdout-{mb}"
    if not corpus.exists():
        if mb > 500:
            raise SystemExit(f"{corpus} is missing: build it with benchmarks/corpus_large.py (see its docstring)")
        build_corpus(corpus, mb * 1_000_000, holdout)
    if not holdout.exists():  # a large corpus holds the real one: its held-out files are the real corpus's
        holdout = DATA / "holdout-all"
    return corpus, holdout


def make_works(corpus: Path, holdout: Path, n: int, folder: Path) -> Path:
    """n works: n/2 corpus files spread over it (should be found), n/2 real files kept out of it (negatives):
    the held-out files, then (past those) renamed variants of corpus files that no corpus holds (variant
    numbers from 1000 on, benchmarks/corpus_large.py's renaming). A works CSV."""
    from corpus_large import WORD, renamer

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with open(corpus, "rb") as fh:
        n_lines = sum(1 for _ in fh)
    half = n // 2
    step = max(1, n_lines // max(1, half))
    picked: list[dict] = []
    with open(corpus, encoding="utf-8") as fh:  # streamed: the corpus may be larger than memory
        for i, line in enumerate(fh):
            if i % step == 0 and len(picked) < max(half, n - half):
                picked.append(json.loads(line))
    for i, rec in enumerate(picked[:half]):
        (folder / f"in-{i:05d}{Path(rec['path']).suffix}").write_text(rec["text"], encoding="utf-8")
    held = sorted(holdout.iterdir())[:n - half]
    for p in held:
        shutil.copy(p, folder / f"out-{p.name}")
    for i in range(n - half - len(held)):
        rec = picked[i % len(picked)]
        text = WORD.sub(renamer(1000 + i // len(picked)), rec["text"])
        (folder / f"out-v{i:05d}{Path(rec['path']).suffix}").write_text(text, encoding="utf-8")
    csv = folder.with_suffix(".csv")
    rows = "".join(f"bench,{p.name},{p.resolve()}\n" for p in sorted(folder.iterdir()))
    csv.write_text("claimant,title,path\n" + rows)
    return csv


def make_case(mb: int, n_works: int, src: Path, exe: list[str], case: Path) -> dict:
    """The case (corpus indexed, works imported); kept and reused when it is complete."""
    done = case / "scale-case.json"
    if done.exists():
        return json.loads(done.read_text())
    corpus, holdout = corpus_of(mb)
    shutil.rmtree(case, ignore_errors=True)
    csv = make_works(corpus, holdout, n_works, case.parent / "works")
    run(exe + ["init", str(case)], src)
    out, add_s, add_cpu, add_mb = run(exe + ["corpus", "add", str(case), "pile", str(corpus), "--json"], src)
    added = json.loads(out)
    run(exe + ["works", "import", str(case), str(csv)], src)
    r = {"mb": mb, "documents": added["documents"], "works": n_works, "index_seconds": round(add_s, 2),
         "index_cpu_seconds": round(add_cpu, 2), "index_peak_mb": round(add_mb),
         "index_mb": round(sum(p.stat().st_size for p in (case / "index").rglob("*") if p.is_file()) / 1e6, 1)}
    done.write_text(json.dumps(r))
    return r


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 3)


def bench_lookups(mb: int, n_lookups: int, src: Path, exe: list[str]) -> dict:
    case = WORK / f"scale-{mb}" / "case"
    r = make_case(mb, 200, src, exe, case)
    walls, cpus, inside = [], [], []
    for work_id in range(1, 201, max(1, 200 // max(1, n_lookups)))[:n_lookups]:  # works numbered in CSV order
        out, s, cpu, _ = run(exe + ["match", str(case), "--work", str(work_id), "--json", "--allow-empty"], src)
        walls.append(s)
        cpus.append(cpu)
        inside.append(json.loads(out)["seconds"])  # the lookup itself: what a resident process would pay
    if not walls:
        return r
    _, start_s, start_cpu, _ = run(exe + ["--version"], src)
    return {**r, "lookup": {"n": len(walls), "p50_s": pct(walls, 0.5), "p95_s": pct(walls, 0.95),
                            "max_s": round(max(walls), 3), "cpu_p50_s": pct(cpus, 0.5),
                            "cpu_p95_s": pct(cpus, 0.95), "in_process_p50_s": pct(inside, 0.5),
                            "in_process_p95_s": pct(inside, 0.95), "process_start_s": round(start_s, 3)}}


RESIDENT = """
import hashlib, json, sys, time
from pathlib import Path
import orjson
from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
case = Case.open(Path(sys.argv[1]))
works = [int(w) for w in sys.argv[2].split(",")]
run_match(case, MatchOptions(work=works[-1] + 1, allow_empty=True))  # opens the index: not counted
out = []
for w in works:
    t, c = time.perf_counter(), time.process_time()
    r = run_match(case, MatchOptions(work=w, allow_empty=True))
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    ev = orjson.loads(Path(r["report"]).read_bytes())["evidence"]
    digest = hashlib.sha256(orjson.dumps(ev, option=orjson.OPT_SORT_KEYS)).hexdigest()
    out.append({"work": w, "wall_s": wall, "cpu_s": cpu, "inside_s": r["seconds"], "records": r["evidence"],
                "evidence_sha256": digest})
print(json.dumps(out))
"""


def work_sizes(case: Path) -> dict[int, int]:
    """Bytes of each work's file (works numbered in the CSV's order)."""
    import csv

    with open(case.parent / "works.csv", newline="") as fh:
        return {i: Path(r["path"]).stat().st_size for i, r in enumerate(csv.DictReader(fh), 1)}


def bench_resident(mb: int, n_lookups: int, src: Path, case_dir: str | None) -> dict:
    case = WORK / (case_dir or f"scale-{mb}") / "case"
    if not (case / "scale-case.json").exists():
        raise SystemExit(f"{case} is missing: run `scale.py lookups --sizes {mb} --lookups 0` first")
    r = json.loads((case / "scale-case.json").read_text())
    r["index_mb"] = round(sum(p.stat().st_size for p in (case / "index").rglob("*") if p.is_file()) / 1e6, 1)
    sizes = work_sizes(case)
    works = list(range(1, 200, max(1, 199 // max(1, n_lookups))))[:n_lookups]
    ten = [w for w in sizes if 8000 <= sizes[w] <= 12500 and w < 200]
    works = sorted(set(works) | set(ten))
    out, wall, cpu, _ = run([sys.executable, "-c", RESIDENT, str(case), ",".join(map(str, works))], src)
    each = json.loads(out.splitlines()[-1])
    for e in each:
        e["bytes"] = sizes[e["work"]]

    def stats(rows: list[dict]) -> dict:
        ms = {k: [e[k] * 1e3 for e in rows] for k in ("wall_s", "cpu_s")}
        return {"n": len(rows), "wall_p50_ms": pct(ms["wall_s"], 0.5), "wall_p95_ms": pct(ms["wall_s"], 0.95),
                "cpu_p50_ms": pct(ms["cpu_s"], 0.5), "cpu_p95_ms": pct(ms["cpu_s"], 0.95)}

    resident = {"all": stats(each), "10kb": stats([e for e in each if e["work"] in ten]),
                "process_wall_s": round(wall, 2), "process_cpu_s": round(cpu, 2)}
    return {**r, "case": str(case), "resident": resident, "each": each}


def import_times(cmd: list[str], src: Path) -> dict[str, float]:
    """{top-level package: seconds its modules took to import (their own time)} of one process
    (`-X importtime`)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    err = subprocess.run([sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True, env=env).stderr
    out: dict[str, float] = {}
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        top = name.strip().split(".")[0]
        out[top] = out.get(top, 0) + int(own) / 1e6
    return out


def bench_startup(case: Path, n: int, src: Path, exe: list[str]) -> dict:
    version, lookup = exe + ["--version"], exe + ["match", str(case), "--work", "1", "--json", "--allow-empty"]
    run(lookup, src)  # bytecode cached, as on a user's machine
    runs: dict[str, list[tuple[float, float]]] = {"version": [], "lookup": []}
    for _ in range(n):
        for name, cmd in (("version", version), ("lookup", lookup)):
            _, s, cpu, _ = run(cmd, src)
            runs[name].append((s, cpu))
    r = {name: {"wall_p50_s": pct([x[0] for x in v], 0.5), "cpu_p50_s": pct([x[1] for x in v], 0.5)}
         for name, v in runs.items()}
    r["wall_ratio"] = round(r["lookup"]["wall_p50_s"] / r["version"]["wall_p50_s"], 2)
    r["cpu_ratio"] = round(r["lookup"]["cpu_p50_s"] / r["version"]["cpu_p50_s"], 2)
    base, more = import_times(version[1:], src), import_times(lookup[1:], src)
    r["imports_version_s"] = {k: round(v, 3) for k, v in sorted(base.items(), key=lambda x: -x[1]) if v >= 0.01}
    r["imports_lookup_s"] = {k: round(v, 3) for k, v in sorted(more.items(), key=lambda x: -x[1]) if v >= 0.01}
    return r


def evidence_digests(case: Path) -> dict:
    """sha256 of the report and of the stored evidence rows (in id order, without id and run id): equal digests
    are the same evidence, byte for byte."""
    import sqlite3

    db = sqlite3.connect(case / "store.sqlite")
    h = hashlib.sha256()
    cols = [c[1] for c in db.execute("PRAGMA table_info(evidence)") if c[1] not in ("id", "run_id")]
    for row in db.execute(f"SELECT {', '.join(cols)} FROM evidence ORDER BY id"):
        h.update(repr(row).encode() + b"\n")
    db.close()
    return {"report_sha256": hashlib.sha256((case / "reports" / "evidence.json").read_bytes()).hexdigest(),
            "stored_rows_sha256": h.hexdigest()}


def bench_match(mb: int, n_works: int, src: Path, exe: list[str], cold: bool = False, show: bool = True) -> dict:
    # 200 works are the lookups' case (same works): its index is reused
    case = WORK / (f"scale-{mb}" if n_works == 200 else f"scale-{mb}-w{n_works}") / "case"
    r = make_case(mb, n_works, src, exe, case)
    if cold:  # the CMI scans of the matched documents not cached yet, as in a case's first match
        for cache in (case / "index").glob("*/cache"):
            shutil.rmtree(cache)
    out, s, cpu, peak = run(exe + ["match", str(case), "--json"], src)
    rows = json.loads(out)["evidence"]
    r.update(match_seconds=round(s, 2), match_cpu_seconds=round(cpu, 2), match_peak_mb=round(peak),
             evidence=rows, evidence_rows_per_s=round(rows / s, 1), cmi_cache="cold" if cold else "as left",
             cpu_seconds_per_work=round(cpu / n_works, 4), **evidence_digests(case))
    if not show:
        return r
    _, s, cpu, peak = run(exe + ["show", str(case), "--json"], src)
    r["show"] = {"seconds": round(s, 2), "peak_mb": round(peak)}
    with tempfile.TemporaryDirectory() as tmp:
        _, s, cpu, peak = run(exe + ["show", str(case), "--csv", str(Path(tmp) / "evidence.csv")], src)
    r["show_csv"] = {"seconds": round(s, 2), "peak_mb": round(peak)}
    return r


def bench_infinigram(mb: int, src: Path) -> dict:
    corpus, _ = corpus_of(mb)
    works = WORK / f"scale-{mb}" / "works"
    if not works.exists():
        raise SystemExit(f"{works} is missing: run `scale.py lookups --sizes {mb}` first (same works)")
    base = WORK / f"infinigram-{mb}"
    built = base / "built.json"  # the index is kept and reused, like the lookups' case
    if built.exists():
        r = json.loads(built.read_text())
    else:
        shutil.rmtree(base, ignore_errors=True)
        (base / "data").mkdir(parents=True)
        os.link(corpus, base / "data" / "corpus.jsonl")
        _, s, cpu, peak = run([sys.executable, "-m", "infini_gram.indexing_v6", "--data_dir", str(base / "data"),
                               "--save_dir", str(base / "index"), "--temp_dir", str(base / "tmp"), "--token_dtype",
                               "u8", "--cpus", "1", "--mem", "8", "--ulimit", "1024"], src)
        shutil.rmtree(base / "data")
        r = {"mb": mb, "index_seconds": round(s, 1), "index_cpu_seconds": round(cpu, 1),
             "index_peak_mb": round(peak),
             "index_mb": round(sum(p.stat().st_size for p in (base / "index").rglob("*") if p.is_file()) / 1e6)}
        built.write_text(json.dumps(r))
    out, s, cpu, peak = run([sys.executable, str(HERE / "infinigram_peer.py"), str(base / "index"), str(works),
                             "--each"], src)
    q = json.loads(out)
    ms = [t * 1e3 for t in q["each_seconds"]]
    r.update(queries=q["queries"], query_p50_ms=pct(ms, 0.5), query_p95_ms=pct(ms, 0.95),
             process_seconds=round(s, 2), process_cpu_seconds=round(cpu, 2), process_peak_mb=round(peak),
             found=sum(q["found"]))
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["lookups", "match", "infinigram", "resident", "startup"])
    ap.add_argument("--case", type=Path, help="startup: the case to look a work up in")
    ap.add_argument("--sizes", default="50,200,413", help="lookups: corpus sizes in MB, comma-separated")
    ap.add_argument("--lookups", type=int, default=100, help="single-work lookups per size")
    ap.add_argument("--size", type=int, default=413, help="match: the corpus size in MB")
    ap.add_argument("--works", type=int, default=1000, help="match: the number of works")
    ap.add_argument("--src", type=Path, default=HERE.parent / "src", help="the code to run (a src folder)")
    ap.add_argument("--label", default="after")
    ap.add_argument("--case-dir", default=None, help="resident: the case's folder under benchmarks/.work")
    ap.add_argument("--cold", action="store_true", help="match: remove the CMI scan cache first (a first match)")
    ap.add_argument("--no-show", action="store_true", help="match: leave out `show` and `show --csv`")
    a = ap.parse_args()
    exe = [sys.executable, "-m", "ascertain"]
    results = []
    if a.what == "lookups":
        for mb in (int(s) for s in a.sizes.split(",")):
            results.append(bench_lookups(mb, a.lookups, a.src.resolve(), exe))
            print(json.dumps(results[-1]), flush=True)
    elif a.what == "resident":
        for mb in (int(s) for s in a.sizes.split(",")):
            results.append(bench_resident(mb, a.lookups, a.src.resolve(), a.case_dir))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "each"}), flush=True)
    elif a.what == "startup":
        results.append(bench_startup(a.case.resolve(), a.lookups, a.src.resolve(), exe))
        print(json.dumps(results[-1]), flush=True)
    elif a.what == "infinigram":
        for mb in (int(s) for s in a.sizes.split(",")):
            results.append(bench_infinigram(mb, a.src.resolve()))
            print(json.dumps(results[-1]), flush=True)
    else:
        results.append(bench_match(a.size, a.works, a.src.resolve(), exe, a.cold, not a.no_show))
        print(json.dumps(results[-1]), flush=True)
    WORK.mkdir(exist_ok=True)
    (WORK / f"scale-{a.what}-{a.label}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
