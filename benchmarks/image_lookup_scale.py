"""The public image lookup (web/image_lookup.py) on a case whose image source holds millions of images: the
worker's resident memory after it prepares the case, and the time of each upload (p50/p95), before and after
the lookup stopped holding one Python object per image.

    nice -n 10 python3 benchmarks/image_lookup_scale.py run --rows 2000000 [--uploads 20] [--keep-case]
                                                        [--code after,after-cached,before] [--max-gb 12]
(docs/benchmarks.md, "The public image lookup at 1 and 2 million images", is written from the results file.)

The case: the demo's artist portfolio as works (7 images) and the demo's img2dataset shard (real images with
planted copies of the works: same bytes, same pixels, re-encoded, overlaid, cropped, pasted) as a training
corpus, grown to `--rows` images in the real index layout (index/images.py: Parquet shards of 50,000 rows, the
code table, the manifest) by synthetic rows: random sha256, pixel sha256 and PDQ codes, and 1 % of the rows
identical copies of an earlier synthetic image (as scraped corpora hold). Two real planted images are copied 3
times more under other locators (the answer counts them). Each configuration runs in a fresh process (its
resident memory is its own): it prepares the case (`case_images`, as a lookup worker does before its timer),
then looks up each upload in turn: the 7 works (their planted copies are the answers to check) and random-noise
images (no match). `--code before` runs web/image_lookup.py as it was before this change (git show
7ca9560:src/ascertain/web/image_lookup.py) in the same process layout. Results in
benchmarks/.work/image_lookup_scale.json (or $ASCERTAIN_BENCH_WORK).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
OUT = Path(os.environ.get("ASCERTAIN_BENCH_WORK") or HERE / ".work")  # the case (GBs at 2 M images), the results
RESULTS = OUT / "image_lookup_scale.json"
IMAGES = SRC / "ascertain" / "demo_data" / "images"
BEFORE = "7ca9560"  # the last commit whose web/image_lookup.py held one object per image (on main)
DUP_SHARE = 0.01
PLANTED_COPIES = {"00000.tar!000000000.jpg": 3, "00000.tar!000000002.jpg": 3}  # saturn (same bytes), mars (near)


def _hex_column(raw: bytes, n: int):
    """n hex digests as a string column, from n x 32 random bytes (no Python string per row)."""
    import pyarrow as pa

    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    b = np.frombuffer(raw, np.uint8).reshape(n, 32)
    chars = np.empty((n, 64), np.uint8)
    chars[:, 0::2], chars[:, 1::2] = digits[b >> 4], digits[b & 15]
    offsets = np.arange(0, 64 * n + 1, 64, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(chars.tobytes()))


def grow_source(case, name: str, rows: int, seed: int = 0, copies: dict[str, int] | None = None) -> dict:
    """Grow the image source `name` of `case` to `rows` images in the real index layout: its real rows first,
    then synthetic ones (module note); `copies` plants more identical copies of real images (by locator).
    Rewrites the Parquet shards, the code table and the manifest, and records the change in the store."""
    import pyarrow as pa
    from sqlalchemy import select, update

    from ascertain.imaging.code_scan import TableWriter
    from ascertain.index.images import CODES_DIR, IMAGES_SCHEMA, SHARD_ROWS, TABLE_FILE, read_image_index
    from ascertain.index.shards import write_parquet_atomic
    from ascertain.store import schema as s

    with case.store.engine.connect() as c:
        src = dict(c.execute(select(s.sources).where(s.sources.c.name == name)).mappings().one())
    root = Path(src["index_dir"])
    root = root if root.is_absolute() else case.root / root
    manifest = json.loads((root / "manifest.json").read_text())
    real = read_image_index(root, manifest).to_pylist()
    n0 = len(real)
    for suffix, times in (copies or {}).items():
        r = next(r for r in real[:n0] if r["locator"].endswith(suffix))
        for j in range(times):
            real.append({**r, "doc": len(real), "locator": f"copies-{j:02d}.tar!{len(real):09d}.jpg"})
    rng = np.random.default_rng(seed)
    extra = max(0, rows - len(real))
    first = len(real)
    # 1 % of the synthetic rows are identical copies of an earlier synthetic row (same content, other locator)
    is_copy = rng.random(extra) < DUP_SHARE
    if extra:
        is_copy[0] = False
    own = np.arange(extra)
    last_original = np.maximum.accumulate(np.where(~is_copy, own, 0))
    source_row = own.copy()  # the synthetic row whose digests and code a row has
    earlier = (rng.random(extra) * own).astype(np.int64)  # a random earlier row, then its last original
    source_row[is_copy] = last_original[earlier[is_copy]]
    content = first + source_row
    raw_sha, raw_pix, raw_pdq = (np.frombuffer(rng.bytes(32 * extra), np.uint8).reshape(extra, 32)
                                 for _ in range(3))

    for f in root.glob("images-*.parquet"):
        f.unlink()
    shutil.rmtree(root / CODES_DIR)
    shutil.rmtree(root / "cache", ignore_errors=True)
    codes = TableWriter(root / CODES_DIR)
    for r in real:
        if r["doc"] == r["content"]:
            codes.add(np.frombuffer(r["pdq"], np.uint8).reshape(1, 32), np.array([r["doc"]]))
    shards = []
    real_table = pa.Table.from_pylist(real, schema=IMAGES_SCHEMA)
    for start in range(0, first + extra, SHARD_ROWS):
        stop = min(first + extra, start + SHARD_ROWS)
        parts = []
        if start < first:
            parts.append(real_table.slice(start, min(stop, first) - start))
        a, b = max(start, first) - first, stop - first
        if b > a:
            m = b - a
            cont, rows_of = content[a:b], source_row[a:b]
            sha, pix = _hex_column(raw_sha[rows_of].tobytes(), m), _hex_column(raw_pix[rows_of].tobytes(), m)
            pdq = raw_pdq[rows_of]
            docs = np.arange(first + a, first + b, dtype=np.int64)
            own = cont == docs
            codes.add(pdq[own], docs[own])
            shard_no = len(shards)
            cols = {"doc": pa.array(docs), "locator": pa.array([f"synthetic-{shard_no:05d}.tar!{d:09d}.jpg"
                                                                 for d in docs.tolist()]),
                    "sha256": sha, "pixel_sha256": pix,
                    "pdq": pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), m,
                                                                [None, pa.py_buffer(pdq.tobytes())]),
                    "pdq_quality": pa.array(np.full(m, 100, np.int16)), "width": pa.array(np.full(m, 512, np.int32)),
                    "height": pa.array(np.full(m, 384, np.int32)), "media_type": pa.array(["image/jpeg"] * m),
                    "frames": pa.array(np.ones(m, np.int32)), "mode": pa.array(["RGB"] * m),
                    "bytes": pa.array(np.full(m, 40_000, np.int64)), "caption": pa.nulls(m, pa.string()),
                    "url": pa.nulls(m, pa.string()),
                    "meta": pa.array(['{"path": "/nonexistent/synthetic.jpg"}'] * m), "cmi": pa.array(["{}"] * m),
                    "content": pa.array(cont)}
            parts.append(pa.table(cols, schema=IMAGES_SCHEMA))
        table = pa.concat_tables(parts)
        fname = f"images-{len(shards):05d}.parquet"
        shards.append({"file": fname, "sha256": write_parquet_atomic(table, root / fname),
                       "documents": table.num_rows})
    codes.close()
    import hashlib

    manifest.update(documents=first + extra, distinct_images=int(sum(1 for r in real if r["doc"] == r["content"])
                                                                 + int((~is_copy).sum())), shards=shards)
    manifest["codes"]["table_sha256"] = hashlib.sha256((root / CODES_DIR / TABLE_FILE).read_bytes()).hexdigest()
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    with case.store.begin() as c:
        c.execute(update(s.sources).where(s.sources.c.id == src["id"]).values(documents=first + extra))
    case.store.audit("benchmark grow", {"source": name, "documents": first + extra, "real": n0})
    return {"documents": first + extra, "real": n0, "planted_copies": sum((copies or {}).values()),
            "synthetic_copies": int(is_copy.sum()), "distinct_images": manifest["distinct_images"]}


def noise_png(seed: int) -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(seed)
    im = Image.new("RGB", (300, 200), (250, 250, 250))
    px = im.load()
    for _ in range(4000):
        px[rng.randrange(300), rng.randrange(200)] = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def make_case(folder: Path, rows: int) -> dict:
    from ascertain.case import Case
    from ascertain.readers import ReadOptions
    from ascertain.sources_images import add_image_source
    from ascertain.works import import_manifest

    case = Case.init(folder)
    import_manifest(case, str(IMAGES / "works.csv"))
    add_image_source(case, "laion-demo-shard", "corpus", [str(IMAGES / "corpus" / "00000.tar")], ReadOptions())
    t0 = time.perf_counter()
    grown = grow_source(case, "laion-demo-shard", rows, copies=PLANTED_COPIES)
    return {**grown, "grow_seconds": round(time.perf_counter() - t0, 1)}


CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
case_root, uploads_json, module_file = sys.argv[2], sys.argv[3], sys.argv[4]
def status(key):  # this process's own figures (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
def rss_mb():
    return status("VmRSS")
from ascertain.case import Case
if module_file:  # the code before the change, as it was
    import importlib.util
    spec = importlib.util.spec_from_file_location("image_lookup_before", module_file)
    mod = importlib.util.module_from_spec(spec); sys.modules["image_lookup_before"] = mod
    spec.loader.exec_module(mod)
else:
    from ascertain.web import image_lookup as mod
case = Case.open(Path(case_root))
import numpy, pyarrow, PIL, cv2, pdqhash  # noqa: imported by either version: counted before preparing
from ascertain.imaging import compare, candidates, code_scan
from ascertain.readers import images
base = rss_mb()
t0, c0 = time.perf_counter(), time.process_time()
prepared = mod.case_images(case)
prep_s, prep_cpu = time.perf_counter() - t0, time.process_time() - c0
after = rss_mb()
anon_prepared, file_prepared = status("RssAnon"), status("RssFile")
print(json.dumps({"prepared_rss_mb": after, "prepare_s": round(prep_s, 1)}), file=sys.stderr, flush=True)
out = {"rss_anon_prepared_mb": anon_prepared, "rss_file_prepared_mb": file_prepared,
       "rss_base_mb": round(base, 1), "rss_prepared_mb": round(after, 1), "prepare_s": round(prep_s, 2),
       "prepare_cpu_s": round(prep_cpu, 2), "uploads": []}
for name, path in json.loads(uploads_json):
    data = Path(path).read_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    a = mod.lookup_image(case, data, name)
    out["uploads"].append({"name": name, "wall_ms": (time.perf_counter() - t0) * 1e3,
                           "cpu_ms": (time.process_time() - c0) * 1e3,
                           "where": [{k: w[k] for k in ("dataset", "shard", "tier", "images")} for w in a["where"]],
                           "works": a["works"], "verified": a["checked"]["verified"],
                           "checked": a["checked"]["images"]})
    print(json.dumps({"upload": name, "rss_mb": rss_mb(), "peak_rss_mb": status("VmHWM"),
                      "wall_ms": round(out["uploads"][-1]["wall_ms"])}), file=sys.stderr, flush=True)
out["rss_end_mb"] = round(rss_mb(), 1)
out["peak_rss_mb"] = status("VmHWM")
out["rss_anon_end_mb"], out["rss_file_end_mb"] = status("RssAnon"), status("RssFile")
print(json.dumps(out))
"""


