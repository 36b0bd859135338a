"""Tier B: dataset inference (Maini et al. 2024). Were a claimant's works, as a set, in the training data?

Per passage: loss, zlib ratio, Min-K%, Min-K%++ (with the whole next-token distribution) and the ratio
to a reference model (when given); each oriented so that higher means "more like training data". The
suspect passages and a matched control set (same passage length, text the model cannot have seen) are
each split in two halves by a seed, by work (passages of one work stay in one half): on one half a weight
per feature is learned (standardized mean difference, negatives set to 0), on the other the weighted
scores, averaged per work, are compared by a seeded one-sided permutation test that relabels works; then
the halves swap roles (cross-fitting) and the result rejects only when both directions do. Learning and
testing on disjoint works keeps each test exact when suspect and control come from the same distribution,
and requiring both keeps the false-positive rate below α; `probe validate` measures it.
If a classifier that never queries the model (bag of words) tells suspect from control text, the control
set is not matched, and the result is refused: a test would measure the shift, not training. That check is
split by work too (folds and bootstrap), or it would learn which work a passage comes from.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import false_discovery_control, norm, rankdata

from ascertain.text.tokenize import tokenize

FEATURES = ("neg_loss", "neg_zlib_ratio", "min_k", "min_k_pp", "neg_ref_ratio")


@dataclass(frozen=True)
class InferenceParams:
    passage_tokens: int = 64
    max_passages_per_work: int = 20
    min_k: float = 0.2
    permutations: int = 10_000
    seed: int = 0
    alpha: float = 0.05

    def as_dict(self) -> dict:
        return asdict(self)


def passages(text: str, language: str, p: InferenceParams, key: str) -> list[str]:
    """Consecutive, non-overlapping passages of `passage_tokens` tokens; a seeded sample of at most
    `max_passages_per_work` of them."""
    ts = tokenize(text, language, kinds=False)
    start, end, n = ts.start.tolist(), ts.end.tolist(), p.passage_tokens
    chunks = [ts.text[start[i]:end[i + n - 1]] for i in range(0, len(start) - n + 1, n)]
    if len(chunks) > p.max_passages_per_work:
        rng = random.Random(f"{p.seed}\x1f{key}")
        chunks = [chunks[i] for i in sorted(rng.sample(range(len(chunks)), p.max_passages_per_work))]
    return chunks


def features(model, text: str, p: InferenceParams, reference=None) -> dict:
    s = model.score(text)
    lp = s.logprobs
    k = max(1, int(len(lp) * p.min_k))
    loss = float(-lp.mean())
    out = {"neg_loss": -loss, "neg_zlib_ratio": float(lp.sum()) / len(zlib.compress(text.encode())),
           "min_k": float(np.sort(lp)[:k].mean()), "tokens": int(len(lp))}
    if s.mu is not None:
        out["min_k_pp"] = float(np.sort((lp - s.mu) / s.sigma)[:k].mean())
    if reference is not None:
        out["neg_ref_ratio"] = float(reference.score(text).logprobs.mean()) * -1 - loss  # ref loss - loss
    return out


def feature_matrix(rows: list[dict]) -> tuple[np.ndarray, list[str]]:
    names = [f for f in FEATURES if rows and all(f in r for r in rows)]
    return np.array([[r[f] for f in names] for r in rows], dtype=np.float64), names


def split_weights(sa: np.ndarray, ca: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardization and per-feature weights learned on the fitting halves."""
    both = np.vstack([sa, ca])
    mean, sd = both.mean(0), both.std(0) + 1e-12
    d = ((sa.mean(0) - ca.mean(0)) / sd).clip(min=0)
    return mean, sd, d if d.sum() > 0 else np.ones_like(d)


