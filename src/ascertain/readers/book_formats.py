"""Which reader takes a book format: PDF (text layer, pages), EPUB (spine, sections), HTML (text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.epub import is_epub, read_epub
from ascertain.readers.html import is_html, read_html
from ascertain.readers.pdf import is_pdf, read_pdf


def is_book(path: Path) -> bool:
    return is_pdf(path) or is_epub(path) or is_html(path)


def read_book(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    if is_pdf(path):
        yield from read_pdf(path, opts, input_name)
    elif is_epub(path):
        yield from read_epub(path, opts, input_name)
    else:
        yield from read_html(path, opts, input_name)
