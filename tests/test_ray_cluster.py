"""A real two-node Ray cluster on this machine (engine/local_cluster.py: a head and a worker node, each started
by `ray start` with its own CPU, object store and temporary folder, token authentication on): `ascertain corpus
add --engine ray --ray-address HEAD` and `match` on it write the same index files, report and stored evidence as
the local engine, and the tasks ran on both nodes. The nodes are stopped even when a test fails. In CI
(CI_REQUIRE_RAY=1, .ci/run) a missing Ray fails instead of skipping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from ascertain.case import Case
from ascertain.works import import_manifest

SRC = str(Path(__file__).resolve().parents[1] / "src")

# The CLI with small shards, units and partitions, so that the small corpus makes several tasks of each stage
RUN = """
import sys
from ascertain.index import input_units, partitions, shards
import ascertain.sources
partitions.PARTITION_ROWS = 5_000
input_units.UNIT_BYTES = 16 << 10
ascertain.sources.IndexWriter = lambda *a, **k: shards.IndexWriter(*a, **{**k, "batch_bytes": 16 << 10,
                                                                          "shard_bytes": 64 << 10})
from ascertain.cli import app
sys.argv = ["ascertain", *sys.argv[1:]]
app()
"""


def _cli(args: list[str], env: dict[str, str]) -> str:
    r = subprocess.run([sys.executable, "-c", RUN, *args], env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout[r.stdout.find("{"):]  # the JSON, after match's progress line


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory, data) -> dict:
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(data / "corpus", corpus / "demo")
    shutil.copytree(Path(sysconfig.get_paths()["stdlib"]) / "email", corpus / "email",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # the same files again as JSONL records (cut into line ranges; identical copies of the files above)
    with open(corpus / "records.jsonl", "w") as fh:
        for f in sorted((corpus / "email").rglob("*.py")):
            fh.write(json.dumps({"text": f.read_text(), "path": f.name}) + "\n")
    local_env = {**os.environ, "PYTHONPATH": SRC}
    local_env.pop("RAY_ADDRESS", None)
    out = {}
    for name, options, env in (("local", [], local_env),
                               ("cluster", ["--engine", "ray", "--ray-address", cluster.address], cluster.env())):
        case = Case.init(tmp_path_factory.mktemp("case") / name)
        import_manifest(case, str(data / "works.csv"))
        t0 = time.perf_counter()
        add = json.loads(_cli(["corpus", "add", str(case.root), "corpus", str(corpus), "--json", *options], env))
        t1 = time.perf_counter()
        match = json.loads(_cli(["match", str(case.root), "--json", *options], env))
        print(f"{name}: corpus add {t1 - t0:.1f} s, match {time.perf_counter() - t1:.1f} s")
        out[name] = {"case": case.root, "add": add, "match": match}
    out["corpus"] = corpus
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "cache" not in p.relative_to(folder).parts}


def _stored(case: Path) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(case / "store.sqlite") as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(evidence)") if r[1] not in ("id", "run_id")]
        return db.execute(f"SELECT {', '.join(cols)} FROM evidence ORDER BY id").fetchall()


def test_two_node_cluster_gives_the_local_engines_bytes(runs):
    local, cluster = runs["local"], runs["cluster"]
    index = _files(local["case"] / "index" / "corpus")
    assert sum(n.startswith("docs-") for n in index) >= 4 and sum(n.startswith("lk-fp-") for n in index) >= 2
    assert _files(cluster["case"] / "index" / "corpus") == index
    assert not (cluster["case"] / "index" / "corpus" / ".spill").exists()  # the shards' spills were removed
    report = (local["case"] / "reports" / "evidence.json").read_bytes()
    assert b'"copied"' in report
    assert (cluster["case"] / "reports" / "evidence.json").read_bytes() == report
    assert _stored(cluster["case"]) == _stored(local["case"]) and _stored(local["case"])


def test_tasks_ran_on_both_nodes(runs):
    """The inputs were read and the shards written by tasks, and some stage ran on each of the two nodes."""
    stages = runs["cluster"]["add"]["stages"]
    assert stages["read_unit"]["calls"] >= 4 and stages["write_shard"]["calls"] >= 4
    assert stages["count_lines"]["calls"] >= 4  # records.jsonl was cut into line ranges
    assert max(s["nodes"] for k, s in stages.items() if k != "write_shard parts") == 2
    assert set(stages["write_shard parts"]) >= {"fingerprint", "write", "spill"}
    assert runs["local"]["add"]["stages"].get("read_unit") is None  # one process reads as it goes


def test_a_worker_node_has_its_own_temporary_folder(cluster):
    """What a node keeps in its temporary folder (its object store's spills, its logs) is not the head's: on
    separate machines a task sees none of the driver's temporary files, so everything a task reads comes from
    its arguments, the object store or the case folder (the paths a task is given: test_ray_read_tasks.py)."""
    code = """
import json, os, ray
ray.init(address=os.environ["ADDR"], log_to_driver=False)
@ray.remote(num_cpus=1)
def where():
    import ray
    return ray.get_runtime_context().get_node_id(), ray._private.worker.global_worker.node.get_session_dir_path()
print(json.dumps([ray.get(where.options(resources={f"node{i}": 1}).remote()) for i in (0, 1)]))
"""
    r = subprocess.run([sys.executable, "-c", code], env={**cluster.env(), "ADDR": cluster.address},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    (node0, dir0), (node1, dir1) = json.loads(r.stdout.strip().splitlines()[-1])
    assert node0 != node1
    assert Path(dir0).is_relative_to(cluster.node_dir(0)) and Path(dir1).is_relative_to(cluster.node_dir(1))


def test_a_worker_node_failing_mid_run_changes_no_byte(cluster, runs, tmp_path):
    """The worker node is killed (every process of it) once the first shard is recorded; the run ends on the
    head alone, or fails and the same command resumes it; either way the index is the local engine's, byte for
    byte. (Last in this file: the cluster has one node left.)"""
    corpus = str(runs["corpus"])
    case = Case.init(tmp_path / "case")
    cmd = [sys.executable, "-c", RUN, "corpus", "add", str(case.root), "corpus", corpus, "--json", "--engine", "ray",
           "--ray-address", cluster.address]
    p = subprocess.Popen(cmd, env=cluster.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    manifest = case.root / "index" / "corpus" / "manifest.json"
    try:
        while p.poll() is None:
            try:
                if json.loads(manifest.read_text())["shards"]:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        killed_while_running = p.poll() is None
        cluster.kill_node(1)
        out, err = p.communicate(timeout=240)
    finally:
        if p.poll() is None:
            p.kill()
    assert killed_while_running
    if p.returncode:  # the driver saw the node's loss as a failure: the same command resumes
        _cli(cmd[3:], cluster.env())
    assert _files(case.root / "index" / "corpus") == _files(runs["local"]["case"] / "index" / "corpus")
