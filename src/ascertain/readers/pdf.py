"""PDF books: the text layer, page by page (pypdf, BSD-3-Clause; measured against pdfminer.six in
benchmarks/books.py: same text on Gutenberg's Pride and Prejudice, pypdf about twice as fast).

Pages are joined so that page N + 1 begins right after a form feed (`\\f`) at the start of its first line, as
`pdftotext` does: the text carries its own page map. A form feed is whitespace to the tokenizer and no line
break to the line counter, so token offsets and line numbers are those of the extracted text, and evidence
spans can cite `book.pdf#page=N` (match/measure.py, `pages_of`).

Refused with a Skip that says why: encrypted PDFs that need a password, damaged PDFs, PDFs without a text
layer (scanned pages: OCR is out of scope, see `SCANNED_FIX`), and text beyond the document limit. A page
whose text cannot be extracted is a Skip of its own (`book.pdf#page=N`); the rest of the book is read.
"""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.text.pages import PAGE_BREAK

MIN_TEXT_CHARS_PER_PAGE = 20  # fewer on average: no text layer (scanned), not a text book
SCANNED_FIX = ("OCR is out of scope (OCR errors would be measured as differences); run an OCR tool such as "
               "`ocrmypdf` (tesseract) on it and add the OCR'd PDF, noting that in the report")


def is_pdf(path: Path) -> bool:
    return path.suffix.lower() == ".pdf"  # by name: sniffing every file of a corpus would read it twice


def read_pdf(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    loc = str(path)
    try:
        size = path.stat().st_size
        # a PDF's bytes are mostly fonts and images: its file may be larger than the text limit
        if size > 8 * opts.max_doc_bytes:
            yield Skip(input_name, loc, f"PDF of {size:,} bytes exceeds {8 * opts.max_doc_bytes:,} bytes "
                       "(8 x the document limit)", "split it, or raise --max-doc-bytes")
            return
        data = path.read_bytes()
    except OSError as e:
        yield Skip(input_name, loc, f"cannot read ({e.strerror})", "check the path and its permissions")
        return
    yield from pdf_document(data, input_name, loc, opts)


def pdf_document(data: bytes, input_name: str, loc: str, opts: ReadOptions) -> Iterator[Document | Skip]:
    """One Document for the whole PDF (pages joined by form feeds), or Skips."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings on odd fonts are not the user's concern
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypt_without_password(reader):
            yield Skip(input_name, loc, "encrypted PDF (a password is needed to read its text)",
                       "obtain the password or an unencrypted copy (e.g. `qpdf --decrypt`) and add that")
            return
        n_pages = len(reader.pages)
        if opts.max_pdf_pages is not None and n_pages > opts.max_pdf_pages:
            yield Skip(input_name, loc, f"PDF of {n_pages:,} pages exceeds the {opts.max_pdf_pages:,}-page limit",
                       "look up a shorter extract of it")
            return
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as e:
        yield Skip(input_name, loc, f"damaged or unreadable PDF ({type(e).__name__}: {e})",
                   "check the file (`qpdf --check FILE`) and provide an intact copy")
        return
    pages: list[str] = []
    total = 0
    for i in range(n_pages):
        try:
            text = reader.pages[i].extract_text() or ""
        except LimitReachedError as e:  # a content stream that expands past pypdf's limit: a bomb
            yield Skip(input_name, loc, f"decompression bomb refused: page {i + 1}'s content expands past "
                       f"pypdf's limit ({e})", "if the PDF is genuine, re-save it (`qpdf`) and add that")
            return
        except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on broken content streams
            yield Skip(input_name, f"{loc}#page={i + 1}", f"page text not extractable ({type(e).__name__}: {e})",
                       "the page is counted but empty in the text; check the PDF or provide an intact copy")
            text = ""
        if not text.strip() and _bomb(reader.pages[i]):  # pypdf gives "" for a page it stopped decompressing
            yield Skip(input_name, loc, f"decompression bomb refused: the content of page {i + 1} expands past "
                       "pypdf's limit (75 MB)", "if the PDF is genuine, re-save it (`qpdf`) and add that")
            return
        # NFKC here (ligatures, compatibility forms) so that offsets and the page map refer to the text the
        # tokenizer sees; form feeds inside a page would shift page numbers
        text = unicodedata.normalize("NFKC", text).replace(PAGE_BREAK, "\n")
        total += len(text)
        if total > opts.max_doc_bytes:
            yield Skip(input_name, loc, f"text of the PDF passes the {opts.max_doc_bytes:,}-character limit "
                       f"at page {i + 1} of {n_pages}", "split the PDF, or raise --max-doc-bytes")
            return
        pages.append(text.rstrip("\n"))
    if sum(len(p.strip()) for p in pages) < MIN_TEXT_CHARS_PER_PAGE * max(1, n_pages):
        yield Skip(input_name, loc, f"no text layer ({n_pages} pages, scanned images or empty)", SCANNED_FIX)
        return
    text = ("\n" + PAGE_BREAK).join(pages) + "\n"
    yield Document(loc, text, "prose", hashlib.sha256(data).hexdigest(),
                   {"bytes": len(data), "format": "pdf", "pages": n_pages})


def _bomb(page) -> bool:
    """Does the page's content stream expand past pypdf's decompression limit?"""
    from pypdf.errors import LimitReachedError

    try:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    except LimitReachedError:
        return True
    except Exception:  # noqa: BLE001 - any other damage is reported by the text extraction, not here
        return False
    return False


def _decrypt_without_password(reader) -> bool:
    """PDFs encrypted with an empty user password (print/copy restrictions only) open without one."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # noqa: BLE001 - unsupported algorithms raise their own kinds
        return False
