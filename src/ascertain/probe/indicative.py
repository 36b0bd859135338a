"""Tier C: indicative per-passage scores. Never proof of membership.

Per work: the mean Min-K%++ (or, without the whole distribution, Min-K%) of its passages, and where that
stands among the control passages; flagged when it is above the control set's 95th percentile. The error
rate stated with it is measured on this model: the share of control works that the same rule flags
(leave-one-out), with a Clopper–Pearson interval. Per-document membership inference is close to chance
when members and non-members share a distribution (MIMIR); `probe validate` gives the AUROC and TPR at
1 % FPR on a model with a known split.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from ascertain.validation.intervals import clopper_pearson

LABEL = "indicative only: not evidence that any passage was trained on"


def score_name(rows: list[dict]) -> str:
    return "min_k_pp" if rows and all("min_k_pp" in r for r in rows) else "min_k"


def work_scores(by_work: dict[str, list[dict]], controls: dict[str, list[dict]], quantile: float = 0.95) -> dict:
    """Indicative score of each work and the rule's false-positive rate on the control works."""
    rows = [r for v in (*by_work.values(), *controls.values()) for r in v]
    name = score_name(rows)
    cmeans = {k: float(np.mean([r[name] for r in v])) for k, v in controls.items() if v}
    cpass = np.array([r[name] for v in controls.values() for r in v])
    if len(cpass) < 2 or len(cmeans) < 2:
        return {"not_run": "needs at least two control works with passages", "label": LABEL}
    threshold = float(np.quantile(cpass, quantile))
    flagged_controls = 0
    for k, m in cmeans.items():  # leave one control work out: its own passages do not set the threshold
        rest = np.array([r[name] for kk, v in controls.items() if kk != k for r in v])
        flagged_controls += m > float(np.quantile(rest, quantile))
    out = {}
    for k, v in by_work.items():
        if v:
            m = float(np.mean([r[name] for r in v]))
            out[k] = {"score": round(m, 4), "percentile_among_control_passages": round(float((cpass < m).mean()), 4),
                      "flagged": m > threshold}
    return {"score": name, "threshold": round(threshold, 4), "works": out, "label": LABEL,
            "control_works": len(cmeans), "control_works_flagged": int(flagged_controls),
            "fpr": round(flagged_controls / len(cmeans), 4),
            "fpr_ci95": clopper_pearson(flagged_controls, len(cmeans), digits=5)}


def auroc_tpr(member: np.ndarray, nonmember: np.ndarray, fpr_at: float = 0.01) -> dict:
    """AUROC and TPR at a fixed FPR (threshold set on the non-members), with Clopper–Pearson intervals."""
    y = np.r_[np.ones(len(member)), np.zeros(len(nonmember))]
    s = np.r_[member, nonmember]
    auc = float(roc_auc_score(y, s))
    thr = float(np.quantile(nonmember, 1 - fpr_at))
    tp, fp = int((member > thr).sum()), int((nonmember > thr).sum())
    fpr_curve, tpr_curve, _ = roc_curve(y, s)
    # Hanley–McNeil standard error of the AUROC
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    n1, n0 = len(member), len(nonmember)
    se = float(np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0)))
    return {"auroc": round(auc, 4), "auroc_ci95": [round(max(0.0, auc - 1.96 * se), 4), round(min(1.0, auc + 1.96 * se),
                                                                                               4)],
            "tpr_at_fpr": fpr_at, "tpr": round(tp / n1, 4), "tpr_ci95": clopper_pearson(tp, n1, digits=5),
            "fpr": round(fp / n0, 4), "fpr_ci95": clopper_pearson(fp, n0, digits=5), "members": n1, "non_members": n0,
            "roc_points": len(fpr_curve)}
