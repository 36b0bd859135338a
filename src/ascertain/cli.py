"""The `ascertain` command: one subcommand per stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ascertain import __version__
from ascertain.errors import AscertainError

app = typer.Typer(help="Measured, reproducible evidence for generative-AI copyright cases.",
                  no_args_is_help=True, add_completion=False)
works_app = typer.Typer(help="Claimants' works.", no_args_is_help=True)
corpus_app = typer.Typer(help="Training corpora.", no_args_is_help=True)
outputs_app = typer.Typer(help="Model outputs.", no_args_is_help=True)
app.add_typer(works_app, name="works")
app.add_typer(corpus_app, name="corpus")
app.add_typer(outputs_app, name="outputs")
cmi_app = typer.Typer(help="Copyright management information: notices, authors, licenses.", no_args_is_help=True)
app.add_typer(cmi_app, name="cmi")

out = Console()
err = Console(stderr=True)

CaseArg = Annotated[Path, typer.Argument(help="The case folder.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def fail(e: AscertainError) -> None:
    err.print(f"[bold red]error:[/] {e.what}: {e.problem}.\n[bold]fix:[/] {e.fix}", highlight=False,
              soft_wrap=True)
    raise typer.Exit(2)


def emit_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False, default=str) + "\n")


def open_case(path: Path):
    from ascertain.case import Case

    return Case.open(path)


def stage(fn):
    """Run a command body, turning AscertainError into a clear message and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AscertainError as e:
            fail(e)

    return wrapper


def progress_bar(description: str, total: int | None = None) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                    TextColumn("{task.completed:,} {task.fields[unit]}"), TextColumn("{task.fields[mb]}"),
                    TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal)


def short(locator: str) -> str:
    """The last two path components of a locator (tables only; JSON keeps the full locator)."""
    parts = locator.split("/")
    return locator if len(parts) <= 2 else "…/" + "/".join(parts[-2:])


def print_skips(report_skips: list[dict]) -> None:
    for s in report_skips[:20]:
        err.print(f"[yellow]skipped[/] {s['locator']}: {s['reason']}. Fix: {s['fix']}", highlight=False,
                  soft_wrap=True)
    if len(report_skips) > 20:
        err.print(f"[yellow]... and {len(report_skips) - 20} more skipped (see `ascertain show`)[/]")


@app.command()
@stage
def init(case: CaseArg,
         store: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store "
                                                   "(default: SQLite inside the case folder).")] = None,
         k: Annotated[int, typer.Option(help="Tokens per k-gram.")] = 8,
         w: Annotated[int, typer.Option(help="Winnowing window (k-grams).")] = 13) -> None:
    """Create a case folder: config, store and index."""
    from ascertain.case import Case

    c = Case.init(case, store, k, w)
    c.store.audit("init", {"store": c.config["store_url"], "k": k, "w": w})
    out.print(f"case created at {case} (every shared run of {w + k - 1}+ tokens will be found)")


@works_app.command("add")
@stage
def works_add(case: CaseArg, paths: Annotated[list[str], typer.Argument(help="One work per path.")],
              claimant: Annotated[str, typer.Option(help="Who claims the works.")],
              title: Annotated[str | None, typer.Option(help="Title (one path only).")] = None,
              rev: Annotated[str | None, typer.Option(help="Git revision for repositories.")] = None,
              as_json: JsonOpt = False) -> None:
    """Add works: each PATH (file, folder, archive or git repository) is one work."""
    from ascertain.works import WorksReport, add_work

    if title and len(paths) > 1:
        raise AscertainError("--title", "names one work but several paths were given",
                             "add the works one at a time, or leave out --title")
    c = open_case(case)
    report = WorksReport()
    for p in paths:
        add_work(c, claimant, p, title, rev=rev, report=report)
    _works_report(report.as_dict(), as_json)


@works_app.command("import")
@stage
def works_import(case: CaseArg, manifest: Annotated[str, typer.Argument(
                     help="Works list: CSV, JSONL or Parquet (claimant(s), title, path or none, ...).")],
                 map_: Annotated[str | None, typer.Option("--map", help="Rename columns to fields: "
                                                          "title=Title,authors=Author,...")] = None,
                 as_json: JsonOpt = False) -> None:
    """Add works from a list. Fields: claimant, claimant_role, claimant_share, claimants, title, authors, isbn,
    asin, publication_date, language, work_type, registration_number, path (none: a metadata-only work);
    other columns are kept as identifiers."""
    from ascertain.works import import_manifest

    c = open_case(case)
    with progress_bar("works") as bar:
        task = bar.add_task("importing works", total=None, unit="rows", mb="")
        report = import_manifest(c, manifest, lambda: bar.advance(task), map_)
    _works_report(report.as_dict(), as_json)


