"""Image evidence for `show` and the evidence CSV: one work's image evidence records, the image copies folded into
the case summary's works, and the image CMI rates per source (the image counterpart of report/show.py)."""

from __future__ import annotations

from sqlalchemy import Connection, case, func, select

from ascertain.media import is_image_source
from ascertain.store import schema as s

TIER_ORDER = {"same_bytes": 0, "same_pixels": 1, "near_duplicate": 2, "region_copy": 3, "learned": 4}
LOCATORS_SHOWN = 100  # identical copies' locators listed in a work's JSON (all of them: the CSV and the store)


def image_records(c: Connection, work_id: int, copied_only: bool = False) -> list[dict]:
    """A work's image evidence, strongest tier first: tier, region, share, transformation, CMI per field."""
    ie = s.image_evidence
    order = case(*((ie.c.tier == t, i) for t, i in TIER_ORDER.items()), else_=9)
    q = (select(ie, s.sources.c.name.label("source"), s.sources.c.kind.label("source_kind"),
                s.work_files.c.path.label("work_file"))
         .join(s.sources, s.sources.c.id == ie.c.source_id).join(s.work_files, s.work_files.c.id == ie.c.work_file_id)
         .where(ie.c.work_id == work_id).order_by(ie.c.copied.desc(), order, ie.c.source_id, ie.c.doc_id))
    if copied_only:
        q = q.where(ie.c.copied.is_(True))
    out = []
    for r in c.execute(q).mappings():
        locs = c.execute(select(s.image_evidence_copies.c.locator)
                         .where(s.image_evidence_copies.c.evidence_id == r["id"])
                         .order_by(s.image_evidence_copies.c.doc_id).limit(LOCATORS_SHOWN)).scalars().all()
        out.append({"kind": "image", "evidence_id": r["id"], "source": r["source"], "source_kind": r["source_kind"],
                    "document": r["doc_locator"], "work_file": r["work_file"], "copied": r["copied"],
                    "tier": r["tier"], "pdq_distance": r["pdq_distance"], "work_area_share": r["work_area_share"],
                    "work_region": r["work_region"], "copy_region": r["copy_region"], "transform": r["transform"],
                    "inliers": r["inliers"], "cmi_status": r["cmi_status"], "cmi": r["cmi"], "c2pa": r["c2pa"],
                    "copies": r["copies"], "locators": locs, "caption": r["caption"], "url": r["url"],
                    "copy_sha256": r["copy_sha256"], "watermark": (r["facts"] or {}).get("watermark"),
                    "learned": (r["facts"] or {}).get("learned"),
                    "visible_mark": (r["facts"] or {}).get("visible_mark")})
    return out


def fold_image_copies(c: Connection, by_id: dict[int, dict]) -> None:
    """Add each work's image copies (each identical copy counted) and the sources holding them to its summary."""
    for (wid,) in c.execute(select(s.work_images.c.work_id).distinct()):
        if wid in by_id:
            by_id[wid]["image"] = True
    ie = s.image_evidence
    rows = c.execute(select(ie.c.work_id, s.sources.c.name, func.sum(ie.c.copies))
                     .join(s.sources, s.sources.c.id == ie.c.source_id).where(ie.c.copied.is_(True))
                     .group_by(ie.c.work_id, s.sources.c.name)).all()
    for wid, name, n in rows:
        w = by_id.get(wid)
        if w is not None:
            w["copies"] += int(n or 0)
            w["copied_in"].add(name)
            w["image_copies"] = w.get("image_copies", 0) + int(n or 0)


