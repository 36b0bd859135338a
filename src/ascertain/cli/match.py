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
    esc,
    open_case,
    out,
    progress_bar,
    stage,
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

    check_engine(engine, processes, ray_address)

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
                                            engine=engine, processes=processes, ray_address=ray_address), tick)
    if as_json:
        emit_json(summary)
    else:
        out.print(f"{summary['evidence']} evidence records, {summary['copied']} copies; "
                  f"report: {esc(case_relative(case, summary['report']))}", highlight=False)
