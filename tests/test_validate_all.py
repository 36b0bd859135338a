"""`ascertain validate --all`: every cited figure regenerated with its code version; stale figures marked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.report.build import _shipped
from ascertain.validation import entries  # noqa: F401  (registers the validators)
from ascertain.validation.registry import (
    FIGURES,
    FORMAT,
    PACKAGE,
    REGISTRY,
    load_figures,
    record_files,
    source_hash,
    stale_files,
    staleness,
)

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
    assert figures["format"] == FORMAT and figures["code"]["package"]
    assert set(figures["validators"]) == {"cmi-real", "book-cmi", "s412"}
    for name, e in figures["validators"].items():
        assert e["quick"] and e["isolated"] and e["seconds"] > 0 and stale_files(name, e) == []
        assert e["entry_module"] == "validation/entries.py" and "validation/registry.py" not in e["files"]
        assert e["date"].endswith("UTC") and e["command"] and e["rates"]
        assert all(0 <= x["k"] <= x["n"] and x["n"] > 0 for x in e["rates"])
    # each ran in its own process: what it loaded and read, not what the others did
    s412, book, real = (set(figures["validators"][n]["files"]) for n in ("s412", "book-cmi", "cmi-real"))
    assert {"validation/s412.py", "classes/eligibility.py"} <= s412 and "cmi/book.py" not in s412
    assert "cmi/book.py" in book and "classes/eligibility.py" not in book
    assert "cmi/real_labels.json" in real and "cmi/real_labels.json" not in book
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


def test_a_figure_is_stale_only_when_a_file_it_loaded_or_read_changed(tmp_path: Path):
    root = tmp_path / "src" / "ascertain"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    loaded = [root / "classes" / "eligibility.py", root / "classes" / "facts.py", root / "validation" / "s412.py",
              root / "fingerprint" / "__init__.py"]
    record = record_files(REGISTRY["s412"], [str(p) for p in loaded], [str(root / "cmi" / "hard_labels.json")],
                          root)
    assert record["entry_module"] == "validation/entries.py"
    assert {"classes/eligibility.py", "cmi/hard_labels.json", "validation/entries.py"} <= set(record["files"])
    entry = {"date": "2026-12-07 12:00 UTC", "quick": False, "not_run": "", "rates": [], **record}
    figures = {"format": FORMAT, "validators": {"s412": entry}}
    assert staleness(figures, root) == {"s412": ""}

    def edit(rel: str, old: str = "", new: str = "\n# changed\n") -> None:
        p = root / rel
        text = p.read_text(encoding="utf-8")
        p.write_text(text.replace(old, new, 1) if old else text + new, encoding="utf-8")

    edit("cmi/book.py")  # a module s412 never loaded
    edit("imaging/__init__.py")
    edit("validation/entries.py", "validate --images --works", "validate --pictures --works")  # another entry
    assert staleness(figures, root) == {"s412": ""}
    edit("classes/eligibility.py")  # a module it loaded
    assert stale_files("s412", entry, root) == ["changed: classes/eligibility.py"]
    why = staleness(figures, root)["s412"]
    assert why.startswith("measured 2026-12-07") and "classes/eligibility.py" in why
    (root / "cmi" / "hard_labels.json").unlink()  # a data file it read
    edit("validation/entries.py", 'command = "ascertain validate --all --only s412"',
         'command = "ascertain validate --all --only s412 "')  # its own entry
    assert stale_files("s412", entry, root) == ["changed: classes/eligibility.py", "gone: cmi/hard_labels.json",
                                                "changed: validation/entries.py"]
    outdated = {**entry, "files": {"classes/eligibility.py": "0" * 64}, "entry_module": None,
                "rates": [{"method": "s", "measure": "agreement", "k": 1, "n": 1}]}
    shipped = _shipped({"format": FORMAT, "code": {"package": "9.9", "commit": "abc"},
                        "validators": {"s412": outdated}})
    assert "classes/eligibility.py" in shipped["rates"][0]["stale"]
    assert shipped["stale_notes"] == [f"s412: {shipped['rates'][0]['stale']}"]
    assert any(x.startswith("copies: never measured") for x in shipped["not_run"])


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
    assert figures["format"] == FORMAT
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
    r = run_all(Context(tmp_path, quick=True), ["s412", "boom"], {"validators": {"boom": earlier}}, isolate=False)
    assert r["failures"] == {"boom": "RuntimeError: no records on this machine"}
    assert r["figures"]["validators"]["boom"] == earlier and r["figures"]["validators"]["s412"]["rates"]


def test_state_names_the_changed_files_and_the_figures_never_measured(tmp_path: Path):
    e = {"title": "t", "command": "c", "date": "2026-12-07 12:00 UTC", "quick": False, "not_run": "", "rates": [],
         "files": {"classes/eligibility.py": "0" * 64, "validation/s412.py": "0" * 64}, "entry_module": None,
         "seconds": 8.0}
    path = tmp_path / "figures.json"
    path.write_text(json.dumps({"format": FORMAT, "code": {"package": "0"}, "validators": {"s412": e}}))
    r = runner.invoke(app, ["validate", "--all", "--state", "--figures", str(path)])
    assert r.exit_code == 0, r.output
    assert "changed: classes/eligibility.py" in r.output and "changed: validation/s412.py" in r.output
    assert "never measured" in r.output and "copies" in r.output
