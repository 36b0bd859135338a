"""Images at scale: descriptors per core beside imagehash and perception, and the exact scan of 256-bit codes
at 10 million codes on every engine beside faiss, with the cost model for 5 billion.

    nice -n 10 python3 benchmarks/image_scale.py descriptors [--images 40]
    nice -n 10 python3 benchmarks/image_scale.py scan [--codes 10000000] [--shard-rows 1048576]
                                                      [--batches 1,16,256] [--configs kernel,numpy,faiss,pool,ray]
    python3 benchmarks/image_scale.py docs docs/benchmarks.md      (the section `image_scale` from the results)

descriptors: the same real images as benchmarks/images.py (scikit-image's photographs and a seeded sample of
  Debian's openclipart-png), decoded once; CPU seconds per image of the measuring process (per core, whatever
  else runs): ascertain's full descriptors and its index codes, pdqhash, imagehash's pHash and dHash, and
  perception's PHash, DHash and PDQHash. perception 0.9.3 pins opencv-contrib-python-headless < 5 (a second
  build of the `cv2` module the project pins at 5.0) and rich < 14, so it runs in its own virtual environment
  on the same decoded pixels (an .npz file):
      python3 -m venv benchmarks/.work/perception-venv
      benchmarks/.work/perception-venv/bin/pip install "perception[pdq]==0.9.3"
scan: `--codes` uniformly random 256-bit codes with, for each of max(--batches) queries, PLANTED stored
  neighbours at known distances 0..31 (0 and 31 among them), written as a code table (imaging/code_scan.py) of
  `--shard-rows` rows a shard; then each configuration in a fresh process, every batch of queries scanned at
  distance <= 31 and checked against the planted truth (recall must be 100 %; a random code within 31 bits of
  a query has a chance of ~1e-40, so any other hit would be an error):
      kernel  in one process, the C kernel (imaging/_hamming.c): CPU and wall ms per query per 10 M codes
      numpy   in one process, the NumPy path (no kernel)
      faiss   faiss-cpu IndexBinaryFlat (one thread), every code loaded in memory, range_search radius 32
              (distance < 32, i.e. <= 31): the peer doing the same exact job
      pool    the local engine's process pool of 2 (one task per shard)
      ray     a real two-node Ray cluster on this machine (engine/local_cluster.py, 1 CPU a node; its start
              is not counted), one task per shard
Writes benchmarks/.work/image_scale.json (each part updates its own keys).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from images import _status  # the process's memory figures, as the images benchmark reads them

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
OUT = HERE / ".work"
RESULTS = OUT / "image_scale.json"
TABLE = OUT / "image_scale_codes"
PERCEPTION_PY = OUT / "perception-venv" / "bin" / "python"
RADIUS = 31
PLANTED = 4  # stored neighbours per query


def _load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def _save(key: str, value: dict) -> None:
    r = _load()
    r[key] = value
    OUT.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(r, indent=1) + "\n")


def _machine() -> dict:
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


# -------------------------------------------------------------------------------------------------- descriptors

PERCEPTION_CHILD = """
import json, sys, time
import numpy as np
from importlib.metadata import version
from perception import hashers
data = np.load(sys.argv[1])
px = [data[k] for k in sorted(data.files)]
out = {}
for name, h in (("perception PHash", hashers.PHash()), ("perception DHash", hashers.DHash()),
                ("perception PDQHash", hashers.PDQHash())):
    h.compute(px[0], hash_format="vector")
    t = time.process_time()
    for p in px:
        h.compute(p, hash_format="vector")
    out[name] = (time.process_time() - t) / len(px)
