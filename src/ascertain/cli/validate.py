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
