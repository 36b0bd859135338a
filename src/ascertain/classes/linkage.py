"""Linking works to registrations: identifiers first, then probabilistic title + author linkage.

Identifiers (registration number, ISBN-13) decide when they agree. The remaining works are linked by
splink (Fellegi–Sunter; DuckDB backend) on the folded title, the folded, order-free author names and the
publication year, within blocks. The m and u probabilities are estimated from the case's own records
(u by random sampling, m by EM) when both sides have enough records; otherwise splink's fixed priors below
are used, and the run says so. A pair scoring at or above `accept` is linked; between `review` and `accept`
it waits for a person (`ascertain review`); below `review` it is dropped. A reviewer's decision survives
re-running the linkage.

The score is the match probability at one fixed prior (PRIOR_MATCH), not at 1 / (registrations in the case):
the same pair gets the same score and the same decision in a case of 1 or of 1,000,000 registrations, and
what moves it is only what agrees. Titles that carry different numbers ("Vol. 2" and "Vol. 3") are never
linked by title. A registration that covers several works (a group registration) is matched through its
contents: each listed work is compared as a record of its own, with the group's number and dates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.text.bibliographic import title_numbers

MIN_TRAINING_RECORDS = 200  # fewer records on either side: fixed priors instead of estimated weights
SEED = 20260101
# The prior probability that a work and a registration compared within a block are the same work: fixed, so a
# pair's score does not depend on how many registrations the case holds (it was 1 / registrations: a decoy's
# score moved with the case's size, and one registration made it 1). With the fixed m/u priors (small cases)
# 1/500: an accepted pair (0.99) needs a Bayes factor of about 50,000 (identical title and author); an identical
# title alone goes to review; an identical title with another author and no year is dropped. With weights
# estimated from the case's records, which are sharper, 1/2000: chosen on the labelled set's seed-7 split for
# precision (a false link is the worst error), reported on seed 11 (docs/validation.md).
PRIOR_MATCH = 1 / 500
PRIOR_MATCH_ESTIMATED = 1 / 2000
DUCKDB_MEMORY = "600MB"  # the linkage's DuckDB working memory; beyond it, DuckDB spills to a temporary folder
KEEP_PER_WORK = 20  # candidates below `accept` kept per work before the numbers check and the review queue


@dataclass
class LinkOptions:
    accept: float = 0.99  # match probability at or above which a probabilistic link is accepted
    review: float = 0.5  # ... at or above which (and below accept) it goes to the review queue
    probabilistic: bool = True


def _works(conn) -> list[dict]:
    q = (select(schema.works.c.id, schema.works.c.title, schema.work_details.c.isbns,
                schema.work_details.c.registration_number, schema.work_details.c.title_key,
                schema.work_details.c.author_key, schema.work_details.c.publication_date,
                schema.works.c.identifiers)
         .join_from(schema.works, schema.work_details, schema.works.c.id == schema.work_details.c.work_id,
                    isouter=True).order_by(schema.works.c.id))
    rows = []
    for r in conn.execute(q).mappings():
        d = dict(r)
        if d["title_key"] is None:  # a work added before work_details existed: fold its title now
            from ascertain.text.bibliographic import registration_number, title_key

            d["title_key"], d["author_key"], d["isbns"] = title_key(d["title"]), "", []
            reg = (d["identifiers"] or {}).get("registration_number")
            try:
                d["registration_number"] = registration_number(reg) if reg else None
            except ValueError:
                d["registration_number"] = None
        rows.append(d)
    return rows


@dataclass
class Records:
    """What the title + author linkage compares on the registrations' side, column by column (a million
    registrations as dicts would not fit the memory budget): each registration, and each work a registration's
    contents list (its own title; its own authors and date, else the registration's). A record's id is its
    position; registration_id says whose it is; items[position] the listed work's entry."""
    registration_id: list[int] = field(default_factory=list)
    title_key: list[str | None] = field(default_factory=list)
    author_key: list[str | None] = field(default_factory=list)
    year: list[int | None] = field(default_factory=list)
    items: dict[int, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.registration_id)

    def add(self, rid: int, tk: str | None, ak: str | None, pub: str | None, item: dict | None = None) -> None:
        if item is not None:
            self.items[len(self.registration_id)] = item
        self.registration_id.append(rid)
        self.title_key.append(tk or None)
        self.author_key.append(ak or None)
        self.year.append(int(pub[:4]) if pub else None)


def _records(conn) -> Records:
    r, rc = schema.registrations, schema.registration_contents
    out = Records()
    for rid, tk, ak, pub in conn.execute(select(r.c.id, r.c.title_key, r.c.author_key, r.c.publication_date)
                                         .order_by(r.c.id)):
        out.add(rid, tk, ak, pub)
    for x in conn.execute(select(rc.c.registration_id, rc.c.position, rc.c.title, rc.c.title_key, rc.c.author_key,
                                 rc.c.publication_date, r.c.author_key.label("group_authors"),
                                 r.c.publication_date.label("group_date"))
                          .join_from(rc, r, rc.c.registration_id == r.c.id)
                          .order_by(rc.c.registration_id, rc.c.position)).mappings():
        out.add(x["registration_id"], x["title_key"], x["author_key"] or x["group_authors"],
                x["publication_date"] or x["group_date"],
                {"position": x["position"], "title": x["title"], "publication_date": x["publication_date"]})
    return out


def identifier_links(conn, works: list[dict]) -> list[dict]:
    """Links by registration number and by ISBN, looked up in the store's indexes for the works' identifiers."""
    r, ri = schema.registrations, schema.registration_isbns
    numbers = sorted({w["registration_number"] for w in works if w["registration_number"]})
    wanted = sorted({i for w in works for i in w["isbns"] or []})
    by_number: dict[str, int] = {}
    by_isbn: dict[str, list[int]] = {}
    for n in range(0, len(numbers), 5000):
        by_number.update(conn.execute(select(r.c.number, r.c.id).where(r.c.number.in_(numbers[n:n + 5000]))).all())
    for n in range(0, len(wanted), 5000):
        for i, rid in conn.execute(select(ri.c.isbn, ri.c.registration_id).where(ri.c.isbn.in_(wanted[n:n + 5000]))
                                   .order_by(ri.c.isbn, ri.c.registration_id)):
            by_isbn.setdefault(i, []).append(rid)
    links: dict[tuple[int, int], dict] = {}
    for w in works:
        if w["registration_number"] and w["registration_number"] in by_number:
            key = (w["id"], by_number[w["registration_number"]])
            links[key] = {"method": "registration_number", "agreeing": {"registration_number":
                                                                         w["registration_number"]}}
        for i in w["isbns"] or []:
            for rid in by_isbn.get(i, []):
                link = links.setdefault((w["id"], rid), {"method": "isbn", "agreeing": {}})
                link["agreeing"].setdefault("isbn", []).append(i)
    return [{"work_id": w, "registration_id": r, "score": 1.0, **v} for (w, r), v in sorted(links.items())]


_LEVELS = {"title_key": ["different", "similar (Jaro-Winkler ≥ 0.80)", "close (≥ 0.90)", "near-identical (≥ 0.96)",
                         "identical"],
           "author_key": ["different", "similar (Jaro-Winkler ≥ 0.85)", "close (≥ 0.93)", "identical"],
           "year": ["different", "within one year", "identical"]}


# Starting m and u probabilities per comparison level (best first, "different" last): the weights used as they
# are when there are too few records to estimate them, and EM's starting point otherwise.
PRIORS = {"title_key": ([0.7, 0.15, 0.08, 0.04, 0.03], [0.0005, 0.001, 0.004, 0.02, 0.9745]),
          "author_key": ([0.8, 0.1, 0.05, 0.05], [0.002, 0.004, 0.01, 0.984]),
          "year": ([0.75, 0.15, 0.10], [0.05, 0.1, 0.85])}


def _settings(prior_match: float):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def prior(comp, name):
        m, u = PRIORS[name]
        return comp.configure(m_probabilities=m, u_probabilities=u)

    return SettingsCreator(
        link_type="link_only", probability_two_random_records_match=prior_match,
        comparisons=[prior(cl.JaroWinklerAtThresholds("title_key", [0.96, 0.9, 0.8]), "title_key"),
                     prior(cl.JaroWinklerAtThresholds("author_key", [0.93, 0.85]), "author_key"),
                     prior(cl.CustomComparison(comparison_levels=_year_levels(), output_column_name="year"),
                           "year")],
        blocking_rules_to_generate_predictions=[
            block_on("title_key"),
            block_on("substr(title_key, 1, 6)", "substr(author_key, 1, 3)"),
            block_on("author_key", "substr(title_key, 1, 2)"),
        ],
        retain_intermediate_calculation_columns=False, additional_columns_to_retain=[])


def _year_levels():
    import splink.comparison_level_library as cll

    return [cll.NullLevel("year"), cll.ExactMatchLevel("year"),
            cll.CustomLevel("abs(year_l - year_r) <= 1", label_for_charts="within one year"), cll.ElseLevel()]


def probabilistic_links(works: list[dict], regs: Records, opts: LinkOptions) -> tuple[list[dict], dict]:
    """Scored pairs at or above opts.review, and a description of the model (trained or priors)."""
    import pandas as pd
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    if not works or not regs:
        return [], {"model": "not run (no works or no registrations left to link)"}
    import tempfile

    import duckdb

    # DuckDB holds the records and the blocked pairs; capped, it spills to disk instead of growing with the case
    spill = tempfile.TemporaryDirectory(prefix="ascertain-link-")
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute(f"SET temp_directory = '{spill.name}'")
    db = DuckDBAPI(connection=con)
    left = db.register(pd.DataFrame({
        "unique_id": [r["id"] for r in works], "title_key": [r["title_key"] or None for r in works],
        "author_key": [r["author_key"] or None for r in works],
        "year": pd.array([int(r["publication_date"][:4]) if r["publication_date"] else None for r in works],
                         dtype="Int64")}), dataset_display_name="works")
    right = db.register(pd.DataFrame({
        "unique_id": range(len(regs)), "title_key": regs.title_key, "author_key": regs.author_key,
        "year": pd.array(regs.year, dtype="Int64")}), dataset_display_name="registrations")
    trained = min(len(works), len(regs)) >= MIN_TRAINING_RECORDS
    prior = PRIOR_MATCH_ESTIMATED if trained else PRIOR_MATCH
    linker = Linker([left, right], _settings(prior), log_level=logging.ERROR)
    import splink

    model = {"splink": splink.__version__, "seed": SEED,
             "blocking": ["title_key", "first 6 of title_key + first 3 of author_key",
                          "author_key + first 2 of title_key"], "accept": opts.accept, "review": opts.review,
             "prior_match": prior}
    if trained:  # m and u from the records; the prior stays fixed, so scores do not move with the case's size
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=SEED)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("title_key"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("author_key"))
        model["weights"] = "estimated from this case's records (u: random sampling, m: EM)"
    else:
        model["weights"] = (f"fixed priors (linkage.PRIORS; fewer than {MIN_TRAINING_RECORDS} records on one "
                            "side to estimate them)")
    predicted = linker.inference.predict(threshold_match_probability=opts.review, warning_mode="never")
    # Only what the review queue can use leaves DuckDB: every accepted pair, and each work's KEEP_PER_WORK best
    # others (ties by record id); a large case can have millions of pairs above `review`.
    pairs = con.execute(f"""
        SELECT * EXCLUDE (rk) FROM (
          SELECT *, row_number() OVER (
              PARTITION BY CASE WHEN source_dataset_l = 'works' THEN unique_id_l ELSE unique_id_r END
              ORDER BY match_probability DESC,
                       CASE WHEN source_dataset_l = 'works' THEN unique_id_r ELSE unique_id_l END) AS rk
          FROM {predicted.physical_name})
        WHERE match_probability >= {float(opts.accept)!r} OR rk <= {KEEP_PER_WORK}""").df()
    work_of = {w["id"]: w for w in works}
    best: dict[tuple[int, int], dict] = {}
    dropped = 0
    for r in pairs.itertuples(index=False):
        if r.source_dataset_l == "works":
            wid, n = int(r.unique_id_l), int(r.unique_id_r)
        else:
            wid, n = int(r.unique_id_r), int(r.unique_id_l)
        rec = {"title_key": regs.title_key[n], "registration_id": regs.registration_id[n], "item": regs.items.get(n)}
        if title_numbers(work_of[wid]["title_key"]) != title_numbers(rec["title_key"]):
            dropped += 1  # "Vol. 2" is not "Vol. 3", nor "T" "T, Vol. 2": another volume is another work
            continue
        agreeing: dict = {f: _LEVELS[f][int(g)] for f, g in (("title_key", r.gamma_title_key),
                                                             ("author_key", r.gamma_author_key),
                                                             ("year", r.gamma_year)) if int(g) >= 0}
        agreeing["match_weight"] = round(float(r.match_weight), 3)
        if rec["item"]:
            agreeing["contents_item"] = rec["item"]
        x = {"work_id": wid, "registration_id": rec["registration_id"], "score": round(float(r.match_probability), 6),
             "method": "probabilistic", "agreeing": agreeing}
        key = (wid, rec["registration_id"])  # a group's own title and a listed work: the better one
        if key not in best or (x["score"], -(rec["item"] or {}).get("position", 0)) > \
                (best[key]["score"], -(best[key]["agreeing"].get("contents_item") or {}).get("position", 0)):
            best[key] = x
    links = [best[k] for k in sorted(best)]
    model["different_numbers_dropped"] = dropped
    con.close()
    spill.cleanup()
    return links, model


