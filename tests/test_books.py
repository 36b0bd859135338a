"""Books: PDF/EPUB/HTML readers, the book level, publishers' boilerplate, book CMI, book-length alignment.

Test books are generated from Pride and Prejudice (Project Gutenberg #1342, public domain): typeset to PDF
with running heads, page numbers and hyphenation (reportlab), written as EPUB, then read back.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ascertain.cmi.book import find_book_cmi
from ascertain.cmi.scan import scan_text
from ascertain.cmi.status import status_of_copy
from ascertain.fingerprint.winnow import Params
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import compare_prepared, prepare
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.readers.html import html_to_text
from ascertain.text.book import book_stream
from ascertain.text.tokenize import tokenize
from ascertain.validation.books import books3_record, render_epub, render_pdf, split_book

BOOKS = Path(__file__).parent / "data" / "books"


def pp_text() -> str:
    return gzip.decompress((BOOKS / "pride-and-prejudice.txt.gz").read_bytes()).decode("utf-8")


@pytest.fixture(scope="module")
def excerpt() -> str:
    """Chapters 1-6 of Pride and Prejudice with Gutenberg's header and full license."""
    t = pp_text()
    return t[:t.index("Chapter 7")] + t[t.index("End of the Project Gutenberg"):]


def read(path: Path, **kw) -> tuple[list[Document], list[Skip]]:
    items = list(read_inputs([path], ReadOptions(**kw)))
    return [i for i in items if isinstance(i, Document)], [i for i in items if isinstance(i, Skip)]


def compare_texts(work: str, copy: str, level: str = "book", align: bool = False) -> dict:
    p = Params(level=level)
    w = prepare(work, "prose", "work.txt", "w", p, level=level)
    c = prepare(copy, "prose", "copy", "c", p, level=level)
    return compare_prepared(w, c, p, Thresholds(), align=align)


