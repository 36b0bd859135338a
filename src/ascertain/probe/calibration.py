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

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.stats import fisher_exact

from ascertain.fingerprint.winnow import Params
from ascertain.probe import LIMITATIONS
from ascertain.probe import dataset_inference as di
from ascertain.probe import multiple_choice as mc
from ascertain.probe import name_cloze as nc
from ascertain.probe import reproduction as ra
from ascertain.probe.indicative import auroc_tpr
from ascertain.probe.models import load_model
from ascertain.probe.tiny_model import train_tiny_lm
from ascertain.validation.intervals import clopper_pearson

# the small model of `probe validate`; steps are a command option
TRAINING = {"block": 128, "batch": 16, "width": 64, "layers": 2, "vocab_size": 512, "lr": 5e-3}
SYLLABLES = ("ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "ve", "zu", "ba", "do", "fi", "gu", "ha", "je")


@dataclass(frozen=True)
class Setup:
    documents: int = 200  # split half members, half non-members
    words: int = 40  # per document (one passage each), one of them a proper name
    traps: int = 3  # trap sequences per repetition count
    repeats: tuple[int, ...] = (1, 10, 100)
    vocabulary: int = 300
    zipf: float = 0.6  # word-frequency exponent: natural-ish, without long runs of one word
    names: int = 400  # capitalized pseudo-names, one per document (name cloze)
    null_pool: int = 4000  # further non-members: the Tier B null runs and controls draw from these
    steps: int = 800
    null_runs: int = 3000
    power_runs: int = 300
    passages: tuple[int, ...] = (10, 20, 50, 100)  # suspect passages (and as many control) per power run
    shares: tuple[float, ...] = (0.1, 0.25, 0.5)  # member share of the suspect passages (power by share)
    share_runs: int = 100
    null_passages: int = 50
    permutations: int = 10_000
    seed: int = 0


def synthetic_corpus(st: Setup) -> dict:
    rng = np.random.default_rng(st.seed)
    vocab = sorted({"".join(rng.choice(SYLLABLES, rng.integers(2, 4))) for _ in range(st.vocabulary * 3)})
    vocab = list(rng.permutation(vocab)[:st.vocabulary])
    names = sorted({"".join(rng.choice(SYLLABLES, 3)).capitalize() for _ in range(st.names * 3)} - set(vocab))
    names = list(rng.permutation(names)[:st.names])
    zipf = 1 / np.arange(1, len(vocab) + 1) ** st.zipf
    zipf /= zipf.sum()

    def text() -> str:  # every text drawn alike, so no text-only classifier can tell the groups apart
        words = list(rng.choice(vocab, st.words, p=zipf))
        words[int(rng.integers(st.words // 2, st.words - 1))] = str(rng.choice(names))
        return " ".join(words) + "."

    docs = [text() for _ in range(st.documents)]
    order = rng.permutation(st.documents)
    members, non = [docs[i] for i in order[: st.documents // 2]], [docs[i] for i in order[st.documents // 2:]]
    traps = {r: [text() for _ in range(st.traps)] for r in st.repeats}  # each seen r times
    pool = [text() for _ in range(st.null_pool)]
    train = members + [t for r, ts in traps.items() for t in ts for _ in range(r)]
    train = [train[i] for i in rng.permutation(len(train))]
    return {"members": members, "non_members": non, "traps": traps, "train": train, "null_pool": pool}


def _reproduction(model, texts: list[str], p: ra.ReproParams, params: Params, tag: str) -> dict:
    k = n = 0
    for i, t in enumerate(texts):
        for a in ra.plan(f"{tag}{i}", t, "prose", p)[0]:
            out, _ = model.generate(a.prompt, p.max_new_tokens, 0.0 if a.mode == "greedy" else p.temperature, a.seed)
            k += ra.match_continuation(a.truth, out, "prose", params, p)["reproduced"]
            n += 1
    return {"reproductions": k, "attempts": n, "rate": round(k / n, 4) if n else None,
            "rate_ci95": clopper_pearson(k, n, digits=5)}


def _runs(suspect_pool: np.ndarray, control_pool: np.ndarray, n: int, runs: int, permutations: int,
          rng: np.random.Generator, same_pool: bool, share: float = 1.0) -> np.ndarray:
    """p-values (runs × 2: the test's, and its first direction's alone) of `runs` cross-fitted dataset-inference
    tests with n suspect and n control passages each (each passage its own unit: one text each). Every run
    draws its passages and its relabelings afresh, so runs are independent tests but for the few passages two
    runs share in a large pool. `share`: the part of the suspect passages that are members, the rest drawn
    from the non-member pool (a claimant only some of whose works were trained on)."""
    units = np.arange(n)
    out = np.empty((runs, 2))
    k = 0 if same_pool else int(round(n * share))  # member passages among the suspect's
    for i in range(runs):
        # the control passages and the suspect's non-members: disjoint draws from the non-member pool
        idx = rng.choice(len(control_pool), 2 * n - k, replace=False)
        if same_pool:  # null: both groups from the non-member pool
            s, c = control_pool[idx[:n]], control_pool[idx[n:]]
        else:
            members = suspect_pool[rng.choice(len(suspect_pool), k, replace=False)]
            s, c = np.vstack([members, control_pool[idx[n:]]]), control_pool[idx[:n]]
        r = di.crossfit(s, c, units, units, rng, permutations)
        out[i] = r["p_value"], r["directions"][0]["p_value"]
    return out


def _quiz(model, texts: list[str], tag: str, seed: int) -> dict:
    """DE-COP-style multiple choice and name cloze on each text: per-text scores for the AUROC."""
    cp, zp = mc.ChoiceParams(seed=seed), nc.ClozeParams(context_tokens=16, max_names_per_work=1, seed=seed)
    margin, correct, logp, named = [], [], [], []
    for i, t in enumerate(texts):
        if (c := mc.choose(model, t, "prose", cp, f"{tag}{i}")) is not None:
            margin.append(c["mc_margin"])
            correct.append(c["mc_correct"])
        for context, name in nc.clozes(t, "prose", zp, f"{tag}{i}"):
            q = nc.ask(model, context, name, scored=True)
            logp.append(q["cloze_logp"])
            named.append(q["cloze_correct"])
    return {"mc_margin": np.array(margin), "mc_correct": np.array(correct), "cloze_logp": np.array(logp),
            "cloze_correct": np.array(named)}


def _accuracy(hits: np.ndarray) -> dict:
    k, n = int(hits.sum()), len(hits)
    return {"correct": k, "asked": n, "rate": round(k / n, 4) if n else None,
            "rate_ci95": clopper_pearson(k, n, digits=5)}


def _fpr(null_p: np.ndarray, a: float) -> dict:
    """The test's false-positive rate at α (column 0 of `_runs`), and one direction's alone (column 1: an
    exact test, whose rate scatters around α)."""
    k, n, k1 = int((null_p[:, 0] <= a).sum()), len(null_p), int((null_p[:, 1] <= a).sum())
    return {"rejections": k, "runs": n, "fpr": round(k / n, 5), "fpr_ci95": clopper_pearson(k, n, digits=5),
            "holds": k / n <= a, "one_direction_rejections": k1, "one_direction_fpr": round(k1 / n, 5),
            "one_direction_fpr_ci95": clopper_pearson(k1, n, digits=5)}


def _trained(folder: Path, texts: list[str], st: Setup, say) -> float:
    """Train the validation model, or reuse the one in `folder` trained on the same texts with the same settings
    (training is seeded: the same inputs give the same weights on the same torch build). Training seconds."""
    import torch

    spec = {**TRAINING, "steps": st.steps, "seed": st.seed, "torch": torch.__version__,
            "texts_sha256": hashlib.sha256("\x1e".join(texts).encode()).hexdigest()}
    stamp = folder / "ascertain-training.json"
    earlier = json.loads(stamp.read_text()) if stamp.exists() else {}
    if earlier.get("spec") == spec:
        say(f"reusing the model trained earlier in {folder} ({earlier['seconds']} s of training)")
        return earlier["seconds"]
    say(f"training a small causal LM on {len(texts)} texts ({st.steps} steps)")
    t0 = time.perf_counter()
    train_tiny_lm(texts, folder, seed=st.seed, **{**TRAINING, "steps": st.steps},
                  on_step=lambda step, loss: say(f"  step {step + 1}/{st.steps}: loss {loss:.3f}, "
                                                 f"{time.perf_counter() - t0:.0f} s") if step % 100 == 0 else None)
    seconds = round(time.perf_counter() - t0, 1)
    say(f"trained in {seconds} s")
    stamp.write_text(json.dumps({"spec": spec, "seconds": seconds}))
    return seconds


def run_validation(work: Path, st: Setup = Setup(), on_progress=None) -> dict:
    say = on_progress or (lambda m: None)
    t0 = time.perf_counter()
    corpus = synthetic_corpus(st)
    train_s = _trained(work / "model", corpus["train"], st, say)
    model = load_model(str(work / "model"))
    params = Params(k=4, w=5)
    p = ra.ReproParams(prefix_tokens=(16,), continuation_tokens=20, cuts=1, samples=1, max_new_tokens=40,
                       min_run=12, seed=st.seed)
    say("Tier A: reproduction of members, non-members and traps")
    sample = min(50, len(corpus["members"]))
    tier_a = {"members": _reproduction(model, corpus["members"][:sample], p, params, "m"),
              "non_members": _reproduction(model, corpus["non_members"][:sample], p, params, "n")}
    for r, ts in corpus["traps"].items():
        tier_a[f"traps_x{r}"] = _reproduction(model, ts, p, params, f"t{r}")
    a_m, a_n = tier_a["members"], tier_a["non_members"]
    tier_a_p = float(fisher_exact([[a_m["reproductions"], a_m["attempts"] - a_m["reproductions"]],
                                   [a_n["reproductions"], a_n["attempts"] - a_n["reproductions"]]],
                                  alternative="greater")[1])
    say(f"passage features of {len(corpus['members']):,} members and {len(corpus['non_members']) + st.null_pool:,} "
        "non-members")
    ip = di.InferenceParams(passage_tokens=10_000, seed=st.seed)
    xm, names = di.feature_matrix([di.features(model, t, ip) for t in corpus["members"]])
    xn, _ = di.feature_matrix([di.features(model, t, ip) for t in corpus["non_members"]])
    xpool = np.vstack([xn, di.feature_matrix([di.features(model, t, ip) for t in corpus["null_pool"]])[0]])
    rng = np.random.default_rng(st.seed + 1)
    n_null = min(st.null_passages, len(xpool) // 2)
    say(f"Tier B: {st.null_runs:,} null runs, {st.permutations:,} permutations per direction")
    null_p = _runs(xm, xpool, n_null, st.null_runs, st.permutations, rng, True)
    fpr = {str(a): _fpr(null_p, a) for a in (0.05, 0.01, 0.001)}
    power = {}
    for n in st.passages:
        if n > min(len(xm), len(xpool)):
            continue
        pv = _runs(xm, xpool, n, st.power_runs, st.permutations, rng, False)[:, 0]
        power[str(n)] = {"0.05": round(float((pv <= 0.05).mean()), 4), "0.01": round(float((pv <= 0.01).mean()), 4),
                         "runs": len(pv)}
    by_share = {}  # weaker signal: only a share of the suspect passages are members
    for share in st.shares:
        for n in st.passages:
            if int(round(n * share)) < 1 or n > min(len(xm), len(xpool) // 2):
                continue
            pv = _runs(xm, xpool, n, st.share_runs, st.permutations, rng, False, share)[:, 0]
            k = int((pv <= 0.05).sum())
            by_share.setdefault(str(share), {})[str(n)] = {"power_0.05": round(k / len(pv), 4), "runs": len(pv),
                                                           "ci95": clopper_pearson(k, len(pv), digits=4)}
    say("Tier C: per-passage scores, multiple choice, name cloze")
    tier_c = {f: auroc_tpr(xm[:, j], xn[:, j]) for j, f in enumerate(names)}
    qm, qn = _quiz(model, corpus["members"], "m", st.seed), _quiz(model, corpus["non_members"], "n", st.seed)
    tier_c["mc_margin"] = auroc_tpr(qm["mc_margin"], qn["mc_margin"])
    tier_c["cloze_logp"] = auroc_tpr(qm["cloze_logp"], qn["cloze_logp"])
    quiz = {"multiple_choice": {"members": _accuracy(qm["mc_correct"]), "non_members": _accuracy(qn["mc_correct"]),
                                "options": mc.ChoiceParams().options},
            "name_cloze": {"members": _accuracy(qm["cloze_correct"]), "non_members": _accuracy(qn["cloze_correct"])}}
    return {"setup": {**asdict(st), "repeats": list(st.repeats), "passages": list(st.passages)},
            "model": model.info.as_dict(), "training": {**TRAINING, "steps": st.steps},
            "train_seconds": round(train_s, 1), "tier_a": tier_a, "tier_a_members_vs_non_members_p": tier_a_p,
            "tier_a_params": p.as_dict(), "tier_b_fpr": fpr, "tier_b_null_passages": n_null,
            "tier_b_pool": len(xpool), "tier_b_power": power,
            "tier_b_power_by_share": by_share, "tier_c": tier_c, "tier_c_quiz": quiz,
            "features": names, "limitations": LIMITATIONS, "seconds": round(time.perf_counter() - t0, 1)}


def markdown(r: dict, command: str) -> str:
    st, tr = r["setup"], r["training"]
    lines = ["## Probing a model: error rates on a known split", "",
             f"Measured with `{command}`: a {r['model']['parameters']:,}-parameter GPT-2-shaped causal LM (width "
             f"{tr['width']}, {tr['layers']} layers, {tr['steps']} steps of {tr['batch']} × {tr['block']} tokens) "
             f"trained in {r['train_seconds']} s on CPU on {st['documents'] // 2} member texts of {st['words']} "
             f"pseudo-words with one capitalized pseudo-name each (a random half of {st['documents']}; the other "
             f"half are the non-members) and trap sequences repeated {', '.join(map(str, st['repeats']))} times "
             f"({st['traps']} each); {st['null_pool']:,} further non-member texts, drawn alike, feed the Tier B "
             "null runs.", "",
             "**Tier A: reproduction** (greedy and one sample per prompt; a reproduction is a verbatim run of "
             f"{r['tier_a_params']['min_run']}+ tokens of the true {r['tier_a_params']['continuation_tokens']}-token "
             f"continuation after a {r['tier_a_params']['prefix_tokens'][0]}-token prefix)", "",
             "| texts | reproductions | attempts | rate | 95 % CI |", "| --- | --- | --- | --- | --- |"]
    for k, v in r["tier_a"].items():
        lines.append(f"| {k} | {v['reproductions']} | {v['attempts']} | {v['rate']} | {v['rate_ci95']} |")
    lines += ["", "Members against non-members: one-sided Fisher exact p = "
              f"{r['tier_a_members_vs_non_members_p']:.3g}.",
              "", f"**Tier B: dataset inference, false-positive rate** over {st['null_runs']:,} null runs "
              f"({r['tier_b_null_passages']} suspect and {r['tier_b_null_passages']} control passages per run, all "
              f"drawn afresh from {r['tier_b_pool']:,} non-members, so two runs share "
              f"{2 * r['tier_b_null_passages'] ** 2 / r['tier_b_pool']:.1f} passages on average; fresh relabelings "
              f"per run, {st['permutations']:,} per direction)", "",
              "The test: passages are split in halves by work (here each text is a work); weights of the features "
              "are learned on one half and the weighted score, averaged per work, is compared by a one-sided "
              "permutation test on the other, p = (1 + #{relabelled ≥ observed}) / (1 + permutations): an exact "
              "test, whose false-positive rate scatters around α (last column). Then the halves swap roles, and "
              "the test rejects only when both directions do, p = max(p₁, p₂): never below either exact p-value, "
              "so its rate is at most α whatever the dependence between the directions, and about α² when they "
              "are independent.", "",
              "| α | rejections | FPR | 95 % CI (Clopper–Pearson) | FPR ≤ α | one direction alone: FPR [95 % CI] |",
              "| --- | --- | --- | --- | --- | --- |"]
    for a, v in r["tier_b_fpr"].items():
        lines.append(f"| {a} | {v['rejections']} / {v['runs']} | {v['fpr']} | {list(v['fpr_ci95'])} | "
                     f"{'yes' if v['holds'] else 'NO'} | {v['one_direction_fpr']} "
                     f"{list(v['one_direction_fpr_ci95'])} |")
    lines += ["", "**Tier B: power** (suspect passages from members, as many control passages from non-members)", "",
              "| passages each | runs | power at α = 0.05 | at α = 0.01 |", "| --- | --- | --- | --- |"]
    for n, v in r["tier_b_power"].items():
        lines.append(f"| {n} | {v['runs']} | {v['0.05']} | {v['0.01']} |")
    shares = r.get("tier_b_power_by_share") or {}
    if shares:
        ns = sorted({n for v in shares.values() for n in v}, key=int)
        lines += ["", "**Tier B: power when only part of a claimant's passages were trained on** (power at α = 0.05 "
                  f"[95 % CI], {st['share_runs']} runs a cell; the rest of the suspect passages are non-members)", "",
                  "| member share | " + " | ".join(f"{n} passages" for n in ns) + " |",
                  "| --- | " + " | ".join("---" for _ in ns) + " |"]
        for share, v in shares.items():
            cells = [f"{v[n]['power_0.05']} {list(v[n]['ci95'])}" if n in v else "-" for n in ns]
            lines.append(f"| {share} | " + " | ".join(cells) + " |")
    q = r["tier_c_quiz"]
    lines += ["", "**Tier C: per-passage scores** (members vs non-members; indicative only). `mc_margin`: DE-COP-style "
              f"multiple choice among the verbatim text and {q['multiple_choice']['options'] - 1} word-order "
              "perturbations of it (seeded adjacent-word swaps, no model, no synonyms), the verbatim option's mean "
              "log p per token minus the best perturbation's; `cloze_logp`: log p of the text's name after the 16 "
              "tokens before it.", "",
              "| score | AUROC | 95 % CI | TPR at 1 % FPR | 95 % CI |", "| --- | --- | --- | --- | --- |"]
    for f, v in r["tier_c"].items():
        lines.append(f"| {f} | {v['auroc']} | {v['auroc_ci95']} | {v['tpr']} | {v['tpr_ci95']} |")
    lines += ["", "| exact test | members correct | 95 % CI | non-members correct | 95 % CI |",
              "| --- | --- | --- | --- | --- |"]
    for k, label in (("multiple_choice", "multiple choice: verbatim option most likely"),
                     ("name_cloze", "name cloze: greedy fill is the name")):
        m, n = q[k]["members"], q[k]["non_members"]
        lines.append(f"| {label} | {m['correct']} / {m['asked']} | {m['rate_ci95']} | {n['correct']} / {n['asked']} | "
                     f"{n['rate_ci95']} |")
    lines += ["", "These rates hold for this model and this corpus; a tiny model trained for many epochs on its "
              "members is far easier to probe than a large model that saw each document once (MIMIR: AUROC "
              "0.52–0.59 on Pythia). The FPR of Tier B is a property of the test (split by work, cross-fitted, "
              "permutation), not of the model, and holds whenever the control set is matched; the blind baseline "
              "refuses sets that are not.", "", LIMITATIONS, "", f"Total time {r['seconds']} s.", ""]
    return "\n".join(lines)
