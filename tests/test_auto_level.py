"""`corpus add` without --level is right per document (issue 23 §2): a mixed corpus of a book (HTML, PDF, a
Books3-like record, text) and code files, added with no level, finds the book's copies at the book level
(own coverage as with --level book, where level layout fell to 0.44-0.84 on held-out books), the code's at
layout, and code quoted inside prose; each document's level is in the index and in its evidence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.text.levels import CODE_LEVELS
from ascertain.works import add_work


def _mixed(tmp_path: Path, data: Path) -> Path:
    corpus = tmp_path / "mixed"
    shutil.copytree(data / "books" / "corpus", corpus / "books")
    (corpus / "code").mkdir()
    randnum = (data / "works" / "python-rsa" / "randnum.py").read_text()
    (corpus / "code" / "randnum_vendored.py").write_text(randnum)
    (corpus / "code" / "six.py").write_text((data / "corpus" / "unrelated" / "six.py").read_text())
    # code quoted in prose: a README (prose, indexed at book) holding the work's functions
    body = randnum[randnum.index("def read_random_bits"):]
    (corpus / "code" / "README.md").write_text("# Notes\n\nThe helper we use, as published:\n\n" + body
                                               + "\nThat is all.\n")
    return corpus


def _case(tmp_path: Path, data: Path, corpus: Path, name: str, level: str | None) -> dict:
    case = Case.init(tmp_path / name)
    add_work(case, "Jane Austen", str(data / "books" / "works" / "pride-and-prejudice-ch1-6.txt"))
    add_work(case, "Sybren A. Stüvel", str(data / "works" / "python-rsa" / "randnum.py"))
    summary = add_source(case, "c", "corpus", [str(corpus)], ReadOptions(), **({"level": level} if level else {}))
    report = orjson.loads(Path(run_match(case, MatchOptions())["report"]).read_bytes())
    copies = {(Path(e["work_file"]).name, Path(e["doc_locator"]).name): e for e in report["evidence"] if e["copied"]}
    return {"case": case, "summary": summary, "copies": copies}


def test_default_level_is_right_per_document(tmp_path, data):
    corpus = _mixed(tmp_path, data)
    auto = _case(tmp_path, data, corpus, "auto", None)
    book = _case(tmp_path, data, corpus, "book", "book")
    assert auto["summary"]["levels"] == {"book": 5, "layout": 2}  # HTML, PDF, record, .txt, README; 2 .py
    params = json.loads((auto["case"].source_dir("c") / "manifest.json").read_text())["params"]
    assert params["level"] == "auto"
    stored = {}
    for p in sorted(auto["case"].source_dir("c").glob("docs-*.parquet")):
        t = pq.read_table(p, columns=["locator", "level"]).to_pylist()
        stored |= {Path(r["locator"].split(":")[0]).name: CODE_LEVELS[r["level"]] for r in t}
    assert stored["randnum_vendored.py"] == "layout" and stored["pride-and-prejudice-ch1-6.pdf"] == "book"
    book_copies = {k: e for k, e in auto["copies"].items() if k[0].startswith("pride")}
    assert len(book_copies) == 3  # HTML, PDF and the Books3-like record
    for key, e in book_copies.items():
        assert e["metrics"]["level"] == "book"
        # as with --level book, record for record
        assert e["metrics"]["own_coverage"] == book["copies"][key]["metrics"]["own_coverage"] >= 0.95, key
    code = auto["copies"]["randnum.py", "randnum_vendored.py"]
    assert code["metrics"]["level"] == "layout" and code["metrics"]["own_coverage"] == 1.0
    quoted = auto["copies"]["randnum.py", "README.md"]  # code inside prose: found at the prose's level
    assert quoted["metrics"]["level"] == "book" and quoted["work_file_id"] == code["work_file_id"]
    assert len({(e["work_file_id"], e["doc_id"]) for e in auto["copies"].values()}) == len(auto["copies"])


def test_layout_level_misses_what_auto_finds_in_books(tmp_path, data):
    """The figure behind the default: the same book copies at level layout (the old default) cover less."""
    corpus = tmp_path / "books"
    shutil.copytree(data / "books" / "corpus", corpus)
    layout = _case(tmp_path, data, corpus, "layout", "layout")
    auto = _case(tmp_path, data, corpus, "auto", None)
    for key, e in auto["copies"].items():
        old = layout["copies"].get(key)
        assert old is None or old["metrics"]["own_coverage"] <= e["metrics"]["own_coverage"], key


def test_auto_batch_fingerprints_each_document_at_its_level(data):
    """The indexing pass at level auto (code through the vectorized layout pass, prose one document at a time)
    gives each document the fingerprints of its own level, in document order."""
    import numpy as np

    from ascertain.fingerprint.winnow import Params, fingerprint_batch, fingerprint_hashes
    from ascertain.text.levels import level_stream, resolved_level
    from ascertain.text.tokenize import tokenize

    texts = [(data / "works" / "python-rsa" / "randnum.py").read_text(),
             (data / "books" / "works" / "pride-and-prejudice-ch1-6.txt").read_text()[:20000],
             "", (data / "works" / "pygments" / "go.py").read_text(), "A short note.\nIt ends here.\n"]
    langs = ["python", "prose", "prose", "python", "prose"]
    params = Params(level="auto")
    b = fingerprint_batch(texts, params, None, langs)
    for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        ts = level_stream(tokenize(text, lang), resolved_level("auto", lang), lang)
        fp, pos = fingerprint_hashes(ts.hashes, params)
        assert np.array_equal(b.hashes[b.doc == i], fp) and np.array_equal(b.pos[b.doc == i], pos)
        assert b.tokens[i] == len(ts)
    assert np.all(np.diff(b.doc) >= 0)
