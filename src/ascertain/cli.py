"""The `ascertain` command: one subcommand per stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from ascertain import __version__
from ascertain.errors import AscertainError
from ascertain.report.tables import add_row, new_table

# -h as well as --help everywhere; help in Markdown mode, so square brackets ("[paraphrase]") are kept
# (in typer's default "rich" mode they are markup and vanish)
SETTINGS: dict = {"context_settings": {"help_option_names": ["-h", "--help"]}, "rich_markup_mode": "markdown"}
app = typer.Typer(help="Measured, reproducible evidence for generative-AI copyright cases.",
                  no_args_is_help=True, add_completion=False, **SETTINGS)
works_app = typer.Typer(help="Claimants' works.", no_args_is_help=True, **SETTINGS)
corpus_app = typer.Typer(help="Training corpora.", no_args_is_help=True, **SETTINGS)
outputs_app = typer.Typer(help="Model outputs.", no_args_is_help=True, **SETTINGS)
sources_app = typer.Typer(help="The case's indexed corpora and output sets: list, remove.", no_args_is_help=True,
                          **SETTINGS)
app.add_typer(works_app, name="works")
app.add_typer(corpus_app, name="corpus")
app.add_typer(outputs_app, name="outputs")
app.add_typer(sources_app, name="sources")
cmi_app = typer.Typer(help="Copyright management information: notices, authors, licenses.", no_args_is_help=True,
                      **SETTINGS)
app.add_typer(cmi_app, name="cmi")

K_HELP = "k: tokens per k-gram (a token is a word, number or punctuation mark)."
W_HELP = "w: winnowing window, in k-grams; every shared run of w+k-1 tokens or more is found."
LEGEND = ("cov.: share of the work's tokens found in the copy; own: the same share of its own expression "
          "(notices, licenses and spans common in the corpus left out); run: longest verbatim run, in tokens "
          "(words, numbers, punctuation marks); frag.: separate copied passages.")

out = Console()
err = Console(stderr=True)

CaseArg = Annotated[Path, typer.Argument(help="The case folder.")]
FLAG = ""  # a flag takes no value: no "<bool>" beside it in help
JsonOpt = Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON instead of tables.")]


def esc(value: object) -> str:
    """User data (titles, claimants, paths, notices) inside a markup string: printed as written."""
    return escape(str(value))


def fail(e: AscertainError) -> None:
    err.print(f"[bold red]error:[/] {esc(e.what)}: {esc(e.problem)}.\n[bold]fix:[/] {esc(e.fix)}", highlight=False,
              soft_wrap=True)
    raise typer.Exit(2)


def narrow() -> bool:
    return out.width < 120


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
        err.print(f"[yellow]skipped[/] {esc(s['locator'])}: {esc(s['reason'])}. Fix: {esc(s['fix'])}",
                  highlight=False, soft_wrap=True)
    if len(report_skips) > 20:
        err.print(f"[yellow]... and {len(report_skips) - 20} more skipped (see `ascertain show`)[/]")


def _version(value: bool) -> None:
    if value:
        out.print(__version__, markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """Measured, reproducible evidence for generative-AI copyright cases."""


@app.command()
@stage
def init(case: CaseArg,
         store: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store "
                                                   "(default: SQLite inside the case folder).")] = None,
         k: Annotated[int, typer.Option(help=K_HELP)] = 8,
         w: Annotated[int, typer.Option(help=W_HELP)] = 13) -> None:
    """Create a case folder: config, store and index."""
    from ascertain.case import Case

    c = Case.init(case, store, k, w)
    c.store.audit("init", {"store": c.config["store_url"], "k": k, "w": w})
    out.print(f"case created at {esc(case)}\n"
              f"  k = {k}: tokens per k-gram (a token is a word, number or punctuation mark)\n"
              f"  w = {w}: winnowing window in k-grams; every shared run of {w + k - 1}+ tokens is found",
              highlight=False)


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
        out.print(f"added work {a['work_id']}: {esc(a['claimant'])} / {esc(a['title'])} ({a['files']} files)",
                  highlight=False)
    for e in rep["existing"][:20]:
        out.print(f"already in the case: {esc(e)}", highlight=False)
    if len(rep["added"]) > 20 or len(rep["existing"]) > 20:
        out.print(f"{len(rep['added']):,} works added, {len(rep['existing']):,} already in the case")
    print_skips(rep["skipped"])


def _add_source(case: Path, name: str, kind: str, paths: list[str], text_field: str,
                language: str | None, rev: str | None, key_file: str | None, no_text: bool,
                max_doc_bytes: int, as_json: bool, level: str = "layout", acquired: str | None = None,
                meta_fields: str | None = None, engine: str = "local", processes: int | None = None) -> None:
    from ascertain.readers import ReadOptions
    from ascertain.sources import add_source

    c = open_case(case)
    opts = ReadOptions(text_field=text_field, language=language, rev=rev, max_doc_bytes=max_doc_bytes,
                       meta_fields=tuple(f.strip() for f in (meta_fields or "").split(",") if f.strip()))
    with progress_bar(f"{kind} {name}") as bar:
        task = bar.add_task(f"indexing {esc(name)}", total=None, unit="documents", mb="")
        state = {"bytes": 0}

        def tick(n: int, nbytes: int) -> None:
            state["bytes"] += nbytes
            bar.update(task, advance=n, mb=f"{state['bytes'] / 1e6:,.1f} MB")

        summary = add_source(c, name, kind, paths, opts, key_file, not no_text, on_progress=tick, level=level,
                             acquired=acquired, engine=engine, processes=processes)
    warnings = level_warnings(level, summary.get("languages", {}))
    if as_json:
        emit_json({**summary, "warnings": warnings})
    else:
        out.print(f"{esc(name)}: {summary['documents']:,} documents, {summary['tokens']:,} tokens, "
                  f"{summary['fingerprints']:,} fingerprints in {summary['shards']} shard(s)"
                  + (" (keyed)" if summary["keyed"] else ""), highlight=False)
        if summary["skipped"]:
            reasons = ", ".join(f"{v} {esc(k)}" for k, v in summary["skip_reasons"].items())
            out.print(f"[yellow]{summary['skipped']} skipped:[/] {reasons} (details: `ascertain show "
                      f"{esc(case)} --skipped`)", highlight=False)
        for w in warnings:
            err.print(f"[yellow]warning:[/] {esc(w)}", highlight=False)
    if not summary["documents"]:
        top = sorted(summary["skip_reasons"].items(), key=lambda kv: -kv[1])[:3]
        why = (f"all {summary['skipped']} items read were skipped ({', '.join(f'{v} {k}' for k, v in top)})"
               if summary["skipped"] else "the inputs hold no text documents")
        err.print(f"[bold red]error:[/] {esc(name)}: no documents indexed: {esc(why)}.\n[bold]fix:[/] see "
                  f"`ascertain show {esc(case)} --skipped`; remove the empty source with `ascertain sources "
                  f"remove {esc(case)} {esc(name)}` and add it again"
                  + (" (is --text-field the key that holds the text?)" if kind == "outputs" else ""),
                  highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def level_warnings(level: str, languages: dict[str, int]) -> list[str]:
    """Where the normalization level cannot do what it says for some documents (text/levels.py)."""
    total, prose = sum(languages.values()), languages.get("prose", 0)
    if not prose:
        return []
    if level == "identifiers":
        return [f"level identifiers applies to code: {prose:,} of {total:,} documents are prose (no programming "
                "language known); in them every word becomes one placeholder, so copies of prose are not "
                "found there; add prose at level layout or prose, or name the language with --language"]
    if level == "comments":
        return [f"level comments drops code comments: {prose:,} of {total:,} documents are prose, indexed as at "
                "level layout"]
    return []


TextField = Annotated[str, typer.Option(help="JSONL key / Parquet column with the text.")]
KeyFile = Annotated[str | None, typer.Option(help="HMAC key file: build a keyed, text-less index.")]
MaxDoc = Annotated[int, typer.Option(help="Largest document read, in bytes.")]
LevelOpt = Annotated[str, typer.Option(help="Normalization level: exact, layout, comments, identifiers (code "
                                            "only), prose, book (books: hyphenation, page furniture), auto "
                                            "(book for prose, layout for code).")]
MinTokens = Annotated[int | None, typer.Option(
    "--min-tokens", help="A copy reproduces at least this many of the work's own tokens (outside notices and "
                         "common spans) in runs of 40+ tokens [default: 50] ...")]
MinCoverage = Annotated[float | None, typer.Option(
    "--min-coverage", help="... or at least this share (0 to 1) of the work's own expression [default: 0.8].")]
EngineOpt = Annotated[str, typer.Option(help="Where the stages run: local (this machine) or ray (a local Ray "
                                             "instance, or the cluster at RAY_ADDRESS; needs the scale extra).")]
ProcessesOpt = Annotated[int | None, typer.Option(help="Worker processes (local) or CPUs of the local Ray instance "
                                                       "[default: 1 local, every core for ray]. Same output.")]
CopiedOnly = Annotated[bool, typer.Option("--copied-only", metavar=FLAG, help="Only records decided `copied`.")]


@corpus_app.command("add")
@stage
def corpus_add(case: CaseArg, name: Annotated[str, typer.Argument(help="Name of the corpus.")],
               paths: Annotated[list[str], typer.Argument(help="Files, folders, archives, JSONL, Parquet.")],
               text_field: TextField = "text",
               language: Annotated[str | None, typer.Option(help="Language of records.")] = None,
               rev: Annotated[str | None, typer.Option(help="Git revision for repositories.")] = None,
               key_file: KeyFile = None,
               no_text: Annotated[bool, typer.Option("--no-text", metavar=FLAG,
                                                     help="Keep fingerprints only, not texts.")] = False,
               max_doc_bytes: MaxDoc = 32 << 20, level: LevelOpt = "layout",
               acquired: Annotated[str | None, typer.Option(help="Date the corpus was acquired (YYYY-MM-DD): "
                                                            "when infringement began, for §412.")] = None,
               meta_fields: Annotated[str | None, typer.Option(help="Record fields with bibliographic metadata "
                                                               "(e.g. title,author,isbn): works in the corpus "
                                                               "by identifier.")] = None,
               engine: EngineOpt = "local", processes: ProcessesOpt = None,
               as_json: JsonOpt = False) -> None:
    """Fingerprint a training corpus (resumes an interrupted run of the same command)."""
    _add_source(case, name, "corpus", paths, text_field, language, rev, key_file, no_text, max_doc_bytes,
                as_json, level, acquired, meta_fields, engine, processes)


@outputs_app.command("add")
@stage
def outputs_add(case: CaseArg, name: Annotated[str, typer.Argument(help="Name of the output set.")],
                files: Annotated[list[str], typer.Argument(help="JSONL of outputs")],
                text_field: TextField = "completion", max_doc_bytes: MaxDoc = 32 << 20,
                level: LevelOpt = "layout", as_json: JsonOpt = False) -> None:
    """Add model outputs (one JSON object per line)."""
    _add_source(case, name, "outputs", files, text_field, None, None, None, False, max_doc_bytes, as_json,
                level)


@sources_app.command("list")
@stage
def sources_list(case: CaseArg, as_json: JsonOpt = False) -> None:
    """List the case's corpora and output sets: status, documents, level, inputs."""
    from ascertain.sources import list_sources

    rows = list_sources(open_case(case))
    if as_json:
        emit_json(rows)
        return
    t = new_table("source", "kind", "status", "docs", "level", "inputs", title="sources", numbers=("docs",))
    for r in rows:
        add_row(t, r["name"] + (" (keyed)" if r["keyed"] else ""), r["kind"], r["status"], f"{r['documents']:,}",
                r["level"], ", ".join(short(i) for i in r["inputs"]))
    out.print(t)


