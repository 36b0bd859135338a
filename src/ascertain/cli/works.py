"""works add / import: claimants' works."""

from __future__ import annotations

from typing import Annotated

import typer

from ascertain.cli.common import (
    FLAG,
    CaseArg,
    JsonOpt,
    emit_json,
    esc,
    open_case,
    out,
    print_skips,
    progress_bar,
    stage,
    works_app,
)
from ascertain.errors import AscertainError


@works_app.command("add")
@stage
def works_add(case: CaseArg, paths: Annotated[list[str], typer.Argument(help="One work per path.")],
              claimant: Annotated[str, typer.Option(help="Who claims the works.")],
              title: Annotated[str | None, typer.Option(help="Title (one path only).")] = None,
              rev: Annotated[str | None, typer.Option(help="Git revision for repositories.")] = None,
              images: Annotated[bool, typer.Option("--images", metavar=FLAG, help="Read only the images of a "
                                                   "folder that holds other files too (one work per image).")
                                ] = False,
              as_json: JsonOpt = False) -> None:
    """Add works: each PATH (file, folder, archive or git repository) is one work. An image file is one image
    work; a folder of images (JPEG, PNG, WebP, TIFF, GIF) is one image work per image."""
    from ascertain.works import WorksReport, add_work

    if title and len(paths) > 1:
        raise AscertainError("--title", "names one work but several paths were given",
                             "add the works one at a time, or leave out --title")
    c = open_case(case)
    report = WorksReport()
    for p in paths:
        add_work(c, claimant, p, title, rev=rev, report=report, images=images)
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
        files = f"{a['files']} file{'' if a['files'] == 1 else 's'}"
        out.print(f"added work {a['work_id']}: {esc(a['claimant'])} / {esc(a['title'])} ({files})", highlight=False)
    for e in rep["existing"][:20]:
        out.print(f"already in the case: {esc(e)}", highlight=False)
    if len(rep["added"]) > 20 or len(rep["existing"]) > 20:
        out.print(f"{len(rep['added']):,} works added, {len(rep['existing']):,} already in the case")
    print_skips(rep["skipped"])
