"""Image descriptors per second per core beside the peers, and the exact code scan at 10 million codes.

    nice python3 benchmarks/images.py [--images 60] [--codes 10000000] [--queries 8] [--docs docs/benchmarks.md]

1. Descriptors: the same real images (scikit-image's photographs and a seeded sample of Debian's
   openclipart-png), decoded once; then per image, in this process: ascertain's full descriptors
   (`describe`: sha256, PDQ in 8 orientations, ORB features), PDQ alone (pdqhash), and the imagehash peer's
   pHash and dHash. CPU seconds of this process (time.process_time), so a loaded machine does not change them:
   images per CPU-second = per core.
2. Exact scan: `--codes` uniformly random 256-bit codes written as a code table (shards of 4,194,304 rows), then
   `--queries` queries scanned in a fresh process (imaging/code_scan.py: every code compared); CPU ms per query
   and the scanning process's peak RSS, against the table's size on disk (the shards are memory-mapped: what
   the process holds is its block buffers plus the pages the kernel maps in).
Writes benchmarks/.work/images.json and, with --docs, the section `images` of that file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
OUT = HERE / ".work"
SHARD_ROWS = 1 << 22


def images(n: int) -> list:
    from ascertain.imaging.decode import decode
    from ascertain.validation.images import source_files

    files = source_files("skimage") + random.Random(7).sample(source_files("openclipart"), n)
    out = []
    for p in files:
        try:
            data = p.read_bytes()
            out.append((data, decode(data, str(p))))
        except Exception:  # noqa: BLE001 (unreadable files are not timed)
            continue
    return out


def cpu_per_image(fn, items) -> float:
    t = time.process_time()
    for it in items:
        fn(it)
    return (time.process_time() - t) / len(items)


def descriptor_rates(n: int) -> dict:
    import imagehash
    import numpy as np
    import pdqhash
    from PIL import Image

    from ascertain.imaging.descriptors import describe

    items = images(n)
    pil = [Image.fromarray(img.pixels) for _, img in items]
    px = [np.ascontiguousarray(img.pixels) for _, img in items]
    rows = {
        "ascertain describe (sha256, PDQ x 8 orientations, ORB 1,000)": cpu_per_image(lambda it: describe(it[1], it[0]),
                                                                                      items),
        "PDQ (pdqhash.compute)": cpu_per_image(pdqhash.compute, px),
        "PDQ x 8 orientations (pdqhash.compute_dihedral)": cpu_per_image(pdqhash.compute_dihedral, px),
        "imagehash pHash": cpu_per_image(imagehash.phash, pil),
        "imagehash dHash": cpu_per_image(imagehash.dhash, pil),
    }
    sizes = [max(img.pixels.shape[:2]) for _, img in items]
    return {"images": len(items), "median_longer_side": int(np.median(sizes)),
            "per_second_per_core": {k: round(1 / v, 1) for k, v in rows.items()},
            "ms_per_image": {k: round(1000 * v, 2) for k, v in rows.items()}}


def write_codes(n: int, folder: Path) -> dict:
    import numpy as np

    from ascertain.imaging.code_scan import TableWriter

    rng = np.random.default_rng(1)
    w = TableWriter(folder, SHARD_ROWS)
    t = time.perf_counter()
    for start in range(0, n, 1 << 20):
        m = min(1 << 20, n - start)
        w.add(rng.integers(0, np.iinfo(np.uint64).max, (m, 4), dtype=np.uint64, endpoint=True),
              np.arange(start, start + m))
    table = w.close()
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {"codes": n, "shards": len(table.shards), "bytes_on_disk": size,
            "write_seconds": round(time.perf_counter() - t, 1)}


def scan_child(folder: str, queries: int) -> None:
    import numpy as np

    from ascertain.imaging.code_scan import CodeTable, scan, to_words

    table = CodeTable(folder)
    # queries: stored codes with 0..20 bits flipped (each must come back), plus random ones
    first = np.load(Path(folder) / f"{table.shards[0].name}.codes.npy", mmap_mode="r")
    rng = np.random.default_rng(2)
    q = np.array(first[:, :queries].T, dtype=np.uint64)
    for i in range(queries):
        for b in rng.choice(256, min(20, i * 3), replace=False):
            q[i, b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    before = _status()
    t, c = time.perf_counter(), time.process_time()
    hits = scan(table, to_words(q), 31)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({"queries": queries, "cpu_ms_per_query": round(1000 * cpu / queries, 1),
                      "wall_ms_per_query": round(1000 * wall / queries, 1), "hits": len(hits),
                      "planted_found": sum(1 for i in range(queries) if i in set(hits.id[hits.query == i].tolist())),
                      "before_scan": before, "after_scan": _status()}))


def _status() -> dict:
    """The process's own memory (anonymous) and the pages of mapped files it has touched (reclaimable), MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("RssAnon", "RssFile", "VmHWM"):
            out[k] = round(int(v.split()[0]) / 1024, 1)
    return out


