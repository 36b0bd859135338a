"""A single-work lookup stays light: no pandas (or other heavy module) imported on the `match --work` path, and
match evidence is the same whatever the batch in which its hits are read back and however many prepared work
files are kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ascertain
import ascertain.match.prepared_works as prepared_works
import ascertain.match.run as match_run
from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.works import import_manifest

HEAVY = ("pandas", "torch", "fastapi", "scipy", "datasketch", "transformers", "matplotlib", "ray")
PROBE = """
import sys
from ascertain.cli import app
try:
    app(["match", sys.argv[1], "--work", "1", "--json", "--allow-empty"])
except SystemExit as e:
    if e.code:
        raise
print("MODULES", " ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.fixture(scope="module")
def case(tmp_path_factory, data):
    c = Case.init(tmp_path_factory.mktemp("imports") / "case")
    import_manifest(c, str(data / "works.csv"))
    add_source(c, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    return c


def test_lookup_imports_no_heavy_module(case):
    src = str(Path(ascertain.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(case.root)], capture_output=True, text=True, env=env,
                         check=True).stdout
    modules = set(next(line for line in out.splitlines() if line.startswith("MODULES")).split()[1:])
    assert "duckdb" in modules and "pyarrow" in modules  # the probe did run the lookup
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_evidence_does_not_depend_on_the_batches(case, monkeypatch):
    run_match(case, MatchOptions())
    whole = (case.root / "reports" / "evidence.json").read_bytes()
    assert len(json.loads(whole)["evidence"]) > 5
    monkeypatch.setattr(match_run, "HITS_BATCH", 7)  # documents' hits cross many batch boundaries
    monkeypatch.setattr(prepared_works, "KEEP", 1)  # every other work file prepared again when matched
    run_match(case, MatchOptions())
    assert (case.root / "reports" / "evidence.json").read_bytes() == whole