KIND_NAME = {"corpus": "corpus", "outputs": "output set"}


def interactive() -> bool:
    return sys.stdin.isatty()


@sources_app.command("remove")
@stage
def sources_remove(case: CaseArg, name: Annotated[str, typer.Argument(help="The source to remove.")],
                   yes: Annotated[bool, typer.Option("--yes", "-y", metavar=FLAG,
                                                     help="Do not ask for confirmation.")] = False,
                   as_json: JsonOpt = False) -> None:
    """Remove a source: its index, its evidence and its skip records (the audit log keeps the removal)."""
    from ascertain.sources import list_sources, remove_source

    c = open_case(case)
    found = next((r for r in list_sources(c) if r["name"] == name), None)
    if found is None:
        raise AscertainError(name, "no such source in this case", f"see `ascertain sources list {case}`")
    if not yes:
        if not interactive():
            raise AscertainError(name, "removing a source needs confirmation, and the input is not a terminal",
                                 "pass --yes to remove it")
        if not typer.confirm(f"remove {KIND_NAME.get(found['kind'], found['kind'])} {name} "
                             f"({found['documents']:,} documents) and its evidence?"):
            raise typer.Exit(1)
    r = remove_source(c, name)
    if as_json:
        emit_json(r)
        return
    out.print(f"removed {esc(KIND_NAME.get(r['kind'], r['kind']))} {esc(name)}: {r['documents']:,} documents, "
              f"{r['evidence']:,} "
              "evidence records; reports written before keep theirs until the next `ascertain match`",
              highlight=False)


