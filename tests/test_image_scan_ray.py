"""The exact code scan on a real two-node Ray cluster on this machine (engine/local_cluster.py: a head and a
worker node, each `ray start` with its own CPU, object store and temporary folder, token authentication on):
one Ray task per shard, the same hits in the same order as the local engine's. The nodes are
stopped even when the test fails. In CI (CI_REQUIRE_RAY=1) a missing Ray fails instead of skipping."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ascertain.imaging.code_scan import scan, write_table

SRC = str(Path(__file__).resolve().parents[1] / "src")

# the driver: joins the cluster, scans the table (one Ray task per shard), writes the hits and where they ran
DRIVER = """
import json, sys
import numpy as np
from ascertain.engine import make_executor
from ascertain.imaging.code_scan import CodeTable, scan
from ascertain.errors import AscertainError
table, queries, out, address, changed = sys.argv[1:]
ex = make_executor("ray", None, address)
try:
    hits = scan(CodeTable(table), np.load(queries), 31, ex, verify=True)
    times = ex.stage_times()
    from ascertain.imaging import code_scan
    code_scan.SHARE_BYTES = 0  # the queries put in the object store once, read by each task
    again = scan(CodeTable(table), np.load(queries), 31, ex)
    same = all(np.array_equal(getattr(again, k), getattr(hits, k)) for k in ("query", "id", "distance"))
    try:  # a changed shard is refused by its own task; the error reaches the driver as the project's error
        scan(CodeTable(changed), np.load(queries), 31, ex, verify=True)
        refused = None
    except AscertainError as e:
        refused = [e.what, e.problem]
    import ray
    alive = sum(1 for n in ray.nodes() if n["Alive"])
finally:
    ex.close()
np.savez(out, query=hits.query, id=hits.id, distance=hits.distance)
print(json.dumps({"stages": times, "nodes_alive": alive, "refused": refused, "shared_same": same}))
"""


def test_shards_on_a_two_node_cluster_give_the_local_hits(cluster, tmp_path):
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 256, (6000, 32), dtype=np.uint8)
    queries = stored[rng.choice(len(stored), 5, replace=False)].copy()
    for q in queries[:4]:  # planted neighbours at 3, 17 and 31 bits of four queries, one per shard or so
        for d in (3, 17, 31):
            bits = np.unpackbits(q)
            bits[rng.choice(256, d, replace=False)] ^= 1
            stored[rng.integers(len(stored))] = np.packbits(bits)
    table = write_table(tmp_path / "codes", stored, np.arange(len(stored)) * 3 + 10, shard_rows=1000)
    np.save(tmp_path / "q.npy", queries)
    changed = write_table(tmp_path / "changed", stored, shard_rows=1000)
    shard = changed.folder / "shard-00004.ids.npy"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1
    shard.write_bytes(bytes(data))
    local = scan(table, queries, 31)
    assert len(local) >= len(queries) + 12  # each query finds itself, and the planted neighbours

    r = subprocess.run([sys.executable, "-c", DRIVER, str(table.folder), str(tmp_path / "q.npy"),
                        str(tmp_path / "hits.npz"), cluster.address, str(changed.folder)], env=cluster.env(),
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    run = json.loads(r.stdout[r.stdout.find("{"):])
    assert run["nodes_alive"] == 2 and run["stages"]["scan_shard"]["calls"] == len(table.shards) == 6
    assert run["shared_same"]
    assert run["refused"][0].endswith("shard-00004") and run["refused"][1] == "changed since the table was written"
    # shards this small take a millisecond each, so Ray may run them all on the first node it started a worker
    # on; benchmarks/image_scale.py shows both nodes scanning shards of the full size
    ray_hits = np.load(tmp_path / "hits.npz")
    for k in ("query", "id", "distance"):
        assert np.array_equal(ray_hits[k], getattr(local, k)), k
