"""The report's Images part: image works, their copies per tier and source, the image CMI kept/altered/removed
rates over each source with 95 % intervals, the metadata evidence of metadata-only datasets, and one image
exhibit per copy (report/image_exhibits.py), numbered in the report's one exhibit sequence.

It reads what the image match stages stored (store/schema.py: work_images, image_evidence, image_metadata_evidence)
and nothing else; a case without image evidence has no Images part.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import inspect, select

from ascertain.case import Case
from ascertain.report import exhibits
from ascertain.report.image_exhibits import CMI_FIELD_WORDS, image_exhibit
from ascertain.report.show_images import mark_words
from ascertain.store import schema
from ascertain.validation.intervals import wilson

TIERS = ("same_bytes", "same_pixels", "near_duplicate", "region_copy", "learned")
LEARNED_WORDS = ("similar by the learned descriptor the user supplied (cosine at or above the threshold; no region "
                 "located)")


def _has(case: Case, name: str) -> bool:
    return hasattr(schema, name) and inspect(case.store.engine).has_table(name)


def _copy_reader(case: Case, src: dict):
    """doc id -> the copy's bytes read again from the source's input (checked against the indexed sha256)."""
    from ascertain.index.images import read_image_index
    from ascertain.readers.images import read_image_at

    root = Path(src["index_dir"])
    root = root if root.is_absolute() else case.root / root
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        rows = {int(r["doc"]): r for r in read_image_index(root, manifest, ["doc", "locator", "sha256", "meta"])
                .to_pylist()}
    except (OSError, ValueError, KeyError):
        rows = {}

    def read(doc_id: int) -> bytes | None:
        r = rows.get(doc_id)
        if r is None:
            return None
        try:
            return read_image_at(json.loads(r["meta"]), r["locator"], r["sha256"])
        except Exception:  # noqa: BLE001 (an input moved or changed: the exhibit says the picture is not there)
            return None
    return read


def _rate(k: int, n: int) -> dict:
    return {"k": k, "n": n, "share": (k / n) if n else None, "ci": wilson(k, n)}


def cmi_rates(rows: list[dict], names: dict[int, str]) -> list[dict]:
    """Per source: of the documents holding a copy of a work that carried image CMI, how many kept it whole,
    altered it or removed it, with 95 % Wilson intervals; and per field. Identical copies each count."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(names[r["source_id"]], {"source": names[r["source_id"]], "copies": 0, "n": 0,
                                                   "statuses": Counter(), "fields": {}})
        n = int(r.get("copies") or 1)
        s["copies"] += n
        if r["cmi_status"] == "never_present":
            continue
        s["n"] += n
        s["statuses"][r["cmi_status"]] += n
        for field, f in (r["cmi"] or {}).items():
            s["fields"].setdefault(field, Counter())[f["status"]] += n
    result = []
    for name in sorted(out):
        s = out[name]
        result.append({"source": name, "copies": s["copies"], "with_cmi": s["n"],
                       **{st: _rate(s["statuses"][st], s["n"]) for st in ("retained", "altered", "removed")},
                       "fields": [{"field": CMI_FIELD_WORDS.get(f, f), "n": sum(c.values()),
                                   **{st: _rate(c[st], sum(c.values())) for st in ("kept", "altered", "removed")}}
                                  for f, c in sorted(s["fields"].items())]})
    return result


def load(case: Case, sources: dict[int, dict], show_copy: bool) -> dict | None:
    """The Images part of the report, or None when the case has no image evidence."""
    if not _has(case, "image_evidence"):
        return None
    ie, wi, wf = schema.image_evidence, schema.work_images, schema.work_files
    with case.store.engine.connect() as c:
        rows = [dict(r) for r in c.execute(select(ie).where(ie.c.copied.is_(True))
                                           .order_by(ie.c.work_id, ie.c.source_id, ie.c.doc_id)).mappings()]
        works = {r.work_file_id: dict(r._mapping) for r in c.execute(
            select(wi.c.work_file_id, wi.c.work_id, wi.c.data, wi.c.width, wi.c.height, wi.c.cmi, wf.c.path,
                   wf.c.sha256, schema.works.c.title, schema.claimants.c.name.label("claimant"))
            .join(wf, wf.c.id == wi.c.work_file_id).join(schema.works, schema.works.c.id == wi.c.work_id)
            .join(schema.claimants).order_by(wi.c.work_file_id))}
        meta = _metadata_evidence(case, c, sources, show_copy)
        marks = _watermarks(case, c)
    if not works and not rows and not meta:
        return None
    names = {sid: s["name"] for sid, s in sources.items()}
    by_tier = Counter((names[r["source_id"]], sources[r["source_id"]]["kind"], r["tier"]) for r in rows)
    tiers = [{"source": s, "kind": k, **{t: sum(int(r["copies"]) for r in rows if names[r["source_id"]] == s
                                            and r["tier"] == t) for t in TIERS}}
             for s, k in sorted({(s, k) for s, k, _ in by_tier})]
    work_list = []
    for w in works.values():
        mine = Counter()
        for r in rows:
            if r["work_file_id"] == w["work_file_id"]:
                mine[sources[r["source_id"]]["kind"]] += int(r["copies"])
        fields = (w["cmi"] or {}).get("fields") or {}
        work_list.append({"title": w["title"], "claimant": w["claimant"], "file": Path(w["path"]).name,
                          "sha256": w["sha256"], "size": f"{w['width']}×{w['height']}", "cmi_fields": len(fields),
                          "copies_corpus": mine["corpus"], "copies_outputs": mine["outputs"]})
    return {"works": work_list, "rows": rows, "work_files": works, "tiers": tiers,
            "learned": any(r["tier"] == "learned" for r in rows), "cmi_rates": cmi_rates(rows, names),
            "metadata": meta, "watermarks": marks, "visible_marks": _visible_marks(rows, names)}


