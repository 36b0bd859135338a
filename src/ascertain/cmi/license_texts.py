"""Full license texts and standard headers, identified against the SPDX License List texts.

The texts come from the pinned `spdx` package (SPDX License List templates). Each template is cut at its
variable parts (`<<var;...>>`, e.g. the copyright line) into word sequences; every 6-word shingle is
indexed. A file's shingles vote for licenses; a license is found where a region of the file holds at least
`min_share` of the license's shingles. Where variants overlap (MIT and X11, BSD-2 and BSD-3, ISC and 0BSD),
the one with the highest share²·√matched wins: the share decides between variants of one text, the matched
count breaks near-ties in favour of the longer text. Copyright lines are cut from the templates (the old
templates write example holders literally; a holder is never license text).
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
_VAR = re.compile(r"<<var;[^>]*>>")
_OPTIONAL = re.compile(r"<<(?:begin|end)Optional[^>]*>>")
_COPYRIGHT_LINE = re.compile(r"^[ \t]*(?:copyright|\(c\)|©).*$", re.IGNORECASE | re.MULTILINE)
_EQUIV = {"licence": "license", "licences": "licenses", "licenced": "licensed"}
# a license text or header holds one of these words (lower case; tested as substrings before any shingling)
PREFILTER = ("licen", "permission", "warrant", "redistribut", "public domain", "copyleft")


@dataclass(frozen=True)
class Template:
    spdx: str
    kind: str  # "text" or "header"
    grams: frozenset[int]


@dataclass
class TextMatch:
    spdx: str
    kind: str
    start_line: int
    end_line: int
    share: float  # share of the license's shingles found in the region
    matched: int  # shingles matched

    @property
    def score(self) -> float:
        return self.share * self.share * self.matched ** 0.5


def words(text: str) -> list[str]:
    return [_EQUIV.get(w, w) for w in _WORD.findall(text.lower())]


def shingles(ws: list[str]) -> list[int]:
    return [hash(tuple(ws[i:i + N])) for i in range(len(ws) - N + 1)]


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
            grams: set[int] = set()
            for piece in _VAR.split(_COPYRIGHT_LINE.sub("<<var;copyright>>", _OPTIONAL.sub(" ", body))):
                grams.update(shingles(words(piece)))
            frozen = frozenset(grams)
            if len(frozen) < 8 or frozen in seen:
                continue
            seen.add(frozen)
            out.append(Template(spdx, kind, frozen))
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
        total = len(tmpl[t].grams)
        if len(hs) < min(min_matched, total) or len(hs) < min_share * total:
            continue
        for lo, hi in _clusters(hs, max_gap):
            matched = len({g for _, g in hs[lo:hi]})
            if matched < min(min_matched, total) or matched < min_share * total:
                continue
            first, last = hs[lo][0], hs[hi - 1][0] + N - 1
            found.append(TextMatch(
                tmpl[t].spdx, tmpl[t].kind, bisect.bisect_right(newlines, spans[first][0]) + 1,
                bisect.bisect_right(newlines, spans[last][0]) + 1, round(matched / total, 4), matched))
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
