"""Estimates from a labelled sample: share confirmed copied and share uninjured, with intervals.

Simple random sample: exact Clopper–Pearson and Wilson score intervals (statsmodels `proportion_confint`,
methods "beta" and "wilson"); both ignore the finite-population correction, so they are conservative for a
sample that is a large part of its class. Stratified sample: the weighted estimate sum(W_h p_h) with the
variance sum(W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1)) (finite-population correction per stratum), and a
Wilson interval on the effective sample size p(1-p)/variance (Kish), which, unlike the Wald interval, does
not collapse to a point when a stratum's share is 0 or 1.
"""

from __future__ import annotations

import math

from scipy.stats import norm
from sqlalchemy import func, select
from statsmodels.stats.proportion import proportion_confint

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema
from ascertain.validation.intervals import clopper_pearson, wilson_bounds


def intervals(x: int, n: int, confidence: float = 0.95) -> dict:
    alpha = 1 - confidence
    cp = clopper_pearson(x, n, confidence)
    wi = proportion_confint(x, n, alpha=alpha, method="wilson")
    return {"estimate": x / n, "x": x, "n": n, "clopper_pearson": [float(cp[0]), float(cp[1])],
            "wilson": [float(wi[0]), float(wi[1])]}


def wilson(p: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    return wilson_bounds(p, n, float(norm.ppf(1 - (1 - confidence) / 2)))


def stratified(strata: dict[str, tuple[int, int, int]], confidence: float = 0.95) -> dict:
    """strata: name -> (population N_h, sample n_h, positives x_h)."""
    total = sum(N for N, _, _ in strata.values())
    est = var = 0.0
    n_all = 0
    for N, n, x in strata.values():
        if n == 0:
            raise ValueError("a stratum has no labelled sample")
        w, p = N / total, x / n
        est += w * p
        if n > 1:
            var += w * w * (1 - n / N) * p * (1 - p) / (n - 1)
        n_all += n
    frac = n_all / total
    n_eff = est * (1 - est) / var if var > 0 else n_all / max(1e-9, 1 - frac) if frac < 1 else 1e9
    lo, hi = wilson(est, max(n_eff, 1.0), confidence)
    z = norm.ppf(1 - (1 - confidence) / 2)
    return {"estimate": est, "n": n_all, "population": total, "variance": var, "effective_n": round(n_eff, 1),
            "wilson_effective_n": [lo, hi], "wald_fpc": [max(0.0, est - z * math.sqrt(var)),
                                                          min(1.0, est + z * math.sqrt(var))]}


def sample_size(margin: float, population: int, confidence: float = 0.95, p: float = 0.5) -> int:
    """Sample size for a Wald half-width of `margin` at share p (0.5: the worst case), with the FPC."""
    if not 0 < margin < 1:
        raise AscertainError("--margin", f"must be between 0 and 1, not {margin}", "pass e.g. --margin 0.05")
    z = norm.ppf(1 - (1 - confidence) / 2)
    n0 = z * z * p * (1 - p) / (margin * margin)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population))) if population else math.ceil(n0)


def estimate(case: Case, class_name: str, sample_id: int | None = None, confidence: float = 0.95) -> dict:
    s, si = schema.samples, schema.sample_items
    with case.store.engine.connect() as c:
        sid = sample_id or c.execute(select(func.max(s.c.id)).where(s.c.class_name == class_name)).scalar()
        if sid is None:
            raise AscertainError(class_name, "has no sample", f"draw one: `ascertain sample CASE --class {class_name} "
                                 "--size N --seed S`")
        smp = c.execute(select(s).where(s.c.id == sid)).mappings().first()
        if smp is None or smp["class_name"] != class_name:
            raise AscertainError(str(sample_id), f"is not a sample of {class_name}", "check --sample")
        items = [dict(r) for r in c.execute(select(si).where(si.c.sample_id == sid)).mappings()]
    from ascertain.classes import protocol as protocols

    prot = protocols.of_sample(case, sid)
    labels_info = None
    if prot is not None:  # blinded double labelling: the agreed and adjudicated labels, nothing else
        final, labels_info = protocols.final_labels(case, sid)
        for i in items:
            i["copied"], i["in_corpus"] = final.get(i["work_id"], (None, None))
    labelled = [i for i in items if i["copied"] is not None and i["in_corpus"] is not None]
    out = {"class": class_name, "sample_id": sid, "seed": smp["seed"], "strata": smp["strata"],
           "population": smp["population"], "drawn": len(items), "labelled": len(labelled),
           "confidence": confidence, "unit_of_account": "work",
           "labels": labels_info or {"labels": "one label per item, as imported (no double labelling)"}}
    if prot is not None:
        out["protocol"] = {"id": prot["id"], "sha256": prot["sha256"], **prot["protocol"]}
    if not labelled:
        out["note"] = "no labels yet: fill the review sheet and run `ascertain labels import`"
        return out
    measures = {"confirmed_copied": lambda i: bool(i["copied"]),
                "uninjured": lambda i: not i["copied"] and not i["in_corpus"]}
    for name, pos in measures.items():
        x = sum(1 for i in labelled if pos(i))
        r = intervals(x, len(labelled), confidence)
        r["members_estimate"] = round(r["estimate"] * smp["population"])
        groups: dict[str, list[dict]] = {}
        for i in labelled:
            groups.setdefault(i["stratum"], []).append(i)
        if smp["strata"] and len(groups) > 1:
            pops = {i["stratum"]: i["stratum_population"] for i in items}
            r["stratified"] = stratified({k: (pops[k], len(v), sum(1 for i in v if pos(i)))
                                          for k, v in sorted(groups.items())}, confidence)
            if len(groups) < len(pops):
                r["stratified"]["note"] = "some strata have no labels yet; their weight is left out"
        r["finite_population"] = hypergeometric(x, len(labelled), smp["population"], confidence)
        out[name] = r
    un = out["uninjured"]
    fp = un["finite_population"]
    out["injured_members"] = {"estimate": smp["population"] - fp["count_estimate"],
                              "interval": [smp["population"] - fp["count_interval"][1],
                                           smp["population"] - fp["count_interval"][0]],
                              "method": "population minus the uninjured count's exact hypergeometric interval"}
    if prot is not None:
        out["standard"] = verdict(prot["protocol"], fp)
    if len(labelled) < len(items):
        out["note"] = f"{len(items) - len(labelled)} sampled works not labelled yet (left out)"
    return out


