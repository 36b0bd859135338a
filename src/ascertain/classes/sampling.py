"""Seeded simple or stratified random samples of a class, review sheets, and reviewers' labels.

A sample is drawn from the members of the latest `classes` run, sorted by work id, with numpy's PCG64
generator seeded by the user: the same case, class, size, seed and strata give the same sample. Strata get
sizes proportional to their population (largest remainders), at least one each when the size allows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select

from ascertain.case import Case
from ascertain.classes.facts import gather, infringement_setting
from ascertain.errors import AscertainError
from ascertain.readers.base import Skip
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.tables import read_csv_text, yes_no

STRATA_FIELDS = ("language", "work_type", "claimant_role", "registered", "s412", "in_corpus_by", "publication_decade")
SHEET_COLUMNS = ("sample_id", "work_id", "stratum", "title", "authors", "owners", "evidence_ids",
                 "copied", "in_corpus", "reviewer", "note")


def class_members(case: Case, class_name: str) -> tuple[int, list[int]]:
    """(run id, member work ids) of the class in the latest `classes` run."""
    d = schema.class_decisions
    with case.store.engine.connect() as c:
        run_id = c.execute(select(func.max(d.c.run_id))).scalar()
        if run_id is None:
            raise AscertainError(str(case.root), "has no class decisions",
                                 "run `ascertain classes CASE --file classes.toml` first")
        names = {r[0] for r in c.execute(select(d.c.class_name).distinct())}
        if class_name not in names:
            raise AscertainError(class_name, "is not a class of the latest classes run",
                                 f"choose one of: {', '.join(sorted(names))}")
        failed = select(d.c.work_id).where(d.c.class_name == class_name, ~d.c.passed)
        wids = [r[0] for r in c.execute(select(d.c.work_id).where(d.c.class_name == class_name,
                                                                   d.c.work_id.not_in(failed))
                                        .distinct().order_by(d.c.work_id))]
    return run_id, wids


def strata_of(case: Case, wids: list[int], field: str | None) -> dict[int, str]:
    if not field:
        return dict.fromkeys(wids, "all")
    if field not in STRATA_FIELDS:
        raise AscertainError("--strata", f"unknown field {field!r}", f"use one of {', '.join(STRATA_FIELDS)}")
    from ascertain.classes.eligibility import decide

    facts = gather(case)
    setting = infringement_setting(case)
    out = {}
    for w in wids:
        f = facts[w]
        if field == "language":
            v = f.language or "unknown"
        elif field == "work_type":
            v = f.work_type or "unknown"
        elif field == "claimant_role":
            v = "+".join(sorted({o["role"] for o in f.owners}))
        elif field == "registered":
            v = "registered" if f.registrations else "not registered"
        elif field == "s412":
            v = decide(f, setting).status
        elif field == "in_corpus_by":
            v = "+".join(r for r, on in (("content", f.content_evidence), ("identifier", f.identifier_hits))
                         if on) or "neither"
        else:
            v = f"{f.publication_date[:3]}0s" if f.publication_date else "unknown"
        out[w] = v
    return out


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation by largest remainders, each stratum at least one when n allows."""
    total = sum(sizes.values())
    keys = sorted(sizes)
    base = {k: min(sizes[k], max(1 if n >= len(keys) else 0, int(n * sizes[k] // total))) for k in keys}
    rest = n - sum(base.values())
    order = sorted(keys, key=lambda k: (-(n * sizes[k] / total - int(n * sizes[k] // total)), k))
    while rest > 0:
        moved = False
        for k in order:
            if rest and base[k] < sizes[k]:
                base[k] += 1
                rest -= 1
                moved = True
        if not moved:
            break
    while rest < 0:  # the minimum of one per stratum overshot: take back from the largest
        k = max(keys, key=lambda k: (base[k], k))
        base[k] -= 1
        rest += 1
    return base


def draw(case: Case, class_name: str, size: int, seed: int, strata: str | None, sheet: Path,
         reviewers: dict[str, Path] | None = None) -> dict:
    """The sample, and its review sheet; with `reviewers`, one sheet per reviewer (its own name filled in, no
    other reviewer's labels), for blinded double labelling."""
    if size < 1:
        raise AscertainError("--size", f"must be at least 1, not {size}", "pass e.g. --size 137")
    run_id, wids = class_members(case, class_name)
    if not wids:
        raise AscertainError(class_name, "has no members", "check the class file")
    size = min(size, len(wids))
    stratum = strata_of(case, wids, strata)
    groups: dict[str, list[int]] = {}
    for w in wids:
        groups.setdefault(stratum[w], []).append(w)
    alloc = allocate({k: len(v) for k, v in groups.items()}, size)
    rng = np.random.Generator(np.random.PCG64(seed))
    chosen: list[tuple[str, int]] = []
    for k in sorted(groups):
        picked = rng.choice(np.array(groups[k]), size=alloc[k], replace=False) if alloc[k] else []
        chosen.extend((k, int(w)) for w in sorted(picked))
    facts = gather(case)
    with case.store.begin() as c:
        sid = c.execute(insert(schema.samples).values(
            class_name=class_name, class_run_id=run_id, seed=seed, strata=strata, size=len(chosen),
            population=len(wids), sheet=str(sheet), created_at=now())).inserted_primary_key[0]
        c.execute(insert(schema.sample_items), [{"sample_id": sid, "work_id": w, "stratum": k,
                                                 "stratum_population": len(groups[k])} for k, w in chosen])
    from ascertain.classes.sheets import write_csv

    rows = [{"sample_id": sid, "work_id": w, "stratum": k, "title": facts[w].title,
             "authors": "; ".join(facts[w].authors),
             "owners": "; ".join(f"{o['name']} ({o['role']})" for o in facts[w].owners),
             "evidence_ids": " ".join(map(str, facts[w].content_evidence + facts[w].output_evidence)),
             "copied": "", "in_corpus": "", "reviewer": "", "note": ""} for k, w in chosen]
    targets = reviewers or {"": sheet}
    for name, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(path, SHEET_COLUMNS, ({**r, "reviewer": name} for r in rows))
    detail = {"sample_id": sid, "class": class_name, "class_run_id": run_id, "seed": seed, "strata": strata,
              "size": len(chosen), "population": len(wids), "allocation": alloc, "sheet": str(sheet),
              **({"sheets": {k: str(v) for k, v in reviewers.items()}} if reviewers else {})}
    case.store.audit("sample", detail)
    return detail


def import_labels(case: Case, sheet: str, reviewer: str | None = None) -> dict:
    """Reviewers' labels from a filled review sheet; a bad row is skipped, the rest kept, nothing half-done.
    A sample drawn under a protocol takes each reviewer's sheet on its own (`reviewer`), kept apart."""
    import hashlib

    from ascertain.classes.sheets import unsafe_cell

    rows = [{k: unsafe_cell(v) if isinstance(v, str) else v for k, v in r.items()}
            for r in csv.DictReader(read_csv_text(sheet).splitlines())]
    missing = [c for c in ("sample_id", "work_id", "copied", "in_corpus") if rows and c not in rows[0]]
    if missing or not rows:
        raise AscertainError(sheet, f"is not a review sheet (missing {', '.join(missing) or 'rows'})",
                             "import the sheet `ascertain sample` wrote, with the copied/in_corpus columns filled")
    skips: list[Skip] = []
    updates = []
    with case.store.engine.connect() as c:
        items = {(r.sample_id, r.work_id) for r in c.execute(select(schema.sample_items.c.sample_id,
                                                                     schema.sample_items.c.work_id))}
    for n, r in enumerate(rows, 2):
        loc = f"{sheet}:{n}"
        try:
            key = (int(r["sample_id"]), int(r["work_id"]))
            if key not in items:
                raise ValueError(f"work {key[1]} is not in sample {key[0]}")
            copied, in_corpus = yes_no(r["copied"], "copied"), yes_no(r["in_corpus"], "in_corpus")
        except ValueError as e:
            skips.append(Skip(sheet, loc, str(e), "correct that row and import the sheet again"))
            continue
        if copied is None and in_corpus is None:
            continue
        if copied and in_corpus is False:
            skips.append(Skip(sheet, loc, "copied = yes but in_corpus = no", "a copy in the corpus is in it: fix "
                              "one of the two (a copy only in model outputs: in_corpus = no, copied = no, note it)"))
            continue
        updates.append({"k": key, "copied": copied, "in_corpus": in_corpus,
                        "reviewer": (r.get("reviewer") or "").strip() or None, "note": (r.get("note") or "").strip()})
    samples = {u["k"][0] for u in updates}
    from ascertain.classes import protocol

    bound = {sid: protocol.of_sample(case, sid) for sid in samples}
    if any(bound.values()):
        return _import_blind(case, sheet, reviewer, updates, skips, bound,
                             hashlib.sha256(Path(sheet).read_bytes()).hexdigest())
    si = schema.sample_items
    with case.store.begin() as c:
        for u in updates:
            c.execute(si.update().where(si.c.sample_id == u["k"][0], si.c.work_id == u["k"][1]).values(
                copied=u["copied"], in_corpus=u["in_corpus"], reviewer=u["reviewer"], note=u["note"],
                labelled_at=now()))
    case.store.record_skips("labels import", None, skips)
    detail = {"sheet": sheet, "labelled": len(updates), "skipped": len(skips)}
    case.store.audit("labels import", detail)
    return {**detail, "skips": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in skips]}


def _import_blind(case: Case, sheet: str, reviewer: str | None, updates: list[dict], skips: list[Skip],
                  bound: dict, digest: str) -> dict:
    """One reviewer's labels of a protocol's sample, kept apart from the other reviewer's."""
    if len(bound) != 1:
        raise AscertainError(sheet, "holds rows of several samples", "import one reviewer's sheet of one sample")
    (sid, prot), = bound.items()
    allowed = prot["protocol"]["reviewers"]
    names = {u["reviewer"] for u in updates if u["reviewer"]}
    who = reviewer or (next(iter(names)) if len(names) == 1 else None)
    if who not in allowed:
        raise AscertainError(sheet, f"is not one reviewer's sheet of protocol {prot['id']} (reviewer "
                             f"{who or 'not given'}; the protocol's: {', '.join(allowed)})",
                             "pass --reviewer NAME with the sheet that reviewer filled")
    if names - {who}:
        raise AscertainError(sheet, f"holds labels of {', '.join(sorted(names - {who}))} too: the labelling is "
                             "blind, one sheet per reviewer", "import each reviewer's own sheet")
    sl = schema.sample_labels
    with case.store.begin() as c:
        c.execute(sl.delete().where(sl.c.sample_id == sid, sl.c.reviewer == who,
                                    sl.c.work_id.in_([u["k"][1] for u in updates])))
        kept = [u for u in updates if u["copied"] is not None and u["in_corpus"] is not None]
        for u in updates:
            if u not in kept:
                skips.append(Skip(sheet, f"work {u['k'][1]}", "only one of copied / in_corpus is filled",
                                  "fill both"))
        if kept:
            c.execute(insert(sl), [{"sample_id": sid, "work_id": u["k"][1], "reviewer": who, "copied": u["copied"],
                                    "in_corpus": u["in_corpus"], "note": u["note"], "sheet_sha256": digest,
                                    "labelled_at": now()} for u in kept])
    case.store.record_skips("labels import", None, skips)
    detail = {"sheet": sheet, "sheet_sha256": digest, "sample_id": sid, "reviewer": who, "labelled": len(kept),
              "skipped": len(skips), "blind": True}
    case.store.audit("labels import", detail)
    return {**detail, "skips": [{"locator": s.locator, "reason": s.reason, "fix": s.fix} for s in skips]}
