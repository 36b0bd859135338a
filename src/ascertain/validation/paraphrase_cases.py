"""Labelled paraphrases of real prose: recall and false-positive rate of the paraphrase signal.

Originals are passages of CPython 3.11 module docstrings (real prose shipped with Python); the paraphrases
and the same-topic hard negatives were written for this set (src/ascertain/validation/data). Each positive
places the paraphrase between two unrelated passages; each negative pairs an original with three passages
on other topics, or with a passage on the same topic saying something else. The verbatim measure runs on
the same pairs, to show the two signals answer different questions.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

from ascertain.match.compare import Comparer
from ascertain.paraphrase.detect import THRESHOLD, paraphrased_passages
from ascertain.paraphrase.model import available, describe, embed
from ascertain.validation.intervals import wilson

DATA = Path(__file__).parent / "data"


def evaluate_paraphrase(seed: int = 7, threshold: float = THRESHOLD) -> dict:
    why = available()
    if why:
        return {"not_run": why}
    rows = [json.loads(line) for line in (DATA / "paraphrases.jsonl").read_text().splitlines()]
    hard = [json.loads(line) for line in (DATA / "hard_negatives.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    pairs: list[tuple[str, str, str, bool]] = []  # (kind, original, copy document, label)
    for i, r in enumerate(rows):
        others = [o["paraphrase"] for j, o in enumerate(rows) if j != i]
        a, b, c = rng.sample(others, 3)
        pairs.append(("paraphrase", r["original"], f"{a}\n\n{r['paraphrase']}\n\n{b}\n", True))
        pairs.append(("other topics", r["original"], f"{a}\n\n{b}\n\n{c}\n", False))
    topic = {r["topic"]: r for r in rows}
    for h in hard:
        pairs.append(("same topic, other content", topic[h["topic"]]["original"], h["text"] + "\n", False))
    cmp = Comparer(level="prose")
    embed(["load the model before the clock starts"])
    found = {"paraphrase": 0, "other topics": 0, "same topic, other content": 0}
    verbatim = dict.fromkeys(found, 0)
    counts = dict.fromkeys(found, 0)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (kind, original, copy, _label) in enumerate(pairs):
            counts[kind] += 1
            found[kind] += paraphrased_passages(original, copy, threshold)["passages_found"] > 0
            a, b = Path(tmp, f"o{n}.txt"), Path(tmp, f"c{n}.txt")
            a.write_text(original)
            b.write_text(copy)
            verbatim[kind] += bool(cmp.compare(str(a), str(b))["copied"])
    seconds = time.perf_counter() - t0
    neg_n = counts["other topics"] + counts["same topic, other content"]
    neg_k = found["other topics"] + found["same topic, other content"]
    return {
        **describe(), "threshold": threshold, "positives": counts["paraphrase"], "negatives": neg_n,
        "recall": round(found["paraphrase"] / counts["paraphrase"], 4),
        "recall_ci95": wilson(found["paraphrase"], counts["paraphrase"]),
        "fpr": round(neg_k / neg_n, 4), "fpr_ci95": wilson(neg_k, neg_n),
        "by_kind": {k: {"flagged": found[k], "n": counts[k], "verbatim_copied": verbatim[k]} for k in counts},
        "pairs_per_s": round(len(pairs) / seconds, 1),
    }


def markdown(res: dict) -> str:
    if "not_run" in res:
        return f"## Prose paraphrase\n\nNot run: {res['not_run']}.\n"
    rows = "".join(f"| {k} | {v['n']} | {v['flagged']} | {v['verbatim_copied']} |\n" for k, v in res["by_kind"].items())
    return (
        "## Prose paraphrase (separate signal)\n\n"
        f"Model: {res['model']} from the PyPI package {res['package']} (sentence-transformers "
        f"{res['sentence_transformers']}, torch {res['torch']}), offline. Threshold: cosine similarity ≥ "
        f"{res['threshold']} between a passage of the original and a window of one to three sentences of the "
        "copy. Cases: 30 passages of CPython 3.11 module docstrings with a paraphrase written for this set, "
        "placed between two unrelated passages; negatives: the same originals against three passages on other "
        "topics, and 10 passages on the same topic saying something else "
        "(`src/ascertain/validation/data/`).\n\n"
        "| pairs | n | flagged as paraphrase | copied by the verbatim measure (prose level) |\n|---|---|---|---|\n"
        + rows
        + f"\nRecall {res['recall']:.3f} (95 % CI {res['recall_ci95'][0]:.3f}–{res['recall_ci95'][1]:.3f}); "
        f"false-positive rate {res['fpr']:.4f} (95 % CI {res['fpr_ci95'][0]:.4f}–{res['fpr_ci95'][1]:.4f}); "
        f"{res['pairs_per_s']} pairs/s. The set is small: the intervals, not the point figures, are the claim.\n"
    )
