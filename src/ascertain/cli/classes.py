"""Commands of class ascertainment: registrations, link, review, classes, sample, labels, estimate, lookup.

"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ascertain.cli.common import CaseArg, JsonOpt, app, emit_json, open_case, out, print_skips, stage
from ascertain.errors import AscertainError

ClassOpt = Annotated[str, typer.Option("--class", help="Class (or class/subclass) name.")]


def _ci(r: dict, key: str) -> str:
    lo, hi = r[key]
    return f"{lo:.3f}–{hi:.3f}"


registrations_app = typer.Typer(help="Copyright registration records.", no_args_is_help=True)
labels_app = typer.Typer(help="Reviewers' labels of a sample.", no_args_is_help=True)
app.add_typer(registrations_app, name="registrations")
app.add_typer(labels_app, name="labels")

@registrations_app.command("import")
@stage
def registrations_import(
        case: CaseArg, file: Annotated[str, typer.Argument(help="CSV, JSONL or Parquet of registrations.")],
        map_: Annotated[str | None, typer.Option("--map", help="FIELD=COLUMN,...; fields: number, "
                                                 "effective_date, title, claimants, authors, publication_date, "
                                                 "isbn, group, supplementary, work_type, contents "
                                                 "(the works a group registration lists, ';'-separated).")] = None,
        preset: Annotated[str | None, typer.Option(help="Column names of a known export: copyright-office "
                                                   "(Public Catalog labels).")] = None,
        keep_unknown: Annotated[bool, typer.Option("--keep-unknown", help="Keep unmapped columns as extra "
                                                   "data instead of refusing the file.")] = False,
        as_json: JsonOpt = False) -> None:
    """Import registration records: checked (ISBN checksums, dates, duplicate numbers), normalized."""
    from ascertain.classes.registrations import import_registrations

    r = import_registrations(open_case(case), file, map_, preset, keep_unknown)
    if as_json:
        emit_json(r)
        return
    out.print(f"{r['imported']:,} registrations imported, {r['already_in_case']:,} already in the case, "
              f"{r['skipped']:,} rows skipped ({r['seconds']} s)", markup=False)
    print_skips(r["skips"])

@registrations_app.command("contents")
@stage
def registrations_contents(
        case: CaseArg, file: Annotated[str, typer.Argument(help="CSV, JSONL or Parquet: one row per work a "
                                                            "registration lists (number, title; authors, "
                                                            "publication_date optional).")],
        map_: Annotated[str | None, typer.Option("--map", help="FIELD=COLUMN,...; fields: number, title, authors, "
                                                 "publication_date, position.")] = None,
        as_json: JsonOpt = False) -> None:
    """Import the contents of group registrations: the works each one covers, matched by `link`."""
    from ascertain.classes.registrations import import_contents

    r = import_contents(open_case(case), file, map_)
    if as_json:
        emit_json(r)
        return
    out.print(f"{r['listed']:,} listed works added to {r['registrations']:,} registrations, {r['skipped']:,} rows "
              "skipped; run `ascertain link` to match works against them", markup=False)
    print_skips(r["skips"])


@app.command("owners")
@stage
def owners_cmd(case: CaseArg,
               action: Annotated[str, typer.Argument(help="transfers FILE (import) or conflicts (list).")],
               file: Annotated[str | None, typer.Argument(help="CSV/JSONL/Parquet of transfers and licences: "
                                                        "work_id or title, kind, from, to, date.")] = None,
               map_: Annotated[str | None, typer.Option("--map", help="FIELD=COLUMN,...; fields: work_id, title, "
                                                        "kind, from, to, date.")] = None,
               as_json: JsonOpt = False) -> None:
    """Ownership: import dated transfers and licences (an assignment before infringement began changes who the
    member is), or list the conflicts that wait for review (from the latest `classes` run)."""
    c = open_case(case)
    if action == "transfers":
        from ascertain.classes.ownership import import_transfers

        if not file:
            raise AscertainError("owners transfers", "needs a FILE", f"run `ascertain owners {case} transfers "
                                 "transfers.csv`")
        r = import_transfers(c, file, map_)
        if as_json:
            emit_json(r)
            return
        out.print(f"{r['imported']} transfers and licences imported, {r['skipped']} rows skipped; rerun "
                  "`ascertain classes` to apply them", markup=False)
        print_skips(r["skips"])
        return
    if action != "conflicts":
        raise AscertainError(action, "is not transfers or conflicts", f"run `ascertain owners {case} conflicts`")
    from sqlalchemy import select

    from ascertain.store import schema

    with c.store.engine.connect() as con:
        m = con.execute(select(schema.runs.c.manifest).where(schema.runs.c.stage == "classes")
                        .order_by(schema.runs.c.id.desc()).limit(1)).scalar()
    conflicts = (m or {}).get("ownership_conflicts", {})
    if as_json:
        emit_json(conflicts)
        return
    if m is None:
        out.print("no classes run yet: `ascertain classes CASE --file ...`", markup=False)
    for wid, xs in conflicts.items():
        out.print(f"- work {wid}: " + "; ".join(xs), markup=False)
    out.print(f"{len(conflicts)} works with an ownership conflict to review", markup=False)


@app.command("dispute")
@stage
def dispute_cmd(case: CaseArg,
                action: Annotated[str, typer.Argument(help="open, resolve or list.")] = "list",
                dispute_id: Annotated[int | None, typer.Argument(help="The dispute id (resolve).")] = None,
                class_name: Annotated[str | None, typer.Option("--class", help="The class (open; list).")] = None,
                work: Annotated[int | None, typer.Option(help="The work id (open).")] = None,
                reason: Annotated[str, typer.Option(help="Why the work is not a member (open).")] = "",
                evidence: Annotated[str, typer.Option(help="The evidence offered (open).")] = "",
                outcome: Annotated[str | None, typer.Option(help="upheld (the work leaves the class) or rejected "
                                                            "(resolve).")] = None,
                resolution: Annotated[str, typer.Option(help="The master's reasons (resolve).")] = "",
                by: Annotated[str, typer.Option(help="Who acts (recorded in the audit log).")] = "cli",
                role: Annotated[str, typer.Option(help="The party opening it: defendant, plaintiff, claims.")]
                = "defendant",
                status: Annotated[str | None, typer.Option(help="Only disputes with this status (list).")] = None,
                as_json: JsonOpt = False) -> None:
    """Challenges to class membership: open (a party), resolve (the master), list. Takes effect at the next
    `classes` run; member lists show open and resolved disputes."""
    from ascertain.classes import disputes

    c = open_case(case)
    if action == "open":
        if class_name is None or work is None:
            raise AscertainError("dispute open", "needs --class and --work",
                                 f"e.g. `ascertain dispute {case} open --class in-corpus --work 7 --reason '...' "
                                 "--evidence '...'`")
        r = disputes.open_dispute(c, class_name, work, reason, evidence, by, role)
        emit_json(r) if as_json else out.print(f"dispute {r['dispute']} opened on work {work} in {class_name}; the "
                                               "master resolves it", markup=False)
        return
    if action == "resolve":
        if dispute_id is None or outcome is None:
            raise AscertainError("dispute resolve", "needs the dispute id and --outcome",
                                 f"e.g. `ascertain dispute {case} resolve 3 --outcome upheld --resolution '...'`")
        r = disputes.resolve(c, dispute_id, outcome, resolution, by)
        emit_json(r) if as_json else out.print(f"dispute {dispute_id}: {r['now']} ({r['resolution']}); rerun "
                                               "`ascertain classes` to apply it", markup=False)
        return
    if action != "list":
        raise AscertainError(action, "is not open, resolve or list", f"run `ascertain dispute {case} list`")
    rows = disputes.list_disputes(c, status, class_name)
    if as_json:
        emit_json(rows)
        return
    t = Table("id", "class", "work", "by", "reason", "status", "resolution", title="membership disputes")
    for x in rows:
        t.add_row(str(x["id"]), escape(x["class_name"]), escape(f"{x['work_id']}: {x['title']}"),
                  escape(f"{x['opened_by']} ({x['role']})"), escape(x["reason"]), x["status"],
                  escape(x["resolution"] or ""))
    out.print(t)


@app.command("link")
@stage
def link_cmd(case: CaseArg,
             accept: Annotated[float, typer.Option(help="Match probability at or above which a link is "
                                                   "accepted.")] = 0.99,
             review: Annotated[float, typer.Option(help="... at or above which it goes to review.")] = 0.5,
             probabilistic: Annotated[bool, typer.Option(help="Also link by title + author (splink).")] = True,
             as_json: JsonOpt = False) -> None:
    """Link works to registrations: identifiers, then title + author (Fellegi–Sunter, splink)."""
    from ascertain.classes.linkage import LinkOptions, link

    r = link(open_case(case), LinkOptions(accept=accept, review=review, probabilistic=probabilistic))
    if as_json:
        emit_json(r)
        return
    out.print(f"{r['works']:,} works, {r['registrations']:,} registrations: {r['identifier_links']:,} links by "
              f"identifier, {r['probabilistic_accepted']:,} by title + author, {r['review_queue']:,} to review "
              f"(`ascertain review {case} list`); weights: {r['model'].get('weights', r['model'])}",
              markup=False)

@app.command("review")
@stage
def review_cmd(case: CaseArg,
               action: Annotated[str, typer.Argument(help="list, accept or reject.")] = "list",
               link_id: Annotated[int | None, typer.Argument(help="The link id (accept/reject).")] = None,
               reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")] = "",
               as_json: JsonOpt = False) -> None:
    """The review queue of uncertain work–registration links: list, accept ID, reject ID --reason."""
    from ascertain.classes.linkage import decide, review_queue

    c = open_case(case)
    if action == "list":
        rows = review_queue(c)
        if as_json:
            emit_json(rows)
            return
        t = Table("id", "score", "work", "registration", "effective", "agreeing", title="links to review "
                  "(unit of account: work)")
        for x in rows:
            t.add_row(str(x["id"]), f"{x['score']:.3f}", escape(f"{x['work_id']}: {x['work_title']}"),
                      escape(f"{x['number']}: {x['registration_title']}"), x["effective_date"],
                      escape(", ".join(f"{k} {v}" for k, v in x["agreeing"].items())))
        out.print(t)
        return
    if action not in ("accept", "reject") or link_id is None:
        raise AscertainError(action, "is not list, accept ID or reject ID",
                             f"run `ascertain review {case} accept 12 --reason '...'`")
    if action == "reject" and not reason:
        raise AscertainError("--reason", "is required to reject a link", "say why, e.g. --reason 'other edition'")
    r = decide(c, link_id, action == "accept", reason or "accepted by reviewer")
    emit_json(r) if as_json else out.print(f"link {link_id}: {r['was']} → {r['now']} ({r['reason']})",
                                          markup=False)

@app.command("classes")
@stage
def classes_cmd(case: CaseArg,
                file: Annotated[str, typer.Option("--file", help="The class file (TOML).")] = "classes.toml",
                init: Annotated[bool, typer.Option("--init", help="Write a commented class file to --file (every "
                                                   "criterion listed) instead of evaluating one.")] = False,
                as_json: JsonOpt = False) -> None:
    """Evaluate a class file: one decision per work and criterion; member lists (CSV, Parquet); counts.

    The class file is TOML: `unit` ("work" or "registration"), `infringement_began` ("auto" or a date), and
    one [[class]] table per class with `name`, `description` and [class.criteria] (criterion = value; a work
    is a member when it meets every one), optionally [[class.subclass]] tables. `--init` writes a commented
    example that lists every criterion.
    """
    from ascertain.classes.criteria import evaluate

    if init:
        from ascertain.classes.template import class_file_template

        target = Path(file)
        if target.exists():
            raise AscertainError(file, "exists already (never written over)", "pass --file with a new name")
        target.write_text(class_file_template(), encoding="utf-8")
        out.print(f"class file written to {escape(file)}: edit it, then `ascertain classes {escape(str(case))} "
                  f"--file {escape(file)}`", highlight=False)
        return
    r = evaluate(open_case(case), file)
    if as_json:
        emit_json(r)
        return
    print_class_counts(out, r)

@app.command("sample")
@stage
def sample_cmd(case: CaseArg, class_name: ClassOpt,
               size: Annotated[int, typer.Option(help="Works to sample.")],
               seed: Annotated[int, typer.Option(help="Seed of the draw (PCG64).")],
               strata: Annotated[str | None, typer.Option(help="Stratify by: language, work_type, "
                                                           "claimant_role, registered, s412, in_corpus_by, "
                                                           "publication_decade.")] = None,
               sheet: Annotated[Path | None, typer.Option(help="Review sheet to write (CSV).")] = None,
               as_json: JsonOpt = False) -> None:
    """Draw a seeded simple or stratified random sample of a class and write a review sheet."""
    from ascertain.classes.sampling import draw

    sheet = sheet or case / "reports" / f"sample-{class_name.replace('/', '__')}-seed{seed}.csv"
    r = draw(open_case(case), class_name, size, seed, strata, sheet)
    emit_json(r) if as_json else out.print(
        f"sample {r['sample_id']}: {r['size']} of {r['population']:,} works of {class_name} (seed {seed}"
        + (f", strata {strata}: {r['allocation']}" if strata else "") + f"); review sheet {r['sheet']}",
        markup=False)

@labels_app.command("import")
@stage
def labels_import(case: CaseArg, sheet: Annotated[str, typer.Argument(help="The filled review sheet.")],
                  reviewer: Annotated[str | None, typer.Option(help="Whose sheet (a protocol's sample: each "
                                                               "reviewer's sheet on its own).")] = None,
                  as_json: JsonOpt = False) -> None:
    """Import reviewers' labels (copied, in_corpus: yes/no) from a review sheet."""
    from ascertain.classes.sampling import import_labels

    r = import_labels(open_case(case), sheet, reviewer)
    if as_json:
        emit_json(r)
        return
    out.print(f"{r['labelled']} labels imported, {r['skipped']} rows skipped", markup=False)
    print_skips(r["skips"])

