"""`ascertain validate --short-works`: short works, copied or independent, with and without a reference.

The labelled set is real code (validation/independent.py): functions and methods of MIN_LINES–MAX_LINES lines
with the same name in different installed distributions are independent solutions of the same task
(negatives; vendored trees, related projects and pairs evidently related on their own evidence left out:
`relation`); copies are known transformations of the same functions (validation/transforms.py): comments and
layout, renamed identifiers, reordered independent statements, all of them at once, and a 70 % excerpt of the
renamed and reformatted function. Tasks are split by seed into a tuning half, on which INDEPENDENT_REACHED (so
SIZE_BARS) and ALPHA (match/short_works.py) were chosen, and a held-out half, on which the figures are
reported. Every independent pair's highest own coverage and most own tokens in one span over the code levels
(the size bar off) are recorded, and the bars are derived again from this run's tuning half (`derived_bars`)
to show whether the constants still hold.

Two modes, each pair decided by `ascertain compare` (level auto):
  no reference    the documented rule and the size bar of the work's size;
  reference       `--reference` with the task's other implementations (leave one out: neither side of the
                  pair, nor a project related to either), the decision by empirical p-value; only tasks whose
                  reference gives at least `pairs_needed()` independent pairs are in this mode.
copydetect (the peer) scores the same pairs; its threshold is set at a 5 % false-positive rate on the tuning
half and applied to the held-out half (and, as a bound in its favour, at 5 % on the held-out half itself).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from ascertain.fingerprint.winnow import Params
from ascertain.match.auto_level import Leveled, auto_levels
from ascertain.match.compare import Comparer
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import compare_prepared
from ascertain.match.reference import Reference
from ascertain.match.short_works import ALPHA, INDEPENDENT_REACHED, SIZE_BARS, derive_bar, pairs_needed
from ascertain.readers import Document
from ascertain.validation import transforms as tf
from ascertain.validation.cases import own_tokens_per_line
from ascertain.validation.independent import (
    Function,
    build_independent_set,
    file_name,
    mine_functions,
    relation,
)
from ascertain.validation.intervals import wilson

MIN_LINES, MAX_LINES = 6, 60
MIN_OWN = Thresholds().min_work_own_tokens  # below: `inconclusive` by the documented floor, not in the headline
MAX_REFERENCE = 12  # implementations per task in the reference: 10 + 90 independent pairs for each pair
COPIES = {"comments/layout": ("strip_comments", "reformat"), "added comments": ("add_comments",),
          "rename": ("rename",), "reorder": ("reorder_statements",),
          "all combined": ("rename", "reorder_statements", "strip_comments", "reformat"),
          "70 % excerpt, renamed and reformatted": ("rename", "reformat", "excerpt")}
EXCERPT_SHARE = 0.7
TARGETS = {"max_fpr": 0.05, "min_recall_no_reference": 0.60, "min_recall_reference": 0.70}
TARGET_COPIES = ("comments/layout", "rename", "reorder")
MODES = ("no reference", "reference")
PEER_FPR = 0.05


def _docs(fs: list[Function]) -> list[Document]:
    return [Document(f"{f.path}:{f.line}", f.text, "python", hashlib.sha256(f.text.encode()).hexdigest())
            for f in fs]


def _copy(f: Function, name: str, rng: random.Random) -> str | None:
    text = f.text
    steps = COPIES[name]
    if "excerpt" in steps:  # whole lines holding about EXCERPT_SHARE of the own tokens, renamed and reformatted
        a, b, _ = tf.partial(own_tokens_per_line(text), rng, EXCERPT_SHARE)
        return "".join(tf.reformat_lines(tf.rename(text, rng), rng)[a:b])
    for step in steps:
        text = getattr(tf, step)(text, rng)
    if name == "reorder" and text == f.text:
        return None  # no two independent statements to swap: not a reorder copy
    return text


_PARAMS, _NO_BAR = Params(), Thresholds(size_bars=False)


def pair_scores(work: str, copy: str) -> dict:
    """The pair's highest own coverage and most own tokens in one span over the code levels, the size bar
    off (what `INDEPENDENT_REACHED` records for independent pairs)."""
    w, c = (Leveled(Path(x).read_text(encoding="utf-8"), "python", x, x, _PARAMS) for x in (work, copy))
    cov, span = 0.0, 0
    for level in auto_levels("python"):
        r = compare_prepared(w.at(level), c.at(level), _PARAMS, _NO_BAR, align=False)
        cov, span = max(cov, r["own_coverage"]), max(span, r["decision_basis"]["size_bar"]["own_tokens_in_one_span"])
    return {"score": round(cov, 6), "one_span": span}


def own_tokens_bucket(n: int) -> str:
    if n < MIN_OWN:
        return f"< {MIN_OWN} (too small to tell)"
    lo = MIN_OWN
    for top, *_ in SIZE_BARS:
        if n <= top:
            return f"{lo}–{top}"
        lo = top + 1
    return f"> {SIZE_BARS[-1][0]}"


def derived_bars(rows: list[dict], split: str = "tuning") -> list[dict]:
    """Per size band: what the split's independent pairs reached (highest own coverage, most own tokens in one
    span) and the bar `derive_bar` makes of it, beside the bar in force (SIZE_BARS)."""
    out, lo = [], MIN_OWN
    for (top, *bar), (_, rc, rs) in zip(SIZE_BARS, INDEPENDENT_REACHED, strict=True):
        neg = [r for r in rows if r["kind"] == "independent" and r["split"] == split and lo <= r["own_tokens"] <= top]
        cov = max((r["score"] for r in neg), default=0.0)
        span = max((r["one_span"] for r in neg), default=0)
        out.append({"own_tokens": [lo, top], "pairs": len(neg), "reached_coverage": cov, "reached_one_span": span,
                    "derived_bar": list(derive_bar(cov, span)), "bar_in_force": bar,
                    "constants_reached": [rc, rs]})
        lo = top + 1
    return out


def run_short_works(work_dir: Path, seed: int = 11, max_tasks: int | None = 1200, max_pairs_per_task: int = 3,
                    peers: bool = True, mined: dict[str, list[Function]] | None = None,
                    on_progress: Callable[[str], None] = lambda _m: None) -> dict:
    t0 = time.perf_counter()
    rng = random.Random(seed)
    mined = mined if mined is not None else mine_functions(min_lines=MIN_LINES, max_lines=MAX_LINES)
    s = build_independent_set(seed, max_pairs_per_task, mined=mined, max_tasks=max_tasks)
    on_progress(f"{len(s.pairs)} independent pairs of {len({a.task for a, _ in s.pairs})} tasks in "
                f"{time.perf_counter() - t0:.1f} s")
    fdir, cdir = work_dir / "functions", work_dir / "copies"
    fdir.mkdir(parents=True, exist_ok=True)
    cdir.mkdir(parents=True, exist_ok=True)

    def path_of(f: Function) -> str:
        p = fdir / file_name(f)
        if not p.exists():
            p.write_text(f.text, encoding="utf-8")
        return str(p)

    plain = Comparer(level="auto")
    refs: dict[str, Reference | None] = {}
    related = {p for pair in s.related for p in pair}

    def reference(a: Function) -> Reference | None:
        """The task's implementations (at most MAX_REFERENCE, projects in no related pair): the work's and the
        copy's own texts are left out of the baseline by `Reference.assess` (leave one out)."""
        if a.task not in refs:
            fs: list[Function] = []
            for f in s.by_task[a.task]:  # implementations of projects in no related pair, none related to another
                if f.package not in related and all(relation(f, g) is None for g in fs):
                    fs.append(f)
                if len(fs) == MAX_REFERENCE:
                    break
            n = len(fs) - 2  # the pair's two sides are left out
            refs[a.task] = Reference(_docs(fs), f"{len(fs)} implementations of {a.task}") \
                if n > 0 and n * n >= pairs_needed() else None  # n work-reference pairs, n(n-1) among them
        return refs[a.task]

    def decide(work: str, copy: str, ref: Reference | None) -> dict:
        out = {"no reference": plain.compare(work, copy)["decision"]}
        if ref is not None:
            r = Comparer(level="auto", reference=ref).compare(work, copy)
            out["reference"] = r["decision"]
            out["p_value"] = r["chance_baseline"]["p_value"]
        return out

    rows: list[dict] = []
    for a, b in s.pairs:
        wa, wb = path_of(a), path_of(b)
        r = plain.compare(wa, wb)
        rows.append({"kind": "independent", "task": a.task, "split": s.split[a.task], "work": wa, "copy": wb,
                     "own_tokens": r["work_own_tokens"], **pair_scores(wa, wb), **decide(wa, wb, reference(a))})
    on_progress(f"independent pairs decided in {time.perf_counter() - t0:.1f} s")
    works = sorted({a for a, _ in s.pairs}, key=lambda f: (f.task, f.package, f.path))
    for a in works:
        wa = path_of(a)
        for name in COPIES:
            text = _copy(a, name, rng)
            if text is None:
                continue
            p = cdir / f"{Path(wa).stem}-{re.sub(r'[^a-z0-9]+', '_', name).strip('_')}.py"
            p.write_text(text, encoding="utf-8")
            r = plain.compare(wa, str(p))
            rows.append({"kind": "copy", "transform": name, "task": a.task, "split": s.split[a.task], "work": wa,
                         "copy": str(p), "own_tokens": r["work_own_tokens"],
                         **decide(wa, str(p), reference(a))})
    on_progress(f"copies decided in {time.perf_counter() - t0:.1f} s")
    peer = copydetect_rows(rows) if peers else None
    (work_dir / "short-works-rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"seed": seed, "tasks": len({a.task for a, _ in s.pairs}), "pairs": len(s.pairs),
            "dropped_pairs": s.dropped_pairs, "related_project_pairs": len(s.related), "why_related": s.why_related,
            "lines": [MIN_LINES, MAX_LINES], "size_bars": [list(b) for b in SIZE_BARS],
            "derived_bars": {sp: derived_bars(rows, sp) for sp in ("tuning", "held-out")},
            "alpha": ALPHA, "pairs_needed": pairs_needed(),
            "summary": summarize(rows), "copydetect": peer, "seconds": round(time.perf_counter() - t0, 1)}


