"""Books at scale (issue 28 item 6): a seeded corpus of distinct books indexed at the book level, a works list
of books matched against it, planted copies checked against the evidence found.

    nice -n 10 python3 benchmarks/books_corpus.py DATA --books 10000 --works 1000
    nice -n 10 python3 benchmarks/books_scale.py DATA --sizes 2000,10000 [--works 1000] [--out WORK]

DATA is books_corpus.py's output (see its docstring for how the books and works are built). For each size N
(a multiple of 1,000), a case in WORK/case-N: `ascertain init`, `corpus add CASE books` of the first N/1000
files (one process, local engine, level auto: every book is prose, so indexed at the book level), `works
import` of the first `--works` works of the list (kinds in turn: verbatim, edited, partial, absent), `match
CASE`. A later run with a larger `--works` imports the next works of the list into the same case and
matches all of them again (figures kept per works count). Each command is one process: wall seconds, CPU
seconds (user + system) and peak resident memory from the kernel's rusage (`os.wait4`). Then the evidence
(`reports/evidence.json`) against what was planted: per kind, the works whose planted book (and its reissues
inside the first N books) were found copied, the books found copied that were not planted, own coverage of
the partial copies against the share planted. A stage already done for a case is not run again (its figures
are kept in WORK/case-N/stages.json); results go to WORK/results.json and are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from statistics import median

PER_FILE = 1000


def run(cmd: list[str], src: Path) -> tuple[str, dict]:
    """(stdout, {wall_s, cpu_s, peak_mb}) of one process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as on a user's machine
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode()[-3000:]}")
        out.seek(0)
        return out.read().decode(), {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                                     "peak_mb": round(usage.ru_maxrss / 1024)}


def text_bytes(data: Path) -> dict[str, int]:
    """Bytes of book text (UTF-8) per corpus file, counted once and kept in DATA/text_bytes.json."""
    import io

    import orjson
    import zstandard

    kept = data / "text_bytes.json"
    if kept.exists():
        return json.loads(kept.read_text())
    out = {}
    for f in sorted(data.glob("books-*.jsonl.zst")):
        with open(f, "rb") as raw:
            out[f.name] = sum(len(orjson.loads(line)["text"].encode())
                              for line in io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)))
    kept.write_text(json.dumps(out, indent=1))
    return out


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def expected_copies(plan: dict, n_books: int, n_works: int) -> dict[str, set[int]]:
    """work file name -> the corpus books (0-based) planted as its copies in a corpus of the first n_books."""
    again: dict[int, list[int]] = defaultdict(list)
    for r, orig in plan["reissues"].items():
        if int(r) < n_books:
            again[orig].append(int(r))
    out = {}
    for w in plan["works"][:n_works]:
        out[w["work"]] = set() if w["book"] is None else {w["book"], *again.get(w["book"], [])}
    return out


def check(evidence: list[dict], plan: dict, n_books: int, n_works: int) -> dict:
    expected = expected_copies(plan, n_books, n_works)
    kinds = {w["work"]: w["kind"] for w in plan["works"][:n_works]}
    shares = {w["work"]: w["share"] for w in plan["works"][:n_works]}
    found: dict[str, set[int]] = defaultdict(set)
    decisions: Counter = Counter()
    rows_per_work: Counter = Counter()
    coverage: dict[tuple[str, int], float] = {}
    for e in evidence:
        name = Path(e["work_file"]).name
        decisions[e["metrics"]["decision"]] += 1
        rows_per_work[name] += 1
        book = int(e["doc_locator"].rsplit(":", 1)[1]) - 1  # a JSONL locator counts lines from 1
        if e["copied"]:
            found[name].add(book)
            coverage[(name, book)] = e["metrics"]["own_coverage"]
    per_kind: dict[str, dict] = {}
    for name, kind in kinds.items():
        k = per_kind.setdefault(kind, {"works": 0, "planted_copies": 0, "found_planted": 0, "missed": 0,
                                       "found_unplanted": 0, "works_all_found": 0, "own_coverage": []})
        exp, got = expected[name], found.get(name, set())
        k["works"] += 1
        k["planted_copies"] += len(exp)
        k["found_planted"] += len(exp & got)
        k["missed"] += len(exp - got)
        k["found_unplanted"] += len(got - exp)
        k["works_all_found"] += exp <= got
        k["own_coverage"] += [coverage[(name, b)] for b in sorted(exp & got)]
    for kind, k in per_kind.items():
        cov = k.pop("own_coverage")
        k["own_coverage_min_median"] = [round(min(cov), 4), round(median(cov), 4)] if cov else None
        if kind == "partial":
            err = [abs(coverage[(n, b)] - shares[n]) for n in kinds if kinds[n] == kind
                   for b in sorted(expected[n] & found.get(n, set())) if b == plan_book(plan, n)]
            k["partial_share_abs_error_median_max"] = [round(median(err), 4), round(max(err), 4)] if err else None
    rows = sorted(rows_per_work.values())
    return {"evidence_rows": len(evidence), "decisions": dict(sorted(decisions.items())),
            "rows_per_work_median_max": [median(rows), rows[-1]] if rows else [0, 0],
            "works_without_rows": n_works - len(rows_per_work), "per_kind": per_kind}