def _works_report(rep: dict, as_json: bool) -> None:
    if as_json:
        emit_json(rep)
        return
    for a in rep["added"][:20]:
        out.print(f"added work {a['work_id']}: {a['claimant']} / {a['title']} ({a['files']} files)", markup=False)
    for e in rep["existing"][:20]:
        out.print(f"already in the case: {e}", markup=False)
    if len(rep["added"]) > 20 or len(rep["existing"]) > 20:
        out.print(f"{len(rep['added']):,} works added, {len(rep['existing']):,} already in the case")
    print_skips(rep["skipped"])


def _add_source(case: Path, name: str, kind: str, paths: list[str], text_field: str,
                language: str | None, rev: str | None, key_file: str | None, no_text: bool,
                max_doc_bytes: int, as_json: bool, level: str = "layout", acquired: str | None = None,
                meta_fields: str | None = None) -> None:
    from ascertain.readers import ReadOptions
    from ascertain.sources import add_source

    c = open_case(case)
    opts = ReadOptions(text_field=text_field, language=language, rev=rev, max_doc_bytes=max_doc_bytes,
                       meta_fields=tuple(f.strip() for f in (meta_fields or "").split(",") if f.strip()))
    with progress_bar(f"{kind} {name}") as bar:
        task = bar.add_task(f"indexing {name}", total=None, unit="documents", mb="")
        state = {"bytes": 0}

        def tick(n: int, nbytes: int) -> None:
            state["bytes"] += nbytes
            bar.update(task, advance=n, mb=f"{state['bytes'] / 1e6:,.1f} MB")

        summary = add_source(c, name, kind, paths, opts, key_file, not no_text, on_progress=tick, level=level,
                             acquired=acquired)
    if as_json:
        emit_json(summary)
        return
    out.print(f"{name}: {summary['documents']:,} documents, {summary['tokens']:,} tokens, "
              f"{summary['fingerprints']:,} fingerprints in {summary['shards']} shard(s)"
              + (" (keyed)" if summary["keyed"] else ""))
    if summary["skipped"]:
        reasons = ", ".join(f"{v} {k}" for k, v in summary["skip_reasons"].items())
        out.print(f"[yellow]{summary['skipped']} skipped:[/] {reasons} (details: `ascertain show {case} "
                  f"--skipped`)")


TextField = Annotated[str, typer.Option(help="JSONL key / Parquet column with the text.")]
KeyFile = Annotated[str | None, typer.Option(help="HMAC key file: build a keyed, text-less index.")]
MaxDoc = Annotated[int, typer.Option(help="Largest document read, in bytes.")]
LevelOpt = Annotated[str, typer.Option(help="Normalization level: exact, layout, comments, identifiers, prose.")]


@corpus_app.command("add")
@stage
def corpus_add(case: CaseArg, name: Annotated[str, typer.Argument(help="Name of the corpus.")],
               paths: Annotated[list[str], typer.Argument(help="Files, folders, archives, JSONL, Parquet.")],
               text_field: TextField = "text",
               language: Annotated[str | None, typer.Option(help="Language of records.")] = None,
               rev: Annotated[str | None, typer.Option(help="Git revision for repositories.")] = None,
               key_file: KeyFile = None,
               no_text: Annotated[bool, typer.Option(help="Keep fingerprints only, not texts.")] = False,
               max_doc_bytes: MaxDoc = 32 << 20, level: LevelOpt = "layout",
               acquired: Annotated[str | None, typer.Option(help="Date the corpus was acquired (YYYY-MM-DD): "
                                                            "when infringement began, for §412.")] = None,
               meta_fields: Annotated[str | None, typer.Option(help="Record fields with bibliographic metadata "
                                                               "(e.g. title,author,isbn): works in the corpus "
                                                               "by identifier.")] = None,
               as_json: JsonOpt = False) -> None:
    """Fingerprint a training corpus (resumes an interrupted run of the same command)."""
    _add_source(case, name, "corpus", paths, text_field, language, rev, key_file, no_text, max_doc_bytes,
                as_json, level, acquired, meta_fields)


