"""Tier B on real texts of distinct works: the blind baseline's refusal on fair controls, and the test's power.

The works are the topics of Python's language reference shipped with every Python (pydoc_data.topics), each
a work with a subject, names and examples of its own (ASCII tables left out, at most 500 words each). Two
measures (`ascertain probe validate --real-texts`):

- refusals on fair controls: the pool is split at random into two halves of the same distribution, many
  times; the blind baseline (dataset_inference.blind_baseline) is run split by work and, as it was before,
  split by passage. A fair split must not be refused.
- power: a small model (probe/tiny_model.py) is trained on a seeded third of the works (members); Tier B is
  run for the members and for a third never trained on (non-members) against the last third (controls).
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from ascertain.probe import dataset_inference as di
from ascertain.validation.intervals import clopper_pearson

INFER = di.InferenceParams(passage_tokens=32, max_passages_per_work=24, permutations=2000)
_TABLE = re.compile(r"^[ \t]*[+|=].*\n?", re.MULTILINE)


def first_words(text: str, n: int) -> str:
    at = [m.end() for m in re.finditer(r"\S+", text)]
    return text[:at[n - 1]] if len(at) > n else text


def real_works(seed: int = 1, min_words: int = 150, max_words: int = 500) -> list[tuple[str, str]]:
    """(topic, text) of the language-reference topics of at least `min_words` words, in a seeded order."""
    from pydoc_data.topics import topics

    prose = {k: _TABLE.sub("", v) for k, v in topics.items()}
    chosen = sorted((k, first_words(v, max_words)) for k, v in prose.items() if len(v.split()) >= min_words)
    random.Random(seed).shuffle(chosen)
    return chosen


def refusal_rates(trials: int = 40, per_side: int = 10, seed: int = 0) -> dict:
    """How often the blind baseline refuses a fair split, split by work and split by passage."""
    works = real_works(seed)
    passages = {k: di.passages(t, "prose", INFER, k) for k, t in works}
    names = sorted(passages)
    counts = {"by work": [], "by passage": []}
    for trial in range(trials):
        pick = random.Random(f"{seed}:{trial}").sample(names, 2 * per_side)
        s = [(u, x) for u in pick[:per_side] for x in passages[u]]
        c = [(u, x) for u in pick[per_side:] for x in passages[u]]
        grouped = di.blind_baseline([x for _, x in s], [x for _, x in c], trial,
                                    suspect_units=[u for u, _ in s], control_units=[u for u, _ in c])
        flat = di.blind_baseline([x for _, x in s], [x for _, x in c], trial)
        counts["by work"].append(grouped)
        counts["by passage"].append(flat)
    out = {"works": len(names), "trials": trials, "per_side": per_side}
    for k, v in counts.items():
        refused = sum(b["shifted"] for b in v)
        out[k] = {"refused": refused, "rate": round(refused / trials, 4),
                  "rate_ci95": clopper_pearson(refused, trials, digits=4),
                  "mean_auroc": round(sum(b["auroc"] for b in v) / trials, 4)}
    return out


def tier_b_power(work_dir: Path, seeds: tuple[int, ...] = (1, 2, 3), per_side: int = 10, steps: int = 600,
                 on_progress: Callable[[str], None] = lambda _m: None) -> list[dict]:
    """Per seed: a model trained on `per_side` member works; Tier B for members and non-members."""
    from ascertain.case import Case
    from ascertain.probe.models import load_model
    from ascertain.probe.reproduction import ReproParams
    from ascertain.probe.run import ProbeOptions, run_probe
    from ascertain.probe.tiny_model import train_tiny_lm
    from ascertain.works import add_work

    out = []
    for seed in seeds:
        root = work_dir / f"split-{seed}"
        works = real_works(seed)[:3 * per_side]
        groups = {"member": works[:per_side], "nonmember": works[per_side:2 * per_side],
                  "control": works[2 * per_side:]}
        if not (root / "model" / "config.json").exists():
            train_tiny_lm([t for _, t in groups["member"]], root / "model", seed=seed, steps=steps, width=64,
                          layers=2, block=128, batch=16, vocab_size=512, lr=5e-3)
        for g, items in groups.items():
            (root / g).mkdir(parents=True, exist_ok=True)
            for name, text in items:
                (root / g / f"{name}.txt").write_text(text, encoding="utf-8")
        shutil.rmtree(root / "case", ignore_errors=True)  # a fresh case: the figures of this run only
        case = Case.init(root / "case", k=4, w=5)
        for who in ("member", "nonmember"):
            for p in sorted((root / who).iterdir()):
                add_work(case, who, str(p), title=p.stem)
        r = run_probe(case, load_model(str(root / "model")),
                      ProbeOptions(ReproParams(), INFER, ("B",), [str(root / "control")]))
        res = {v["claimant"]: v for v in r["results"]["B"].values()}
        row = {"seed": seed}
        for who in ("member", "nonmember"):
            b = res[who]
            row[who] = {"p_value": b["p_value"], "refused": b["refused"] is not None,
                        "blind_auroc": b["blind_baseline"]["auroc"], "blind_ci95": b["blind_baseline"]["ci95"]}
        on_progress(f"split {seed}: members p = {row['member']['p_value']}, non-members p = "
                    f"{row['nonmember']['p_value']}")
        out.append(row)
    return out


def markdown(rates: dict, power: list[dict], command: str) -> str:
    lines = ["## Probing: Tier B on real texts of distinct works\n", f"Command: `{command}`\n",
             f"Works: {rates['works']} topics of Python's language reference (pydoc_data; ASCII tables left out, "
             "at most 500 words each), each a work with words of its own. Passages of 32 tokens, every passage "
             "of a work.\n",
             f"### The blind baseline on fair splits ({rates['trials']} random splits of the pool into "
             f"{rates['per_side']} + {rates['per_side']} works)\n",
             "| the baseline's folds, bootstrap and permutations split | refused | rate [95 % CI] | mean AUROC |",
             "|---|---|---|---|"]
    for k in ("by work", "by passage"):
        v = rates[k]
        lines.append(f"| {k} | {v['refused']}/{rates['trials']} | {v['rate']:.3f} {list(v['rate_ci95'])} | "
                     f"{v['mean_auroc']:.3f} |")
    if power:
        lines += ["", "### Tier B on a small model trained on 10 member works (controls: 10 other works)\n",
                  "| split seed | members: p | refused | non-members: p | refused |", "|---|---|---|---|---|"]
        for r in power:
            m, n = r["member"], r["nonmember"]
            lines.append(f"| {r['seed']} | {_p(m['p_value'])} | {'yes' if m['refused'] else 'no'} | "
                         f"{_p(n['p_value'])} | {'yes' if n['refused'] else 'no'} |")
    return "\n".join(lines) + "\n"


def _p(p: float | None) -> str:
    return "-" if p is None else f"{p:.4f}"