@app.command()
@stage
def match(case: CaseArg,
          source: Annotated[list[str] | None, typer.Option(help="Only these sources.")] = None,
          key_file: Annotated[str | None, typer.Option(help="HMAC key file a keyed index was built with.")] = None,
          min_tokens: MinTokens = None, min_coverage: MinCoverage = None,
          copied_only: CopiedOnly = False,
          allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Let this run replace a source's stored "
                                                    "evidence with none.")] = False,
          work: Annotated[int | None, typer.Option(help="Only this work (its id, see `ascertain show CASE`): a "
                                                        "lookup that reads only the index entries of its "
                                                        "fingerprints; report reports/evidence-work-ID.json, "
                                                        "the other works' evidence is kept.")] = None,
          engine: EngineOpt = "local", processes: ProcessesOpt = None,
          as_json: JsonOpt = False) -> None:
    """Match every work against every corpus and output set; store the evidence.

    A pair is `copied` when the work's own tokens reproduced in runs of 40+ tokens reach --min-tokens, or its
    own coverage reaches --min-coverage; both thresholds are recorded in the evidence manifest.
    --engine / --processes run the per-document measurement in parallel (a --work lookup stays in this
    process); the evidence is the same bytes whichever engine ran it.
    """
    from ascertain.engine import check_engine
    from ascertain.match.measure import Thresholds
    from ascertain.match.run import MatchOptions, run_match

    check_engine(engine, processes)

    th = Thresholds()
    if min_tokens is not None or min_coverage is not None:
        if (min_tokens is not None and min_tokens < 1) or (min_coverage is not None and not 0 < min_coverage <= 1):
            raise AscertainError("--min-tokens/--min-coverage", "must be at least 1 / between 0 and 1",
                                 "pass e.g. --min-tokens 50 --min-coverage 0.8")
        th = Thresholds(**{**th.as_dict(), **({"min_copy_tokens": min_tokens} if min_tokens is not None else {}),
                           **({"min_copy_coverage": min_coverage} if min_coverage is not None else {})})
    c = open_case(case)
    with progress_bar("match") as bar:
        tasks: dict[str, int] = {}

        def tick(src: str, done: int, total: int) -> None:
            if src not in tasks:
                tasks[src] = bar.add_task(f"matching {esc(src)}", total=total, unit="documents", mb="")
            bar.update(tasks[src], completed=done)

        summary = run_match(c, MatchOptions(sources=source or None, key_file=key_file, thresholds=th,
                                            copied_only=copied_only, allow_empty=allow_empty, work=work,
                                            engine=engine, processes=processes), tick)
    if as_json:
        emit_json(summary)
    else:
        out.print(f"{summary['evidence']} evidence records, {summary['copied']} copies; "
                  f"report: {esc(case_relative(case, summary['report']))}", highlight=False)


