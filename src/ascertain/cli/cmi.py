"""cmi scan / validate: copyright management information."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ascertain.cli.common import JsonOpt, cmi_app, emit_json, err, esc, out, progress_bar, stage
from ascertain.errors import AscertainError
from ascertain.report.tables import add_row, new_table


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
        real: Annotated[bool, typer.Option(help="Instead: holder precision/recall (with intervals) on hand-labelled "
                                                "real notices of many projects, split by project.")] = False,
        split: Annotated[str, typer.Option(help="With --hard: held or tune; with --real: test or tune.")] = "held",
        as_json: JsonOpt = False) -> None:
    """Scan real files with ascertain and ScanCode in one run; print agreement and speed."""
    from ascertain.cmi.validate import markdown, validate
    from ascertain.report.doc_sections import write_section

    if files < 1 or processes < 1:
        raise AscertainError("--files/--processes", "must be at least 1", "pass e.g. --files 2000 --processes 2")
    if real:
        _cmi_validate_real(scancode, processes, work, docs, reuse_scancode, "test" if split == "held" else split,
                           as_json)
        return
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


def _cmi_validate_real(scancode: str, processes: int, work: Path, docs: Path | None, reuse_scancode: bool,
                       split: str, as_json: bool) -> None:
    from ascertain.cmi.validate import markdown_real, validate_real
    from ascertain.report.doc_sections import write_section

    r = validate_real(None if scancode == "none" else scancode, work, processes, split, reuse_scancode)
    command = f"ascertain cmi validate --real --split {split} --processes {processes} --scancode {scancode}"
    if docs:
        write_section(docs, "cmi-real", markdown_real(r, command))
    if as_json:
        emit_json({k: ({kk: vv for kk, vv in v.items() if kk != "misses"} if isinstance(v, dict) else v)
                   for k, v in r.items()})
        return
    t = new_table("tool", "precision", "recall", "F1", "F1 95 % CI",
                  title=f"copyright holders, {r['files']} real files of {r['projects']} projects ({split} split)",
                  numbers=("precision", "recall", "F1"))
    for tool in ("ascertain", "ScanCode"):
        if tool in r:
            a = r[tool]["holders"]
            add_row(t, tool, f"{a['precision']:.3f}", f"{a['recall']:.3f}", f"{a['f1']:.3f}",
                    f"{a['ci95']['f1'][0]:.3f}–{a['ci95']['f1'][1]:.3f}")
    out.print(t)
    out.print(f"differences listed in {work}/cmi-real-{split}.json", markup=False)
