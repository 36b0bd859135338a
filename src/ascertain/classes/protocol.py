"""A sampling protocol fixed before the draw, blinded double labelling, agreement and the master's adjudication.

1. `create`: the population (a class of the latest `classes` run) and its frame (the members' ids, hashed), the
   strata, the question (the share of uninjured members) and the standard the court applies — "de-minimis"
   (Olean: some uninjured members are tolerable up to a threshold; the sample estimates the share within a
   margin) or "none" (Denney: a class must not hold uninjured members; the sample is large enough that finding
   none bounds their share below the margin) — the sample size computed for it, the seed, the reviewers and the
   labelling rules; recorded as canonical JSON with its sha256, before anything is drawn or labelled.
2. `draw`: the protocol's sample, refused if the class's frame has changed since; one sheet per reviewer, each
   without any other reviewer's labels.
3. Each reviewer's sheet is imported on its own (`labels import --reviewer`); `agreement` gives Cohen's kappa
   with its interval and the items they disagree on; the master adjudicates those; the estimate then uses the
   agreed and adjudicated labels and says so.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from sqlalchemy import insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema
from ascertain.store.db import now

STANDARDS = {
    "de-minimis": "Olean (9th Cir. 2022, en banc): uninjured members are tolerable up to a de minimis share; the "
                  "sample estimates the share of uninjured members within the margin",
    "none": "Denney (2d Cir. 2006): the class must not include members without standing; the sample is large "
            "enough that if it finds no uninjured member, the one-sided upper bound on their share is the margin",
}
LABELLING = ("A member is injured if its text (or a close copy) is in the corpus (in_corpus = yes) or a copy was "
             "found (copied = yes); uninjured if neither.")


def frame_hash(wids: list[int]) -> str:
    """The frame: the class's member work ids, sorted (a rerun of `classes` with the same members keeps it)."""
    return hashlib.sha256(json.dumps(sorted(wids)).encode()).hexdigest()


def sample_size_for(standard: str, population: int, margin: float, confidence: float, expected: float) -> dict:
    """The sample size the question needs, with the finite-population correction, and how it was computed."""
    from scipy.stats import hypergeom, norm

    if standard not in STANDARDS:
        raise AscertainError("--standard", f"{standard!r} is not a standard", f"use {' or '.join(STANDARDS)}")
    if not 0 < margin < 1 or not 0.5 <= confidence < 1 or not 0 < expected < 1:
        raise AscertainError("--margin/--confidence/--expected", "out of range",
                             "use 0 < margin < 1, 0.5 <= confidence < 1, 0 < expected < 1")
    if standard == "de-minimis":
        z = float(norm.ppf(1 - (1 - confidence) / 2))
        n0 = z * z * expected * (1 - expected) / (margin * margin)
        n = min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))
        how = (f"Wald half-width {margin} at {confidence:.0%} confidence for an expected uninjured share of "
               f"{expected}: n0 = z²p(1-p)/m² = {n0:.1f}, with the finite-population correction "
               f"n = n0 / (1 + (n0 - 1)/N) = {n}")
        return {"sample_size": n, "method": how}
    alpha = 1 - confidence
    k = max(1, math.ceil(margin * population))  # the fewest uninjured members that would break the standard
    n = next((m for m in range(1, population + 1) if hypergeom.pmf(0, population, k, m) <= alpha), population)
    how = (f"the smallest n for which a class of N = {population:,} holding {k:,} uninjured members "
           f"(a share of {margin}) would show none in the sample with probability at most {alpha:.3g} "
           f"(hypergeometric, i.e. with the finite-population correction): n = {n}; without it "
           f"ln(α)/ln(1-m) = {math.ceil(math.log(alpha) / math.log(1 - margin))}")
    return {"sample_size": n, "method": how}


