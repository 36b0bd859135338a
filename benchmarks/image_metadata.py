"""Metadata-only image datasets: rows per second of caption, URL and hash matching for many claimants at once, and
the memory peak, on a synthetic LAION-style Parquet dataset (sharded).

    python3 benchmarks/image_metadata.py [--rows 10000000] [--claimants 10000] [--shards 10] [--docs docs/benchmarks.md]

Captions are drawn from the words of the installed packages' real summaries (dpkg-query) with a claimant's name,
another real person's name, or none; claimants are real names (Debian copyright files) and, past those, pairs of
real first and last names; every claimant has a domain and a handle. The match runs in a child process (the
generator's memory is not counted): `ascertain match` on a case with the claimants as metadata-only works, and
the dataset added with `corpus add --kind image-metadata`. Writes the section `image-metadata` of the docs file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def claimant_names(n: int, seed: int) -> tuple[list[str], list[str]]:
    from ascertain.validation.image_metadata import debian_split

    names = sorted(set(debian_split(0)[0]) | set(debian_split(1)[0]))
    rng = random.Random(seed)
    firsts = sorted({x.split(" ")[0] for x in names})
    lasts = sorted({x.split(" ")[-1] for x in names})
    out = set(names)
    while len(out) < n + 2000:
        out.add(f"{rng.choice(firsts)} {rng.choice(lasts)}")
    out = sorted(out)
    rng.shuffle(out)
    return out[:n], out[n:n + 2000]  # claimants, other people


def make_dataset(folder: Path, rows: int, shards: int, claimants: list[str], others: list[str], seed: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ascertain.validation.image_metadata import debian_split

    words = sorted({w for c in debian_split(0)[1] + debian_split(1)[1] for w in c.split()})
    rng = random.Random(seed)
    per = rows // shards
    for s in range(shards):
        caps, urls, ph = [], [], []
        for i in range(per):
            k = rng.randrange(6, 16)
            cap = " ".join(rng.choices(words, k=k))
            r = rng.random()
            if r < 0.001:
                cap += " by " + rng.choice(claimants)
            elif r < 0.01:
                cap += " by " + rng.choice(others)
            caps.append(cap)
            urls.append(f"https://img{i % 97}.example-{rng.randrange(10**6)}.com/{s}/{i}.jpg")
            ph.append(f"{rng.getrandbits(64):016x}")
        t = pa.table({"URL": urls, "TEXT": caps, "WIDTH": pa.array([512] * per, pa.int32()),
                      "HEIGHT": pa.array([512] * per, pa.int32()), "image_phash": ph})
        pq.write_table(t, folder / f"part-{s:05d}.parquet", row_group_size=65_536)


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ascertain.case import Case
from ascertain.match.image_metadata import run_image_metadata_match
c = Case.open(__import__("pathlib").Path(sys.argv[2]))
t = time.perf_counter()
s = run_image_metadata_match(c)
s["wall_seconds"] = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_SELF)
s["max_rss_mb"] = u.ru_maxrss / 1024
s["cpu_seconds"] = u.ru_utime + u.ru_stime
print(json.dumps(s))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--claimants", type=int, default=10_000)
    ap.add_argument("--shards", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--docs", type=Path)
    ap.add_argument("--data", type=Path, help="Keep the generated dataset in this folder (reused when it holds "
                                              "the same number of shards).")
    a = ap.parse_args()
    from typer.testing import CliRunner

    from ascertain.cli import app

    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        tmp = Path(tmp)
        claimants, others = claimant_names(a.claimants, a.seed)
        data = a.data or tmp / "data"
        data.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if len(list(data.glob("part-*.parquet"))) != a.shards:
            make_dataset(data, a.rows, a.shards, claimants, others, a.seed)
        gen = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in data.iterdir())
        case = tmp / "case"
        runner = CliRunner()
        assert runner.invoke(app, ["init", str(case)]).exit_code == 0
        with open(tmp / "works.csv", "w", encoding="utf-8") as fh:
            fh.write("title,claimant,domains,handles\n")
            for i, n in enumerate(claimants):
                handle = n.lower().replace(" ", "")[:20]
                fh.write(f"\"Work {i} of {n}\",\"{n}\",{handle}-art.example,{handle}\n")
        r = runner.invoke(app, ["works", "import", str(case), str(tmp / "works.csv")])
        assert r.exit_code == 0, r.output
        t0 = time.perf_counter()
        r = runner.invoke(app, ["corpus", "add", str(case), "laion", str(data), "--kind", "image-metadata"])
        assert r.exit_code == 0, r.output
        add = time.perf_counter() - t0
        p = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "src"), str(case)], capture_output=True,
                           text=True, check=True)
        s = json.loads(p.stdout.strip().splitlines()[-1])
    res = {"rows": a.rows, "claimants": a.claimants, "shards": a.shards, "parquet_mb": round(size / 1e6, 1),
           "generate_s": round(gen, 1), "corpus_add_s": round(add, 1), "match_s": round(s["wall_seconds"], 1),
           "rows_per_s": round(a.rows / s["wall_seconds"]), "max_rss_mb": round(s["max_rss_mb"]),
           "cpu_s": round(s["cpu_seconds"], 1), "rows_per_cpu_s": round(a.rows / s["cpu_seconds"]),
           "load_average": round(os.getloadavg()[0], 1),
           "evidence": s["evidence"], "by_kind": s["by_kind"], "cpu": platform.processor() or platform.machine(),
           "cores": os.cpu_count()}
    print(json.dumps(res, indent=1))
    if a.docs:
        from ascertain.report.doc_sections import write_section

        cmd = (f"python3 benchmarks/image_metadata.py --rows {a.rows} --claimants {a.claimants} --shards {a.shards} "
               f"--docs {a.docs}")
        kinds = ", ".join(f"{k}: {v:,}" for k, v in res["by_kind"].items())
        md = ("## Image metadata: names, domains, handles and hashes of many claimants in a LAION-style dataset\n\n"
              f"Command: `{cmd}` (one process, at `nice 10` on a machine shared with other jobs; "
              f"{res['cores']} cores).\n\n"
              f"{a.rows:,} rows in {a.shards} Parquet shards ({res['parquet_mb']:,} MB: URL, caption, width, height, "
              f"64-bit pHash), {a.claimants:,} claimants (real names, then pairs of real first and last names), each "
              "with a name, a title, a domain and a handle; 0.1 % of captions name a claimant, 0.9 % another "
              "person.\n\n"
              "| measure | value |\n| --- | ---: |\n"
              f"| match (captions, URLs, pHash; read, scan, store) | {res['match_s']:,} s |\n"
              f"| rows per second (wall clock; load average {res['load_average']} on {res['cores']} cores) | "
              f"{res['rows_per_s']:,} |\n"
              f"| CPU time of the match process | {res['cpu_s']:,} s |\n"
              f"| rows per CPU-second (one core) | {res['rows_per_cpu_s']:,} |\n"
              f"| peak memory (resident, the match process) | {res['max_rss_mb']:,} MB |\n"
              f"| evidence rows | {res['evidence']:,} ({kinds}) |\n"
              f"| corpus add (pin: SHA-256 of every file, layout) | {res['corpus_add_s']:,} s |\n\n"
              "Memory is bounded by the batch (65,536 rows) and the automata of the claimants' names, not by the "
              "dataset: the files are streamed batch by batch.\n")
        write_section(a.docs, "image-metadata", md)


if __name__ == "__main__":
    main()
