"""Copyright statements: the statement as written, its holders and years, and its line span.

A statement starts at `Copyright`, `(c)`, `©` or `Copr.` followed by a year or a name, and runs to the end
of its line (or onto the next line when the holder is there), or to the next notice on the same line. The
holder may come before the years (`(C) Linux Foundation 2008-2013`); a line right after a notice that is a year
list and a name (`            2003 Bar`) is a notice of its own. HTML/XML is read without tags and entities.
Mentions that are not statements — "the above copyright notice", "COPYRIGHT HOLDERS AND CONTRIBUTORS",
`copyright` as an identifier — are not reported.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ascertain.cmi.lines import Flat, flatten


@dataclass
class Copyright:
    statement: str
    holders: list[str]
    years: list[int]
    start_line: int
    end_line: int
    rule: str = "copyright-statement"
    extra: dict = field(default_factory=dict)


_MARK = re.compile(r"(?:\bspdx-filecopyrighttext:|\bcopyright\b|\bcopr\.|©|&copy;|\(c\))", re.IGNORECASE)
_MARKS_PREFIX = re.compile(r"^(?:\s*(?:spdx-filecopyrighttext:|copyright(?:ed)?\b|copr\.|©|&copy;|\(c\)|:|by\b))+\s*",
                           re.IGNORECASE)
_YEAR = r"(?:19[6-9]\d|20[0-4]\d)"
_YEARS = re.compile(rf"{_YEAR}(?:\s*(?:[-–—~]|to)\s*(?:{_YEAR}|\d\d|present|now))?", re.IGNORECASE)
_YEAR_LIST = re.compile(rf"^(?:\s*(?:{_YEAR}(?:\s*(?:[-–—~]|to)\s*(?:{_YEAR}|\d\d|present|now))?(?:-(?=\s)|年)?"
                        rf"|[,/&]|and\s+(?={_YEAR}))\s*)+", re.IGNORECASE)
_NOT_HOLDER = re.compile(
    r"^(?:notices?|holders?|owners?|laws?|protection|act|statements?|info(?:rmation)?|licen[sc]e[sd]?|and\b|or\b"
    r"|of\b|on\b|in\b|is\b|to\b|for\b|also\b|disclaimer\b|line\b|[”’\"'\\]|"
    r"the (?:above|following|copyright|original|same|software|program|work)\b|"
    r"this\b|that\b|which\b|any\b|such\b|as\b|date|year|\d+\s*$|\W*$|(?-i:[a-z_]+\s*[=(\[])|--|%s|\{|<year>|"
    r"yyyy|\[yyyy\]|\[year\]|<owner>|\[name|by the\b|owned|string|text|symbol|sign|character|header|line)",
    re.IGNORECASE)
_STOP = re.compile(
    r"\s*(?:[.;]?\s*all rights reserved|\.\s+(?:licensed|released|distributed|see|this|permission|use|for|"
    r"you|redistribution|the|all)\b|;|\s-\s(?:see|licensed)|\s+(?:licensed|released|distributed) under\b"
    r"|,?\s+and\s+(?:it\s+)?(?:is|are|was|has)\b|\s\|\s|\s+under the\b|\s+see\s|\s+\(see\b|\s+https?://|\s+<?www\.|\s+-\*-|\s*\*/|\s*-->|\"\"\"|'''|`|\\n|\x07)",
    re.IGNORECASE)
_EMAIL = re.compile(r"\s*[<(\[]?\s*(?:mailto:)?[\w.+-]+(?:@|\s+at\s+|\[at\])[\w-]+(?:\.[\w-]+)+\s*[>)\]]?",
                    re.IGNORECASE)
_URL = re.compile(r"\s*[<(]?https?://\S+[>)]?|\s*[<(]?www\.\S+[>)]?", re.IGNORECASE)
_CODE = re.compile(r"[=\[\]{}]|\bdef\b|\breturn\b|\bself\.|\bprint\(|\bif\b.*:$")


_ABBREV = {"inc", "ltd", "co", "corp", "jr", "sr", "st", "dr", "mr", "ms", "mrs", "bros", "llc", "e.v", "u.s"}
# (each further year needs a separator before it: `(?:{_YEAR}|\d\d)*` alone splits a digit run many ways)
_HOLDER_THEN_YEARS = re.compile(rf"\(c\)\s+[^\W\d_][^;:!?|]*?(?:\s\|\s|[,\s]\(?{_YEAR}"
                                rf"(?:\s*[-–—,]\s*(?:{_YEAR}|\d\d)|\s+{_YEAR})*\)?"
                                r"\s*\.?\s*(?:all rights reserved\.?\s*)?\x07?$)", re.I)
# A line that goes on a notice of the line before it: a year list, then a name (DEP-5 fields, C headers
# listing `Copyright (C) 2001 A` then `            2003 B`).
_CONTINUATION = re.compile(rf"^\s*{_YEAR}(?:\s*(?:[-–—~]|to)\s*(?:{_YEAR}|\d\d|present)|-(?=\s))?"
                           rf"(?:\s*,\s*{_YEAR}(?:\s*[-–—~]\s*(?:{_YEAR}|\d\d))?)*,?\s+(?:by\s+)?[^\W\d_]", re.I)
# A second notice on the same line: a mark, then (after more marks) a year.
_NEXT_NOTICE = re.compile(rf"(?<![\w(])(?:copyright\b|©|\(c\))(?:\s*(?:copyright\b|\(c\)|©|:))*\s*{_YEAR}", re.I)
_TRAILING_YEARS = re.compile(rf"[,\s]*\(?{_YEARS.pattern}(?:(?:\s*,\s*|\s+){_YEARS.pattern})*\)?\s*\.?\s*$", re.I)


def _sentence_end(rest: str) -> str:
    """Cut at the end of the statement's sentence: '. ' before a capital, unless after an initial or Inc."""
    for m in re.finditer(r"\.\s+(?=[A-Z])", rest):
        word = re.search(r"([\w.]+)$", rest[:m.start()])
        w = word.group(1).lower() if word else ""
        if len(w) > 1 and w not in _ABBREV and not re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", w):
            return rest[:m.start()]
    return rest


