"""validate: measured error rates of copy detection and independent creation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ascertain.cli.common import JsonOpt, app, emit_json, err, esc, out, stage
from ascertain.errors import AscertainError
from ascertain.report.tables import add_row, new_table


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
        short_works: Annotated[bool, typer.Option(
            "--short-works", help="Only the short-works set: same-task functions of different projects and their "
                                  "comment/layout, rename and reorder copies, decided without and with a reference "
                                  "(leave one out), beside copydetect; tasks split by --seed (11 is the documented "
                                  "split); --works: tasks sampled (0: all).")] = False,
        images: Annotated[bool, typer.Option(
            "--images", help="Only the image set: real freely licensed images (scikit-image's photographs, Debian's "
                             "openclipart-png) transformed as copies are, beside PDQ and pHash (--works: works per "
                             "source; --negatives: ordered pairs of distinct images, in thousands).")] = False,
        image_metadata: Annotated[bool, typer.Option(
            "--image-metadata", help="Only the image-metadata set: real names in real captions (Debian copyright "
                                     "files and package summaries, Python package metadata), split by source, and "
                                     "the 64-bit pHash threshold on real images.")] = False,
        watermark: Annotated[bool, typer.Option(
            "--watermark", help="Only the invisible-watermark set: real images watermarked as open image "
                                "generators do, after re-encoding, resizing, cropping; and unwatermarked ones.")
        ] = False,
        all_: Annotated[bool, typer.Option(
            "--all", help="Regenerate every figure the report cites (each registered validator), with the code "
                          "version and date, into --figures and --docs.")] = False,
        quick: Annotated[bool, typer.Option("--quick", help="With --all: small runs of the same code (CI); written "
                                                            "into --work unless --figures/--docs are given.")] = False,
        only: Annotated[str | None, typer.Option(help="With --all: these validators only, comma-separated "
                                                      "(the others keep their figures).")] = None,
        figures: Annotated[Path | None, typer.Option(help="With --all: the figures file to write (default: the "
                                                          "report's validation_figures.json).")] = None,
        scancode: Annotated[str | None, typer.Option(
            envvar="ASCERTAIN_SCANCODE", help="With --all: ScanCode Toolkit, for the CMI comparisons.")] = None,
        state: Annotated[bool, typer.Option(
            "--state", help="With --all: run nothing; say which figures are current and which files changed "
                            "since the others were measured.")] = False,
        processes: Annotated[int, typer.Option(help="Processes of ascertain's copy decisions and (with --all) "
                                                            "the CMI scans: same results, less time.")] = 1,
        as_json: JsonOpt = False) -> None:
    """Labelled copies of real files: recall per transformation and length, precision, FPR, peers, speed.

    `--all` regenerates every figure the report cites (copy detection, short works, CMI, book CMI, linkage,
    §412, probe, images) and ties each to the code that made it."""
    from ascertain.report.doc_sections import write_section

    if all_ and state:
        _show_state(figures, as_json)
        return
    if all_:
        _validate_all(work, quick, only, figures, docs, scancode, processes, seed, as_json)
        return
    if independent:
        _validate_independent(work, works, seed, docs, as_json)
        return
    if short_works:
        _validate_short_works(work, works, seed, docs, as_json)
        return
    if watermark:
        from ascertain.validation import watermark as wm

        _print_section(wm.run_watermark_validation(seed), "watermark", "Invisible watermark of image generators",
                       wm.markdown, f"ascertain validate --watermark --seed {seed}", docs, as_json)
        return
    if image_metadata:
        from ascertain.validation import image_metadata as im

        _print_section(im.run_image_metadata_validation(seed), "image_metadata",
                       "Image metadata: names in captions, pHash threshold", im.markdown,
                       f"ascertain validate --image-metadata --seed {seed}", docs, as_json)
        return
    if images:
        from ascertain.cli.images import validate_images

        validate_images(works, negatives * 1000, seed, docs, as_json)
        return
    from ascertain.validation.paraphrase_cases import markdown as paraphrase_markdown
    from ascertain.validation.run import markdown, run_validation

    if works < 3 or negatives < 1 or prose_works < 3:
        raise AscertainError("--works/--prose-works/--negatives", "need at least 3 works and 1 negative per work",
                             "pass e.g. --works 150 --prose-works 50 --negatives 20")
    r = run_validation(work, works, negatives, seed, peers, prose_works,
                       on_progress=(lambda m: None) if as_json else (lambda m: err.print(m, markup=False,
                                                                                         highlight=False)),
                       processes=processes)
    (work / "validation.json").write_text(json.dumps(r, indent=1))
    command = (f"ascertain validate --works {works} --prose-works {prose_works} --negatives {negatives} "
               f"--seed {seed} --processes {processes}")
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


def _validate_short_works(work: Path, tasks: int, seed: int, docs: Path | None, as_json: bool) -> None:
    from ascertain.report.doc_sections import write_section
    from ascertain.validation.short_works import MODES, check_targets, markdown, run_short_works

    work.mkdir(parents=True, exist_ok=True)
    r = run_short_works(work, seed=seed, max_tasks=tasks or None,
                        on_progress=(lambda m: None) if as_json else (lambda m: err.print(m, highlight=False)))
    (work / "short-works.json").write_text(json.dumps(r, indent=1))
    command = f"ascertain validate --short-works --works {tasks} --seed {seed}"
    if docs:
        write_section(docs, "short-works", markdown(r, f"{command} --docs {docs}"))
    if as_json:
        emit_json(r)
        return
    h = r["summary"]["held-out"]
    t = new_table("held-out", *MODES, title=f"{r['pairs']:,} independent pairs of {r['tasks']:,} tasks; copies",
                  numbers=MODES)
    add_row(t, "independent pairs called copied (FPR)", *(_rate(h[m]["fpr"]) for m in MODES))
    add_row(t, "comments/layout, rename, reorder copies found", *(_rate(h[m]["recall_target_copies"]) for m in MODES))
    for tr in h[MODES[0]]["recall"]:
        add_row(t, f"  {tr}", *(_rate(h[m]["recall"][tr]) for m in MODES))
    out.print(t)
    for k, ok in check_targets(r["summary"]).items():
        out.print(f"{k}: {'met' if ok else 'NOT met'}", markup=False, highlight=False)


def _rate(x: dict) -> str:
    return "-" if not x["n"] else f"{x['rate']:.3f} ({x['k']}/{x['n']})"


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


def _validate_all(work: Path, quick: bool, only: str | None, figures: Path | None, docs: Path | None,
                  scancode: str | None, processes: int, seed: int, as_json: bool) -> None:
    from ascertain.validation.registry import (
        FIGURES,
        PACKAGE,
        Context,
        load_figures,
        run_all,
        staleness,
        write_docs,
        write_figures,
    )

    if figures is None:
        figures = work / "validation_figures.json" if quick else FIGURES
    if docs is None and not quick:
        checkout_docs = PACKAGE.parents[1] / "docs" / "validation.md"
        docs = checkout_docs if checkout_docs.is_file() else work / "validation.md"
    elif docs is None:
        docs = work / "validation.md"
    previous = None
    if figures.is_file():
        try:
            previous = load_figures(figures)
        except (OSError, ValueError) as e:
            raise AscertainError(str(figures), f"cannot read the figures file ({e})",
                                 "remove it or pass another --figures") from e
    work.mkdir(parents=True, exist_ok=True)
    ctx = Context(work, quick, seed, scancode, processes,
                  (lambda m: None) if as_json else (lambda m: err.print(m, markup=False, highlight=False)))
    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    result = run_all(ctx, names, previous)
    write_figures(figures, result["figures"])
    write_docs(docs, result)
    stale = staleness(result["figures"])
    if as_json:
        emit_json({"figures": str(figures), "docs": str(docs), **result["figures"], "stale": stale,
                   "failures": result["failures"]})
        if result["failures"]:
            raise typer.Exit(1)
        return
    _print_state(result["figures"], stale)
    out.print(f"figures: {esc(figures)}; docs sections: {esc(docs)}", highlight=False)
    for name, why in result["failures"].items():
        err.print(f"[red]failed[/] {esc(name)}: {esc(why)}", highlight=False, soft_wrap=True)
    if result["failures"]:
        raise typer.Exit(1)


def _print_state(figures: dict, stale: dict[str, str]) -> None:
    """Each validator's figures: when measured, how long it ran, current or stale, and every file that changed."""
    from ascertain.validation.registry import stale_files

    code = figures.get("code") or {}
    t = new_table("validator", "rates", "measured", "run s", "state",
                  title=f"figures of ascertain {code.get('package', '?')} ({(code.get('commit') or 'no git')[:12]})",
                  numbers=("rates", "run s"))
    for name, e in figures["validators"].items():
        add_row(t, name, len(e["rates"]), e["date"], f"{e['seconds']:,.0f}" if e.get("seconds") else "-",
                ("stale" if stale[name].startswith("measured") else stale[name]) or "current")
    from ascertain.validation import entries  # noqa: F401  (registers the validators)
    from ascertain.validation.registry import REGISTRY

    for name in sorted(set(REGISTRY) - set(figures["validators"])):
        add_row(t, name, "-", "-", "-", "never measured")
    out.print(t)
    for name, e in figures["validators"].items():  # which files made a figure stale, every one
        if stale[name].startswith("measured"):
            changed = stale_files(name, e) if "files" in e else []
            out.print(f"{esc(name)}: stale, {esc(stale[name].split(';')[0])}" + (":" if changed else ""),
                      highlight=False)
            for c in changed:
                out.print(f"  {esc(c)}", highlight=False)


def _show_state(figures: Path | None, as_json: bool) -> None:
    from ascertain.validation.registry import FIGURES, load_figures, staleness

    path = figures or FIGURES
    try:
        data = load_figures(path)
    except (OSError, ValueError) as e:
        raise AscertainError(str(path), f"cannot read the figures file ({e})", "pass the --figures file that "
                             "`ascertain validate --all` wrote") from e
    stale = staleness(data)
    if as_json:
        emit_json({"figures": str(path), "stale": stale})
        return
    _print_state(data, stale)


def _print_section(r: dict, section: str, title: str, markdown, command: str, docs, as_json: bool) -> None:
    """A validator's figures: its docs/validation.md section (written with --docs), then JSON or Markdown."""
    from ascertain.report.doc_sections import write_section

    md = f"## {title}\n\n" + markdown(r, command)
    if docs:
        write_section(docs, section, md)
    if as_json:
        emit_json(r)
    else:
        out.print(md, markup=False, highlight=False)
