"""CMI detection on real files, CMI status of copies, and bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.cmi.scan import scan_text
from ascertain.cmi.status import compare_cmi, items

runner = CliRunner()


def scan(path: Path) -> dict:
    return scan_text(str(path), path.read_text(encoding="utf-8"))


def spdx_of(r: dict) -> set[str]:
    return {lic["spdx"] for lic in r["licenses"]}


def test_full_license_texts_are_identified_with_their_share(data):
    apache = scan(data / "works" / "boto3" / "LICENSE")
    (hit,) = [lic for lic in apache["licenses"] if lic["rule"] == "spdx-text"]
    assert hit["spdx"] == "Apache-2.0" and hit["score"] > 80 and hit["end_line"] - hit["start_line"] > 150
    bsd = scan(data / "works" / "pygments" / "LICENSE")
    assert spdx_of(bsd) == {"BSD-2-Clause"}  # not BSD-3-Clause: the 2-clause text is the better fit
    assert bsd["copyrights"][0]["holders"] == ["the respective authors"]


def test_file_header_notice_and_copyright(data):
    r = scan(data / "works" / "python-rsa" / "randnum.py")
    (c,) = r["copyrights"]
    assert c["holders"] == ["Sybren A. Stüvel"] and c["years"] == [2011] and c["start_line"] == 1
    (lic,) = r["licenses"]
    assert lic["spdx"] == "Apache-2.0" and (lic["start_line"], lic["end_line"]) == (3, 13)


@pytest.mark.parametrize("text, holders, years", [
    ("/* Copyright (C) 2001-2004, 2010 Free Software Foundation, Inc. */", ["Free Software Foundation, Inc."],
     [2001, 2004, 2010]),
    ("# (c) 2019 Jane Doe <jane@example.org>. All rights reserved.", ["Jane Doe"], [2019]),
    ("Copyright © 2020 The Project Authors. Licensed under MIT.", ["The Project Authors"], [2020]),
    ("# Copyright 2015 Amazon.com, Inc. or its affiliates. All Rights Reserved.",
     ["Amazon.com, Inc. or its affiliates"], [2015]),
    (":copyright: Copyright 2006-2024 by the Pygments team, see AUTHORS.", ["the Pygments team"], [2006, 2024]),
])
def test_copyright_statements(text, holders, years):
    (c,) = scan_text("x.c", text)["copyrights"]
    assert c["holders"] == holders and c["years"] == years


@pytest.mark.parametrize("text", [
    "Redistributions of source code must retain the above copyright notice, this list of conditions",
    "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\"",
    "    copyright = self.metadata.get('copyright')",
    "(c) You must retain, in the Source form of any Derivative Works",
])
def test_mentions_that_are_not_statements(text):
    assert scan_text("x.py", text)["copyrights"] == []


def test_spdx_identifiers_are_validated():
    r = scan_text("a.c", "// SPDX-License-Identifier: GPL-2.0+ OR MIT\n/* SPDX-License-Identifier: Nonsense-1 */\n")
    good, bad = r["licenses"]
    assert good["spdx"] == "GPL-2.0-or-later OR MIT" and good["rule"] == "spdx-license-identifier"
    assert bad["valid"] is False and "Nonsense-1" in bad["note"]


def test_gnu_notices_keep_version_and_or_later():
    r = scan_text("a.c", "/* This program is free software; you can redistribute it under the terms of the\n"
                         " * GNU General Public License as published by the Free Software Foundation; either\n"
                         " * version 2 of the License, or (at your option) any later version. */")
    assert spdx_of(r) == {"GPL-2.0-or-later"}


def test_package_metadata_fields(tmp_path):
    cases = {
        "pyproject.toml": '[project]\nname = "x"\nlicense = {text = "Apache 2.0"}\n'
                          'authors = [{name = "Ada Lovelace", email = "ada@example.org"}]\n',
        "package.json": '{"name": "x", "license": "(MIT OR Apache-2.0)", "author": "Grace Hopper"}',
        "Cargo.toml": '[package]\nname = "x"\nlicense = "MIT/Apache-2.0"\nauthors = ["Linus <l@example.org>"]\n',
        "setup.cfg": "[metadata]\nname = x\nlicense = BSD 3-Clause\nauthor = Guido\n",
        "pom.xml": "<project><licenses><license><name>The Apache Software License, Version 2.0</name></license>"
                   "</licenses><developers><developer><name>Jo</name></developer></developers></project>",
        "x.gemspec": "Gem::Specification.new do |s|\n  s.license = 'MIT'\n  s.authors = ['Matz']\nend\n",
        "composer.json": '{"license": ["BSD-2-Clause"], "authors": [{"name": "Fabien"}]}',
    }
    expect = {"pyproject.toml": "Apache-2.0", "package.json": "MIT", "Cargo.toml": "MIT",
              "setup.cfg": "BSD-3-Clause", "pom.xml": "Apache-2.0", "x.gemspec": "MIT",
              "composer.json": "BSD-2-Clause"}
    for name, text in cases.items():
        r = scan_text(name, text)
        assert any(expect[name] in lic["spdx"] for lic in r["licenses"]), (name, r["licenses"])
        assert r["authors"], (name, r)


def test_cmi_status_classes():
    orig = {"copyrights": [{"statement": "Copyright 2011 A", "holders": ["A"], "years": [2011],
                            "start_line": 1, "end_line": 1}],
            "licenses": [{"spdx": "MIT", "start_line": 2, "end_line": 2, "rule": "mit-notice", "score": 90}]}
    same = compare_cmi(items(orig), items(orig))
    assert same["status"] == "retained" and len(same["retained"]) == 2
    other = {**orig, "copyrights": [{**orig["copyrights"][0], "holders": ["B"], "statement": "Copyright 2011 B"}]}
    alt = compare_cmi(items(orig), items(other))
    assert alt["status"] == "altered" and alt["altered"][0]["changed"] == ["holder"]
    gone = compare_cmi(items(orig), items({"licenses": orig["licenses"]}))
    assert gone["status"] == "removed" and gone["removed"][0]["kind"] == "copyright"
    assert compare_cmi([], items(orig))["status"] == "never_present"


def test_compare_json_reports_removed_and_altered_cmi(tmp_path, data):
    orig = data / "works" / "python-rsa" / "parallel.py"
    text = orig.read_text(encoding="utf-8")
    stripped = tmp_path / "stripped.py"
    stripped.write_text("\n".join(text.split("\n")[14:]), encoding="utf-8")
    altered = tmp_path / "altered.py"
    altered.write_text(text.replace("Sybren A. Stüvel <sybren@stuvel.eu>", "Mallory Example"), encoding="utf-8")
    for copy, status in ((stripped, "removed"), (altered, "altered"), (orig, "retained")):
        r = runner.invoke(app, ["compare", str(orig), str(copy), "--json"])
        assert r.exit_code == 0, r.output
        cmi = json.loads(r.stdout)["cmi"]
        assert cmi["status"] == status, cmi
        assert set(cmi) >= {"status", "original", "copy", "removed", "altered"}


def test_demo_case_cmi_status_matches_the_planted_truth(demo_case):
    """Each planted copy's stored CMI status is the planted one (the demo case of conftest, on each backend;
    the CLI demo itself runs in test_case_pipeline)."""
    from ascertain.demo import _work_ids, demo_data
    from ascertain.report.show import work_evidence

    data = demo_data()
    planted = [*json.loads((data / "planted.json").read_text()),
               *json.loads((data / "books" / "planted.json").read_text()),
               *json.loads((data / "stack" / "planted.json").read_text())]
    copies = [e for wid in _work_ids(demo_case) for e in work_evidence(demo_case, str(wid))["evidence"]
              if e["copied"]]
    statuses = {p["cmi"] for p in planted}
    assert {"removed", "retained"} <= statuses  # both kinds planted
    for p in planted:
        hit = [e for e in copies if Path(e["work_file"]).name == p["work_file"] and e["source"] == p["source"]
               and e["document"].endswith(p["document"])]
        assert len(hit) == 1 and hit[0]["cmi"]["status"] == p["cmi"], (p, hit)


def test_cmi_scan_cli_on_tree_and_bad_inputs(tmp_path, data):
    tree = tmp_path / "tree"
    shutil.copytree(data / "works" / "python-rsa", tree)
    (tree / "blob.bin").write_bytes(b"\x00\x01" * 500)
    (tree / "latin1.py").write_bytes(b"# Copyright 2020 J\xe9r\xf4me\nx = 1\n")
    (tree / "min.js").write_text("/* (c) 2021 Min Co | MIT License */" + "var a=1;" * 2000)
    (tree / "huge.txt").write_text("Copyright 2020 Big\n" + "x" * 3_000_000)
    r = runner.invoke(app, ["cmi", "scan", str(tree), "--json", "--processes", "2", "--max-bytes", "1000000"])
    assert r.exit_code == 0, r.output
    rows = {Path(x["path"]).name: x for x in map(json.loads, r.stdout.splitlines())}
    assert rows["randnum.py"]["copyrights"][0]["holders"] == ["Sybren A. Stüvel"]
    assert "skipped" in rows["blob.bin"] and "skipped" in rows["huge.txt"]
    assert rows["latin1.py"]["copyrights"], rows["latin1.py"]
    assert spdx_of(rows["min.js"]) == {"MIT"} and rows["min.js"]["notes"]
    r = runner.invoke(app, ["cmi", "scan", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.skipif(not os.environ.get("ASCERTAIN_SCANCODE"), reason="set ASCERTAIN_SCANCODE to ScanCode's path")
def test_validation_against_scancode_small_sample(tmp_path):
    r = runner.invoke(app, ["cmi", "validate", "--files", "30", "--processes", "2", "--json",
                            "--scancode", os.environ["ASCERTAIN_SCANCODE"], "--work", str(tmp_path / "v"),
                            "--docs", str(tmp_path / "validation.md")])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["files_compared"] == 30 and res["speed_ratio"] > 5
    assert res["licenses"]["f1"] >= 0.8 and res["holders"]["f1"] >= 0.7
    assert "CMI detection against ScanCode" in (tmp_path / "validation.md").read_text()


def test_cmi_scan_prints_a_summary_line_on_stderr(data):
    r = runner.invoke(app, ["cmi", "scan", str(data / "works")])
    assert r.exit_code == 0
    assert "cmi scan: 9 files, 9 with CMI, 8 copyright notices, 9 licenses" in " ".join(r.stderr.split())
    assert "cmi scan:" not in r.stdout  # stdout stays the findings alone