@pytest.fixture(scope="module")
def pdf_book(excerpt, tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("pdf") / "pp.pdf"
    return path, render_pdf(excerpt, path, "Pride and Prejudice", "Jane Austen")


def test_pdf_pages_furniture_and_hyphenation_at_the_book_level(excerpt, pdf_book):
    path, pages = pdf_book
    (doc,), skips = read(path)
    assert not skips and doc.language == "prose" and doc.meta["pages"] == pages
    assert doc.text.count("\f") == pages - 1
    assert "-\n" in doc.text  # the typesetter hyphenated words at line ends ...
    layout = compare_texts(excerpt, doc.text, "layout")
    book = compare_texts(excerpt, doc.text, "book")
    assert book["copied"] and book["own_coverage"] >= 0.99 > layout["own_coverage"]
    # ... and page numbers and running heads (title on even pages, author on odd ones) are no words at the
    # book level: no kept token starts on such a line
    ts = book_stream(tokenize(doc.text))
    furniture, pos = [], 0
    for line in doc.text.split("\n"):
        if line.strip(" \f") in {"Pride and Prejudice", "Jane Austen"} or line.strip(" \f").isdigit():
            furniture.append((pos, pos + len(line)))
        pos += len(line) + 1
    assert len(furniture) >= 2 * pages - 1
    assert all(np.searchsorted(ts.start, a) == np.searchsorted(ts.start, b) for a, b in furniture)
    # every span of a paged copy cites its pages
    assert all(1 <= s["copy_pages"][0] <= s["copy_pages"][1] <= pages for s in book["spans"])
    assert book["spans"][-1]["copy_pages"][1] == pages


def test_rejoined_word_keeps_its_offsets():
    text = "It is a truth universally acknow-\nledged, that a single man.\n\fPage two be-\n\fgins here.\n"
    ts = book_stream(tokenize(text))
    words = [text[a:b] for a, b in zip(ts.start.tolist(), ts.end.tolist(), strict=True)]
    assert "acknow-\nledged" in words  # one word, shown as written
    joined = book_stream(tokenize("acknowledged"))
    i = words.index("acknow-\nledged")
    assert ts.hashes[i] == joined.hashes[0]
    soft = book_stream(tokenize("acknow\u00adledged"))
    assert len(soft) == 1 and soft.hashes[0] == joined.hashes[0]
    assert book_stream(tokenize("_truth_")).hashes[0] == book_stream(tokenize("truth")).hashes[0]


def test_epub_spine_order_sections_and_coverage(excerpt, tmp_path):
    path = tmp_path / "pp.epub"
    n = render_epub(excerpt, path, "Pride and Prejudice", "Jane Austen")
    # store the members in reverse: the reading order is the spine's, not the zip's
    shuffled = tmp_path / "shuffled.epub"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(shuffled, "w") as dst:
        for info in reversed(src.infolist()):
            dst.writestr(info, src.read(info))
    (doc,), skips = read(shuffled)
    assert not skips and len(doc.meta["sections"]) == n and doc.text.count("\f") == n - 1
    assert doc.meta["sections"][1].endswith("(Chapter 1)")
    assert doc.text.index("Chapter 1") < doc.text.index("Chapter 2") < doc.text.index("Chapter 6")
    r = compare_texts(excerpt, doc.text)
    assert r["copied"] and r["own_coverage"] >= 0.99
    assert r["spans"][-1]["copy_pages"][1] == n  # the section of the span (meta["sections"][n - 1])


def test_html_to_text_blocks_entities_scripts():
    markup = ("<html><head><title>A &amp; B</title><style>p{color:red}</style></head><body>"
              "<script>var x = 'not text';</script><h1>Chapter&nbsp;1</h1><p>It is a <i>truth</i>\n   "
              "universally acknowledged &mdash; &#8220;so&#8221;.</p><div>Line one<br>Line two</div>"
              "<!-- a comment --><p>Last</p></body></html>")
    text = html_to_text(markup)
    assert text == ("A & B\n\nChapter 1\n\nIt is a truth universally acknowledged \u2014 \u201cso\u201d.\n\n"
                    "Line one\nLine two\n\nLast\n")
    deep = "<div>" * 5_000 + "deep" + "</div>" * 5_000  # no recursion limit in the walk
    assert html_to_text(deep).strip() == "deep"


def test_html_copy_of_a_book(excerpt, tmp_path):
    paras = "".join(f"<p>{p}</p>\n" for p in excerpt.split("\n\n"))
    path = tmp_path / "book.htm"
    path.write_text(f"<html><body><script>alert(1)</script>{paras}</body></html>", encoding="utf-8")
    (doc,), _ = read(path)
    assert "alert" not in doc.text
    assert compare_texts(excerpt, doc.text)["own_coverage"] >= 0.99


def test_hostile_pdfs_are_skips_with_reasons(tmp_path, pdf_book):
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    src, _ = pdf_book
    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "encrypted.pdf")
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%garbage" + b"\x00" * 64)
    (tmp_path / "truncated.pdf").write_bytes(src.read_bytes()[:2000])
    c = canvas.Canvas(str(tmp_path / "scanned.pdf"))
    for _ in range(3):
        c.rect(50, 50, 400, 600, fill=1)  # a page image stand-in: no text layer
        c.showPage()
    c.save()
    owner_only = PdfWriter(clone_from=PdfReader(src))
    owner_only.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    owner_only.write(tmp_path / "restricted.pdf")
    reasons = {}
    for name in ("encrypted", "corrupt", "truncated", "scanned", "restricted"):
        docs, skips = read(tmp_path / f"{name}.pdf")
        reasons[name] = (len(docs), [s.reason for s in skips], [s.fix for s in skips])
    assert reasons["encrypted"][0] == 0 and "password" in reasons["encrypted"][1][0]
    for name in ("corrupt", "truncated"):
        assert reasons[name][0] == 0 and reasons[name][1], name
        assert "PDF" in reasons[name][1][0] or "page" in reasons[name][1][0]
    assert reasons["scanned"][0] == 0 and "no text layer" in reasons["scanned"][1][0]
    assert "OCR" in reasons["scanned"][2][0]
    assert reasons["restricted"][0] == 1  # an empty user password: readable, as any PDF viewer reads it
    docs, skips = read(src, max_doc_bytes=5000)
    assert not docs and "limit" in skips[0].reason