@outputs_app.command("add")
@stage
def outputs_add(case: CaseArg, name: Annotated[str, typer.Argument(help="Name of the output set.")],
                files: Annotated[list[str], typer.Argument(help="JSONL of outputs")],
                text_field: TextField = "completion", max_doc_bytes: MaxDoc = 32 << 20,
                level: LevelOpt = "layout", as_json: JsonOpt = False) -> None:
    """Add model outputs (one JSON object per line)."""
    _add_source(case, name, "outputs", files, text_field, None, None, None, False, max_doc_bytes, as_json,
                level)


@app.command()
@stage
def match(case: CaseArg,
          source: Annotated[list[str] | None, typer.Option(help="Only these sources.")] = None,
          key_file: KeyFile = None, as_json: JsonOpt = False) -> None:
    """Match every work against every corpus and output set; store the evidence."""
    from ascertain.match.run import MatchOptions, run_match

    c = open_case(case)
    with progress_bar("match") as bar:
        tasks: dict[str, int] = {}

        def tick(src: str, done: int, total: int) -> None:
            if src not in tasks:
                tasks[src] = bar.add_task(f"matching {src}", total=total, unit="documents", mb="")
            bar.update(tasks[src], completed=done)

        summary = run_match(c, MatchOptions(sources=source or None, key_file=key_file), tick)
    if as_json:
        emit_json(summary)
    else:
        out.print(f"{summary['evidence']} evidence records, {summary['copied']} copies; "
                  f"report: {summary['report']}")


@app.command()
@stage
def compare(original: Annotated[str | None, typer.Argument(help="The original work file.")] = None,
            copy: Annotated[str | None, typer.Argument(help="The suspected copy.")] = None,
            batch: Annotated[str | None, typer.Option(help='JSONL of {"original": .., "copy": ..}.')] = None,
            level: Annotated[str, typer.Option(help="auto (layout, then identifiers if no copy is found), "
                                                    "exact, layout, comments, identifiers or prose.")] = "auto",
            paraphrase: Annotated[bool, typer.Option(
                "--paraphrase", help="Also report reworded prose passages (a separate signal; needs the "
                                     "[paraphrase] extra).")] = False,
            as_json: JsonOpt = False) -> None:
    """Compare one original with one copy (or a batch of pairs); exit 0 whatever the verdict."""
    from ascertain.match.compare import Comparer
    from ascertain.text.levels import LEVELS

    if level not in (*LEVELS, "auto"):
        raise AscertainError("--level", f"unknown level {level!r}",
                             f"choose auto or one of {', '.join(LEVELS)}")
    cmp = Comparer(level=level, paraphrase=paraphrase)
    if batch:
        for result in cmp.batch(batch):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    if not original or not copy:
        raise AscertainError("compare", "needs ORIGINAL and COPY, or --batch PAIRS.jsonl",
                             "run `ascertain compare ORIGINAL COPY`")
    r = cmp.compare(original, copy)
    if as_json:
        emit_json(r)
        return
    verdict = "[bold red]COPIED[/]" if r["copied"] else "[green]not copied[/]"
    same = ("identical at token level" + ("" if r["byte_identical"] else ", not byte for byte")
            if r["identical"] else "not identical")
    out.print(f"{verdict} (level {r['level']}): coverage {r['coverage']:.3f} (own expression "
              f"{r['own_coverage']:.3f}), longest verbatim run {r['longest_run_tokens']} tokens, "
              f"{r['fragments']} fragment(s), {same}")
    for sp in r["spans"]:
        tag = " [dim](notice/license)[/]" if sp["cmi_tokens"] * 2 > sp["tokens"] else ""
        out.print(f"  original lines {sp['original_lines'][0]}-{sp['original_lines'][1]} = copy lines "
                  f"{sp['copy_lines'][0]}-{sp['copy_lines'][1]}: {sp['tokens']} tokens{tag}")
    print_differences(r)
    if "paraphrase" in r:
        pp = r["paraphrase"]
        out.print(f"paraphrase signal (separate from the verbatim figures; {pp['model']}, cosine ≥ "
                  f"{pp['threshold']}): {pp['passages_found']} of {pp['work_passages']} passages of the original")
        for p in pp["passages"]:
            out.print(f"  original lines {p['original_lines'][0]}-{p['original_lines'][1]} ~ copy lines "
                      f"{p['copy_lines'][0]}-{p['copy_lines'][1]}: similarity {p['similarity']:.3f}")
    out.print(f"CMI: {r['cmi']['status']}"
              + "".join(f"; {k} {len(r['cmi'][k])}" for k in ("removed", "altered") if r["cmi"].get(k)))


