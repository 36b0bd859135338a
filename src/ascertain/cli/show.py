"""doc and show: indexed documents and the stored evidence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ascertain.cli.common import (
    FLAG,
    LEGEND,
    CaseArg,
    CopiedOnly,
    JsonOpt,
    ShowCoverage,
    ShowTokens,
    app,
    emit_json,
    err,
    esc,
    narrow,
    open_case,
    out,
    short,
    stage,
)
from ascertain.report.tables import add_row, new_table


@app.command("doc")
@stage
def doc(case: CaseArg, source: Annotated[str, typer.Argument(help="The corpus or output set.")],
        document: Annotated[str, typer.Argument(help="Doc id or locator (as in the evidence).")],
        lines: Annotated[str | None, typer.Option(help="Only lines A-B (1-based, inclusive), e.g. 10-40.")] = None,
        as_json: JsonOpt = False) -> None:
    """Print an indexed document's text (stdout, exactly as indexed) and its metadata (stderr)."""
    from ascertain.index.lookup import document_text

    d = document_text(open_case(case), source, document, lines)
    if as_json:
        emit_json(d)
        return
    err.print(f"{source} document {d['doc']}: {d['locator']} ({d['language']}, {d['tokens']:,} tokens, sha256 "
              f"{d['sha256']})" + (f", lines {d['lines'][0]}-{d['lines'][1]}" if d["lines"] else ""),
              markup=False, highlight=False, emoji=False, soft_wrap=True)
    sys.stdout.write(d["text"])  # not through rich: the text as indexed, no markup, emoji codes or wrapping


@app.command()
@stage
def show(case: CaseArg, work: Annotated[str | None, typer.Argument(help="Work id or title.")] = None,
         skipped: Annotated[bool, typer.Option("--skipped", metavar=FLAG, help="List skipped inputs.")] = False,
         min_tokens: ShowTokens = None, min_coverage: ShowCoverage = None, copied_only: CopiedOnly = False,
         csv_file: Annotated[Path | None, typer.Option(
             "--csv", help="Write every evidence record (of every work, filtered as asked) to this CSV file; "
                           "text cells that a spreadsheet would run as a formula start with an apostrophe.")] = None,
         show_all: Annotated[bool, typer.Option("--all", metavar=FLAG, help="With WORK: list the records not "
                                                "decided copied too (by default they are counted, not listed).")
                             ] = False,
         as_json: JsonOpt = False) -> None:
    """Show the case's sources and works, or one work's evidence (its copies; --all for every record)."""
    from ascertain.report.show import EvidenceFilter, case_summary, skipped_inputs, work_evidence

    c = open_case(case)
    flt = EvidenceFilter(min_tokens or 0, min_coverage or 0.0, copied_only)
    if csv_file:
        from ascertain.report.evidence_csv import write_evidence_csv

        n = write_evidence_csv(c, csv_file, flt)
        out.print(f"{n:,} evidence records written to {esc(csv_file)}", highlight=False)
        return
    if skipped:
        rows = skipped_inputs(c)
        if as_json:
            emit_json(rows)
        else:
            for r in rows:
                out.print(f"{r['stage']}: {r['locator']}: {r['reason']}. Fix: {r['fix']}", markup=False,
                          highlight=False, soft_wrap=True)
            if not rows:
                out.print("nothing was skipped: every input was read", highlight=False)
        return
    data = work_evidence(c, work, flt) if work else case_summary(c, flt)
    if as_json:
        emit_json(data)
        return
    if work:
        hidden = 0
        if not (show_all or copied_only):  # the useful view: the copies; the rest counted
            kept = [e for e in data["evidence"] if e["copied"]]
            hidden = len(data["evidence"]) - len(kept)
            data = {**data, "evidence": kept}
        show_work(data)
        if hidden:
            err.print(f"{hidden} record{'s' if hidden != 1 else ''} not decided copied not listed (`--all` lists "
                      "them)", highlight=False, markup=False)
        return
    t = new_table("source", "kind", "status", "docs", "skipped", "keyed", title="sources",
                  numbers=("docs", "skipped"))
    for s in data["sources"]:
        add_row(t, s["name"], s["kind"], s["status"], f"{s['documents']:,}", s["skipped"], s["keyed"])
    out.print(t)
    t = new_table("id", "claimant", "title", "files", "copies", "copied in", "best own", "run", title="works",
                  numbers=("id", "files", "copies", "best own", "run"))
    for w in data["works"]:
        text_figures = ("-", "-") if w.get("image") else (f"{w['best_own_coverage']:.3f}", w["longest_run_tokens"])
        add_row(t, w["id"], w["claimant"], w["title"], w["files"], w["copies"], ", ".join(w["copied_in"]),
                *text_figures)
    out.print(t)
    print_image_cmi_rates(data.get("image_cmi_rates") or {})
    print_visible_marks(data.get("image_cmi_rates") or {})
    print_image_watermarks(data.get("image_watermarks") or {})
    print_image_metadata(data.get("image_metadata") or [])
    print_probe_evidence(data["probe"])
    err.print("[dim]best own: highest own coverage (share of the work's own expression, notices, licenses and "
              "common spans left out) of a copy; run: longest verbatim run of a copy, in tokens.[/]",
              highlight=False)


