"""Bibliographic keys: ISBNs (checked and converted by python-stdnum), registration numbers, dates, and folded
titles and names (NFKC, transliteration to ASCII by anyascii, case and punctuation folding).

Works, registrations, linkage and lookup all use these, so the same title is folded the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from anyascii import anyascii
from stdnum import isbn as _isbn
from stdnum.exceptions import ValidationError

_PUNCT = re.compile(r"[^a-z0-9]+")
_SEPARATOR = re.compile(r"\s*(?::|;|\s[-–—]\s|\(|\[|\.\s)")
# Words that end in "." without ending the title ("Mr. Mercury", "Vol. 2", "St. Petersburg"); a single letter
# (an initial, "J. R. R. Tolkien") and a word with an inner dot ("U.S.") are kept too.
ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "mx", "dr", "st", "ste", "mt", "ft", "jr", "sr", "prof", "rev", "fr", "sgt", "capt", "cpt",
    "col", "gen", "lt", "gov", "sen", "rep", "pres", "hon", "vol", "vols", "no", "nos", "nr", "pt", "ch", "chap",
    "ed", "eds", "vs", "etc", "co", "corp", "inc", "ltd", "bros", "op", "bk", "fig", "sec", "approx", "dept", "univ",
    "assn", "intl", "natl"))
# Volume and part designators: kept (from a subtitle too) and written one way, so "Vol. II", "Volume 2" and
# "(Book 2)" agree and "Vol. 2" never equals "Vol. 3".
_DESIGNATOR = re.compile(r"\b(vols?|volume|books?|bk|parts?|pt|no|nos|number|tome|band|episode|issue)\s+"
                         r"([0-9]+|[ivxlc]+)\b")
_HASH_NUMBER = re.compile(r"#\s*(?=[0-9])")
_DESIGNATOR_WORD = {"vol": "volume", "vols": "volume", "volume": "volume", "book": "book", "books": "book",
                    "bk": "book", "part": "part", "parts": "part", "pt": "part", "no": "number", "nos": "number",
                    "number": "number", "tome": "volume", "band": "volume", "episode": "episode",
                    "issue": "issue"}
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_ARTICLES = ("the ", "a ", "an ")
# Bumped whenever title_key changes what it returns: stores keep the keys, and refresh them when it moves.
TITLE_KEY_VERSION = 3
_REG = re.compile(r"^([A-Za-z]{1,4})[\s-]*([0-9][0-9\s-]*)$")
_SPLIT_LIST = re.compile(r"\s*[;|]\s*")


def fold(text: str) -> str:
    """NFKC, transliterated to ASCII, lower case, punctuation as single spaces: 'Élan: Vital!' -> 'elan vital'."""
    text = anyascii(unicodedata.normalize("NFKC", text or "")).lower().replace("&", " and ").replace("'", "")
    return _PUNCT.sub(" ", text).strip()


def _roman(text: str) -> int:
    total = 0
    for a, b in zip(text, text[1:] + " ", strict=True):
        v = _ROMAN[a]
        total += -v if b != " " and _ROMAN[b] > v else v
    return total


def _designators(folded: str) -> list[str]:
    """'vol ii' -> ['volume 2']: each volume/part designator of a folded text, in one canonical form."""
    return [f"{_DESIGNATOR_WORD[w]} {int(n) if n.isdigit() else _roman(n)}" for w, n in _DESIGNATOR.findall(folded)]


def split_title(title: str) -> tuple[str, str]:
    """(main title, rest) cut at the first subtitle separator (':', ';', ' - ', '(', '[' or '. '); a '. ' after
    an abbreviation or an initial does not end the title."""
    for m in _SEPARATOR.finditer(title):
        if m.group().strip() == ".":
            word = title[:m.start()].rsplit(None, 1)[-1].lower() if title[:m.start()].strip() else ""
            if len(word) <= 1 or "." in word or word in ABBREVIATIONS:
                continue
        if m.start() == 0:
            continue
        return title[:m.start()], title[m.start():]
    return title, ""


def _designator_text(folded: str) -> str:
    return _DESIGNATOR.sub(lambda m: " ".join(_designators(m.group())), folded)


def title_key(title: str) -> str:
    """The main title folded, without subtitle and leading article: 'The Hobbit: Or There and Back' -> 'hobbit';
    volume and part numbers are kept, from the subtitle too: 'Dune (Book 2)' -> 'dune book 2'."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    main, rest = split_title(text)
    key = _designator_text(fold(_HASH_NUMBER.sub(" number ", main))) or fold(text)
    for a in _ARTICLES:
        if key.startswith(a) and len(key) > len(a):
            key = key[len(a):]
            break
    # a designator anywhere after the main title names a volume ("The Expanse: Book 2", "Birds: A Guide, Vol. 3"):
    # kept, so volumes of one title never share a key (series information such as "(The Expanse, Book 1)" is
    # kept too: a missed link goes to review, a false one would be wrong)
    extra = [d for d in _designators(fold(_HASH_NUMBER.sub(" number ", rest))) if d not in key]
    return " ".join([key, *extra]).strip()


