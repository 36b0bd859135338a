"""Whether a span matched with identifiers as placeholders is a consistent renaming.

At the identifiers level two unrelated files can share a run of structure (`ID = ID.ID(ID, ID)` lines);
a real copy with renamed variables maps each original name to one new name, everywhere in the span.
Consistency is the share of identifier occurrences that agree with the one-to-one map the majority of
occurrences define, taken in both directions (original → copy and copy → original), the lower of the two.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from ascertain.match.spans import Span
from ascertain.text.levels import ID_HASH
from ascertain.text.tokenize import TokenStream


def identifier_pairs(work: TokenStream, copy: TokenStream, s: Span) -> list[tuple[str, str]]:
    """(original name, copy name) for each identifier placeholder of the span, in order."""
    idx = (work.hashes[s.w0:s.w1] == ID_HASH).nonzero()[0]
    wt, ct = work.text, copy.text
    return [(wt[work.start[s.w0 + i]:work.end[s.w0 + i]], ct[copy.start[s.d0 + i]:copy.end[s.d0 + i]])
            for i in idx.tolist()]


def _agreement(pairs: list[tuple[str, str]]) -> int:
    by_first: dict[str, Counter] = defaultdict(Counter)
    for a, b in pairs:
        by_first[a][b] += 1
    return sum(c.most_common(1)[0][1] for c in by_first.values())


def consistency(pairs: list[tuple[str, str]]) -> float:
    if not pairs:
        return 1.0
    forward = _agreement(pairs)
    backward = _agreement([(b, a) for a, b in pairs])
    return min(forward, backward) / len(pairs)


def rename_map(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The majority map of the names that differ."""
    by_first: dict[str, Counter] = defaultdict(Counter)
    for a, b in pairs:
        by_first[a][b] += 1
    out = {a: c.most_common(1)[0][0] for a, c in by_first.items()}
    return {a: b for a, b in sorted(out.items()) if a != b}


