"""How a copy differs from the original: every difference within the copied region, classified.

The copied region is where the spans place the work in the copy, widened only as far as the text beyond
still aligns (see `differences`); the work outside it is `not in the copy`, and the copy's text outside it
(chat prose around a reproduced function, another file) is not compared at all. Within the region the two
texts are aligned token by token as written, between the spans as anchors (a minimal Levenshtein edit script
over tokens). Each edit is then one of:

  whitespace/layout    same tokens, different spacing, indentation or line breaks
  comment added / comment removed / comment changed
  identifier renamed   one name for another; the rename map lists them and says whether it is consistent
                       (each original name always becomes the same new name)
  literal changed      a string or number changed
  line inserted / line deleted
  block reordered      a span out of the order of the others (a block moved elsewhere in the copy)
  code changed         any other edit
  not in the copy      the work's text outside the region, or between two spans where nothing aligns

For prose works the same edits are named for a reader: `word changed`, `punctuation changed` (quotes,
apostrophes, dashes), `text inserted` / `text deleted` / `text changed`, with no rename map.

`edit_similarity` = 2·matched / (tokens of both sides in the region and in moved blocks), matched = tokens
the alignment pairs as equal.
"""

from __future__ import annotations

import keyword
from collections import Counter, defaultdict

import numpy as np
from rapidfuzz.distance import Levenshtein

from ascertain.text.tokenize import COMMENT, STRING, TokenStream

# Larger regions are not aligned (reported as such). Memory is bounded below this by the anchors: spans are
# cut into pieces of at most ANCHOR_TOKENS tokens (pairs.align_streams) and each gap between anchors costs at
# most MAX_DIFF_CELLS; what grows with the region is its token lists (~100 bytes a token)
MAX_ALIGN_TOKENS = 2_000_000
ANCHOR_TOKENS = 1_000
# A gap between anchors larger than this (work tokens x copy tokens) is reported as one difference instead of
# being aligned token by token (the edit script's bit matrix grows with the product)
MAX_DIFF_CELLS = 20_000_000
MAX_LISTED = 400
_KEYWORDS = set(keyword.kwlist) | set(keyword.softkwlist) | {
    "function", "var", "let", "const", "new", "this", "typeof", "instanceof", "void", "delete", "switch",
    "case", "default", "do", "public", "private", "protected", "static", "final", "class", "interface",
    "extends", "implements", "package", "import", "int", "long", "short", "char", "float", "double",
    "boolean", "byte", "unsigned", "signed", "struct", "union", "enum", "typedef", "sizeof", "goto",
    "func", "go", "chan", "defer", "map", "range", "select", "type", "fn", "impl", "mut", "pub", "use",
    "mod", "crate", "trait", "where", "loop", "match", "end", "begin", "then", "elsif", "unless", "until",
    "module", "require", "self", "super", "true", "false", "null", "nil", "undefined", "throw", "throws",
    "catch", "try", "finally", "return", "if", "else", "for", "while", "break", "continue", "in", "of",
}


def _token_class(ts: TokenStream, i: int, raw: str) -> str:
    k = ts.kind[i]
    if k == COMMENT:
        return "comment"
    if k == STRING or raw[:1].isdigit():
        return "literal"
    if (raw[:1].isalpha() or raw[:1] == "_") and raw not in _KEYWORDS:
        return "identifier"
    return "code"


def _lines(ts: TokenStream, a: int, b: int) -> list[int]:
    """1-based line range of tokens [a, b); an empty range gives the line where it would start."""
    if not len(ts):
        return [1, 1]
    if a >= b:
        i = min(a, len(ts) - 1)
        return [int(ts.line[i]), int(ts.line[i])]
    return [int(ts.line[a]), int(ts.line[b - 1])]


def _snippet(ts: TokenStream, a: int, b: int) -> str:
    if a >= b:
        return ""
    s = ts.text[ts.start[a]:ts.end[b - 1]]
    return s if len(s) <= 80 else s[:77] + "..."


