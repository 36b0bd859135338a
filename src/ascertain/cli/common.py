"""What every command module shares: the app and its groups, consoles, options, errors, printers."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from ascertain import __version__
from ascertain.errors import AscertainError

# -h as well as --help everywhere; help in Markdown mode, so square brackets ("[paraphrase]") are kept
# (in typer's default "rich" mode they are markup and vanish)
SETTINGS: dict = {"context_settings": {"help_option_names": ["-h", "--help"]}, "rich_markup_mode": "markdown"}
app = typer.Typer(help="Measured, reproducible evidence for generative-AI copyright cases.",
                  no_args_is_help=True, add_completion=False, **SETTINGS)
works_app = typer.Typer(help="Claimants' works.", no_args_is_help=True, **SETTINGS)
corpus_app = typer.Typer(help="Training corpora.", no_args_is_help=True, **SETTINGS)
# `key` is put on the app by cli/exchange.py (its place in --help); `key expert` is cli/signing.py's
key_app = typer.Typer(help="Keys: the case key of a keyed exchange (new, check), and the expert's own key that "
                      "signs reports (expert new, expert show).", no_args_is_help=True, **SETTINGS)
expert_key_app = typer.Typer(help="The expert's signing key (Ed25519): make one, show its fingerprint.",
                             no_args_is_help=True, **SETTINGS)
key_app.add_typer(expert_key_app, name="expert")
outputs_app = typer.Typer(help="Model outputs.", no_args_is_help=True, **SETTINGS)
sources_app = typer.Typer(help="The case's indexed corpora and output sets: list, remove.", no_args_is_help=True,
                          **SETTINGS)
app.add_typer(works_app, name="works")
app.add_typer(corpus_app, name="corpus")
app.add_typer(outputs_app, name="outputs")
app.add_typer(sources_app, name="sources")
cmi_app = typer.Typer(help="Copyright management information: notices, authors, licenses.", no_args_is_help=True,
                      **SETTINGS)
app.add_typer(cmi_app, name="cmi")

K_HELP = "k: tokens per k-gram (a token is a word, number or punctuation mark)."
W_HELP = "w: winnowing window, in k-grams; every shared run of w+k-1 tokens or more is found."
LEGEND = ("cov.: share of the work's tokens found in the copy; own: the same share of its own expression "
          "(notices, licenses and spans common in the corpus left out); run: longest verbatim run, in tokens "
          "(words, numbers, punctuation marks); frag.: separate copied passages.")

out = Console(emoji=False)  # names print as written: `:warning:` is not an emoji
err = Console(stderr=True, emoji=False)

CaseArg = Annotated[Path, typer.Argument(help="The case folder.")]
FLAG = ""  # a flag takes no value: no "<bool>" beside it in help
JsonOpt = Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON instead of tables.")]


def esc(value: object) -> str:
    """User data (titles, claimants, paths, notices) inside a markup string: printed as written."""
    return escape(str(value))


def fail(e: AscertainError) -> None:
    err.print(f"[bold red]error:[/] {esc(e.what)}: {esc(e.problem)}.\n[bold]fix:[/] {esc(e.fix)}", highlight=False,
              soft_wrap=True)
    raise typer.Exit(2)


def narrow() -> bool:
    return out.width < 120


def emit_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False, default=str) + "\n")


@contextlib.contextmanager
def stdout_to_stderr(active: bool = True):
    """With --json, standard output holds the JSON alone: while the command runs, whatever else would reach it
    (a progress line, a library's or a Ray worker's print, C code writing to descriptor 1) goes to standard
    error instead. The descriptor itself is redirected, not only sys.stdout, so output from C and from
    threads is caught too."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):  # and sys.stdout, when it is not descriptor 1
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def open_case(path: Path):
    from ascertain.case import Case

    return Case.open(path)


