"""corpus add, outputs add, sources list / remove: what the case indexes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ascertain.cli.common import (
    FLAG,
    CaseArg,
    EngineOpt,
    JsonOpt,
    KeyFile,
    LevelOpt,
    MaxDoc,
    ProcessesOpt,
    RayAddressOpt,
    TextField,
    corpus_app,
    emit_json,
    err,
    esc,
    open_case,
    out,
    outputs_app,
    progress_bar,
    short,
    sources_app,
    stage,
)
from ascertain.errors import AscertainError
from ascertain.report.tables import add_row, new_table


def _add_source(case: Path, name: str, kind: str, paths: list[str], text_field: str,
                language: str | None, rev: str | None, key_file: str | None, no_text: bool,
                max_doc_bytes: int, as_json: bool, level: str = "auto", acquired: str | None = None,
                meta_fields: str | None = None, engine: str = "local", processes: int | None = None,
                max_markup_tags: int = 2_000_000, ray_address: str | None = None) -> None:
    from ascertain.readers import ReadOptions
    from ascertain.sources import add_source

    c = open_case(case)
    opts = ReadOptions(text_field=text_field, language=language, rev=rev, max_doc_bytes=max_doc_bytes,
                       max_markup_tags=max_markup_tags,
                       meta_fields=tuple(f.strip() for f in (meta_fields or "").split(",") if f.strip()))
    with progress_bar(f"{kind} {name}") as bar:
        task = bar.add_task(f"indexing {esc(name)}", total=None, unit="documents", mb="")
        state = {"bytes": 0}

        def tick(n: int, nbytes: int) -> None:
            state["bytes"] += nbytes
            bar.update(task, advance=n, mb=f"{state['bytes'] / 1e6:,.1f} MB")

        summary = add_source(c, name, kind, paths, opts, key_file, not no_text, on_progress=tick, level=level,
                             acquired=acquired, engine=engine, processes=processes, ray_address=ray_address)
    warnings = level_warnings(level, summary.get("languages", {}))
    if as_json:
        emit_json({**summary, "warnings": warnings})
    else:
        out.print(f"{esc(name)}: {summary['documents']:,} documents, {summary['tokens']:,} tokens, "
                  f"{summary['fingerprints']:,} fingerprints in {summary['shards']} shard(s)"
                  + (" (keyed)" if summary["keyed"] else ""), highlight=False)
        if summary.get("levels"):
            out.print("indexed at level " + ", ".join(f"{esc(k)}: {v:,}" for k, v in summary["levels"].items())
                      + (f" (level {esc(level)})" if level == "auto" else ""), highlight=False)
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
               max_doc_bytes: MaxDoc = 32 << 20, level: LevelOpt = "auto",
               acquired: Annotated[str | None, typer.Option(help="Date the corpus was acquired (YYYY-MM-DD): "
                                                            "when infringement began, for §412.")] = None,
               meta_fields: Annotated[str | None, typer.Option(help="Record fields with bibliographic metadata "
                                                               "(e.g. title,author,isbn): works in the corpus "
                                                               "by identifier.")] = None,
               engine: EngineOpt = "local", processes: ProcessesOpt = None, ray_address: RayAddressOpt = None,
               max_markup_tags: Annotated[int, typer.Option(
                   help="Work budget of one HTML/EPUB document, in tags: past it the document is a recorded "
                        "skip (markup is read in time linear in its size).")] = 2_000_000,
               as_json: JsonOpt = False) -> None:
    """Fingerprint a training corpus (resumes an interrupted run of the same command)."""
    if max_markup_tags < 1:
        raise AscertainError("--max-markup-tags", "must be at least 1", "give a positive number of tags")
    _add_source(case, name, "corpus", paths, text_field, language, rev, key_file, no_text, max_doc_bytes,
                as_json, level, acquired, meta_fields, engine, processes, max_markup_tags, ray_address)


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