def case_relative(case: Path, path: str) -> str:
    """`reports/evidence.json in CASE`: a path inside the case, named so it reads the same from any folder."""
    import os

    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(case))
    return path if rel.startswith("..") else f"{rel} in {case}"


@app.command()
@stage
def compare(original: Annotated[str | None, typer.Argument(help="The original work file.")] = None,
            copy: Annotated[str | None, typer.Argument(help="The suspected copy.")] = None,
            batch: Annotated[str | None, typer.Option(help='JSONL of {"original": .., "copy": ..}.')] = None,
            level: Annotated[str, typer.Option(help="auto (of layout, comments, identifiers / prose: the level "
                                                    "that explains the copy best), exact, layout, comments, "
                                                    "identifiers or prose.")] = "auto",
            paraphrase: Annotated[bool, typer.Option(
                "--paraphrase", metavar=FLAG, help="Also report reworded prose passages (a separate signal; needs the "
                                     "[paraphrase] extra).")] = False,
            max_differences: Annotated[int, typer.Option(
                help="Difference lines printed (the rest are counted; --json lists up to 400).")] = 20,
            text_field: Annotated[str, typer.Option(help="JSONL key / Parquet column with the text, for "
                                                         "records named as file.jsonl:LINE or "
                                                         "data.parquet#rowN.")] = "text",
            reference: Annotated[str | None, typer.Option(
                help="Folder or JSONL of independent works in the same language: the chance baseline; a pair "
                     "independent works also reach is inconclusive, not copied.")] = None,
            as_json: JsonOpt = False) -> None:
    """Compare one original with one copy (or a batch of pairs); exit 0 whatever the verdict.

    Either side may be a file or a record inside a container: corpus.jsonl:18, data.parquet#row7,
    archive.zip!member/path.py, repo@REV:path."""
    from ascertain.match.compare import Comparer
    from ascertain.match.reference import Reference
    from ascertain.text.levels import LEVELS

    if level not in (*LEVELS, "auto"):
        raise AscertainError("--level", f"unknown level {level!r}",
                             f"choose auto or one of {', '.join(LEVELS)}")
    if max_differences < 0:
        raise AscertainError("--max-differences", f"must be 0 or more, not {max_differences}",
                             "pass e.g. --max-differences 20")
    cmp = Comparer(level=level, paraphrase=paraphrase, text_field=text_field,
                   reference=Reference.load(reference) if reference else None)
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
    verdict = {"copied": "[bold red]COPIED[/]", "inconclusive": "[bold yellow]INCONCLUSIVE[/]"}.get(
        r["decision"], "[green]not copied[/]")
    same = ("identical at token level" + ("" if r["byte_identical"] else ", not byte for byte")
            if r["identical"] else "not identical")
    out.print(f"{verdict} (level {esc(r['level'])})", highlight=False)
    line(f"original: {original}")
    line(f"copy:     {copy}")
    line(f"coverage {r['coverage']:.3f}, own coverage {r['own_coverage']:.3f}, longest verbatim run "
         f"{r['longest_run_tokens']} tokens, {r['fragments']} fragment(s); {same}")
    line(f"decision: {r['decision']} ({r['decision_reason']})")
    cb = r.get("chance_baseline")
    line("chance baseline: " + (
        f"{cb['reference_size']} independent works of {cb['reference']}: at most own coverage "
        f"{cb['own_coverage']:.3f}, longest run {cb['longest_run_tokens']} tokens ({cb['reached_by']} reach this "
        f"pair's own coverage); the work's own tokens not shared with them: {cb['work_distinctive_tokens']}, "
        f"reproduced in the copy: {cb['copy_distinctive_tokens']}" if cb else
        "unknown (no reference population; pass --reference with independent works of the same task)"))
    if r.get("levels_tried"):
        line("levels tried: " + "; ".join(
            f"{t['level']} skipped ({t['skipped']})" if "skipped" in t else
            f"{t['level']} {'copied' if t['copied'] else 'not copied'}, own coverage {t['own_coverage']:.3f}"
            + (" (chosen)" if t["chosen"] else "") for t in r["levels_tried"]))
    for sp in r["spans"][:max_differences]:
        tag = " (notice/license)" if sp["cmi_tokens"] * 2 > sp["tokens"] else ""
        pages = f" (pages {sp['copy_pages'][0]}-{sp['copy_pages'][1]})" if "copy_pages" in sp else ""
        line(f"original lines {sp['original_lines'][0]}-{sp['original_lines'][1]} = copy lines "
             f"{sp['copy_lines'][0]}-{sp['copy_lines'][1]}{pages}: {sp['tokens']} tokens{tag}", 4)
    if len(r["spans"]) > max_differences:
        line(f"... {len(r['spans']) - max_differences} more copied passages (--json lists all)", 4)
    print_differences(r, max_differences)
    if "paraphrase" in r:
        pp = r["paraphrase"]
        line(f"paraphrase signal (separate from the verbatim figures; {pp['model']}, cosine ≥ "
             f"{pp['threshold']}): {pp['passages_found']} of {pp['work_passages']} passages of the original", 0)
        for p in pp["passages"]:
            line(f"original lines {p['original_lines'][0]}-{p['original_lines'][1]} ~ copy lines "
                 f"{p['copy_lines'][0]}-{p['copy_lines'][1]}: similarity {p['similarity']:.3f}")
    print_cmi(r["cmi"], max_differences)
    err.print(f"[dim]{LEGEND}[/]", highlight=False)


