"""The CMI of one file, and of many files in parallel: copyrights, authors, licenses, with line spans."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from ascertain.cmi.authors import find_authors
from ascertain.cmi.book import find_book_cmi
from ascertain.cmi.copyrights import find_copyrights
from ascertain.cmi.license_notices import LicenseHit, fields, notices, spdx_tags
from ascertain.cmi.license_texts import find_texts, templates
from ascertain.cmi.lines import flatten
from ascertain.cmi.metadata import is_metadata, parse
from ascertain.readers import Document, ReadOptions, Skip, read_inputs
from ascertain.text.languages import language_of

MAX_LINE = 4000  # longer lines (minified code, data) are scanned up to this many characters


def scan_text(path: str, text: str, language: str = "") -> dict:
    """Everything CMI in one text. Line numbers are 1-based and inclusive."""
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
    seen: set[tuple] = set()
    unique: list[LicenseHit] = []
    for h in sorted(licenses, key=lambda h: (h.start_line, h.end_line, h.spdx, h.rule)):
        if (h.spdx, h.start_line, h.rule) not in seen:
            seen.add((h.spdx, h.start_line, h.rule))
            unique.append(h)
    result = {
        "path": path,
        "language": language,
        "copyrights": [_drop_empty(asdict(c)) for c in find_copyrights(flat, n_lines)],
        "authors": [asdict(a) for a in authors],
        "licenses": [_drop_empty(asdict(h)) for h in unique],
        "notes": notes,
    }
    if language == "prose":  # title, ISBN, publisher, edition, terms, distributor header/footer (cmi/book.py)
        result["book"] = find_book_cmi(text)
    return result


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if not (k in {"note", "extra"} and not v) and not (k == "valid" and v)}


def _scan_doc(item: tuple[str, str, str] | tuple[str, str, str, str]) -> dict:
    result = scan_text(*item[:3])
    if len(item) > 3:
        result["notes"].insert(0, item[3])
    return result


def _legacy_encoding(skip: Skip) -> tuple[str, str, str, str] | None:
    """Old files in Latin-1/Windows-1252 still carry notices: scan them, and say how they were decoded."""
    path = Path(skip.locator)
    if not skip.reason.startswith("not UTF-8") or not path.is_file():
        return None
    text = path.read_bytes().decode("cp1252", errors="replace")
    return (skip.locator, text, language_of(skip.locator),
            f"{skip.locator}: {skip.reason}; scanned as Windows-1252 (line numbers exact, accented letters may be "
            "wrong). Fix: convert it to UTF-8")


def _worker_init() -> None:
    templates()  # each worker builds the license index once (before fork when possible)


def scan_paths(paths: Iterable[str], processes: int | None = None, max_bytes: int = 10_000_000
               ) -> Iterator[dict]:
    """One result per readable file (in input order), and one `skipped` result per unreadable one."""
    opts = ReadOptions(expand_containers=False, max_doc_bytes=max_bytes)
    processes = processes or max(1, min(4, os.cpu_count() or 1))

    def items() -> Iterator[tuple | dict]:
        for r in read_inputs(list(paths), opts):
            if isinstance(r, Document):
                yield (r.locator, r.text, r.language)
            elif isinstance(r, Skip):
                yield _legacy_encoding(r) or {"path": r.locator, "skipped": r.reason, "fix": r.fix}

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
