"""The expert's signing key: `ascertain key expert new` and `show` (reports are signed by `report --sign-key`
and checked by `verify --signer-key`; report/signing.py, docs/methods.md "Trust")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ascertain.cli.common import JsonOpt, emit_json, esc, expert_key_app, out, stage


@expert_key_app.command("new")
@stage
def expert_new(key_file: Annotated[Path, typer.Argument(help="The private key file to write (and KEY.pub).")],
               name: Annotated[str, typer.Option("--name", help="Your name as the report prints it.")],
               as_json: JsonOpt = False) -> None:
    """Make your signing key: KEY (private, mode 0600, never overwritten) and KEY.pub (public)."""
    from ascertain.report.signing import grouped, new_expert_key

    r = new_expert_key(key_file, name)
    if as_json:
        emit_json(r)
        return
    out.print(f"signing key of {esc(r['signer'])} written to {esc(r['key_file'])} (Ed25519, mode 0600)\n"
              f"public key: {esc(r['public_key_file'])}\nfingerprint:\n{grouped(r['fingerprint'], '  ')}\n"
              "keep the key outside every case folder; give the fingerprint to the court\nand the parties",
              highlight=False)


@expert_key_app.command("show")
@stage
def expert_show(key_file: Annotated[Path, typer.Argument(help="A signing key or its .pub file.")],
                as_json: JsonOpt = False) -> None:
    """Print the signer's name and the key's fingerprint (never the key)."""
    from ascertain.report.signing import grouped, load_public

    r = load_public(key_file)
    if as_json:
        emit_json(r)
    else:
        out.print(f"signer: {esc(r['name'])}\nfingerprint:\n{grouped(r['fingerprint'], '  ')}", highlight=False)
