"""Commands of the web application: serve, users (registered on the main app when cli.py imports this)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ascertain.cli.common import CaseArg, JsonOpt, app, emit_json, open_case, out, stage
from ascertain.errors import AscertainError

users_app = typer.Typer(help="Users and API tokens of the case's web application.", no_args_is_help=True,
                        context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(users_app, name="users")


@app.command()
@stage
def serve(case: CaseArg, host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.")] = 8000,
          lookups_per_minute: Annotated[int, typer.Option(
              help="Lookups a minute allowed per user and client address (the public page's rate limit; "
                   "counted by each worker).")] = 30,
          workers: Annotated[int, typer.Option(help="Server processes (file lookups are CPU-bound: one a core).")
                             ] = 1) -> None:
    """Serve the case as web pages and a JSON API (/api, /docs) to its users."""
    import os

    import uvicorn

    from ascertain.web.app import create_app
    from ascertain.web.nodelay import NoDelayH11Protocol

    if lookups_per_minute < 1:
        raise AscertainError("--lookups-per-minute", "must be at least 1", "give a positive number")
    if workers < 1:
        raise AscertainError("--workers", "must be at least 1", "give a positive number, e.g. the number of cores")
    web = create_app(Path(case), lookups_per_minute=lookups_per_minute)  # opens and checks the case first
    out.print(f"serving {escape(str(case))} on http://{host}:{port}/ (API: /docs); users: `ascertain users add`",
              highlight=False)
    if workers == 1:
        uvicorn.run(web, host=host, port=port, http=NoDelayH11Protocol, log_level="warning")
        return
    # several processes: each builds the app itself from the environment (uvicorn imports it by name)
    os.environ.update({"ASCERTAIN_SERVE_CASE": str(Path(case).resolve()),
                       "ASCERTAIN_SERVE_LOOKUPS_PER_MINUTE": str(lookups_per_minute)})
    uvicorn.run("ascertain.web.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                http="ascertain.web.nodelay:NoDelayH11Protocol", log_level="warning")


@users_app.command("add")
@stage
def users_add(case: CaseArg, name: Annotated[str, typer.Argument(help="User name.")],
              role: Annotated[str, typer.Option(help="master, plaintiff, defendant, claims or public.")],
              password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from "
                                                           "standard input (else it is asked for).")] = False,
              no_password: Annotated[bool, typer.Option("--no-password", help="API tokens only, no "
                                                        "sign-in.")] = False) -> None:
    """Add a user (passwords are stored as argon2 hashes)."""
    from ascertain.web.users import add_user

    if password_stdin and no_password:
        raise AscertainError("--password-stdin/--no-password", "are exclusive", "pass one of them")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    u = add_user(open_case(case), name, role, password)
    out.print(f"user {escape(u.name)} ({u.role}) added", highlight=False)


@users_app.command("token")
@stage
def users_token(case: CaseArg, name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Make a new API token for a user (printed once; only its hash is kept)."""
    from ascertain.web.users import new_token

    out.print(new_token(open_case(case), name), highlight=False, markup=False)


@users_app.command("list")
@stage
def users_list(case: CaseArg, as_json: JsonOpt = False) -> None:
    """List the users and their roles."""
    from ascertain.web.users import list_users

    rows = list_users(open_case(case))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        out.print(f"{r['name']}  {r['role']}  added {r['created_at']}", highlight=False, markup=False)


def serve_demo(case: Path, port: int) -> None:
    """One user per role with a fresh password (printed once), then serve."""
    import secrets

    from ascertain.web.policy import ROLES
    from ascertain.web.users import add_user, list_users

    c = open_case(case)
    have = {u["name"] for u in list_users(c)}
    for role in ROLES:
        if role not in have:
            password = secrets.token_urlsafe(12)
            add_user(c, role, role, password)
            out.print(f"user {role} ({role}): password {password}", highlight=False, markup=False)
    serve(case, "127.0.0.1", port)
