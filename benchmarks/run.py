"""ascertain beside rensa, datasketch and infini-gram on the same real corpus, in one run.

    pip install -e ".[bench]" && python3 benchmarks/run.py [--mb 200] [--works 1000]

Every tool runs in its own process pinned to one core; wall time and peak resident memory (from the
kernel's rusage of that process) are measured from outside. Writes docs/benchmarks.md.
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
WORK = HERE / ".work"
CORE = 0

sys.path.insert(0, str(HERE))
from corpus import build as build_corpus  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from ascertain.report.doc_sections import write_section  # noqa: E402


def measure(cmd: list[str], cwd: Path | None = None) -> tuple[str, float, float]:
    """(stdout, seconds, peak MB) of a command run on one core."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd,
                             preexec_fn=lambda: os.sched_setaffinity(0, {CORE}))
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{err.read().decode()[-3000:]}")
        return out.read().decode(), seconds, usage.ru_maxrss / 1024


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def make_works(corpus: Path, holdout: Path, n: int) -> tuple[Path, int]:
    """n works: n/2 files taken from the corpus (should be found), n/2 real files kept out of it."""
    works = WORK / "works"
    shutil.rmtree(works, ignore_errors=True)
    works.mkdir(parents=True)
    # only "\n" ends a JSONL record: splitlines() would also split at U+2028 or \x1c inside a text
    lines = corpus.read_text(encoding="utf-8").split("\n")[:-1]
    half = n // 2
    step = max(1, len(lines) // half)
    for i, line in enumerate(lines[::step][:half]):
        rec = json.loads(line)
        (works / f"in-{i:04d}{Path(rec['path']).suffix}").write_text(rec["text"], encoding="utf-8")
    held = sorted(holdout.iterdir())[: n - half]
    for p in held:
        shutil.copy(p, works / f"out-{p.name}")
    rows = ["claimant,title,path"] + [f"bench,{p.name},{p}" for p in sorted(works.iterdir())]
    (WORK / "works.csv").write_text("\n".join(rows) + "\n")
    return works, half


def bench_ascertain(corpus: Path, works: Path, n_in: int) -> dict:
    case = WORK / "case"
    shutil.rmtree(case, ignore_errors=True)
    exe = [sys.executable, "-m", "ascertain.cli"]
    measure(exe + ["init", str(case)])
    out, wall, peak = measure(exe + ["corpus", "add", str(case), "pile", str(corpus), "--json"])
    added = json.loads(out)
    secs = added["seconds"]  # reading to manifest, as the peers' own clocks measure them
    measure(exe + ["works", "import", str(case), str(WORK / "works.csv")])
    out, msecs, mpeak = measure(exe + ["match", str(case), "--json"])
    ev = json.loads((case / "reports" / "evidence.json").read_text())["evidence"]
    copied = {Path(e["work_file"]).name for e in ev if e["copied"]}
    return {"documents": added["documents"], "index_seconds": secs, "wall": wall, "peak_mb": max(peak, mpeak),
            "index_mb": dir_mb(case / "index"), "match_seconds": msecs,
            "found_in": sum(1 for n in copied if n.startswith("in-")),
            "found_out": sum(1 for n in copied if n.startswith("out-")), "n_in": n_in}


def bench_peer(tool: str, corpus: Path, works: Path, n_in: int) -> dict:
    out, wall, peak = measure([sys.executable, str(HERE / "peers.py"), tool, str(corpus), str(works)])
    r = json.loads(out)
    names = sorted(p.name for p in works.iterdir())
    found = [n for n, f in zip(names, r["found"], strict=True) if f]
    return {"documents": r["documents"], "index_seconds": r["index_seconds"], "wall": wall, "peak_mb": peak,
            "index_mb": None, "match_seconds": r["match_seconds"],
            "found_in": sum(1 for n in found if n.startswith("in-")),
            "found_out": sum(1 for n in found if n.startswith("out-")), "n_in": n_in}


def bench_infinigram(corpus: Path, works: Path, n_in: int, documents: int) -> dict:
    base = WORK / "infinigram"
    shutil.rmtree(base, ignore_errors=True)
    (base / "data").mkdir(parents=True)
    os.link(corpus, base / "data" / "corpus.jsonl")
    _, secs, peak = measure([sys.executable, "-m", "infini_gram.indexing_v6",
                             "--data_dir", str(base / "data"), "--save_dir", str(base / "index"),
                             "--temp_dir", str(base / "tmp"), "--token_dtype", "u8", "--cpus", "1",
                             "--mem", "8", "--ulimit", "1024"])
    out, _, qpeak = measure([sys.executable, str(HERE / "infinigram_peer.py"), str(base / "index"),
                             str(works)])
    r = json.loads(out)
    names = sorted(p.name for p in works.iterdir())
    found = [n for n, f in zip(names, r["found"], strict=True) if f]
    return {"documents": documents, "index_seconds": secs, "wall": secs, "peak_mb": max(peak, qpeak),
            "index_mb": dir_mb(base / "index"), "match_seconds": r["seconds"],
            "found_in": sum(1 for n in found if n.startswith("in-")),
            "found_out": sum(1 for n in found if n.startswith("out-")), "n_in": n_in}


def bench_compare(works: Path) -> dict:
    """`ascertain compare --batch` over every pair of consecutive works (real files of 0.2-1000 KB)."""
    files = sorted(works.iterdir())
    pairs = WORK / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"original": str(a), "copy": str(b)}) + "\n"
                             for a, b in zip(files, files[1:] + files[:1], strict=True))
                     + "".join(json.dumps({"original": str(a), "copy": str(a)}) + "\n" for a in files))
    out, secs, peak = measure([sys.executable, "-m", "ascertain.cli", "compare", "--batch", str(pairs)])
    rows = [json.loads(line) for line in out.splitlines()]
    return {"pairs": len(rows), "seconds": secs, "peak_mb": peak,
            "errors": sum("error" in r for r in rows)}


