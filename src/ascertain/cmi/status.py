"""Whether a copy kept, changed or dropped the CMI of the original region (DMCA §1202(b)).

The original's CMI that matters for one copy is what its file header carries (everything before the first
line of code) and what lies inside the copied region. The copy's CMI is what it carries in its own header
or near the copied region. Each original item is then:

  retained  the copy carries the same item (same holders and years; same SPDX id; same author),
  altered   the copy carries an item of the same kind in its place, with a different holder, year,
            license or author,
  removed   the copy carries nothing of that kind for it,
  moved to metadata
            the copy's text carries nothing for it, but the copy's record (a JSONL/Parquet row, as The Stack
            carries them) names it in a field beside the text: the same SPDX license in a license field, the
            same holder or author in a holder/author/copyright field, the same title in a title field.

A book's CMI (title, author, ISBN, publisher, terms, distributor header and footer: cmi/book.py) is about the
whole book: on both sides it counts wherever it stands, whatever region was copied.

The status is `never_present` when the original region and header carry no CMI, else `removed` if any
item was removed, else `altered` if any was altered, else `moved_to_metadata` if any was moved to the record's
metadata, else `retained`.

A §1202(b) status only exists for a copy: when the pair is not a copy (`copied` false) the status is
`not_applicable`, and the original's CMI items are still listed (for information, nothing is classified).
"""

from __future__ import annotations

import re

from ascertain.cmi.metadata import record_fields
from ascertain.text.tokenize import CODE, TokenStream

_NORM = re.compile(r"[^\w]+")
COPY_WINDOW_BEFORE = 40  # lines above the copied region that may hold the copy's notice
COPY_WINDOW_AFTER = 5


def _norm(s: str) -> str:
    return _NORM.sub(" ", s.casefold()).strip()


def items(cmi: dict) -> list[dict]:
    """Comparable items of a scan result: kind, key (what must be equal), value, lines."""
    out: list[dict] = []
    for c in cmi.get("copyrights", []):
        out.append({"kind": "copyright", "key": "|".join(sorted(_norm(h) for h in c["holders"])),
                    "years": c["years"], "value": c["statement"], "lines": [c["start_line"], c["end_line"]]})
    seen: set = set()
    for lic in cmi.get("licenses", []):
        if lic["spdx"] not in seen:
            seen.add(lic["spdx"])
            out.append({"kind": "license", "key": lic["spdx"], "value": lic["spdx"], "rule": lic["rule"],
                        "lines": [lic["start_line"], lic["end_line"]]})
    authors: dict[str, dict] = {}
    for a in cmi.get("authors", []):
        key = _norm(re.sub(r"<[^>]*>", "", a["author"]))
        if key and key not in seen:
            seen.add(key)
            authors[key] = {"kind": "author", "key": key, "value": a["author"],
                            "lines": [a["start_line"], a["end_line"]]}
            out.append(authors[key])
    for b in cmi.get("book", []):  # a book's CMI is about the whole book, wherever it stands
        if b["kind"] == "author" and b["key"] in authors:
            authors[b["key"]]["applies_to"] = "book"  # the same author, found by the general rules too
            continue
        if ("book", b["kind"], b["key"]) in seen:
            continue
        seen.add(("book", b["kind"], b["key"]))
        item = {"kind": b["kind"], "key": b["key"], "value": b["value"], "rule": b["rule"],
                "lines": [b["start_line"], b["end_line"]], **({"pages": b["pages"]} if "pages" in b else {}),
                "applies_to": "book"}
        if b["kind"] == "author":
            authors[b["key"]] = item
        out.append(item)
    return out


def header_end(tokens: TokenStream) -> int:
    """Last line of the file header: the line before the first code token (all lines if none)."""
    code = (tokens.kind == CODE).nonzero()[0]
    if not len(code):
        return int(tokens.line[-1]) if len(tokens) else 0
    return int(tokens.line[code[0]]) - 1


def _within(item: dict, ranges: list[tuple[int, int]]) -> bool:
    a, b = item["lines"]
    return any(a <= hi and b >= lo for lo, hi in ranges)


def region_items(cmi: dict, header_last: int, regions: list[tuple[int, int]]) -> list[dict]:
    return [i for i in items(cmi)
            if i["lines"][0] <= header_last or _within(i, regions) or i.get("applies_to") == "book"]


def copy_items(cmi: dict, regions: list[tuple[int, int]]) -> list[dict]:
    """The copy's items in or near the copied regions (a notice kept above a copied function counts)."""
    near = [(max(1, a - COPY_WINDOW_BEFORE), b + COPY_WINDOW_AFTER) for a, b in regions]
    return [i for i in items(cmi) if _within(i, near) or i.get("applies_to") == "book"]


