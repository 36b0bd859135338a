"""A book's CMI (17 U.S.C. §1202(c)): title, author(s), rights reservation, ISBN, publisher and imprint,
edition, license or terms of use, and the distributor's header and footer (Project Gutenberg's), each with
the rule that found it, its lines and, in a paged text (PDF, EPUB), its pages.

Copyright notices are found by the general rules (cmi/copyrights.py), for books as for code. Every item
here is about the whole book, wherever it stands (a title page, a copyright page, a header or footer), so
a copy of the book is compared against all of them (cmi/status.py): a Books3-like record stripped of the
Gutenberg header is `removed`, with the items it lost named.
"""

from __future__ import annotations

import bisect
import re

from stdnum import isbn as stdnum_isbn

from ascertain.text.book_boilerplate import book_boilerplate
from ascertain.text.pages import page_of, page_starts

KINDS = ("title", "author", "rights reservation", "isbn", "publisher", "imprint", "edition", "terms of use",
         "identifier", "distributor header", "distributor footer")
_NAME = r"[A-Z][\w.'\u2019&-]*(?:[ \t]+(?:[A-Z][\w.'\u2019&-]*|de|van|von|der|la|le|du|and|of|for|&))*"
_RULES: list[tuple[str, str, re.Pattern]] = [
    ("title", "gutenberg-title-field", re.compile(r"^[ \t]*Title:[ \t]*(?P<v>\S[^\n]{0,200}?)[ \t]*$", re.M)),
    ("title", "gutenberg-ebook-of", re.compile(
        r"The Project Gutenberg e-?Book of (?P<v>[^\n,]{1,200}?)(?:,[ \t]+by[ \t]+(?P<a>[^\n]{1,120}?))?[ \t]*$",
        re.M | re.I)),
    # a title page: a short line, then (after at most one blank line) "by NAME"
    ("title", "title-page", re.compile(r"^[ \t\f]*(?P<v>[^\s.!?,;:\"\u201c\u201d][^\n.!?;:]{0,100}?)[ \t\r]*\n"
                                       r"(?:[ \t\r]*\n)?[ \t\f]*(?:by|By|BY)[ \t]+" + _NAME + r"[ \t\r]*$", re.M)),
    ("author", "author-field", re.compile(
        r"^[ \t]*(?:Author|Authors|By|Written by):[ \t]*(?P<v>\S[^\n]{0,200}?)[ \t]*$", re.M)),
    ("author", "title-page-by", re.compile(r"^[ \t\f]*(?:by|By|BY)[ \t]+(?P<v>" + _NAME + r")[ \t]*$", re.M)),
    ("rights reservation", "all-rights-reserved", re.compile(
        r"(?P<v>all\s+rights\s+reserved|tous droits r[ée]serv[ée]s|alle rechte vorbehalten|todos los derechos "
        r"reservados)", re.I)),
    ("isbn", "isbn", re.compile(r"\b(?:e-?)?ISBN(?:-1[03])?[:\s]*(?P<v>(?:97[89][ -]?)?(?:\d[ -]?){9}[\dXx])\b")),
    ("publisher", "published-by", re.compile(
        r"\b(?i:(?:first )?published(?: in [A-Z][a-z]+(?: [A-Z][a-z]+)?)?(?: in \d{4})?(?: \d{4})?"
        r"(?: in [^\n]{0,40}?)? by )(?!arrangement\b)(?P<v>" + _NAME + r")")),
    ("publisher", "publisher-field", re.compile(r"^[ \t]*Publisher:[ \t]*(?P<v>\S[^\n]{0,150}?)[ \t]*$", re.M)),
    ("imprint", "imprint-of", re.compile(r"(?P<v>" + _NAME + r") (?:is )?an imprint of (?P<a>" + _NAME + ")")),
    ("edition", "edition", re.compile(
        r"(?P<v>\b(?:first|second|third|fourth|fifth|sixth|revised|new|expanded|anniversary|paperback|hardcover"
        r"|e-?book|kindle|international|\d{1,2}(?:st|nd|rd|th))[ \t]+(?:\w+[ \t]+)?edition\b(?:[ \t]+\d{4})?)",
        re.I)),
    ("edition", "edition-field", re.compile(r"^[ \t]*Edition:[ \t]*(?P<v>\S[^\n]{0,100}?)[ \t]*$", re.M)),
    ("identifier", "gutenberg-ebook-number", re.compile(r"\[E(?:Book|Text) #(?P<v>\d{1,6})\]", re.I)),
    ("terms of use", "gutenberg-license", re.compile(
        r"(?P<v>under\s+the\s+terms\s+of\s+the\s+Project\s+Gutenberg(?:-tm)?\s+License)", re.I)),
    ("terms of use", "creative-commons", re.compile(
        r"licen[sc]ed\s+under\s+(?:a\s+|the\s+)?(?P<v>Creative\s+Commons\s+[A-Za-z-]+(?:[ -][A-Za-z-]+){0,4}"
        r"(?:\s\d\.\d)?(?:\sInternational|\sUnported|\sGeneric)?)(?:\s+License|\s+Licence)?", re.I)),
    ("terms of use", "no-reproduction", re.compile(
        r"(?P<v>no\s+part\s+of\s+this\s+(?:publication|book|work)\s+may\s+be\s+(?:reproduced|used))", re.I)),
]
_KEY = re.compile(r"[^\w]+")
_BREAK = re.compile(r"(?<=[a-z])(?:-[ \t]*\r?\n[ \t\f]*|\u00ad\r?\n?[ \t\f]*)(?=[a-z])")
_TITLE_NOISE = re.compile(r"^(?:the )?project gutenberg e-?book of ", re.I)


