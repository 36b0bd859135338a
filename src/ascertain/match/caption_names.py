"""Claimants' names, handles, domains and titles found in the captions and URLs of a metadata-only image dataset.

All captions of a batch are normalized together (transliterated to ASCII with anyascii when not ASCII, lower
case, every run of characters other than letters and digits one space) and scanned in one pass of an Aho-Corasick
automaton (pyahocorasick) holding every claimant's names: the cost per row does not grow with the number of
claimants. Only the hits are looked at in Python: word boundaries, the context ("by NAME", "in the style of NAME"),
typos (a name one or two edits away, found from an exact hit of one of its distinctive words), and whether the
name is common in this corpus (then only attributions count, never bare mentions: "Grace", "Will Smith").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick
import numpy as np
from anyascii import anyascii
from rapidfuzz.distance import Levenshtein

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NON_WORD = re.compile(r"[\W_]+")
BY = ("by", "art by", "artwork by", "painting by", "painted by", "illustration by", "illustrated by", "drawn by",
      "drawing by", "photo by", "photograph by", "image by", "created by", "credit", "artist", "copyright", "c")
STYLE = ("style of", "in the style of", "inspired by", "after", "a la")
STYLE_AFTER = ("style", "inspired")
# typos: a name of MIN_FUZZY_NAME characters or more (normalized) may differ by one edit, one of TWO_EDITS_FROM or
# more by two; tuned on the tune split of `ascertain validate --image-metadata` (docs/validation.md)
MIN_FUZZY_NAME = 8
TWO_EDITS_FROM = 14
MIN_ANCHOR = 3  # a word of a name shorter than this never seeds a typo search


def normalize(text: str) -> str:
    """ASCII (anyascii), lower case, runs of anything but letters and digits as one space."""
    if not text.isascii():
        text = anyascii(text)
    return _NON_ALNUM.sub(" ", text.lower()).strip(" ")


def normalize_column(col) -> list[str]:
    """normalize() of every caption of an Arrow string column, in Arrow's kernels where the caption is ASCII."""
    import pyarrow.compute as pc

    col = pc.fill_null(col, "")
    low = pc.utf8_trim(pc.replace_substring_regex(pc.utf8_lower(col), "[^a-z0-9]+", " "), " ")
    out = low.to_pylist()
    ascii_ = pc.string_is_ascii(col)
    if not pc.all(ascii_).as_py():
        originals = col.to_pylist()
        for i in np.flatnonzero(~ascii_.to_numpy(zero_copy_only=False)):
            out[i] = normalize(originals[i])
    return out


def fold(text: str) -> str:
    """Lower case, runs of non-word characters as one space, letters kept as written (no transliteration)."""
    return " " + _NON_WORD.sub(" ", text.lower()).strip() + " "


def max_edits(name: str, min_fuzzy: int = MIN_FUZZY_NAME, two_from: int = TWO_EDITS_FROM) -> int:
    return 0 if len(name) < min_fuzzy else 1 if len(name) < two_from else 2


@dataclass
class NameHit:
    row: int  # in the batch
    target: int  # index of the name in the NameSet
    matched: str  # the text matched, normalized
    kind: str  # exact | translit | fuzzy
    context: str  # by | style | mention
    distance: int = 0