def line(text: str, indent: int = 2) -> None:
    """One line of plain text (user data as written) whose wrapped continuation keeps the indent."""
    out.print(Padding(Text(text), (0, 0, 0, indent), expand=False), highlight=False)


def print_cmi(cmi: dict, limit: int = 20) -> None:
    """The CMI status, and for each changed item the notice before and after, each removed item as it was."""
    counts = "".join(f"; {k} {len(cmi[k])}" for k in ("retained", "altered", "removed") if cmi.get(k))
    note = (f" (not a copy; the original carries {len(cmi['original'])} CMI item(s))"
            if cmi["status"] == "not_applicable" else "")
    line(f"CMI: {cmi['status']}{counts}{note}", 0)
    lines = [f"{a['original']['kind']} changed ({', '.join(a.get('changed', []))}):\n"
             f"before: {a['original']['value']!r} (original line {a['original']['lines'][0]})\n"
             f"after:  {a['copy']['value']!r} (copy line {a['copy']['lines'][0]})" for a in cmi.get("altered", [])]
    lines += [f"{i['kind']} removed: {i['value']!r} (original line {i['lines'][0]})" for i in cmi.get("removed", [])]
    for text in lines[:limit]:
        line(text)
    if len(lines) > limit:
        line(f"... {len(lines) - limit} more CMI items (--json lists all)")


def print_differences(r: dict, limit: int = 20) -> None:
    if r.get("edit_similarity") is None:
        return
    counts = ", ".join(f"{k} {v}" for k, v in r.get("difference_counts", {}).items()) or "none"
    line(f"edit similarity {r['edit_similarity']:.3f}; differences: {counts}", 0)
    if r.get("rename_map"):
        consistent = "consistent" if r.get("rename_consistent") else "not one-to-one"
        names = list(r["rename_map"].items())
        line(f"rename map ({consistent}): " + ", ".join(f"{a} → {b}" for a, b in names[:limit])
             + (f", ... {len(names) - limit} more" if len(names) > limit else ""))
    listed = r.get("differences", [])
    for d in listed[:limit]:
        line(f"{d['kind']}: original lines {d['original_lines'][0]}-{d['original_lines'][1]}, copy lines "
             f"{d['copy_lines'][0]}-{d['copy_lines'][1]}")
        if d.get("original") or d.get("copy"):
            line(f"{d['original']!r} → {d['copy']!r}", 4)
    rest = max(0, len(listed) - limit) + int(r.get("differences_not_listed") or 0)
    if rest:
        line(f"... {rest} more differences (--json lists all up to 400)")


