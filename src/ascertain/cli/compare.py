"""compare: one pair, or a batch of pairs, with no case needed."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ascertain.cli.common import (
    FLAG,
    LEGEND,
    JsonOpt,
    app,
    emit_json,
    err,
    esc,
    line,
    out,
    print_cmi,
    print_differences,
    stage,
)
from ascertain.errors import AscertainError


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
            learned_model: Annotated[str | None, typer.Option(
                help="Images: also compare with a learned descriptor from this model file (TorchScript, ONNX or "
                     "a torch state file; never downloaded; recorded with its SHA-256).")] = None,
            learned_threshold: Annotated[float, typer.Option(help="Cosine at or above which the learned "
                                                                  "descriptor calls two images similar.")] = 0.9,
            learned_side: Annotated[int, typer.Option(help="Input side of the learned model, in pixels.")] = 224,
            as_json: JsonOpt = False) -> None:
    """Compare one original with one copy (or a batch of pairs); exit 0 whatever the verdict.

    Two images (JPEG, PNG, WebP, TIFF, GIF, BMP) are compared as images: same file, same pixels, near-duplicate
    (PDQ), or a verified region (crop, pad, rotation, paste), with the image CMI kept, altered or removed.
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
    from ascertain.imaging.decode import is_image_name

    if is_image_name(original) and is_image_name(copy):  # two images: compared as images (imaging/)
        from ascertain.cli.images import print_image_comparison

        learned = None
        if learned_model:
            from ascertain.imaging.learned import LearnedDescriptor

            learned = LearnedDescriptor(learned_model, side=learned_side, threshold=learned_threshold)
        print_image_comparison(original, copy, as_json, learned)
        return
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
    bar = r.get("decision_basis", {}).get("size_bar", {})
    line("chance baseline: " + (
        f"{cb['reference_size']} independent works of {cb['reference']}: p = {cb['p_value']:.4f} "
        f"({cb['null_pairs_reaching']} of {cb['null_pairs']} independent pairs reach the pair's score "
        f"{cb['score']:.3f}; copied needs p ≤ {cb['alpha']}); at most own coverage "
        f"{cb['own_coverage']:.3f}, longest run {cb['longest_run_tokens']} tokens ({cb['reached_by']} reach this "
        f"pair's own coverage); the work's own tokens not shared with them: {cb['work_distinctive_tokens']}, "
        f"reproduced in the copy: {cb['copy_distinctive_tokens']}" if cb else
        "unknown (no reference population; pass --reference with independent works of the same task)"
        + (f"; size bar for works up to {bar['own_tokens_up_to']} own tokens: own coverage ≥ {bar['least_score']} "
           f"or ≥ {bar['least_own_tokens_in_evidence_spans']} own tokens in spans of 40+"
           if bar.get("least_score") is not None else "")))
    if r.get("levels_tried"):
        line("levels tried: " + "; ".join(
            f"{t['level']} skipped ({t['skipped']})" if "skipped" in t else
            f"{t['level']} {t.get('decision', 'copied' if t['copied'] else 'not_copied').replace('_', ' ')}, "
            f"own coverage {t['own_coverage']:.3f}"
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
