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
                                                 "isbn, group, supplementary, work_type.")] = None,
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
                  as_json: JsonOpt = False) -> None:
    """Import reviewers' labels (copied, in_corpus: yes/no) from a review sheet."""
    from ascertain.classes.sampling import import_labels

    r = import_labels(open_case(case), sheet)
    if as_json:
        emit_json(r)
        return
    out.print(f"{r['labelled']} labels imported, {r['skipped']} rows skipped", markup=False)
    print_skips(r["skips"])

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
    t = Table("class", "works", f"units ({r['unit']})", "owners (name, role)",
              title=f"classes of {r['works']:,} works (class file sha256 {r['class_file_sha256'][:12]})")
    for name, cnt in r["counts"].items():
        t.add_row(escape(("  " if "/" in name else "") + name), f"{cnt['works']:,}", f"{cnt['units']:,}",
                  f"{cnt['owners']:,}")
    out.print(t)
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
        if "file_match" in w:
            fm = w["file_match"]
            out.print(f"    file: {fm['how']}, work file {fm['work_file']}, coverage {fm['coverage']}", markup=False)
