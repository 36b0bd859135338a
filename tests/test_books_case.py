"""Issue 15's acceptance test, through the CLI as a user runs it: Pride and Prejudice (Gutenberg's plain text)
as the work; its PDF (typeset with running heads, page numbers and hyphenation), Gutenberg's HTML and a
reflowed, header-stripped Books3-like record as the corpus, indexed at the book level. Also in the corpus:
chapters 40-43 of the novel as a different book, carrying the same Gutenberg header and license as chapters
1-3, a work of its own."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.validation.books import books3_record, excerpt_book, render_pdf

BOOKS = Path(__file__).parent / "data" / "books"
runner = CliRunner()


def ok(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("books")
    text = gzip.decompress((BOOKS / "pride-and-prejudice.txt.gz").read_bytes())
    (d / "pride-and-prejudice.txt").write_bytes(text)
    (d / "corpus").mkdir()
    (d / "corpus" / "pride-and-prejudice.htm").write_bytes(gzip.decompress(
        (BOOKS / "pride-and-prejudice.htm.gz").read_bytes()))
    t = text.decode("utf-8")
    pages = render_pdf(t, d / "corpus" / "pride-and-prejudice.pdf", "Pride and Prejudice", "Jane Austen")
    with open(d / "corpus" / "books3.jsonl", "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": books3_record(t), "title": "Pride and Prejudice"}) + "\n")
    # two different books in the same Gutenberg header and license: chapters 1-3 and chapters 40-43
    (d / "first-chapters.txt").write_text(excerpt_book(t, 1, 3), encoding="utf-8")
    (d / "corpus" / "later-chapters.txt").write_text(excerpt_book(t, 40, 43), encoding="utf-8")
    case = str(d / "case")
    ok("init", case)
    ok("works", "add", case, "--claimant", "Austen estate", "--title", "Pride and Prejudice",
       str(d / "pride-and-prejudice.txt"))
    ok("works", "add", case, "--claimant", "Another author", "--title", "First chapters", str(d / "first-chapters.txt"))
    added = json.loads(ok("corpus", "add", case, "books", str(d / "corpus"), "--level", "book", "--json"))
    assert added["documents"] == 4 and added["skipped"] == 0
    ok("match", case, "--json")
    report = json.loads((d / "case" / "reports" / "evidence.json").read_text())
    by = {(Path(r["work_file"]).name, Path(r["doc_locator"].split(":")[0]).name): r["metrics"]
          for r in report["evidence"]}
    return {"by": by, "pages": pages, "manifest": report["manifest"], "case": case}


def test_three_whole_book_copies_at_095(evidence):
    by = evidence["by"]
    for doc in ("pride-and-prejudice.pdf", "pride-and-prejudice.htm", "books3.jsonl"):
        m = by["pride-and-prejudice.txt", doc]
        assert m["copied"] and m["level"] == "book" and m["own_coverage"] >= 0.95, (doc, m["own_coverage"])
        assert m["aligned"] and m["edit_similarity"] > 0.9  # differences for the whole book


def test_stripped_record_has_cmi_removed_with_items_named(evidence):
    cmi = evidence["by"]["pride-and-prejudice.txt", "books3.jsonl"]["cmi"]
    assert cmi["status"] == "removed"
    removed = {(i["kind"], i["value"]) for i in cmi["removed"]}
    assert {("identifier", "1342"), ("distributor header", "Project Gutenberg"),
            ("distributor footer", "Project Gutenberg")} <= removed
    assert any(k == "terms of use" for k, _ in removed)
    assert {"title", "author"} <= {i["kind"] for i in cmi["retained"]}  # the record kept the title page
    # the copies that kept Gutenberg's header keep the items
    assert evidence["by"]["pride-and-prejudice.txt", "pride-and-prejudice.htm"]["cmi"]["status"] in (
        "retained", "altered")


def test_pdf_spans_cite_pages(evidence):
    spans = evidence["by"]["pride-and-prejudice.txt", "pride-and-prejudice.pdf"]["spans"]
    assert all(1 <= s["copy_pages"][0] <= s["copy_pages"][1] <= evidence["pages"] for s in spans)
    assert max(s["copy_pages"][1] for s in spans) >= evidence["pages"] - 1


def test_different_books_sharing_a_license_are_not_copies(evidence):
    m = evidence["by"].get(("first-chapters.txt", "later-chapters.txt"))
    assert m is None or (not m["copied"] and m["own_coverage"] < 0.01)
    shown = json.loads(ok("show", evidence["case"], "--json"))
    first = next(w for w in shown["works"] if w["title"] == "First chapters")
    assert "books" in first["copied_in"]  # in the whole-book copies, which hold the first half
