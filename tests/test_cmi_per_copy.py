"""§1202(b) per copy: CMI moved to a record's metadata, identical except CMI, typographical only."""

from __future__ import annotations

import json
from pathlib import Path

from ascertain.cmi.identicality import compare_outside_cmi
from ascertain.cmi.scan import scan_text
from ascertain.cmi.status import status_of_copy
from ascertain.readers import ReadOptions, read_inputs
from ascertain.text.tokenize import tokenize

DEMO = Path(__file__).parents[1] / "src" / "ascertain" / "demo_data"
WORK = (DEMO / "works" / "python-rsa" / "pkcs1_v2.py").read_text(encoding="utf-8")
STRIPPED = "\n".join(WORK.split("\n")[14:])  # the copyright and license header cut off
SPANS = [{"original_lines": [15, 100], "copy_lines": [1, 86]}]


def _status(copy: str, meta: dict | None) -> dict:
    return status_of_copy(scan_text("w.py", WORK, "python"), tokenize(WORK, "python"),
                          scan_text("c.py", copy, "python"), SPANS, record_meta=meta)


def test_license_and_holder_in_record_fields_are_moved_not_removed():
    meta = {"max_stars_repo_licenses": ["Apache-2.0"], "copyright_holder": "Sybren A. Stüvel",
            "max_stars_repo_name": "sybrenstuvel/python-rsa", "id": "rec-5"}
    r = _status(STRIPPED, meta)
    assert r["status"] == "moved_to_metadata" and not r["removed"]
    moved = {m["original"]["kind"]: m["fields"] for m in r["moved_to_metadata"]}
    assert moved == {"copyright": ["copyright_holder"], "license": ["max_stars_repo_licenses"]}
    assert {f["field"] for f in r["record_fields"]} == {"copyright_holder", "max_stars_repo_licenses",
                                                         "max_stars_repo_name"}


def test_other_license_or_holder_in_fields_is_still_removed():
    r = _status(STRIPPED, {"license": "MIT", "copyright_holder": "Sybren A. Stüvelson"})
    assert r["status"] == "removed" and {i["kind"] for i in r["removed"]} == {"copyright", "license"}
    assert _status(STRIPPED, None)["status"] == "removed"
    # license only in the fields: the holder is still removed
    r = _status(STRIPPED, {"license": "Apache-2.0"})
    assert r["status"] == "removed" and [i["kind"] for i in r["removed"]] == ["copyright"]


def test_the_stack_like_record_keeps_its_license_list(tmp_path):
    rec = {"text": STRIPPED, "max_stars_repo_licenses": ["Apache-2.0", "MIT"], "max_stars_repo_name": "a/b"}
    p = tmp_path / "stack.jsonl"
    p.write_text(json.dumps(rec) + "\n")
    doc = next(d for d in read_inputs([str(p)], ReadOptions()) if hasattr(d, "meta"))
    assert doc.meta["max_stars_repo_licenses"] == ["Apache-2.0", "MIT"]


def _outside(copy: str, language: str = "python") -> dict:
    return compare_outside_cmi(WORK, "python", scan_text("w.py", WORK, "python"), copy, language,
                               scan_text("c.py", copy, language))


def test_identical_except_cmi_and_typographical_only():
    r = _outside(STRIPPED)
    assert r["identical_except_cmi"] and r["typographical_only"]
    assert r["work_tokens_outside_cmi"] == r["copy_tokens_outside_cmi"]
    case_and_layout = STRIPPED.replace('"""Functions', '"""functions').replace("    ", "  ")
    r = _outside(case_and_layout)
    assert not r["identical_except_cmi"] and r["typographical_only"]
    r = _outside(STRIPPED.replace("common", "uncommon"))
    assert not r["identical_except_cmi"] and not r["typographical_only"]
    r = _outside("\n".join(STRIPPED.split("\n")[:40]))  # a part of the work is not the whole work
    assert not r["identical_except_cmi"] and not r["typographical_only"]
    assert _outside(WORK)["identical_except_cmi"]  # the header kept: identical, CMI and all


def test_book_with_its_distributor_header_stripped_is_typographically_the_book():
    book = (DEMO / "books" / "works" / "pride-and-prejudice-ch1-6.txt").read_text(encoding="utf-8")
    rec = json.loads((DEMO / "books" / "corpus" / "books3.jsonl").read_text(encoding="utf-8").splitlines()[0])
    r = compare_outside_cmi(book, "prose", scan_text("b.txt", book, "prose"), rec["text"], "prose",
                            scan_text("r", rec["text"], "prose"))
    assert r["typographical_only"] and not r["identical_except_cmi"]  # _italics_ marks dropped, reflowed


def test_a_second_notice_of_the_same_license_is_set_aside_on_both_sides():
    work = ("# Copyright 2020 A. Author\n# Licensed under the MIT License.\n\n'''Tools.'''\n\n"
            "__license__ = 'MIT License'\n\n\ndef f(x):\n    return x + 1\n")
    copy = work.split("\n", 3)[3]  # the header cut off; the __license__ line stays
    r = compare_outside_cmi(work, "python", scan_text("w.py", work, "python"), copy, "python",
                            scan_text("c.py", copy, "python"))
    assert r["identical_except_cmi"] and r["typographical_only"]