_MD_LINK = re.compile(r"\[([^\]\n]{1,120})\]\([^)\s]*\)")
_REGIONS = ("Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho"
            "|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota"
            "|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York"
            "|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota"
            "|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|USA|U\\.S\\.A\\.?|UK"
            "|England|Scotland|Germany|France|Canada|Japan|Australia|Netherlands|Sweden|Norway|Finland|Denmark"
            "|Switzerland|Italy|Spain|Israel|China|India|Belgium|Austria")
# `NCR Corporation - Dayton, Ohio, USA`, `Digital Equipment Corporation, Maynard, Massachusetts`: the place after an
# organisation's legal form is its address, not part of its name (the last part must be a known region).
_ADDRESS = re.compile(r"(\b(?:Corporation|Inc\.|Inc|Ltd\.|Ltd|Limited|GmbH|Company))(?:,?\s+-\s+|,\s+)"
                      rf"(?:[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?,\s+){{0,2}}(?:{_REGIONS})\.?$")

_STREET = re.compile(r"(\b(?:Corporation|Inc\.|Inc|Ltd\.|Ltd|Limited|GmbH|Company)),?\s+\d{1,5}\s+[A-Z].*$")


def _holder(rest: str) -> str:
    rest = _MD_LINK.sub(r"\1", rest)  # `[Encode OSS Ltd](https://www.encode.io/)`
    rest = _MARKS_PREFIX.sub("", rest)
    rest = _YEAR_LIST.sub("", rest)
    rest = _MARKS_PREFIX.sub("", rest)
    rest = _YEAR_LIST.sub("", rest)
    rest = re.sub(r"^(?:by|the copyright holders?:?)\s+(?=\S)", "", rest, flags=re.IGNORECASE)
    m = _STOP.search(rest)
    if m:
        rest = rest[:m.start()]
    rest = _sentence_end(rest)
    rest = _EMAIL.sub("", rest)
    rest = _URL.sub("", rest)
    # <see AUTHORS>, a trailing (project name) but not an acronym of the holder: "(SAT)"
    rest = re.sub(r"\s*<[^>]*>|\s*\((?![A-Z]{2,8}\))[^)]*\)\s*$", "", rest)
    rest = _YEARS.sub("", rest) if _YEAR_LIST.fullmatch(rest.strip()) else rest
    rest = _TRAILING_YEARS.sub("", rest)
    rest = re.sub(r"\s*\((?![A-Z]{2,8}\))[^()]{1,20}\)$", "", rest.strip())  # `G. Wilford (Wilf.) 1994, 1995`
    rest = re.sub(r",?\s*(?:\band|&)?\s*(?:\bits|\btheir|\bother)?\s*$", "", rest.strip(), flags=re.IGNORECASE)
    rest = rest.strip(" \t,;:-*#/(").strip()
    rest = _STREET.sub(r"\1", _ADDRESS.sub(r"\1", rest))
    for q in "\"'":  # the closing quote of a string the notice is in: `"<p>Copyright 2019 Jane Roe</p>";`
        if rest.count(q) % 2:
            rest = rest.rstrip(q + " ") if rest.endswith(q) else rest
    last = re.search(r"(\S+)\.$", rest)
    if last and last.group(1).lower() not in _ABBREV and len(last.group(1)) > 1 and "." not in last.group(1):
        rest = rest[:-1]  # the sentence's full stop, not the one of "Inc." or an initial
    return rest.strip()


