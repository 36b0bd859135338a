"""EPUB books: the spine's XHTML documents in reading order, as one text (zipfile and the OPF package file;
no EPUB library needed).

Spine items are joined like PDF pages, each after a form feed at the start of its first line, so a span's
section is found from the text alone (match/measure.py `pages_of`); meta["sections"] names the spine item
of section N (its path in the EPUB and its first heading), for locators such as `book.epub#section=3`.

Hostile EPUBs get the archive rules (readers/archives.py): member names that escape the archive, more
output than `max_archive_ratio` x the file (decompression bomb), and more text than the document limit are
refused with a Skip; so are DRM-encrypted EPUBs (META-INF/encryption.xml over content) and broken OPFs.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from ascertain.readers.archives import unsafe_name
from ascertain.readers.base import Document, ReadOptions, Skip, decode
from ascertain.readers.html import MarkupBudget, TagBudget, html_to_text
from ascertain.text.pages import PAGE_BREAK

EPUB_SUFFIX = ".epub"
_XHTML = ("application/xhtml+xml", "text/html", "application/x-dtbook+xml")
_HEADING = re.compile(r"<h[1-3][^>]*>([\s\S]*?)</h[1-3]>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


class _Refused(Exception):
    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def is_epub(path: Path) -> bool:
    return path.suffix.lower() == EPUB_SUFFIX


def read_epub(path: Path, opts: ReadOptions, input_name: str) -> Iterator[Document | Skip]:
    loc = str(path)
    try:
        size = path.stat().st_size
        if size > 8 * opts.max_doc_bytes:
            raise _Refused(f"EPUB of {size:,} bytes exceeds {8 * opts.max_doc_bytes:,} bytes (8 x the document "
                           "limit)", "split it, or raise --max-doc-bytes")
        data = path.read_bytes()
        with zipfile.ZipFile(path) as zf:
            sections, text = _spine_text(zf, size, opts, input_name, loc)
    except _Refused as r:
        yield Skip(input_name, loc, r.reason, r.fix)
        return
    except MarkupBudget as e:
        yield Skip(input_name, loc, f"{e} refused",
                   "split the book, or raise the budget (`corpus add --max-markup-tags`) if it is genuine")
        return
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, ValueError, ElementTree.ParseError) as e:
        yield Skip(input_name, loc, f"damaged or unreadable EPUB ({type(e).__name__}: {e})",
                   "check the file (`unzip -t FILE`) and provide an intact copy")
        return
    yield Document(loc, text, "prose", hashlib.sha256(data).hexdigest(),
                   {"bytes": size, "format": "epub", "sections": sections})


def _xml(data: bytes) -> ElementTree.Element:
    if b"<!ENTITY" in data:  # entity definitions in a package file only serve expansion attacks
        raise _Refused("EPUB package file declares XML entities (refused: entity expansion)",
                       "the file is unsafe; obtain a clean copy")
    return ElementTree.fromstring(data)


def _spine_text(zf: zipfile.ZipFile, size: int, opts: ReadOptions, input_name: str, loc: str
                ) -> tuple[list[str], str]:
    budget = max(opts.min_bomb_bytes, size * opts.max_archive_ratio)
    if opts.max_expanded_bytes is not None:
        budget = min(budget, opts.max_expanded_bytes)
    used = 0
    tags = TagBudget(opts.max_markup_tags)

    def member(name: str) -> bytes:
        nonlocal used
        if unsafe_name(name):
            raise _Refused(f"path traversal refused: member name {name!r} escapes the EPUB",
                           "the file is unsafe; obtain a clean copy from its source")
        with zf.open(name) as fh:
            data = fh.read(opts.max_doc_bytes + 1)
        used += len(data)
        if used > budget:
            raise _Refused(f"decompression bomb refused: output passed {budget:,} bytes",
                           "if the EPUB is genuine, unzip it yourself and pass its XHTML files")
        if len(data) > opts.max_doc_bytes:
            raise _Refused(f"member {name} exceeds the {opts.max_doc_bytes:,}-byte limit",
                           "raise --max-doc-bytes if it is genuine text")
        return data

    names = set(zf.namelist())
    container = _xml(member("META-INF/container.xml"))
    rootfile = next((e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile")), None)
    if not rootfile:
        raise _Refused("EPUB without a package file (no rootfile in META-INF/container.xml)",
                       "check the file; an EPUB names its OPF in META-INF/container.xml")
    opf = _xml(member(rootfile))
    base = posixpath.dirname(rootfile)
    manifest = {e.get("id"): (e.get("href") or "", e.get("media-type") or "")
                for e in opf.iter() if e.tag.endswith("}item") or e.tag == "item"}
    spine = [e.get("idref") for e in opf.iter() if e.tag.endswith("itemref") and e.get("linear") != "no"]
    encrypted = _encrypted(zf, names, member)
    sections: list[str] = []
    parts: list[str] = []
    total = 0
    for idref in spine:
        href, media = manifest.get(idref, ("", ""))
        if media not in _XHTML:
            continue
        name = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
        if unsafe_name(name):
            raise _Refused(f"path traversal refused: spine item {href!r} escapes the EPUB",
                           "the file is unsafe; obtain a clean copy from its source")
        if name in encrypted:
            raise _Refused("DRM-encrypted EPUB (META-INF/encryption.xml covers its content)",
                           "obtain a copy without DRM; ascertain does not remove DRM")
        if name not in names:
            raise _Refused(f"spine item {name} is missing from the EPUB", "provide an intact copy")
        markup, skip = decode(member(name), input_name, f"{loc}!{name}")
        if markup is None:
            raise _Refused(f"spine item {name}: {skip.reason if skip else 'not text'}", "provide an intact copy")
        text = html_to_text(markup, keep_title=False, budget=tags).replace(PAGE_BREAK, "\n").rstrip("\n")
        total += len(text)
        if total > opts.max_doc_bytes:
            raise _Refused(f"text of the EPUB passes the {opts.max_doc_bytes:,}-character limit",
                           "raise --max-doc-bytes if it is genuine text")
        heading = _HEADING.search(markup)
        label = " ".join(_TAG.sub(" ", heading.group(1)).split())[:80] if heading else ""
        sections.append(f"{name} ({label})" if label else name)
        parts.append(text)
    if not sections:
        raise _Refused("EPUB spine lists no XHTML document", "check the file's OPF spine")
    return sections, ("\n" + PAGE_BREAK).join(parts) + "\n"


def _encrypted(zf: zipfile.ZipFile, names: set[str], member) -> set[str]:
    if "META-INF/encryption.xml" not in names:
        return set()
    root = _xml(member("META-INF/encryption.xml"))
    uris = {unquote(e.get("URI") or "") for e in root.iter() if e.tag.endswith("CipherReference")}
    # font obfuscation (IDPF/Adobe) is encryption.xml too, and leaves the text readable
    return {u for u in uris if u.lower().endswith((".xhtml", ".html", ".htm", ".xml"))}
