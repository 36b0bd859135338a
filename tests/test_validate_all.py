"""`ascertain validate --all`: every cited figure regenerated with its code version; stale figures marked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.report.build import _shipped
from ascertain.validation import entries  # noqa: F401  (registers the validators)
from ascertain.validation.registry import FIGURES, PACKAGE, REGISTRY, load_figures, source_hash, staleness

runner = CliRunner()


def test_registry_holds_a_validator_for_every_figure_the_report_cites():
    assert {"copies", "independent", "cmi", "cmi-real", "cmi-hard", "book-cmi", "linkage", "probe", "s412",
            "images"} <= set(REGISTRY)
    for v in REGISTRY.values():
        assert source_hash(v.sources) and v.title


def test_quick_run_writes_figures_and_docs_tied_to_the_code(tmp_path: Path):
    work = tmp_path / "work"
    r = runner.invoke(app, ["validate", "--all", "--quick", "--only", "cmi-real,book-cmi,s412", "--work", str(work),
                            "--json"])
    assert r.exit_code == 0, r.output
    figures = json.loads((work / "validation_figures.json").read_text(encoding="utf-8"))
    assert figures["format"] == 2 and figures["code"]["package"]
    assert set(figures["validators"]) == {"cmi-real", "book-cmi", "s412"}
    for name, e in figures["validators"].items():
        assert e["quick"] and e["source_hash"] == source_hash(REGISTRY[name].sources)
        assert e["date"].endswith("UTC") and e["command"] and e["rates"]
        assert all(0 <= x["k"] <= x["n"] and x["n"] > 0 for x in e["rates"])
    real = {x["measure"]: x for x in figures["validators"]["cmi-real"]["rates"]}
    assert real["recall"]["k"] / real["recall"]["n"] > 0.8
    docs = (work / "validation.md").read_text(encoding="utf-8")
    for name in ("cmi-real", "book-cmi"):
        section = docs.split(f"<!-- {name}:start -->")[1].split(f"<!-- {name}:end -->")[0]
        assert "via `ascertain validate --all`" in section and "a quick run (CI size)" in section
    assert set(staleness(figures).values()) == {"a quick (CI-size) run"}
    # a second run of one validator keeps the other's figures as they were
    first = figures["validators"]["book-cmi"]
    r = runner.invoke(app, ["validate", "--all", "--quick", "--only", "cmi-real", "--work", str(work), "--json"])
    assert r.exit_code == 0, r.output
    again = json.loads((work / "validation_figures.json").read_text(encoding="utf-8"))
    assert again["validators"]["book-cmi"] == first


def test_unknown_validator_is_refused_with_the_choices(tmp_path: Path):
    r = runner.invoke(app, ["validate", "--all", "--quick", "--only", "nope", "--work", str(tmp_path)])
    assert r.exit_code != 0 and "nope" in r.output and "cmi-real" in r.output


def test_figures_become_stale_when_their_sources_change(tmp_path: Path):
    root = tmp_path / "ascertain"
    shutil.copytree(PACKAGE / "cmi", root / "cmi")
    shutil.copytree(PACKAGE / "readers", root / "readers")
    v = REGISTRY["cmi-real"]
    entry = {"date": "2026-12-07 12:00 UTC", "source_hash": source_hash(v.sources, root), "rates": [],
             "quick": False, "not_run": ""}
    figures = {"format": 2, "validators": {"cmi-real": entry}}
    assert staleness(figures, root) == {"cmi-real": ""}
    p = root / "cmi" / "copyrights.py"
    p.write_text(p.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert "code changed since" in staleness(figures, root)["cmi-real"]


def test_report_marks_stale_rows_and_old_figures():
    old = {"source": "runs of 2026-11-23", "rates": [{"method": "m", "measure": "recall", "k": 1, "n": 2}]}
    assert _shipped(old)["rates"][0]["stale"] == "not tied to a code version"
    v = REGISTRY["book-cmi"]
    current = {"title": v.title, "command": "c", "date": "2026-12-07 12:00 UTC", "quick": False, "not_run": "",
               "source_hash": source_hash(v.sources), "rates": [{"method": "b", "measure": "recall", "k": 3, "n": 4}]}
    outdated = {**current, "source_hash": "0" * 64, "rates": [{"method": "p", "measure": "recall", "k": 1, "n": 1}]}
    data = _shipped({"format": 2, "code": {"package": "9.9", "commit": "abc"},
                     "validators": {"book-cmi": current, "probe": outdated}})
    rows = {r["method"]: r for r in data["rates"]}
    assert rows["b"]["stale"] == "" and rows["b"]["date"] == "2026-12-07"
    assert "code changed since" in rows["p"]["stale"]
    assert "ascertain 9.9" in data["source"] and "validate --all" in data["source"]


def test_shipped_figures_name_registered_validators_and_state_their_age():
    figures = load_figures(FIGURES)
    assert figures["format"] == 2
    stale = staleness(figures)
    assert set(stale) <= set(REGISTRY)
    assert all(e["rates"] or e["not_run"] for e in figures["validators"].values())


def test_s412_against_hand_worked_statute_outcomes():
    from ascertain.classes.eligibility import decide
    from ascertain.validation.s412 import evaluate, facts

    r = evaluate()
    assert r["cases"] >= 20 and r["agree"] >= r["cases"] - 1
    # a month-only start that reaches the effective date may have begun after registration: not "not eligible"
    assert decide(facts("2010-01-01", "2020-04-15", "2020-04")).status == "unknown"
    assert decide(facts("2020-06-01", "2020-04-15", "2020-04")).status == "unknown"
    assert decide(facts("2010-01-01", "2020-04-15", "2020-03")).status == "not eligible"
    # the one case left: a year-only publication the tool calls unknown where every reading is "not eligible"
    assert [d["case"] for d in r["disagreements"]] == ["year-only publication, infringement mid-year"]


def test_a_failing_validator_keeps_its_earlier_figures_and_the_others_run(tmp_path: Path, monkeypatch):
    from ascertain.validation.registry import Context, Validator, run_all

    def boom(_ctx: Context):
        raise RuntimeError("no records on this machine")

    monkeypatch.setitem(REGISTRY, "boom", Validator("boom", "fails", ("cmi/lines.py",), boom))
    earlier = {"date": "2026-12-01 10:00 UTC", "rates": [{"method": "b", "measure": "recall", "k": 1, "n": 2}]}
    r = run_all(Context(tmp_path, quick=True), ["s412", "boom"], {"validators": {"boom": earlier}})
    assert r["failures"] == {"boom": "RuntimeError: no records on this machine"}
    assert r["figures"]["validators"]["boom"] == earlier and r["figures"]["validators"]["s412"]["rates"]
