"""Whether a copy is the whole work but for its CMI, and whether its other differences are only typographical.

Courts split on whether a §1202(b) claim needs a copy identical to the whole work. A copy that is the work
verbatim except for its stripped header is not "identical" token for token, yet it is the whole work with its
CMI taken out. Two figures answer that:

  identical except CMI   every token of the work outside its CMI lines is in the copy outside the copy's CMI
                         lines, in the same order, as written, and nothing else is (layout aside);
  typographical only     the same comparison on words alone, case folded: the copy differs from the work (CMI
                         aside) only in whitespace, line breaks, punctuation, case and emphasis marks (_word_).

The CMI lines of a text are the lines of its CMI items (cmi/status.py `items`) and, when its file header (the
leading comment block) holds one of them, the whole header: the blank comment lines and
rules between a copyright line and its license notice are part of the notice.
"""

from __future__ import annotations

from ascertain.cmi.status import items
from ascertain.text.tokenize import COMMENT, TokenStream, tokenize


def comment_header_end(tokens: TokenStream) -> int:
    """Last line of the leading comment block (0 when the text does not open with a comment)."""
    other = (tokens.kind != COMMENT).nonzero()[0]
    if not len(tokens) or (len(other) and other[0] == 0):
        return 0
    return int(tokens.line[other[0]]) - 1 if len(other) else int(tokens.line[-1])


def cmi_lines(scan: dict, tokens: TokenStream) -> set[int]:
    """The lines of a text that hold its CMI (see the module's docstring)."""
    lines: set[int] = set()
    head = comment_header_end(tokens)
    for a, b in _spans(scan):
        lines.update(range(int(a), int(b) + 1))
        if head and a <= head:
            lines.update(range(1, head + 1))
    return lines


def _spans(scan: dict) -> list[tuple[int, int]]:
    """(first, last) line of every CMI detection of a scan, each one counted (cmi/status.py `items` keeps one
    item per license id: a second notice of the same license elsewhere must still be set aside)."""
    out = [(int(i["lines"][0]), int(i["lines"][1])) for i in items(scan)]
    for key in ("copyrights", "licenses", "authors", "book"):
        out += [(int(d["start_line"]), int(d["end_line"])) for d in scan.get(key) or []
                if "start_line" in d and "end_line" in d]
    return sorted(set(out))


def _outside(tokens: TokenStream, lines: set[int]) -> list[str]:
    keep = [i for i, ln in enumerate(tokens.line.tolist()) if ln not in lines]
    raw = tokens.raw
    return [raw[i] for i in keep]


def compare_outside_cmi(work_text: str, work_language: str, work_scan: dict, copy_text: str,
                        copy_language: str, copy_scan: dict) -> dict:
    """{identical_except_cmi, typographical_only, work_tokens_outside_cmi, copy_tokens_outside_cmi}."""
    wt, ct = tokenize(work_text, work_language), tokenize(copy_text, copy_language)
    w, c = _outside(wt, cmi_lines(work_scan, wt)), _outside(ct, cmi_lines(copy_scan, ct))
    same = bool(w) and w == c
    ww, cw = _words(w), _words(c)
    return {"identical_except_cmi": same, "typographical_only": bool(ww) and ww == cw,
            "work_tokens_outside_cmi": len(w), "copy_tokens_outside_cmi": len(c)}


def _words(tokens: list[str]) -> list[str]:
    # emphasis marks around a word (_word_, *word*: plain-text italics) are typography too
    return [t.strip("_*").casefold() for t in tokens if any(ch.isalnum() for ch in t)]
