"""Tier B: dataset inference (Maini et al. 2024). Were a claimant's works, as a set, in the training data?

Per passage: loss, zlib ratio, Min-K%, Min-K%++ (with the whole next-token distribution) and the ratio
to a reference model (when given); each oriented so that higher means "more like training data". The
suspect passages and a matched control set (same passage length, text the model cannot have seen) are
each split in two halves by a seed: on the first halves a weight per feature is learned (standardized
mean difference, negatives set to 0), on the second halves the weighted scores are compared by a seeded
one-sided permutation test. Learning and testing on disjoint halves keeps the test's false-positive rate
at α when suspect and control come from the same distribution; `probe validate` measures it.
If a classifier that never queries the model (bag of words) tells suspect from control text, the control
set is not matched, and the result is refused: a test would measure the shift, not training.
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


def subset_masks(n: int, n_first: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` random subsets of size n_first of range(n), as a 0/1 float matrix (count × n)."""
    return (rng.random((count, n)).argsort(1) < n_first).astype(np.float64)


def split_weights(sa: np.ndarray, ca: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardization and per-feature weights learned on the first halves."""
    both = np.vstack([sa, ca])
    mean, sd = both.mean(0), both.std(0) + 1e-12
    d = ((sa.mean(0) - ca.mean(0)) / sd).clip(min=0)
    return mean, sd, d if d.sum() > 0 else np.ones_like(d)


def halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(n)
    return idx[: n // 2], idx[n // 2:]


def permutation_test(suspect: np.ndarray, control: np.ndarray, p: InferenceParams) -> dict:
    """Seeded split → weights on halves A → permutation test of the weighted score on halves B."""
    rng = np.random.default_rng(p.seed)
    sa, sb = halves(len(suspect), rng)
    ca, cb = halves(len(control), rng)
    mean, sd, w = split_weights(suspect[sa], control[ca])
    score_s, score_c = ((suspect[sb] - mean) / sd) @ w, ((control[cb] - mean) / sd) @ w
    scores = np.concatenate([score_s, score_c])
    pval = permutation_pvalues(scores[None, :], len(score_s), p.permutations, rng)[0]
    d, lo, hi = cohens_d(score_s, score_c)
    return {"p_value": float(pval), "permutations": p.permutations, "effect_size_d": d,
            "effect_size_ci95": [lo, hi], "suspect_test_passages": int(len(sb)),
            "control_test_passages": int(len(cb)), "weights": [round(float(x), 4) for x in w]}


def permutation_pvalues(scores: np.ndarray, n_suspect: int, permutations: int, rng: np.random.Generator,
                        masks: np.ndarray | None = None) -> np.ndarray:
    """One-sided p-values of mean(suspect) − mean(rest) for each row of `scores` (suspect first), the
    same random relabelings for every row (each row's test is still exact): (1 + #≥ observed) / (1 + m)."""
    n = scores.shape[1]
    m = subset_masks(n, n_suspect, permutations, rng) if masks is None else masks
    total = scores.sum(1, keepdims=True)
    perm_s = scores @ m.T  # rows × permutations: sum of the relabelled suspect group
    stat = lambda s_sum: s_sum / n_suspect - (total - s_sum) / (n - n_suspect)  # noqa: E731
    obs = stat(scores[:, :n_suspect].sum(1, keepdims=True))
    return (1 + (stat(perm_s) >= obs - 1e-12).sum(1)) / (1 + m.shape[0])


def cohens_d(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / max(1, na + nb - 2)) + 1e-12
    d = float((a.mean() - b.mean()) / pooled)
    se = float(np.sqrt((na + nb) / (na * nb) + d * d / (2 * (na + nb))))
    z = float(norm.ppf(0.975))
    return round(d, 4), round(d - z * se, 4), round(d + z * se, 4)


def blind_baseline(suspect_texts: list[str], control_texts: list[str], seed: int = 0, boots: int = 1000) -> dict:
    """Cross-validated AUROC of a bag-of-words classifier that never sees the model (Das et al. 2024),
    with a bootstrap 95 % interval; `shifted` when the interval excludes 0.5."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts = suspect_texts + control_texts
    y = np.array([1] * len(suspect_texts) + [0] * len(control_texts))
    folds = min(5, len(suspect_texts), len(control_texts))
    if folds < 2:
        return {"auroc": None, "ci95": None, "shifted": False, "note": "too few passages for the check"}
    x = CountVectorizer(token_pattern=r"(?u)\b\w+\b", binary=True).fit_transform(texts)
    prob = cross_val_predict(LogisticRegression(max_iter=1000), x, y, method="predict_proba",
                             cv=StratifiedKFold(folds, shuffle=True, random_state=seed))[:, 1]
    auc = float(roc_auc_score(y, prob))
    rng = np.random.default_rng(seed)
    pos, neg = prob[y == 1], prob[y == 0]
    # stratified bootstrap, all resamples at once; AUROC from the rank sum of the positives (Mann–Whitney)
    n1, n0 = len(pos), len(neg)
    both = np.hstack([pos[rng.integers(0, n1, (boots, n1))], neg[rng.integers(0, n0, (boots, n0))]])
    aucs = (rankdata(both, axis=1)[:, :n1].sum(1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    lo, hi = (float(v) for v in np.percentile(aucs, [2.5, 97.5]))
    return {"auroc": round(auc, 4), "ci95": [round(lo, 4), round(hi, 4)], "shifted": lo > 0.5,
            "classifier": "bag of words (binary unigrams), logistic regression, stratified CV"}


def refusal(baseline: dict) -> str | None:
    if not baseline.get("shifted"):
        return None
    return (f"refused: a classifier that never queries the model tells the suspect passages from the control "
            f"passages by their words alone (AUROC {baseline['auroc']}, 95 % CI {baseline['ci95']}), so any "
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
