"""§1202(b) answered per copy, in the terms the courts ask it, and across the copies of a class.

For each copy (a corpus record or a model output) this gathers, from its evidence record, the work's and the
copy's texts and the other copies of the case:
- the unit: the work file, and the registered work it belongs to (a repository, a book, a collection), with
  the share of the whole work the copy holds as well as of the file;
- identical (token level), identical except CMI, typographical only (cmi/identicality.py);
- where the CMI was and where it is now: in the work, in the copy's text, in the copy's record metadata, in
  the output shown to the user;
- for a model output, whether the defendant's source copy in evidence (a corpus copy of the same work file)
  carried the CMI at all: there is no removal by the model of what its source never had;
- the answer under each reading: whole-work identicality (the copy is the whole work, CMI aside, and its CMI
  was removed or altered) and portion (a copied portion's CMI was removed or altered), side by side;
- public-domain works are labelled, and carry no §1202(b) answer.

`class_shares` gives the share of copies whose CMI was removed, altered, moved to metadata or kept, by source
and by kind of CMI, with 95 % Wilson intervals: the common question of a Rule 23(c)(4) issue class.
"""

from __future__ import annotations

from collections import defaultdict

from ascertain.classes.public_domain import public_domain
from ascertain.cmi.identicality import compare_outside_cmi
from ascertain.cmi.scan import scan_text
from ascertain.text.tokenize import tokenize
from ascertain.validation.intervals import wilson

STATUSES = ("removed", "altered", "moved_to_metadata", "retained")
STATUS_WORDS = {"removed": "removed", "altered": "altered", "moved_to_metadata": "moved to metadata",
                "retained": "kept", "never_present": "never present", "unknown": "unknown",
                "not_applicable": "not applicable"}
class CopyContext:
    """What answering each copy needs of the whole case: token counts of every work file, the work files'
    CMI scans, and each work file's corpus copies (the defendant's source copies of a model output)."""

    def __init__(self, files: dict[int, dict], works: dict[int, dict], copies: list[dict],
                 sources: dict[int, dict], as_of_year: int, pd_dates: dict[int, str | None]) -> None:
        self.files, self.works = files, works
        self.source_kind = {sid: s["kind"] for sid, s in sources.items()}
        self.source_name = {sid: s["name"] for sid, s in sources.items()}
        source_kind = self.source_kind
        self._tokens: dict[int, int] = {}
        self._scans: dict[int, dict] = {}
        self.public_domain = {wid: public_domain(w.get("identifiers"), pd_dates.get(wid), as_of_year)
                              for wid, w in works.items()}
        self.corpus_copies: dict[int, list[dict]] = defaultdict(list)
        for e in copies:
            if source_kind[e["source_id"]] == "corpus":
                self.corpus_copies[e["work_file_id"]].append(e)
        # the whole-work share held by all copies of one source: each file's best coverage in that source
        best: dict[tuple[int, int], float] = {}
        for e in copies:
            k = (e["source_id"], e["work_file_id"])
            best[k] = max(best.get(k, 0.0), float(e["metrics"]["coverage"]))
        self.source_work_coverage: dict[tuple[int, int], float] = {}
        for (sid, fid), cov in best.items():
            wid = files[fid]["work_id"]
            self.source_work_coverage[sid, wid] = self.source_work_coverage.get((sid, wid), 0.0) + \
                cov * self.tokens(fid) / max(1, self.work_tokens(wid))

    def tokens(self, fid: int) -> int:
        if fid not in self._tokens:
            f = self.files[fid]
            self._tokens[fid] = len(tokenize(f["text"], f["language"], kinds=False))
        return self._tokens[fid]

    def work_tokens(self, wid: int) -> int:
        return sum(self.tokens(fid) for fid, f in self.files.items() if f["work_id"] == wid)

    def scan(self, fid: int) -> dict:
        if fid not in self._scans:
            f = self.files[fid]
            self._scans[fid] = scan_text(f["path"], f["text"], f["language"])
        return self._scans[fid]


def unit_kind(files: list[dict]) -> str:
    if all(f["language"] == "prose" for f in files):
        return "book" if len(files) == 1 else "collection"
    return "repository" if len(files) > 1 else "file"


def answer(e: dict, doc: dict | None, ctx: CopyContext, provenance: dict | None = None) -> dict:
    """The §1202(b) answers of one copy (`e`: its evidence row; `doc`: its indexed document, text or none)."""
    fid, m = e["work_file_id"], e["metrics"]
    f = ctx.files[fid]
    wid = f["work_id"]
    work_files = [x for x in ctx.files.values() if x["work_id"] == wid]
    cmi = m.get("cmi") or {}
    status = cmi.get("status", "unknown")
    kind = ctx.source_kind[e["source_id"]]
    out: dict = {
        "unit": {"file": f["path"], "work": ctx.works[wid]["title"], "kind": unit_kind(work_files),
                 "files_in_work": len(work_files), "file_coverage": float(m["coverage"]),
                 "work_coverage": float(m["coverage"]) * ctx.tokens(fid) / max(1, ctx.work_tokens(wid)),
                 "source_work_coverage": min(1.0, ctx.source_work_coverage.get((e["source_id"], wid), 0.0))},
        "identical": bool(m.get("identical")), "byte_identical": bool(m.get("byte_identical")),
        "identical_except_cmi": None, "typographical_only": None, "status": status,
        "public_domain": ctx.public_domain.get(wid)}
    text = (doc or {}).get("text")
    if text is not None:
        out.update(compare_outside_cmi(f["text"], f["language"], ctx.scan(fid), text,
                                       (doc or {}).get("language") or f["language"],
                                       scan_text(e["doc_locator"], text, (doc or {}).get("language") or "")))
    out["where"] = _where(cmi, kind)
    out["source_copy"] = _source_copy(e, kind, ctx)
    out["readings"] = _readings(out, cmi, kind)
    if provenance is not None:
        out["provenance"] = provenance
    return out