@dataclass
class NameSet:
    """Every claimant name (and alias) to look for, with its owner; built once per run."""
    names: list[str] = field(default_factory=list)  # as written
    norm: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # claimant id
    common: set[int] = field(default_factory=set)  # names common in this corpus: attributions only
    fuzzy: bool = True
    min_fuzzy: int = MIN_FUZZY_NAME
    two_edits_from: int = TWO_EDITS_FROM
    _auto: ahocorasick.Automaton | None = None
    _seen: set[tuple[str, int]] = field(default_factory=set)

    def add(self, name: str, owner: int) -> None:
        """A name of `owner`; two owners of one name (two claimants called alike) both get its hits."""
        n = normalize(name)
        if len(n) < 3 or (n, owner) in self._seen:  # too short to mean anything, or already there
            return
        self._seen.add((n, owner))
        self.names.append(name)
        self.norm.append(n)
        self.owner.append(owner)

    def build(self, stop_words: Iterable[str] = ()) -> None:
        """The automaton: whole names, and (for typos) each distinctive word of a name of two words or more."""
        stop = set(stop_words)
        a = ahocorasick.Automaton()
        entries: dict[str, list] = {}
        for i, n in enumerate(self.norm):
            entries.setdefault(n, []).append(("name", i))
            words = n.split(" ")
            if self.fuzzy and len(words) > 1 and max_edits(n, self.min_fuzzy, self.two_edits_from):
                for w in set(words):
                    if len(w) >= MIN_ANCHOR and w not in stop:
                        entries.setdefault(w, []).append(("word", i))
        for k, v in entries.items():
            a.add_word(f" {k} ", (k, v))
        a.make_automaton()
        self._auto = a

    def scan(self, texts: list[str | None], norm: list[str] | None = None) -> list[NameHit]:
        """Every name found in these captions (one batch); `norm`: the captions already normalized."""
        if self._auto is None:
            self.build()
        if norm is None:
            norm = [normalize(t) if t else "" for t in texts]
        # every row between spaces, rows apart by newlines: a key " name " matches whole words only
        big = " " + " \n ".join(norm) + " "
        nl = np.flatnonzero(np.frombuffer(big.encode("ascii"), np.uint8) == 10)
        hits: dict[tuple[int, int], NameHit] = {}
        fuzzy_seeds: list[tuple[int, int, int, int]] = []  # (row, name, start, end of the word)
        for end, (key, vals) in self._auto.iter(big):
            ws, we = end - len(key), end  # the words matched: big[ws:we]
            row = int(np.searchsorted(nl, ws))
            for what, i in vals:
                if what == "name":
                    line_start = int(nl[row - 1]) + 2 if row else 1
                    ctx = context(big[max(line_start, ws - 40):ws], big[we:we + 24].split("\n")[0])
                    kind = "exact" if fold(self.names[i]) in fold(texts[row] or "") else "translit"
                    prev = hits.get((row, i))
                    if prev is None or _rank(ctx) > _rank(prev.context):
                        hits[(row, i)] = NameHit(row, i, key, kind, ctx)
                else:
                    fuzzy_seeds.append((row, i, ws, we))
        for row, i, ws, we in fuzzy_seeds:
            if (row, i) in hits:
                continue
            hit = self._fuzzy(big, nl, row, i, ws, we)
            if hit:
                hits[(row, i)] = hit
        return [hits[k] for k in sorted(hits)]

    def _fuzzy(self, big: str, nl: np.ndarray, row: int, i: int, ws: int, we: int) -> NameHit | None:
        """The name within max_edits of the caption's words around a distinctive word of it, if it is there."""
        name = self.norm[i]
        words = name.split(" ")
        line_start = int(nl[row - 1]) + 2 if row else 1
        line_end = int(nl[row]) - 1 if row < len(nl) else len(big) - 1
        line = big[line_start:line_end]
        cw = line.split(" ")
        # which caption word the seed is
        pos, k = ws - line_start, 0
        starts = []
        for w in cw:
            starts.append(k)
            k += len(w) + 1
        at = starts.index(pos) if pos in starts else -1
        if at < 0:
            return None
        seed = big[ws:we]
        best: tuple[int, str, int] | None = None
        limit = max_edits(name, self.min_fuzzy, self.two_edits_from)
        for j, w in enumerate(words):
            if w != seed:
                continue
            lo = at - j
            for span in (len(words), len(words) - 1, len(words) + 1):  # a word split or merged by the typo
                if lo < 0 or lo + span > len(cw) or span < 1:
                    continue
                cand = " ".join(cw[lo:lo + span])
                d = Levenshtein.distance(cand, name, score_cutoff=limit)
                if 0 < d <= limit and (best is None or d < best[0]):
                    best = (d, cand, lo)
        if best is None:
            return None
        d, cand, lo = best
        before = " ".join(cw[max(0, lo - 6):lo])
        after = " ".join(cw[lo + len(cand.split(" ")):lo + len(cand.split(" ")) + 3])
        return NameHit(row, i, cand, "fuzzy", context(before, after), d)


def _rank(ctx: str) -> int:
    return {"mention": 0, "style": 1, "by": 2}[ctx]


def context(before: str, after: str) -> str:
    """How the caption names the person: as the author ("by NAME", "art by NAME", "© NAME"), as a style
    ("in the style of NAME", "NAME style"), or a mention."""
    b = before.rstrip(" ")
    for s in STYLE:
        if b.endswith(" " + s) or b == s:
            return "style"
    for s in BY:
        if b.endswith(" " + s) or b == s:
            return "by"
    a = after.lstrip(" ")
    if any(a == s or a.startswith(s + " ") for s in STYLE_AFTER):
        return "style"
    return "mention"
