"""`ascertain show`: the case's sources and works, or one work's evidence."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ascertain.case import Case
from ascertain.cmi.status import items
from ascertain.errors import AscertainError
from ascertain.report.show_images import fold_image_copies, image_records, watermark_summary
from ascertain.store import schema as s

STREAM_ROWS = 1_000  # evidence rows fetched at a time


@dataclass(frozen=True)
class EvidenceFilter:
    """What `show` and the CSV export list: the same figures `match` decides `copied` on."""
    min_tokens: int = 0  # of the work's own tokens reproduced
    min_coverage: float = 0.0  # own coverage
    copied_only: bool = False

    def keep(self, copied: bool, metrics: dict) -> bool:
        return ((copied or not self.copied_only) and metrics.get("own_tokens_copied", 0) >= self.min_tokens
                and metrics.get("own_coverage", 0.0) >= self.min_coverage)

    @property
    def active(self) -> bool:
        return self != EvidenceFilter()


def case_summary(case: Case, flt: EvidenceFilter = EvidenceFilter()) -> dict:
    with case.store.engine.connect() as c:
        sources = [dict(r) for r in c.execute(select(
            s.sources.c.id, s.sources.c.name, s.sources.c.kind, s.sources.c.status, s.sources.c.documents,
            s.sources.c.skipped, s.sources.c.keyed).order_by(s.sources.c.id)).mappings()]
        works = [dict(r) for r in c.execute(
            select(s.works.c.id, s.claimants.c.name.label("claimant"), s.works.c.title,
                   s.works.c.identifiers, func.count(s.work_files.c.id).label("files"))
            .join(s.claimants).join(s.work_files, isouter=True).group_by(s.works.c.id, s.claimants.c.name)
            .order_by(s.works.c.id)).mappings()]
        for w in works:
            w.update(copies=0, copied_in=set(), best_own_coverage=0.0, longest_run_tokens=0)
        by_id = {w["id"]: w for w in works}
        # the copies are read a batch at a time and folded into their work: memory follows the works, not
        # the evidence rows (a 10,000-work match stores hundreds of thousands)
        ev = c.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(
            select(s.evidence.c.work_id, s.evidence.c.own_coverage, s.evidence.c.longest_run_tokens,
                   # identical copies of the document (measured once, stored once): each is a copy
                   func.coalesce(s.evidence.c.metrics[("identical_copies", "documents")].as_integer(), 1)
                   .label("documents"),
                   *([s.evidence.c.metrics] if flt.active else []), s.sources.c.name)
            .join(s.sources).where(s.evidence.c.copied.is_(True))).mappings()
        for e in ev:
            w = by_id.get(e["work_id"])
            if w is None or (flt.active and not flt.keep(True, e["metrics"])):
                continue
            w["copies"] += e["documents"]
            w["copied_in"].add(e["name"])
            w["best_own_coverage"] = max(w["best_own_coverage"], e["own_coverage"])
            w["longest_run_tokens"] = max(w["longest_run_tokens"], e["longest_run_tokens"])
        skipped = c.execute(select(func.count()).select_from(s.skipped)).scalar_one()
        fold_image_copies(c, by_id)
        watermarks = watermark_summary(c)
    for w in works:
        w["copied_in"] = sorted(w["copied_in"])
    from ascertain.match.images import stored_cmi_rates

    return {"case": str(case.root), "store": case.store.url.split("@")[-1], "sources": sources,
            "works": works, "skipped_inputs": skipped, "probe": probe_evidence(case),
            "image_cmi_rates": stored_cmi_rates(case), "image_metadata": _image_metadata_counts(case),
            "image_watermarks": watermarks}


def work_evidence(case: Case, work: str, flt: EvidenceFilter = EvidenceFilter()) -> dict:
    with case.store.engine.connect() as c:
        w = work_records(c, work, flt)
    w["probe"] = probe_evidence(case, w["id"])
    return w


def work_records(c, work: str, flt: EvidenceFilter = EvidenceFilter()) -> dict:
    """One work (id or title), its files, its CMI and its match evidence, on an open connection."""
    q = select(s.works.c.id, s.works.c.title, s.claimants.c.name.label("claimant"),
               s.works.c.identifiers).join(s.claimants)
    row = c.execute(q.where(s.works.c.id == int(work)) if work.isdigit()
                    else q.where(s.works.c.title == work)).mappings().all()
    if len(row) != 1:
        raise AscertainError(work, "matches no work" if not row else "matches several works",
                             "pass the work id shown by `ascertain show CASE`")
    w = dict(row[0])
    files = c.execute(select(s.work_files.c.id, s.work_files.c.path, s.work_files.c.sha256)
                      .where(s.work_files.c.work_id == w["id"])).mappings().all()
    ev = c.execute(select(s.evidence, s.sources.c.name.label("source"))
                   .join(s.sources).where(s.evidence.c.work_id == w["id"])
                   .order_by(s.evidence.c.copied.desc(), s.evidence.c.own_coverage.desc(), s.evidence.c.id)
                   ).mappings()
    path_of = {f["id"]: f["path"] for f in files}
    w["files"] = [dict(f) for f in files]
    w["cmi"] = [{**i, "path": path_of[r.work_file_id], "scope": r.scope}
                for r in c.execute(select(s.work_cmi).where(s.work_cmi.c.work_id == w["id"])
                                   .order_by(s.work_cmi.c.work_file_id))
                for i in items(r.cmi)]
    w["evidence"] = [{"evidence_id": e["id"], "source": e["source"], "document": e["doc_locator"],
                      "work_file": path_of[e["work_file_id"]], **e["metrics"]}
                     for e in ev if flt.keep(e["copied"], e["metrics"])]
    w["image_evidence"] = image_records(c, w["id"], flt.copied_only)
    w["image_cmi"] = [{"path": path_of[fid], **cmi} for fid, cmi in c.execute(
        select(s.work_images.c.work_file_id, s.work_images.c.cmi).where(s.work_images.c.work_id == w["id"])
        .order_by(s.work_images.c.work_file_id))]
    box = (w["identifiers"] or {}).get("signature_box")
    for i in w["image_cmi"]:  # a declared visible signature/watermark region is CMI of the work too
        if box:
            i["fields"] = {**i["fields"], "visible:mark": f"declared: box {box} px"}
    return w


def skipped_inputs(case: Case) -> list[dict]:
    with case.store.engine.connect() as c:
        return [dict(r) for r in c.execute(select(s.skipped).order_by(s.skipped.c.id)).mappings()]


def probe_evidence(case: Case, work_id: int | None = None) -> list[dict]:
    """Evidence of kind `probe`: each probe run's latest figures per work (Tiers A, C) and claimant (B)."""
    with case.store.engine.connect() as c:
        rows = c.execute(select(s.probe_results, s.probe_runs.c.model).join(s.probe_runs)
                         .order_by(s.probe_results.c.id)).mappings().all()
        claimants = dict(c.execute(select(s.claimants.c.id, s.claimants.c.name)).all())
        titles = dict(c.execute(select(s.works.c.id, s.works.c.title)).all())
    latest: dict = {}
    for r in rows:  # a resumed run appends its results again: the last ones stand
        latest[(r["probe_run_id"], r["tier"], r["work_id"], r["claimant_id"])] = r
    out = []
    for r in latest.values():
        if work_id is not None and r["work_id"] != work_id:
            continue
        res = r["result"]
        if r["tier"] == "A":
            text = res["statement"]
        elif r["tier"] == "B":
            text = res["refused"] or (f"p = {res['p_value']:.3g} (q BH {res.get('q_bh')}, BY {res.get('q_by')}), "
                                      f"d = {res['effect_size_d']} {res['effect_size_ci95']}")
        else:
            text = _tier_c_summary(res)
        out.append({"kind": "probe", "probe_run": r["probe_run_id"], "model": r["model"]["model_id"],
                    "fingerprint": r["model"]["fingerprint"], "tier": r["tier"],
                    "subject": titles.get(r["work_id"]) if r["work_id"] else claimants.get(r["claimant_id"]),
                    "summary": text, "result": res})
    return out


def _tier_c_summary(res: dict) -> str:
    """One line of a work's Tier C figures: the indicative score and the quizzes beside the control works."""
    flag = "flagged" if res.get("flagged") else "not flagged"
    parts = [res.get("not_run") or (f"indicative score {res['score']}, {flag}; "
                                    f"{res['control_works_flagged']} of {res['control_works']} control works flagged")]
    quiz = res.get("quizzes") or {}
    for k, label in (("multiple_choice", "multiple choice"), ("name_cloze", "name cloze")):
        mine, ctrl = quiz.get(k), (quiz.get("controls") or {}).get(k)
        if mine:
            parts.append(f"{label} {mine['correct']}/{mine['asked']} right"
                         + (f" (controls {ctrl['correct']}/{ctrl['asked']})" if ctrl else ""))
    return "; ".join(parts)


def _image_metadata_counts(case: Case) -> list[dict]:
    from ascertain.match.image_metadata import evidence_counts

    return evidence_counts(case)