def differences(work: TokenStream, copy: TokenStream, spans: list[tuple[int, int, int, int]],
                prose: bool = False, raw: tuple[list[str], list[str]] | None = None) -> dict:
    """Classified differences between the work and the copy within the copied region.

    `spans` are the matched (w0, w1, d0, d1) runs in layout-level token indices. The longest chain of them in
    the same order on both sides anchors the alignment (a span out of that order is a `block reordered`).
    The region runs from the chain's first span to its last, widened on each side only as far as the text
    beyond still aligns (more tokens equal than edited): a copy that holds part of the work inside other
    text is compared over the part it holds, and the rest of the work is `not in the copy`, never renames of
    unrelated text. Between two spans, text that does not align either is `not in the copy` on the work's
    side and inserted on the copy's side. `raw`: the two texts' tokens as written (`work.raw`, `copy.raw`),
    when the caller keeps them (each `.raw` builds the list anew: a copy matched by many works reuses it).
    """
    spans = sorted(set(spans))
    if not spans:
        return {"aligned": True, "edit_similarity": None, "difference_counts": {}, "rename_map": {},
                "rename_consistent": None, "differences": [], "differences_not_listed": 0}
    in_order = _increasing(spans)
    chain = [s for k, s in enumerate(spans) if k in in_order]
    moved = [s for k, s in enumerate(spans) if k not in in_order]
    moved_w = np.zeros(len(work) + 1, dtype=bool)
    moved_d = np.zeros(len(copy) + 1, dtype=bool)
    for w0, w1, d0, d1 in moved:
        moved_w[w0:w1] = moved_d[d0:d1] = True
    (w_first, _, d_first, _), (_, w_last, _, d_last) = chain[0], chain[-1]
    if (w_last - w_first) + (d_last - d_first) > MAX_ALIGN_TOKENS:
        return {"aligned": False, "why": f"region of {(w_last - w_first) + (d_last - d_first):,} tokens is over "
                f"the {MAX_ALIGN_TOKENS:,}-token alignment limit", "differences": [], "edit_similarity": None}
    al = _Aligner(work, copy, *(raw or (work.raw, copy.raw)))
    # how far the region reaches beyond the chain: back from its first span, on from its last
    if moved_w[:w_first].any() or moved_d[:d_first].any():
        back = (0, 0)
    else:
        back = _reach(al.a, al.b, w_first, d_first, -1, 0, 0)
    if moved_w[w_last:].any() or moved_d[d_last:].any():
        on = (0, 0)
    else:
        on = _reach(al.a, al.b, w_last, d_last, 1, len(work), len(copy))
    back = _to_the_end(al.a, al.b, w_first - back[0], d_first - back[1], -1, back, moved_w, moved_d)
    on = _to_the_end(al.a, al.b, w_last + on[0], d_last + on[1], 1, on, moved_w, moved_d)
    rw0, rd0, rw1, rd1 = w_first - back[0], d_first - back[1], w_last + on[0], d_last + on[1]
    if (rw1 - rw0) + (rd1 - rd0) > MAX_ALIGN_TOKENS:
        return {"aligned": False, "why": f"region of {(rw1 - rw0) + (rd1 - rd0):,} tokens is over the "
                f"{MAX_ALIGN_TOKENS:,}-token alignment limit", "differences": [], "edit_similarity": None}
    _not_in_copy(al, 0, rw0, rd0, moved_w)
    matched = al.run(rw0, w_first, rd0, d_first)
    prev_w, prev_d = w_first, d_first
    for w0, w1, d0, d1 in chain:
        matched += _gap(al, prev_w, w0, prev_d, d0, moved_w, moved_d)
        matched += al.run(w0, w1, d0, d1)
        prev_w, prev_d = w1, d1
    matched += al.run(w_last, rw1, d_last, rd1)
    _not_in_copy(al, rw1, len(work), rd1, moved_w)
    for w0, w1, d0, d1 in moved:
        al.add("block reordered", w0, w1, d0, d1)
        matched += al.run(w0, w1, d0, d1)
    diffs = _merge_layout(sorted(al.diffs, key=lambda d: (d["original_lines"], d["copy_lines"])))
    if prose:  # words and punctuation; a rename map means nothing for prose
        _as_prose(diffs)
        al.renames.clear()
    rename_map = {old: new.most_common(1)[0][0] for old, new in sorted(al.renames.items())}
    targets = Counter(rename_map.values())
    consistent = all(len(new) == 1 for new in al.renames.values()) and all(c == 1 for c in targets.values())
    kinds = Counter(d["kind"] for d in diffs)
    moved_w[rw0:rw1] = moved_d[rd0:rd1] = True  # the tokens compared: the region and the moved blocks
    total = int(moved_w.sum() + moved_d.sum())
    return {
        "aligned": True,
        "region": {"original_lines": _lines(work, rw0, rw1), "copy_lines": _lines(copy, rd0, rd1)},
        "edit_similarity": round(2 * matched / total, 6) if total else 1.0,
        "difference_counts": dict(sorted(kinds.items())),
        "rename_map": rename_map,
        "rename_consistent": bool(consistent) if rename_map else None,
        "differences": diffs[:MAX_LISTED],
        "differences_not_listed": max(0, len(diffs) - MAX_LISTED),
    }


