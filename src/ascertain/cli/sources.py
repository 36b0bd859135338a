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

MaxMembers = Annotated[int | None, typer.Option(
    help="Members read from one archive or shard (default: 250,000 for images, 2,000,000 for text); past it, a "
         "recorded skip names the archive.")]


def _add_source(case: Path, name: str, kind: str, paths: list[str], text_field: str,
                language: str | None, rev: str | None, key_file: str | None, no_text: bool,
                max_doc_bytes: int, as_json: bool, level: str = "auto", acquired: str | None = None,
                meta_fields: str | None = None, engine: str = "local", processes: int | None = None,
                max_markup_tags: int = 2_000_000, images: bool = False, ray_address: str | None = None,
                local_features: bool = False, max_archive_members: int | None = None) -> None:
    from ascertain.readers import ReadOptions
    from ascertain.sources import add_source
    from ascertain.sources_images import looks_like_images

    c = open_case(case)
    if images or (not key_file and looks_like_images(paths)):
        _add_image_source(c, case, name, kind, paths, max_doc_bytes, acquired, key_file, as_json, engine, processes,
                          ray_address, local_features, max_archive_members)
        return
    opts = ReadOptions(text_field=text_field, language=language, rev=rev, max_doc_bytes=max_doc_bytes,
                       max_markup_tags=max_markup_tags,
                       max_archive_members=max_archive_members or ReadOptions.max_archive_members,
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


def _add_image_source(c, case: Path, name: str, kind: str, paths: list[str], max_doc_bytes: int,
                      acquired: str | None, key_file: str | None, as_json: bool, engine: str = "local",
                      processes: int | None = None, ray_address: str | None = None,
                      local_features: bool = False, max_archive_members: int | None = None) -> None:
    """Images: every input an image, a folder or archive of images, or a webdataset shard (or --images)."""
    from ascertain.readers import ReadOptions
    from ascertain.sources_images import IMAGE_ARCHIVE_MEMBERS, add_image_source

    if key_file:
        raise AscertainError("--key-file", "keyed indexes hold text fingerprints; images are not keyed",
                             "leave out --key-file for an image source")
    with progress_bar(f"{kind} {name}") as bar:
        task = bar.add_task(f"indexing images of {esc(name)}", total=None, unit="images", mb="")
        state = {"bytes": 0}

        def tick(n: int, nbytes: int) -> None:
            state["bytes"] += nbytes
            bar.update(task, advance=n, mb=f"{state['bytes'] / 1e6:,.1f} MB")

        summary = add_image_source(c, name, kind, paths, ReadOptions(max_doc_bytes=max_doc_bytes), tick, acquired,
                                   engine, processes, ray_address, local_features,
                                   max_archive_members or IMAGE_ARCHIVE_MEMBERS)
    if as_json:
        emit_json(summary)
    else:
        out.print(f"{esc(name)}: {summary['documents']:,} images ({summary['distinct_images']:,} distinct) in "
                  f"{summary['shards']} shard(s)", highlight=False)
        if summary["skipped"]:
            reasons = ", ".join(f"{v} {esc(k)}" for k, v in summary["skip_reasons"].items())
            out.print(f"[yellow]{summary['skipped']} skipped:[/] {reasons} (details: `ascertain show "
                      f"{esc(case)} --skipped`)", highlight=False)
    if not summary["documents"]:
        err.print(f"[bold red]error:[/] {esc(name)}: no image indexed"
                  + (f" (all {summary['skipped']} items read were skipped)" if summary["skipped"] else "")
                  + f".\n[bold]fix:[/] see `ascertain show {esc(case)} --skipped`; remove the empty source with "
                  f"`ascertain sources remove {esc(case)} {esc(name)}` and add it again",
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
               images: Annotated[bool, typer.Option(
                   "--images", metavar=FLAG, help="Read the inputs' images (files, folders, zip/tar, webdataset "
                                                  "shards); chosen by itself when every input is one of those.")
                                 ] = False,
               local_features: Annotated[bool, typer.Option(
                   "--local-features", metavar=FLAG,
                   help="Images: also index each image's strongest local features (~10 KB an image), so match "
                        "finds pastes, rotations and crops in a corpus too large to verify every pair.")] = False,
               kind: Annotated[str, typer.Option(
                   help="auto, text, or image-metadata: Parquet of image URLs, captions and hashes (LAION, "
                        "DataComp, COYO layouts; no image is fetched). auto: image-metadata when the Parquet "
                        "has a known layout with URL and image size or hash.")] = "auto",
               columns: Annotated[str | None, typer.Option(
                   help="image-metadata column mapping, e.g. url=URL,caption=TEXT,sha256=hash,phash=image_phash "
                        "(roles: url, caption, width, height, sha256, phash, key).")] = None,
               max_archive_members: MaxMembers = None,
               as_json: JsonOpt = False) -> None:
    """Fingerprint a training corpus (resumes an interrupted run of the same command); an image corpus
    (image files, folders, archives, img2dataset webdataset shards) is indexed by its image codes, and a
    metadata-only image dataset (Parquet of URLs, captions, hashes) is recorded for matching as it is."""
    if kind not in ("auto", "text", "image-metadata"):
        raise AscertainError("--kind", f"{kind!r} is not auto, text or image-metadata", "pass one of those")
    if kind == "image-metadata" or (kind == "auto" and not images and (columns or _image_metadata(paths))):
        _add_image_metadata(case, name, paths, columns, acquired, as_json)
        return
    if max_markup_tags < 1:
        raise AscertainError("--max-markup-tags", "must be at least 1", "give a positive number of tags")
    _add_source(case, name, "corpus", paths, text_field, language, rev, key_file, no_text, max_doc_bytes,
                as_json, level, acquired, meta_fields, engine, processes, max_markup_tags, images, ray_address,
                local_features, max_archive_members)


def _image_metadata(paths: list[str]) -> bool:
    from ascertain.image_metadata_sources import looks_like_image_metadata

    return looks_like_image_metadata(paths)


def _add_image_metadata(case: Path, name: str, paths: list[str], columns: str | None, acquired: str | None,
                        as_json: bool) -> None:
    from ascertain.image_metadata_sources import add_image_metadata_source
    from ascertain.readers.image_metadata import parse_mapping
    from ascertain.sources import NAME_RE, _acquired

    if not NAME_RE.match(name):
        raise AscertainError(name, "is not a valid source name", "use letters, digits, '.', '_' and '-'")
    s = add_image_metadata_source(open_case(case), name, paths, parse_mapping(columns), _acquired(acquired))
    if as_json:
        emit_json(s)
    else:
        out.print(f"{esc(name)}: image metadata, {s['rows']:,} rows in {s['files']} Parquet file(s) (layout "
                  f"{esc(', '.join(s['layouts']))}; columns {esc(', '.join(s['columns']))}); nothing fetched, "
                  "matched by `ascertain match`", highlight=False)


@outputs_app.command("add")
@stage
def outputs_add(case: CaseArg, name: Annotated[str, typer.Argument(help="Name of the output set.")],
                files: Annotated[list[str], typer.Argument(help="JSONL of outputs, or generated images")],
                text_field: TextField = "completion", max_doc_bytes: MaxDoc = 32 << 20,
                level: LevelOpt = "layout",
                images: Annotated[bool, typer.Option("--images", metavar=FLAG, help="Generated images (files, "
                                                     "folders, zip/tar, webdataset shards whose .txt is the "
                                                     "prompt); chosen by itself for such inputs.")] = False,
                max_archive_members: MaxMembers = None,
                as_json: JsonOpt = False) -> None:
    """Add model outputs (one JSON object per line), or generated images."""
    _add_source(case, name, "outputs", files, text_field, None, None, None, False, max_doc_bytes, as_json,
                level, images=images, max_archive_members=max_archive_members)


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


KIND_NAME = {"corpus": "corpus", "outputs": "output set", "image-metadata": "image-metadata corpus"}


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