def plan_book(plan: dict, name: str) -> int | None:
    return next(w["book"] for w in plan["works"] if w["work"] == name)


def bench_size(data: Path, plan: dict, n_books: int, n_works: int, work: Path, src: Path) -> dict:
    exe = [sys.executable, "-m", "ascertain"]
    case_dir = work / f"case-{n_books}"
    case = case_dir / "case"
    stages_file = case_dir / "stages.json"
    stages = json.loads(stages_file.read_text()) if stages_file.exists() else {}

    def save() -> None:
        stages_file.write_text(json.dumps(stages, indent=1))

    if "corpus_add" not in stages:
        import shutil

        shutil.rmtree(case_dir, ignore_errors=True)
        case_dir.mkdir(parents=True)
        run(exe + ["init", str(case)], src)
        files = [str(data / f) for f in plan["files"][:-(-n_books // PER_FILE)]]
        out, fig = run(exe + ["corpus", "add", str(case), "books", *files, "--json"], src)
        added = json.loads(out)
        stages["corpus_add"] = {**fig, "documents": added["documents"], "tokens": added.get("tokens"),
                                "fingerprints": added.get("fingerprints"), "levels": added.get("levels"),
                                "input_mb": round(sum(Path(f).stat().st_size for f in files) / 1e6, 1),
                                "index_mb": round(du(case / "index") / 1e6, 1)}
        save()
    done = stages.get("works", 0)
    if done > n_works:
        raise SystemExit(f"{case} holds {done} works, more than {n_works}: use another --out")
    if done < n_works:  # the works list grows: the next works of the list are imported, all are matched again
        csv = case_dir / f"works-{done}-{n_works}.csv"
        lines = (data / "works.csv").read_text().splitlines()
        csv.write_text("\n".join([lines[0], *lines[done + 1:n_works + 1]]) + "\n")
        run(exe + ["works", "import", str(case), str(csv)], src)
        stages["works"] = n_works
        save()
    key = f"match-{n_works}"
    if key not in stages:
        out, fig = run(exe + ["match", str(case), "--json"], src)
        stages[key] = {**fig, **{k: v for k, v in json.loads(out).items() if k in ("evidence", "copied")}}
        save()
    evidence = json.loads((case / "reports" / "evidence.json").read_text())["evidence"]
    m = stages[key]
    tb = text_bytes(data)
    stages["corpus_add"]["text_mb"] = round(sum(tb[f] for f in plan["files"][:-(-n_books // PER_FILE)]) / 1e6, 1)
    return {"books": n_books, "works": n_works, "corpus_add": stages["corpus_add"],
            "match": {**m, "cpu_s_per_work": round(m["cpu_s"] / n_works, 2),
                      "wall_s_per_work": round(m["wall_s"] / n_works, 2)},
            "case_mb": round(du(case) / 1e6, 1), "check": check(evidence, plan, n_books, n_works)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--sizes", default="2000,10000")
    ap.add_argument("--works", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=None, help="where the cases go [default: DATA/../]")
    a = ap.parse_args()
    plan = json.loads((a.data / "plan.json").read_text())
    work = a.out or a.data.parent
    src = Path(__file__).resolve().parents[1] / "src"
    results_file = work / "results.json"
    for n in (int(s) for s in a.sizes.split(",")):
        if (n % PER_FILE and n != plan["books"]) or n > plan["books"]:
            raise SystemExit(f"--sizes: {n} is not a multiple of {PER_FILE} up to {plan['books']}")
        r = bench_size(a.data, plan, n, a.works, work, src)
        # read again just before writing: runs of other sizes may be writing the same file
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        results[f"{n}x{a.works}"] = r
        results_file.write_text(json.dumps(results, indent=1))
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
