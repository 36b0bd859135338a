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
    kinds: Counter = Counter()  # copies showing each kind (a copy with 900 quote-mark differences counts once)
    for m in ms:
        kinds.update({"identical" if m.get("identical") else "modified": 1})
        kinds.update({k: 1 for k, v in (m.get("difference_counts") or {}).items() if v})
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


SHARE_COLORS = {"removed": "#c62828", "altered": "#e08600", "moved to metadata": "#7b1fa2", "kept": "#1565c0"}


def cmi_shares(by_source: list[dict], by_kind: list[dict]) -> str:
    """Share of copies whose CMI was removed, altered, moved to metadata or kept, by source and by kind of CMI,
    each with its 95 % Wilson interval (copy_answers.class_shares rows)."""
    panels = [("by source", by_source), ("by kind of CMI", by_kind)]
    with plt.rc_context(STYLE):
        heights = [max(1, len({r["group"] for r in rows})) for _, rows in panels]
        fig, axes = plt.subplots(2, 1, figsize=(5.6, 0.5 * sum(heights) + 1.6),
                                 gridspec_kw={"height_ratios": heights})
        statuses = list(SHARE_COLORS)
        for ax, (title, rows) in zip(axes, panels, strict=True):
            groups = sorted({r["group"] for r in rows})
            bar = 0.8 / len(statuses)
            for j, st in enumerate(statuses):
                pts = [next((r for r in rows if r["group"] == g and r["status"] == st), None) for g in groups]
                ys = [i + (j - (len(statuses) - 1) / 2) * bar for i in range(len(groups))]
                vals = [p["share"] if p else 0.0 for p in pts]
                err = [[max(0.0, v - (p["ci"][0] if p else 0)) for v, p in zip(vals, pts, strict=True)],
                       [max(0.0, (p["ci"][1] if p else 0) - v) for v, p in zip(vals, pts, strict=True)]]
                ax.barh(ys, vals, height=bar, color=SHARE_COLORS[st], label=st, xerr=err,
                        error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "#333"})
            ax.set_yticks(range(len(groups)),
                          [f"{g} (n={next(r['n'] for r in rows if r['group'] == g)})" for g in groups])
            ax.invert_yaxis()
            ax.set_xlim(0, 1)
            ax.set_title(f"CMI of the copies {title}", loc="left")
        axes[-1].set_xlabel("share of copies whose original carried CMI (bars: 95 % Wilson interval)")
        axes[0].legend(loc="lower right", fontsize=6, frameon=False, ncol=4, bbox_to_anchor=(1, 1.12))
        fig.tight_layout()
        return _svg(fig, "cmi_shares")