import cv2
print(json.dumps({"seconds": out, "perception": version("perception"), "opencv": cv2.__version__}))
"""


def descriptors(n: int, perception_python: Path) -> dict:
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(SRC))
    import imagehash
    import numpy as np
    import pdqhash
    from PIL import Image

    from ascertain.imaging.descriptors import describe
    from ascertain.index.images import pixel_digest
    from images import cpu_per_image, images

    items = images(n)
    pil = [Image.fromarray(img.pixels) for _, img in items]
    px = [np.ascontiguousarray(img.pixels) for _, img in items]

    def index_codes(p: np.ndarray) -> None:  # what `corpus add` computes per image, after decoding
        pixel_digest(p)
        pdqhash.compute(p)

    from ascertain.imaging.decode import decode

    rows = {
        "ascertain decode (bounded, to RGB; not a descriptor)": cpu_per_image(
            lambda i: decode(items[i][0], f"image {i}"), range(len(items))),
        "ascertain describe (sha256, PDQ x 8 orientations, ORB 1,000)": cpu_per_image(lambda it: describe(it[1], it[0]),
                                                                                      items),
        "ascertain index codes (pixel sha256, PDQ)": cpu_per_image(index_codes, px),
        "pdqhash PDQ": cpu_per_image(pdqhash.compute, px),
        "pdqhash PDQ x 8 orientations": cpu_per_image(pdqhash.compute_dihedral, px),
        "imagehash pHash": cpu_per_image(imagehash.phash, pil),
        "imagehash dHash": cpu_per_image(imagehash.dhash, pil),
    }
    note = None
    if perception_python.exists():
        pixels = OUT / "image_scale_pixels.npz"
        np.savez(pixels, **{f"{i:05d}": p for i, p in enumerate(px)})
        r = subprocess.run([str(perception_python), "-c", PERCEPTION_CHILD, str(pixels)], capture_output=True,
                           text=True, check=True)
        child = json.loads(r.stdout.strip().splitlines()[-1])
        rows.update(child["seconds"])
        note = f"perception {child['perception']} in its own environment (OpenCV {child['opencv']})"
        pixels.unlink()
    else:
        note = f"perception not measured: {perception_python} missing (see this script's docstring)"
    from importlib.metadata import version

    return {**_machine(), "images": len(items), "median_longer_side": int(np.median([max(p.shape[:2]) for p in px])),
            "ms_per_image": {k: round(1000 * v, 2) for k, v in rows.items()},
            "per_second_per_core": {k: round(1 / v, 1) for k, v in rows.items()}, "note": note,
            "versions": {"imagehash": version("imagehash"), "pdqhash": version("pdqhash")}}


# -------------------------------------------------------------------------------------------------------- scan


def write_table(n: int, shard_rows: int, n_queries: int, folder: Path) -> dict:
    """Random codes with PLANTED neighbours of each query at known distances; the truth beside the table."""
    import numpy as np

    from ascertain.imaging.code_scan import TableWriter

    rng = np.random.default_rng(27)
    queries = rng.integers(0, 2**64, (n_queries, 4), dtype=np.uint64, endpoint=False)
    rows = rng.choice(n, n_queries * PLANTED, replace=False)
    dist = rng.integers(0, RADIUS + 1, n_queries * PLANTED)
    dist[0::PLANTED], dist[1::PLANTED] = 0, RADIUS  # the bounds, for every query
    planted = np.repeat(queries, PLANTED, axis=0)
    for i, d in enumerate(dist):
        for b in rng.choice(256, int(d), replace=False):
            planted[i, b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    order = np.argsort(rows)
    rows_sorted, planted_sorted = rows[order], planted[order]
    w = TableWriter(folder, shard_rows)
    t = time.perf_counter()
    chunk = 1 << 20
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        codes = rng.integers(0, 2**64, (m, 4), dtype=np.uint64, endpoint=False)
        lo, hi = np.searchsorted(rows_sorted, [start, start + m])
        codes[rows_sorted[lo:hi] - start] = planted_sorted[lo:hi]
        w.add(codes, np.arange(start, start + m))
    table = w.close()
    np.savez(folder.parent / "image_scale_truth.npz", queries=queries,
             query=np.repeat(np.arange(n_queries), PLANTED), id=rows, distance=dist)
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {"codes": n, "shards": len(table.shards), "shard_rows": shard_rows, "bytes_on_disk": size,
            "write_seconds": round(time.perf_counter() - t, 1)}


def _check(query, ids, distance, truth, batch: int) -> dict:
    """Recall of the planted neighbours of the batch's queries, and hits that are not planted ones."""
    want = {(int(q), int(i), int(d)) for q, i, d in zip(truth["query"], truth["id"], truth["distance"], strict=True)
            if q < batch}
    got = set(zip(query.tolist(), ids.tolist(), distance.tolist(), strict=True))
    return {"planted": len(want), "found": len(want & got), "other_hits": len(got - want),
            "recall": round(len(want & got) / len(want), 6) if want else 1.0}


