"""`ascertain corpus provenance add` (the defendant's pipeline records, traced per copy in the report) and
`ascertain expert` (who prepared the report, for its Rule 26(a)(2)(B) section)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ascertain.cli.common import SETTINGS, CaseArg, JsonOpt, app, corpus_app, emit_json, esc, open_case, out, stage

provenance_app = typer.Typer(help="The defendant's data-pipeline records (filters, dedup, mixture, shards).",
                             no_args_is_help=True, **SETTINGS)
corpus_app.add_typer(provenance_app, name="provenance")


@provenance_app.command("add")
@stage
def provenance_add(case: CaseArg, source: Annotated[str, typer.Argument(help="The corpus source they describe.")],
                   records: Annotated[Path, typer.Argument(help="JSONL or CSV: document (or sha256), stage "
                                                           "(crawled|filter|dedup|mixture|shard), decision "
                                                           "(kept|dropped), name, reason, weight, times_seen.")],
                   as_json: JsonOpt = False) -> None:
    """Check a pipeline records file and keep it in the case; the report traces every copy of SOURCE through it
    (crawled → kept by the filters → in the training mixture, times seen)."""
    from ascertain.provenance import add

    r = add(open_case(case), source, records)
    if as_json:
        emit_json(r)
        return
    stages = ", ".join(f"{k} {v}" for k, v in r["stages"].items() if v)
    out.print(f"{esc(source)}: {r['rows']:,} pipeline records ({stages}) kept as {esc(r['file'])} "
              f"(sha256 {r['sha256'][:16]}…); the next report traces each copy through them", highlight=False)


@app.command("expert")
@stage
def expert(case: CaseArg, name: Annotated[str, typer.Option(help="The expert who prepares the report.")],
           role: Annotated[str, typer.Option(help="Their role, e.g. 'expert for the plaintiffs', "
                                                  "'court-appointed neutral'.")] = "",
           qualifications: Annotated[str, typer.Option(help="Qualifications and publications of the previous "
                                                            "10 years (Rule 26(a)(2)(B)(iv)).")] = "",
           cases: Annotated[str, typer.Option(help="Cases of the previous 4 years in which they testified "
                                                   "((v)).")] = "",
           compensation: Annotated[str, typer.Option(help="Compensation for the study and testimony ((vi)).")] = "",
           as_json: JsonOpt = False) -> None:
    """Name who prepares the case's reports (printed in the report's Rule 26(a)(2)(B) section)."""
    from ascertain.case import CONFIG
    from ascertain.report.judge import RULE26_EXPERT_ITEMS

    c = open_case(case)
    info = {"name": name.strip(), "role": role.strip()}
    for key, value in zip(RULE26_EXPERT_ITEMS, (qualifications, cases, compensation), strict=True):
        if value.strip():
            info[key] = value.strip()
    c.config["expert"] = info
    (c.root / CONFIG).write_text(json.dumps(c.config, indent=2) + "\n")
    c.store.audit("expert", info)
    if as_json:
        emit_json(info)
    else:
        out.print(f"reports of {esc(c.root)} are prepared by {esc(name)}" + (f", {esc(role)}" if role else ""),
                  highlight=False)
