"""What the CLI prints: user data as written (no markup), readable at 80 columns and piped, capped lists,
CMI before/after, and help that keeps square brackets and defines its units."""

from __future__ import annotations

import os
import shutil

import pytest
import typer
from typer.testing import CliRunner

from ascertain.cli import app

runner = CliRunner()
NARROW = {"COLUMNS": "80"}


def run(*args: str, code: int = 0, env: dict | None = None, **kw) -> tuple[str, str]:
    r = runner.invoke(app, list(args), env=env or NARROW, **kw)
    assert r.exit_code == code, r.output
    return r.stdout, r.stderr


def assert_fits(text: str, width: int = 80) -> None:
    assert "\x1b[" not in text  # no ANSI codes when not a terminal
    long = [ln for ln in text.splitlines() if len(ln) > width]
    assert not long, long


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory) -> str:
    case = str(tmp_path_factory.mktemp("demo") / "case")
    run("demo", "--case", case)
    return case


def test_markup_in_claimant_title_and_file_name_prints_as_written(tmp_path, data):
    folder = tmp_path / "[bold]x"
    folder.mkdir()
    work = folder / "[bold]x.py"
    shutil.copy(data / "works" / "python-rsa" / "randnum.py", work)
    case = str(tmp_path / "case")
    run("init", case)
    stdout, _ = run("works", "add", case, "--claimant", "[/bold]Evil[red]", "--title", "[/]T[i]", str(work))
    assert "[/bold]Evil[red] / [/]T[i]" in stdout
    run("corpus", "add", case, "c", str(folder))
    run("match", case)
    stdout, _ = run("show", case)
    assert "[/bold]Evil[red]" in stdout and "[/]T[i]" in stdout
    stdout, _ = run("show", case, "1")
    assert "[/bold]Evil[red] / [/]T[i]" in stdout
    assert "[bold]x.py" in stdout and "…/[bold]x/[bold]x.py" in stdout
    stdout, _ = run("show", case, "[/]T[i]")  # by title
    assert "[bold]x.py" in stdout
    stdout, _ = run("show", case, "--skipped")  # no skips, nothing eaten, no crash
    # an error naming the input prints it as written too
    r = runner.invoke(app, ["show", case, "[/bold]nope"])
    assert r.exit_code == 2 and "[/bold]nope" in r.stderr


def test_show_fits_80_columns_and_keeps_the_figures(demo_case):
    stdout, stderr = run("show", demo_case)
    assert_fits(stdout)
    assert_fits(stderr)
    assert "Sybren A." in stdout and "Stüvel" in stdout and "python-rsa" in stdout and "0.593" in stdout, stdout
    assert "763" in stdout
    stdout, stderr = run("show", demo_case, "1")
    assert_fits(stdout)
    for figure in ("0.741", "0.927", "389", "575", "554", "removed", "retained", "parallel.py", "randnum.py"):
        assert figure in stdout, (figure, stdout)
    assert "own:" in stderr and "run:" in stderr and "frag.:" in stderr  # the legend
    wide, _ = run("show", demo_case, "1", env={"COLUMNS": "160"})
    assert_fits(wide, 160)
    assert "identical" in wide and "1.00" in wide  # the near-duplicate J column when there is room


def test_sources_list_fits_80_columns(demo_case):
    stdout, _ = run("sources", "list", demo_case)
    assert_fits(stdout)
    assert "corpus" in stdout and "outputs" in stdout and "16" in stdout and "layout" in stdout


def test_compare_fits_80_columns_and_caps_differences(data):
    stdout, stderr = run("compare", str(data / "works" / "boto3" / "utils.py"),
                         str(data / "corpus" / "vendor" / "aws_helpers.py"), "--max-differences", "2")
    assert_fits(stdout)
    assert "COPIED" in stdout and "coverage 1.000" in stdout and "328 tokens" in stdout
    assert "... 3 more differences (--json lists all up to 400)" in stdout
    assert stdout.count("comment added:") + stdout.count("whitespace/layout:") == 2
    assert "... 1 more copied passages" in stdout
    assert "own:" in stderr
    full, _ = run("compare", str(data / "works" / "boto3" / "utils.py"),
                  str(data / "corpus" / "vendor" / "aws_helpers.py"))
    assert "more differences" not in full and full.count("comment added:") == 2


def test_compare_shows_a_changed_notice_before_and_after(tmp_path, data):
    original = data / "works" / "python-rsa" / "randnum.py"
    copy = tmp_path / "[red]copy.py"
    copy.write_text(original.read_text().replace("2011 Sybren A. Stüvel <sybren@stuvel.eu>",
                                                 "2024 [bold]Evil Corp"))
    stdout, _ = run("compare", str(original), str(copy))
    assert_fits(stdout)
    assert "CMI: altered" in stdout
    assert "before: 'Copyright 2011 Sybren A. Stüvel <sybren@stuvel.eu>'" in stdout
    assert "after:  'Copyright 2024 [bold]Evil Corp'" in stdout
    assert "[red]copy.py" in stdout


def _commands(group, path: list[str]):
    yield path
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (typer 0.29 vendors its own click)
            yield from _commands(cmd, [*path, name])
        else:
            yield [*path, name]