_DETERMINER = re.compile(r"\b(?:the|this|that|these|its|our|your|their|a|an|of|any|such|no|same|which)$", re.I)
# after the mark: a year (`(MIT License) Copyright 2022 Fonticons, Inc.`, `` `SmartyPants`_ © 2003 John Gruber``)
# or a name with an e-mail (`Original code Copyright Julian Gruber <julian@juliangruber.com>`)
_STATEMENT_AFTER = re.compile(rf"(?:\s*(?:copyright\b|\(c\)|©|:))*\s*{_YEAR}|\s+(?:[A-Z][\w.'-]*\s+){{1,4}}<[^<>\s]+@",
                              re.IGNORECASE)


def _mid_sentence(before: str, after: str = "") -> bool:
    """A word right before the mark ("the copyright ...") unless it is a year or a 'Portions' prefix, or the mark
    reads as a statement after a word that is not a determiner ("is Copyright 2007 by ...")."""
    tail = before[-100:].rstrip()  # `$`-anchored searches over a whole long line are quadratic in its marks
    if not re.search(r"[\w)]$", tail) or (_YEAR_LIST.match(before.strip()) and before.strip()[:1].isdigit()):
        return False
    if re.search(r"(?:portions?|parts?|original|initial|modifications?|additional|and)$", tail, re.I):
        return False
    return not (_STATEMENT_AFTER.match(after) and not _DETERMINER.search(tail))


def _glued(m: re.Match[str], text: str) -> bool:
    """A mark inside a word, path or URL (`copyright-format/1.0`, `Py_GetCopyright`, `#document-copyright`) or a `©`
    inside a run of symbols (a character table) is not a notice."""
    prev = text[m.start() - 1] if m.start() else " "
    nxt = text[m.end()] if m.end() < len(text) else " "
    if m.group() == "©":
        return not (nxt.isspace() or nxt.isdigit() or nxt in "&,") or unicodedata.category(prev).startswith("S")
    return prev in "-_/.#" or (m.group()[-1].isalpha() and nxt in "-_/")


def _list_item(mark: str, before: str, rest: str) -> bool:
    """"(c) You must retain ..." is item (c) of a list, not a notice: no year and no "copyright" near it
    (`(C) Linux Foundation 2008-2013`, the holder before the years, is a notice)."""
    return mark.lower() == "(c)" and "copyright" not in before.lower() and not re.match(
        rf"\(c\)\s*(?:{_YEAR}|©|copyright)", rest, re.I) and not _HOLDER_THEN_YEARS.match(rest)


def _code_use(mark: str, before: str, rest: str) -> bool:
    """`copyright = ...`, `'copyright': ...`, `(copyright, etc)`, `\\copyright`: a word in code, not a notice."""
    if "(c)" in mark.lower():
        return False
    after = rest[len(mark):]
    return bool(re.search(r"[\"'\\“”‘’]$", before) or re.match(r"[\"'”’]|\s*[=:]\s*[\"'(]|\s*\(\s*\)|\s*[=,)\]]"
                                                         r"|\s+in\b", after))


_MARKUP_SUFFIXES = {".html", ".htm", ".xhtml", ".xml", ".svg", ".xsl", ".xslt", ".jsp", ".php", ".vue", ".rss"}
_INLINE_TAGS = r"a|abbr|b|bdi|big|cite|code|em|font|i|kbd|q|s|samp|small|span|strong|sub|sup|tt|u|var"
_BLOCK_TAGS = (r"p|br|hr|div|li|ul|ol|dl|dt|dd|td|tr|th|table|tbody|thead|h[1-6]|footer|header|section|article"
               r"|nav|aside|center|address|blockquote|pre|body|html|head|title|meta|link|img|script|style|main|form")