def _limit(gb: float):
    def apply() -> None:  # the configuration's address space: past it, a MemoryError, not the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (int(gb * 2**30), int(gb * 2**30)))
    return apply


def run_config(case_root: Path, uploads: list[tuple[str, str]], code: str, max_gb: float) -> dict:
    module_file = ""
    if code == "before":
        text = subprocess.run(["git", "show", f"{BEFORE}:src/ascertain/web/image_lookup.py"], cwd=HERE.parent,
                              check=True, capture_output=True, text=True).stdout
        module_file = str(OUT / "image_lookup_before.py")
        Path(module_file).write_text(text)
    p = subprocess.run([sys.executable, "-c", CHILD, str(SRC), str(case_root), json.dumps(uploads), module_file],
                       capture_output=True, text=True, preexec_fn=_limit(max_gb))
    if p.returncode != 0:  # the progress lines say how far it got
        return {"failed": p.returncode, "stderr": p.stderr[-4000:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def summarize(r: dict) -> dict:
    ms = np.array([u["wall_ms"] for u in r["uploads"]])
    cpu = np.array([u["cpu_ms"] for u in r["uploads"]])
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 1),
            "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 1)}


def main_run(a) -> None:
    sys.path.insert(0, str(SRC))
    OUT.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = f"{a.rows}"
    with tempfile.TemporaryDirectory(prefix="imglookup-", dir=OUT) as tmp:
        case_root = OUT / f"case-{a.rows}" if a.keep_case else Path(tmp) / "case"
        if not (case_root / "grown.json").exists():
            shutil.rmtree(case_root, ignore_errors=True)
            t0 = time.perf_counter()
            made = make_case(case_root, a.rows)
            made["case_seconds"] = round(time.perf_counter() - t0, 1)
            (case_root / "grown.json").write_text(json.dumps(made))
        made = json.loads((case_root / "grown.json").read_text())
        up = Path(tmp) / "uploads"
        up.mkdir()
        uploads = [(p.name, str(p)) for p in sorted((IMAGES / "works").iterdir())]
        for i in range(max(0, a.uploads - len(uploads))):
            (up / f"noise-{i}.png").write_bytes(noise_png(i))
            uploads.append((f"noise-{i}.png", str(up / f"noise-{i}.png")))
        entry = results.get(key, {})
        entry.update(case=made, machine=f"{platform.machine()}, {os.cpu_count()} cores",
                     date=time.strftime("%Y-%m-%d"), load_average=[round(x, 1) for x in os.getloadavg()])
        for code in a.code.split(","):  # "after" twice: building the digest columns, then a worker that maps them
            if code == "after":  # the digest columns built again, by this worker
                for cache in (case_root / "index").glob("*/cache"):
                    shutil.rmtree(cache)
            r = run_config(case_root, uploads, code.replace("-cached", ""), a.max_gb)
            r["load_average"] = [round(x, 1) for x in os.getloadavg()]
            if "uploads" in r:
                r.update(summarize(r))
            entry[code] = r
            print(code, json.dumps({k: v for k, v in r.items() if k != "uploads"}), flush=True)
        results[key] = entry
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--rows", type=int, default=2_000_000)
    r.add_argument("--uploads", type=int, default=20)
    r.add_argument("--code", default="after,after-cached,before")
    r.add_argument("--keep-case", action="store_true", help="keep the grown case (benchmarks/.work/case-ROWS)")
    r.add_argument("--max-gb", type=float, default=12.0, help="address-space limit of each configuration")
    main_run(ap.parse_args())


if __name__ == "__main__":
    main()
