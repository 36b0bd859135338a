"""What each page shows, as data: the HTML page renders it and its JSON twin returns it, so both say the
same thing and pass the same policy (web/policy.py)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from sqlalchemy import func, or_, select

from ascertain.case import Case
from ascertain.csv_out import csv_text, plain
from ascertain.errors import AscertainError
from ascertain.report import case_data
from ascertain.report.build import exhibit_record
from ascertain.report.exhibits import exhibit_key
from ascertain.store import schema as s
from ascertain.web.policy import field_allowed, side_of_source, text_allowed
from ascertain.web.users import User

PAGE = 50


class NotFound(Exception):
    pass


def dashboard(case: Case) -> dict:
    with case.store.engine.connect() as c:
        sources = [dict(r._mapping) for r in c.execute(
            select(s.sources.c.name, s.sources.c.kind, s.sources.c.status, s.sources.c.documents,
                   s.sources.c.skipped, s.sources.c.keyed).order_by(s.sources.c.id))]
        works = c.execute(select(func.count()).select_from(s.works)).scalar_one()
        ev = c.execute(select(s.evidence.c.source_id, s.evidence.c.copied, s.evidence.c.metrics["cmi"]["status"]
                              .as_string().label("cmi"))).all()
        kinds = {r.id: r.kind for r in c.execute(select(s.sources.c.id, s.sources.c.kind))}
        runs = [dict(r._mapping) for r in c.execute(
            select(s.runs.c.id, s.runs.c.stage, s.runs.c.started_at, s.runs.c.seconds)
            .order_by(s.runs.c.id.desc()).limit(8))]
        classes = c.execute(select(s.runs.c.manifest).where(s.runs.c.stage == "classes")
                            .order_by(s.runs.c.id.desc()).limit(1)).scalar()
    copies = Counter(kinds[e.source_id] for e in ev if e.copied)
    cmi = Counter(e.cmi or "unknown" for e in ev if e.copied)
    return {"case": case.root.name, "sources": sources, "works": works, "evidence": len(ev),
            "copies": {"corpus": copies.get("corpus", 0), "outputs": copies.get("outputs", 0)},
            "cmi": dict(sorted(cmi.items())), "last_runs": runs,
            "classes": {"counts": classes["counts"], "s412": classes["s412"], "unit": classes["unit"]}
            if classes else None}


def works_list(case: Case, q: str = "", page: int = 1, copied_only: bool = False) -> dict:
    page = max(1, page)
    with case.store.engine.connect() as c:
        base = select(s.works.c.id, s.works.c.title, s.claimants.c.name.label("claimant")).join(s.claimants)
        if q:
            like = f"%{q.lower()}%"
            base = base.where(or_(func.lower(s.works.c.title).like(like), func.lower(s.claimants.c.name).like(like)))
        copied = select(s.evidence.c.work_id, func.count().label("copies")).where(s.evidence.c.copied) \
            .group_by(s.evidence.c.work_id).subquery()
        q2 = base.add_columns(func.coalesce(copied.c.copies, 0).label("copies")) \
            .outerjoin(copied, copied.c.work_id == s.works.c.id)
        if copied_only:
            q2 = q2.where(copied.c.copies > 0)
        total = c.execute(select(func.count()).select_from(q2.subquery())).scalar_one()
        rows = [dict(r._mapping) for r in c.execute(q2.order_by(s.works.c.id).limit(PAGE).offset((page - 1) * PAGE))]
    return {"q": q, "page": page, "pages": max(1, -(-total // PAGE)), "total": total, "copied_only": copied_only,
            "works": rows}


def work_page(case: Case, work_id: int) -> dict:
    with case.store.engine.connect() as c:
        w = c.execute(select(s.works.c.id, s.works.c.title, s.works.c.identifiers,
                             s.claimants.c.name.label("claimant")).join(s.claimants)
                      .where(s.works.c.id == work_id)).mappings().first()
        if w is None:
            raise NotFound(f"work {work_id}")
        files = [dict(r._mapping) for r in c.execute(
            select(s.work_files.c.id, s.work_files.c.path, s.work_files.c.sha256, s.work_files.c.bytes)
            .where(s.work_files.c.work_id == work_id).order_by(s.work_files.c.id))]
        ev = c.execute(select(s.evidence.c.id, s.evidence.c.work_file_id, s.evidence.c.doc_locator,
                              s.evidence.c.copied, s.evidence.c.coverage, s.evidence.c.own_coverage,
                              s.evidence.c.longest_run_tokens, s.evidence.c.fragments, s.evidence.c.identical,
                              s.evidence.c.metrics["cmi"]["status"].as_string().label("cmi"),
                              s.sources.c.name.label("source"), s.sources.c.kind)
                       .join(s.sources).where(s.evidence.c.work_id == work_id)
                       .order_by(s.evidence.c.copied.desc(), s.evidence.c.own_coverage.desc())).mappings().all()
    path_of = {f["id"]: f["path"] for f in files}
    return {**dict(w), "files": files,
            "evidence": [{**dict(e), "work_file": path_of.get(e["work_file_id"], "")} for e in ev]}


def evidence_view(case: Case, evidence_id: int, user: User) -> tuple[dict, list[str]]:
    """The exhibit of one evidence record as the user may see it, and the sides whose text it shows."""
    data = case_data.load_light(case, evidence_id)
    if data is None:
        raise NotFound(f"evidence {evidence_id}")
    e = data.evidence[0]
    src = data.sources[e["source_id"]]
    f = data.files[e["work_file_id"]]
    show_copy = text_allowed(case.config, user.role, side_of_source(case.config, src))
    show_work = text_allowed(case.config, user.role, "plaintiff")
    doc = case_data.fetch_documents(src, [e["doc_id"]]).get(e["doc_id"])
    with case.store.engine.connect() as c:
        key = exhibit_key(f["sha256"], f["path"], src["name"], e["doc_locator"])
        n = c.execute(select(s.exhibit_numbers.c.number).where(s.exhibit_numbers.c.key == key)).scalar()
    record = exhibit_record(e, f"ASC-{n:06d}" if n else f"evidence {evidence_id}", data, doc, show_copy, show_work)
    for k in ("edit_similarity", "byte_identical", "identical", "level"):  # measured for copies only
        record["m"].setdefault(k, None)
    shown = ([side_of_source(case.config, src)] if show_copy and doc and doc.get("text") is not None else []) + \
        (["plaintiff"] if show_work else [])
    return record, shown


def exhibit_json(record: dict) -> dict:
    rows = [{"kind": r.kind, "original_line": r.o_no, "original": r.o_text, "copy_line": r.c_no,
             "copy_last_line": r.c_last, "copy": r.c_text, "marks": r.marks, "note": r.note} for r in record["rows"]]
    out = {k: v for k, v in record.items() if k not in ("rows", "m")}
    out["figures"] = {k: record["m"].get(k) for k in ("coverage", "own_coverage", "longest_run_tokens", "fragments",
                                                      "identical", "byte_identical", "edit_similarity", "level",
                                                      "copied")}
    if record["hide_copy"]:
        out["differences"] = [{**d, "copy": None} for d in record["differences"]]
    if record["hide_work"]:
        out["differences"] = [{**d, "original": None} for d in out["differences"]]
    if record["hide_copy"] or record["hide_work"]:
        out["rename_map"] = None
    return {**out, "rows": rows}


def classes_view(case: Case) -> dict:
    with case.store.engine.connect() as c:
        run = c.execute(select(s.runs).where(s.runs.c.stage == "classes").order_by(s.runs.c.id.desc()).limit(1)
                        ).mappings().first()
    if run is None:
        return {"classes": None}
    m = run["manifest"]
    return {"classes": [{"name": k, **v} for k, v in m["counts"].items()], "s412": m["s412"], "unit": m["unit"],
            "class_file_sha256": m["class_file_sha256"], "run": run["id"]}


def class_members_csv(case: Case, name: str, role: str) -> bytes:
    """The member list the last `classes` run wrote, with the columns this role may see (policy.FIELDS);
    `name` must be one of the run's classes (never a path)."""
    with case.store.engine.connect() as c:
        run = c.execute(select(s.runs.c.manifest).where(s.runs.c.stage == "classes")
                        .order_by(s.runs.c.id.desc()).limit(1)).scalar()
    files = (run or {}).get("files", {})
    if name not in files:
        raise NotFound(f"class {name}")
    p = Path(files[name]["csv"])
    p = p if p.is_absolute() else case.root / p
    if not p.resolve().is_relative_to(case.root.resolve()) or not p.is_file():
        raise NotFound(f"member list of {name}")
    data = p.read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    columns = list(rows[0]) if rows else next(csv.reader(io.StringIO(data.decode("utf-8"))), [])
    if all(field_allowed(role, c) for c in columns):
        return data
    return csv_text([c for c in columns if field_allowed(role, c)],
                    [{k: plain(v) for k, v in r.items()} for r in rows]).encode()


