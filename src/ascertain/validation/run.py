"""`ascertain validate`: labelled cases, ascertain at each level and the peers on the same files, one run."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path

from ascertain.fingerprint.minhash import NEAR_DUPLICATE_JACCARD
from ascertain.validation.cases import Case, build_cases, build_prose_cases
from ascertain.validation.evaluate import ascertain_scores, minhash_scores, scored_peer, summarize, timed
from ascertain.validation.paraphrase_cases import evaluate_paraphrase
from ascertain.validation.peers import PeerFailed, copydetect_scores, dolos_available, dolos_scores

LEVELS_MEASURED = ("auto", "layout", "identifiers")
PROSE_LEVELS = ("auto", "layout", "prose")
TARGETS = {"min_recall_single_50plus": 0.98, "min_recall_combined_50plus": 0.90, "max_fpr": 0.001}
COPYDETECT_DEFAULT = 0.33  # copydetect's own display threshold


def run_validation(work_dir: Path, works: int = 150, negatives: int = 20, seed: int = 7, peers: bool = True,
                   prose_works: int = 50, on_progress: Callable[[str], None] = lambda _m: None,
                   processes: int = 1) -> dict:
    """Every figure of the copy-detection validation; `processes` share ascertain's pairs out (same decisions,
    see evaluate.ascertain_scores), the peers run as they do alone."""
    t0 = time.perf_counter()
    skipped: list[dict] = []  # cases that could not be built: listed, never a crash
    cases = build_cases(work_dir / "cases", works=works, negatives_per_work=negatives, seed=seed, skipped=skipped)
    on_progress(f"{len(cases)} cases built from {works} works in {time.perf_counter() - t0:.1f} s"
                + (f"; {len(skipped)} could not be built (skipped_cases)" if skipped else ""))
    result: dict = {"works": works, "negatives_per_work": negatives, "seed": seed, "cases": len(cases),
                    "processes": processes,
                    "skipped_cases": skipped,
                    "positives": sum(c.label for c in cases), "negatives": sum(not c.label for c in cases),
                    "python": platform.python_version(), "levels": {}, "peers": []}
    for level in LEVELS_MEASURED:
        found, rate = ascertain_scores(cases, level, processes=processes)
        s = summarize(cases, found)
        result["levels"][level] = {"tool": f"ascertain ({level})", "pairs_per_s": round(rate, 1), **s}
        on_progress(f"ascertain {level}: {rate:.1f} pairs/s, FPR {s['fpr']}")
    scores, secs = timed(lambda: minhash_scores(cases))
    result["minhash"] = {"tool": "MinHash (whole document)", "threshold": NEAR_DUPLICATE_JACCARD,
                         "pairs_per_s": round(len(cases) / secs, 1),
                         **summarize(cases, {k: v >= NEAR_DUPLICATE_JACCARD for k, v in scores.items()})}
    on_progress(f"MinHash: {len(cases) / secs:.1f} pairs/s")
    main = result["levels"]["auto"]
    max_fpr = max(main["fpr"], TARGETS["max_fpr"])
    result["peer_fpr_budget"] = max_fpr
    if peers:
        result["peers"].append(_run_peer("copydetect 0.5.0", lambda: copydetect_scores(cases), cases, max_fpr,
                                         on_progress, COPYDETECT_DEFAULT))
        why = dolos_available()
        if why is None:
            result["peers"].append(_run_peer("Dolos (dolos-lib 3.5.1)", lambda: dolos_scores(cases), cases,
                                             max_fpr, on_progress))
        else:
            result["peers"].append({"tool": "Dolos", "not_run": why})
    result["prose"] = validate_prose(work_dir, prose_works, negatives, seed, on_progress, processes)
    result["targets"] = check_targets(main, result["peers"])
    prose = result["prose"]["levels"]["auto"]
    result["targets"].update({f"prose: {k}": v for k, v in check_targets(prose, []).items()})
    result["paraphrase"] = evaluate_paraphrase(seed)
    pp = result["paraphrase"]
    on_progress(f"paraphrase: recall {pp.get('recall', '-')}, FPR {pp.get('fpr', '-')}")
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def _run_peer(name: str, run: Callable[[], tuple[dict[str, float], list[str]]], cases: list[Case],
              max_fpr: float, on_progress: Callable[[str], None], default: float | None = None) -> dict:
    """A peer's figures at the FPR budget; a peer that failed is reported as not run, never as recall 0."""
    try:
        (scores, errors), secs = timed(run)
    except PeerFailed as e:
        on_progress(f"{name}: not run: {e}")
        return {"tool": name, "not_run": str(e)}
    res = scored_peer(name, scores, secs, cases, max_fpr, default)
    if errors:
        res["errors"] = {"pairs": len(errors), "first": errors[:5]}
    on_progress(f"{name}: {res['pairs_per_s']} pairs/s" + (f", failed on {len(errors)} pairs" if errors else ""))
    return res


