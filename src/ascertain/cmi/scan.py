"""The CMI of one file, and of many files in parallel: copyrights, authors, licenses, with line spans."""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from ascertain.cmi.authors import find_authors
from ascertain.cmi.book import find_book_cmi
from ascertain.cmi.copyrights import copyrights_of
from ascertain.cmi.license_notices import LicenseHit, fields, merge_hits, notices, spdx_tags
from ascertain.cmi.license_texts import find_texts, templates
from ascertain.cmi.lines import flatten
from ascertain.cmi.metadata import is_metadata, parse
from ascertain.readers import Document, ReadOptions, Skip, read_inputs

MAX_LINE = 4000  # longer lines (minified code, data) are scanned up to this many characters


def markup_comments(markup: str) -> list[tuple[int, str]]:
    """The `<!-- ... -->` comments of a page that carry a copyright mark, with the source line each starts on:
    a reader drops comments, but a notice there (`<!-- Copyright (c) Microsoft Corporation. -->`) is CMI."""
    return [(markup.count("\n", 0, m.start()) + 1, m.group(1)) for m in _COMMENT.finditer(markup)
            if _NOTICE_MARK.search(m.group(1))]


_COMMENT = re.compile(r"<!--(.*?)-->", re.S)
_NOTICE_MARK = re.compile(r"copyright|©|&copy;|\(c\)", re.I)


def _comment_copyrights(comments: list[tuple[int, str]]) -> list[dict]:
    out = []
    for line, body in comments:
        for c in copyrights_of("comment.txt", body, flatten(body, MAX_LINE), body.count("\n") + 1, MAX_LINE):
            c.start_line += line - 1
            c.end_line += line - 1
            c.rule = "html-comment"
            out.append(_drop_empty(asdict(c)))
    return out


def scan_text(path: str, text: str, language: str = "", comments: list[tuple[int, str]] | None = None) -> dict:
    """Everything CMI in one text. Line numbers are 1-based and inclusive. `comments`: the copyright-bearing
    comments of the page the text was read from (`markup_comments`); their notices are reported with the
    source lines of the comments (rule `html-comment`)."""
    flat = flatten(text, MAX_LINE)
    notes: list[str] = []
    n_lines = text.count("\n") + 1
    if any(len(line) > MAX_LINE for line in text.split("\n")):
        notes.append(f"{path}: lines longer than {MAX_LINE} characters (minified or data); "
                     f"each was scanned up to {MAX_LINE} characters")
    licenses: list[LicenseHit] = []
    texts = find_texts(text)
    for t in texts:
        licenses.append(LicenseHit(t.spdx, t.start_line, t.end_line, f"spdx-{t.kind}", round(100 * t.share, 2)))
    covered = [(t.spdx, t.start_line, t.end_line) for t in texts]
    for hit in spdx_tags(text) + notices(flat) + fields(text):
        # a notice inside a full text of the same license is part of that text, not a second detection
        if not any(s == hit.spdx and a <= hit.start_line and hit.end_line <= b for s, a, b in covered):
            licenses.append(hit)
    authors = find_authors(path, text)
    if is_metadata(path):
        meta_licenses, meta_authors, meta_notes = parse(path, text)
        licenses += meta_licenses
        authors += meta_authors
        notes += meta_notes
    unique = merge_hits(licenses)  # one entry per license per line: no name + notice twins
    result = {
        "path": path,
        "language": language,
        "copyrights": [_drop_empty(asdict(c)) for c in copyrights_of(path, text, flat, n_lines, MAX_LINE)]
        + _comment_copyrights(comments or []),
        "authors": [asdict(a) for a in authors],
        "licenses": [_drop_empty(asdict(h)) for h in unique],
        "notes": notes,
    }
    if language == "prose":  # title, ISBN, publisher, edition, terms, distributor header/footer (cmi/book.py)
        result["book"] = find_book_cmi(text)
    return result


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if not (k in {"note", "extra"} and not v) and not (k == "valid" and v)}


def _scan_doc(item: tuple[str, str, str, str, list]) -> dict:
    locator, text, language, encoding, comments = item
    return {**scan_text(locator, text, language, comments), "encoding": encoding}


def _page_comments(doc: Document) -> list[tuple[int, str]]:
    """The marked comments of an HTML page read from a plain file (a page inside an archive is read as text)."""
    if doc.meta.get("format") != "html" or not Path(doc.locator).is_file():
        return []
    raw = Path(doc.locator).read_bytes().decode(str(doc.meta.get("encoding", "utf-8")), errors="replace")
    return markup_comments(raw)


def _worker_init() -> None:
    templates()  # each worker builds the license index once (before fork when possible)


def scan_paths(paths: Iterable[str], processes: int | None = None, max_bytes: int = 10_000_000
               ) -> Iterator[dict]:
    """One result per readable file (in input order), and one `skipped` result per unreadable one.

    Files are read as `corpus add` reads them (the same readers: archives inside folders are opened, bytes
    are decoded by one policy, readers.base.decode, whose encoding each result records)."""
    opts = ReadOptions(max_doc_bytes=max_bytes)
    processes = processes or max(1, min(4, os.cpu_count() or 1))

    def items() -> Iterator[tuple | dict]:
        for r in read_inputs(list(paths), opts):
            if isinstance(r, Document):
                yield (r.locator, r.text, r.language, str(r.meta.get("encoding", "utf-8")), _page_comments(r))
            elif isinstance(r, Skip):
                yield {"path": r.locator, "skipped": r.reason, "fix": r.fix}

    if processes == 1:
        for it in items():
            yield it if isinstance(it, dict) else _scan_doc(it)
        return
    templates()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes, initializer=_worker_init) as pool:
        pending: list[dict | None] = []
        docs: list[tuple] = []
        for it in items():  # keep input order: skips are placed between the scanned files
            if isinstance(it, dict):
                pending.append(it)
            else:
                pending.append(None)
                docs.append(it)
        scanned = pool.imap(_scan_doc, docs, chunksize=8)
        for p in pending:
            yield p if p is not None else next(scanned)