_TAG = re.compile(rf"</?(?:(?P<inline>{_INLINE_TAGS})|{_BLOCK_TAGS})\b[^<>]*>|<!--|-->", re.I)
_BLOCK_END = "\x07"  # where a block tag was: a statement ends there (no whitespace, so flatten keeps it)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_markup(text: str) -> str:
    """Tags removed (inline ones to nothing, block ones to a statement end) and entities decoded, newlines kept so
    line numbers stay exact: `<p>&copy; 2008 <a href=..>Christian Rau</a></p>` reads `© 2008 Christian Rau`."""
    def repl(m: re.Match[str]) -> str:
        newlines = "\n" * m.group().count("\n")
        return newlines if m.group("inline") else newlines or _BLOCK_END
    return html.unescape(_TAG.sub(repl, text))


def _clean(s: str) -> str:
    """No tag, entity or control character in a reported statement or holder (a NUL ends the text)."""
    s = s.split("\x00", 1)[0]
    if "<" in s or "&" in s:
        s = strip_markup(s)
    return " ".join(_CONTROL.sub(" ", s).split())


def copyrights_of(path: str, text: str, flat: Flat, n_lines: int, max_line_chars: int = 4000) -> list[Copyright]:
    """The copyright statements of a file. HTML/XML pages (and any file whose statements hold tags) are read
    with their tags removed, so a holder inside `<a>` is not cut to its first word and a `class="copyright"`
    attribute is not a notice."""
    if PurePosixPath(path).suffix.lower() in _MARKUP_SUFFIXES or text[:200].lstrip()[:15].lower().startswith(
            ("<!doctype html", "<html", "<?xml")):
        return find_copyrights(flatten(strip_markup(text), max_line_chars), n_lines)
    found = find_copyrights(flat, n_lines)
    if any(_TAG.search(c.statement) for c in found):
        return find_copyrights(flatten(strip_markup(text), max_line_chars), n_lines)
    if _DEP5.match(text):
        found = sorted(found + _dep5_holders(text, found), key=lambda c: (c.start_line, c.end_line))
    return found


_DEP5 = re.compile(r"\s*format(?:-specification)?:\s*\S*copyright-format", re.I)


def _dep5_holders(text: str, found: list[Copyright]) -> list[Copyright]:
    """In a Debian machine-readable copyright file, each continuation line of a `Copyright:` field is a
    statement, with or without years (`Copyright: 2000-2004, Ned Konz` / ` Tye McQueen <tyemq@cpan.org>`)."""
    covered = {n for c in found for n in range(c.start_line, c.end_line + 1)}
    out, in_field = [], False
    for i, raw in enumerate(text.split("\n"), 1):
        if re.match(r"copyright\s*:", raw, re.I):
            in_field = True
            continue
        if not raw.strip() or not raw[:1].isspace():
            in_field = False  # a blank line or the next field ends the field
            continue
        name = raw.strip()
        if not in_field or i in covered or name == "." or _MARK.search(name) or name.startswith("(") \
                or " - " in name or name.endswith(":") or len(name.split()) > 8:
            continue
        holder = _clean(_holder(re.sub(r"^[\d\s,–-]+(?=\D)", "", name)))
        if holder and re.search(r"[^\W\d_]{2}", holder) and not _NOT_HOLDER.match(holder) and not _CODE.search(holder):
            out.append(Copyright(_clean(name)[:300], [holder], sorted({int(y) for y in re.findall(_YEAR, name)}),
                                 i, i, rule="dep5-field"))
    return out


def _line_text(flat: Flat, line: int) -> str:
    end = flat.starts[line] - 1 if line < len(flat.starts) else len(flat.text)
    return flat.text[flat.starts[line - 1]:end]


def _continuations(flat: Flat, line: int, n_lines: int) -> list[Copyright]:
    """The notices on the lines right after a notice that go on its list: `            2003 Bar`."""
    out = []
    while line + 1 <= min(n_lines, len(flat.starts)):
        seg = _line_text(flat, line + 1)
        if _MARK.search(seg) or not _CONTINUATION.match(seg):
            break
        holder = _holder(seg)
        if not holder or _NOT_HOLDER.match(holder) or _CODE.search(holder):
            break
        line += 1
        statement = _STOP.split(seg, maxsplit=1)[0].strip()
        out.append(Copyright(_clean(statement)[:300], [_clean(holder)],
                             sorted({int(y) for y in re.findall(_YEAR, seg)}), line, line,
                             rule="copyright-continuation"))
    return out


# A line that finishes an organisation's name cut by a line break: `... Free Software` / `Foundation, Inc.`,
# `University of Southern California, Information` / `Sciences Institute (ISI)`.
_ORG_GOES_ON = re.compile(r"^\s*(?:[A-Z][\w&.-]*\s+){0,2}(?:Foundation|Institute|Inc\.?|Incorporated|Corporation"
                          r"|Ltd\.?|Limited|GmbH|LLC|Consortium|University|Laboratories)\b[,.]?"
                          r"(?:\s*(?:Inc\.?|Ltd\.?|Limited|LLC|\([A-Z]{2,8}\)))?[\s.;]*"
                          r"(?i:all rights reserved\.?)?\s*$")