def stage(fn):
    """Run a command body, turning AscertainError into a clear message and exit code 2."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AscertainError as e:
            fail(e)
        except (OSError, SQLAlchemyError) as e:
            if not disk_full(e):
                raise
            where = getattr(e, "filename", None) or kwargs.get("case") or (args[0] if args else "the case folder")
            fail(AscertainError(str(Path(where).parent if getattr(e, "filename", None) else where),
                                "the disk is full (no space left on the device)",
                                "free space there, then run the same command again: finished work is kept and "
                                "the run resumes"))

    return wrapper


def disk_full(e: BaseException) -> bool:
    """Is this error a full disk or quota (an OSError, or the store's driver saying so)?"""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(e).lower()
    return isinstance(e, SQLAlchemyError) and ("disk is full" in text or "no space left" in text)


def progress_bar(description: str, total: int | None = None) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                    TextColumn("{task.completed:,} {task.fields[unit]}"), TextColumn("{task.fields[mb]}"),
                    TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal)


def short(locator: str) -> str:
    """The last two path components of a locator (tables only; JSON keeps the full locator)."""
    parts = locator.split("/")
    return locator if len(parts) <= 2 else "…/" + "/".join(parts[-2:])


def print_skips(report_skips: list[dict]) -> None:
    for s in report_skips[:20]:
        err.print(f"[yellow]skipped[/] {esc(s['locator'])}: {esc(s['reason'])}. Fix: {esc(s['fix'])}",
                  highlight=False, soft_wrap=True)
    if len(report_skips) > 20:
        err.print(f"[yellow]... and {len(report_skips) - 20} more skipped (see `ascertain show`)[/]")


def _flag_help_option() -> None:
    """A flag takes no value: -h/--help and every boolean flag shown without a "<bool>" (Typer 0.29 gives them a
    type label). Set when the help is made, which asks every command for its help option first."""
    from typer._click.core import Command

    make = Command.get_help_option
    if getattr(make, "_ascertain_flag", False):
        return

    def get_help_option(self, ctx):
        opt = make(self, ctx)
        for p in [*self.params, *([opt] if opt is not None else [])]:
            if getattr(p, "is_flag", False) and p.metavar is None:
                p.metavar = FLAG
        return opt

    get_help_option._ascertain_flag = True  # type: ignore[attr-defined]
    Command.get_help_option = get_help_option  # type: ignore[method-assign]


_flag_help_option()


def _version(value: bool) -> None:
    if value:
        out.print(__version__, markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, metavar=FLAG,
                                               help="Print the version and exit.")] = False) -> None:
    """Measured, reproducible evidence for generative-AI copyright cases."""



TextField = Annotated[str, typer.Option(help="JSONL key / Parquet column with the text.")]
KeyFile = Annotated[str | None, typer.Option(help="HMAC key file: build a keyed, text-less index.")]
MaxDoc = Annotated[int, typer.Option(help="Largest document read, in bytes.")]
LevelOpt = Annotated[str, typer.Option(help="Normalization level: exact, layout, comments, identifiers (code "
                                            "only), prose, book (books: hyphenation, page furniture), auto "
                                            "(book for prose, layout for code, per document: the default of "
                                            "corpus add).")]
MinTokens = Annotated[int | None, typer.Option(
    "--min-tokens", help="A copy reproduces at least this many of the work's own tokens (outside notices and "
                         "common spans) in runs of 40+ tokens [default: 50] ...")]
MinCoverage = Annotated[float | None, typer.Option(
    "--min-coverage", help="... or at least this share (0 to 1) of the work's own expression [default: 0.8].")]
EngineOpt = Annotated[str, typer.Option(help="Where the stages run: local (this machine) or ray (a local Ray "
                                             "instance, or the cluster at RAY_ADDRESS; needs the scale extra).")]
ProcessesOpt = Annotated[int | None, typer.Option(help="Worker processes (local) or CPUs of the local Ray instance "
                                                       "[default: 1 local, every core for ray]. Same output.")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="With --engine ray: the HOST:PORT of a running Ray cluster's head [default: RAY_ADDRESS, "
                          "else a local instance]. The case folder must be at the same path on every node.")]