def copydetect_rows(rows: list[dict]) -> dict:
    """copydetect's share of the work's fingerprints found in the copy for every row; its threshold at a 5 %
    false-positive rate on the tuning half's independent pairs, and its figures on the held-out half."""
    from copydetect import CodeFingerprint, compare_files

    cache: dict[str, CodeFingerprint] = {}

    def fp(path: str) -> CodeFingerprint:
        if path not in cache:
            cache[path] = CodeFingerprint(path, 25, 6, language="python")
        return cache[path]

    errors = 0
    for r in rows:
        try:
            _, (sim, _), _ = compare_files(fp(r["work"]), fp(r["copy"]))
            r["copydetect"] = float(sim)
        except Exception:  # noqa: BLE001 (a peer's failure on one pair is a miss, counted)
            r["copydetect"], errors = 0.0, errors + 1

    def threshold(neg: list[float]) -> float:
        """The least score above which at most PEER_FPR of the negatives fall."""
        neg = sorted(neg, reverse=True)
        k = int(PEER_FPR * len(neg))
        return (neg[k] + 1e-9) if k < len(neg) else 0.0

    neg = [r for r in rows if r["kind"] == "independent" and r["own_tokens"] >= MIN_OWN]
    tune = threshold([r["copydetect"] for r in neg if r["split"] == "tuning"])
    held = threshold([r["copydetect"] for r in neg if r["split"] == "held-out"])
    out = {"errors": errors, "threshold_tuning": round(tune, 4), "threshold_held_out": round(held, 4)}
    for name, th in (("at tuning threshold", tune), ("at held-out 5 % threshold", held)):
        ho = [r for r in rows if r["split"] == "held-out" and r["own_tokens"] >= MIN_OWN]
        neg = [r["copydetect"] >= th for r in ho if r["kind"] == "independent"]
        out[name] = {"fpr": _rate(sum(neg), len(neg)), "copies": {
            t: _rate(sum(r["copydetect"] >= th for r in ho if r.get("transform") == t),
                     sum(r.get("transform") == t for r in ho)) for t in COPIES},
            "target_copies": _rate(sum(r["copydetect"] >= th for r in ho if r.get("transform") in TARGET_COPIES),
                                   sum(r.get("transform") in TARGET_COPIES for r in ho))}
    return out