def _kinds(items: list[dict]) -> list[str]:
    return list(dict.fromkeys(i.get("kind", "?") for i in items if i))


def _where(cmi: dict, kind: str) -> dict:
    """Where the original's CMI was and where it is now (kinds of CMI; their lines are in the exhibit)."""
    moved = cmi.get("moved_to_metadata") or []
    in_text = [*(cmi.get("retained") or []), *((a.get("copy") or {}) for a in cmi.get("altered") or [])]
    return {"work": _kinds(cmi.get("original") or []), "copy_text": _kinds(in_text),
            "removed": _kinds([*(cmi.get("removed") or [])]),
            "record_metadata": sorted({fld for mv in moved for fld in mv["fields"]}),
            "record_fields": [f"{r['field']}: {r['value']}" for r in cmi.get("record_fields") or []],
            "shown_to_user": (bool(in_text) if kind == "outputs" else None)}


def _source_copy(e: dict, kind: str, ctx: CopyContext) -> dict | None:
    """For a model output: the corpus copies of the same work file in evidence and whether they carried the
    CMI (None when no corpus copy of it is in evidence)."""
    if kind != "outputs":
        return None
    sources = ctx.corpus_copies.get(e["work_file_id"]) or []
    if not sources:
        return None
    carried = [s for s in sources if (s["metrics"].get("cmi") or {}).get("status") in ("retained", "altered")]
    return {"copies": len(sources), "carried_cmi": bool(carried),
            "documents": sorted(f"{ctx.source_name[s['source_id']]}: {s['doc_locator']}" for s in sources)[:5]}


def _readings(a: dict, cmi: dict, kind: str) -> dict:
    """The §1202(b) answer under each reading: 'yes', 'no' or 'n/a', with the reason."""
    if a["public_domain"]:
        why = "public-domain work: no §1202(b) claim"
        return {"whole_work": ("n/a", why), "portion": ("n/a", why)}
    status = a["status"]
    if status in ("never_present", "unknown", "not_applicable"):
        why = {"never_present": "the work's copied region and header carry no CMI",
               "unknown": "the copy's text is not indexed: its CMI cannot be read",
               "not_applicable": "not a copy"}[status]
        return {"whole_work": ("n/a", why), "portion": ("n/a", why)}
    src = a["source_copy"]
    if src is not None and not src["carried_cmi"] and status in ("removed", "altered"):
        why = "the defendant's source copy in evidence carried no CMI in its text: no removal by the model"
        return {"whole_work": ("no", why), "portion": ("no", why)}
    stripped = status in ("removed", "altered")
    if status == "moved_to_metadata":
        why = "the CMI is not in the copy's text but in its record's metadata (" + \
            ", ".join(a["where"]["record_metadata"]) + ")"
        return {"whole_work": ("no", why), "portion": ("no", why)}
    if not stripped:
        return {"whole_work": ("no", "the CMI was kept"), "portion": ("no", "the CMI was kept")}
    whole = a["identical"] or a["identical_except_cmi"]
    return {"whole_work": ("yes", "the whole work, CMI aside, with its CMI " + status) if whole else
            ("no", "the copy is not the whole work" + (" (it differs only typographically)"
                                                        if a["typographical_only"] else "")),
            "portion": ("yes", f"CMI {status} from the copied portion")}


def class_shares(rows: list[tuple[str, dict]]) -> dict:
    """rows: (source name, cmi object) of every copy with CMI in its original and not public domain.
    {by_source: [...], by_kind: [...]}: each row a status share with its count and 95 % Wilson interval."""
    def tally(groups: dict[str, list[str]]) -> list[dict]:
        out = []
        for name in sorted(groups):
            sts = groups[name]
            n = len(sts)
            for st in STATUSES:
                k = sum(1 for s in sts if s == st)
                out.append({"group": name, "status": STATUS_WORDS[st], "k": k, "n": n,
                            "share": k / n if n else 0.0, "ci": wilson(k, n)})
        return out

    by_source: dict[str, list[str]] = defaultdict(list)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for src, cmi in rows:
        if cmi.get("status") not in STATUSES:
            continue
        by_source[src].append(cmi["status"])
        by_source["all sources"].append(cmi["status"])
        for kind, st in _kind_status(cmi).items():
            by_kind[kind].append(st)
    return {"by_source": tally(by_source), "by_kind": tally(by_kind),
            "copies": len(by_source.get("all sources", []))}


def _kind_status(cmi: dict) -> dict[str, str]:
    """The status of each kind of CMI in one copy (the worst of its items: removed, altered, moved, kept)."""
    out: dict[str, str] = {}
    rank = {s: i for i, s in enumerate(STATUSES)}
    found = [("removed", i) for i in cmi.get("removed") or []]
    found += [("altered", a["original"]) for a in cmi.get("altered") or []]
    found += [("moved_to_metadata", mv["original"]) for mv in cmi.get("moved_to_metadata") or []]
    found += [("retained", i) for i in cmi.get("retained") or []]
    for st, item in found:
        k = item.get("kind", "?")
        if k not in out or rank[st] < rank[out[k]]:
            out[k] = st
    return out