def create(case: Case, class_name: str, standard: str, margin: float, seed: int, reviewers: list[str],
           rules_file: str | None = None, confidence: float = 0.95, expected: float = 0.5,
           threshold: float | None = None, strata: str | None = None) -> dict:
    from ascertain.classes.sampling import class_members

    reviewers = [r.strip() for r in reviewers if r.strip()]
    if len(reviewers) != 2 or reviewers[0] == reviewers[1]:
        raise AscertainError("--reviewers", "needs two different reviewers (blinded double labelling)",
                             "e.g. --reviewers alice,bob")
    if standard == "de-minimis" and threshold is None:
        raise AscertainError("--threshold", "is needed with the de-minimis standard",
                             "give the share the court treats as de minimis, e.g. --threshold 0.05")
    rules = LABELLING
    if rules_file:
        try:
            rules = Path(rules_file).read_text(encoding="utf-8")
        except OSError as e:
            raise AscertainError(rules_file, f"cannot read the labelling rules ({e.strerror})", "check the path") \
                from e
    run_id, wids = class_members(case, class_name)
    if not wids:
        raise AscertainError(class_name, "has no members", "check the class file")
    size = sample_size_for(standard, len(wids), margin, confidence, expected)
    record = {"class": class_name, "class_run_id": run_id, "population": len(wids),
              "frame_sha256": frame_hash(wids), "unit_of_account": "work", "strata": strata,
              "question": "share of uninjured members (not copied and not in the corpus), and the count of injured "
                          "members", "standard": standard, "standard_means": STANDARDS[standard],
              "de_minimis_threshold": threshold, "margin": margin, "confidence": confidence,
              "expected_share": expected, **size, "seed": seed, "reviewers": reviewers,
              "labelling_rules": rules, "labelling_rules_sha256": hashlib.sha256(rules.encode()).hexdigest(),
              "blinding": "each reviewer labels an own sheet that holds no other reviewer's labels; disagreements "
                          "go to the master; the estimate uses the agreed and adjudicated labels"}
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    with case.store.begin() as c:
        pid = c.execute(insert(schema.sampling_protocols).values(
            class_name=class_name, protocol=record, sha256=digest, created_at=now())).inserted_primary_key[0]
    case.store.audit("sampling protocol", {"protocol": pid, "sha256": digest, "class": class_name,
                                           "sample_size": size["sample_size"], "seed": seed})
    return {"protocol_id": pid, "sha256": digest, **record}