def show_work(data: dict) -> None:
    n = len(data["files"])
    out.print(Text(f"{data['claimant']} / {data['title']} ({n} file{'' if n == 1 else 's'})", style="bold"))
    slim = narrow()
    image_cmi = data.get("image_cmi") or []
    if image_cmi:  # an image work: the CMI its file carries (EXIF, IPTC, XMP, C2PA)
        t = new_table("file", "field", "value", title="the work's image CMI")
        for i in image_cmi:
            for f, v in i["fields"].items():
                add_row(t, short(i["path"]), f, v)
            add_row(t, short(i["path"]), "C2PA manifest", "present" if i["c2pa"] else "none")
        out.print(t)
        if not data["evidence"]:
            print_image_evidence(data.get("image_evidence") or [])
            print_probe_evidence(data["probe"])
            return
    t = new_table("scope", "file", "lines", "CMI", title="the work's CMI", numbers=("lines",))
    for i in data["cmi"]:
        add_row(t, i["scope"] if not slim else i["scope"][:4], short(i["path"]), f"{i['lines'][0]}-{i['lines'][1]}",
                f"{i['kind']}: {i['value']}")
    out.print(t)
    numbers = ("cov.", "own", "run", "frag.", "J")
    words = ("copied", "CMI", "identical")
    # narrow: one table per source, so the document column needs no source name
    groups = ([(src, [e for e in data["evidence"] if e["source"] == src])
               for src in dict.fromkeys(e["source"] for e in data["evidence"])] if slim else [(None, data["evidence"])])
    for src, evidence in groups or [(None, [])]:
        title = f"evidence{f' in {src}' if src else ''} ({len(evidence)} record{'' if len(evidence) == 1 else 's'})"
        if slim:
            t = new_table("copied", "work file", "cov.", "own", "run", "frag.", "CMI", "document", title=title,
                          numbers=numbers, words=words)
        else:
            t = new_table("copied", "source", "document", "work file", "cov.", "own", "run", "frag.", "identical",
                          "J", "CMI", title=title, numbers=numbers, words=words)
        for e in evidence:
            near = (e.get("near_duplicate") or {}).get("jaccard_estimate")
            figures = [f"{e['coverage']:.3f}", f"{e['own_coverage']:.3f}", e["longest_run_tokens"], e["fragments"]]
            cmi = (e.get("cmi") or {}).get("status", "-")
            copied = "yes" if e["copied"] else "no"
            if slim:
                add_row(t, copied, e["work_file"].rsplit("/", 1)[-1], *figures, cmi, _document(e))
            else:
                add_row(t, copied, e["source"], _document(e), short(e["work_file"]), *figures,
                        {True: "yes", False: "no", None: "-"}[e["identical"]], "-" if near is None else f"{near:.2f}",
                        cmi)
        out.print(t)
    print_image_evidence(data.get("image_evidence") or [])
    changed = [(e, a) for e in data["evidence"] if e["copied"] for a in (e.get("cmi") or {}).get("altered", [])]
    for e, a in changed[:20]:
        out.print(f"CMI changed in {e['source']}: {short(e['document'])}: {a['original']['kind']} before: "
                  f"{a['original']['value']!r} / after: {a['copy']['value']!r}", markup=False, highlight=False)
    if len(changed) > 20:
        out.print(f"... {len(changed) - 20} more changed CMI items (--json lists all)", highlight=False)
    print_probe_evidence(data["probe"])
    err.print(f"[dim]{LEGEND}" + (" identical, near-dup J: --json, --csv or a wider terminal." if slim else
                                  " J: MinHash estimate of whole-document Jaccard similarity.") + "[/]",
              highlight=False)


LIST_MARKS = 20  # copies whose visible-mark check is listed (--json and the CSV hold all)


