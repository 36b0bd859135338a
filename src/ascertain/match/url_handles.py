"""Claimants' domains and handles in image URLs.

A domain matches when it is the URL's host or a parent of it (`janedoe.com` matches `cdn.janedoe.com`, never
`notjanedoe.com`). A handle matches only on the hosts of sites that rehost artists' work under the artist's handle,
as a label of the host (`handle.deviantart.com`) or a whole segment of the path (`artstation.com/handle`,
`deviantart.com/handle/art/...`): a handle elsewhere in a URL is too often another word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import ahocorasick
import numpy as np

# sites that show or rehost an artist's images under the artist's handle (host suffixes)
AGGREGATORS = ("artstation.com", "deviantart.com", "deviantart.net", "behance.net", "tumblr.com", "flickr.com",
               "instagram.com", "pixiv.net", "pinterest.com", "cara.app", "newgrounds.com", "society6.com",
               "redbubble.com", "etsy.com", "saatchiart.com", "fineartamerica.com", "artfinder.com", "ko-fi.com",
               "patreon.com", "twitter.com", "x.com", "medium.com", "squarespace.com", "wixsite.com")
MIN_HANDLE = 3


def host_of(url: str) -> str:
    try:
        return (urlsplit(url if "//" in url[:12] else "//" + url).hostname or "").lower()
    except ValueError:
        return ""


def bare_domain(value: str) -> str:
    """`https://www.JaneDoe.com/portfolio` -> `janedoe.com`."""
    h = host_of(value.strip())
    return h[4:] if h.startswith("www.") else h


def _on(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@dataclass
class UrlHit:
    row: int
    target: int
    kind: str  # url_domain | url_handle
    matched: str


@dataclass
class UrlSet:
    values: list[str] = field(default_factory=list)  # normalized domain or handle
    kinds: list[str] = field(default_factory=list)  # domain | handle
    owner: list[int] = field(default_factory=list)
    _auto: ahocorasick.Automaton | None = None
    _seen: set[tuple[str, str, int]] = field(default_factory=set)

    def add_domain(self, value: str, owner: int) -> None:
        d = bare_domain(value)
        if "." in d and len(d) >= 4 and not any(_on(d, a) for a in AGGREGATORS):  # an aggregator is not theirs
            self._add(d, "domain", owner)

    def add_handle(self, value: str, owner: int) -> None:
        h = value.strip().lstrip("@").lower()
        if len(h) >= MIN_HANDLE and all(c.isalnum() or c in "-_." for c in h):
            self._add(h, "handle", owner)

    def _add(self, v: str, kind: str, owner: int) -> None:
        if (v, kind, owner) not in self._seen:
            self._seen.add((v, kind, owner))
            self.values.append(v)
            self.kinds.append(kind)
            self.owner.append(owner)

    def build(self) -> None:
        a = ahocorasick.Automaton()
        by_value: dict[str, list[int]] = {}
        for i, v in enumerate(self.values):
            by_value.setdefault(v, []).append(i)
        for v, ids in by_value.items():
            a.add_word(v, (v, ids))
        if by_value:
            a.make_automaton()
        self._auto = a if by_value else None

    def scan(self, urls: list[str | None]) -> list[UrlHit]:
        if self._auto is None:
            return []
        low = [(u or "").lower().replace("\n", " ") for u in urls]
        big = "\n".join(low)
        if not big.isascii():  # an internationalized URL: offsets per row still hold with a row map of chars
            nl = np.array([i for i, ch in enumerate(big) if ch == "\n"], dtype=np.int64)
        else:
            nl = np.flatnonzero(np.frombuffer(big.encode("ascii"), np.uint8) == 10)
        seen: set[tuple[int, int]] = set()
        out: list[UrlHit] = []
        for end, (v, ids) in self._auto.iter(big):
            row = int(np.searchsorted(nl, end - len(v) + 1))
            if all((row, i) in seen for i in ids):
                continue
            url = low[row]
            host = host_of(url)
            for i in ids:
                if (row, i) in seen:
                    continue
                if self.kinds[i] == "domain":
                    ok = _on(host, v)
                else:
                    ok = any(_on(host, a) for a in AGGREGATORS) and (
                        v in host.split(".")[:-2] or v in _path_segments(url))
                if ok:
                    seen.add((row, i))
                    out.append(UrlHit(row, i, "url_domain" if self.kinds[i] == "domain" else "url_handle", v))
        return sorted(out, key=lambda h: (h.row, h.target))


def _path_segments(url: str) -> list[str]:
    try:
        path = urlsplit(url if "//" in url[:12] else "//" + url).path
    except ValueError:
        return []
    return [s.lstrip("@") for s in path.split("/") if s]