@labels_app.command("agreement")
@stage
def labels_agreement(case: CaseArg, sample: Annotated[int, typer.Option(help="The sample id.")],
                     as_json: JsonOpt = False) -> None:
    """Agreement of the two blinded reviewers (Cohen's kappa with its interval) and their disagreements."""
    from ascertain.classes.protocol import agreement

    r = agreement(open_case(case), sample)
    if as_json:
        emit_json(r)
        return
    k = r["kappa_uninjured"]
    out.print(f"sample {sample}: {r['labelled_by_both']} items labelled by both {' and '.join(r['reviewers'])}; "
              f"observed agreement {k['observed_agreement']:.3f}; Cohen's kappa (injured/uninjured) "
              + (f"{k['kappa']:.3f} ({k['interval'][0]:.3f}–{k['interval'][1]:.3f})" if k["kappa"] is not None
                 else f"undefined ({k['note']})")
              + f"; {len(r['disagreements'])} disagreements, {r['unresolved']} not adjudicated yet", markup=False)
    for d in r["disagreements"]:
        a, b = r["reviewers"]
        out.print(f"- work {d['work_id']}: {a} copied={d[a]['copied']} in_corpus={d[a]['in_corpus']}; {b} "
                  f"copied={d[b]['copied']} in_corpus={d[b]['in_corpus']}; "
                  + (f"master: copied={d['adjudicated']['copied']} in_corpus={d['adjudicated']['in_corpus']}"
                     if d["adjudicated"] else "waits for the master"), markup=False)


