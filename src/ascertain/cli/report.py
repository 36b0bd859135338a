"""Commands that put evidence before a court: report, verify, audit (registered on the main app in cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ascertain.cli.common import CaseArg, JsonOpt, app, emit_json, open_case, out, stage


@app.command()
@stage
def report(case: CaseArg,
           out_dir: Annotated[Path | None, typer.Option("--out", help="Folder to write (default: "
                                                        "CASE/reports/report, or report-redacted).")] = None,
           tier: Annotated[str, typer.Option(help="full, or redacted: no corpus or output text at all "
                                                  "(spans, hashes and figures only).")] = "full",
           paper: Annotated[str, typer.Option(help="a4 or letter.")] = "a4",
           validation: Annotated[Path | None, typer.Option(
               help="validation.json of this case's own `ascertain validate` run (default: the shipped "
                    "figures).")] = None,
           exhibit_pdfs: Annotated[bool, typer.Option("--exhibit-pdfs", help="Also write one PDF per "
                                                      "exhibit.")] = False,
           inline_exhibits: Annotated[int, typer.Option(help="Print the exhibits inside report.html/pdf when "
                                                        "there are at most this many.")] = 25,
           allow_unreproducible_pdf: Annotated[bool, typer.Option(
               "--allow-unreproducible-pdf", help="Write the report even when HarfBuzz-Subset is missing (its "
                                                  "PDF then differs from other machines' in the font bytes).")
                                               ] = False,
           sign_key: Annotated[Path | None, typer.Option(
               "--sign-key", help="Your signing key (`ascertain key expert new`): signs manifest.json and prints "
                                  "the key's fingerprint in the report.")] = None,
           as_json: JsonOpt = False) -> None:
    """Write report.html, report.pdf, exhibits/, exhibits.csv/.parquet and manifest.json (and signature.json)."""
    from ascertain.errors import AscertainError
    from ascertain.report.build import build_report
    from ascertain.report.pdf_toolchain import INSTALL, missing_pdf_libraries
    from ascertain.report.signing import grouped

    missing = missing_pdf_libraries()
    if missing and not allow_unreproducible_pdf:
        raise AscertainError("report", f"{missing} is not installed: report.pdf would not be byte-reproducible "
                             "(WeasyPrint would subset its fonts differently)", INSTALL)
    if missing:
        out.print(f"warning: {missing} is missing; report.pdf is reproducible only on machines like this one",
                  highlight=False, markup=False)
    import time

    from ascertain.cli.common import err

    t0 = time.perf_counter()
    if err.is_terminal:  # a report takes a minute on a large case: say so while it is written
        with err.status("writing the report (HTML, exhibits, PDF)…"):
            r = build_report(open_case(case), out_dir, tier, paper, validation, exhibit_pdfs, inline_exhibits,
                             sign_key)
    else:
        r = build_report(open_case(case), out_dir, tier, paper, validation, exhibit_pdfs, inline_exhibits, sign_key)
    seconds = time.perf_counter() - t0
    if as_json:
        emit_json(r)
        return
    signed = (f"signed by {escape(r['signed_by'])}, key fingerprint\n{grouped(r['fingerprint'], '  ')}"
              if "signed_by" in r else "not signed (pass --sign-key)")
    out.print(f"report ({r['tier']}): {r['exhibits']} exhibits, {r['files']} files in {escape(r['out'])} "
              f"({seconds:.0f} s)\n"
              f"{signed}\ncheck it with `ascertain verify {escape(r['out'])}`", highlight=False)

@app.command()
@stage
def verify(report_dir: Annotated[Path, typer.Argument(help="The folder `ascertain report` wrote.")],
           case: Annotated[Path | None, typer.Option(help="The case folder, if it moved since the "
                                                     "report.")] = None,
           key_file: Annotated[str | None, typer.Option(help="Key of keyed sources, for the re-run.")] = None,
           signer_key: Annotated[Path | None, typer.Option(
               "--signer-key", help="The expert's public key (KEY.pub): the report must be signed with it.")] = None,
           fingerprint: Annotated[str | None, typer.Option(
               help="Or the expert's key fingerprint, as they gave it.")] = None,
           rerun: Annotated[bool, typer.Option(help="Re-derive: rebuild the indexes from the inputs, re-run the "
                                                    "match and write the report again, and compare.")] = True,
           reindex: Annotated[bool, typer.Option(help="Rebuild plain sources' indexes from their inputs (off: "
                                                      "take the indexes as hashed, e.g. without the corpora).")
                              ] = True,
           as_json: JsonOpt = False) -> None:
    """Check the signature, re-hash everything in the report's manifest, check the audit chain, and re-derive
    the report from its inputs (exit 1 on any difference)."""
    from ascertain.report.signing import grouped
    from ascertain.report.verify import verify as run_verify

    r = run_verify(report_dir, case, key_file, rerun, signer_key, fingerprint, reindex)
    if as_json:
        emit_json(r)
    else:
        for d in r["differences"]:
            out.print(f"DIFFERS {d['kind']}: {escape(d['item'])}: {escape(d['problem'])}", highlight=False)
        for line in r["checked"]:
            out.print(f"  checked: {escape(line)}", highlight=False)
        sig = r["signature"]
        if sig.get("valid"):
            out.print(f"  signer's key fingerprint:\n{grouped(sig['fingerprint'], '    ')}", highlight=False)
        out.print("verified" if r["verified"] else f"NOT verified: {len(r['differences'])} difference(s)",
                  highlight=False)
    if not r["verified"]:
        raise typer.Exit(1)

@app.command()
@stage
def audit(case: CaseArg, last: Annotated[int, typer.Option(help="Entries to list (0: all).")] = 20,
          as_json: JsonOpt = False) -> None:
    """List the audit log and check its hash chain (exit 1 if it is broken)."""
    from sqlalchemy import select

    from ascertain.store import schema
    from ascertain.store.audit_chain import check

    c = open_case(case)
    chain = check(c.store.engine)
    with c.store.engine.connect() as conn:
        q = select(schema.audit_log).order_by(schema.audit_log.c.id.desc())
        rows = [dict(r) for r in conn.execute(q.limit(last) if last else q).mappings()][::-1]
    if as_json:
        emit_json({"chain": chain, "entries": rows})
    else:
        for r in rows:
            detail = ", ".join(f"{k}={v}" for k, v in r["detail"].items() if not isinstance(v, list | dict))
            out.print(f"{r['id']:>5} {r['at']} {'ok ' if r['ok'] else 'FAIL'} {escape(r['action'])}: "
                      f"{escape(detail[:160])}", highlight=False, soft_wrap=True)
        for p in chain["problems"]:
            out.print(f"BROKEN at entry {p['id']}: {p['problem']}", highlight=False)
        out.print(f"audit chain {'intact' if chain['ok'] else 'BROKEN'}: {chain['entries']} entries"
                  + (f" ({chain['legacy_entries']} written before the chain began)"
                     if chain["legacy_entries"] else "") + f", head {chain['head'][:16]}", highlight=False)
    if not chain["ok"]:
        raise typer.Exit(1)