# A gap between two spans smaller than this on both sides is aligned token by token whatever it holds
SMALL_GAP_TOKENS = 40
# Text beyond a span joins the region only if its alignment gains at least this many tokens (equal runs
# minus edits): a shared idiom (`= sys.version_info[`) next to a span never pulls unrelated text in. A longer
# equal run would be a span itself; a short tail at the copy's edge is taken by `_to_the_end`
MIN_REACH_GAIN = 8
REACH_WINDOW = 2_000  # tokens aligned at a time when widening the region
MIN_RUN = 3  # equal runs shorter than this gain nothing when widening the region
GAP_COST = 5  # what a run of tokens only one side has costs, at most, when widening the region


def _reach(a: list[str], b: list[str], i: int, j: int, step: int, end_a: int, end_b: int) -> tuple[int, int]:
    """How many tokens of a and b, from positions i and j going in direction `step` (-1: back, towards
    end_a / end_b; 1: on), still align: the prefix of their edit script with the highest score, if that
    score is at least MIN_REACH_GAIN. Score: +1 a token of an equal run of MIN_RUN or more, -1 a replaced
    token, -GAP_COST at most for a run only one side has (a deleted block before a short tail the copy
    holds does not hide the tail)."""
    ta = tb = 0
    while True:
        na, nb = min(REACH_WINDOW, abs(end_a - i) - ta), min(REACH_WINDOW, abs(end_b - j) - tb)
        if na <= 0 or nb <= 0:
            return ta, tb
        if step < 0:
            xa = a[i - ta - na:i - ta][::-1]
            xb = b[j - tb - nb:j - tb][::-1]
        else:
            xa = a[i + ta:i + ta + na]
            xb = b[j + tb:j + tb + nb]
        score = best = 0
        cut = (0, 0)
        for op, x1, x2, y1, y2 in _opcodes(xa, xb):
            if op == "equal":
                score += x2 - x1 if x2 - x1 >= MIN_RUN else 0  # a token or two alike is chance
                if score > best:
                    best, cut = score, (x2, y2)
            elif op == "replace":
                score -= max(x2 - x1, y2 - y1)
            else:  # text only one side has: one edit, however long (a deleted block, an inserted line)
                score -= min(max(x2 - x1, y2 - y1), GAP_COST)
        if best < MIN_REACH_GAIN:
            return ta, tb
        ta, tb = ta + cut[0], tb + cut[1]
        if cut[0] < na * 3 // 4 and cut[1] < nb * 3 // 4:  # stopped inside the window: done
            return ta, tb


