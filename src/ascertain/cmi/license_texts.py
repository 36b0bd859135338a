"""Full license texts and standard headers, identified against the SPDX License List texts.

The texts come from the pinned `spdx` package (SPDX License List templates). Each template is cut at its
variable parts (`<<var;...>>`, and the plain texts' `<copyright holder>`-style placeholders) into word
sequences; an optional part (`<<beginOptional>>...<<endOptional>>`, the plain texts' `[...]`) may be there or
not, so every 6-word shingle of either reading is indexed. A file's shingles vote for licenses; a license is
found where a region of the file holds at least `min_share` of the license's shingles (counted against its
reading without the optional parts). Where variants overlap (MIT and X11, BSD-2 and BSD-3, ISC and 0BSD,
HPND and its many look-alikes), the one with the highest dice²·√matched wins: dice weighs the share
equally with `explained`, the share of the region's words inside the template's matched shingles, so a text
with a clause that a shorter variant lacks is not named after the shorter one (a word the template has as a
variable, e.g. a holder's name, leaves only itself unexplained); the matched count breaks near-ties in favour
of the longer text. Copyright lines are cut from the templates (the old templates write example holders literally;
a holder is never license text). `python3 -m ascertain.validation.license_families` measures it.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import json
import re
from dataclasses import dataclass

from ascertain.cmi.spdx_ids import current_id

N = 6
_WORD = re.compile(r"[a-z0-9]+")
_VAR = re.compile(r"<<var;[^>]*>>|<(?![<>])[^<>\n]{1,80}(?<!>)>(?!>)")  # SPDX variables, `<year>` placeholders
_ORIGINAL = re.compile(r";original=(.*?);match=", re.DOTALL)
VAR_GROUP = 1 << 20  # group numbers from here on are variables' example values (taken, or a break)
_BEGIN_OPTIONAL = re.compile(r"<<beginOptional[^>]*>>")
_END_OPTIONAL = re.compile(r"<<endOptional[^>]*>>")
_COPYRIGHT_LINE = re.compile(r"^[ \t]*(?:copyright|\(c\)|©).*$", re.IGNORECASE | re.MULTILINE)
_EQUIV = {"licence": "license", "licences": "licenses", "licenced": "licensed"}
# a license text or header holds one of these words (lower case; tested as substrings before any shingling)
PREFILTER = ("licen", "permission", "warrant", "redistribut", "public domain", "copyleft")


@dataclass(frozen=True)
class Template:
    spdx: str
    kind: str  # "text" or "header"
    grams: frozenset[int]  # every reading's shingles
    size: int = 0  # shingles of the reading without the optional parts (what a full text holds at least)


@dataclass
class TextMatch:
    spdx: str
    kind: str
    start_line: int
    end_line: int
    share: float  # share of the license's shingles found in the region
    matched: int  # shingles matched
    explained: float = 1.0  # share of the region's words inside the license's matched shingles

    @property
    def score(self) -> float:
        dice = 2 * self.share * self.explained / (self.share + self.explained) if self.share else 0.0
        return dice * dice * self.matched ** 0.5


def words(text: str) -> list[str]:
    return [_EQUIV.get(w, w) for w in _WORD.findall(text.lower())]


def shingles(ws: list[str]) -> list[int]:
    return [hash(tuple(ws[i:i + N])) for i in range(len(ws) - N + 1)]


def _optional_parts(body: str) -> list[tuple[str, bool]]:
    """The text as (piece, optional) parts: an outermost `[...]` or SPDX optional block is one optional part
    (an optional part inside it goes with it)."""
    body = _END_OPTIONAL.sub("]", _BEGIN_OPTIONAL.sub("[", body))
    parts: list[tuple[str, bool]] = []
    depth, start = 0, 0
    for i, ch in enumerate(body):
        if ch == "[":
            if depth == 0:
                parts.append((body[start:i], False))
                start = i + 1
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
            if depth == 0:
                parts.append((body[start:i], True))
                start = i + 1
    parts.append((body[start:], depth > 0))
    return parts


def _walk(seq: list[tuple[str | None, int]], after: list[int], i: int, gram: tuple[str, ...], grams: set[int]
          ) -> None:
    """Every N-word reading from word i on: each optional group taken or, at its start, left out."""
    if len(gram) == N:
        grams.add(hash(gram))
        return
    if i >= len(seq) or seq[i][0] is None:
        return
    _walk(seq, after, i + 1, (*gram, str(seq[i][0])), grams)
    if gram and 0 <= seq[i][1] < VAR_GROUP and (i == 0 or seq[i - 1][1] != seq[i][1]):  # the group left out
        _walk(seq, after, after[i], gram, grams)


def template_shingles(body: str) -> tuple[set[int], int]:
    """Every shingle of every reading (each optional part there or not), and how many the reading without
    optional parts has. No shingle spans a variable part."""
    # (word or None at a variable part, optional group or -1); a variable with an `original=` value is a
    # group of its own (VAR_GROUP + n) that is either that value or a break
    seq: list[tuple[str | None, int]] = []
    n_var = 0
    for k, (part, optional) in enumerate(_optional_parts(_COPYRIGHT_LINE.sub("<<var;copyright>>", body))):
        at = 0
        for m in _VAR.finditer(part):
            seq += [(w, k if optional else -1) for w in words(part[at:m.start()])]
            original = _ORIGINAL.search(m.group())
            if original is None:
                seq.append((None, -1))
            else:
                n_var += 1
                seq += [(w, VAR_GROUP + n_var) for w in words(original.group(1))]
            at = m.end()
        seq += [(w, k if optional else -1) for w in words(part[at:])]
    required: set[int] = set()
    window: list[str] = []
    for w, g in seq:
        if g >= VAR_GROUP:
            window = []
        elif g < 0:
            window = [*window[-(N - 1):], w] if w is not None else []
            if len(window) == N:
                required.add(hash(tuple(window)))
    size = len(required)
    after = list(range(1, len(seq) + 1))  # after[i]: the first word past i's optional group
    for i in range(len(seq) - 2, -1, -1):
        if seq[i][1] >= 0 and seq[i + 1][1] == seq[i][1]:
            after[i] = after[i + 1]
    grams: set[int] = set()
    for i in range(len(seq)):
        _walk(seq, after, i, (), grams)
    return grams, size


@functools.cache
def templates() -> tuple[list[Template], dict[int, list[int]]]:
    """The SPDX templates and an inverted index shingle → template numbers (built once per process)."""
    data = importlib.resources.files("spdx") / "data"
    db = json.loads((data / "db.json").read_text(encoding="utf-8"))
    out: list[Template] = []
    seen: set[frozenset[int]] = set()
    for lic in sorted(db["licenses"], key=lambda r: r["id"]):
        spdx = current_id(lic["id"])
        sources = [("text", (data / lic["template"]).read_bytes().decode("utf-8", "replace"))]
        if lic.get("header") and not spdx.startswith(("GPL", "LGPL", "AGPL")):  # GNU: version by notices.py
            sources.append(("header", lic["header"]))
        for kind, body in sources:
            grams, size = template_shingles(body)
            frozen = frozenset(grams)
            if len(frozen) < 8 or frozen in seen:
                continue
            seen.add(frozen)
            out.append(Template(spdx, kind, frozen, max(size, 8)))
    index: dict[int, list[int]] = {}
    for i, t in enumerate(out):
        for g in t.grams:
            index.setdefault(g, []).append(i)
    return out, index


def find_texts(text: str, min_share: float = 0.5, min_matched: int = 12, max_gap: int = 60
               ) -> list[TextMatch]:
    """License texts and standard headers in `text`, best first, regions not overlapping."""
    low = text.lower()
    if not any(w in low for w in PREFILTER):
        return []
    tmpl, index = templates()
    spans = [(m.start(), _EQUIV.get(m.group(), m.group())) for m in _WORD.finditer(low)]
    ws = [w for _, w in spans]
    grams = shingles(ws)
    hits: dict[int, list[tuple[int, int]]] = {}
    for pos, g in enumerate(grams):
        for t in index.get(g, ()):
            hits.setdefault(t, []).append((pos, g))
    newlines = [i for i, ch in enumerate(text) if ch == "\n"] if hits else []
    found: list[TextMatch] = []
    for t, hs in hits.items():
        total = tmpl[t].size
        if len(hs) < min(min_matched, total) or len(hs) < min_share * total:
            continue
        for lo, hi in _clusters(hs, max_gap):
            matched = len({g for _, g in hs[lo:hi]})
            if matched < min(min_matched, total) or matched < min_share * total:
                continue
            first, last = hs[lo][0], hs[hi - 1][0] + N - 1
            covered = set()
            for pos, _ in hs[lo:hi]:
                covered.update(range(pos, pos + N))
            region = last - first + 1
            found.append(TextMatch(
                tmpl[t].spdx, tmpl[t].kind, bisect.bisect_right(newlines, spans[first][0]) + 1,
                bisect.bisect_right(newlines, spans[last][0]) + 1, round(min(1.0, matched / total), 4), matched,
                round(len(covered) / region, 4)))
    found.sort(key=lambda m: (-m.score, m.start_line, m.spdx))
    chosen: list[TextMatch] = []
    for m in found:
        if not any(_overlap(m, c) > 0.5 for c in chosen):
            chosen.append(m)
    return chosen


def _clusters(hs: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    """Runs of hits with no gap over max_gap words (a file may hold the same license twice)."""
    out, lo = [], 0
    for i in range(1, len(hs) + 1):
        if i == len(hs) or hs[i][0] - hs[i - 1][0] > max_gap:
            out.append((lo, i))
            lo = i
    return out


def _overlap(a: TextMatch, b: TextMatch) -> float:
    inter = min(a.end_line, b.end_line) - max(a.start_line, b.start_line) + 1
    return max(0, inter) / (min(a.end_line - a.start_line, b.end_line - b.start_line) + 1)