def print_differences(r: dict) -> None:
    if r.get("edit_similarity") is None:
        return
    counts = ", ".join(f"{k} {v}" for k, v in r.get("difference_counts", {}).items()) or "none"
    out.print(f"edit similarity {r['edit_similarity']:.3f}; differences: {counts}")
    if r.get("rename_map"):
        consistent = "consistent" if r.get("rename_consistent") else "not one-to-one"
        out.print(f"rename map ({consistent}): "
                  + ", ".join(f"{a} → {b}" for a, b in r["rename_map"].items()), highlight=False)
    for d in r.get("differences", []):
        detail = f": {d['original']!r} → {d['copy']!r}" if d.get("original") or d.get("copy") else ""
        out.print(f"  {d['kind']}: original lines {d['original_lines'][0]}-{d['original_lines'][1]}, copy lines "
                  f"{d['copy_lines'][0]}-{d['copy_lines'][1]}{detail}", highlight=False)
    if r.get("differences_not_listed"):
        out.print(f"  ... {r['differences_not_listed']} more (--json lists up to 400)")


@app.command()
@stage
def show(case: CaseArg, work: Annotated[str | None, typer.Argument(help="Work id or title.")] = None,
         skipped: Annotated[bool, typer.Option("--skipped", help="List skipped inputs.")] = False,
         as_json: JsonOpt = False) -> None:
    """Show the case's sources and works, or one work's evidence."""
    from ascertain.report.show import case_summary, skipped_inputs, work_evidence

    c = open_case(case)
    if skipped:
        rows = skipped_inputs(c)
        if as_json:
            emit_json(rows)
        else:
            for r in rows:
                out.print(f"[{r['stage']}] {r['locator']}: {r['reason']}. Fix: {r['fix']}", highlight=False,
                          soft_wrap=True)
        return
    data = work_evidence(c, work) if work else case_summary(c)
    if as_json:
        emit_json(data)
        return
    if work:
        out.print(f"[bold]{data['claimant']} / {data['title']}[/] ({len(data['files'])} files)")
        t = Table("scope", "file", "lines", "CMI", title="the work's CMI")
        for i in data["cmi"]:
            t.add_row(i["scope"], short(i["path"]), f"{i['lines'][0]}-{i['lines'][1]}", f"{i['kind']}: {i['value']}")
        out.print(t)
        t = Table("copied", "source", "document", "work file", "coverage", "own", "longest run",
                  "fragments", "identical", "near-dup J", "CMI")
        for e in data["evidence"]:
            near = (e.get("near_duplicate") or {}).get("jaccard_estimate")
            t.add_row("yes" if e["copied"] else "no", e["source"], short(e["document"]),
                      short(e["work_file"]),
                      f"{e['coverage']:.3f}", f"{e['own_coverage']:.3f}", str(e["longest_run_tokens"]),
                      str(e["fragments"]), str(e["identical"]), "-" if near is None else f"{near:.2f}",
                      e.get("cmi", {}).get("status", "-"))
        out.print(t)
        return
    t = Table("source", "kind", "status", "documents", "skipped", "keyed", title="sources")
    for s in data["sources"]:
        t.add_row(s["name"], s["kind"], s["status"], f"{s['documents']:,}", str(s["skipped"]),
                  str(s["keyed"]))
    out.print(t)
    t = Table("id", "claimant", "title", "files", "copies", "in", "best own coverage", "longest run",
              title="works")
    for w in data["works"]:
        t.add_row(str(w["id"]), w["claimant"], w["title"], str(w["files"]), str(w["copies"]),
                  ", ".join(w["copied_in"]), f"{w['best_own_coverage']:.3f}", str(w["longest_run_tokens"]))
    out.print(t)


