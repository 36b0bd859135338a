"""Time and peak memory of `ascertain report` and `ascertain verify` on a case of 10,000 evidence records.

    python3 benchmarks/report.py [--works 500] [--snippets 19] [--case EXISTING_CASE]
    python3 benchmarks/report.py --corpus-mb 200     # the benchmark case of benchmarks/run.py (1,000 works)

The case is built from real Python files of this machine's installed packages (sorted, so the same machine
gives the same case): each of `--works` files is a work; the corpus holds one whole copy of each work (header
stripped from every third, reformatted every fifth: the exhibits) and `--snippets` documents per work that
each embed a run of 12 words of it (about 30 tokens) in an unrelated real file, used once
(evidence below the copy threshold). Each command
runs in its own process on one core (benchmarks/run.py's `measure`). Writes a section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
from ascertain.report.doc_sections import write_section  # noqa: E402
from corpus import build as build_corpus  # noqa: E402
from run import DATA, WORK, bench_ascertain, make_works, measure  # noqa: E402

ASC = [sys.executable, "-m", "ascertain.cli"]


def _usable(p: Path, need_copyright: bool) -> bool:
    if "test" in p.parts or "tests" in p.parts or "_vendor" in str(p):
        return False
    try:
        text = p.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    return 60 <= text.count("\n") <= 400 and (not need_copyright or "Copyright" in text[:2000])


def real_files(n: int) -> tuple[list[Path], list[Path]]:
    """n works, one per installed package in turn (files of one project share code), and n fillers from the
    standard library (unrelated to the works)."""
    site = Path(sysconfig.get_paths()["purelib"])
    by_pkg: dict[str, list[Path]] = {}
    for p in sorted(site.rglob("*.py")):
        if _usable(p, True):
            by_pkg.setdefault(p.relative_to(site).parts[0], []).append(p)
    works: list[Path] = []
    for i in range(max(map(len, by_pkg.values()), default=0)):
        works += [files[i] for _, files in sorted(by_pkg.items()) if i < len(files)]
        if len(works) >= n:
            break
    # fillers: files of other projects' trees, each used once, without a copyright header (which would
    # share notice text with the works) — so each snippet document is evidence of one work only
    taken = set(works[:n])
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    fillers = [p for p in sorted(stdlib.rglob("*.py")) + sorted(site.rglob("*.py"))
               if p not in taken and _usable(p, False) and "Copyright" not in p.read_text(encoding="utf-8")[:3000]]
    return works[:n], fillers


def build_case(root: Path, n_works: int, snippets: int) -> Path:
    works, fillers = real_files(n_works)
    if len(works) < n_works or len(fillers) < n_works * snippets:
        raise SystemExit(f"only {len(works)} works and {len(fillers)} fillers here; pass a smaller --works")
    shutil.rmtree(root, ignore_errors=True)
    (root / "works").mkdir(parents=True)
    rows = ["claimant,title,path"]
    records = []
    for i, p in enumerate(works):
        text = p.read_text(encoding="utf-8")
        dest = root / "works" / f"w{i:04d}_{p.name}"
        dest.write_text(text, encoding="utf-8")
        rows.append(f"Claimant {i % 50},work {i:04d},{dest}")
        copy = text
        if i % 3 == 0:  # header stripped: the first comment block removed
            copy = re.sub(r"\A(#[^\n]*\n)+", "", copy)
        if i % 5 == 0:
            copy = copy.replace("    ", "  ")
        records.append({"text": copy, "path": f"copies/{dest.name}"})
        words = text.split()
        for j in range(snippets):
            start = (j * 37) % max(1, len(words) - 20)
            snippet = " ".join(words[start:start + 12])  # ~30 tokens: past the 20-token guarantee, under a copy
            filler = fillers[(i * snippets + j) % len(fillers)].read_text(encoding="utf-8")
            half = len(filler) // 2
            records.append({"text": filler[:half] + "\n" + snippet + "\n" + filler[half:],
                            "path": f"snippets/{i:04d}-{j:02d}.py"})
    (root / "works.csv").write_text("\n".join(rows) + "\n")
    with open(root / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    case = root / "case"
    for cmd in (["init", str(case)], ["works", "import", str(case), str(root / "works.csv")],
                ["corpus", "add", str(case), "corpus", str(root / "corpus.jsonl")], ["match", str(case)]):
        measure(ASC + cmd)
    return case


def benchmark_case(mb: float) -> Path:
    """benchmarks/run.py's case: its real-text corpus of `mb` MB, indexed, and 1,000 works matched."""
    corpus = DATA / f"corpus-{mb:g}MB.jsonl"
    if not corpus.exists():
        info = build_corpus(corpus, int(mb * 1e6), DATA / f"holdout-{mb:g}MB")
        (DATA / f"corpus-{mb:g}MB.json").write_text(json.dumps(info))
    works, n_in = make_works(corpus, DATA / f"holdout-{mb:g}MB", 1000)
    bench_ascertain(corpus, works, n_in)
    return WORK / "case"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--works", type=int, default=500)
    ap.add_argument("--snippets", type=int, default=19)
    ap.add_argument("--case", type=Path, help="report on and verify this existing case instead")
    ap.add_argument("--corpus-mb", type=float, help="build benchmarks/run.py's case on a corpus of this size "
                    "(1,000 works, half of them taken from the corpus) and report on and verify it")
    ap.add_argument("--docs", type=Path, default=HERE.parent / "docs" / "benchmarks.md")
    a = ap.parse_args()
    if a.corpus_mb:
        a.case = benchmark_case(a.corpus_mb)
    case = a.case or build_case(WORK / "report-bench", a.works, a.snippets)
    shown, _, _ = measure(ASC + ["show", str(case), "--json"])
    summary = json.loads(shown)
    evidence = json.loads((case / "reports" / "evidence.json").read_text())["manifest"]["counts"]
    out = case / "reports" / "bench-report"
    shutil.rmtree(out, ignore_errors=True)
    r_out, r_s, r_mb = measure(ASC + ["report", str(case), "--out", str(out), "--json"])
    rep = json.loads(r_out)
    rows = [
        "| command | seconds | peak MB | result |", "|---|---|---|---|",
        f"| `ascertain report` | {r_s:.1f} | {r_mb:,.0f} | {rep['exhibits']:,} exhibits, {rep['files']:,} files |",
    ]
    for flags, what in ((["--no-rerun"], "hashes, signature and audit chain only"),
                        (["--no-reindex"], "+ match re-run, report written again; indexes taken as hashed"),
                        ([], "+ indexes rebuilt from the inputs: the full re-derivation")):
        v_out, v_s, v_mb = measure(ASC + ["verify", str(out), "--json", *flags])
        ver = json.loads(v_out)
        rows.append(f"| `ascertain verify{''.join(' ' + f for f in flags)}` ({what}) | {v_s:.1f} | {v_mb:,.0f} | "
                    f"{'verified' if ver['verified'] else 'NOT verified'} |")
    cmd = "python3 benchmarks/report.py" + (f" --corpus-mb {a.corpus_mb:g}" if a.corpus_mb else
                                            f" --case {a.case}" if a.case else
                                            f" --works {a.works} --snippets {a.snippets}")
    body = (f"## Report and verify\n\nCommand: `{cmd}`\n\nCase: {len(summary['works']):,} works, "
            f"{sum(s['documents'] for s in summary['sources']):,} corpus documents, {evidence['evidence']:,} evidence "
            f"records, {evidence['copied']:,} copies (exhibits); one core per command, wall time and peak resident "
            "memory of the process.\n\n" + "\n".join(rows) + "\n")
    write_section(a.docs, f"report-{a.corpus_mb:g}mb" if a.corpus_mb else "report", body)
    print(body)


if __name__ == "__main__":
    main()
