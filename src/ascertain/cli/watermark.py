"""watermark: the invisible watermark that open image generators' reference code embeds (imaging/watermark.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from ascertain.cli.common import JsonOpt, app, emit_json, err, esc, out, stage


@app.command("watermark")
@stage
def watermark(images: Annotated[list[str], typer.Argument(help="Image files (PNG, JPEG, WebP, ...).")],
              as_json: JsonOpt = False) -> None:
    """Check images for the DWT-DCT invisible watermark of Stable Diffusion 1.x/2.x, SDXL and FLUX reference code.

    Prints, per image, the bits agreeing with each known message and the chance of as many under random bits.
    Found: the image went through a pipeline that embedded that public message (not: which model made it).
    Not found proves nothing: common front ends do not embed it, and resizing, cropping, greyscale and the usual
    JPEG remove it (docs/validation.md, "Invisible watermark")."""
    from ascertain.errors import AscertainError
    from ascertain.imaging.watermark import check_watermark_file

    results = []
    for path in images:
        try:
            r = check_watermark_file(path)
        except (AscertainError, OSError) as e:
            r = {"error": str(e)}
        results.append({"image": path, **r})
    if as_json:
        emit_json(results)
        return
    for r in results:
        if "error" in r:
            err.print(f"[yellow]{esc(r['image'])}:[/] skipped: {esc(r['error'])}", highlight=False)
            continue
        best = min(r["messages"], key=lambda m: m["p_family"])
        verdict = (f"[bold red]watermark {esc(r['message'])}[/]" if r["present"] else "no known watermark")
        out.print(f"{esc(r['image'])}: {verdict}", highlight=False)
        out.print(f"  closest {esc(best['message'])}: {best['agree']} of {best['bits']} bits agree; p = "
                  f"{best['p_family']:.1e} under random bits ({len(r['messages'])} messages)", highlight=False)