@cmi_app.command("scan")
@stage
def cmi_scan(paths: Annotated[list[str], typer.Argument(help="Files, folders or archives.")],
             processes: Annotated[int, typer.Option(help="Worker processes (0: up to 4, one per core).")] = 0,
             max_bytes: Annotated[int, typer.Option(help="Skip files larger than this.")] = 10_000_000,
             as_json: JsonOpt = False) -> None:
    """Find copyright notices, authors and licenses (with line spans and the rule that fired)."""
    from ascertain.cmi.scan import scan_paths

    if processes < 0:
        raise AscertainError("--processes", f"must be 0 or more, not {processes}", "pass e.g. --processes 2")
    for p in paths:
        if not Path(p).exists():
            raise AscertainError(p, "does not exist", "check the path")
    for r in scan_paths(paths, processes or None, max_bytes):
        if as_json:
            sys.stdout.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
            continue
        if "skipped" in r:
            err.print(f"[yellow]skipped[/] {r['path']}: {r['skipped']}. Fix: {r['fix']}", highlight=False,
                      soft_wrap=True)
            continue
        if not (r["copyrights"] or r["licenses"] or r["authors"]):
            continue
        out.print(f"[bold]{r['path']}[/]", highlight=False)
        for c in r["copyrights"]:
            out.print(f"  {c['start_line']}-{c['end_line']}  copyright  {c['statement']}", highlight=False)
        for a in r["authors"]:
            out.print(f"  {a['start_line']}-{a['end_line']}  author     {a['author']}  [dim]({a['rule']})[/]",
                      highlight=False)
        for lic in r["licenses"]:
            out.print(f"  {lic['start_line']}-{lic['end_line']}  license    {lic['spdx']}  "
                      f"[dim]({lic['rule']}, score {lic['score']})[/]", highlight=False)
        for note in r["notes"]:
            err.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)


@cmi_app.command("validate")
@stage
def cmi_validate(
        files: Annotated[int, typer.Option(help="How many real files to sample.")] = 2000,
        scancode: Annotated[str, typer.Option(help="The scancode executable.")] = "scancode",
        processes: Annotated[int, typer.Option(help="Processes for each tool.")] = 2,
        work: Annotated[Path, typer.Option(help="Folder for the sample and raw results.")] = Path("cmi-validation"),
        docs: Annotated[Path | None, typer.Option(help="Write the results into this Markdown file.")] = None,
        reuse_scancode: Annotated[bool, typer.Option(help="Reuse ScanCode's result on the same sample.")] = False,
        as_json: JsonOpt = False) -> None:
    """Scan real files with ascertain and ScanCode in one run; print agreement and speed."""
    from ascertain.cmi.validate import markdown, validate
    from ascertain.report.doc_sections import write_section

    if files < 1 or processes < 1:
        raise AscertainError("--files/--processes", "must be at least 1", "pass e.g. --files 2000 --processes 2")
    r = validate(files, scancode, work, processes, reuse_scancode)
    command = f"ascertain cmi validate --files {files} --processes {processes} --scancode {scancode}"
    if docs:
        write_section(docs, "cmi", markdown(r, command))
    if as_json:
        emit_json({k: v for k, v in r.items() if k != "disagreements"})
        return
    t = Table("measure", "both", "only ascertain", "only ScanCode", "precision", "recall", "agreement (F1)",
              title=f"{r['files_compared']:,} files, ScanCode {r['scancode_version']} as reference")
    for name, key in (("SPDX license ids", "licenses"), ("copyright holders", "holders")):
        a = r[key]
        t.add_row(name, str(a["both"]), str(a["only_ascertain"]), str(a["only_scancode"]),
                  f"{a['precision']:.3f}", f"{a['recall']:.3f}", f"{a['f1']:.3f}")
    out.print(t)
    out.print(f"ascertain {r['ascertain_files_per_s']} files/s, ScanCode {r['scancode_files_per_s']} files/s "
              f"({r['processes']} processes each): {r['speed_ratio']}x; disagreements in {work}/cmi-validation.json")