def hypergeometric(x: int, n: int, population: int, confidence: float = 0.95) -> dict:
    """Exact interval for the number of positives K in a finite population of N from x of n sampled without
    replacement (the finite-population correction, exactly): the K for which neither tail is below alpha/2."""
    import numpy as np
    from scipy.stats import hypergeom

    alpha = 1 - confidence
    ks = np.arange(population + 1)
    upper_tail = hypergeom.sf(x - 1, population, ks, n)  # P(X >= x | K)
    lower_tail = hypergeom.cdf(x, population, ks, n)  # P(X <= x | K)
    ok_lo = ks[upper_tail > alpha / 2]
    ok_hi = ks[lower_tail > alpha / 2]
    lo = int(ok_lo.min()) if len(ok_lo) else 0
    hi = int(ok_hi.max()) if len(ok_hi) else population
    est = round(x / n * population) if n else 0
    # one-sided upper bound at the full alpha: the standard "none" asks how many could hide in the class
    one_sided = ks[lower_tail > alpha]
    return {"count_estimate": est, "count_interval": [lo, hi], "share_interval": [lo / population, hi / population],
            "count_upper_one_sided": int(one_sided.max()) if len(one_sided) else population,
            "method": f"exact hypergeometric, N = {population:,}, n = {n}, {confidence:.0%}"}


def verdict(protocol: dict, fp: dict) -> dict:
    """What the estimate says under the protocol's standard (the court decides; this states the arithmetic)."""
    upper = fp["count_upper_one_sided"] / protocol["population"]
    if protocol["standard"] == "none":
        return {"standard": "none", "upper_share_one_sided": round(upper, 6),
                "statement": (f"the sample found uninjured members (estimate {fp['count_estimate']:,})"
                              if fp["count_estimate"] else
                              f"no uninjured member in the sample; at {protocol['confidence']:.0%} confidence "
                              f"at most {fp['count_upper_one_sided']:,} of {protocol['population']:,} "
                              f"({upper:.2%}) are uninjured")}
    t = protocol["de_minimis_threshold"]
    return {"standard": "de-minimis", "threshold": t, "upper_share_one_sided": round(upper, 6),
            "below_threshold": upper <= t,
            "statement": (f"the one-sided {protocol['confidence']:.0%} upper bound on the uninjured share is "
                          f"{upper:.2%}, {'at or below' if upper <= t else 'above'} the de minimis threshold "
                          f"{t:.2%}")}


def sampling_section(case: Case, class_name: str | None = None, sample_id: int | None = None,
                     confidence: float = 0.95) -> dict | None:
    """Everything the report's sampling section shows, JSON-ready: the protocol (and its hash), the draw
    (seed, size, allocation), the labelling (reviewers, sheet and label hashes, kappa with interval,
    disagreements and adjudications) and the estimate (share uninjured, count injured, intervals with and
    without the finite-population correction). None when the case has no sample."""
    from ascertain.classes import protocol as protocols

    s = schema.samples
    with case.store.engine.connect() as c:
        q = select(s).order_by(s.c.id.desc()).limit(1)
        if sample_id is not None:
            q = select(s).where(s.c.id == sample_id)
        elif class_name is not None:
            q = q.where(s.c.class_name == class_name)
        smp = c.execute(q).mappings().first()
        allocation: dict[str, int] = {}
        for (st,) in c.execute(select(schema.sample_items.c.stratum).where(
                schema.sample_items.c.sample_id == (smp["id"] if smp else -1))):
            allocation[st] = allocation.get(st, 0) + 1
    if smp is None:
        return None
    est = estimate(case, smp["class_name"], smp["id"], confidence)
    prot = protocols.of_sample(case, smp["id"])
    return {"class": smp["class_name"], "sample_id": smp["id"],
            "protocol": ({"id": prot["id"], "sha256": prot["sha256"], "fixed_at": prot["created_at"],
                          **prot["protocol"]} if prot else None),
            "draw": {"seed": smp["seed"], "size": smp["size"], "population": smp["population"],
                     "strata": smp["strata"], "allocation": dict(sorted(allocation.items())),
                     "drawn_at": smp["created_at"], "generator": "numpy PCG64"},
            "labelling": ({**protocols.agreement(case, smp["id"], confidence), **est["labels"]} if prot
                          else est["labels"]),
            "estimate": {k: est[k] for k in ("labelled", "drawn", "confidence", "uninjured", "confirmed_copied",
                                             "injured_members", "standard", "note") if k in est}}