def _to_the_end(a: list[str], b: list[str], i: int, j: int, step: int, reach: tuple[int, int],
                moved_w: np.ndarray, moved_d: np.ndarray) -> tuple[int, int]:
    """A copy that ends (or begins) a few tokens past the region takes them in when they are the work's next
    words: two thirds of them align with the work's next few tokens, two of those words other than keywords,
    or a run of MIN_RUN tokens with a word covers three quarters of them a little further on (a short last
    line after a deleted block). Punctuation alone (a closing quote) or keywords alone (`from ... import`) are
    chance; a renamed word at the very edge is therefore left `not in the copy`."""
    rest = len(b) - j if step > 0 else j
    if not 0 < rest <= SMALL_GAP_TOKENS:
        return reach
    for extra, close in ((GAP_COST, False), (SMALL_GAP_TOKENS, True)):
        if step > 0:
            xa, xb = a[i:i + rest + extra], b[j:]
            if moved_w[i:i + len(xa)].any() or moved_d[j:].any():
                return reach
        else:
            xa, xb = a[max(0, i - rest - extra):i][::-1], b[:j][::-1]
            if moved_w[max(0, i - len(xa)):i].any() or moved_d[:j].any():
                return reach
        runs = [(x1, x2, y2) for op, x1, x2, _, y2 in _opcodes(xa, xb) if op == "equal"
                and (not close or x2 - x1 >= MIN_RUN)]
        equal = sum(x2 - x1 for x1, x2, _ in runs)
        # words, not keywords: `from ... import` alike in chat code and the work is chance
        words = sum(any(ch.isalnum() for ch in t) and t not in _KEYWORDS for x1, x2, _ in runs for t in xa[x1:x2])
        if runs and (equal * 4 >= rest * 3 if close else equal * 3 >= rest * 2) and words >= (1 if close else 2):
            return reach[0] + runs[-1][1], reach[1] + runs[-1][2]
    return reach


def _not_in_copy(al: _Aligner, i1: int, i2: int, j: int, moved_w: np.ndarray) -> None:
    """The work's tokens [i1, i2) outside the region (less any moved block): not in the copy."""
    t = i1
    while t < i2:
        if moved_w[t]:
            t += 1
            continue
        e = t
        while e < i2 and not moved_w[e]:
            e += 1
        al.add("not in the copy", t, e, j, j)
        t = e


def _gap(al: _Aligner, i1: int, i2: int, j1: int, j2: int, moved_w: np.ndarray, moved_d: np.ndarray) -> int:
    """The text between two spans of the chain; returns the tokens matched."""
    if i1 >= i2 and j1 >= j2:
        return 0
    if moved_w[i1:i2].any() or moved_d[j1:j2].any():  # a moved block stands here: the rest is not aligned
        for a, b in _runs(~moved_w[i1:i2]):
            al.gap_deleted(i1 + a, i1 + b, j1)
        for a, b in _runs(~moved_d[j1:j2]):
            al.gap_inserted(i1, j1 + a, j1 + b)
        return 0
    if i1 >= i2 or j1 >= j2 or (i2 - i1 <= SMALL_GAP_TOKENS and j2 - j1 <= SMALL_GAP_TOKENS):
        return al.run(i1, i2, j1, j2)
    a, b = al.a, al.b
    fa, fb = _reach(a, b, i1, j1, 1, i2, j2)
    ba, bb = _reach(a, b, i2, j2, -1, i1, j1)
    if i1 + fa >= i2 - ba or j1 + fb >= j2 - bb:  # the two ends meet: one modified stretch
        return al.run(i1, i2, j1, j2)
    matched = al.run(i1, i1 + fa, j1, j1 + fb) + al.run(i2 - ba, i2, j2 - bb, j2)
    al.add("not in the copy", i1 + fa, i2 - ba, j1 + fb, j1 + fb)
    al.gap_inserted(i2 - ba, j1 + fb, j2 - bb)
    return matched


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    if not len(mask):
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _increasing(spans: list[tuple[int, int, int, int]]) -> set[int]:
    """Indices of the longest run of spans (in work order) whose copy positions also increase."""
    best: list[int] = []
    prev: list[int] = []
    for k, s in enumerate(spans):
        cand = [j for j in range(k) if spans[j][3] <= s[2]]
        j = max(cand, key=lambda j: best[j], default=None)
        best.append((best[j] if j is not None else 0) + (s[1] - s[0]))
        prev.append(j if j is not None else -1)
    if not spans:
        return set()
    k = max(range(len(spans)), key=lambda i: best[i])
    keep = set()
    while k >= 0:
        keep.add(k)
        k = prev[k]
    return keep