REVIEW_PER_WORK = 2


def _review_candidates(prob: list[dict], opts: LinkOptions) -> list[dict]:
    """Every accepted pair; of the uncertain ones, a work's best REVIEW_PER_WORK, and for a work already linked
    only those with the same title (another edition or registration of it): a queue a person can work through."""
    by_work: dict[int, list[dict]] = {}
    for x in prob:
        by_work.setdefault(x["work_id"], []).append(x)
    out = []
    for wid in sorted(by_work):
        xs = by_work[wid]
        accepted = [x for x in xs if x["score"] >= opts.accept]
        unsure = sorted((x for x in xs if x["score"] < opts.accept), key=lambda x: (-x["score"], x["registration_id"]))
        if accepted:
            unsure = [x for x in unsure if x["agreeing"].get("title_key") == "identical"]
        out.extend(accepted + unsure[:REVIEW_PER_WORK])
    return sorted(out, key=lambda x: (x["work_id"], x["registration_id"]))


def link(case: Case, opts: LinkOptions | None = None) -> dict:
    opts = opts or LinkOptions()
    if not 0 < opts.review <= opts.accept <= 1:
        raise AscertainError("--review/--accept", f"thresholds {opts.review} and {opts.accept} are out of order",
                             "use 0 < review <= accept <= 1, e.g. --review 0.5 --accept 0.9")
    from ascertain.classes.registrations import refresh_title_keys

    refresh_title_keys(case)
    t0 = time.perf_counter()
    with case.store.engine.connect() as c:
        works = _works(c)
        n_regs = c.execute(select(func.count()).select_from(schema.registrations)).scalar() or 0
        decided = {(r.work_id, r.registration_id) for r in c.execute(select(
            schema.registration_links.c.work_id, schema.registration_links.c.registration_id)
            .where(schema.registration_links.c.decided_by == "reviewer"))}
    if not n_regs:
        raise AscertainError(str(case.root), "has no registrations",
                             "import them first: `ascertain registrations import CASE FILE`")
    with case.store.engine.connect() as c:
        by_id = identifier_links(c, works)
    linked = {x["work_id"] for x in by_id}
    if opts.probabilistic:
        with case.store.engine.connect() as c:
            records = _records(c)
        prob, model = probabilistic_links([w for w in works if w["id"] not in linked and w["title_key"]], records,
                                          opts)
        model["records"] = {"registrations": n_regs, "listed_in_contents": len(records) - n_regs}
        del records
    else:
        prob, model = [], {"model": "identifiers only"}
    rows = []
    for x in by_id + _review_candidates(prob, opts):
        if (x["work_id"], x["registration_id"]) in decided:
            continue
        status = "accepted" if x["score"] >= opts.accept else "review"
        rows.append({**x, "status": status, "decided_by": "rule", "reason": None})
    seconds = round(time.perf_counter() - t0, 3)
    summary = {"works": len(works), "registrations": n_regs, "identifier_links": len(by_id),
               "probabilistic_accepted": sum(1 for x in rows if x["method"] == "probabilistic"
                                             and x["status"] == "accepted"),
               "review_queue": sum(1 for x in rows if x["status"] == "review"),
               "reviewer_decisions_kept": len(decided), "model": model, "seconds": seconds}
    with case.store.begin() as c:
        run_id = c.execute(insert(schema.runs).values(stage="link", manifest=summary, started_at=now(),
                                                      seconds=seconds)).inserted_primary_key[0]
        c.execute(delete(schema.registration_links).where(schema.registration_links.c.decided_by == "rule"))
        for i in range(0, len(rows), 10_000):
            c.execute(insert(schema.registration_links), [{**x, "run_id": run_id} for x in rows[i:i + 10_000]])
    case.store.audit("link", summary)
    return summary