ShowTokens = Annotated[int | None, typer.Option(
    "--min-tokens", help="Only evidence with at least this many of the work's own tokens copied.")]
ShowCoverage = Annotated[float | None, typer.Option(
    "--min-coverage", help="Only evidence with at least this own coverage (0 to 1).")]


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
         as_json: JsonOpt = False) -> None:
    """Show the case's sources and works, or one work's evidence."""
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
        return
    data = work_evidence(c, work, flt) if work else case_summary(c, flt)
    if as_json:
        emit_json(data)
        return
    if work:
        show_work(data)
        return
    t = new_table("source", "kind", "status", "docs", "skipped", "keyed", title="sources",
                  numbers=("docs", "skipped"))
    for s in data["sources"]:
        add_row(t, s["name"], s["kind"], s["status"], f"{s['documents']:,}", s["skipped"], s["keyed"])
    out.print(t)
    t = new_table("id", "claimant", "title", "files", "copies", "copied in", "best own", "run", title="works",
                  numbers=("id", "files", "copies", "best own", "run"))
    for w in data["works"]:
        add_row(t, w["id"], w["claimant"], w["title"], w["files"], w["copies"], ", ".join(w["copied_in"]),
                f"{w['best_own_coverage']:.3f}", w["longest_run_tokens"])
    out.print(t)
    print_probe_evidence(data["probe"])
    err.print("[dim]best own: highest own coverage (share of the work's own expression, notices, licenses and "
              "common spans left out) of a copy; run: longest verbatim run of a copy, in tokens.[/]",
              highlight=False)


