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
                             ] = 1,
          lookup_workers: Annotated[int, typer.Option(help="Processes per server process that read and compare "
                                                      "uploaded files.")] = 2,
          lookup_seconds: Annotated[float, typer.Option(help="Time budget of one file lookup, in seconds.")] = 20.0,
          trust_proxy: Annotated[str, typer.Option(
              help="Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated); by default "
                   "no proxy header is believed, so a client cannot pick its own address for the rate limits.")
                             ] = "") -> None:
    """Serve the case as web pages and a JSON API (/api, /docs) to its users."""
    import os

    import uvicorn

    from ascertain.web.app import create_app
    from ascertain.web.nodelay import NoDelayH11Protocol

    if lookups_per_minute < 1:
        raise AscertainError("--lookups-per-minute", "must be at least 1", "give a positive number")
    if workers < 1 or lookup_workers < 1:
        raise AscertainError("--workers/--lookup-workers", "must be at least 1",
                             "give a positive number, e.g. the number of cores")
    if lookup_seconds <= 0:
        raise AscertainError("--lookup-seconds", "must be positive", "give a number of seconds, e.g. 20")
    web = create_app(Path(case), lookups_per_minute=lookups_per_minute, lookup_workers=lookup_workers,
                     lookup_seconds=lookup_seconds)  # opens and checks the case first
    check_port_free(host, port)
    out.print(f"serving {escape(str(case))} on http://{host}:{port}/ (API: /api, /docs); users: "
              "`ascertain users add`", highlight=False)
    proxy = {"proxy_headers": bool(trust_proxy), **({"forwarded_allow_ips": trust_proxy} if trust_proxy else {})}
    if workers == 1:
        uvicorn.run(web, host=host, port=port, http=NoDelayH11Protocol, log_level="warning", **proxy)
        return
    # several processes: each builds the app itself from the environment (uvicorn imports it by name)
    os.environ.update({"ASCERTAIN_SERVE_CASE": str(Path(case).resolve()),
                       "ASCERTAIN_SERVE_LOOKUPS_PER_MINUTE": str(lookups_per_minute),
                       "ASCERTAIN_SERVE_LOOKUP_WORKERS": str(lookup_workers),
                       "ASCERTAIN_SERVE_LOOKUP_SECONDS": str(lookup_seconds)})
    uvicorn.run("ascertain.web.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                http="ascertain.web.nodelay:NoDelayH11Protocol", log_level="warning", **proxy)


def check_port_free(host: str, port: int) -> None:
    """Refuse, before anything is printed as served, a port another program listens on."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise AscertainError(f"--host {host}", f"is not an address of this machine ({e.strerror})",
                             "pass --host 127.0.0.1, or an address of one of its network interfaces") from e
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise AscertainError(f"--port {port}", f"is taken on {host} (another program listens there)",
                                     "stop that program, or pass --port with a free port, e.g. --port 8001") from e
            raise AscertainError(f"--host {host} --port {port}", f"cannot be listened on ({e.strerror})",
                                 "pass a port above 1023, or an address of this machine") from e


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
def users_token(case: CaseArg, name: Annotated[str, typer.Argument(help="User name.")],
                days: Annotated[int, typer.Option(help="Days the token works.")] = 90) -> None:
    """Make a new API token for a user (printed once; only its hash is kept; it expires after --days)."""
    from ascertain.web.users import new_token

    out.print(new_token(open_case(case), name, days), highlight=False, markup=False)


@users_app.command("revoke")
@stage
def users_revoke(case: CaseArg, name: Annotated[str, typer.Argument(help="User name.")],
                 as_json: JsonOpt = False) -> None:
    """Stop every API token of a user and end its signed-in sessions (the user stays)."""
    from ascertain.web.users import revoke

    r = revoke(open_case(case), name)
    emit_json(r) if as_json else out.print(f"{r['name']}: {r['tokens_revoked']} token(s) revoked, "
                                           f"{r['sessions_ended']} session(s) ended", highlight=False,
                                           markup=False)


@users_app.command("remove")
@stage
def users_remove(case: CaseArg, name: Annotated[str, typer.Argument(help="User name.")],
                 as_json: JsonOpt = False) -> None:
    """Remove a user with its tokens and sessions (the audit log keeps what it did)."""
    from ascertain.web.users import remove_user

    r = remove_user(open_case(case), name)
    emit_json(r) if as_json else out.print(f"user {r['name']} removed ({r['tokens_revoked']} token(s), "
                                           f"{r['sessions_ended']} session(s) ended)", highlight=False,
                                           markup=False)


@users_app.command("passwd")
@stage
def users_passwd(case: CaseArg, name: Annotated[str, typer.Argument(help="User name.")],
                 password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from "
                                                              "standard input (else it is asked for).")] = False,
                 as_json: JsonOpt = False) -> None:
    """Change a user's password; its signed-in sessions end."""
    from ascertain.web.users import set_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        "new password", hide_input=True, confirmation_prompt=True)
    r = set_password(open_case(case), name, password)
    emit_json(r) if as_json else out.print(f"{r['name']}: password changed, {r['sessions_ended']} session(s) "
                                           "ended", highlight=False, markup=False)


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