# `This software is copyrighted by the Regents of the University of California, Sun Microsystems, Inc., ... and
# other parties.`: a statement without a mark word of its own (not "software which is copyrighted by ...").
_COPYRIGHTED_BY = re.compile(r"(?<!which )(?<!that )\b(?:is|are)\s+copyrighted\s+by\s+"
                             r"(?P<h>(?:[^.;:]|(?<=Inc|Ltd)\.|(?<=\bCo)\.){3,200}?)"
                             r"(?=,?\s+(?:and other parties|but|which|who|and is|under)\b|[.;:](?:\s|$)|$)")


def _copyrighted_by(flat: Flat) -> list[Copyright]:
    out = []
    for m in _COPYRIGHTED_BY.finditer(flat.text):
        holder = _clean(_holder(m.group("h")))
        if holder and not _NOT_HOLDER.match(holder) and not _CODE.search(holder) and not re.match(
                r"(?:me|us|him|her|them|you|its|their|his)\b", holder, re.I):
            start, end = flat.line_of(m.start()), flat.line_of(m.end("h"))
            out.append(Copyright(_clean(m.group())[:300], [holder], [], start, end, rule="copyrighted-by"))
    return out


def find_copyrights(flat: Flat, n_lines: int) -> list[Copyright]:
    text = flat.text
    out: list[Copyright] = []
    last_end = -1
    for m in _MARK.finditer(text):
        if m.start() < last_end:
            continue  # inside the statement already taken (`Copyright (c) 2001`)
        line = flat.line_of(m.start())
        line_end = flat.starts[line] - 1 if line < len(flat.starts) else len(text)
        before = text[flat.starts[line - 1]:m.start()]
        if _glued(m, text):
            continue
        if _mid_sentence(before, text[m.end():m.end() + 120]):
            continue
        rest = text[m.start():line_end]
        head = _MARKS_PREFIX.match(rest)
        after_marks = rest[head.end():] if head else rest
        years_head = _YEAR_LIST.match(after_marks)
        nxt = _NEXT_NOTICE.search(rest, len(rest) - len(after_marks) + (years_head.end() if years_head else 0))
        if nxt:  # several notices on one line (a page footer): each is its own statement
            rest = rest[:nxt.start()]
        cut = rest.find(_BLOCK_END)
        if cut > 0 and _holder(rest[:cut]):  # a page's block (`<br>`, `</p>`) ends a notice with its holder
            rest = rest[:cut]
        end_line = line
        if _list_item(m.group(), before, rest):
            continue
        body = _MARKS_PREFIX.sub("", rest)
        if _code_use(m.group(), before, rest) and not re.search(_YEAR, rest):
            continue  # `copyright = ...` in code without a year
        years_only = _YEAR_LIST.fullmatch(body.strip()) is not None or not body.strip()
        open_paren = rest.count("(") > rest.count(")") and "(" in _holder(rest)
        nxt = _line_text(flat, line + 1) if line < n_lines and line < len(flat.starts) else ""
        org_goes_on = bool(_ORG_GOES_ON.match(nxt)) and not _STOP.search(body) and bool(_holder(rest))
        # the holder is (or goes on) on the next line
        if (years_only or open_paren or org_goes_on) and line < n_lines and nxt.strip() and not _MARK.search(nxt):
            rest = rest + " " + nxt
            end_line = line + 1
        holder = _holder(rest)
        years = sorted({int(y) for y in re.findall(_YEAR, rest)})
        if not holder and not years:
            continue
        if holder and (_NOT_HOLDER.match(holder) or _CODE.search(holder)):
            if not years:
                continue
            holder = ""
        statement = _STOP.split(rest, maxsplit=1)[0].strip() if holder else rest.strip()
        holder = _clean(holder)
        out.append(Copyright(_clean(statement)[:300], [holder] if holder else [], years, line, end_line))
        last_end = m.start() + len(rest)
        more = _continuations(flat, end_line, n_lines)
        if more:
            out += more
            last_end = flat.starts[more[-1].end_line - 1] + len(_line_text(flat, more[-1].end_line))
    if "copyrighted" in text:
        out += _copyrighted_by(flat)
        out.sort(key=lambda c: (c.start_line, c.end_line))
    return out
