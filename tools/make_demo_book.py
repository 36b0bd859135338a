"""Regenerate src/ascertain/demo_data/books from Pride and Prejudice (run once; output committed).

The work: chapters 1-6 of Project Gutenberg's plain text (#1342, public domain), in Gutenberg's whole
header and license. The corpus: the same chapters typeset to PDF (running heads, page numbers, hyphenation),
as HTML, and as a Books3-like JSONL record (header stripped, paragraphs reflowed, curly quotes); and
chapters 40-43 as a different book in the same Gutenberg header and license. planted.json is the truth.

    python3 tools/make_demo_book.py [tests/data/books/pride-and-prejudice.txt.gz]
"""

from __future__ import annotations

import gzip
import html
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ascertain.validation.books import (  # noqa: E402
    books3_record,
    curly,
    excerpt_book,
    paragraphs,
    render_pdf,
)

SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "books" / "pride-and-prejudice.txt.gz"
OUT = ROOT / "src" / "ascertain" / "demo_data" / "books"
WORK = "pride-and-prejudice-ch1-6.txt"


def main() -> None:
    text = gzip.decompress(SRC.read_bytes()).decode("utf-8").replace("\r\n", "\n")
    work = excerpt_book(text, 1, 6)
    (OUT / "works").mkdir(parents=True, exist_ok=True)
    (OUT / "corpus").mkdir(parents=True, exist_ok=True)
    (OUT / "works" / WORK).write_text(work, encoding="utf-8")
    render_pdf(work, OUT / "corpus" / "pride-and-prejudice-ch1-6.pdf", "Pride and Prejudice", "Jane Austen",
               keep_distributor=True)
    body = "".join(f"<p>{html.escape(curly(p), quote=False)}</p>\n" for p in paragraphs(work))
    (OUT / "corpus" / "pride-and-prejudice-ch1-6.htm").write_text(
        "<!DOCTYPE html>\n<html><head><title>Pride and Prejudice, by Jane Austen</title>"
        "<style>p { text-indent: 1em }</style></head>\n<body>\n" + body + "</body></html>\n", encoding="utf-8")
    (OUT / "corpus" / "books3.jsonl").write_text(json.dumps(
        {"text": books3_record(work), "meta": {"source": "shadow library"}}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    (OUT / "corpus" / "other-book-ch40-43.txt").write_text(excerpt_book(text, 40, 43), encoding="utf-8")
    planted = [
        {"work_file": WORK, "source": "books", "document": "pride-and-prejudice-ch1-6.pdf",
         "kind": "book: typeset PDF (running heads, page numbers, hyphenation)", "cmi": "retained"},
        {"work_file": WORK, "source": "books", "document": "pride-and-prejudice-ch1-6.htm",
         "kind": "book: HTML (paragraphs, curly quotes)", "cmi": "retained"},
        {"work_file": WORK, "source": "books", "document": "books3.jsonl:1",
         "kind": "book: Books3-like record (header stripped, reflowed)", "cmi": "removed"},
    ]
    (OUT / "planted.json").write_text(json.dumps(planted, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
