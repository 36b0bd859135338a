"""match: the evidence stage."""

from __future__ import annotations

from typing import Annotated

import typer

from ascertain.cli.common import (
    CaseArg,
    CopiedOnly,
    EngineOpt,
    JsonOpt,
    MinCoverage,
    MinTokens,
    ProcessesOpt,
    RayAddressOpt,
    app,
    case_relative,
    emit_json,
    err,
    esc,
    open_case,
    out,
    progress_bar,
    stage,
    stdout_to_stderr,
)
from ascertain.errors import AscertainError


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
          engine: EngineOpt = "local", processes: ProcessesOpt = None, ray_address: RayAddressOpt = None,
          image_radius: Annotated[int, typer.Option(help="Images: PDQ bits within which a corpus image is a "
                                                    "candidate of a work's query variants (an exact scan; "
                                                    "compare.py decides).")] = 48,
          image_exhaustive_pairs: Annotated[int, typer.Option(
              help="Images: verify every work x image pair of a source up to this many (finds pastes and crops "
                   "the PDQ scan cannot; ~50-160 ms a pair).")] = 1_000,
          learned_model: Annotated[str | None, typer.Option(
              help="Images: add the learned-descriptor tier from this model file (TorchScript, ONNX or a torch "
                   "state file; never downloaded; recorded with its SHA-256): its candidates are verified, and a "
                   "pair at or above --learned-threshold the other tiers reject is recorded as tier `learned`.")
          ] = None,
          learned_threshold: Annotated[float, typer.Option(help="Images: cosine at or above which the learned "
                                                                "descriptor calls two images similar.")] = 0.9,
          learned_side: Annotated[int, typer.Option(help="Images: input side of the learned model, in pixels.")
                                  ] = 224,
          exact_names: Annotated[bool, typer.Option(
              "--exact-names", help="Metadata-only image datasets: names in captions as written or transliterated "
                                    "only, no typos (with many claimants, typo hits are mostly other people).")
          ] = False,
          as_json: JsonOpt = False) -> None:
    """Match every work against every corpus and output set; store the evidence.

    A pair is `copied` when the work's own tokens reproduced in runs of 40+ tokens reach --min-tokens, or its
    own coverage reaches --min-coverage; both thresholds are recorded in the evidence manifest.
    --engine / --processes run the per-document measurement in parallel (a --work lookup stays in this
    process); the evidence is the same bytes whichever engine ran it.
    """
    # with --json nothing but the JSON reaches standard output (progress, a library's or a Ray worker's prints go
    # to standard error): tests/test_match_json_stdout.py
    def body() -> dict | None:
        from ascertain.engine import check_engine
        from ascertain.match.measure import Thresholds
        from ascertain.match.run import MatchOptions, run_match

        check_engine(engine, processes, ray_address)

        th = Thresholds()
        if min_tokens is not None or min_coverage is not None:
            if (min_tokens is not None and min_tokens < 1) or (min_coverage is not None and not 0 < min_coverage <= 1):
                raise AscertainError("--min-tokens/--min-coverage", "must be at least 1 / between 0 and 1",
                                     "pass e.g. --min-tokens 50 --min-coverage 0.8")
            th = Thresholds(**{**th.as_dict(), **({"min_copy_tokens": min_tokens} if min_tokens is not None else {}),
                               **({"min_copy_coverage": min_coverage} if min_coverage is not None else {})})
        learned = None
        if learned_model:  # loaded (and refused) before anything runs
            from ascertain.imaging.learned import LearnedDescriptor

            learned = LearnedDescriptor(learned_model, side=learned_side, threshold=learned_threshold)
        c = open_case(case)
        text_sources, image_metadata = _source_kinds(c, source)
        summary_img = None
        if image_metadata and work is None:
            summary_img = _match_image_metadata(c, image_metadata, as_json, not exact_names)
        from ascertain.match.images import ImageMatchOptions, image_inventory, run_image_match

        image_files, image_sources = image_inventory(c)
        text_files = _text_work_files(c)
        image_summary = None
        if image_files and image_sources:
            with progress_bar("match images") as bar:
                itasks: dict[str, int] = {}

                def itick(src: str, done: int, total: int) -> None:
                    if src not in itasks:
                        itasks[src] = bar.add_task(f"matching images of {esc(src)}", total=total, unit="images", mb="")
                    bar.update(itasks[src], completed=done)

                if not 0 <= image_radius <= 256 or image_exhaustive_pairs < 0:
                    raise AscertainError("--image-radius/--image-exhaustive-pairs", "out of range",
                                         "give 0-256 bits and a number of pairs of 0 or more")
                image_summary = run_image_match(c, ImageMatchOptions(
                    sources=source or None, work=work, engine=engine, processes=processes, ray_address=ray_address,
                    candidate_radius=image_radius, exhaustive_pairs=image_exhaustive_pairs, allow_empty=allow_empty,
                    learned=learned),
                    itick)
        if image_metadata and not text_sources and not image_files:
            if as_json:
                return {**({"images": image_summary} if image_summary else {}),
                        **({"image_metadata": summary_img} if summary_img else {})}
            if image_summary is not None:
                _print_image_summary(image_summary, False, case)
            return None
        with progress_bar("match") as bar:
            tasks: dict[str, int] = {}

            def tick(src: str, done: int, total: int) -> None:
                if src not in tasks:
                    tasks[src] = bar.add_task(f"matching {esc(src)}", total=total, unit="documents", mb="")
                bar.update(tasks[src], completed=done)

            summary = run_match(c, MatchOptions(sources=(source or None) if not image_metadata else text_sources,
                                                key_file=key_file, thresholds=th,
                                                copied_only=copied_only, allow_empty=allow_empty, work=work,
                                                engine=engine, processes=processes, ray_address=ray_address), tick)
        if as_json:
            return {**summary, **({"images": image_summary} if image_summary else {}),
                    **({"image_metadata": summary_img} if summary_img else {})}
        if text_files or not image_summary:
            out.print(f"{summary['evidence']} evidence records, {summary['copied']} copies; "
                      f"report: {esc(case_relative(case, summary['report']))}", highlight=False)
        if image_summary:
            _print_image_summary(image_summary, False, case)
        return None

    with stdout_to_stderr(as_json):
        payload = body()
    if payload is not None:
        emit_json(payload)


