"""The class part of `ascertain demo`: a works list of books, a library corpus with its own metadata,
registrations, a class file, a seeded sample labelled from the planted truth, and the estimate.
Each planted situation (demo_data/classes/planted.json) is checked and named."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ascertain.case import Case
from ascertain.classes.criteria import evaluate
from ascertain.classes.estimates import estimate
from ascertain.classes.facts import gather
from ascertain.classes.linkage import decide as decide_link
from ascertain.classes.linkage import link, review_queue
from ascertain.classes.registrations import import_registrations
from ascertain.classes.sampling import draw, import_labels
from ascertain.csv_out import Writer, plain
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.works import import_manifest

ACQUIRED = "2021-06-01"


def run_class_demo(case: Case, data: Path, console: Console | None) -> dict:
    d = data / "classes"
    say = console.print if console else (lambda *a, **k: None)
    books = import_manifest(case, str(d / "books.csv"))
    add_source(case, "library", "corpus", [str(d / "library.jsonl")],
               ReadOptions(meta_fields=("title", "author", "isbn")), acquired=ACQUIRED)
    run_match(case, MatchOptions())  # the evidence covers every source, as the report checks
    regs = import_registrations(case, str(d / "registrations.csv"))
    say(f"classes: {len(books.added)} books (metadata only), a library corpus with its own metadata "
        f"(acquired {ACQUIRED}), {regs['imported']} registrations ({regs['skipped']} bad rows skipped: "
        "duplicate number, malformed date, impossible ISBN)", markup=False)
    linked = link(case)
    queue = review_queue(case)
    for x in queue:  # the reviewer's decision, planted: a separately registered revised edition
        decide_link(case, x["id"], True, "same work: a separately registered revised edition")
    say(f"links: {linked['identifier_links']} by identifier, {linked['probabilistic_accepted']} by title + "
        f"author, {len(queue)} reviewed and accepted (a revised edition)", markup=False)
    result = evaluate(case, str(d / "classes.toml"))
    planted = json.loads((d / "planted.json").read_text())
    facts = gather(case)
    by_title = {f.title: f for f in facts.values()}
    rows = {}
    with open(case.root / "reports" / "classes" / "in-corpus.csv", encoding="utf-8") as fh:
        rows = {plain(r["title"]): r for r in csv.DictReader(fh)}
    from ascertain.classes.eligibility import decide

    wrong = []
    table = Table("planted situation", "§412", "link", "ok", title="registrations and §412", width=80)
    for p in planted:
        f = by_title[p["title"]]
        e = decide(f)
        method = f.registrations[0]["method"] if f.registrations else None
        route = rows.get(p["title"], {}).get("in_corpus_by", "")
        ok = e.status == p["s412"] and method == p["link"] and route == p["in_corpus_by"]
        if not ok:
            wrong.append({"title": p["title"], "s412": e.status, "link": method, "in_corpus_by": route})
        table.add_row(escape(f"{p['title']}: {p['situation']}"), e.status, method or "-",
                      "yes" if ok else "[red]NO[/]")
    if console:
        console.print(table)
        counts = Table("class", "works", "owners", "unit", title="classes (demo_data/classes/classes.toml)",
                       width=80)
        for name, c in result["counts"].items():
            counts.add_row(escape(name), str(c["works"]), str(c["owners"]), c["unit"])
        console.print(counts)
        console.print("§412 split of all works: " + ", ".join(f"{k} {v}" for k, v in result["s412"].items()),
                      markup=False)
    sheet = case.root / "reports" / "sample-in-corpus.csv"
    smp = draw(case, "in-corpus", 6, 7, None, sheet)
    truth = {p["title"]: p for p in planted} | _image_truth(data)
    with open(sheet, encoding="utf-8") as fh:
        filled = list(csv.DictReader(fh))
    for r in filled:  # the reviewer's labels, planted
        t = truth[r["title"]]
        r.update(copied="yes" if t["copied"] else "no", in_corpus="yes" if t["in_corpus"] else "no",
                 reviewer="demo (planted truth)")
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        w = Writer(fh, list(filled[0]))
        w.header()
        for r in filled:
            w.record({k: plain(v) for k, v in r.items()})
    import_labels(case, str(sheet))
    est = estimate(case, "in-corpus")
    if console:
        cc, un = est["confirmed_copied"], est["uninjured"]
        say(f"sample of {smp['size']} of {smp['population']} in-corpus works (seed 7), labelled: confirmed "
            f"copied {cc['x']}/{cc['n']} (Clopper–Pearson 95 % {cc['clopper_pearson'][0]:.2f}–"
            f"{cc['clopper_pearson'][1]:.2f}), uninjured {un['x']}/{un['n']} "
            f"({un['clopper_pearson'][0]:.2f}–{un['clopper_pearson'][1]:.2f})", markup=False)
        say(f"{len(planted) - len(wrong)}/{len(planted)} planted class situations as planted; member lists: "
            f"{Path(result['files']['in-corpus']['csv']).parent}", markup=False)
    return {"ok": not wrong, "wrong": wrong, "counts": result["counts"], "s412": result["s412"],
            "estimate": {k: est[k] for k in ("confirmed_copied", "uninjured")}}


def _image_truth(data: Path) -> dict[str, dict]:
    """The demo's image works (demo_data/images): copied and in the corpus as images/planted.json plants them."""
    d = data / "images"
    if not (d / "works.csv").is_file():
        return {}
    planted = json.loads((d / "planted.json").read_text())
    with open(d / "works.csv", encoding="utf-8") as fh:
        titles = {Path(r["path"]).name: r["title"] for r in csv.DictReader(fh)}
    copies = [p for p in planted if p["tier"] not in ("metadata", "hash")]
    return {t: {"copied": any(p["work_file"] == f for p in copies),
                "in_corpus": any(p["work_file"] == f and p["source"] == "images-corpus" for p in copies)}
            for f, t in titles.items()}
