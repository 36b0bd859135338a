"""`corpus add` and `match` on a real two-node Ray cluster on this machine vs the local engine.

    nice python3 benchmarks/ray_cluster.py [--mb 200] [--works 200] [--nodes 2] [--cpus 1] [--store-mb 500]
                                           [--configs local,cluster]

The cluster (src/ascertain/engine/local_cluster.py): a head and `--nodes - 1` worker nodes, each its own
`ray start --block` with `--cpus` CPUs, a `--store-mb` object store and its own temporary folder, sharing only
the filesystem (the case folder), token authentication on; started before the runs (its start is reported
apart, as a standing cluster's would not count) and stopped after. For each configuration: a fresh case, `corpus
add` of the benchmark corpus (benchmarks/corpus.py, real text; one JSONL file, read as line ranges by the
cluster's tasks), `works import` of `--works` works (benchmarks/scale.py), `match`. Wall time of each command;
CPU seconds of the driver's process tree and, for the cluster, of the nodes' process trees over the command;
peak RSS of both (sampled every 0.1 s: a Ray worker's CPU is its last sample before it exits). Where the time
goes: the add's `stages` (calls, task wall and CPU seconds and nodes per stage function; the shard tasks'
parts). Then the check: every index file, reports/evidence.json and the stored evidence must equal the local
engine's, byte for byte. Writes benchmarks/.work/ray-cluster.json.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(SRC))
from ascertain.engine.local_cluster import LocalCluster  # noqa: E402
from ray_engine import digest_files, stored_evidence  # noqa: E402
from scale import WORK, corpus_of, make_works  # noqa: E402


def cpu_by_pid(procs: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds of each process of the trees under procs (finished children reaped by them included). Ray's
    workers exit when the job ends: sampled while they run, their last sample is what they used."""
    out: dict[int, float] = {}
    for root in procs:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for q in members:
            try:
                t = q.cpu_times()
                out[q.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
    return out


def tree_rss(procs: list[psutil.Process]) -> int:
    total = 0
    for root in procs:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for q in members:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += q.memory_info().rss
    return total


def measured(cmd: list[str], env: dict[str, str], nodes: list[psutil.Process]) -> dict:
    """One command: wall s; CPU s of its own process (the driver), of its tree, and of the nodes over it; peak
    RSS MB of its tree plus the nodes'."""
    nodes_cpu0 = cpu_by_pid(nodes)
    nodes_cpu = dict(nodes_cpu0)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(p.pid)
    cpu: dict[int, float] = {}
    driver = 0.0
    peak = 0
    while p.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = tree_rss(nodes)
        nodes_cpu.update(cpu_by_pid(nodes))
        for q in procs:
            try:
                t = q.cpu_times()
                cpu[q.pid] = t.user + t.system + t.children_user + t.children_system
                if q.pid == root.pid:
                    driver = t.user + t.system
                rss += q.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, rss)
        time.sleep(0.1)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-3000:]}")
    text = out.decode()
    return {"wall_s": round(wall, 2), "driver_cpu_s": round(driver, 2), "cpu_s": round(sum(cpu.values()), 2),
            "nodes_cpu_s": round(sum(c - nodes_cpu0.get(q, 0.0) for q, c in nodes_cpu.items()), 2),
            "peak_rss_mb": round(peak / 2**20),
            "json": json.loads(text[text.find("{"):])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--works", type=int, default=200)
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--store-mb", type=int, default=500)
    ap.add_argument("--configs", default="local,cluster")
    a = ap.parse_args()
    corpus, holdout = corpus_of(a.mb)
    base = WORK / f"ray-cluster-{a.mb}"
    csv = make_works(corpus, holdout, a.works, base / "works")
    exe = [sys.executable, "-m", "ascertain"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("RAY_ADDRESS", None)
    root = Path(tempfile.mkdtemp(prefix="asc-ray-", dir="/tmp"))
    cluster = LocalCluster(root, nodes=a.nodes, cpus=a.cpus, object_store_mb=a.store_mb, pythonpath=str(SRC))
    results = []
    try:
        t0 = time.perf_counter()
        cluster.start()
        started = round(time.perf_counter() - t0, 1)
        nodes = [psutil.Process(p.pid) for p in cluster.procs]
        for name in a.configs.split(","):
            case = base / name
            shutil.rmtree(case, ignore_errors=True)
            options, run_env = ([], env) if name == "local" else (
                ["--engine", "ray", "--ray-address", cluster.address], {**cluster.env(), "PYTHONPATH": str(SRC)})
            subprocess.run(exe + ["init", str(case)], env=env, check=True, capture_output=True)
            add = measured(exe + ["corpus", "add", str(case), "pile", str(corpus), "--json", *options], run_env,
                           nodes)
            subprocess.run(exe + ["works", "import", str(case), str(csv)], env=env, check=True, capture_output=True)
            match = measured(exe + ["match", str(case), "--json", *options], run_env, nodes)
            summary = add.pop("json")
            r = {"config": name, "nodes": 1 if name == "local" else a.nodes,
                 "cpus_per_node": 1 if name == "local" else a.cpus, "corpus_mb": round(corpus.stat().st_size / 1e6, 1),
                 "works": a.works, "documents": summary["documents"], "shards": summary["shards"],
                 "stages": summary.get("stages"), "add": add, "evidence": match.pop("json")["evidence"],
                 "match": match, "index_sha": digest_files(case / "index" / "pile"),
                 "report_sha": hashlib.sha256((case / "reports" / "evidence.json").read_bytes()).hexdigest(),
                 "stored_sha": stored_evidence(case), "load_average": os.getloadavg()}
            results.append(r)
            print(json.dumps(r), flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    ref = results[0]
    for r in results:
        r["cluster_start_s"] = started
        r["add_speedup"] = round(ref["add"]["wall_s"] / r["add"]["wall_s"], 2)
        r["match_speedup"] = round(ref["match"]["wall_s"] / r["match"]["wall_s"], 2)
        r["identical"] = all(r[k] == ref[k] for k in ("index_sha", "report_sha", "stored_sha"))
    print(f"cluster of {a.nodes} nodes x {a.cpus} CPU started in {started} s")
    print(f"{'config':8} {'add wall':>8} {'driver':>7} {'CPU':>6} {'nodes':>6} {'RSS':>6} {'speed-up':>8} "
          f"{'match wall':>10} {'CPU':>6} {'nodes':>6} {'speed-up':>8} identical")
    for r in results:
        ad, m = r["add"], r["match"]
        print(f"{r['config']:8} {ad['wall_s']:8.1f} {ad['driver_cpu_s']:7.1f} {ad['cpu_s']:6.1f} "
              f"{ad['nodes_cpu_s']:6.1f} {ad['peak_rss_mb']:6d} {r['add_speedup']:8.2f} {m['wall_s']:10.1f} "
              f"{m['cpu_s']:6.1f} {m['nodes_cpu_s']:6.1f} {r['match_speedup']:8.2f} {r['identical']}")
        for stage, v in (r["stages"] or {}).items():
            print(f"    {stage}: {v}")
    WORK.mkdir(exist_ok=True)
    (WORK / "ray-cluster.json").write_text(json.dumps(results, indent=1) + "\n")
    if not all(r["identical"] for r in results):
        raise SystemExit("outputs differ between the local engine and the cluster")


if __name__ == "__main__":
    main()