def _rate(k: int, n: int) -> dict:
    return {"k": k, "n": n, "rate": round(k / n, 4) if n else None, "ci95": wilson(k, n) if n else None}


def _bucket_order(names: set[str]) -> list[str]:
    order = [own_tokens_bucket(0)] + [own_tokens_bucket(b[0]) for b in SIZE_BARS] + \
        [own_tokens_bucket(SIZE_BARS[-1][0] + 1)]
    return [b for b in order if b in names]


def _by_size(neg: list[dict], target: list[dict], mode: str, b: str) -> dict:
    n = [r for r in neg if own_tokens_bucket(r["own_tokens"]) == b]
    p = [r for r in target if own_tokens_bucket(r["own_tokens"]) == b]
    return {"fpr": _rate(sum(r[mode] == "copied" for r in n), len(n)),
            "recall": _rate(sum(r[mode] == "copied" for r in p), len(p))}


def summarize(rows: list[dict]) -> dict:
    out: dict = {}
    for split in ("tuning", "held-out"):
        every = [r for r in rows if r["split"] == split]
        sub = [r for r in every if r["own_tokens"] >= MIN_OWN]
        part: dict = {}
        for mode in MODES:
            neg = [r for r in sub if r["kind"] == "independent" and mode in r]
            pos = {t: [r for r in sub if r.get("transform") == t and mode in r] for t in COPIES}
            target = [r for t in TARGET_COPIES for r in pos[t]]
            neg_all = [r for r in every if r["kind"] == "independent" and mode in r]
            target_all = [r for r in every if r.get("transform") in TARGET_COPIES and mode in r]
            part[mode] = {
                "fpr": _rate(sum(r[mode] == "copied" for r in neg), len(neg)),
                "independent_inconclusive": sum(r[mode] == "inconclusive" for r in neg),
                "recall": {t: _rate(sum(r[mode] == "copied" for r in v), len(v)) for t, v in pos.items()},
                "recall_target_copies": _rate(sum(r[mode] == "copied" for r in target), len(target)),
                "copies_inconclusive": sum(r[mode] == "inconclusive" for r in target),
                "by_size": {b: _by_size(neg_all, target_all, mode, b)
                            for b in _bucket_order({own_tokens_bucket(r["own_tokens"]) for r in every})},
            }
        out[split] = part
    return out