def get(case: Case, protocol_id: int) -> dict:
    sp = schema.sampling_protocols
    with case.store.engine.connect() as c:
        row = c.execute(select(sp).where(sp.c.id == protocol_id)).mappings().first()
    if row is None:
        raise AscertainError(str(protocol_id), "is not a sampling protocol", "create one with `ascertain protocol`")
    text = json.dumps(row["protocol"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if hashlib.sha256(text.encode()).hexdigest() != row["sha256"]:
        raise AscertainError(f"protocol {protocol_id}", "no longer matches the hash recorded when it was fixed",
                             "the case store was altered: restore it from a backup")
    return dict(row)


def of_sample(case: Case, sample_id: int) -> dict | None:
    sp = schema.sampling_protocols
    with case.store.engine.connect() as c:
        pid = c.execute(select(sp.c.id).where(sp.c.sample_id == sample_id)).scalar()
    return get(case, pid) if pid is not None else None


def draw(case: Case, protocol_id: int, out_dir: Path) -> dict:
    from ascertain.classes.sampling import class_members
    from ascertain.classes.sampling import draw as draw_sample

    row = get(case, protocol_id)
    p = row["protocol"]
    if row["sample_id"] is not None:
        raise AscertainError(f"protocol {protocol_id}", f"was drawn already (sample {row['sample_id']})",
                             "a protocol is drawn once; create a new protocol for a new sample")
    run_id, wids = class_members(case, p["class"])
    if frame_hash(wids) != p["frame_sha256"]:
        raise AscertainError(p["class"], f"has other members than when the protocol was fixed (classes run "
                             f"{p['class_run_id']}, now {run_id})", "fix a new protocol on the current class")
    sheets = [out_dir / f"sample-protocol{protocol_id}-{r}.csv" for r in p["reviewers"]]
    r = draw_sample(case, p["class"], p["sample_size"], p["seed"], p["strata"], sheets[0],
                    reviewers=dict(zip(p["reviewers"], sheets, strict=True)))
    sp = schema.sampling_protocols
    with case.store.begin() as c:
        c.execute(sp.update().where(sp.c.id == protocol_id).values(sample_id=r["sample_id"]))
    detail = {**r, "protocol_id": protocol_id, "protocol_sha256": row["sha256"]}
    case.store.audit("sample (protocol)", {k: v for k, v in detail.items() if k != "allocation"})
    return detail


def _labels(case: Case, sample_id: int) -> dict[str, dict[int, tuple[bool, bool]]]:
    sl = schema.sample_labels
    out: dict[str, dict[int, tuple[bool, bool]]] = {}
    with case.store.engine.connect() as c:
        for r in c.execute(select(sl).where(sl.c.sample_id == sample_id).order_by(sl.c.id)).mappings():
            out.setdefault(r["reviewer"], {})[r["work_id"]] = (r["copied"], r["in_corpus"])
    return out


def _kappa(pairs: list[tuple[bool, bool]], confidence: float) -> dict:
    import warnings

    import numpy as np
    from scipy.stats import norm
    from statsmodels.stats.inter_rater import cohens_kappa

    table = np.zeros((2, 2))
    for a, b in pairs:
        table[int(a), int(b)] += 1
    agree = (table[0, 0] + table[1, 1]) / max(1, len(pairs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        k = cohens_kappa(table)
    kappa, se = float(k["kappa"]), float(k["std_kappa"])
    if not math.isfinite(kappa):
        return {"n": len(pairs), "observed_agreement": round(agree, 4), "kappa": None,
                "note": "kappa is undefined: both reviewers gave one and the same label to every item"}
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    half = z * se if math.isfinite(se) else float("inf")
    return {"n": len(pairs), "observed_agreement": round(agree, 4), "kappa": round(kappa, 4),
            "interval": [round(max(-1.0, kappa - half), 4), round(min(1.0, kappa + half), 4)],
            "interval_method": f"kappa ± z·SE, SE asymptotic (Fleiss, Cohen & Everitt 1969; statsmodels), "
                               f"{confidence:.0%}"}


def uninjured(copied: bool, in_corpus: bool) -> bool:
    return not copied and not in_corpus


def agreement(case: Case, sample_id: int, confidence: float = 0.95) -> dict:
    """Cohen's kappa between the two reviewers (on injured/uninjured, and per label) and the disagreements."""
    prot = of_sample(case, sample_id)
    if prot is None:
        raise AscertainError(f"sample {sample_id}", "was not drawn under a protocol with two reviewers",
                             "fix a protocol (`ascertain protocol create`) and draw it")
    a, b = prot["protocol"]["reviewers"]
    labels = _labels(case, sample_id)
    la, lb = labels.get(a, {}), labels.get(b, {})
    both = sorted(set(la) & set(lb))
    adj = adjudicated(case, sample_id)
    disagreements = [{"work_id": w, a: {"copied": la[w][0], "in_corpus": la[w][1]},
                      b: {"copied": lb[w][0], "in_corpus": lb[w][1]},
                      "adjudicated": adj.get(w)} for w in both if la[w] != lb[w]]
    return {"sample_id": sample_id, "reviewers": [a, b], "labelled_by_both": len(both),
            "labelled_by": {a: len(la), b: len(lb)},
            "kappa_uninjured": _kappa([(uninjured(*la[w]), uninjured(*lb[w])) for w in both], confidence),
            "kappa_copied": _kappa([(la[w][0], lb[w][0]) for w in both], confidence),
            "kappa_in_corpus": _kappa([(la[w][1], lb[w][1]) for w in both], confidence),
            "disagreements": disagreements,
            "unresolved": sum(1 for d in disagreements if d["adjudicated"] is None)}


def adjudicated(case: Case, sample_id: int) -> dict[int, dict]:
    ad = schema.adjudications
    with case.store.engine.connect() as c:
        return {r["work_id"]: {"copied": r["copied"], "in_corpus": r["in_corpus"], "reason": r["reason"],
                               "by": r["decided_by"]}
                for r in c.execute(select(ad).where(ad.c.sample_id == sample_id)).mappings()}


def adjudicate(case: Case, sample_id: int, work_id: int, copied: bool, in_corpus: bool, reason: str,
               by: str) -> dict:
    if not reason.strip():
        raise AscertainError("--reason", "is empty", "give the master's reasons")
    ag = agreement(case, sample_id)
    if work_id not in {d["work_id"] for d in ag["disagreements"]}:
        raise AscertainError(f"work {work_id}", f"is not a disagreement of sample {sample_id}",
                             f"list them with `ascertain labels agreement CASE --sample {sample_id}`")
    if work_id in adjudicated(case, sample_id):
        raise AscertainError(f"work {work_id}", "was adjudicated already", "an adjudication stands as decided")
    row = {"sample_id": sample_id, "work_id": work_id, "copied": copied, "in_corpus": in_corpus,
           "reason": reason.strip(), "decided_by": by, "decided_at": now()}
    with case.store.begin() as c:
        c.execute(insert(schema.adjudications).values(**row))
    case.store.audit("labels adjudicate", row)
    return row


def final_labels(case: Case, sample_id: int) -> tuple[dict[int, tuple[bool, bool]], dict]:
    """The labels the estimate uses: where both reviewers agree, theirs; where they disagree, the master's;
    items not labelled by both, or disagreed on and not adjudicated yet, are left out (and counted)."""
    prot = of_sample(case, sample_id)
    assert prot is not None
    a, b = prot["protocol"]["reviewers"]
    labels = _labels(case, sample_id)
    la, lb = labels.get(a, {}), labels.get(b, {})
    adj = adjudicated(case, sample_id)
    out: dict[int, tuple[bool, bool]] = {}
    agreed = by_master = unresolved = 0
    for w in sorted(set(la) & set(lb)):
        if la[w] == lb[w]:
            out[w] = la[w]
            agreed += 1
        elif w in adj:
            out[w] = (adj[w]["copied"], adj[w]["in_corpus"])
            by_master += 1
        else:
            unresolved += 1
    info = {"labels": "adjudicated: two reviewers labelled blind; where they agreed their label is used, where "
                      "they disagreed the master's", "reviewers": [a, b], "agreed": agreed,
            "adjudicated_by_master": by_master, "disagreements_unresolved": unresolved,
            "labelled_by_one_only": len(set(la) ^ set(lb)), "label_sheets": label_hashes(case, sample_id)}
    return out, info


def label_hashes(case: Case, sample_id: int) -> dict:
    """Per reviewer: the sha256 of each imported sheet and of the labels as stored (sorted, canonical)."""
    sl = schema.sample_labels
    with case.store.engine.connect() as c:
        rows = [dict(r) for r in c.execute(select(sl.c.reviewer, sl.c.work_id, sl.c.copied, sl.c.in_corpus,
                                                  sl.c.sheet_sha256).where(sl.c.sample_id == sample_id)
                                           .order_by(sl.c.reviewer, sl.c.work_id)).mappings()]
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r["reviewer"], {"sheets": set(), "labels": []})
        out[r["reviewer"]]["sheets"].add(r["sheet_sha256"])
        out[r["reviewer"]]["labels"].append([r["work_id"], r["copied"], r["in_corpus"]])
    return {k: {"sheet_sha256": sorted(v["sheets"]),
                "labels_sha256": hashlib.sha256(json.dumps(v["labels"]).encode()).hexdigest(),
                "labels": len(v["labels"])} for k, v in out.items()}