CopiedOnly = Annotated[bool, typer.Option("--copied-only", metavar=FLAG, help="Only records decided `copied`.")]


def case_relative(case: Path, path: str) -> str:
    """`reports/evidence.json in CASE`: a path inside the case, named so it reads the same from any folder."""
    import os

    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(case))
    return path if rel.startswith("..") else f"{rel} in {case}"



def line(text: str, indent: int = 2) -> None:
    """One line of plain text (user data as written) whose wrapped continuation keeps the indent."""
    out.print(Padding(Text(text), (0, 0, 0, indent), expand=False), highlight=False)


def print_cmi(cmi: dict, limit: int = 20) -> None:
    """The CMI status, and for each changed item the notice before and after, each removed item as it was."""
    counts = "".join(f"; {k.replace('_', ' ')} {len(cmi[k])}" for k in ("retained", "altered", "removed",
                                                                         "moved_to_metadata") if cmi.get(k))
    note = (f" (not a copy; the original carries {len(cmi['original'])} CMI item(s))"
            if cmi["status"] == "not_applicable" else "")
    line(f"CMI: {cmi['status']}{counts}{note}", 0)
    lines = [f"{a['original']['kind']} changed ({', '.join(a.get('changed', []))}):\n"
             f"before: {a['original']['value']!r} (original line {a['original']['lines'][0]})\n"
             f"after:  {a['copy']['value']!r} (copy line {a['copy']['lines'][0]})" for a in cmi.get("altered", [])]
    lines += [f"{i['kind']} removed: {i['value']!r} (original line {i['lines'][0]})" for i in cmi.get("removed", [])]
    lines += [f"{m['original']['kind']} moved to the record's metadata ({', '.join(m['fields'])}): "
              f"{m['original']['value']!r} (original line {m['original']['lines'][0]})"
              for m in cmi.get("moved_to_metadata", [])]
    for text in lines[:limit]:
        line(text)
    if len(lines) > limit:
        line(f"... {len(lines) - limit} more CMI items (--json lists all)")


def print_differences(r: dict, limit: int = 20) -> None:
    if r.get("edit_similarity") is None:
        return
    counts = ", ".join(f"{k} {v}" for k, v in r.get("difference_counts", {}).items()) or "none"
    region = r.get("region")
    where = (f" (within the copied region: original lines {region['original_lines'][0]}-"
             f"{region['original_lines'][1]}, copy lines {region['copy_lines'][0]}-{region['copy_lines'][1]})"
             if region else "")
    line(f"edit similarity {r['edit_similarity']:.3f}{where}; differences: {counts}", 0)
    if r.get("rename_map"):
        consistent = "consistent" if r.get("rename_consistent") else "not one-to-one"
        names = list(r["rename_map"].items())
        line(f"rename map ({consistent}): " + ", ".join(f"{a} → {b}" for a, b in names[:limit])
             + (f", ... {len(names) - limit} more" if len(names) > limit else ""))
    listed = r.get("differences", [])
    for d in listed[:limit]:
        if d["kind"] == "not in the copy":  # the work's text the copy does not hold: no copy side
            line(f"not in the copy: original lines {d['original_lines'][0]}-{d['original_lines'][1]}")
            line(repr(d["original"]), 4)
            continue
        line(f"{d['kind']}: original lines {d['original_lines'][0]}-{d['original_lines'][1]}, copy lines "
             f"{d['copy_lines'][0]}-{d['copy_lines'][1]}")
        if d.get("original") or d.get("copy"):
            line(f"{d['original']!r} → {d['copy']!r}", 4)
    rest = max(0, len(listed) - limit) + int(r.get("differences_not_listed") or 0)
    if rest:
        line(f"... {rest} more differences (--json lists all up to 400)")


ShowTokens = Annotated[int | None, typer.Option(
    "--min-tokens", help="Only evidence with at least this many of the work's own tokens copied.")]
ShowCoverage = Annotated[float | None, typer.Option(
    "--min-coverage", help="Only evidence with at least this own coverage (0 to 1).")]