@labels_app.command("adjudicate")
@stage
def labels_adjudicate(case: CaseArg, sample: Annotated[int, typer.Option(help="The sample id.")],
                      work: Annotated[int, typer.Option(help="The work the reviewers disagree on.")],
                      copied: Annotated[str, typer.Option(help="yes or no.")],
                      in_corpus: Annotated[str, typer.Option("--in-corpus", help="yes or no.")],
                      reason: Annotated[str, typer.Option(help="The master's reasons (audited).")],
                      by: Annotated[str, typer.Option(help="Who decides.")] = "master",
                      as_json: JsonOpt = False) -> None:
    """The master's label for an item the two reviewers disagree on."""
    from ascertain.classes.protocol import adjudicate
    from ascertain.tables import yes_no

    try:
        c_, i_ = yes_no(copied, "copied"), yes_no(in_corpus, "in_corpus")
    except ValueError as e:
        raise AscertainError("--copied/--in-corpus", str(e), "write yes or no") from e
    if c_ is None or i_ is None:
        raise AscertainError("--copied/--in-corpus", "needs both labels", "write yes or no for each")
    r = adjudicate(open_case(case), sample, work, bool(c_), bool(i_), reason, by)
    emit_json(r) if as_json else out.print(f"work {work} of sample {sample}: adjudicated by {by}", markup=False)


