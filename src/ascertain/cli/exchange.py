"""The keyed exchange for a neutral expert (Rule 53): key, corpus export / import / request / produce
(registered on the main app in cli.py; the protocol is in docs/methods.md, "Keyed exchange (Rule 53)")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ascertain.cli.common import CaseArg, JsonOpt, app, corpus_app, emit_json, err, esc, key_app, open_case, out, stage

app.add_typer(key_app, name="key")

KeyFileArg = Annotated[Path, typer.Argument(help="The key file.")]
KeyOpt = Annotated[str, typer.Option("--key-file", help="The case key (from `ascertain key new`).")]
SourceArg = Annotated[str, typer.Argument(help="The keyed corpus source.")]


@key_app.command("new")
@stage
def key_new(key_file: KeyFileArg, as_json: JsonOpt = False) -> None:
    """Make a random 32-byte key in a new file (mode 0600; never overwrites). Master's step 1."""
    from ascertain.exchange.keys import new_key

    r = new_key(key_file)
    if as_json:
        emit_json(r)
        return
    out.print(f"key written to {esc(key_file)} (32 random bytes, mode 0600)\nkey check: {r['key_check']}\n"
              "give the key to the defendant only, under the protective order; anyone may compare the key check",
              highlight=False)


@key_app.command("check")
@stage
def key_check_cmd(key_file: KeyFileArg, as_json: JsonOpt = False) -> None:
    """Print the key check (an HMAC of a fixed label, never the key) for the parties to compare."""
    from ascertain.exchange.keys import check_key

    r = check_key(key_file)
    if as_json:
        emit_json(r)
    else:
        out.print(f"key check: {r['key_check']}", highlight=False)
    if "warning" in r:
        err.print(f"[yellow]warning:[/] {esc(r['warning'])}", highlight=False)


@corpus_app.command("export")
@stage
def corpus_export(case: CaseArg, source: SourceArg,
                  package: Annotated[Path, typer.Argument(help="The package file to write (a new .tar).")],
                  as_json: JsonOpt = False) -> None:
    """Write a keyed, text-less source as a package for the master (defendant's step 2), and PACKAGE.sha256."""
    from ascertain.exchange.package import export_source

    r = export_source(open_case(case), source, package)
    if as_json:
        emit_json(r)
        return
    out.print(f"{esc(package)}: {r['documents']:,} documents, {r['fingerprints']:,} fingerprints, {r['files']} "
              f"files, {r['bytes']:,} bytes\nSHA-256 {r['sha256']} (also in {esc(package)}.sha256): send it "
              "apart from the package so the master can check the receipt", highlight=False)


@corpus_app.command("import")
@stage
def corpus_import(case: CaseArg,
                  package: Annotated[Path, typer.Argument(help="The package `ascertain corpus export` wrote.")],
                  key_file: KeyOpt,
                  name: Annotated[str | None, typer.Option(help="Source name in this case (default: the "
                                                           "package's).")] = None,
                  sha256: Annotated[str | None, typer.Option("--sha256", help="The package's SHA-256 as sent "
                                                             "(default: PACKAGE.sha256 beside it).")] = None,
                  max_file_bytes: Annotated[int, typer.Option(help="Largest file accepted in the "
                                                              "package.")] = 16 << 30,
                  as_json: JsonOpt = False) -> None:
    """Validate a defendant's package and add it as a keyed source (master's step 3)."""
    from ascertain.exchange.package import import_package

    r = import_package(open_case(case), package, key_file, name, sha256, max_file_bytes)
    if as_json:
        emit_json(r)
        return
    out.print(f"imported {esc(r['source'])}: {r['documents']:,} documents, {r['fingerprints']:,} fingerprints "
              f"(keyed); receipt {esc(r['receipt'])}; next: `ascertain match {esc(case)} --key-file KEYFILE`",
              highlight=False)


@corpus_app.command("request")
@stage
def corpus_request(case: CaseArg, source: SourceArg,
                   request: Annotated[Path, typer.Argument(help="The request file to write (JSON).")],
                   key_file: KeyOpt,
                   figures: Annotated[str, typer.Option(help="Figures the order allows, per work: copied, "
                                                        "coverage, own_coverage, longest_run_tokens, fragments, "
                                                        "or none.")] = "copied,own_coverage,longest_run_tokens",
                   include_not_copied: Annotated[bool, typer.Option("--include-not-copied", help="Also documents "
                                                                    "with evidence not decided copied.")] = False,
                   as_json: JsonOpt = False) -> None:
    """Write the production request: keyed locators of the matching documents (master's step 4)."""
    from ascertain.exchange.request import parse_figures, write_request

    r = write_request(open_case(case), source, request, key_file, parse_figures(figures), include_not_copied)
    if as_json:
        emit_json(r)
        return
    out.print(f"{esc(request)}: {r['documents']:,} documents to produce ({r['works']} works); SHA-256 "
              f"{r['sha256']}", highlight=False)


@corpus_app.command("produce")
@stage
def corpus_produce(case: CaseArg, source: SourceArg,
                   request: Annotated[Path, typer.Argument(help="The master's request file.")],
                   outdir: Annotated[Path, typer.Argument(help="The production folder to write (new).")],
                   paths: Annotated[list[str], typer.Argument(help="The corpus inputs, as given to `corpus add`.")],
                   key_file: KeyOpt, as_json: JsonOpt = False) -> None:
    """Resolve the request's keyed locators to your documents and write exactly those (defendant's step 5)."""
    from ascertain.exchange.produce import produce

    r = produce(open_case(case), source, request, outdir, paths, key_file)
    if as_json:
        emit_json(r)
        return
    out.print(f"{esc(outdir)}: {r['documents']:,} documents ({r['bytes']:,} bytes) and production.json (SHA-256 "
              f"{r['production_sha256']})", highlight=False)


@corpus_app.command("check-production")
@stage
def corpus_check_production(case: CaseArg, source: SourceArg,
                            production: Annotated[Path, typer.Argument(help="The folder `corpus produce` wrote.")],
                            key_file: KeyOpt, as_json: JsonOpt = False) -> None:
    """Check each produced file is the very document indexed and matched (master's step 6, with the key)."""
    from ascertain.exchange.receive import check_production

    c = open_case(case)
    r = check_production(c, source, production, key_file)
    c.store.audit("corpus check-production", {k: v for k, v in r.items() if k != "checked"}, ok=r["verified"])
    if as_json:
        emit_json(r)
    else:
        for p in r["problems"]:
            out.print(f"DIFFERS {esc(p)}", highlight=False)
        out.print(f"{'verified' if r['verified'] else 'NOT verified'}: {r['documents']} produced documents against "
                  f"the keyed digests of {esc(source)}", highlight=False)
    if not r["verified"]:
        raise typer.Exit(1)
