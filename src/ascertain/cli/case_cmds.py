"""init, demo, version: a case folder and the bundled demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ascertain import __version__
from ascertain.cli.common import K_HELP, W_HELP, CaseArg, JsonOpt, app, emit_json, esc, out, stage


@app.command()
@stage
def init(case: CaseArg,
         store: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store "
                                                   "(default: SQLite inside the case folder).")] = None,
         k: Annotated[int, typer.Option(help=K_HELP)] = 8,
         w: Annotated[int, typer.Option(help=W_HELP)] = 13) -> None:
    """Create a case folder: config, store and index."""
    from ascertain.case import Case

    c = Case.init(case, store, k, w)
    c.store.audit("init", {"store": c.config["store_url"], "k": k, "w": w})
    out.print(f"case created at {esc(case)}\n"
              f"  k = {k}: tokens per k-gram (a token is a word, number or punctuation mark)\n"
              f"  w = {w}: winnowing window in k-grams; every shared run of {w + k - 1}+ tokens is found",
              highlight=False)


@app.command()
@stage
def demo(case: Annotated[Path, typer.Option(help="Where to build the demo case.")] = Path("demo-case"),
         serve: Annotated[bool, typer.Option("--serve", help="Then serve it in the web application, with one "
                                             "user per role.")] = False,
         port: Annotated[int, typer.Option(help="Port for --serve.")] = 8000,
         as_json: JsonOpt = False) -> None:
    """Build the bundled demo case, run every stage, and check every planted copy is found."""
    from ascertain.demo import run_demo

    result = run_demo(case, out if not as_json else None)
    if as_json:
        emit_json(result)
    if not result["ok"]:
        raise typer.Exit(1)
    if serve:
        from ascertain.cli.web import serve_demo

        serve_demo(case, port)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__, markup=False, highlight=False)