def _epub(path: Path, members: dict[str, bytes | str], spine_href: str = "ch1.xhtml") -> Path:
    container = ('<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                 '<rootfile full-path="OEBPS/content.opf"/></rootfiles></container>')
    opf = ('<package xmlns="http://www.idpf.org/2007/opf"><manifest><item id="c1" href="' + spine_href +
           '" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c1"/></spine></package>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml", container)
        zf.writestr("OEBPS/content.opf", opf)
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_hostile_epubs_are_skips_with_reasons(tmp_path):
    bomb = _epub(tmp_path / "bomb.epub", {"OEBPS/ch1.xhtml": "<p>" + " " * 30_000_000 + "</p>"})
    traversal = _epub(tmp_path / "trav.epub", {"OEBPS/ch1.xhtml": "<p>x</p>"}, spine_href="../../../etc/passwd")
    drm = _epub(tmp_path / "drm.epub", {"OEBPS/ch1.xhtml": b"\x93\x01binary",
                                        "META-INF/encryption.xml": '<encryption><EncryptedData><CipherData>'
                                        '<CipherReference URI="OEBPS/ch1.xhtml"/></CipherData></EncryptedData>'
                                        '</encryption>'})
    entities = tmp_path / "lol.epub"
    with zipfile.ZipFile(entities, "w") as zf:
        zf.writestr("META-INF/container.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><container>&a;</container>')
    (tmp_path / "notzip.epub").write_bytes(b"PK\x03\x04 not really a zip")
    out = {}
    for p in (bomb, traversal, drm, entities, tmp_path / "notzip.epub"):
        docs, skips = read(p, min_bomb_bytes=1 << 20, max_archive_ratio=50)
        assert not docs and len(skips) == 1, p
        out[p.stem] = skips[0].reason
    assert "bomb" in out["bomb"] and "traversal" in out["trav"] and "DRM" in out["drm"]
    assert "entities" in out["lol"] and "damaged" in out["notzip"]


def test_shared_distributor_license_is_not_copying():
    """Two different books (the two halves of one novel) in the same Gutenberg header and license."""
    a, b = split_book(pp_text())
    r = compare_texts(a, b)
    assert not r["copied"] and r["own_coverage"] < 0.01
    assert r["spans"] and all(s["cmi_tokens"] == s["tokens"] for s in r["spans"])  # reported, all boilerplate
    # the same with a publisher's copyright page and series list shared by two different books
    page = ("Copyright \u00a9 2021 by Harbour Lane Press\nAll rights reserved. No part of this book may be "
            "reproduced in any form without written permission from the publisher, except by a reviewer who may "
            "quote brief passages in a review; for permissions write to the address below.\n"
            "First published in Great Britain in 2021 by Harbour Lane Press, 12 Quay Street, Bristol\n"
            "Printed in the United Kingdom by Clays Ltd, Elcograf S.p.A.\n10 9 8 7 6 5 4 3 2 1\n\n"
            "Also by Harbour Lane Press\n\nThe Quiet Harbour\nA Winter Crossing\nSalt and Stone\nThe Long Tide\n"
            "Northern Lights over the Severn Estuary\nThe Cartographer's Daughter\n\n")
    x = page + a[a.index("Chapter 1"):a.index("Chapter 4")]
    y = page + b[b.index("Chapter 40"):b.index("Chapter 43")]
    r = compare_texts(x, y)
    assert not r["copied"] and r["spans"]


def test_book_cmi_of_a_copyright_page():
    page = ("The Quiet Harbour\n\nby Anna Example\n\nCopyright \u00a9 2019 by Anna Example\nAll rights reserved.\n"
            "Published in 2019 by Harbour Lane Press\nHarbour Lane is an imprint of Northwind Publishing Group\n"
            "ISBN 978-0-14-143951-8\nISBN 0-14-143951-0\nSecond edition 2021\n"
            "This work is licensed under a Creative Commons Attribution 4.0 International License.\n")
    found = {(i["kind"], i["value"], i["start_line"]) for i in find_book_cmi(page)}
    assert ("author", "Anna Example", 3) in found
    assert ("rights reservation", "All rights reserved", 6) in found
    assert ("publisher", "Harbour Lane Press", 7) in found
    assert ("imprint", "Harbour Lane", 8) in found and ("publisher", "Northwind Publishing Group", 8) in found
    assert ("edition", "Second edition 2021", 11) in found
    assert ("terms of use", "Creative Commons Attribution 4.0 International", 12) in found
    isbns = [i for i in find_book_cmi(page) if i["kind"] == "isbn"]
    assert [(i["value"], i["valid"]) for i in isbns] == [("978-0-14-143951-8", True), ("0-14-143951-0", False)]
    cmi = scan_text("page.txt", page, "prose")
    assert cmi["copyrights"] and cmi["book"]


def test_stripped_copy_has_its_book_cmi_removed(excerpt):
    stripped = books3_record(excerpt)
    r = compare_texts(excerpt, stripped)
    assert r["copied"] and r["own_coverage"] >= 0.99
    ts = tokenize(excerpt)
    status = status_of_copy(scan_text("w", excerpt, "prose"), ts, scan_text("c", stripped, "prose"), r["spans"])
    assert status["status"] == "removed"
    removed = {(i["kind"], i["value"]) for i in status["removed"]}
    assert {("distributor header", "Project Gutenberg"), ("distributor footer", "Project Gutenberg"),
            ("identifier", "1342")} <= removed
    assert any(k == "terms of use" and "Project Gutenberg License" in v for k, v in removed)
    # the title page ("PRIDE AND PREJUDICE / By Jane Austen") survives in the record: title and author retained
    assert {"title", "author"} <= {i["kind"] for i in status["retained"]}
    kept = status_of_copy(scan_text("w", excerpt, "prose"), ts, scan_text("c", excerpt, "prose"), r["spans"])
    assert kept["status"] == "retained"


ALIGN_200K = """
import json, sys
sys.path.insert(0, sys.argv[1])
from test_books import compare_texts, pp_text, tokenize
from ascertain.validation.books import body_of, curly, paragraphs
paras = paragraphs(body_of(pp_text()))
extra = [" ".join(p.split()[::-1]) for p in paras]  # more prose, the same vocabulary, other word order
n = len(tokenize("\\n\\n".join(paras)))
while n < 200_000:
    n += len(tokenize(extra[0]))
    paras.append(extra.pop(0))
work = "\\n\\n".join(paras) + "\\n"
copy = "\\n".join(curly(p) for p in paras) + "\\n"  # reflowed, curly quotes and apostrophes, em dashes
r = compare_texts(work, copy, align=True)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a parent that has imported torch would
# make this process look as large as itself
hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print(json.dumps({"tokens": len(tokenize(work)), "rss_mb": hwm >> 10,
                  **{k: r[k] for k in ("copied", "own_coverage", "aligned", "edit_similarity", "differences")}}))
"""


def test_book_length_alignment_in_bounded_memory():
    """A 200,000-token book against its reflowed, curly-quoted record: aligned between anchors, in a process
    of its own so that its peak memory is measured."""
    out = subprocess.run([sys.executable, "-c", ALIGN_200K, str(Path(__file__).parent)], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    r = json.loads(out.stdout)
    assert r["tokens"] >= 200_000 and r["copied"] and r["own_coverage"] >= 0.99
    assert r["aligned"] and 0.9 < r["edit_similarity"] < 1 and r["differences"]
    assert r["rss_mb"] < 400


def test_pdf_bytes_read_from_memory_are_deterministic(pdf_book):
    from ascertain.readers.pdf import pdf_document

    path, _ = pdf_book
    data = path.read_bytes()
    a = next(pdf_document(data, "x", "x.pdf", ReadOptions()))
    b = next(pdf_document(io.BytesIO(data).getvalue(), "x", "x.pdf", ReadOptions()))
    assert a.text == b.text and a.sha256 == b.sha256


def test_auto_level_indexes_books_and_code_side_by_side(tmp_path, data):
    """`--level auto`: prose documents at the book level, code at the layout level, in one index."""
    from ascertain.case import Case
    from ascertain.match.run import MatchOptions, run_match
    from ascertain.sources import add_source
    from ascertain.works import add_work

    case = Case.init(tmp_path / "case")
    add_work(case, "Austen", str(data / "books" / "works" / "pride-and-prejudice-ch1-6.txt"), "P&P 1-6")
    add_work(case, "Stüvel", str(data / "works" / "python-rsa" / "randnum.py"), "randnum")
    add_source(case, "mixed", "corpus", [str(data / "books" / "corpus" / "pride-and-prejudice-ch1-6.pdf"),
                                         str(data / "corpus" / "vendor" / "randnum.py")], ReadOptions(), level="auto")
    manifest = json.loads((case.source_dir("mixed") / "manifest.json").read_text())
    assert manifest["params"]["level"] == "auto"
    report = json.loads(Path(run_match(case, MatchOptions())["report"]).read_text())
    copied = {(Path(r["work_file"]).name, Path(r["doc_locator"]).name): r["metrics"] for r in report["evidence"]
              if r["copied"]}
    assert copied["pride-and-prejudice-ch1-6.txt", "pride-and-prejudice-ch1-6.pdf"]["own_coverage"] >= 0.99
    assert copied["randnum.py", "randnum.py"]["identical"]
    assert len(copied) == 2


def test_compare_cli_cites_pdf_pages(data):
    from typer.testing import CliRunner

    from ascertain.cli import app

    books = data / "books"
    r = CliRunner().invoke(app, ["compare", "--level", "book", str(books / "works" / "pride-and-prejudice-ch1-6.txt"),
                                 str(books / "corpus" / "pride-and-prejudice-ch1-6.pdf")])
    assert r.exit_code == 0, r.output
    assert "COPIED (level book)" in r.stdout and "(pages 1-3)" in r.stdout