@app.command("validate")
@stage
def validate_copies(
        works: Annotated[int, typer.Option(help="Real files used as works.")] = 150,
        negatives: Annotated[int, typer.Option(help="Unrelated real files per work.")] = 20,
        prose_works: Annotated[int, typer.Option(help="Real prose texts (package descriptions) used as works.")] = 50,
        seed: Annotated[int, typer.Option(help="Seed of the sample and the transformations.")] = 7,
        work: Annotated[Path, typer.Option(help="Folder for the cases and raw results.")] = Path("copy-validation"),
        peers: Annotated[bool, typer.Option(help="Also run copydetect and Dolos on the same cases.")] = True,
        docs: Annotated[Path | None, typer.Option(help="Write the results into this Markdown file.")] = None,
        as_json: JsonOpt = False) -> None:
    """Labelled copies of real files: recall per transformation and length, precision, FPR, peers, speed."""
    from ascertain.report.doc_sections import write_section
    from ascertain.validation.paraphrase_cases import markdown as paraphrase_markdown
    from ascertain.validation.run import markdown, run_validation

    if works < 3 or negatives < 1 or prose_works < 3:
        raise AscertainError("--works/--prose-works/--negatives", "need at least 3 works and 1 negative per work",
                             "pass e.g. --works 150 --prose-works 50 --negatives 20")
    r = run_validation(work, works, negatives, seed, peers, prose_works,
                       on_progress=(lambda m: None) if as_json else (lambda m: err.print(m, highlight=False)))
    (work / "validation.json").write_text(json.dumps(r, indent=1))
    command = f"ascertain validate --works {works} --prose-works {prose_works} --negatives {negatives} --seed {seed}"
    if docs:
        write_section(docs, "copies", markdown(r, command + f" --docs {docs}"))
        write_section(docs, "paraphrase", paraphrase_markdown(r["paraphrase"]))
    if as_json:
        emit_json(r)
        return
    tools = [*r["levels"].values(), *(p for p in r["peers"] if "not_run" not in p), r["minhash"]]
    t = Table("measure", *(x["tool"] for x in tools),
              title=f"{r['positives']:,} copies, {r['negatives']:,} unrelated pairs; peers at the same FPR")
    for label, key in (("single, ≥ 50 tokens", "recall_single_50plus"),
                       ("combined, ≥ 50 tokens", "recall_combined_50plus")):
        t.add_row(f"recall {label}", *(f"{x[key]['rate']:.3f}" for x in tools))
    t.add_row("lowest recall of one transformation", *(f"{x['min_recall_single_50plus']:.3f}" for x in tools))
    t.add_row("precision", *(f"{x['precision']:.4f}" for x in tools))
    t.add_row("false-positive rate", *(f"{x['fpr']:.5f} ({x['fp']})" for x in tools))
    t.add_row("pairs/s", *(str(x["pairs_per_s"]) for x in tools))
    out.print(t)
    for k, v in r["targets"].items():
        out.print(f"{'met' if v else 'NOT met'}: {k}")
    pp = r["paraphrase"]
    if "not_run" in pp:
        out.print(f"paraphrase signal not run: {pp['not_run']}")
    else:
        out.print(f"paraphrase signal (separate): recall {pp['recall']:.3f} (95 % CI {pp['recall_ci95']}), "
                  f"FPR {pp['fpr']:.4f} (95 % CI {pp['fpr_ci95']}) at cosine ≥ {pp['threshold']}")


@app.command()
@stage
def demo(case: Annotated[Path, typer.Option(help="Where to build the demo case.")] = Path("demo-case"),
         serve: Annotated[bool, typer.Option("--serve", help="Then serve it in the web application, with one "
                                             "user per role.")] = False,
         port: Annotated[int, typer.Option(help="Port for --serve.")] = 8000,
         as_json: JsonOpt = False) -> None:
    """Build the bundled demo case, run every stage, and check every planted copy is found."""
    from ascertain.demo import run_demo

    result = run_demo(case, out if not as_json else None)
    if as_json:
        emit_json(result)
    if not result["ok"]:
        raise typer.Exit(1)
    if serve:
        from ascertain.cli_web import serve_demo

        serve_demo(case, port)


def _register_classes() -> None:
    from ascertain.cli_classes import register

    register(app, stage=stage, out=out, err=err, emit_json=emit_json, open_case=open_case, print_skips=print_skips)


_register_classes()


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


# commands kept in their own modules register themselves on `app` when imported
from ascertain import cli_report, cli_web  # noqa: E402, F401

if __name__ == "__main__":  # `python -m ascertain.cli`: run the imported module's app, which has every command
    from ascertain.cli import app as _app

    _app()