def show_work(data: dict) -> None:
    out.print(Text(f"{data['claimant']} / {data['title']} ({len(data['files'])} files)", style="bold"))
    slim = narrow()
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
                add_row(t, copied, e["work_file"].rsplit("/", 1)[-1], *figures, cmi, short(e["document"]))
            else:
                add_row(t, copied, e["source"], short(e["document"]), short(e["work_file"]), *figures,
                        {True: "yes", False: "no", None: "-"}[e["identical"]], "-" if near is None else f"{near:.2f}",
                        cmi)
        out.print(t)
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
    counts = {"files": 0, "with CMI": 0, "copyright notices": 0, "licenses": 0, "authors": 0, "skipped": 0}
    with progress_bar("cmi scan") as bar:  # on stderr, and only on a terminal
        task = bar.add_task("scanning", total=None, unit="files", mb="")
        for r in scan_paths(paths, processes or None, max_bytes):
            bar.advance(task)
            _scan_result(r, counts, as_json)
    if not as_json:  # the summary goes to stderr: stdout stays the findings alone when piped
        err.print("cmi scan: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()), highlight=False)


def _scan_result(r: dict, counts: dict, as_json: bool) -> None:
    counts["files"] += 1
    if "skipped" in r:
        counts["skipped"] += 1
    else:
        counts["with CMI"] += bool(r["copyrights"] or r["licenses"] or r["authors"])
        counts["copyright notices"] += len(r["copyrights"])
        counts["licenses"] += len(r["licenses"])
        counts["authors"] += len(r["authors"])
    if as_json:
        sys.stdout.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
        return
    if "skipped" in r:
        err.print(f"[yellow]skipped[/] {esc(r['path'])}: {esc(r['skipped'])}. Fix: {esc(r['fix'])}",
                  highlight=False, soft_wrap=True)
        return
    if not (r["copyrights"] or r["licenses"] or r["authors"]):
        return
    out.print(Text(r["path"], style="bold"))
    for c in r["copyrights"]:
        out.print(f"  {_lines(c):>9}  copyright  {esc(c['statement'])}", highlight=False)
    for a in r["authors"]:
        out.print(f"  {_lines(a):>9}  author     {esc(a['author'])}  [dim]({esc(a['rule'])})[/]", highlight=False)
    for lic in r["licenses"]:
        out.print(f"  {_lines(lic):>9}  license    {esc(lic['spdx'])}  "
                  f"[dim]({esc(lic['rule'])}, score {lic['score']})[/]", highlight=False)
    for note in r["notes"]:
        err.print(f"[yellow]note[/] {esc(note)}", highlight=False, soft_wrap=True)


def _lines(item: dict) -> str:
    return f"{item['start_line']}-{item['end_line']}"


@cmi_app.command("validate")
@stage
def cmi_validate(
        files: Annotated[int, typer.Option(help="How many real files to sample.")] = 2000,
        scancode: Annotated[str, typer.Option(help="The scancode executable.")] = "scancode",
        processes: Annotated[int, typer.Option(help="Processes for each tool.")] = 2,
        work: Annotated[Path, typer.Option(help="Folder for the sample and raw results.")] = Path("cmi-validation"),
        docs: Annotated[Path | None, typer.Option(help="Write the results into this Markdown file.")] = None,
        reuse_scancode: Annotated[bool, typer.Option(help="Reuse ScanCode's result on the same sample.")] = False,
        hard: Annotated[bool, typer.Option(help="Instead: holder precision/recall on the labelled hard set "
                                                "(DEP-5 fields in real layouts, hand-labelled headers and pages).")
                        ] = False,
        split: Annotated[str, typer.Option(help="With --hard: the split to report (held or tune).")] = "held",
        as_json: JsonOpt = False) -> None:
    """Scan real files with ascertain and ScanCode in one run; print agreement and speed."""
    from ascertain.cmi.validate import markdown, validate
    from ascertain.report.doc_sections import write_section

    if files < 1 or processes < 1:
        raise AscertainError("--files/--processes", "must be at least 1", "pass e.g. --files 2000 --processes 2")
    if hard:
        _cmi_validate_hard(scancode, processes, work, docs, reuse_scancode, split, as_json)
        return
    r = validate(files, scancode, work, processes, reuse_scancode)
    command = f"ascertain cmi validate --files {files} --processes {processes} --scancode {scancode}"
    if docs:
        write_section(docs, "cmi", markdown(r, command))
    if as_json:
        emit_json({k: v for k, v in r.items() if k != "disagreements"})
        return
    t = new_table("measure", "both", "only ascertain", "only ScanCode", "precision", "recall", "F1",
                  title=f"{r['files_compared']:,} files, ScanCode {r['scancode_version']} as reference; F1: "
                        "agreement", numbers=("precision", "recall", "F1"))
    for name, key in (("SPDX license ids", "licenses"), ("copyright holders", "holders")):
        a = r[key]
        t.add_row(name, str(a["both"]), str(a["only_ascertain"]), str(a["only_scancode"]),
                  f"{a['precision']:.3f}", f"{a['recall']:.3f}", f"{a['f1']:.3f}")
    out.print(t)
    out.print(f"ascertain {r['ascertain_files_per_s']} files/s, ScanCode {r['scancode_files_per_s']} files/s "
              f"({r['processes']} processes each): {r['speed_ratio']}x; disagreements in "
              f"{esc(work)}/cmi-validation.json", highlight=False)


def _cmi_validate_hard(scancode: str, processes: int, work: Path, docs: Path | None, reuse_scancode: bool,
                       split: str, as_json: bool) -> None:
    from ascertain.cmi.validate import markdown_hard, validate_hard
    from ascertain.report.doc_sections import write_section

    if split not in ("held", "tune"):
        raise AscertainError("--split", f"must be held or tune, not {split!r}", "pass --split held")
    r = validate_hard(None if scancode == "none" else scancode, work, processes, split, reuse_scancode)
    command = f"ascertain cmi validate --hard --split {split} --processes {processes} --scancode {scancode}"
    if docs:
        write_section(docs, "cmi-hard", markdown_hard(r, command))
    if as_json:
        emit_json({k: ({kk: vv for kk, vv in v.items() if kk != "misses"} if isinstance(v, dict) else v)
                   for k, v in r.items()})
        return
    t = new_table("tool", "found & labelled", "found, not labelled", "missed", "precision", "recall", "F1",
                  title=f"copyright holders on {r['cases']:,} hard cases ({split} split)",
                  numbers=("found & labelled", "found, not labelled", "missed", "precision", "recall", "F1"))
    for tool in ("ascertain", "ScanCode"):
        if tool in r:
            a = r[tool]["holders"]
            add_row(t, tool, str(a["both"]), str(a["only_ascertain"]), str(a["only_scancode"]),
                    f"{a['precision']:.3f}", f"{a['recall']:.3f}", f"{a['f1']:.3f}")
    out.print(t)
    out.print(f"differences listed in {work}/cmi-hard-{split}.json", markup=False)


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
        independent: Annotated[bool, typer.Option(
            "--independent", help="Only the independent-creation set: same-task functions of different projects "
                                  "against copies, with and without a reference (--works: non-trivial works).")
        ] = False,
        as_json: JsonOpt = False) -> None:
    """Labelled copies of real files: recall per transformation and length, precision, FPR, peers, speed."""
    from ascertain.report.doc_sections import write_section

    if independent:
        _validate_independent(work, works, seed, docs, as_json)
        return
    from ascertain.validation.paraphrase_cases import markdown as paraphrase_markdown
    from ascertain.validation.run import markdown, run_validation

    if works < 3 or negatives < 1 or prose_works < 3:
        raise AscertainError("--works/--prose-works/--negatives", "need at least 3 works and 1 negative per work",
                             "pass e.g. --works 150 --prose-works 50 --negatives 20")
    r = run_validation(work, works, negatives, seed, peers, prose_works,
                       on_progress=(lambda m: None) if as_json else (lambda m: err.print(m, markup=False,
                                                                                         highlight=False)))
    (work / "validation.json").write_text(json.dumps(r, indent=1))
    command = f"ascertain validate --works {works} --prose-works {prose_works} --negatives {negatives} --seed {seed}"
    if docs:
        write_section(docs, "copies", markdown(r, command + f" --docs {docs}"))
        write_section(docs, "paraphrase", paraphrase_markdown(r["paraphrase"]))
    if as_json:
        emit_json(r)
        return
    tools = [*r["levels"].values(), *(p for p in r["peers"] if "not_run" not in p), r["minhash"]]
    # one row per tool: fits 80 columns whatever the number of tools
    t = new_table("tool", "recall", "combined", "lowest", "precision", "FPR", "FP", "pairs/s",
                  title=f"{r['positives']:,} copies, {r['negatives']:,} unrelated pairs; peers at the same FPR",
                  numbers=("recall", "combined", "lowest", "precision", "FPR", "FP", "pairs/s"))
    for x in tools:
        add_row(t, x["tool"], f"{x['recall_single_50plus']['rate']:.3f}", f"{x['recall_combined_50plus']['rate']:.3f}",
                f"{x['min_recall_single_50plus']:.3f}", f"{x['precision']:.4f}", f"{x['fpr']:.5f}", x["fp"],
                x["pairs_per_s"])
    out.print(t)
    err.print("[dim]recall: of single transformations, works of 50+ tokens; combined: of combined "
              "transformations; lowest: recall of the hardest single transformation; FP: false positives.[/]",
              highlight=False)
    for k, v in r["targets"].items():
        out.print(f"{'met' if v else 'NOT met'}: {k}")
    for x in r.get("skipped_cases", []):
        err.print(f"[yellow]case not built[/] {escape(x['file'])} ({escape(x['transformation'])}): "
                  f"{escape(x['reason'])}", highlight=False, soft_wrap=True)
    pp = r["paraphrase"]
    if "not_run" in pp:
        out.print(f"paraphrase signal not run: {esc(pp['not_run'])}")
    else:
        out.print(f"paraphrase signal (separate): recall {pp['recall']:.3f} (95 % CI {pp['recall_ci95']}), "
                  f"FPR {pp['fpr']:.4f} (95 % CI {pp['fpr_ci95']}) at cosine ≥ {pp['threshold']}")


