"""Copyright statements: the statement as written, its holders and years, and its line span.

A statement starts at `Copyright`, `(c)`, `©` or `Copr.` followed by a year or a name, and runs to the end
of its line (or onto the next line when the holder is there). Mentions that are not statements — "the above
copyright notice", "COPYRIGHT HOLDERS AND CONTRIBUTORS", `copyright` as an identifier — are not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ascertain.cmi.lines import Flat


@dataclass
class Copyright:
    statement: str
    holders: list[str]
    years: list[int]
    start_line: int
    end_line: int
    rule: str = "copyright-statement"
    extra: dict = field(default_factory=dict)


_MARK = re.compile(r"(?:\bcopyright\b|\bcopr\.|©|&copy;|\(c\))", re.IGNORECASE)
_MARKS_PREFIX = re.compile(r"^(?:\s*(?:copyright(?:ed)?\b|copr\.|©|&copy;|\(c\)|:|by\b))+\s*", re.IGNORECASE)
_YEAR = r"(?:19[6-9]\d|20[0-4]\d)"
_YEARS = re.compile(rf"{_YEAR}(?:\s*(?:[-–—~]|to)\s*(?:{_YEAR}|\d\d|present|now))?", re.IGNORECASE)
_YEAR_LIST = re.compile(rf"^(?:\s*(?:{_YEAR}(?:\s*(?:[-–—~]|to)\s*(?:{_YEAR}|\d\d|present|now))?|[,/&]|and\\b)\s*)+",
                        re.IGNORECASE)
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
    r"|\s+under the\b|\s+see\s|\s+\(see\b|\s+https?://|\s+<?www\.|\s+-\*-|\s*\*/|\s*-->|\"\"\"|'''|`|\\n)",
    re.IGNORECASE)
_EMAIL = re.compile(r"\s*[<(\[]?\s*(?:mailto:)?[\w.+-]+(?:@|\s+at\s+|\[at\])[\w-]+(?:\.[\w-]+)+\s*[>)\]]?",
                    re.IGNORECASE)
_URL = re.compile(r"\s*[<(]?https?://\S+[>)]?|\s*[<(]?www\.\S+[>)]?", re.IGNORECASE)
_CODE = re.compile(r"[=\[\]{}]|\bdef\b|\breturn\b|\bself\.|\bprint\(|\bif\b.*:$")


_ABBREV = {"inc", "ltd", "co", "corp", "jr", "sr", "st", "dr", "mr", "ms", "mrs", "bros", "llc", "e.v", "u.s"}
_TRAILING_YEARS = re.compile(rf"[,\s]*\(?{_YEARS.pattern}(?:\s*,\s*{_YEARS.pattern})*\)?\s*\.?\s*$", re.I)


def _sentence_end(rest: str) -> str:
    """Cut at the end of the statement's sentence: '. ' before a capital, unless after an initial or Inc."""
    for m in re.finditer(r"\.\s+(?=[A-Z])", rest):
        word = re.search(r"([\w.]+)$", rest[:m.start()])
        w = word.group(1).lower() if word else ""
        if len(w) > 1 and w not in _ABBREV:
            return rest[:m.start()]
    return rest


def _holder(rest: str) -> str:
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
    rest = re.sub(r"\s*<[^>]*>|\s*\([^)]*\)\s*$", "", rest)  # <see AUTHORS>, a trailing (project name)
    rest = _YEARS.sub("", rest) if _YEAR_LIST.fullmatch(rest.strip()) else rest
    rest = _TRAILING_YEARS.sub("", rest)
    rest = re.sub(r",?\s*(?:and|&)?\s*(?:its|their|other)?\s*$", "", rest.strip(), flags=re.IGNORECASE)
    return rest.strip(" \t,;:-*#/(").strip()


def _mid_sentence(before: str) -> bool:
    """A word right before the mark ("the copyright ...") unless it is a year or a 'Portions' prefix."""
    return bool(re.search(r"[\w)]\s*$", before)) and not re.search(
        r"(?:portions?|parts?|original|initial|modifications?|additional|and)\s*$", before, re.I
    ) and not _YEAR_LIST.match(before.strip())


def _list_item(mark: str, before: str, rest: str) -> bool:
    """"(c) You must retain ..." is item (c) of a list, not a notice: no year and no "copyright" near it."""
    return mark.lower() == "(c)" and "copyright" not in before.lower() and not re.match(
        rf"\(c\)\s*(?:{_YEAR}|©|copyright)", rest, re.I)


def _code_use(mark: str, before: str, rest: str) -> bool:
    """`copyright = ...`, `'copyright': ...`, `(copyright, etc)`, `\\copyright`: a word in code, not a notice."""
    if "(c)" in mark.lower():
        return False
    after = rest[len(mark):]
    return bool(re.search(r"[\"'\\“”‘’]$", before) or re.match(r"[\"'”’]|\s*[=:]\s*[\"'(]|\s*\(\s*\)|\s*[=,)\]]"
                                                         r"|\s+in\b", after))


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
        if _mid_sentence(before):
            continue
        rest = text[m.start():line_end]
        end_line = line
        if _list_item(m.group(), before, rest):
            continue
        body = _MARKS_PREFIX.sub("", rest)
        if _code_use(m.group(), before, rest) and not re.search(_YEAR, rest):
            continue  # `copyright = ...` in code without a year
        years_only = _YEAR_LIST.fullmatch(body.strip()) is not None or not body.strip()
        if years_only and line < n_lines:  # the holder is on the next line
            nxt_end = flat.starts[line + 1] - 1 if line + 1 < len(flat.starts) else len(text)
            nxt = text[flat.starts[line]:nxt_end]
            if nxt.strip() and not _MARK.search(nxt):
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
        out.append(Copyright(statement[:300], [holder] if holder else [], years, line, end_line))
        last_end = m.start() + len(rest)
    return out
