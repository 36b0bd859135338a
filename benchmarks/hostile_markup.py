"""Time to read hostile markup: nested divs, before (the parser given the markup as it is) and after the
linear flattening of readers/html.py (`bounded`), at growing depths.

    python3 benchmarks/hostile_markup.py [--depths 10000,20000,40000,80000,160000] [--docs-dir docs]

Before is measured only up to 40,000 levels (it grows with the square of the depth: 100,000 levels took about
a minute in the hostile trial, issue 26). Writes the section `hostile-markup` of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
from ascertain.readers.html import _walk, html_to_text  # noqa: E402
from ascertain.report.doc_sections import write_section  # noqa: E402


def unbounded(markup: str) -> None:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    _walk(tree.body, [])


def best_of(f, markup: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f(markup)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depths", default="10000,20000,40000,80000,160000")
    ap.add_argument("--docs-dir", default=str(HERE.parent / "docs"))
    a = ap.parse_args()
    rows = []
    for n in (int(x) for x in a.depths.split(",")):
        markup = "<html><body>" + "<div>" * n + "x" + "</div>" * n + "</body></html>"
        before = best_of(unbounded, markup, 1) if n <= 40_000 else None
        after = best_of(html_to_text, markup)
        rows.append((n, len(markup), before, after))
        print(n, before, after, flush=True)
    lines = ["| depth (nested divs) | bytes | before: parse + walk (s) | after: `html_to_text` (s) | after, µs/byte |",
             "|---:|---:|---:|---:|---:|"]
    for n, size, before, after in rows:
        lines.append(f"| {n:,} | {size:,} | {'—' if before is None else f'{before:.2f}'} | {after:.3f} | "
                     f"{after / size * 1e6:.3f} |")
    body = ("### Hostile markup: deeply nested HTML (issue 26)\n\n"
            f"`python3 benchmarks/hostile_markup.py --depths {a.depths}` on {platform.processor() or 'x86_64'}, "
            "Python " + platform.python_version() + ", best of 3 (before: 1 run). Before, the time grows with "
            "the square of the depth; after, markup past 256 levels is flattened in one pass and the time per "
            "byte stays flat.\n\n" + "\n".join(lines) + "\n\n")
    write_section(Path(a.docs_dir) / "benchmarks.md", "hostile-markup", body)


if __name__ == "__main__":
    main()