@app.command("protocol")
@stage
def protocol_cmd(case: CaseArg,
                 action: Annotated[str, typer.Argument(help="create, show or draw.")],
                 protocol_id: Annotated[int | None, typer.Argument(help="The protocol id (show, draw).")] = None,
                 class_name: Annotated[str | None, typer.Option("--class", help="The population (create).")] = None,
                 standard: Annotated[str, typer.Option(help="de-minimis (Olean) or none (Denney).")] = "de-minimis",
                 threshold: Annotated[float | None, typer.Option(help="The de minimis share (de-minimis).")] = None,
                 margin: Annotated[float, typer.Option(help="Half-width of the estimate (de-minimis), or the "
                                                       "share to rule out (none).")] = 0.05,
                 confidence: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
                 expected: Annotated[float, typer.Option(help="Expected uninjured share (0.5: worst case).")] = 0.5,
                 seed: Annotated[int | None, typer.Option(help="Seed of the draw, fixed now.")] = None,
                 strata: Annotated[str | None, typer.Option(help="Stratify by (see `sample --strata`).")] = None,
                 reviewers: Annotated[str, typer.Option(help="Two reviewers, comma-separated.")] = "",
                 rules: Annotated[str | None, typer.Option(help="A file with the labelling rules (default: "
                                                          "the built-in rule).")] = None,
                 as_json: JsonOpt = False) -> None:
    """A sampling protocol fixed and hashed before the draw: create, show, draw (one blind sheet per reviewer)."""
    from ascertain.classes import protocol

    c = open_case(case)
    if action == "create":
        if class_name is None or seed is None:
            raise AscertainError("protocol create", "needs --class and --seed",
                                 f"e.g. `ascertain protocol {case} create --class in-corpus --standard de-minimis "
                                 "--threshold 0.05 --margin 0.05 --seed 7 --reviewers alice,bob`")
        r = protocol.create(c, class_name, standard, margin, seed, reviewers.split(","), rules, confidence,
                            expected, threshold, strata)
        emit_json(r) if as_json else out.print(
            f"protocol {r['protocol_id']} (sha256 {r['sha256'][:16]}…): sample {r['sample_size']} of "
            f"{r['population']:,} members of {class_name}; {r['method']}", markup=False)
        return
    if protocol_id is None or action not in ("show", "draw"):
        raise AscertainError(action, "is not create, show ID or draw ID", f"run `ascertain protocol {case} show 1`")
    if action == "show":
        r = protocol.get(c, protocol_id)
        emit_json(r) if as_json else out.print_json(data=r)
        return
    r = protocol.draw(c, protocol_id, case / "reports")
    emit_json(r) if as_json else out.print(
        f"sample {r['sample_id']} drawn under protocol {protocol_id}: {r['size']} works; blind sheets: "
        + ", ".join(f"{k} → {v}" for k, v in r["sheets"].items()), markup=False)