def review_queue(case: Case, status: str = "review") -> list[dict]:
    lk, w, r = schema.registration_links, schema.works, schema.registrations
    q = (select(lk.c.id, lk.c.score, lk.c.method, lk.c.agreeing, lk.c.status, lk.c.reason, w.c.id.label("work_id"),
                w.c.title.label("work_title"), r.c.number, r.c.title.label("registration_title"),
                r.c.effective_date)
         .join_from(lk, w, lk.c.work_id == w.c.id).join_from(lk, r, lk.c.registration_id == r.c.id)
         .where(lk.c.status == status).order_by(lk.c.score.desc(), lk.c.id))
    with case.store.engine.connect() as c:
        return [dict(x) for x in c.execute(q).mappings()]


def decide(case: Case, link_id: int, accept: bool, reason: str) -> dict:
    if not reason.strip():
        raise AscertainError("--reason", "is empty", "say why, e.g. --reason 'same edition, ISBN on the deposit'")
    with case.store.begin() as c:
        row = c.execute(select(schema.registration_links).where(schema.registration_links.c.id == link_id)) \
            .mappings().first()
        if row is None:
            raise AscertainError(str(link_id), "is not a link id", "list them with `ascertain review CASE list`")
        status = "accepted" if accept else "rejected"
        c.execute(schema.registration_links.update().where(schema.registration_links.c.id == link_id).values(
            status=status, reason=reason, decided_by="reviewer"))
    detail = {"link": link_id, "work_id": row["work_id"], "registration_id": row["registration_id"],
              "was": row["status"], "now": status, "reason": reason, "score": row["score"]}
    case.store.audit("review", detail)
    return detail