def table(results: dict[str, dict], mb: float, n_works: int) -> str:
    head = ("| tool | index s | MB/s | docs/s | process wall s | peak MB | index MB | match 1,000 works s | "
            "ms per work | in-corpus works found | held-out works matched |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for name, r in results.items():
        idx = "" if r["index_mb"] is None else f"{r['index_mb']:.0f}"
        rows.append(f"| {name} | {r['index_seconds']:.1f} | {mb / r['index_seconds']:.1f} | "
                    f"{r['documents'] / r['index_seconds']:,.0f} | {r['wall']:.1f} | {r['peak_mb']:.0f} | "
                    f"{idx} | "
                    f"{r['match_seconds']:.2f} | {1000 * r['match_seconds'] / n_works:.2f} | "
                    f"{r['found_in']}/{r['n_in']} | {r['found_out']}/{n_works - r['n_in']} |")
    return head + "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=200.0, help="corpus size in MB")
    ap.add_argument("--works", type=int, default=1000)
    ap.add_argument("--skip", nargs="*", default=[], help="peers to leave out")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = ap.parse_args()
    corpus = DATA / f"corpus-{args.mb:g}MB.jsonl"
    if not corpus.exists():
        info = build_corpus(corpus, int(args.mb * 1e6), DATA / f"holdout-{args.mb:g}MB")
        (DATA / f"corpus-{args.mb:g}MB.json").write_text(json.dumps(info))
    info = json.loads((DATA / f"corpus-{args.mb:g}MB.json").read_text())
    mb = info["bytes"] / 1e6
    works, n_in = make_works(corpus, DATA / f"holdout-{args.mb:g}MB", args.works)
    results: dict[str, dict] = {}
    print(f"corpus: {mb:.1f} MB, {info['documents']:,} documents, sha256 {info['sha256'][:16]}…", flush=True)
    results["ascertain"] = bench_ascertain(corpus, works, n_in)
    print(table(results, mb, args.works), flush=True)
    for peer in ("rensa", "datasketch"):
        if peer not in args.skip:
            results[peer] = bench_peer(peer, corpus, works, n_in)
            print(table({peer: results[peer]}, mb, args.works).splitlines()[-1], flush=True)
    if "infinigram" not in args.skip:
        results["infini-gram"] = bench_infinigram(corpus, works, n_in, info["documents"])
    text = table(results, mb, args.works)
    cmp = bench_compare(works)
    text += (f"\n`ascertain compare --batch`: {cmp['pairs']:,} pairs (each work against the next, and "
             f"against itself) in {cmp['seconds']:.1f} s, process start-up included: "
             f"{cmp['pairs'] / cmp['seconds']:,.0f} pairs/s, peak {cmp['peak_mb']:.0f} MB, "
             f"{cmp['errors']} errors.\n")
    print("\n" + text)
    if "rensa" in results:
        a, r = results["ascertain"], results["rensa"]
        ratio = (a["documents"] / a["index_seconds"]) / (r["documents"] / r["index_seconds"])
        print(f"ascertain indexes {ratio:.1f}x rensa's documents/s (target >= 5x); "
              f"peak memory {a['peak_mb']:.0f} MB (target < 2048 MB)")
    write_doc(Path(args.out), text, info, args)


def write_doc(path: Path, text: str, info: dict, args) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    versions = {}
    for pkg in ("ascertain", "rensa", "datasketch", "infini-gram", "duckdb", "pyarrow", "numpy"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "not installed"
    doc = f"""Produced by `python3 benchmarks/run.py --mb {args.mb:g} --works {args.works}`
on {time.strftime('%Y-%m-%d')} ({cpu}, {os.cpu_count()} cores, Python {platform.python_version()};
every tool pinned to one core, peak memory = the process's maximum resident set size).

Corpus: {info['bytes'] / 1e6:.1f} MB of real code and text found on the machine (the Python standard
library and installed packages, C/C++ headers, /usr/share/doc), {info['documents']:,} documents as JSONL,
sha256 `{info['sha256']}`. Works: {args.works // 2} files taken from the corpus (each should be found)
and {args.works - args.works // 2} real files of the same trees kept out of the corpus (should not be).

- **ascertain**: `ascertain corpus add` (read JSONL, normalize, tokenize, winnowed 8-gram fingerprints with
  w = 13, Parquet shards with the texts, MinHash signatures, manifest) then `ascertain match` (DuckDB join,
  verification on the tokens, evidence with the CMI status of every record, the classified differences of
  every copy, MinHash near-duplicates). "Found" = the `copied` decision.
- **rensa**, **datasketch**: MinHash with 128 permutations over the same shingles (ascertain's tokens,
  8-grams joined by spaces), shingling included; match = LSH over the corpus (threshold 0.5) and one query
  per work. "Found" = any LSH candidate. rensa uses its bulk `RMinHash.from_token_sets` API.
- **infini-gram**: byte-level suffix array (`python -m infini_gram.indexing_v6 --token_dtype u8 --cpus 1`),
  queried through its C++ engine (version 4); match = one count query of a 64-byte passage per work.
  "Found" = count > 0. It answers exact-substring questions only, over the raw bytes.

{text}
Reading the figures:

- *index s*, *MB/s*, *docs/s*: each tool's own clock around reading the corpus and fingerprinting or
  hashing it (ascertain: until its Parquet shards and manifest are written); *process wall s* adds start-up,
  imports and input hashing. Target for ascertain: at least 5× rensa's documents/s, peak memory under 2 GB.
- The peers answer different questions. MinHash LSH finds documents similar *as a whole* (Jaccard ≥ 0.5);
  infini-gram finds exact byte strings; ascertain finds, in every document sharing two fingerprints with a
  work (any shared run of 33 tokens), every shared run of 20+ tokens, verifies it, and measures it
  (coverage, runs, lines, rarity, CMI kept or stripped, differences). Its match time includes
  that per-pair evidence work; the CMI scan of each matched corpus document is about half of it.
- *Held-out works matched* are not false positives by construction: the trees hold genuine shared
  passages. A review of a sample of ascertain's held-out matches found passages copied between files of
  one project or its vendored relatives (tqdm's `tk.py` and its notebook module; distutils' and
  setuptools' `build_ext`; colorama's console structures; repeated AWS CLI example text), each reported
  with its line spans. Error rates on labelled pairs are measured by `ascertain validate` (methods.md).
- In-corpus works ascertain does not call copied (3 in the run of 2026-11-23: two MIT license texts and an
  Apache header file) hold nothing but CMI: by design not a copy of expression; each is still reported
  with its spans (coverage 0.78–0.96 of the file, own coverage 0).

Versions: {', '.join(f'{k} {v}' for k, v in versions.items())}.
"""
    if not path.exists():
        path.write_text("# Benchmarks\n\n")
    write_section(path, "corpus", doc)  # its own section: the other benchmarks' sections stay
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