def status_of_copy(work_cmi: dict, work_tokens: TokenStream, copy_cmi: dict | None, spans: list[dict],
                   repository: list[dict] | None = None, copied: bool = True,
                   record_meta: dict | None = None) -> dict:
    """The `cmi` object of one evidence record (spans as reported by `measure`); `record_meta`: the corpus
    record's metadata fields (readers/records.py), where CMI the text lacks may stand."""
    orig_regions = [tuple(s["original_lines"]) for s in spans]
    if not copied:
        return {"status": "not_applicable", "why": "not a copy: a §1202(b) status exists only for a copy",
                "original": [_public(i) for i in region_items(work_cmi, header_end(work_tokens), orig_regions)]}
    if copy_cmi is None:
        return {"status": "unknown", "why": "the copy's text is not in the index (keyed mode)"}
    copy_regions = [tuple(s["copy_lines"]) for s in spans if s.get("copy_lines")]
    result = compare_cmi(region_items(work_cmi, header_end(work_tokens), orig_regions),
                         copy_items(copy_cmi, copy_regions), record_fields(record_meta or {}))
    if repository:
        carried = {(i["kind"], i["key"]) for i in items(copy_cmi)}
        result["repository"] = [{**_public(i), "in_copy": (i["kind"], i["key"]) in carried}
                                for i in repository]
    return result


def compare_cmi(original: list[dict], copy: list[dict], fields: list[dict] | None = None) -> dict:
    """Classify every original item against the copy's items (and the copy's record fields, if any)."""
    retained, altered, removed, moved = [], [], [], []
    left = list(copy)
    pending = []
    for o in original:
        same = next((c for c in left if c["kind"] == o["kind"] and c["key"] == o["key"]
                     and c.get("years") == o.get("years")), None)
        if same is not None:
            left.remove(same)
            retained.append(_public(o))
        else:
            pending.append(o)
    for o in pending:
        # prefer the same holder with other years, then any other item of the same kind
        other = next((c for c in left if c["kind"] == o["kind"] and c["key"] == o["key"]), None) \
            or next((c for c in left if c["kind"] == o["kind"]), None)
        if other is not None:
            left.remove(other)
            altered.append({"original": _public(o), "copy": _public(other), "changed": _changed(o, other)})
        elif named := sorted({f["field"] for f in fields or [] if _in_field(o, f)}):
            moved.append({"original": _public(o), "fields": named})
        else:
            removed.append(_public(o))
    if not original:
        status = "never_present"
    elif removed:
        status = "removed"
    elif altered:
        status = "altered"
    elif moved:
        status = "moved_to_metadata"
    else:
        status = "retained"
    out = {"status": status, "original": [_public(o) for o in original], "copy": [_public(c) for c in copy],
           "retained": retained, "altered": altered, "removed": removed}
    if fields:  # a record with CMI fields: what they say, and what of the original they carry
        out["moved_to_metadata"] = moved
        out["record_fields"] = [{k: f[k] for k in ("field", "role", "value")} for f in fields]
    return out


def _in_field(item: dict, f: dict) -> bool:
    """Whether a record field names the original's item (license by SPDX id; holder, author or title by its
    normalized words standing in the field's value)."""
    if item["kind"] == "license":
        return f["role"] == "license" and f["spdx"].casefold() == str(item["value"]).casefold()
    value = f" {_norm(f['value'])} "  # whole words only: holder "abc" is not in "abcdef"
    if item["kind"] == "copyright":
        holders = [h for h in item.get("key", "").split("|") if len(h) >= 3]
        return f["role"] in ("holder", "repository") and bool(holders) and all(f" {h} " in value for h in holders)
    if item["kind"] == "author":
        return f["role"] == "holder" and len(item["key"]) >= 3 and f" {item['key']} " in value
    if item["kind"] == "title":
        return f["role"] == "title" and f" {_norm(str(item['value']))} " == value
    if item["kind"] == "isbn":
        return f["role"] == "identifier" and re.sub(r"\D", "", str(item["value"])) == re.sub(r"\D", "", f["value"])
    return False


def _changed(o: dict, c: dict) -> list[str]:
    if o["kind"] == "copyright":
        return [w for w, differs in (("holder", o["key"] != c["key"]), ("year", o["years"] != c["years"]))
                if differs]
    return ["license"] if o["kind"] == "license" else ["author"]


def _public(i: dict) -> dict:
    return {k: v for k, v in i.items() if k != "key"}