def print_image_evidence(rows: list[dict]) -> None:
    """A work's image evidence: tier, where the work is in the copy, image CMI status, identical copies."""
    if not rows:
        return
    from ascertain.report.show_images import region_text

    t = new_table("tier", "source", "document", "region", "CMI", "copies",
                  title=f"image evidence ({len(rows)} record{'' if len(rows) == 1 else 's'})", numbers=("copies",))
    for e in rows:
        add_row(t, e["tier"].replace("_", " "), e["source"], short(e["document"]), region_text(e),
                e["cmi_status"].replace("_", " "), e["copies"])
    out.print(t)
    from ascertain.match.image_watermarks import short as watermark_short
    from ascertain.report.show_images import mark_words

    for e in rows[:LIST_MARKS]:
        if e.get("visible_mark"):  # the work's visible signature/watermark region in this copy
            out.print(f"visible mark in {e['source']}: {short(e['document'])}: {mark_words(e['visible_mark'])}",
                      markup=False, highlight=False)
    for e in rows:
        if e.get("watermark"):  # an output: the generators' invisible watermark (provenance, not copying)
            out.print(f"invisible watermark in {e['source']}: {short(e['document'])}: "
                      f"{watermark_short(e['watermark'])}", markup=False, highlight=False)
    changed = [(e, f, v) for e in rows for f, v in sorted(e["cmi"].items()) if v["status"] != "kept"]
    for e, f, v in changed[:20]:
        out.print(f"image CMI {v['status']} in {e['source']}: {short(e['document'])}: {f} {v['work']!r}"
                  + (f" -> {v['copy']!r}" if v["copy"] else ""), markup=False, highlight=False)
    if len(changed) > 20:
        out.print(f"... {len(changed) - 20} more image CMI changes (--json lists all)", highlight=False)


def print_image_metadata(rows: list[dict]) -> None:
    """Evidence from metadata-only image datasets, counted (reports/image-metadata-evidence.json lists it)."""
    if not rows:
        return
    t = new_table("claimant", "source", "evidence", "match", "context", "rows", title="image metadata evidence",
                  numbers=("rows",))
    for r in rows:
        add_row(t, r["claimant"], r["source"], r["kind"].replace("_", " "), r["match"], r["context"], f"{r['rows']:,}")
    out.print(t)


def print_image_watermarks(tallies: dict) -> None:
    """Per output set: how many outputs carry an open generator's invisible watermark, and what that shows."""
    if not tallies:
        return
    from ascertain.report.show_images import watermark_words

    for name, t in tallies.items():
        out.print(f"{name}: {watermark_words(t)}", markup=False, highlight=False)
    err.print("[dim]invisible watermark: found = the output went through a pipeline that embedded that public "
              "message (not which model); absent proves nothing (front ends do not embed it; resizing and "
              "cropping remove it).[/]", highlight=False)


def print_image_cmi_rates(rates: dict) -> None:
    """Per source: of the copies of works that carried image CMI, the share that lost it."""
    rows = {k: v for k, v in rates.items() if v["with_work_cmi"]}
    if not rows:
        return
    cols = ("source", "copies", "with CMI", "removed", "altered", "kept", "removed %")
    t = new_table(*cols, title="image CMI in copies", numbers=cols[1:])
    for name, r in rows.items():
        add_row(t, name, r["copies"], r["with_work_cmi"], r["removed"], r["altered"], r["retained"],
                f"{r['removed_share']:.0%}")
    out.print(t)


def print_visible_marks(rates: dict) -> None:
    """Per source: the works' visible signatures/watermark regions in their copies (declared and automatic)."""
    from ascertain.report.show_images import mark_rates_words

    for name, r in rates.items():
        for kind, counts in (r.get("visible_marks") or {}).items():
            out.print(mark_rates_words(name, kind, counts), markup=False, highlight=False)


def print_probe_evidence(rows: list[dict]) -> None:
    """Evidence of kind `probe` (ascertain probe), with the fixed limitations text."""
    if not rows:
        return
    from ascertain.probe import LIMITATIONS

    t = new_table("run", "model", "tier", "work / claimant", "result", title="probe evidence", numbers=("run",))
    for r in rows:
        add_row(t, r["probe_run"], r["model"], r["tier"], r["subject"], r["summary"])
    out.print(t)
    out.print(LIMITATIONS, markup=False, highlight=False)


def _document(e: dict) -> str:
    """The document's locator, and how many more documents hold the same text (measured once; their locators
    are in the report's `identical_copies`)."""
    n = (e.get("identical_copies") or {}).get("documents", 1)
    return short(e["document"]) + (f" (+{n - 1:,} identical)" if n > 1 else "")