def validate_prose(work_dir: Path, works: int, negatives: int, seed: int,
                   on_progress: Callable[[str], None], processes: int = 1) -> dict:
    """The same measures on real prose (package descriptions): levels auto, layout, prose, and MinHash."""
    cases = build_prose_cases(work_dir / "prose-cases", works=works, negatives_per_work=negatives, seed=seed)
    res: dict = {"works": works, "positives": sum(c.label for c in cases),
                 "negatives": sum(not c.label for c in cases), "levels": {}}
    for level in PROSE_LEVELS:
        found, rate = ascertain_scores(cases, level, processes=processes)
        res["levels"][level] = {"tool": f"ascertain ({level})", "pairs_per_s": round(rate, 1),
                                **summarize(cases, found)}
    scores, secs = timed(lambda: minhash_scores(cases))
    res["minhash"] = {"tool": "MinHash (whole document)", "threshold": NEAR_DUPLICATE_JACCARD,
                      "pairs_per_s": round(len(cases) / secs, 1),
                      **summarize(cases, {k: v >= NEAR_DUPLICATE_JACCARD for k, v in scores.items()})}
    on_progress(f"prose: {len(cases)} cases, auto FPR {res['levels']['auto']['fpr']}")
    return res


def check_targets(main: dict, peers: list[dict]) -> dict:
    out = {
        "recall_single_50plus_each >= 0.98": main["min_recall_single_50plus"] >= TARGETS["min_recall_single_50plus"],
        "recall_combined_50plus_each >= 0.90":
            main["min_recall_combined_50plus"] >= TARGETS["min_recall_combined_50plus"],
        "fpr <= 0.001": main["fpr"] <= TARGETS["max_fpr"],
    }
    for p in peers:
        if "not_run" in p:
            continue
        out[f"recall >= {p['tool']} (same FPR)"] = (
            main["recall_single_50plus"]["rate"] >= p["recall_single_50plus"]["rate"]
            and main["recall_combined_50plus"]["rate"] >= p["recall_combined_50plus"]["rate"])
    return out


def _by_transform(tools: list[dict]) -> str:
    """Recall per transformation (copies of at least 50 tokens), one column per tool."""
    head = "| | " + " | ".join(t["tool"] for t in tools) + " |\n|---|" + "---|" * len(tools) + "\n"
    return head + "".join(
        f"| {t} | " + " | ".join(_pct(x["recall_by_transform_50plus"].get(t, {})) for x in tools) + " |\n"
        for t in tools[0]["recall_by_transform_50plus"])


def prose_markdown(p: dict) -> list[str]:
    tools = [p["levels"][lv] for lv in PROSE_LEVELS] + [p["minhash"]]
    return [
        "### Prose\n",
        f"The same measures on real prose: {p['works']} package descriptions (the long descriptions in the "
        f"installed packages' METADATA, i.e. their READMEs) as works, {p['positives']:,} copies and "
        f"{p['negatives']:,} unrelated descriptions as negatives. `auto` for prose compares the layout "
        "and prose levels (words only: punctuation, quote style and case ignored). copydetect and Dolos are code "
        "tools and are not run on prose.\n",
        _by_transform(tools),
        "| | " + " | ".join(t["tool"] for t in tools) + " |\n|---|" + "---|" * len(tools) + "\n"
        + "| single, ≥ 50 tokens | " + " | ".join(_pct(x["recall_single_50plus"]) for x in tools)
        + " |\n| combined, ≥ 50 tokens | " + " | ".join(_pct(x["recall_combined_50plus"]) for x in tools)
        + " |\n| false positives / negatives | " + " | ".join(f"{x['fp']} / {x['negatives']:,}" for x in tools)
        + " |\n| pairs/s | " + " | ".join(str(x["pairs_per_s"]) for x in tools) + " |\n",
    ]


def _pct(r: dict) -> str:
    return f"{r['rate']:.3f} ({r['n']})" if r.get("n") else "–"