MEMBER_COLUMNS = ("work_id", "title", "authors", "legal_owners", "co_owners", "registration", "effective_date",
                  "s412", "in_corpus_by", "tier", "dispute")


def class_members(case: Case, name: str, role: str, every_column: bool = False) -> dict:
    """A class's member list as the page shows it: the main columns of the CSV (the CSV has them all; with
    `every_column`, all of them, the spreadsheet guard of the CSV removed)."""
    from ascertain.classes.sheets import unsafe_cell

    rows = list(csv.DictReader(io.StringIO(class_members_csv(case, name, role).decode("utf-8"))))
    cols = tuple(rows[0]) if every_column and rows else tuple(c for c in MEMBER_COLUMNS if field_allowed(role, c))
    return {"name": name, "columns": cols, "members": [{k: unsafe_cell(r.get(k, "")) for k in cols}
                                                       for r in rows]}


def disputes(case: Case) -> dict:
    from ascertain.classes.disputes import list_disputes

    return {"items": list_disputes(case)}


def open_dispute(case: Case, class_name: str, work_id: str, reason: str, evidence: str, user: User) -> dict:
    from ascertain.classes.disputes import open_dispute as open_

    try:
        wid = int(work_id)
    except ValueError:
        raise AscertainError("work_id", f"{work_id!r} is not a work id", "give the member's work id") from None
    return open_(case, class_name.strip(), wid, reason, evidence, user.name, user.role)