def unit_halves(units: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of two halves that split the units (works) at random: passages of one work stay together,
    so the half a test is run on never shares a work with the half its weights were learned on."""
    names = rng.permutation(np.unique(units))
    first = np.isin(units, names[: len(names) // 2])
    return np.flatnonzero(first), np.flatnonzero(~first)


def unit_means(scores: np.ndarray, units: np.ndarray) -> np.ndarray:
    """The mean score of each unit (work): the permutation test relabels works, not passages, because
    passages of one work are not independent of each other."""
    names, inverse = np.unique(units, return_inverse=True)
    return np.bincount(inverse, scores, len(names)) / np.bincount(inverse, minlength=len(names))


def crossfit(suspect: np.ndarray, control: np.ndarray, s_units: np.ndarray, c_units: np.ndarray,
             rng: np.random.Generator, permutations: int) -> dict:
    """Both directions of the split: weights on half A tested on half B, and weights on B tested on A; each
    test is a one-sided permutation test on unit (work) mean scores, exact on its own. The result rejects only
    when both directions do: p = max(p_AB, p_BA) (an intersection–union test), which is never below either
    exact p-value, so its false-positive rate is at most α whatever the dependence between the directions —
    and about α² when they are independent: conservative by construction, not by luck of the draw."""
    sa, sb = unit_halves(s_units, rng)
    ca, cb = unit_halves(c_units, rng)
    out = []
    for (sf, cf), (st, ct) in (((sa, ca), (sb, cb)), ((sb, cb), (sa, ca))):
        mean, sd, w = split_weights(suspect[sf], control[cf])
        ss = unit_means(((suspect[st] - mean) / sd) @ w, s_units[st])
        cs = unit_means(((control[ct] - mean) / sd) @ w, c_units[ct])
        pv = permutation_pvalue(np.concatenate([ss, cs]), len(ss), permutations, rng)
        out.append({"p_value": pv, "weights": w, "suspect": ss, "control": cs})
    return {"p_value": max(out[0]["p_value"], out[1]["p_value"]), "directions": out}


def permutation_test(suspect: np.ndarray, control: np.ndarray, p: InferenceParams,
                     s_units: np.ndarray | None = None, c_units: np.ndarray | None = None) -> dict:
    """Seeded cross-fitted permutation test (see `crossfit`); units: the work of each passage (default: each
    passage its own unit). Effect size: Cohen's d of the held-out unit scores of both directions."""
    rng = np.random.default_rng(p.seed)
    s_units = np.arange(len(suspect)) if s_units is None else np.asarray(s_units)
    c_units = -1 - np.arange(len(control)) if c_units is None else np.asarray(c_units)
    r = crossfit(suspect, control, s_units, c_units, rng, p.permutations)
    a, b = r["directions"]
    d, lo, hi = cohens_d(np.concatenate([a["suspect"], b["suspect"]]), np.concatenate([a["control"], b["control"]]))
    return {"p_value": r["p_value"], "p_values_by_direction": [a["p_value"], b["p_value"]],
            "combination": "both directions must reject: p = max of the two", "permutations": p.permutations,
            "effect_size_d": d, "effect_size_ci95": [lo, hi], "suspect_units": int(len(np.unique(s_units))),
            "control_units": int(len(np.unique(c_units))),
            "weights": [[round(float(x), 4) for x in a["weights"]], [round(float(x), 4) for x in b["weights"]]]}


def permutation_pvalue(scores: np.ndarray, n_suspect: int, permutations: int, rng: np.random.Generator) -> float:
    """One-sided p-value of mean(suspect) − mean(rest), the suspect scores first, by `permutations` random
    relabelings drawn from `rng`: (1 + #{relabelled ≥ observed}) / (1 + permutations)."""
    n, total = len(scores), float(scores.sum())
    # a random subset of n_suspect per relabeling: the first n_suspect of a random order of the n units
    picks = np.argsort(rng.random((permutations, n), dtype=np.float32), axis=1)[:, :n_suspect]
    perm_s = scores[picks].sum(1)
    stat = lambda s_sum: s_sum / n_suspect - (total - s_sum) / (n - n_suspect)  # noqa: E731
    obs = stat(float(scores[:n_suspect].sum()))
    return float((1 + (stat(perm_s) >= obs - 1e-12).sum()) / (1 + permutations))


def cohens_d(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / max(1, na + nb - 2)) + 1e-12
    d = float((a.mean() - b.mean()) / pooled)
    se = float(np.sqrt((na + nb) / (na * nb) + d * d / (2 * (na + nb))))
    z = float(norm.ppf(0.975))
    return round(d, 4), round(d - z * se, 4), round(d + z * se, 4)


def blind_baseline(suspect_texts: list[str], control_texts: list[str], seed: int = 0, boots: int = 1000,
                   suspect_units: list[str] | None = None, control_units: list[str] | None = None,
                   permutations: int = 49) -> dict:
    """Cross-validated AUROC of a bag-of-words classifier that never sees the model (Das et al. 2024),
    with a bootstrap 95 % interval; `shifted` when the interval excludes 0.5.

    Every split is by work (`*_units`: the work of each passage): the folds keep a work's passages together
    and the bootstrap resamples works. Split by passage, the classifier learns which work a passage comes
    from (its names, its subject) and scores the held-out passages of the works it has seen: on real prose
    that alone gives AUROC ≈ 0.7 between two fair halves of one pool, and a refusal of every claimant.
    `shifted` (refuse) needs both the bootstrap interval above 0.5 and a permutation p ≤ 0.05: the AUROC is
    above what the same cross-validation reaches with the sides relabelled at random by work."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    texts = suspect_texts + control_texts
    y = np.array([1] * len(suspect_texts) + [0] * len(control_texts))
    s_units = list(suspect_units) if suspect_units is not None else [f"s{i}" for i in range(len(suspect_texts))]
    c_units = list(control_units) if control_units is not None else [f"c{i}" for i in range(len(control_texts))]
    groups = np.array([f"s\x1f{u}" for u in s_units] + [f"c\x1f{u}" for u in c_units])
    n_s, n_c = len(set(s_units)), len(set(c_units))
    folds = min(5, n_s, n_c)
    if folds < 2:
        return {"auroc": None, "ci95": None, "shifted": False,
                "note": "too few works on one side for a check split by work"}
    x = CountVectorizer(token_pattern=r"(?u)\b\w+\b", binary=True).fit_transform(texts)
    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)

    def cv_auc(labels: np.ndarray) -> tuple[float, np.ndarray]:
        prob = cross_val_predict(LogisticRegression(solver="liblinear"), x, labels, method="predict_proba",
                                 groups=groups, cv=cv)[:, 1]
        return float(roc_auc_score(labels, prob)), prob

    auc, prob = cv_auc(y)
    lo, hi = _grouped_bootstrap_auc(prob, y, groups, np.random.default_rng(seed), boots)
    # the same cross-validation with the sides relabelled at random by work: how high the AUROC gets when
    # there is no shift (the bootstrap holds the fitted folds fixed, so alone it refuses fair splits too often)
    rng = np.random.default_rng(seed + 1)
    names, inverse = np.unique(groups, return_inverse=True)
    side = np.array([y[inverse == g][0] for g in range(len(names))])
    null = [cv_auc(rng.permutation(side)[inverse])[0] for _ in range(permutations)]
    p = (1 + sum(a >= auc - 1e-12 for a in null)) / (1 + permutations)
    return {"auroc": round(auc, 4), "ci95": [round(lo, 4), round(hi, 4)], "p_value": round(p, 4),
            "permutations": permutations, "shifted": lo > 0.5 and p <= 0.05,
            "suspect_works": n_s, "control_works": n_c,
            "classifier": "bag of words (binary unigrams), logistic regression; folds, bootstrap and "
                          "relabelling by work"}


def _grouped_bootstrap_auc(prob: np.ndarray, y: np.ndarray, groups: np.ndarray, rng: np.random.Generator,
                           boots: int) -> tuple[float, float]:
    """95 % interval of the AUROC when works (not passages) are resampled, within each side: a work's
    passages are not independent, so a passage bootstrap gives intervals far too narrow."""
    names, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(names))]
    pos_g = [g for g in range(len(names)) if y[members[g][0]] == 1]
    neg_g = [g for g in range(len(names)) if y[members[g][0]] == 0]
    aucs = []
    for _ in range(boots):
        pos = np.concatenate([prob[members[pos_g[i]]] for i in rng.integers(0, len(pos_g), len(pos_g))])
        neg = np.concatenate([prob[members[neg_g[i]]] for i in rng.integers(0, len(neg_g), len(neg_g))])
        ranks = rankdata(np.concatenate([pos, neg]))  # Mann–Whitney: AUROC from the positives' rank sum
        aucs.append((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    return float(lo), float(hi)


def refusal(baseline: dict) -> str | None:
    if not baseline.get("shifted"):
        return None
    return (f"refused: a classifier that never queries the model tells the suspect passages from the control "
            f"passages by their words alone (AUROC {baseline['auroc']}, 95 % CI {baseline['ci95']}, permutation "
            f"p = {baseline.get('p_value')}), so any "
            "difference the model shows could be that shift, not training. Fix: use a control set from the same "
            "distribution — works by the same authors, of the same genre and period, published after the "
            "model's training cutoff or held back unpublished — so that this check is at chance")


def q_values(pvalues: list[float]) -> dict:
    """Benjamini–Hochberg and Benjamini–Yekutieli q-values across claimants (or classes)."""
    if not pvalues:
        return {"bh": [], "by": []}
    ps = np.array(pvalues)
    return {"bh": [round(float(q), 6) for q in false_discovery_control(ps, method="bh")],
            "by": [round(float(q), 6) for q in false_discovery_control(ps, method="by")]}