def test_help_of_every_command(tmp_path):
    root = typer.main.get_command(app)
    paths = list(_commands(root, []))
    assert ["sources", "remove"] in paths and ["sources", "list"] in paths
    for path in paths:
        for flag in ("--help", "-h"):
            stdout, _ = run(*path, flag)
            assert "--no-no-" not in stdout, path
            assert "Usage" in stdout, path
            assert "<bool>" not in stdout, path  # a flag takes no value (issue 26, item 23)
    stdout, _ = run("compare", "-h")
    assert "[paraphrase]" in stdout and "--max-differences" in stdout
    stdout, _ = run("corpus", "add", "-h")
    assert "--no-text" in stdout and "identifiers (code only)" in stdout
    stdout, _ = run("init", "-h")
    flat = " ".join(stdout.replace("│", " ").split())  # the help panel's wrapped lines as one text
    assert "tokens per k-gram (a token is a word, number or punctuation mark)" in flat
    assert "every shared run of w+k-1 tokens or more is found" in flat
    stdout, _ = run("--version")
    from ascertain import __version__

    assert stdout.strip() == __version__
    stdout, _ = run("init", str(tmp_path / "c"), "--k", "5", "--w", "4")
    assert "k = 5: tokens per k-gram" in stdout and "every shared run of 8+ tokens is found" in stdout
    assert_fits(stdout.replace(str(tmp_path), "CASE"))


def test_validate_table_fits_80_columns(tmp_path, monkeypatch):
    import ascertain.validation.run as validation_run

    def tool(name: str) -> dict:
        return {"tool": name, "recall_single_50plus": {"rate": 0.987}, "recall_combined_50plus": {"rate": 0.951},
                "min_recall_single_50plus": 0.902, "precision": 0.9991, "fpr": 0.00012, "fp": 3,
                "pairs_per_s": 1234.5}

    fake = {"levels": {n: tool(f"ascertain {n}") for n in ("exact", "layout", "comments", "identifiers", "auto")},
            "peers": [tool("copydetect"), tool("Dolos"), {"tool": "JPlag", "not_run": "not installed"}],
            "minhash": tool("MinHash"), "positives": 3150, "negatives": 30000, "targets": {"FPR below 0.1 %": True},
            "paraphrase": {"not_run": "the [paraphrase] extra is not installed"}}
    monkeypatch.setattr(validation_run, "run_validation", lambda *a, **k: fake)
    stdout, _ = run("validate", "--work", str(tmp_path))
    assert_fits(stdout)
    assert stdout.count("0.987") == 8 and "ascertain identifiers" in stdout and "Dolos" in stdout
    assert "the [paraphrase] extra is not installed" in stdout


def test_show_work_lists_copies_and_counts_the_rest(demo_case):
    """Issue 26, item 23: `show WORK` listed a dozen header-only non-copies; "(1 files)"; `--skipped` printed
    nothing when nothing was skipped."""
    import json

    every = json.loads(run("show", demo_case, "1", "--json")[0])["evidence"]
    not_copied = sum(1 for e in every if not e["copied"])
    assert not_copied and any(e["copied"] for e in every)
    stdout, stderr = run("show", demo_case, "1")
    assert f"{not_copied} record{'s' if not_copied != 1 else ''} not decided copied not listed" in stderr
    import re

    def listed(text: str) -> int:
        return sum(int(n) for n in re.findall(r"evidence(?: in \S+)? \((\d+) records?\)", text))

    all_rows, all_err = run("show", demo_case, "1", "--all")
    assert listed(stdout) == len(every) - not_copied and listed(all_rows) == len(every)
    assert "not listed" not in all_err
    assert "(1 files)" not in stdout
    for w in ("1", "2", "3"):
        out, _ = run("show", demo_case, w)
        assert "(1 files)" not in out


def test_lookup_finds_claimants_and_says_model_outputs(demo_case):
    """Issue 26, item 20: lookup printed only corpus evidence and did not find works by claimant name."""
    import json

    stdout, _ = run("lookup", demo_case, "Amazon.com")
    assert "boto3" in stdout and "in model outputs:" in stdout
    r = json.loads(run("lookup", demo_case, "Amazon.com", "--json")[0])
    assert any(w["title"] == "boto3" for w in r["results"])
    regurgitated = [w for w in json.loads(run("lookup", demo_case, "python-rsa", "--json")[0])["results"]
                    if w["output_evidence"]]
    if regurgitated:
        stdout, _ = run("lookup", demo_case, "python-rsa")
        assert "in model outputs: by content (evidence" in stdout


def test_long_words_are_shortened_in_the_middle_never_broken():
    """Issue 26, item 19: tables broke words and names at 80 columns ("vendor/randn" / "um.py")."""
    from rich.console import Console

    from ascertain.report.tables import add_row, elide, new_table

    assert elide("…/vendor/parallel_nohdr.py", 22) == "…dor/parallel_nohdr.py"
    assert elide("logging_config.py", 10).endswith("g.py") and len(elide("logging_config.py", 10)) == 10
    t = new_table("copied", "document", "note")
    add_row(t, "yes", "…/deeply/nested/folder/structure/with/logging_config.py", "a note with several words " * 3)
    console = Console(width=60, record=True, file=open(os.devnull, "w"), color_system=None)  # noqa: SIM115
    console.print(t)
    lines = console.export_text().splitlines()
    assert all(len(ln) <= 60 for ln in lines)
    body = "\n".join(lines)
    assert "logging_config.py" in body  # the file name whole, on one line
    assert sum("logging" in ln for ln in lines) == 1