@app.command("estimate")
@stage
def estimate_cmd(case: CaseArg, class_name: ClassOpt,
                 sample: Annotated[int | None, typer.Option(help="Sample id (default: the latest).")] = None,
                 confidence: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
                 margin: Annotated[float | None, typer.Option(help="Also give the sample size for this "
                                                              "margin (e.g. 0.05).")] = None,
                 as_json: JsonOpt = False) -> None:
    """Share confirmed copied and share uninjured, with Clopper–Pearson and Wilson intervals."""
    from ascertain.classes.estimates import estimate, sample_size
    from ascertain.classes.sampling import class_members

    c = open_case(case)
    if margin is not None:
        population = len(class_members(c, class_name)[1])
        n = sample_size(margin, population, confidence)
        if as_json:
            emit_json({"class": class_name, "population": population, "margin": margin,
                       "confidence": confidence, "sample_size": n})
        else:
            out.print(f"sample size for ±{margin} at {confidence:.0%} confidence (worst case p = 0.5, with "
                      f"finite-population correction) in {class_name} ({population:,} works): {n}",
                      markup=False)
        return
    r = estimate(c, class_name, sample, confidence)
    if as_json:
        emit_json(r)
        return
    print_estimate(out, r)

@app.command("lookup")
@stage
def lookup_cmd(case: CaseArg,
               query: Annotated[str | None, typer.Argument(help="Title, author, ISBN or registration "
                                                           "number.")] = None,
               file: Annotated[str | None, typer.Option(help="A file: hashed and fingerprinted against the "
                                                        "case's works.")] = None,
               as_json: JsonOpt = False) -> None:
    """Is a work on the class list, in which classes, and why (evidence, registration)?"""
    from ascertain.classes.lookup import lookup

    r = lookup(open_case(case), query, file)
    if as_json:
        emit_json(r)
        return
    print_lookup(out, r)




