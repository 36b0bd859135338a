"""Copyright holders on real notices: the patterns of the labelled real set (tune split), and the set itself."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ascertain.cmi import real_set
from ascertain.cmi.scan import scan_paths, scan_text
from ascertain.cmi.validate import markdown_real, norm_real, validate_real


def holders(path: str, text: str) -> list[str]:
    return [h for c in scan_text(path, text)["copyrights"] for h in c["holders"]]


# ---- patterns seen in the tune split's real files ----------------------------------------------------

def test_dep5_header_url_is_no_notice_and_every_field_line_is_a_holder():
    dep5 = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\n"
            "Files: *\nCopyright: 2000-2004, Ned Konz <perl@bike-nomad.com>\n Tye McQueen <tyemq@cpan.org>\n"
            " Mark-Jason Dominus <mjd-perl-diff@plover.com>\nLicense: Artistic\n\n"
            "Files: debian/*\nCopyright: 2002-2009, Clint Adams <schizo@debian.org>\n"
            "           2010- Anibal Monsalve Salazar <anibal@debian.org>\n           2012, David Prévot\n"
            "License: GPL-2+\n This program is free software; you can redistribute it\n")
    assert holders("copyright", dep5) == ["Ned Konz", "Tye McQueen", "Mark-Jason Dominus", "Clint Adams",
                                          "Anibal Monsalve Salazar", "David Prévot"]


def test_marks_glued_to_words_paths_and_symbols_are_no_notices():
    assert holders("x.h", "PyAPI_FUNC(const char *) Py_GetCopyright(void);\n") == []
    assert holders("x.js", '    chars: "ÄĀā¶ß®©™ę¨≠ģĮįĪ≤≥"\n') == []
    assert holders("x.txt", "see <a href='#document-copyright'>\n") == []
    assert holders("x.txt", "©2008 Foo Bar\n") == ["Foo Bar"]


def test_statement_after_a_word_when_a_year_or_an_email_follows():
    line = ("<!--! Font Awesome Free 6.2.0 (Icons: CC BY 4.0, Code: MIT License) Copyright 2022 Fonticons, Inc. -->"
            "<path d='M0'/>\n")
    assert holders("page.js", line) == ["Fonticons, Inc."]
    assert holders("README.md", "Original code Copyright Julian Gruber <julian@juliangruber.com>\n\n"
                                "Port to TypeScript Copyright Isaac Z. Schlueter <i@izs.me>\n") == [
        "Julian Gruber", "Isaac Z. Schlueter"]
    assert holders("x.txt", "  based on `SmartyPants`_ © 2003 John Gruber\n") == ["John Gruber"]
    assert holders("x.txt", "See the file Copyright for the status of this software.\n") == []


def test_spdx_file_copyright_text_and_markdown_links():
    assert holders("x.h", "    SPDX-FileCopyrightText: 2016-2017 Milian Wolff <mail@milianw.de>\n") == [
        "Milian Wolff"]
    assert holders("LICENSE.md", "Copyright © 2018, [Encode OSS Ltd](https://www.encode.io/).\n"
                                 "All rights reserved.\n") == ["Encode OSS Ltd."]


def test_addresses_after_an_organisation_and_names_broken_over_lines():
    assert holders("x.h", " * Copyright 1993, 1994 NCR Corporation - Dayton, Ohio, USA\n") == ["NCR Corporation"]
    assert holders("x.h", "Copyright 1987 by Digital Equipment Corporation, Maynard, Massachusetts.\n") == [
        "Digital Equipment Corporation"]
    assert holders("x.h", "CruiseControl Copyright (c) 2001-2003, ThoughtWorks, Inc. 651 W\n") == [
        "ThoughtWorks, Inc."]
    # a list of organisations is not an address
    assert holders("x.txt", "Copyright 2010 Red Hat, Inc., Apple Inc., Easy Software Products\n") == [
        "Red Hat, Inc., Apple Inc., Easy Software Products"]
    assert holders("gmp.h", "Copyright 2001-2003, 2006 Free Software\nFoundation, Inc.\n\nThis file is part\n") == [
        "Free Software Foundation, Inc."]
    assert holders("x.py", "# Copyright (c) 2001, 2002 Python Software\n# Foundation; All Rights Reserved\n") == [
        "Python Software Foundation"]
    assert holders("x.txt", "Copyright 2010 Foo Bar\nFoundation of the work is this.\n") == ["Foo Bar"]


def test_sentences_that_state_a_copyright_and_their_ends():
    tcl = ("This software is copyrighted by the Regents of the University of\nCalifornia, Sun Microsystems, Inc., "
           "Scriptics Corporation,\nand other parties.  The following terms apply to all files\n")
    assert holders("license.terms", tcl) == [
        "the Regents of the University of California, Sun Microsystems, Inc., Scriptics Corporation"]
    assert holders("x.txt", "For software which is copyrighted by the Free Software Foundation, write to\n") == []
    assert holders("x.txt", "the kernel is copyrighted by me and others who actually wrote it.\n") == []
    assert holders("x.txt", "this software is Copyright (c) 2007-2010 by Baptiste Lepilleur, and is\nreleased\n") == [
        "Baptiste Lepilleur"]
    assert holders("x.txt", "Copyright: Erik Baalbergen, Eric Gisin, Arnold Robbins, J.T. Conklin\n") == [
        "Erik Baalbergen, Eric Gisin, Arnold Robbins, J.T. Conklin"]
    assert holders("x.txt", "Universal Copyright Convention (as revised on July 24, 1971).\n") == []
    assert holders("x.txt", "and the Universal Copyright Convention (as revised on July 24, 1971).\n") == []


def test_minified_banner_and_html_comments(tmp_path: Path):
    banner = ("/*! jQuery v3.6.1 | (c) OpenJS Foundation and other contributors | jquery.org/license */\n"
              "!function(e){}\n")
    assert holders("jquery.min.js", banner) == ["OpenJS Foundation and other contributors"]
    page = tmp_path / "index.html"
    page.write_text("<!DOCTYPE html>\n<!--\n  Copyright (c) Microsoft Corporation.\n-->\n<html><body><p>Hello</p>"
                    "</body></html>\n", encoding="utf-8")
    [result] = list(scan_paths([str(page)], processes=1))
    found = [(c["holders"], c["start_line"], c["rule"]) for c in result["copyrights"]]
    assert found == [(["Microsoft Corporation"], 3, "html-comment")]


# ---- the labelled set ------------------------------------------------------------------------------------

def test_real_set_is_split_by_project_and_labels_are_well_formed():
    cases = real_set.load()
    assert len(cases) >= 400 and len({c.project for c in cases}) >= 300
    by_project: dict[str, set[str]] = {}
    for c in cases:
        by_project.setdefault(c.project, set()).add(c.split)
        assert c.split == real_set.split_of(c.project)
        assert c.excerpt.endswith("\n") and all(norm_real(h) for h in c.holders)
        assert len(c.sha256) == 64 and int(c.sha256, 16) >= 0
    assert all(len(s) == 1 for s in by_project.values())
    assert len({c.sha256 for c in cases}) == len(cases)
    sources = {c.source for c in cases}
    assert {"debian-copyright", "package-source", "license-file", "c-header", "npm", "html", "minified-js"} <= sources


def test_excerpt_keeps_mark_lines_with_context_and_cuts_long_lines():
    text = "a\nb\n# Copyright 2001 Foo\n#   2002 Bar\n\nz\n" + "x" * 1000 + " (c) Baz " + "y" * 1000 + "\n"
    ex = real_set.excerpt(text)
    assert ex.startswith("b\n# Copyright 2001 Foo\n#   2002 Bar\n\nz\n")
    long_line = ex.rstrip("\n").split("\n")[-1]
    assert "(c) Baz" in long_line and len(long_line) < 700


def test_validate_real_scores_both_splits_without_scancode(tmp_path: Path):
    r = validate_real(None, tmp_path, 1, "tune")
    a = r["ascertain"]["holders"]
    assert r["files"] > 150 and a["both"] > 400
    assert a["f1"] >= 0.95 and a["ci95"]["f1"][0] <= a["f1"] <= a["ci95"]["f1"][1]
    md = markdown_real(r, "ascertain cmi validate --real --split tune --scancode none")
    assert "| ascertain |" in md and "ScanCode" not in md.split("F1 by source")[0].split("| tool |")[1]
    saved = json.loads((tmp_path / "cmi-real-tune.json").read_text(encoding="utf-8"))
    assert saved["set_digest"] == r["set_digest"]
    # the excerpts written for the scanners are the labelled ones, byte for byte
    for c in real_set.load():
        if c.split == "tune":
            assert hashlib.sha256((tmp_path / "real-tune" / c.name).read_bytes()).hexdigest() == \
                hashlib.sha256(c.excerpt.encode()).hexdigest()


@pytest.mark.skipif(not os.environ.get("ASCERTAIN_SCANCODE"), reason="ScanCode not installed (ASCERTAIN_SCANCODE)")
def test_validate_real_beside_scancode_on_a_few_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    few = [c for c in real_set.load() if c.split == "test" and c.holders][:4]
    monkeypatch.setattr(real_set, "load", lambda path=real_set.LABELS: few)
    r = validate_real(os.environ["ASCERTAIN_SCANCODE"], tmp_path, 1, "test")
    assert r["files"] == 4 and r["ScanCode"]["holders"]["both"] > 0


def test_cmi_validate_real_command(tmp_path: Path):
    from typer.testing import CliRunner

    from ascertain.cli import app

    r = CliRunner().invoke(app, ["cmi", "validate", "--real", "--split", "tune", "--scancode", "none", "--work",
                                 str(tmp_path), "--docs", str(tmp_path / "v.md"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["ascertain"]["holders"]["f1"] >= 0.95
    assert "ascertain cmi validate --real --split tune" in (tmp_path / "v.md").read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, ["cmi", "validate", "--real", "--split", "nope", "--scancode", "none", "--work",
                                   str(tmp_path)])
    assert bad.exit_code != 0 and "test or tune" in bad.output
