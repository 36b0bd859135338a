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
import math
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
        spans = e["metrics"].get("spans") or []
        if not e["copied"] and spans and all(sp["cmi_tokens"] == sp["tokens"] for sp in spans):
            decisions["not_copied: notices only"] += 1  # every shared span lies in the notices
        rows_per_work[name] += 1
        path, line = e["doc_locator"].rsplit(":", 1)  # books-NN.jsonl.zst:LINE, lines counted from 1
        book = int(Path(path).name.split(".")[0].split("-")[1]) * PER_FILE + int(line) - 1
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
        resumed = (case / "index").exists()  # an interrupted add resumes: its figures are then the rest's only
        if not resumed:
            case_dir.mkdir(parents=True, exist_ok=True)
            run(exe + ["init", str(case)], src)
        files = [str(data / f) for f in plan["files"][:-(-n_books // PER_FILE)]]
        out, fig = run(exe + ["corpus", "add", str(case), "books", *files, "--json"], src)
        added = json.loads(out)
        stages["corpus_add"] = {**fig, "resumed": resumed, "documents": added["documents"],
                                "tokens": added.get("tokens"),
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


TARGET_BOOKS, TARGET_WORKS = 200_000, 500_000
CORES_PER_NODE, EFFICIENCY = 16, 0.7


def cost_model(results: list[dict], plan: dict) -> tuple[list[str], dict]:
    """Markdown rows of the cost model for TARGET_BOOKS x TARGET_WORKS, from the measured sizes."""
    small, large = results[0], results[-1]
    book_mb = plan["text_bytes"] / plan["books"] / 1e6
    add_cpu_mb = large["corpus_add"]["cpu_s"] / large["corpus_add"]["text_mb"]
    index_ratio = large["corpus_add"]["index_mb"] / large["corpus_add"]["text_mb"]
    fp_per_mb = (large["corpus_add"].get("fingerprints") or 0) / large["corpus_add"]["text_mb"]
    c_s, c_l = small["match"]["cpu_s_per_work"], large["match"]["cpu_s_per_work"]
    # the rows whose every span is a notice (a copyright page shared by most books), apart in the evidence row
    notice = [r["check"]["decisions"].get("not_copied: notices only", 0) for r in (small, large)]
    rows_all = [r["check"]["evidence_rows"] for r in (small, large)]
    ratio = large["books"] / small["books"]
    alpha = max(0.0, math.log(c_l / c_s) / math.log(ratio)) if ratio > 1 and c_s > 0 else 0.0
    per_work = c_l * (TARGET_BOOKS / large["books"]) ** alpha
    text_mb = TARGET_BOOKS * book_mb
    add_cpu_h = text_mb * add_cpu_mb / 3600
    match_cpu_h = TARGET_WORKS * per_work / 3600
    peak_gb = max(large["corpus_add"]["peak_mb"], large["match"]["peak_mb"]) / 1024
    ram_per_cpu = max(2, math.ceil(peak_gb * 1.5))

    def nodes(cpu_h: float, hours: float) -> str:
        n = max(1, math.ceil(cpu_h / hours / EFFICIENCY / CORES_PER_NODE))
        return f"{n} node{'s' if n > 1 else ''}"

    rows_per_work = large["check"]["evidence_rows"] / large["works"]
    m = {"book_mb": book_mb, "add_cpu_s_per_mb": add_cpu_mb, "index_ratio": index_ratio, "alpha": alpha,
         "per_work_cpu_s": per_work, "text_gb": text_mb / 1e3, "add_cpu_h": add_cpu_h, "match_cpu_h": match_cpu_h,
         "ram_per_cpu_gb": ram_per_cpu, "index_gb": text_mb * index_ratio / 1e3,
         "works_text_gb": TARGET_WORKS * book_mb / 1e3, "fingerprints": text_mb * fp_per_mb,
         "evidence_rows": TARGET_WORKS * rows_per_work}
    per_work_bytes = fp_per_mb * book_mb * 2 * 20
    m["driver_gb"] = TARGET_WORKS * per_work_bytes / 1e9
    m["batch_works"] = int(1e9 // per_work_bytes // 1000 * 1000) if per_work_bytes else 0
    rows = [
        "| | measured | 200,000 books, 500,000 titles |", "|---|---|---|",
        f"| book text | {book_mb:.2f} MB a book ({plan['books']:,} books, {plan['text_bytes'] / 1e9:.2f} GB) "
        f"| {m['text_gb']:,.0f} GB of corpus; the works' texts (if each title is a book) "
        f"{m['works_text_gb']:,.0f} GB |",
        f"| `corpus add` CPU | {add_cpu_mb:.3f} CPU s per MB at {large['books']:,} books "
        f"({small['corpus_add']['cpu_s'] / small['corpus_add']['text_mb']:.3f} at {small['books']:,}) "
        f"| {add_cpu_h:,.0f} CPU-h: {nodes(add_cpu_h, 1)} of {CORES_PER_NODE} cores for 1 hour, "
        f"{nodes(add_cpu_h, 8)} for 8 hours |",
        f"| index disk (texts stored) | {index_ratio:.2f} x the text | {m['index_gb']:,.0f} GB "
        f"({m['fingerprints'] / 1e9:.1f} G fingerprint rows) |",
        f"| `match` CPU per work | {c_s:.2f} s at {small['books']:,} books, {c_l:.2f} s at {large['books']:,}: "
        f"growth exponent {alpha:.2f} (CPU per work ~ books^{alpha:.2f}) | {per_work:.2f} s a work at "
        f"200,000 books: {match_cpu_h:,.0f} CPU-h; {nodes(match_cpu_h, 24)} of {CORES_PER_NODE} cores "
        f"for 24 hours |",
        f"| peak memory per process | `corpus add` {small['corpus_add']['peak_mb']:,} -> "
        f"{large['corpus_add']['peak_mb']:,} MB, `match` {small['match']['peak_mb']:,} -> "
        f"{large['match']['peak_mb']:,} MB | plan {ram_per_cpu} GB per CPU |",
        f"| evidence rows | {rows_per_work:.1f} per work, of which "
        f"{notice[1] / large['works']:.1f} notices only | {m['evidence_rows'] / 1e6:.1f} M rows as measured "
        f"(notice rows grow with the books sharing the notice); without them "
        f"{TARGET_WORKS * (rows_all[1] - notice[1]) / large['works'] / 1e6:.1f} M |",
        f"| the works held by one `match` run | {fp_per_mb * book_mb:,.0f} fingerprints a book at the book level; "
        f"works matched in batches of at most 500 files and 64 MB of work text (match/run.py), so ~"
        f"{int(64 // max(book_mb, 1e-9)):,} books a batch in memory at once; the run's fingerprint totals, about "
        f"24 bytes a distinct work fingerprint, in DuckDB (on disk past 768 MB) | {m['driver_gb'] * 24 / 40:,.0f} GB "
        f"of totals on the case's disk for 500,000 works in one run, or runs of {m['batch_works']:,} works side by "
        f"side |",
    ]
    return rows, m


def write_docs(doc: Path, results: list[dict], plan: dict, data: Path) -> None:
    from ascertain.report.doc_sections import write_section

    sizes = ",".join(str(r["books"]) for r in results)
    works = results[-1]["works"]
    measured = " and ".join(f"{r['books']:,}" for r in results)
    pool = plan["pool"]
    b = ["## Books at scale: thousands of books at the book level, a works list of books (issue 28 item 6)", "",
         f"`nice -n 10 python3 benchmarks/books_corpus.py {data} --books {plan['books']} --works "
         f"{len(plan['works'])}` then `nice -n 10 python3 benchmarks/books_scale.py {data} --sizes SIZE --works "
         f"{works}` for each size ({sizes}), then `python3 benchmarks/books_scale.py {data} --docs "
         "docs/benchmarks.md`.", "",
         f"The corpus: {plan['books']:,} distinct books, {plan['text_bytes'] / 1e9:.2f} GB of text, built from the "
         f"real prose on this machine ({pool['documents']:,} documents cut into {pool['chapters']} chapters, "
         f"{pool['bytes'] / 1e6:.1f} MB: Pride and Prejudice, the Rust project's books, Node.js's API "
         "documentation, Vim's help, Perl's pod, licence texts): each book is a seeded choice of chapters under "
         "its own letter and digit substitution (its words its own, its sentence, paragraph and word-length "
         "structure and word frequencies those of real text), 60 % carry the same copyright page, "
         f"{len(plan['reissues'])} are reissues of a book of the first 1,000 (rewrapped, curly quotes, new title "
         "page). The works: in turn verbatim copies of a corpus book, edited copies (a word of every fifth "
         "sentence replaced, one paragraph in twenty dropped, rewrapped), partial copies (10-50 % of a book's "
         "chapters, the rest from a book not in the corpus) and absent books; all planted from the first 1,000 "
         "books, so every size holds the same planted copies (benchmarks/books_corpus.py's docstring). One "
         "process per command on the shared 2-core machine, nice 5-10, load average 3-16 from other jobs "
         "throughout: wall times are several times the CPU times; CPU seconds are the figure to scale. "
         f"Measured: {measured} "
         f"of the {plan['books']:,} books built, the first {works} works of the list of {len(plan['works']):,} "
         "(see below the section for what was not measured and why).", "",
         "| books | text GB | `corpus add` wall s | CPU s | CPU s per MB | peak RSS MB | index MB | index / text |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        a = r["corpus_add"]
        b.append(f"| {r['books']:,} | {a['text_mb'] / 1e3:.2f} | {a['wall_s']:,} | {a['cpu_s']:,} | "
                 f"{a['cpu_s'] / a['text_mb']:.3f} | {a['peak_mb']:,} | {a['index_mb']:,.0f} | "
                 f"{a['index_mb'] / a['text_mb']:.2f} |")
    b += ["", "| books | works | `match` wall s | CPU s | CPU s per work | peak RSS MB | evidence rows | by decision "
          "| rows per work (median, max) |", "|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results:
        m, c = r["match"], r["check"]
        dec = ", ".join(f"{k} {v:,}" for k, v in c["decisions"].items())
        b.append(f"| {r['books']:,} | {r['works']:,} | {m['wall_s']:,} | {m['cpu_s']:,} | {m['cpu_s_per_work']} | "
                 f"{m['peak_mb']:,} | {c['evidence_rows']:,} | {dec} | {c['rows_per_work_median_max'][0]}, "
                 f"{c['rows_per_work_median_max'][1]} |")
    b += ["", "Planted against found (a copy is found when its evidence row is `copied`):", "",
          "| books | kind | works | planted copies | found | missed | found, not planted | own coverage of "
          "the found (min, median) |", "|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        for kind, k in r["check"]["per_kind"].items():
            cov = k["own_coverage_min_median"]
            extra = ""
            if k.get("partial_share_abs_error_median_max"):
                e = k["partial_share_abs_error_median_max"]
                extra = f"; against the share planted: error median {e[0]}, max {e[1]}"
            b.append(f"| {r['books']:,} | {kind} | {k['works']} | {k['planted_copies']} | {k['found_planted']} | "
                     f"{k['missed']} | {k['found_unplanted']} | {f'{cov[0]}, {cov[1]}' if cov else '-'}{extra} |")
    rows, m = cost_model(results, plan)
    b += ["", "### Cost model: 200,000 books and a works list of 500,000 titles on a cluster", "", *rows, "",
          f"Assumptions: books of the measured mean size ({m['book_mb']:.2f} MB) and kind (prose at the book "
          f"level); `corpus add` CPU linear in the text (per MB as measured at the largest size); `match` CPU per "
          f"work growing with the corpus as measured between the sizes (exponent {m['alpha']:.2f}, extrapolated "
          f"{TARGET_BOOKS // results[-1]['books']}x past the largest size measured: the weakest link of the "
          f"model); {CORES_PER_NODE}-core nodes at {EFFICIENCY:.0%} parallel efficiency (not measured here: the "
          "two-node figures above are on one machine); memory: the peak of one process x 1.5, rounded up, per "
          "CPU (each task holds one shard, one partition or one chunk of documents); the case folder on a shared "
          "filesystem at the same path on every node. Each title is assumed to have a book's text; titles known "
          "by metadata only cost a `link`, not a match."]
    write_section(doc, "books-scale", "\n".join(b) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--sizes", default="2000,10000")
    ap.add_argument("--works", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=None, help="where the cases go [default: DATA/../]")
    ap.add_argument("--docs", type=Path, default=None, help="write the books-scale section of this file from "
                    "WORK/results.json (sizes in --sizes order) and stop")
    a = ap.parse_args()
    plan = json.loads((a.data / "plan.json").read_text())
    work = a.out or a.data.parent
    src = Path(__file__).resolve().parents[1] / "src"
    results_file = work / "results.json"
    if a.docs:
        sys.path.insert(0, str(src))
        res = json.loads(results_file.read_text())
        write_docs(a.docs, [res[f"{n}x{a.works}"] for n in a.sizes.split(",")], plan, a.data)
        return
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