def print_class_counts(out, r: dict) -> None:
    from rich.table import Column

    t = Table(Column("class", overflow="fold", min_width=12), "works", f"units ({r['unit']})",
              "owners (name, role)", "by tier", "disputes",
              title=f"classes of {r['works']:,} works (class file sha256 {r['class_file_sha256'][:12]})")
    for name, cnt in r["counts"].items():
        tiers = ", ".join(f"{k} {v:,}" for k, v in (r.get("tiers") or {}).get(name, {}).items())
        disputes = ", ".join(f"{k} {v}" for k, v in (r.get("disputes") or {}).get(name, {}).items())
        t.add_row(escape(("  " if "/" in name else "") + name), f"{cnt['works']:,}", f"{cnt['units']:,}",
                  f"{cnt['owners']:,}", tiers or "-", disputes or "-")
    out.print(t)
    if r.get("ownership_conflicts"):
        out.print(f"{len(r['ownership_conflicts'])} works with an ownership conflict to review "
                  "(`ascertain owners CASE conflicts`)", markup=False)
    out.print("§412 (statutory damages): " + ", ".join(f"{k} {v:,}" for k, v in r["s412"].items())
              + f"; member lists in {Path(next(iter(r['files'].values()))['csv']).parent}", markup=False)


def print_estimate(out, r: dict) -> None:
    out.print(f"{r['class']}: sample {r['sample_id']} (seed {r['seed']}), {r['labelled']} of {r['drawn']} "
              f"labelled, class of {r['population']:,} works (unit of account: {r['unit_of_account']})",
              markup=False)
    if "confirmed_copied" not in r:
        out.print(r.get("note", ""), markup=False)
        return
    t = Table("measure", "share", "of the class", f"Clopper–Pearson {r['confidence']:.0%}",
              f"Wilson {r['confidence']:.0%}", "stratified (FPC)")
    for key, label in (("confirmed_copied", "confirmed copied"), ("uninjured", "uninjured")):
        m = r[key]
        st = m.get("stratified")
        t.add_row(label, f"{m['x']}/{m['n']} = {m['estimate']:.3f}", f"≈ {m['members_estimate']:,}",
                  _ci(m, "clopper_pearson"), _ci(m, "wilson"),
                  f"{st['estimate']:.3f} ({_ci(st, 'wilson_effective_n')})" if st else "-")
    out.print(t)
    if r.get("note"):
        out.print(r["note"], markup=False)


def print_lookup(out, r: dict) -> None:
    out.print(f"{r['query']}: {r['matches']} work(s)" + (" (first 50 shown)" if r["more"] else ""), markup=False)
    for w in r["results"]:
        verdict = "ON THE LIST" if w["on_the_list"] else "not on the list"
        out.print(f"- work {w['work_id']}: {w['title']} — {verdict}"
                  + (f" ({', '.join(w['classes'])})" if w["classes"] else ""), markup=False)
        for cls, crits in w["why"].items():
            failed = [c for c in crits if not c["passed"]]
            why = ("every criterion met" if not failed else
                   "not met: " + ", ".join(f"{c['criterion']} (wanted {c['wanted']}, is {c['value']})" for c in failed))
            out.print(f"    {cls}: {why}", markup=False)
        routes = []
        if w["in_corpus_by_content"]:
            routes.append(f"by content (evidence {', '.join(map(str, w['in_corpus_by_content']))})")
        if w["in_corpus_by_identifier"]:
            routes.append("by identifier (" + "; ".join(f"{h['document']}: {h['by']}"
                                                        for h in w["in_corpus_by_identifier"]) + ")")
        out.print(f"    in corpus: {' and '.join(routes) or 'no'}", markup=False)
        outputs = w.get("output_evidence") or []
        shown = f"by content (evidence {', '.join(map(str, outputs))})" if outputs else "no"
        out.print(f"    in model outputs: {shown}", markup=False)
        regs = "; ".join(f"{x['number']} effective {x['effective_date']} ({x['method']} {x['score']:.2f})"
                         for x in w["registrations"]) or "none linked"
        out.print(f"    registration: {regs}; §412: {w['s412']['status']} — {w['s412']['reason']}", markup=False)
        e = w["s412"]
        used = [f"infringement began {e['infringement_began']} ({e['infringement_source']})"
                if e.get("infringement_began") else "",
                f"published {e['publication_date']} ({e['publication_source']})" if e.get("publication_date") else "",
                f"registered {e['effective_date']} ({e['registration_source']})" if e.get("effective_date") else ""]
        if any(used):
            out.print("    dates used: " + "; ".join(x for x in used if x), markup=False)
        if "file_match" in w:
            fm = w["file_match"]
            out.print(f"    file: {fm['how']}, work file {fm['work_file']}, coverage {fm['coverage']}", markup=False)
