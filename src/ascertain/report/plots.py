"""Plots for the report (matplotlib, SVG: inline in the HTML, vector in the PDF), byte-stable across runs."""

from __future__ import annotations

import io
import re
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

STYLE = {"svg.hashsalt": "ascertain", "svg.fonttype": "none", "font.size": 8, "axes.spines.top": False,
         "axes.spines.right": False}


def _svg(fig, name: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prologue and doctype: the SVG sits inside HTML
    # matplotlib numbers ids the same way in every figure: prefix them, so several SVGs share one page
    return re.sub(r'(id="|url\(#|href="#)([^")]+)', lambda m: f"{m[1]}{name}-{m[2]}", svg)


def _bar(name: str, labels: list[str], values: list[int], title: str, xlabel: str) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.2, 0.3 * max(3, len(labels)) + 0.6))
        ax.barh(range(len(labels)), values, color="#3b6ea5")
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        for i, v in enumerate(values):
            ax.text(v, i, f" {v}", va="center")
        return _svg(fig, name)


def _hist(name: str, values: list[float], bins, title: str, xlabel: str) -> str:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.2, 2.2))
        ax.hist(values, bins=bins, color="#3b6ea5", edgecolor="white")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("copies")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, loc="left")
        return _svg(fig, name)


def report_plots(copies: list[dict], source_kind: dict[str, str], class_counts: dict[str, int] | None) -> dict:
    """copies: the exhibits' records ({metrics, source}); returns name -> SVG text (empty when no copies)."""
    if not copies:
        return {}
    ms = [c["metrics"] for c in copies]
    runs = [m["longest_run_tokens"] for m in ms]
    top = max(runs)
    plots = {
        "coverage": _hist("coverage", [m["coverage"] for m in ms], [i / 20 for i in range(21)],
                          "Coverage of the work file by the copy", "share of the work's tokens found in the copy"),
        "longest_run": _hist("longest_run", runs, 20 if top > 20 else max(1, top), "Longest verbatim run",
                             "tokens in the longest run copied letter for letter"),
    }
    kinds: Counter = Counter()
    for m in ms:
        kinds.update({"identical" if m.get("identical") else "modified": 1})
        kinds.update(m.get("difference_counts") or {})
        if m["coverage"] < 0.999:
            kinds["partial (coverage < 1)"] += 1
    labels = sorted(kinds, key=lambda k: (-kinds[k], k))
    plots["transformations"] = _bar("transformations", labels, [kinds[k] for k in labels], "Copies by transformation",
                                    "copies (a copy may show several kinds of difference)")
    status: Counter = Counter((c["source"], (c["metrics"].get("cmi") or {}).get("status", "unknown")) for c in copies)
    labels = [f"{src} ({source_kind.get(src, '')}): {st}" for src, st in sorted(status)]
    plots["cmi"] = _bar("cmi", labels, [status[k] for k in sorted(status)], "CMI status of the copies, by source",
                        "copies")
    if class_counts:
        names = sorted(class_counts)
        plots["classes"] = _bar("classes", names, [class_counts[n] for n in names], "Class members", "works")
    return plots