def _text_work_files(c) -> int:
    from sqlalchemy import func, select

    from ascertain.store import schema
    from ascertain.works_images import IMAGE_LANGUAGE

    with c.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.work_files).where(
            schema.work_files.c.language != IMAGE_LANGUAGE)).scalar_one()


def _print_image_summary(s: dict, as_json: bool, case) -> None:
    if as_json:
        emit_json({"images": s})
        return
    out.print(f"images: {s['evidence']} evidence records, {s['copied_documents']} documents holding a copy",
              highlight=False)
    for name, t in s["per_source"].items():
        if t.get("unreadable"):
            err.print(f"[yellow]warning:[/] {esc(name)}: {t['unreadable']} candidate image(s) could not be read "
                      "again from the source's inputs (moved or changed since indexing): not compared",
                      highlight=False)
    for name, t in s["per_source"].items():
        if "watermarks" in t:
            from ascertain.report.show_images import watermark_words

            out.print(f"  {esc(name)}: {watermark_words(t['watermarks'])}", highlight=False)
    for name, r in s["cmi_rates"].items():
        if r["with_work_cmi"]:
            out.print(f"  {esc(name)}: image CMI removed in {r['removed']} of {r['with_work_cmi']} copies of works "
                      f"that carried it ({r['removed_share']:.0%}), altered in {r['altered']}, kept in "
                      f"{r['retained']}", highlight=False)


def _source_kinds(c, names: list[str] | None) -> tuple[list[str], list[str]]:
    """The named (or all) sources split into those with an index and metadata-only image datasets."""
    from sqlalchemy import select

    from ascertain.store import schema

    with c.store.engine.connect() as conn:
        rows = conn.execute(select(schema.sources.c.name, schema.sources.c.kind)).all()
    if names:
        unknown = set(names) - {r.name for r in rows}
        if unknown:
            raise AscertainError(", ".join(sorted(unknown)), "no such source in this case",
                                 "see `ascertain show CASE` for the source names")
        rows = [r for r in rows if r.name in names]
    return (sorted(r.name for r in rows if r.kind != "image-metadata"),
            sorted(r.name for r in rows if r.kind == "image-metadata"))


def _match_image_metadata(c, names: list[str], as_json: bool, fuzzy: bool = True) -> dict:
    from ascertain.match.image_metadata import run_image_metadata_match

    with progress_bar("match image metadata") as bar:
        task = bar.add_task("matching image metadata", total=None, unit="rows", mb="")
        s = run_image_metadata_match(c, names, fuzzy, progress=lambda _src, n: bar.update(task, advance=n))
    if as_json:
        return s
    kinds = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in s["by_kind"].items()) or "none"
    out.print(f"image metadata: {s['rows']:,} rows, {s['evidence']:,} evidence records ({kinds}); report: "
              f"{esc(case_relative(c.root, s['report']))}", highlight=False)
    return s