def scan_rates(n: int, queries: int) -> dict:
    folder = OUT / "image_codes"
    shutil.rmtree(folder, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    r = {}
    for args in (["--write-child", str(folder), str(n)], ["--scan-child", str(folder), str(queries)]):
        out = subprocess.run([sys.executable, __file__, *args], env=env, check=True, capture_output=True,
                             text=True).stdout
        r.update(json.loads(out.strip().splitlines()[-1]))
    shutil.rmtree(folder, ignore_errors=True)
    return r


def cost_model(ms_per_query_10m: float) -> dict:
    """5 billion codes (a LAION-5B-sized corpus) on a cluster, from the measured per-core rate."""
    n = 5_000_000_000
    per_code_ns = ms_per_query_10m * 1e6 / 10_000_000
    core_s_per_query = per_code_ns * n / 1e9
    return {"codes": n, "ns_per_code_per_query": round(per_code_ns, 2),
            "core_seconds_per_query": round(core_s_per_query, 1),
            "codes_gb": round(n * 32 / 1e9), "ids_gb": round(n * 8 / 1e9), "shards": -(-n // SHARD_ROWS),
            "queries_per_hour_on_1000_cores": round(3600 * 1000 / core_s_per_query),
            "case_of_1000_works_x_30_variants_core_hours": round(1000 * 30 * core_s_per_query / 3600, 1)}


def markdown(r: dict) -> str:
    d, s, m = r["descriptors"], r["scan"], r["cost_model"]
    lines = [f"Command: `{r['command']}` ({r['machine']}, {r['date']}; CPU time of the measuring process, so the "
             "figures are per core whatever else runs).", "",
             f"Descriptors of {d['images']} real images (scikit-image photographs and openclipart-png clip art, "
             f"median longer side {d['median_longer_side']} px after decoding), decoded once beforehand:", "",
             "| descriptor | images per second per core | ms per image |", "|---|---|---|"]
    for k, v in d["per_second_per_core"].items():
        lines.append(f"| {k} | {v:,} | {d['ms_per_image'][k]} |")
    lines += ["", "`perception` (0.9.3) is not measured: it requires `opencv-contrib-python-headless` 4.14, a second "
              "distribution of the `cv2` module that would overwrite the pinned `opencv-python-headless` 5.0 the "
              "region decision is measured with, and `rich<14` where the CLI pins `rich>=13` at 15; its PDQ is the "
              "same algorithm as the pdqhash row.", "",
              f"Exact scan of {s['codes']:,} random 256-bit codes ({s['shards']} shards, "
              f"{s['bytes_on_disk'] / 1e6:,.0f} MB on disk), {s['queries']} queries at distance ≤ 31, in one "
              f"process: **{s['cpu_ms_per_query']} ms CPU per query** ({s['wall_ms_per_query']} ms wall on the "
              f"shared machine). Memory of the scanning process: its own (anonymous) {s['before_scan']['RssAnon']} "
              f"MB before the scan and {s['after_scan']['RssAnon']} MB after it, whatever the table's size (block "
              f"buffers of 64 K rows and the hits); the shards are memory-mapped, so the pages of the shard being "
              f"scanned count as file-backed, reclaimable memory, released when the shard is done: peak RSS of the "
              f"process, both kinds, {s['after_scan']['VmHWM']:,} MB for a table of "
              f"{s['bytes_on_disk'] / 1e6:,.0f} MB. Every planted "
              f"neighbour (0–20 bits flipped) found: {s['planted_found']} of {s['queries']}. Writing the table: "
              f"{s['write_seconds']} s.", "",
              f"Cost model for {m['codes']:,} codes (a LAION-5B-sized corpus), from the measured "
              f"{m['ns_per_code_per_query']} ns per code per query on one core: {m['core_seconds_per_query']} "
              f"core-seconds per query, exact; {m['codes_gb']} GB of codes + {m['ids_gb']} GB of ids in "
              f"{m['shards']:,} shards of 4,194,304 rows (128 MB of codes each: one engine task each, memory "
              f"bounded by the shard, not the corpus). On 1,000 cores (Ray tasks over the shards): "
              f"{m['queries_per_hour_on_1000_cores']:,} queries an hour; a case of 1,000 works × 30 query "
              f"variants costs {m['case_of_1000_works_x_30_variants_core_hours']:,} core-hours. The scan is "
              "bound by memory bandwidth per query, so batching a case's queries over each block (as the scan "
              "does) is what keeps it at this rate; an approximate index would be faster and lose recall."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--codes", type=int, default=10_000_000)
    ap.add_argument("--queries", type=int, default=8)
    ap.add_argument("--docs")
    ap.add_argument("--scan-child", nargs=2)
    ap.add_argument("--write-child", nargs=2)
    a = ap.parse_args()
    if a.write_child:
        print(json.dumps(write_codes(int(a.write_child[1]), Path(a.write_child[0]))))
        return
    if a.scan_child:
        scan_child(a.scan_child[0], int(a.scan_child[1]))
        return
    sys.path.insert(0, str(SRC))
    OUT.mkdir(exist_ok=True)
    s = scan_rates(a.codes, a.queries)  # first: its processes are spawned from a small parent
    d = descriptor_rates(a.images)
    r = {"command": f"nice python3 benchmarks/images.py --images {a.images} --codes {a.codes} --queries {a.queries}",
         "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
         "descriptors": d, "scan": s, "cost_model": cost_model(s["cpu_ms_per_query"])}
    (OUT / "images.json").write_text(json.dumps(r, indent=1))
    md = markdown(r)
    print(md)
    if a.docs:
        from ascertain.report.doc_sections import write_section

        write_section(Path(a.docs), "images", "## Images: descriptors per core and the exact code scan (issue 27)\n\n"
                      + md)


if __name__ == "__main__":
    main()