class _Aligner:
    def __init__(self, work: TokenStream, copy: TokenStream, a: list[str], b: list[str]) -> None:
        self.work, self.copy = work, copy
        self.a, self.b = a, b  # the tokens as written
        self.diffs: list[dict] = []
        self.renames: dict[str, Counter] = defaultdict(Counter)

    def add(self, kind: str, i1: int, i2: int, j1: int, j2: int) -> dict:
        d = {"kind": kind, "original_lines": _lines(self.work, i1, i2), "copy_lines": _lines(self.copy, j1, j2),
             "original": _snippet(self.work, i1, i2), "copy": _snippet(self.copy, j1, j2)}
        self.diffs.append(d)
        return d

    def run(self, i1: int, i2: int, j1: int, j2: int) -> int:
        """Align work[i1:i2] with copy[j1:j2] (absolute indices); returns how many tokens matched."""
        if i1 >= i2 and j1 >= j2:
            return 0
        a, b = self.a, self.b
        matched = 0
        for op, x1, x2, y1, y2 in _opcodes(a[i1:i2], b[j1:j2]):
            x1, x2, y1, y2 = x1 + i1, x2 + i1, y1 + j1, y2 + j1
            if op == "equal":
                matched += x2 - x1
                _layout(self.work, self.copy, x1, x2, y1, self.add)
                continue
            ca = {_token_class(self.work, i, a[i]) for i in range(x1, x2)}
            cb = {_token_class(self.copy, j, b[j]) for j in range(y1, y2)}
            if ca <= {"comment"} and cb <= {"comment"}:
                self.add({"replace": "comment changed", "delete": "comment removed", "insert": "comment added"}[op],
                         x1, x2, y1, y2)
            elif op == "replace" and x2 - x1 == y2 - y1 and ca | cb <= {"identifier", "literal"}:
                for t in range(x2 - x1):  # token by token: a rename here, a changed literal there
                    ka = _token_class(self.work, x1 + t, a[x1 + t])
                    kb = _token_class(self.copy, y1 + t, b[y1 + t])
                    if ka == kb == "identifier":
                        self.renames[a[x1 + t]][b[y1 + t]] += 1
                        self.add("identifier renamed", x1 + t, x1 + t + 1, y1 + t, y1 + t + 1)
                    else:
                        self.add("literal changed", x1 + t, x1 + t + 1, y1 + t, y1 + t + 1)
            else:
                self.add({"delete": "line deleted", "insert": "line inserted"}.get(op, "code changed"),
                         x1, x2, y1, y2)
        return matched

    def gap_deleted(self, i1: int, i2: int, j: int) -> None:
        if i2 > i1:
            only_comments = all(self.work.kind[i] == COMMENT for i in range(i1, i2))
            self.add("comment removed" if only_comments else "line deleted", i1, i2, j, j)

    def gap_inserted(self, i: int, j1: int, j2: int) -> None:
        if j2 > j1:
            only_comments = all(self.copy.kind[j] == COMMENT for j in range(j1, j2))
            self.add("comment added" if only_comments else "line inserted", i, i, j1, j2)


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """A minimal edit script (Levenshtein, rapidfuzz's bit-parallel C implementation; difflib was most of
    `match`'s time), with the cheap cases first: equal runs, equal lengths (a span whose tokens differ only
    in case pairs one to one), and gaps too large to align."""
    n, m = len(a), len(b)
    if a == b:
        return [("equal", 0, n, 0, n)]
    if n == m:
        same = [x == y for x, y in zip(a, b, strict=True)]
        if sum(same) * 2 >= n:  # mostly equal: token for token
            out, start = [], 0
            for t in range(1, n + 1):
                if t == n or same[t] != same[start]:
                    out.append(("equal" if same[start] else "replace", start, t, start, t))
                    start = t
            return out
    if n * m > MAX_DIFF_CELLS:
        return [("delete" if not m else "insert" if not n else "replace", 0, n, 0, m)]
    return Levenshtein.opcodes(a, b).as_list()