def title_numbers(key: str) -> frozenset[str]:
    """The numbers in a title key ('encyclopedia volume 2' -> {'2'}): titles that carry different numbers name
    different works (volumes, parts, editions of a series)."""
    return frozenset(re.findall(r"[0-9]+", key or ""))


def name_key(name: str) -> str:
    """A person's name folded with 'Last, First' turned around and the words sorted (order-free)."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        if first and not re.fullmatch(r"(?i)(jr|sr|inc|ltd|llc|ii|iii)\.?", first):
            name = f"{first} {last}"
    return " ".join(sorted(w for w in fold(name).split() if len(w) > 1 or len(fold(name).split()) == 1))


def split_list(cell: str | list | None) -> list[str]:
    """A list cell: a JSON list, or names separated by ';' or '|' (commas belong to 'Last, First')."""
    if cell is None:
        return []
    if isinstance(cell, list | tuple):
        return [str(x).strip() for x in cell if str(x).strip()]
    return [p for p in _SPLIT_LIST.split(str(cell).strip()) if p]


def isbn13(value: str) -> str:
    """The ISBN-13 of an ISBN-10 or ISBN-13 in any punctuation; ValueError with the reason if impossible."""
    try:
        return _isbn.to_isbn13(_isbn.validate(value))
    except ValidationError as e:
        raise ValueError(f"ISBN {value!r} is impossible ({e.message.rstrip('.').lower()})") from e


def isbns(cell: str | list | None) -> list[str]:
    """Every ISBN in a cell (separated by ';', '|', ',' or spaces), as sorted unique ISBN-13s."""
    if cell is None:
        return []
    parts = cell if isinstance(cell, list | tuple) else re.split(r"[;|,\s]+(?=[0-9Xx])", str(cell).strip())
    return sorted({isbn13(str(p).strip()) for p in parts if str(p).strip()})


def looks_like_isbn(text: str) -> bool:
    return bool(re.fullmatch(r"(?i)(isbn[:\s]*)?[0-9][0-9\s-]{8,16}[0-9x]", text.strip()))


def registration_number(value: str) -> str:
    """'TX 9-000-001' / 'tx0009000001' -> 'TX0009000001': class letters and ten digits."""
    m = _REG.match((value or "").strip())
    if not m:
        raise ValueError(f"registration number {value!r} is not letters followed by digits (e.g. TX0009000001)")
    digits = re.sub(r"\D", "", m.group(2))
    if len(digits) > 10:
        raise ValueError(f"registration number {value!r} has more than ten digits")
    return m.group(1).upper() + digits.zfill(10)


# Classes of US registration numbers (TX literary, PA performing arts, VA visual, SR sound recordings, RE
# renewals, SE serials, MW mask works; "u" unpublished, "VAh" architectural).
REGISTRATION_CLASSES = {"TX", "TXU", "PA", "PAU", "VA", "VAU", "VAH", "SR", "SRU", "RE", "SE", "SEU", "MW", "V"}


def looks_like_registration(text: str) -> bool:
    """A registration number with a known class prefix ('Emma 2' is a title, not a registration)."""
    m = _REG.match((text or "").strip())
    return bool(m and m.group(1).upper() in REGISTRATION_CLASSES and len(re.sub(r"\D", "", m.group(2))) >= 4)


_DATE_FORMATS = (("%Y-%m-%d", 10), ("%Y%m%d", 10), ("%m/%d/%Y", 10), ("%Y-%m", 7), ("%Y", 4))


def parse_date(value: str | dt.date | None) -> str | None:
    """An ISO date 'YYYY-MM-DD', or 'YYYY-MM' / 'YYYY' when only that much is known; ValueError if malformed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ].*", text):
        text = text[:10]
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # the common case, without strptime
        try:
            d = dt.date.fromisoformat(text)
        except ValueError:
            d = None
        if d is not None and 1790 <= d.year <= 2200:
            return text
    for fmt, width in _DATE_FORMATS:
        try:
            d = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not 1790 <= d.year <= 2200:  # the first US copyright act is of 1790
            break
        return d.isoformat()[:width]
    raise ValueError(f"date {value!r} is not a date (write YYYY-MM-DD, or YYYY-MM / YYYY if only that is known)")


def date_range(value: str | None) -> tuple[dt.date, dt.date] | None:
    """The first and last day a possibly partial ISO date can mean."""
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        d = dt.date(*parts)
        return d, d
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        return first, add_months(first, 1) - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


def add_months(d: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has fewer days (Nov 30 + 3 -> Feb 28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")