def _visible_marks(rows: list[dict], names: dict[int, str]) -> list[dict]:
    """Per source and kind of mark (declared, automatic): of the copies checked, the share where the work's
    visible signature/watermark region was kept, altered, removed or cropped out, with 95 % intervals."""
    counts: dict[tuple[str, str], Counter] = {}
    for r in rows:
        vm = (r.get("facts") or {}).get("visible_mark")
        if vm:
            counts.setdefault((names[r["source_id"]], vm["source"]), Counter())[vm["status"]] += int(r["copies"])
    out = []
    for (source, kind), c in sorted(counts.items()):
        n = sum(v for k, v in c.items() if k != "not_checked")
        out.append({"source": source, "kind": kind, "checked": n, "not_checked": c["not_checked"],
                    **{st: _rate(c[st], n) for st in ("kept", "altered", "removed", "cropped_out")}})
    return out


def _watermarks(case: Case, c) -> list[dict]:
    """Per output set: outputs carrying an open generator's invisible watermark, per message, with intervals."""
    if not _has(case, "image_watermarks"):
        return []
    from ascertain.report.show_images import watermark_summary

    return [{"source": name, **t, "rate": _rate(t["present"], t["checked"] - t["unreadable"])}
            for name, t in watermark_summary(c).items()]


def _metadata_evidence(case: Case, c, sources: dict[int, dict], show_copy: bool) -> list[dict]:
    if not _has(case, "image_metadata_evidence"):
        return []
    me = schema.image_metadata_evidence
    out = []
    for r in c.execute(select(me, schema.claimants.c.name.label("claimant"), schema.works.c.title)
                       .join(schema.claimants, schema.claimants.c.id == me.c.claimant_id)
                       .outerjoin(schema.works, schema.works.c.id == me.c.work_id)
                       .order_by(me.c.source_id, me.c.file, me.c.row, me.c.kind)).mappings():
        out.append({"source": sources[r["source_id"]]["name"] if r["source_id"] in sources else str(r["source_id"]),
                    "claimant": r["claimant"], "title": r["title"] or "", "kind": r["kind"].replace("_", " "),
                    "match": r["match"], "context": r["context"], "target": r["target"],
                    "matched": r["matched"] if show_copy else "(withheld)", "distance": r["distance"],
                    "where": f"{Path(r['file']).name} row {int(r['row']) + 1}",
                    "url": r["url"] if show_copy else None})
    return out


def _watermark_words(f: dict | None) -> str | None:
    if not f:
        return None
    if f["status"] == "unreadable":
        return "not checked: the output could not be read again"
    if f["status"] == "present":
        return (f"{f['message']} found: {f['agree']} of {f['bits']} bits agree (p = {f['p_family']:.1e} under "
                f"random bits) — {f['who']}. This output went through a pipeline that embedded that public message; "
                "it does not say which model made it.")
    return (f"no known message (closest {f['closest']}: {f['agree']} of {f['bits']} bits). Absence proves nothing: "
            "common front ends do not embed it, and resizing or cropping removes it.")


def exhibit_keys(part: dict, sources: dict[int, dict]) -> list[str]:
    """The exhibit key of each image copy, as text exhibits key theirs (work file, source, locator)."""
    return [exhibits.exhibit_key(part["work_files"][r["work_file_id"]]["sha256"],
                                 part["work_files"][r["work_file_id"]]["path"], sources[r["source_id"]]["name"],
                                 r["doc_locator"]) for r in part["rows"]]


def build_exhibits(case: Case, part: dict, sources: dict[int, dict], numbers: list[str], show_copy: bool
                   ) -> list[dict]:
    """One image exhibit per copy, in the given numbers' order; the copy's bytes read again from its input."""
    readers: dict[int, object] = {}
    out = []
    for r, number in zip(part["rows"], numbers, strict=True):
        w = part["work_files"][r["work_file_id"]]
        src = sources[r["source_id"]]
        if r["source_id"] not in readers:
            readers[r["source_id"]] = _copy_reader(case, src)
        copy = readers[r["source_id"]](r["doc_id"])
        facts = {**r["facts"], "cmi": {"status": r["cmi_status"], "fields": r["cmi"], "c2pa": r["c2pa"]}}
        common = {"number": number, "work_name": w["path"], "copy_name": r["doc_locator"], "title": w["title"],
                  "claimant": w["claimant"], "source": src["name"], "source_kind": src["kind"],
                  "caption": r.get("caption"), "url": r.get("url")}
        e = image_exhibit(bytes(w["data"]), copy, facts, show_copy=show_copy, **common)
        e.update(evidence_id=r["id"], copies=int(r["copies"]), work_id=r["work_id"],
                 learned=r["facts"].get("learned"), watermark=_watermark_words(r["facts"].get("watermark")),
                 visible_mark=mark_words(r["facts"]["visible_mark"]) if r["facts"].get("visible_mark") else None)
        if r["tier"] == "learned":
            e["tier_words"] = LEARNED_WORDS
        out.append(e)
    return out