def region_text(e: dict) -> str:
    """Where the work is in the copy, in words: the tier's facts a person reads."""
    t = e["transform"] or {}
    if e["tier"] == "learned":
        return f"similar by the learned descriptor (cosine {e['learned']['cosine']:.3f}); no region located"
    if e["tier"] in ("same_bytes", "same_pixels"):
        return "the whole image" + (", identical file" if e["tier"] == "same_bytes" else ", identical pixels")
    parts = [f"{e['work_area_share']:.0%} of the work"]
    if e["work_region"] and e["work_area_share"] < 0.98:
        x0, y0, x1, y1 = e["work_region"]
        parts.append(f"x {x0:.2f}-{x1:.2f}, y {y0:.2f}-{y1:.2f}")
    if "scale" in t:
        parts.append(f"scale {t['scale']:.2f}")
    if abs(t.get("rotation_degrees", 0.0)) >= 0.5:
        parts.append(f"rotated {t['rotation_degrees']:.1f}°")
    if t.get("mirrored"):
        parts.append("mirrored")
    if t.get("orientation", "original") != "original":
        parts.append(t["orientation"])
    return ", ".join(parts)


MARK_WORDS = {"kept": "kept", "altered": "altered", "removed": "removed", "cropped_out": "cropped out",
              "not_checked": "not checked"}


def mark_words(m: dict) -> str:
    """A visible mark's check in a few words: 'declared signature kept (correlation 0.97)'."""
    what = "declared signature" if m["source"] == "declared" else f"automatic candidate ({m.get('corner', '')})"
    s = f"{what} {MARK_WORDS.get(m['status'], m['status'])}"
    if m.get("correlation") is not None:
        s += f" (correlation {m['correlation']:.2f}, contrast {m['contrast_ratio']:.2f})"
    elif m["status"] == "cropped_out":
        s += f" ({m['inside_share']:.0%} of it inside the copy)"
    return s


def mark_rates_words(source: str, kind: str, counts: dict) -> str:
    n = sum(counts.values())
    return (f"{source}: visible mark ({kind}) in {n} copies: "
            + ", ".join(f"{MARK_WORDS.get(k, k)} {v}" for k, v in counts.items()))


def watermark_words(t: dict) -> str:
    """An output set's watermark tally in one sentence, with what absence means."""
    found = ", ".join(f"{m} {n}" for m, n in t["by_message"].items())
    s = (f"invisible watermark of an open generator in {t['present']} of {t['checked']} outputs"
         + (f" ({found})" if found else "") + f"; none found in {t['absent']} (absence proves nothing)")
    return s + (f"; {t['unreadable']} unreadable" if t["unreadable"] else "")


def watermark_summary(c: Connection) -> dict[str, dict]:
    """Per output set: the tally of its stored invisible-watermark checks (match/image_watermarks.py)."""
    from ascertain.match.image_watermarks import stored_summary

    return stored_summary(c)


def current_image_changes(case) -> list[str]:
    """What changed in the image works and sources since the last image match over all of them (a report must
    describe the evidence of the case as it is): empty when nothing did, or the case has no image part."""
    from ascertain.match.images import IMAGE_STAGE

    with case.store.engine.connect() as c:
        works = sorted((p, h) for p, h in c.execute(select(s.work_files.c.path, s.work_files.c.sha256)
                                                    .join(s.work_images, s.work_images.c.work_file_id ==
                                                          s.work_files.c.id)))
        srcs = sorted(n for n, p, st in c.execute(select(s.sources.c.name, s.sources.c.params, s.sources.c.status))
                      if is_image_source(p) and st == "complete")
        runs = c.execute(select(s.runs.c.manifest).where(s.runs.c.stage == IMAGE_STAGE)
                         .order_by(s.runs.c.id.desc())).scalars().all()
    if not works or not srcs:
        return []
    full = next((m for m in runs if "work" not in m.get("parameters", {})), None)
    if full is None:
        return ["image works and image sources were never matched"]
    out = []
    if sorted((w["file"], w["sha256"]) for w in full.get("works", [])) != works:
        out.append("image works were added or removed")
    if sorted(full.get("sources", {})) != srcs:
        out.append(f"the image sources are now {', '.join(srcs)} (the last image match had "
                   f"{', '.join(sorted(full.get('sources', {}))) or 'none'})")
    return out
