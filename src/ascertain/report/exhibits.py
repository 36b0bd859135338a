"""Exhibits: one per copied work file × corpus document or model output, with a stable number.

An exhibit is data (this module) rendered by one template (report/templates/exhibit.html.j2) for the HTML
report, the PDF and the web pages alike. Its rows put the two texts side by side: each copied span is
aligned line by line (difflib on whitespace-folded lines, bounded by the span) or, when the copy breaks its
lines elsewhere (reflowed prose, reformatted code), word by word: each row is then one line of the original
beside the part of the copy that holds its words (`c_last`: the copy line where that part ends). The text
between two spans is shown when short and summarised when long, and the original's CMI lines that the copy
lacks are shown on the original side alone, so a reader sees what was stripped.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from ascertain.store import schema
from ascertain.store.db import now

GAP_SHOWN_LINES = 12  # text between two copied spans is printed up to this many lines a side
HEADER_SHOWN_LINES = 200  # a stripped header above the first span is shown up to this many lines


def exhibit_key(work_sha256: str, work_path: str, source: str, locator: str) -> str:
    return hashlib.sha256(f"{work_sha256}\0{work_path}\0{source}\0{locator}".encode("utf-8", "surrogatepass")
                          ).hexdigest()


def assign_numbers(conn: Connection, keys: list[str]) -> dict[str, str]:
    """ASC-NNNNNN for each key: kept from earlier reports, new keys numbered in the (sorted) order given."""
    known = {r.key: r.number for r in conn.execute(select(schema.exhibit_numbers))}
    for k in keys:
        if k not in known:
            known[k] = conn.execute(insert(schema.exhibit_numbers).values(key=k, assigned_at=now())
                                    ).inserted_primary_key[0]
    return {k: f"ASC-{known[k]:06d}" for k in keys}


@dataclass
class Row:
    kind: str  # equal | layout | changed | original | copy | gap
    o_no: int | None = None
    o_text: str | None = None
    c_no: int | None = None
    c_text: str | None = None
    marks: list[str] = field(default_factory=list)  # difference kinds and CMI statuses on this row
    note: str = ""
    c_last: int | None = None  # aligned by words: the copy line where this row's copy text ends, if not c_no


def _fold(line: str) -> str:
    return " ".join(line.split())


def _align(o_lines: list[str], o_first: int, c_lines: list[str], c_first: int) -> list[Row]:
    """Rows for two stretches of text: by lines, or by words when the copy breaks its lines elsewhere."""
    if _reflowed(o_lines, c_lines):
        return _align_words(o_lines, o_first, c_lines, c_first)
    return _align_lines(o_lines, o_first, c_lines, c_first)


def _reflowed(o_lines: list[str], c_lines: list[str]) -> bool:
    """Fewer than half the original's lines (with words) stand whole in the copy, though both have several."""
    o = [f for f in map(_fold, o_lines) if f]
    c = {f for f in map(_fold, c_lines) if f}
    if len(o) < 2 or not c:
        return False
    return sum(f in c for f in o) * 2 < len(o)


_WORD = re.compile(r"\S+")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'",
                         "\u2014": "-", "\u2013": "-", "\u00ad": None})
WORD_WINDOW = 2_000  # words aligned at a time (a book-long span is aligned in bounded memory)


def _words(lines: list[str]) -> list[tuple[int, int, int]]:
    """(line index, start, end) of each whitespace-separated word."""
    return [(i, m.start(), m.end()) for i, line in enumerate(lines) for m in _WORD.finditer(line)]


def _word_key(w: str) -> str:
    return w.translate(_QUOTES).casefold()