def resolve_dispute(case: Case, dispute_id: str, outcome: str, resolution: str, user: User) -> dict:
    from ascertain.classes.disputes import resolve

    try:
        did = int(dispute_id)
    except ValueError:
        raise AscertainError("dispute_id", f"{dispute_id!r} is not a dispute id", "list them at /disputes") from None
    return resolve(case, did, outcome, resolution, user.name)


def reviews(case: Case) -> dict:
    from ascertain.classes.linkage import review_queue

    return {"items": review_queue(case)}


def decide_review(case: Case, link_id: int, accept: bool, reason: str, user: User) -> dict:
    from ascertain.classes.linkage import decide

    if not reason.strip():
        raise AscertainError("reason", "is empty", "say why the link is accepted or rejected")
    return decide(case, link_id, accept, f"{reason.strip()} (by {user.name})")


def lookup(case: Case, query: str | None, file: str | None, user: User) -> dict:
    """The claimant's question, answered with what the role may see: never corpus text or locators for claims
    staff and the public, and for the public only works that match the query exactly (no enumeration)."""
    from ascertain.classes.lookup import lookup as class_lookup

    return answer_for(class_lookup(case, query, file), query, user)


def answer_for(r: dict, query: str | None, user: User) -> dict:
    """A lookup's answer as the role may see it."""
    if user.role in ("public", "claims"):
        r = _public_answer(r, query, user.role == "public")
    return r


def image_answer_for(r: dict, user: User) -> dict:
    """An image lookup's answer as the role may see it: the public and claims staff get yes or no, the tier, the
    dataset and the shard; never a corpus image, its URL or caption (the lookup carries none) nor its locator
    (policy.FIELDS drops it)."""
    if user.role in ("public", "claims"):
        r = {**r, "where": [{k: w[k] for k in ("dataset", "kind", "shard", "tier", "images", "share_of_your_image")}
                            for w in r["where"]],
             "works": [{"title": w["title"], "tier": w["tier"]} for w in r["works"]]}
    return r


def _public_answer(r: dict, query: str | None, exact_only: bool) -> dict:
    from ascertain.text.bibliographic import looks_like_isbn, looks_like_registration, name_key, title_key

    results = r["results"]
    if exact_only and query and not (looks_like_isbn(query) or looks_like_registration(query)):
        tk, nk = title_key(query), name_key(query)
        results = [w for w in results if title_key(w["title"]) == tk
                   or any(name_key(a) == nk for a in w.get("authors") or [])]
    works = [{"title": w["title"], "authors": w.get("authors"), "on_the_list": w["on_the_list"],
              "classes": w["classes"], "in_corpus": bool(w["in_corpus_by_content"] or w["in_corpus_by_identifier"]),
              "reproduced_in_outputs": bool(w["output_evidence"]), "registered": bool(w["registrations"]),
              "s412": {k: w["s412"].get(k) for k in ("status", "reason")},
              **({"file_match": {"how": w["file_match"]["how"]}} if "file_match" in w else {})}
             for w in results[:5]]
    return {"query": r["query"], "matches": len(works), "results": works}
