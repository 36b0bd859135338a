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
_ASCII_ALNUM = np.zeros(129, bool)  # index 128: any non-ASCII character (decided one by one)
_ASCII_ALNUM[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]] = True
_UNDERSCORE, _SOFT = ord("_"), ord(SOFT_HYPHEN)
_HYPHEN_CODES = np.array([ord(c) for c in HYPHENS], np.uint32)


def book_stream(ts: TokenStream) -> TokenStream:
    """Vectorized over the tokens' first and last characters; only tokens that need it (non-ASCII starts,
    emphasis marks, hyphens) are looked at one by one."""
    n = len(ts)
    if not n:
        return ts
    text = ts.text
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    first, last = cp[ts.start], cp[ts.end - 1]
    is_word = _ASCII_ALNUM[np.minimum(first, 128)]
    words: dict[int, str] = {}  # tokens whose word differs from the token as written
    for i in np.flatnonzero((first >= 128) | (first == _UNDERSCORE) | (last == _UNDERSCORE)).tolist():
        t = text[ts.start[i]:ts.end[i]]
        w = t.strip("_")
        is_word[i] = w[:1].isalnum()
        if w != t:
            words[i] = w
    drop = furniture(ts) if PAGE_BREAK in text else np.zeros(n, bool)
    keep = is_word & ~drop
    start, end = ts.start, ts.end.copy()
    kept = np.flatnonzero(keep)
    single = (ts.end - ts.start) == 1
    for h in np.flatnonzero(single & np.isin(first, _HYPHEN_CODES)).tolist():
        if h == 0 or not keep[h - 1] or start[h] != end[h - 1]:
            continue  # a hyphen joins only when it follows a kept word directly (chains stay split)
        nxt = int(np.searchsorted(kept, h + 1))
        if nxt >= len(kept):
            continue
        q = int(kept[nxt])
        if q > h + 1 and not drop[h + 1:q].all():
            continue  # something other than page furniture stands between the halves
        gap = text[end[h]:start[q]]
        if first[h] == _SOFT:
            if gap and not gap.isspace():
                continue
        elif "\n" not in gap and PAGE_BREAK not in gap:
            continue
        p = h - 1
        words[p] = words.get(p, text[start[p]:ts.end[p]]) + words.get(q, text[start[q]:end[q]])
        end[p] = end[q]
        keep[q] = False
    idx = np.flatnonzero(keep)
    hashes = ts.hashes[idx].copy()
    redo = sorted(i for i in words if keep[i])
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
        lines, pos = [], a
        for line in text[a:b].split("\n"):  # the page's non-blank lines
            if line.strip():
                lines.append((pos, pos + len(line)))
            pos += len(line) + 1
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