def _word_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """A word-level edit script, window by window: the copy follows the original closely inside a span."""
    out: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    while i < len(a) or j < len(b):
        wa, wb = a[i:i + WORD_WINDOW], b[j:j + WORD_WINDOW + WORD_WINDOW // 4]
        last = i + len(wa) >= len(a) and j + len(wb) >= len(b)
        cut = len(wa) if last else max(1, len(wa) * 3 // 4)
        di = dj = 0
        for op, x1, x2, y1, y2 in Levenshtein.opcodes(wa, wb).as_list():
            if x1 >= cut and (out or di or dj):
                break
            if op == "equal" and x2 > cut:  # cut an equal run at the window's commit point
                x2, y2 = cut, y1 + (cut - x1)
            out.append((op, i + x1, i + x2, j + y1, j + y2))
            di, dj = x2, y2
        if last:
            break
        i, j = i + di, j + dj
    return out


def _copy_at(ops: list[tuple[str, int, int, int, int]], n: int) -> list[int]:
    """For each original word index 0..n, the copy word where it begins (words the copy inserts before an
    original word belong to the row before)."""
    at = [0] * (n + 1)
    for op, x1, x2, y1, y2 in ops:
        for x in range(x1, x2):
            at[x] = min(y1 + (x - x1), y2) if op != "delete" else y1
        at[x2] = y2
    return at


def _align_words(o_lines: list[str], o_first: int, c_lines: list[str], c_first: int) -> list[Row]:
    ow, cw = _words(o_lines), _words(c_lines)
    o_raw = [o_lines[i][a:b] for i, a, b in ow]
    c_raw = [c_lines[i][a:b] for i, a, b in cw]
    at = _copy_at(_word_opcodes([_word_key(w) for w in o_raw], [_word_key(w) for w in c_raw]), len(ow))
    first_word = [0] * (len(o_lines) + 1)  # each original line's first word index
    k = 0
    for li in range(len(o_lines) + 1):
        while k < len(ow) and ow[k][0] < li:
            k += 1
        first_word[li] = k
    rows: list[Row] = []
    for li, line in enumerate(o_lines):
        s, e = first_word[li], first_word[li + 1]
        p = at[s] if li else 0  # copy words before the first original word belong to the first row
        q = at[e] if li + 1 < len(o_lines) else len(cw)
        if p >= q:
            rows.append(Row("original" if e > s else "layout", o_first + li, line))
            continue
        parts, prev_line = [], None
        for t in range(p, q):
            ci, a, b = cw[t]
            if prev_line is not None:
                parts.append(" " if ci == prev_line else " \u23ce ")  # ⏎: the copy breaks its line here
            parts.append(c_lines[ci][a:b])
            prev_line = ci
        same_words = o_raw[s:e] == c_raw[p:q]
        if same_words and cw[p][0] == cw[q - 1][0] and line.strip() == c_lines[cw[p][0]].strip():
            kind = "equal" if line == c_lines[cw[p][0]] else "layout"
        else:
            kind = "layout" if same_words else "changed"
        c_no, c_last = c_first + cw[p][0], c_first + cw[q - 1][0]
        rows.append(Row(kind, o_first + li, line, c_no, "".join(parts), c_last=c_last if c_last != c_no else None))
    return rows


def _align_lines(o_lines: list[str], o_first: int, c_lines: list[str], c_first: int) -> list[Row]:
    rows: list[Row] = []
    sm = difflib.SequenceMatcher(None, [_fold(x) for x in o_lines], [_fold(x) for x in c_lines], autojunk=False)
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "equal":
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                same = o_lines[i] == c_lines[j]
                rows.append(Row("equal" if same else "layout", o_first + i, o_lines[i], c_first + j, c_lines[j]))
            continue
        n = max(a1 - a0, b1 - b0)
        for t in range(n):
            i, j = a0 + t, b0 + t
            o = (o_first + i, o_lines[i]) if i < a1 else (None, None)
            c = (c_first + j, c_lines[j]) if j < b1 else (None, None)
            kind = "changed" if o[0] is not None and c[0] is not None else ("original" if c[0] is None else "copy")
            rows.append(Row(kind, o[0], o[1], c[0], c[1]))
    return rows


def _lines(text: str, first: int, last: int) -> list[str]:
    return text.splitlines()[first - 1:last]


def build_rows(work_text: str | None, copy_text: str | None, spans: list[dict], cmi_lines: list[tuple[int, int]]
               ) -> list[Row]:
    """Side-by-side rows for the copied spans in copy order; `copy_text` None (redacted or text-less index):
    the original side alone, each span labelled with the copy's line range; `work_text` None too: the spans'
    line ranges only."""
    if work_text is None:  # the copy side alone, if it may be shown
        rows = []
        for s in sorted(spans, key=lambda s: s["copy_lines"][0]):
            (oa, ob), (ca, cb) = s["original_lines"], s["copy_lines"]
            rows.append(Row("gap", note=f"original lines {oa}-{ob} (text withheld) = copy lines {ca}-{cb}: "
                                        f"{s['tokens']} tokens"))
            if copy_text is not None:
                rows += [Row("copy", c_no=ca + i, c_text=line) for i, line in enumerate(_lines(copy_text, ca, cb))]
        return rows
    o_all = work_text.splitlines()
    rows: list[Row] = []
    # the original's CMI lines above the first span (a stripped header) are shown on the original side
    first_o = min((s["original_lines"][0] for s in spans), default=1)
    above = [a for a, b in cmi_lines if b < first_o]
    if above:  # the whole stretch from the first such item to the first span (blank comment lines included)
        start = max(min(above), first_o - HEADER_SHOWN_LINES)
        rows += [Row("original", n, o_all[n - 1]) for n in range(start, min(first_o, len(o_all) + 1))]
    ordered = sorted(spans, key=lambda s: (s["copy_lines"][0], s["original_lines"][0]))
    if copy_text is None:
        prev: dict | None = None
        for s in ordered:
            (oa, ob), (ca, cb) = s["original_lines"], s["copy_lines"]
            if prev is not None:
                rows += _gap(work_text, copy_text, prev, s)
            rows.append(Row("gap", note=f"copy lines {ca}-{cb} (text withheld): {s['tokens']} tokens, "
                                        f"{s.get('verbatim_tokens', s['tokens'])} verbatim"))
            rows += [Row("original", oa + i, line) for i, line in enumerate(_lines(work_text, oa, ob))]
            prev = s
        return rows
    # consecutive spans with a short gap between them are aligned as one stretch: reflowed text puts the end
    # of one span and the start of the next on one copy line, and the words between them are on it too
    groups: list[list[dict]] = []
    for s in ordered:
        last = groups[-1][-1] if groups else None
        if last is not None and _joins(last, s):
            groups[-1].append(s)
        else:
            groups.append([s])
    for k, group in enumerate(groups):
        if k:
            rows += _gap(work_text, copy_text, groups[k - 1][-1], group[0])
        oa, ob = group[0]["original_lines"][0], max(s["original_lines"][1] for s in group)
        ca, cb = group[0]["copy_lines"][0], max(s["copy_lines"][1] for s in group)
        rows += _align(_lines(work_text, oa, ob), oa, _lines(copy_text, ca, cb), ca)
    return rows


def _joins(prev: dict, nxt: dict) -> bool:
    """Does `nxt` follow `prev` in both texts, a few lines on at most?"""
    (pa, pb), (pc, pd) = prev["original_lines"], prev["copy_lines"]
    (na, _), (nc, _) = nxt["original_lines"], nxt["copy_lines"]
    return pa <= na and pc <= nc and na - pb <= GAP_SHOWN_LINES + 1 and nc - pd <= GAP_SHOWN_LINES + 1


def _gap(work_text: str, copy_text: str | None, prev: dict, nxt: dict) -> list[Row]:
    o0, o1 = prev["original_lines"][1] + 1, nxt["original_lines"][0] - 1
    c0, c1 = prev["copy_lines"][1] + 1, nxt["copy_lines"][0] - 1
    if o1 < o0 and c1 < c0:
        return []
    no, nc = max(0, o1 - o0 + 1), max(0, c1 - c0 + 1)
    if copy_text is None or no > GAP_SHOWN_LINES or nc > GAP_SHOWN_LINES or nxt["original_lines"][0] <= \
            prev["original_lines"][1] - 1:
        return [Row("gap", note=f"not part of a copied span: original lines {o0}-{o1} ({no}), "
                                f"copy lines {c0}-{c1} ({nc})")]
    return _align(_lines(work_text, o0, o1) if no else [], o0, _lines(copy_text, c0, c1) if nc else [], c0)


def mark_rows(rows: list[Row], differences: list[dict], cmi_items: list[tuple[str, tuple[int, int]]]) -> None:
    """Tag each row with the difference kinds whose line ranges cover it and the CMI status of its lines."""
    for d in differences:
        (oa, ob), (ca, cb) = d["original_lines"], d["copy_lines"]
        for r in rows:
            if not (r.o_text or "").strip() and not (r.c_text or "").strip():
                continue  # a blank line holds no difference
            covered = (r.o_no is not None and oa <= r.o_no <= ob) or (r.c_no is not None and ca <= r.c_no <= cb)
            if covered and r.kind != "equal" and d["kind"] not in r.marks:
                r.marks.append(d["kind"])
    for status, (a, b) in cmi_items:
        for r in rows:
            if r.o_no is not None and a <= r.o_no <= b and f"CMI {status}" not in r.marks:
                r.marks.append(f"CMI {status}")


def cmi_marks(cmi: dict) -> list[tuple[str, tuple[int, int]]]:
    """(status, original line range) for each of the original's CMI items."""
    out = []
    for status in ("removed", "altered", "retained"):
        for item in cmi.get(status) or []:
            lines = item.get("lines") or (item.get("original") or {}).get("lines")
            if lines:
                out.append((status, (int(lines[0]), int(lines[1]))))
    return out