def _layout(work: TokenStream, copy: TokenStream, i1: int, i2: int, j1: int, add) -> None:
    """Spacing/line-break differences inside an equal run, one entry per run of nearby gaps."""
    if i2 - i1 < 2:
        return
    j2 = j1 + (i2 - i1)
    # the same text from the run's first token to its last (a copy kept as it was): every gap is equal
    if work.text[work.start[i1]:work.end[i2 - 1]] == copy.text[copy.start[j1]:copy.end[j2 - 1]]:
        return
    wa = work.start[i1 + 1:i2] - work.end[i1:i2 - 1]
    cb = copy.start[j1 + 1:j1 + (i2 - i1)] - copy.end[j1:j1 + (i2 - i1) - 1]
    cand = np.nonzero((wa != cb) | (wa > 0))[0]
    run: tuple[int, int] | None = None
    for t in cand.tolist():
        ga = work.text[work.end[i1 + t]:work.start[i1 + t + 1]]
        gb = copy.text[copy.end[j1 + t]:copy.start[j1 + t + 1]]
        if ga == gb:
            continue
        if run and t - run[1] <= 8:  # nearby gaps form one layout difference
            run = (run[0], t + 1)
            continue
        if run:
            add("whitespace/layout", i1 + run[0], i1 + run[1] + 1, j1 + run[0], j1 + run[1] + 1)
        run = (t, t + 1)
    if run:
        add("whitespace/layout", i1 + run[0], i1 + run[1] + 1, j1 + run[0], j1 + run[1] + 1)


def _merge_layout(diffs: list[dict]) -> list[dict]:
    """Layout differences on touching lines are one difference (a re-indented block, not 40 entries)."""
    out: list[dict] = []
    for d in diffs:
        prev = out[-1] if out else None
        if (prev and d["kind"] == prev["kind"] == "whitespace/layout"
                and d["original_lines"][0] <= prev["original_lines"][1] + 1):
            prev["original_lines"] = [prev["original_lines"][0], max(prev["original_lines"][1], d["original_lines"][1])]
            prev["copy_lines"] = [prev["copy_lines"][0], max(prev["copy_lines"][1], d["copy_lines"][1])]
            continue
        out.append(d)
    return out


_PROSE_KINDS = {"identifier renamed": "word changed", "literal changed": "word changed",
                "code changed": "text changed", "line inserted": "text inserted", "line deleted": "text deleted",
                "comment added": "text inserted", "comment removed": "text deleted", "comment changed": "text changed"}


def _as_prose(diffs: list[dict]) -> None:
    """A prose work's differences in a reader's terms: words and punctuation, not identifiers and code."""
    for d in diffs:
        kind = _PROSE_KINDS.get(d["kind"], d["kind"])
        if kind == "text changed" and not any(ch.isalnum() for ch in d["original"] + d["copy"]):
            kind = "punctuation changed"  # quotes, apostrophes, dashes
        d["kind"] = kind