def markdown(res: dict, command: str) -> str:
    tools = ([res["levels"][lv] for lv in LEVELS_MEASURED] + [p for p in res["peers"] if "not_run" not in p]
             + [res["minhash"]])
    head = "| | " + " | ".join(t["tool"] for t in tools) + " |\n|---|" + "---|" * len(tools) + "\n"
    lines = [
        "## Modified and partial copies: recall, precision and false-positive rate\n",
        f"Command: `{command}`\n",
        f"Cases: {res['works']} real Python files of this machine's installed packages as works (seed "
        f"{res['seed']}); {res['positives']:,} copies made by known transformations (copies of part of a file "
        f"are placed between the top-level statements of an unrelated real file) and {res['negatives']:,} "
        "unrelated real files from other packages as negatives. A copy's length counts the work's own tokens "
        "it reproduces (tokens of copyright and license notices are not the work's expression). ascertain "
        "decides at its documented thresholds; each peer's threshold is the lowest score at which its "
        f"false-positive rate on the same negatives is at most {res['peer_fpr_budget']}, so recall is compared "
        "at the same false-positive rate. `auto` is the default rule of `ascertain compare`: the layout, comments "
        "and identifiers levels are compared and a copy is found if one of them finds it (the level reported is "
        "the one that explains the copy best; see docs/methods.md). The whole-document MinHash signal (estimated "
        f"Jaccard of the fingerprint sets ≥ {NEAR_DUPLICATE_JACCARD}) is reported beside them, never mixed into the "
        "verbatim figures; `scattered_edits` (about one name in twenty replaced, no consistent map) is the "
        "near-duplicate case it is for and is not one of the targets' transformations.\n",
        "### Recall per transformation, copies of at least 50 tokens\n",
        _by_transform(tools),
        "### Recall per copy length (tokens of the work reproduced), all transformations\n",
        head + "".join(
            f"| {b} | " + " | ".join(_pct(x["recall_by_length"].get(b, {})) for x in tools) + " |\n"
            for b in ("20-49", "50-99", "100-499", "500+")),
        "### Summary\n",
        head
        + "| single transformations, ≥ 50 tokens | " + " | ".join(_pct(x["recall_single_50plus"]) for x in tools)
        + " |\n| combined transformations, ≥ 50 tokens | "
        + " | ".join(_pct(x["recall_combined_50plus"]) for x in tools)
        + " |\n| lowest per-transformation recall (single / combined) | "
        + " | ".join(f"{x['min_recall_single_50plus']:.3f} / {x['min_recall_combined_50plus']:.3f}" for x in tools)
        + " |\n| precision | " + " | ".join(f"{x['precision']:.4f}" for x in tools)
        + " |\n| false positives / negatives | " + " | ".join(f"{x['fp']} / {x['negatives']:,}" for x in tools)
        + " |\n| false-positive rate | " + " | ".join(f"{x['fpr']:.5f}" for x in tools)
        + " |\n| threshold | " + " | ".join(str(x.get("threshold", "documented")) for x in tools)
        + " |\n| pairs/s (reading and tokenizing included) | " + " | ".join(str(x["pairs_per_s"]) for x in tools)
        + " |\n",
    ]
    lines += prose_markdown(res["prose"])
    for p in res["peers"]:
        if "not_run" in p:
            lines.append(f"{p['tool']} was not run: {p['not_run']}.\n")
            continue
        if "errors" in p:
            lines.append(f"{p['tool']} failed on {p['errors']['pairs']} pairs, counted as misses (first: "
                         f"{p['errors']['first'][0]}).\n")
        if "at_default_threshold" in p:
            d = p["at_default_threshold"]
            lines.append(f"{p['tool']} at its own default threshold {d['threshold']}: single "
                         f"{_pct(d['recall_single_50plus'])}, combined {_pct(d['recall_combined_50plus'])}, "
                         f"false-positive rate {d['fpr']:.5f}.\n")
    if res.get("skipped_cases"):
        lines.append(f"{len(res['skipped_cases'])} cases could not be built and were left out (first: "
                     + "; ".join(f"{x['file']} ({x['transformation']}): {x['reason']}"
                                 for x in res["skipped_cases"][:3]) + ").\n")
    lines.append("Targets: " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in res["targets"].items())
                 + f". One run, {res['seconds']} s.\n")
    return "\n".join(lines)