def _key(kind: str, value: str) -> str:
    if kind == "isbn":
        digits = stdnum_isbn.compact(value)
        return stdnum_isbn.to_isbn13(digits) if stdnum_isbn.is_valid(digits) else digits
    if kind == "title":
        value = _TITLE_NOISE.sub("", value)
    return _KEY.sub(" ", value.casefold()).strip()


def _unhyphenated(text: str) -> tuple[str, list[int], list[int]]:
    """The text with words hyphenated at line ends (and soft hyphens) joined, as typeset books break them,
    and how to map its offsets back: (text, offsets of the cuts, characters removed up to each cut)."""
    cuts, removed, parts, last, total = [], [], [], 0, 0
    for m in _BREAK.finditer(text):
        parts.append(text[last:m.start()])
        total += m.end() - m.start()
        cuts.append(m.start() - (total - (m.end() - m.start())))
        removed.append(total)
        last = m.end()
    parts.append(text[last:])
    return "".join(parts), cuts, removed


def find_book_cmi(text: str) -> list[dict]:
    """Every book CMI item: kind, value, key (what must be equal in a copy), rule, lines and pages."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    breaks = page_starts(text)
    original = text
    text, cuts, removed = _unhyphenated(text)

    def back(i: int) -> int:  # offset in the unhyphenated text -> offset in the original
        k = bisect.bisect_right(cuts, i)
        return i + (removed[k - 1] if k else 0)

    def where(a: int, b: int, unhyphenated: bool = True) -> dict:
        if unhyphenated:
            a, b = back(a), back(max(a, b - 1)) + 1
        lines = [bisect.bisect_left(newlines, a) + 1, bisect.bisect_left(newlines, max(a, b - 1)) + 1]
        out: dict = {"start_line": lines[0], "end_line": lines[1]}
        if len(breaks):
            out["pages"] = [page_of(breaks, a), page_of(breaks, max(a, b - 1))]
        return out

    found: list[dict] = []
    for kind, rule, pattern in _RULES:
        for m in pattern.finditer(text):
            value = " ".join(m.group("v").split()).strip(" .,;:")
            if not value:
                continue
            item = {"kind": kind, "value": value, "key": _key(kind, value), "rule": rule, **where(*m.span("v"))}
            if kind == "isbn":
                item["valid"] = bool(stdnum_isbn.is_valid(stdnum_isbn.compact(value)))
            found.append(item)
            second = m.groupdict().get("a")
            if second:  # "The Project Gutenberg eBook of T, by A"; "X, an imprint of P"
                other = "author" if kind == "title" else "publisher"
                found.append({"kind": other, "value": second.strip(" .,;:"), "key": _key(other, second),
                              "rule": rule, **where(*m.span("a"))})
    for a, b, kind in book_boilerplate(original):
        if kind.startswith("distributor"):
            found.append({"kind": kind, "value": "Project Gutenberg", "key": "project gutenberg",
                          "rule": "gutenberg-" + kind.split()[1], **where(a, b, unhyphenated=False)})
    return sorted(found, key=lambda i: (i["start_line"], KINDS.index(i["kind"]), i["rule"]))
