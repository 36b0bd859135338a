"""The `book` level: the words of a book as a reader reads them, whatever edition or format carried them.

On top of the `prose` level (words only, case-folded: punctuation, quote and apostrophe style, dashes,
ellipses and layout ignored; NFKC has already replaced ligatures and compatibility forms):

  - words hyphenated across a line end (`acknow-` / `ledged`) and words split by a soft hyphen (U+00AD) are
    one word again; so are words split across a page break, when the hyphen ends the page;
  - Gutenberg-style emphasis marks (`_word_`) are not part of the word;
  - in paged texts (PDF pages, EPUB sections: text/pages.py), page furniture is dropped: a first or last
    line of a page that is a page number (`12`, `xiv`, `- 12 -`, `Page 12 of 200`), or whose text without
    digits recurs at the top or bottom of at least `MIN_HEAD_PAGES` pages (running heads and feet).

Like every level, the result keeps each word's offsets into the original text (a rejoined word spans both
halves and the hyphen), so figures are still shown and measured at the exact level.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from ascertain.fingerprint.vectorized import hash_tokens
from ascertain.text.pages import PAGE_BREAK, page_starts
from ascertain.text.tokenize import TokenStream

HYPHENS = {"-", "\u2010", "\u00ad"}
SOFT_HYPHEN = "\u00ad"
MIN_HEAD_PAGES = 3  # a line at the top/bottom of this many pages (and of 10 % of them) is a running head
HEAD_LINES = 2  # lines at each end of a page that may be furniture
MAX_HEAD_WORDS = 12
_PAGE_NUMBER = re.compile(
    r"[-\u2013\u2014\s]*(?:page\s+)?(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s+of\s+\d{1,5})?[-\u2013\u2014\s]*",
    re.IGNORECASE)
_DIGITS = re.compile(r"[\d\W_]+")


def book_stream(ts: TokenStream) -> TokenStream:
    if not len(ts):
        return ts
    text = ts.text
    raw = ts.raw
    n = len(raw)
    words = [t.strip("_") for t in raw]
    is_word = np.fromiter((w[:1].isalnum() for w in words), bool, n)
    drop = furniture(ts) if PAGE_BREAK in text else np.zeros(n, bool)
    keep = is_word & ~drop
    start, end = ts.start.copy(), ts.end.copy()
    changed = {i for i in range(n) if keep[i] and words[i] != raw[i]}
    kept = np.flatnonzero(keep)
    for h in (i for i, t in enumerate(raw) if t in HYPHENS):
        if h == 0 or not keep[h - 1] or start[h] != end[h - 1]:
            continue  # a hyphen joins only when it follows a word directly
        nxt = int(np.searchsorted(kept, h + 1))
        if nxt >= len(kept):
            continue
        q = int(kept[nxt])
        if q > h + 1 and not drop[h + 1:q].all():
            continue  # something other than page furniture stands between the halves
        gap = text[end[h]:start[q]]
        if raw[h] == SOFT_HYPHEN:
            if gap and not gap.isspace():
                continue
        elif "\n" not in gap and PAGE_BREAK not in gap:
            continue
        # the word before the hyphen may itself have been joined: find the kept token it belongs to
        p = h - 1
        words[p] = words[p] + words[q]
        end[p] = end[q]
        keep[q] = False
        changed.add(p)
        changed.discard(q)
    idx = np.flatnonzero(keep)
    hashes = ts.hashes[idx].copy()
    redo = sorted(changed)
    if redo:
        pos = np.searchsorted(idx, redo)
        hashes[pos] = hash_tokens([words[i].casefold() for i in redo])
    return TokenStream(text, ts.start[idx], end[idx], ts.line[idx], ts.kind[idx], hashes)


def furniture(ts: TokenStream) -> np.ndarray:
    """Tokens on page-number lines and running heads/feet of a paged text."""
    text = ts.text
    bounds = [0, *page_starts(text).tolist(), len(text)]
    candidates: list[tuple[int, int, str]] = []  # (start, end, line text) of the first/last lines of pages
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        lines = [(m.start() + a, m.end() + a) for m in re.finditer(r"[^\n]*\S[^\n]*", text[a:b])]
        ends = lines[:HEAD_LINES] + [x for x in lines[-HEAD_LINES:] if x not in lines[:HEAD_LINES]]
        candidates += [(s, e, text[s:e].strip(PAGE_BREAK + " \t")) for s, e in ends]
    keys = [_DIGITS.sub(" ", c[2]).strip().casefold() for c in candidates]
    counts = Counter(keys)
    pages = len(bounds) - 1
    need = max(MIN_HEAD_PAGES, pages // 10)
    drop = np.zeros(len(ts), bool)
    for (s, e, line), key in zip(candidates, keys, strict=True):
        number = _PAGE_NUMBER.fullmatch(line) is not None
        head = bool(key) and counts[key] >= need and len(key.split()) <= MAX_HEAD_WORDS
        if number or head:
            drop[np.searchsorted(ts.start, s):np.searchsorted(ts.start, e)] = True
    return drop