def _validate_independent(work: Path, works: int, seed: int, docs: Path | None, as_json: bool) -> None:
    from ascertain.report.doc_sections import write_section
    from ascertain.validation.independent_run import CONDITIONS, markdown, run_independent

    work.mkdir(parents=True, exist_ok=True)
    r = run_independent(work, seed=seed, works=works,
                        on_progress=(lambda m: None) if as_json else (lambda m: err.print(m, highlight=False)))
    (work / "independent.json").write_text(json.dumps(r, indent=1))
    if docs:
        write_section(docs, "independent", markdown(r, f"ascertain validate --independent --works {works} "
                                                       f"--seed {seed} --docs {docs}"))
    if as_json:
        emit_json(r)
        return
    sm = r["summary"]
    t = new_table("held-out", *CONDITIONS, title=f"{r['pairs']:,} independent pairs of {r['tasks']:,} tasks",
                  numbers=tuple(CONDITIONS))
    held_out = sm["independent"]
    add_row(t, "independent pairs called copied", *(f"{held_out[c]['held-out']['rate']:.3f}" for c in CONDITIONS))
    for tr, v in sm["short_copies"].items():
        add_row(t, f"short copies found: {tr}", *(f"{v[c]['rate']:.3f}" if c in v else "-" for c in CONDITIONS))
    for tr, v in sm["work_copies"].items():
        add_row(t, f"work copies found: {tr}", *(f"{v[c]['rate']:.3f}" if c in v else "-" for c in CONDITIONS))
    out.print(t)


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
    out.print(__version__, markup=False, highlight=False)


# commands kept in their own modules register themselves on `app` when imported
from ascertain import cli_exchange, cli_probe, cli_report, cli_web  # noqa: E402, F401

if __name__ == "__main__":  # `python -m ascertain.cli`: run the imported module's app, which has every command
    from ascertain.cli import app as _app

    _app()