def scan_child(config: str, batches: list[int], address: str | None) -> None:
    """One configuration, every batch, in this fresh process; prints JSON."""
    import numpy as np

    from ascertain.imaging import code_scan

    table = code_scan.CodeTable(TABLE)
    truth = np.load(OUT / "image_scale_truth.npz")
    out: dict = {"config": config, "before": _status(), "batches": []}
    if config == "numpy":
        code_scan._hamming = None
    if config == "faiss":
        import faiss

        faiss.omp_set_num_threads(1)
        t = time.perf_counter()
        index = faiss.IndexBinaryFlat(256)
        ids = []
        for s in table.shards:
            cols = np.load(TABLE / f"{s.name}.codes.npy", mmap_mode="r")
            for start in range(0, s.rows, 1 << 20):
                index.add(code_scan.to_bytes(np.ascontiguousarray(cols[:, start:start + (1 << 20)].T)))
            ids.append(np.load(TABLE / f"{s.name}.ids.npy"))
        id_of = np.concatenate(ids)
        out["load_seconds"] = round(time.perf_counter() - t, 1)
        out["loaded"] = _status()
    ex = None
    if config == "pool":
        from ascertain.engine import make_executor

        ex = make_executor("local", 2)
    elif config == "ray":
        import ray

        from ascertain.engine import make_executor

        ex = make_executor("ray", None, address)
        deadline = time.monotonic() + 90  # a node registers with the head a moment after its raylet starts
        while sum(1 for n in ray.nodes() if n["Alive"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        out["nodes_alive"] = sum(1 for n in ray.nodes() if n["Alive"])
    try:
        # one query first: imports and the workers' start are not a scan's cost (a standing process or cluster)
        if config == "faiss":
            index.range_search(code_scan.to_bytes(code_scan.to_words(truth["queries"][:1])), RADIUS + 1)
        else:
            code_scan.scan(table, code_scan.to_words(truth["queries"][:1]), RADIUS, ex)
        if ex is not None:
            ex.times.stages.clear()
        for b in batches:
            q = code_scan.to_words(truth["queries"][:b])
            t, c = time.perf_counter(), time.process_time()
            if config == "faiss":
                lims, dist, found = index.range_search(code_scan.to_bytes(q), RADIUS + 1)
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                query = np.repeat(np.arange(b), np.diff(lims).astype(np.int64))
                res = _check(query, id_of[found], dist, truth, b)
            else:
                hits = code_scan.scan(table, q, RADIUS, ex)
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                res = _check(hits.query, hits.id, hits.distance, truth, b)
            per = 10_000_000 / table.rows / b * 1000
            row = {"queries": b, "wall_ms_per_query_10m": round(wall * per, 2),
                   "cpu_ms_per_query_10m": round(cpu * per, 2), "wall_s": round(wall, 3), **res}
            if ex is not None:
                row["stages"] = ex.stage_times()
                ex.times.stages.clear()
            out["batches"].append(row)
    finally:
        if ex is not None:
            ex.close()
    out["after"] = _status()
    if config == "kernel":
        out["kernel_path"] = code_scan._hamming.PATH if code_scan._hamming is not None else None
        t, c = time.perf_counter(), time.process_time()
        table.verify()  # every shard's sha256, in this one process
        out["verify"] = {"cpu_s": round(time.process_time() - c, 2), "wall_s": round(time.perf_counter() - t, 2)}
    print(json.dumps(out))


def scan_bench(codes: int, shard_rows: int, batches: list[int], configs: list[str], keep: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("RAY_ADDRESS", None)
    OUT.mkdir(exist_ok=True)
    me = [sys.executable, __file__]
    result = {**_machine(), "radius": RADIUS, "planted_per_query": PLANTED, "runs": []}
    if not keep or not (TABLE / "table.json").exists():
        shutil.rmtree(TABLE, ignore_errors=True)
        r = subprocess.run(me + ["write-child", str(codes), str(shard_rows), str(max(batches))], env=env,
                           check=True, capture_output=True, text=True)
        result["table"] = json.loads(r.stdout.strip().splitlines()[-1])
    else:
        result["table"] = _load().get("scan", {}).get("table")
    for config in configs:
        bs = [b for b in batches if b <= 16] if config == "numpy" else batches
        args = me + ["scan-child", config, ",".join(map(str, bs))]
        if config == "ray":
            sys.path.insert(0, str(SRC))
            from ascertain.engine.local_cluster import LocalCluster

            root = Path(tempfile.mkdtemp(prefix="asc-ray-", dir="/tmp"))
            cluster = LocalCluster(root, nodes=2, cpus=1, object_store_mb=300, pythonpath=str(SRC))
            try:
                cluster.start()
                r = subprocess.run(args + ["--address", cluster.address], env=cluster.env(), capture_output=True,
                                   text=True)
            finally:
                cluster.stop()
                shutil.rmtree(root, ignore_errors=True)
        else:
            r = subprocess.run(args, env=env, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"{config} failed:\n{r.stderr[-3000:]}")
        run = json.loads(r.stdout.strip().splitlines()[-1])
        print(json.dumps(run), flush=True)
        result["runs"].append(run)
    result["cost_model"] = cost_model(result)
    return result


def cost_model(r: dict) -> dict:
    """5 billion codes (LAION-5B-sized) on a cluster, from the kernel's measured CPU rate at the largest batch."""
    kernel = next((x for x in r["runs"] if x["config"] == "kernel"), None)
    if kernel is None:
        return {}
    big = max(kernel["batches"], key=lambda b: b["queries"])
    ns = big["cpu_ms_per_query_10m"] * 1e6 / 10_000_000  # per code per query, one core
    n, shard_rows = 5_000_000_000, 1 << 22
    core_s = ns * n / 1e9
    nodes, cores, ram_gb = 20, 32, 16  # an assumed cluster: 20 nodes of 32 cores, 16 GB of page cache for codes
    codes_gb, ids_gb = n * 32 / 1e9, n * 8 / 1e9
    per_node_gb = codes_gb / nodes
    bandwidth_gbs = 10  # assumed per node, streaming the codes from page cache (a conservative DRAM figure)
    pass_s_memory = per_node_gb / bandwidth_gbs  # one pass over the node's codes, whatever the batch
    batch = big["queries"]
    pass_s_cpu = batch * core_s / (nodes * cores)
    pass_s = max(pass_s_memory, pass_s_cpu)
    v = kernel.get("verify")
    verify_core_s = v["cpu_s"] / r["table"]["bytes_on_disk"] * n * 40 if v else None
    return {"codes": n, "ns_per_code_per_query": round(ns, 3), "batch": batch,
            "verify_core_minutes": round(verify_core_s / 60, 1) if v else None,
            "core_seconds_per_query": round(core_s, 2), "codes_gb": round(codes_gb), "ids_gb": round(ids_gb),
            "shards": -(-n // shard_rows), "shard_rows": shard_rows, "shard_codes_mb": shard_rows * 32 // 2**20,
            "nodes": nodes, "cores_per_node": cores, "codes_gb_per_node": round(per_node_gb, 1),
            "ram_gb_per_node_resident": round((codes_gb + ids_gb) / nodes, 1), "assumed_ram_gb": ram_gb,
            "bandwidth_gb_s_per_node": bandwidth_gbs, "pass_seconds_memory": round(pass_s_memory, 2),
            "pass_seconds_cpu": round(pass_s_cpu, 2), "queries_per_second": round(batch / pass_s, 1),
            "case_1000_works_x_30_variants_minutes": round(30_000 / (batch / pass_s) / 60, 1)}


# -------------------------------------------------------------------------------------------------------- docs


def _index_cost(d: dict, m: dict) -> str:
    ms = d["ms_per_image"]["ascertain decode (bounded, to RGB; not a descriptor)"] + \
        d["ms_per_image"]["ascertain index codes (pixel sha256, PDQ)"]
    core_h = ms / 1000 * m["codes"] / 3600
    cores = m["nodes"] * m["cores_per_node"]
    return (f"Indexing, once per corpus: decoding and the index codes take {ms:.1f} ms of CPU "
            f"an image here (median {d['median_longer_side']} px; larger photographs are decoded at a reduced "
            f"scale, imaging/decode.py), so {m['codes']:,} images take about {core_h:,.0f} core-hours to index "
            f"({core_h / cores:,.1f} hours on the {cores:,} cores assumed above; reading the images from storage "
            "not counted); every case after that only scans the codes.")


def per_query(s: dict, queries: int) -> float:
    """Seconds of a batch -> seconds per query per 10 M codes."""
    return 10_000_000 / s["table"]["codes"] / queries


def markdown(r: dict) -> str:
    lines: list[str] = []
    d = r.get("descriptors")
    if d:
        lines += [f"Command: `nice -n 10 python3 benchmarks/image_scale.py descriptors --images {d['args_images']}` "
                  f"({d['machine']}, {d['date']}, load average {d['load_average'][0]}; CPU time of the measuring "
                  "process: per core, whatever else runs).", "",
                  f"{d['images']} real images (scikit-image photographs and openclipart-png clip art, median "
                  f"longer side {d['median_longer_side']} px), decoded once; each descriptor on the same pixels. "
                  f"{d['note']}; imagehash {d['versions']['imagehash']}, pdqhash {d['versions']['pdqhash']}.", "",
                  "| descriptor | images per second per core | ms per image |", "|---|---:|---:|"]
        for k, v in d["per_second_per_core"].items():
            lines.append(f"| {k} | {v:,} | {d['ms_per_image'][k]} |")
        lines += ["", "`corpus add` decodes each image and computes its index codes (the first and third rows); "
                  "`describe` (PDQ in 8 orientations and 1,000 ORB features) runs only for works and the candidates a "
                  "match verifies. "
                  "perception's PDQHash wraps the same pdqhash binding; its PHash and DHash are its own "
                  "implementations of the algorithms imagehash implements.", ""]
    s = r.get("scan")
    if s:
        from math import comb

        t = s["table"]
        chance = sum(comb(256, k) for k in range(s["radius"] + 1)) / 2**256
        pairs = t["codes"] * max(b["queries"] for run in s["runs"] for b in run["batches"])
        lines += [f"Command: `nice -n 10 python3 benchmarks/image_scale.py scan --codes {t['codes']} --shard-rows "
                  f"{t['shard_rows']} --batches {s['args_batches']} --configs {s['args_configs']}` ({s['machine']}, "
                  f"{s['date']}, load average {s['load_average'][0]} at the start: the machine is shared by other "
                  "jobs, so CPU ms are the figures to compare and wall ms depend on the load).", "",
                  f"{t['codes']:,} random 256-bit codes in {t['shards']} shards of {t['shard_rows']:,} rows "
                  f"({t['bytes_on_disk'] / 1e6:,.0f} MB on disk: 32 bytes of code and 8 of id a row), with "
                  f"{s['planted_per_query']} planted neighbours per query at distances 0 to {s['radius']}; every "
                  f"batch scanned at distance ≤ {s['radius']} (the candidate stage uses 40, the decision 31). "
                  "Recall = planted neighbours found; other hits would be errors (a random code lies within 31 bits "
                  f"of a query with a chance of {chance:.0e}, {chance * pairs:.0e} "
                  "over every pair of the largest batch).", "",
                  "| configuration | queries a batch | CPU ms per query per 10 M codes | wall ms per query per 10 M "
                  "codes | recall | other hits |", "|---|---:|---:|---:|---:|---:|"]
        names = {"kernel": "C kernel, one process", "numpy": "NumPy path, one process",
                 "faiss": "faiss IndexBinaryFlat range_search, one thread, codes in memory",
                 "pool": "local engine, process pool of 2, a task per shard",
                 "ray": "Ray, two-node cluster (1 CPU a node), a task per shard"}
        for run in s["runs"]:
            for b in run["batches"]:
                cpu = b["cpu_ms_per_query_10m"]
                if "stages" in b:  # the shard tasks' own CPU, in the workers (the driver only waits)
                    cpu = f"{b['stages']['scan_shard']['cpu_seconds'] * 1000 * per_query(s, b['queries']):.2f} (tasks)"
                lines.append(f"| {names[run['config']]} | {b['queries']} | {cpu} | {b['wall_ms_per_query_10m']} | "
                             f"{b['found']}/{b['planted']} | {b['other_hits']} |")
        k = next((x for x in s["runs"] if x["config"] == "kernel"), None)
        f = next((x for x in s["runs"] if x["config"] == "faiss"), None)
        ray = next((x for x in s["runs"] if x["config"] == "ray"), None)
        if k:
            lines += ["", f"Memory of the scanning process (C kernel, path: {k.get('kernel_path')}): its own "
                         f"(anonymous) memory {k['before']['RssAnon']} MB before the scans and {k['after']['RssAnon']}"
                         " MB after them, whatever the table's size: a shard is memory-mapped and read a block of "
                         "65,536 rows at a time (2 MB of codes) with a hit buffer of 65,536 rows (0.9 MB); the "
                         "mapped pages of the shard being scanned are file-backed and reclaimable (peak RSS, both "
                         f"kinds: {k['after']['VmHWM']} MB for {t['bytes_on_disk'] / 1e6:,.0f} MB of table). "
                         "Memory per shard task is therefore bounded by the block, not by the shard or the table."]
        if f:
            lines += ["", f"faiss holds every code in memory: {f['loaded']['RssAnon'] - f['before']['RssAnon']:,.0f} "
                         f"MB more anonymous memory for {t['codes']:,} codes (their {t['codes'] * 32 / 1e6:,.0f} MB, "
                         f"and the {t['codes'] * 8 / 1e6:,.0f} MB of ids that name its hits; loaded in "
                         f"{f['load_seconds']} s). A single query pays the fixed cost of a pass (mapping the "
                         "shards, streaming 320 MB from memory); batching a case's queries (its works' variants) "
                         "shares one pass among them, which is what the scan does."]
        if ray:
            stages = [b.get("stages", {}).get("scan_shard", {}) for b in ray["batches"]]
            used = max((x.get("nodes", 0) for x in stages), default=0)
            lines += ["", f"On Ray the cluster had {ray.get('nodes_alive')} nodes; shard tasks ran on {used} of them "
                         f"(largest batch: {stages[-1].get('calls')} tasks, {stages[-1].get('cpu_seconds')} CPU s in "
                         "the tasks). The hits of every configuration are the planted ones, on every engine."]
        rep = r.get("repeat")
        if rep:
            short = {"kernel": "one process", "numpy": "NumPy", "faiss": "faiss", "pool": "process pool of 2",
                     "ray": "Ray on 2 nodes"}
            walls = ", ".join(f"{short[x['config']]} {x['batches'][0]['wall_ms_per_query_10m']}" for x in rep["runs"])
            lines += ["", f"The same batch of {rep['runs'][0]['batches'][0]['queries']} queries again, later (`--keep-"
                         f"table --batches {rep['args_batches']} --configs {rep['args_configs']} --save-as repeat`, "
                         f"load average {rep['load_average'][0]}), wall ms per query per 10 M codes: {walls}. On this "
                         "2-core machine shared with other jobs (this benchmark at nice 10) the wall time measures the "
                         "share of the CPUs the scan was given more than the engine, so the engines' wall speed-ups "
                         "here are not a measure of scaling; what is measured is that the shard tasks' CPU equals the "
                         "single process's (no engine overhead per code), that both Ray nodes ran shards, and that "
                         "every engine returns the same hits. A shard is an independent task, so on idle cores the "
                         "wall time is expected to divide by the number of cores up to the number of shards."]
        m = s.get("cost_model")
        if m:
            lines += ["", f"Cost model for {m['codes']:,} codes (LAION-5B-sized), exact, from the C kernel's "
                      f"measured {m['ns_per_code_per_query']} ns per code per query on one core (batches of "
                      f"{m['batch']}): **{m['core_seconds_per_query']} core-seconds per query**. Storage: "
                      f"{m['codes_gb']} GB of codes + {m['ids_gb']} GB of ids in {m['shards']:,} shards of "
                      f"{m['shard_rows']:,} rows ({m['shard_codes_mb']} MB of codes each; a task scans one, in a "
                      "few MB of its own memory). Assumed cluster: "
                      f"{m['nodes']} nodes of {m['cores_per_node']} cores, each node's {m['codes_gb_per_node']} GB of "
                      f"codes kept in its page cache ({m['ram_gb_per_node_resident']} GB a node with the ids, which "
                      "are read only for hits), streamed at an assumed "
                      f"{m['bandwidth_gb_s_per_node']} GB/s a node: one pass over the codes takes "
                      f"{m['pass_seconds_memory']} s of memory traffic and {m['pass_seconds_cpu']} s of compute for "
                      f"a batch of {m['batch']} queries, so about **{m['queries_per_second']:,} queries per second** "
                      f"for the cluster; a case of 1,000 works × 30 query variants (30,000 queries) takes about "
                      f"{m['case_1000_works_x_30_variants_minutes']} minutes. Larger batches move the bound from "
                      "memory to compute (the kernel scans every query against a 2,048-row tile while it is in "
                      "cache); fewer nodes hold the codes on disk and stream them (a shard is read once a batch). "
                      "Approximate indexes (LSH, IVF, HNSW) would be faster and lose recall, which evidence cannot.",
                      *([] if not d or "ascertain decode (bounded, to RGB; not a descriptor)" not in d["ms_per_image"]
                        else ["", _index_cost(d, m)]),
                      *([] if not m.get("verify_core_minutes") else [
                          "", "Checking the shards: the sha256 of every shard of the "
                          f"{t['bytes_on_disk'] / 1e6:,.0f} MB table took {k['verify']['cpu_s']} s of CPU here, "
                          f"so about {m['verify_core_minutes']} core-minutes for the "
                          f"{m['codes_gb'] + m['ids_gb']} GB of {m['codes']:,} codes. "
                          "`CodeTable.verify` does it in the driver, serially, before every scan (match/images.py "
                          "does so today); `scan(..., verify=True)` checks each shard in the task that scans it, "
                          "in parallel over the cluster, and refuses a changed shard the same way (tested on the "
                          "two-node cluster)."]),
                      "", "Where it runs: `corpus add` writes each image source's codes as such a sharded table "
                      "(index/images.py, `codes/`; `features/` with --local-features), and `match` scans it for every "
                      "work's query variants at once, one engine task per shard (match/images.py; `--engine ray` "
                      "runs the shards over the cluster); `index.images.code_table` opens a source's table checked "
                      "against its manifest. The C kernel (imaging/_hamming.c) is built with the package; without "
                      "it the NumPy path runs (the rows above). The 42.8 ms per query of the `images` section is "
                      "that NumPy path, measured before the kernel."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["descriptors", "scan", "docs", "write-child", "scan-child"])
    ap.add_argument("rest", nargs="*")
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--perception-python", default=str(PERCEPTION_PY))
    ap.add_argument("--codes", type=int, default=10_000_000)
    ap.add_argument("--shard-rows", type=int, default=1 << 20)
    ap.add_argument("--batches", default="1,16,256")
    ap.add_argument("--configs", default="kernel,numpy,faiss,pool,ray")
    ap.add_argument("--keep-table", action="store_true", help="reuse the table of an earlier run")
    ap.add_argument("--address")
    ap.add_argument("--save-as", default="scan", help="the results' key (another run beside the documented one)")
    a = ap.parse_args()
    if a.part == "write-child":
        print(json.dumps(write_table(int(a.rest[0]), int(a.rest[1]), int(a.rest[2]), TABLE)))
    elif a.part == "scan-child":
        scan_child(a.rest[0], [int(x) for x in a.rest[1].split(",")], a.address)
    elif a.part == "descriptors":
        d = descriptors(a.images, Path(a.perception_python))
        d["args_images"] = a.images
        _save("descriptors", d)
        print(json.dumps(d, indent=1))
    elif a.part == "scan":
        s = scan_bench(a.codes, a.shard_rows, [int(x) for x in a.batches.split(",")], a.configs.split(","),
                       a.keep_table)
        s["args_batches"], s["args_configs"] = a.batches, a.configs
        _save(a.save_as, s)
        print(json.dumps(s["cost_model"], indent=1))
    else:
        sys.path.insert(0, str(SRC))
        from ascertain.report.doc_sections import write_section

        md = markdown(_load())
        print(md)
        if a.rest:
            write_section(Path(a.rest[0]), "image_scale", "## Images at scale: descriptors per core, the exact code "
                          "scan at 10 million codes on every engine (issues 27, 28)\n\n" + md)


if __name__ == "__main__":
    main()
