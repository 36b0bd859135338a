"""`ascertain probe validate`: every tier's error rates on a model whose training data is known exactly.

A synthetic corpus (pseudo-words drawn from one Zipf distribution, so members and non-members cannot be
told apart by their text) is split at random into members and non-members; trap sequences (drawn the
same way) are added to the training data 1, 10 and 100 times. A small causal LM is trained on members
and traps, then: Tier A reproduction rate per group; Tier B empirical false-positive rate at α = 0.05,
0.01, 0.001 over null runs (suspect and control both drawn from non-members) and power against the
number of passages (suspect from members); Tier C AUROC and TPR at 1 % FPR. Null runs are cheap:
features are computed once per passage, each run is a permutation test on them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ascertain.fingerprint.winnow import Params
from ascertain.probe import LIMITATIONS
from ascertain.probe import dataset_inference as di
from ascertain.probe import reproduction as ra
from ascertain.probe.indicative import auroc_tpr
from ascertain.probe.models import load_model
from ascertain.probe.tiny_model import train_tiny_lm

SYLLABLES = ("ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "ve", "zu", "ba", "do", "fi", "gu", "ha", "je")


@dataclass(frozen=True)
class Setup:
    documents: int = 400  # split half members, half non-members
    words: int = 40  # per document (one passage each)
    traps: int = 3  # trap sequences per repetition count
    repeats: tuple[int, ...] = (1, 10, 100)
    vocabulary: int = 300
    zipf: float = 0.6  # word-frequency exponent: natural-ish, without long runs of one word
    steps: int = 300
    null_runs: int = 3000
    power_runs: int = 300
    passages: tuple[int, ...] = (10, 20, 50, 100)  # suspect passages (and as many control) per power run
    null_passages: int = 50
    permutations: int = 10_000
    seed: int = 0


def synthetic_corpus(st: Setup) -> dict:
    rng = np.random.default_rng(st.seed)
    vocab = sorted({"".join(rng.choice(SYLLABLES, rng.integers(2, 4))) for _ in range(st.vocabulary * 3)})
    vocab = list(rng.permutation(vocab)[:st.vocabulary])
    zipf = 1 / np.arange(1, len(vocab) + 1) ** st.zipf
    zipf /= zipf.sum()
    docs = [" ".join(rng.choice(vocab, st.words, p=zipf)) + "." for _ in range(st.documents)]
    order = rng.permutation(st.documents)
    members, non = [docs[i] for i in order[: st.documents // 2]], [docs[i] for i in order[st.documents // 2:]]
    # traps: drawn like every other text (so no text-only classifier can single them out), seen r times
    traps = {r: [" ".join(rng.choice(vocab, st.words, p=zipf)) + "." for _ in range(st.traps)] for r in st.repeats}
    train = members + [t for r, ts in traps.items() for t in ts for _ in range(r)]
    train = [train[i] for i in rng.permutation(len(train))]
    return {"members": members, "non_members": non, "traps": traps, "train": train}


def _reproduction(model, texts: list[str], p: ra.ReproParams, params: Params, tag: str) -> dict:
    k = n = 0
    for i, t in enumerate(texts):
        for a in ra.plan(f"{tag}{i}", t, "prose", p)[0]:
            out, _ = model.generate(a.prompt, p.max_new_tokens, 0.0 if a.mode == "greedy" else p.temperature, a.seed)
            k += ra.match_continuation(a.truth, out, "prose", params, p)["reproduced"]
            n += 1
    return {"reproductions": k, "attempts": n, "rate": round(k / n, 4) if n else None,
            "rate_ci95": ra.clopper_pearson(k, n)}


def _scores(x: np.ndarray, sa, ca, sb, cb) -> np.ndarray:
    mean, sd, w = di.split_weights(x[sa], x[ca])
    return np.concatenate([((x[sb] - mean) / sd) @ w, ((x[cb] - mean) / sd) @ w])


def _runs(suspect_pool: np.ndarray, control_pool: np.ndarray, n: int, runs: int, permutations: int,
          rng: np.random.Generator, same_pool: bool) -> np.ndarray:
    """p-values of `runs` dataset-inference tests with n suspect and n control passages each."""
    scores = []
    for _ in range(runs):
        if same_pool:  # null: both groups from one pool, disjoint
            idx = rng.choice(len(control_pool), 2 * n, replace=False)
            s_idx, c_idx = idx[:n], idx[n:]
            x = np.vstack([control_pool[s_idx], control_pool[c_idx]])
        else:
            x = np.vstack([suspect_pool[rng.choice(len(suspect_pool), n, replace=False)],
                           control_pool[rng.choice(len(control_pool), n, replace=False)]])
        sa, sb = di.halves(n, rng)
        ca, cb = di.halves(n, rng)
        scores.append(_scores(x, sa, ca + n, sb, cb + n))
    scores = np.array(scores)
    masks = di.subset_masks(scores.shape[1], n - n // 2, permutations, rng)
    return np.concatenate([di.permutation_pvalues(scores[i:i + 250], n - n // 2, permutations, rng, masks)
                           for i in range(0, len(scores), 250)])


def run_validation(work: Path, st: Setup = Setup(), on_progress=None) -> dict:
    say = on_progress or (lambda m: None)
    t0 = time.perf_counter()
    corpus = synthetic_corpus(st)
    say(f"training a small causal LM on {len(corpus['train'])} texts ({st.steps} steps)")
    train_tiny_lm(corpus["train"], work / "model", seed=st.seed, steps=st.steps, block=128, batch=16,
                  width=64, layers=2, vocab_size=512, lr=3e-3)
    train_s = time.perf_counter() - t0
    model = load_model(str(work / "model"))
    params = Params(k=4, w=5)
    p = ra.ReproParams(prefix_tokens=(16,), continuation_tokens=20, cuts=1, samples=1, max_new_tokens=40,
                       min_run=12, seed=st.seed)
    say("Tier A: reproduction of members, non-members and traps")
    sample = 30
    tier_a = {"members": _reproduction(model, corpus["members"][:sample], p, params, "m"),
              "non_members": _reproduction(model, corpus["non_members"][:sample], p, params, "n")}
    for r, ts in corpus["traps"].items():
        tier_a[f"traps_x{r}"] = _reproduction(model, ts, p, params, f"t{r}")
    say("passage features of every member and non-member")
    ip = di.InferenceParams(passage_tokens=10_000, seed=st.seed)
    fm = [di.features(model, t, ip) for t in corpus["members"]]
    fn = [di.features(model, t, ip) for t in corpus["non_members"]]
    xm, names = di.feature_matrix(fm)
    xn, _ = di.feature_matrix(fn)
    rng = np.random.default_rng(st.seed + 1)
    say(f"Tier B: {st.null_runs:,} null runs, {st.permutations:,} permutations each")
    null_p = _runs(xm, xn, min(st.null_passages, len(xn) // 2), st.null_runs, st.permutations, rng, True)
    fpr = {str(a): {"rejections": int((null_p <= a).sum()), "runs": len(null_p),
                    "fpr": round(float((null_p <= a).mean()), 5), "fpr_ci95": ra.clopper_pearson(
                        int((null_p <= a).sum()), len(null_p)),
                    # consistent with FPR ≤ α: the interval reaches α (an exact test sits at α, ± sampling)
                    "holds": ra.clopper_pearson(int((null_p <= a).sum()), len(null_p))[0] <= a}
           for a in (0.05, 0.01, 0.001)}
    power = {}
    for n in st.passages:
        if n > min(len(xm), len(xn)):
            continue
        pv = _runs(xm, xn, n, st.power_runs, st.permutations, rng, False)
        power[str(n)] = {"0.05": round(float((pv <= 0.05).mean()), 4), "0.01": round(float((pv <= 0.01).mean()), 4),
                         "runs": len(pv)}
    say("Tier C: per-passage scores")
    tier_c = {f: auroc_tpr(xm[:, j], xn[:, j]) for j, f in enumerate(names)}
    return {"setup": {**asdict(st), "repeats": list(st.repeats), "passages": list(st.passages)},
            "model": model.info.as_dict(), "train_seconds": round(train_s, 1), "tier_a": tier_a,
            "tier_a_params": p.as_dict(), "tier_b_fpr": fpr, "tier_b_null_passages": min(st.null_passages,
                                                                                         len(xn) // 2),
            "tier_b_power": power, "tier_c": tier_c, "features": names, "limitations": LIMITATIONS,
            "seconds": round(time.perf_counter() - t0, 1)}


def markdown(r: dict, command: str) -> str:
    st = r["setup"]
    lines = ["## Probing a model: error rates on a known split", "",
             f"Measured with `{command}`: a {r['model']['parameters']:,}-parameter causal LM trained in "
             f"{r['train_seconds']} s on CPU on {st['documents'] // 2} member texts of {st['words']} pseudo-words "
             f"(a random half of {st['documents']}; the other half are the non-members) and trap sequences "
             f"repeated {', '.join(map(str, st['repeats']))} times ({st['traps']} each).", "",
             "**Tier A: reproduction** (greedy and one sample per prompt; a reproduction is a verbatim run of "
             f"{r['tier_a_params']['min_run']}+ tokens of the true {r['tier_a_params']['continuation_tokens']}-token "
             "continuation)", "", "| texts | reproductions | attempts | rate | 95 % CI |",
             "| --- | --- | --- | --- | --- |"]
    for k, v in r["tier_a"].items():
        lines.append(f"| {k} | {v['reproductions']} | {v['attempts']} | {v['rate']} | {v['rate_ci95']} |")
    lines += ["", f"**Tier B: dataset inference, false-positive rate** over {st['null_runs']:,} null runs "
              f"({r['tier_b_null_passages']} suspect and {r['tier_b_null_passages']} control passages, both from "
              f"non-members; {st['permutations']:,} permutations each)", "",
              "| α | rejections | FPR | 95 % CI | consistent with FPR ≤ α |", "| --- | --- | --- | --- | --- |"]
    for a, v in r["tier_b_fpr"].items():
        lines.append(f"| {a} | {v['rejections']} / {v['runs']} | {v['fpr']} | {v['fpr_ci95']} | "
                     f"{'yes' if v['holds'] else 'NO'} |")
    over = [a for a, v in r["tier_b_fpr"].items() if v["fpr"] > float(a)]
    if over:
        lines += ["", f"At α = {', '.join(over)} the empirical rate is above α by less than its sampling error: an "
                  "exact permutation test rejects a true null with probability at most α, so over many null runs "
                  "the rate scatters around α; the 95 % interval includes α."]
    lines += ["", "**Tier B: power** (suspect passages from members, as many control passages from non-members)", "",
              "| passages each | runs | power at α = 0.05 | at α = 0.01 |", "| --- | --- | --- | --- |"]
    for n, v in r["tier_b_power"].items():
        lines.append(f"| {n} | {v['runs']} | {v['0.05']} | {v['0.01']} |")
    lines += ["", "**Tier C: per-passage scores** (members vs non-members; indicative only)", "",
              "| score | AUROC | 95 % CI | TPR at 1 % FPR | 95 % CI |", "| --- | --- | --- | --- | --- |"]
    for f, v in r["tier_c"].items():
        lines.append(f"| {f} | {v['auroc']} | {v['auroc_ci95']} | {v['tpr']} | {v['tpr_ci95']} |")
    lines += ["", "These rates hold for this model and this corpus; a tiny model trained for many epochs on its "
              "members is far easier to probe than a large model that saw each document once (MIMIR: AUROC "
              "0.52–0.59 on Pythia). The FPR of Tier B is a property of the test (disjoint halves, permutation), "
              "not of the model, and holds whenever the control set is matched; the blind baseline refuses sets "
              "that are not.", "", LIMITATIONS, "", f"Total time {r['seconds']} s.", ""]
    return "\n".join(lines)