def check_targets(summary: dict) -> dict:
    h = summary["held-out"]
    res = {}
    for mode, key in (("no reference", "min_recall_no_reference"), ("reference", "min_recall_reference")):
        fpr, rec = h[mode]["fpr"]["rate"], h[mode]["recall_target_copies"]["rate"]
        res[f"{mode}: FPR ≤ {TARGETS['max_fpr']}"] = fpr is not None and fpr <= TARGETS["max_fpr"]
        res[f"{mode}: recall ≥ {TARGETS[key]}"] = rec is not None and rec >= TARGETS[key]
    return res


def _cell(x: dict | None) -> str:
    if not x or not x["n"]:
        return "–"
    lo, hi = x["ci95"]
    return f"{x['rate']:.3f} [{lo:.3f}, {hi:.3f}] ({x['k']}/{x['n']})"


def markdown(res: dict, command: str) -> str:
    sm, h = res["summary"], res["summary"]["held-out"]
    lines = [
        "## Short works: copied, not copied, or inconclusive\n",
        f"Command: `{command}`\n",
        f"Same-task independent solutions: {res['pairs']:,} pairs of functions and methods of "
        f"{res['lines'][0]}–{res['lines'][1]} lines with the same name in different installed distributions "
        f"({res['tasks']:,} tasks, validation/independent.py). {res['dropped_pairs']} pairs left out as evidently "
        "related, not independent: " + "; ".join(f"{k} {v}" for k, v in res.get("why_related", {}).items())
        + ". Copies: the same functions with comments stripped and layout changed, comments added, "
        "identifiers renamed, adjacent independent statements reordered (functions with none to swap have no "
        "reorder copy), all combined, and 70 % of the function's own tokens (whole lines) renamed and "
        f"reformatted. Tasks are split by seed {res['seed']}: the size bars (per band of own tokens: own "
        "coverage ≥ c or ≥ t own tokens in spans of 40+ tokens; "
        + ", ".join(f"≤ {top}: c = {c}, t = {t}" for top, c, t in res["size_bars"]) + f") and α = {res['alpha']} "
        "(match/short_works.py) were chosen on the tuning half; the held-out half is reported. *reference* is "
        "`--reference` with the task's other implementations (leave one out; projects related to either side "
        f"and implementations related to each other left out), on tasks whose reference gives at least "
        f"{res['pairs_needed']} independent pairs. "
        f"The headline figures are on works of at least {MIN_OWN} own tokens (below, every pair is `inconclusive` "
        "by the documented floor; the size table shows them). Cells: rate [95 % Wilson interval] (k/n).\n",
        "### What independent pairs reach, per size band, and the bars\n",
        "Highest own coverage and most own tokens in one span over the code levels (size bar off), and the bar "
        "`derive_bar` makes of them (own coverage + 0.2, twice the span, never below the documented rule: 0.8, "
        "50 tokens).\n",
        "| own tokens | tuning: pairs, coverage, one span | derived bar | bar in force | held-out: pairs, coverage, "
        "one span |\n|---|---|---|---|---|",
    ]
    for t, h2 in zip(res["derived_bars"]["tuning"], res["derived_bars"]["held-out"], strict=True):
        lines.append(f"| {t['own_tokens'][0]}–{t['own_tokens'][1]} | {t['pairs']}, {t['reached_coverage']:.3f}, "
                     f"{t['reached_one_span']} | {t['derived_bar'][0]}, {t['derived_bar'][1]} | "
                     f"{t['bar_in_force'][0]}, {t['bar_in_force'][1]} | {h2['pairs']}, "
                     f"{h2['reached_coverage']:.3f}, {h2['reached_one_span']} |")
    lines += [
        "",
        "### Held-out half\n",
        "| | no reference | reference |\n|---|---|---|",
        "| independent pairs called `copied` (FPR) | " + " | ".join(_cell(h[m]["fpr"]) for m in MODES) + " |",
        "| independent pairs `inconclusive` | " + " | ".join(str(h[m]["independent_inconclusive"]) for m in MODES)
        + " |",
        "| **recall: comments/layout, rename, reorder copies** | "
        + " | ".join(_cell(h[m]["recall_target_copies"]) for m in MODES) + " |",
    ]
    lines += [f"| recall: {t} | " + " | ".join(_cell(h[m]["recall"][t]) for m in MODES) + " |" for t in COPIES]
    lines += ["| target copies `inconclusive` | " + " | ".join(str(h[m]["copies_inconclusive"]) for m in MODES)
              + " |", ""]
    lines += ["### Held-out half by size of the work (own tokens)\n",
              "| own tokens | FPR, no reference | recall, no reference | FPR, reference | recall, reference |",
              "|---|---|---|---|---|"]
    for b in h["no reference"]["by_size"]:
        lines.append(f"| {b} | " + " | ".join(_cell(h[m]["by_size"].get(b, {}).get(k)) for m in MODES
                                              for k in ("fpr", "recall")) + " |")
    t = sm["tuning"]
    lines += ["", "### Tuning half (where the bars and α were chosen)\n",
              "| | no reference | reference |\n|---|---|---|",
              "| FPR | " + " | ".join(_cell(t[m]["fpr"]) for m in MODES) + " |",
              "| recall: comments/layout, rename, reorder | " + " | ".join(_cell(t[m]["recall_target_copies"])
                                                                     for m in MODES) + " |", ""]
    cd = res.get("copydetect")
    if cd:
        lines += ["### copydetect 0.5.0 on the same pairs (no reference)\n",
                  "| threshold | FPR (held-out) | recall: comments/layout, rename, reorder | all combined |",
                  "|---|---|---|---|"]
        for name, th in (("at tuning threshold", cd["threshold_tuning"]),
                         ("at held-out 5 % threshold", cd["threshold_held_out"])):
            c = cd[name]
            lines.append(f"| {th} ({name}) | {_cell(c['fpr'])} | {_cell(c['target_copies'])} | "
                         f"{_cell(c['copies']['all combined'])} |")
        lines.append("")
    targets = check_targets(sm)
    lines.append("Targets (held-out): " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items())
                 + f". One run, {res['seconds']} s.\n")
    return "\n".join(lines)

