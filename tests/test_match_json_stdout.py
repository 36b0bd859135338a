"""`ascertain match --json`: standard output is the JSON alone, whatever else the run prints (the progress bar on a
terminal, a library's print, a Ray worker's output written by C code to descriptor 1): it goes to standard
error."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import ascertain
from ascertain.case import Case
from ascertain.cli.common import stdout_to_stderr
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.works import import_manifest

# the run as a user's would be, plus output on standard output in the middle of it: a print, and a write to
# descriptor 1 as C code (a Ray worker's log forwarding) would do
NOISY = """
import os, sys
import ascertain.match.run as run
from ascertain.cli import app
real = run.run_match
def noisy(*a, **k):
    print("progress: 1/2 documents")
    os.write(1, b"(raylet) worker started\\n")
    return real(*a, **k)
run.run_match = noisy
app(["match", sys.argv[1], "--json"])
"""


@pytest.fixture(scope="module")
def case(tmp_path_factory, data):
    c = Case.init(tmp_path_factory.mktemp("json-stdout") / "case")
    import_manifest(c, str(data / "works.csv"))
    add_source(c, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    return c


def test_redirect_catches_python_and_descriptor_writes(capfd):
    with stdout_to_stderr():
        print("from python")
        os.write(1, b"from C\n")
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert "from python" in err and "from C" in err


def test_match_json_stdout_parses(case):
    src = str(Path(ascertain.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "80"}
    # standard error a terminal (the progress bar is drawn), standard output a pipe: as `match --json > f.json`
    leader, follower = pty.openpty()
    try:
        p = subprocess.run([sys.executable, "-c", NOISY, str(case.root)], stdout=subprocess.PIPE, stderr=follower,
                           env=env, timeout=300, check=True)
        os.close(follower)
        follower = -1
        err = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: all read
                break
            if not chunk:
                break
            err += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    summary = json.loads(p.stdout)  # the JSON alone
    assert summary["evidence"] > 0 and Path(summary["report"]).exists()
    assert b"progress: 1/2" in err and b"(raylet) worker started" in err
