"""`ascertain show CASE --csv FILE`: one row per evidence record, for spreadsheets and exhibits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from ascertain.case import Case
from ascertain.csv_out import Writer
from ascertain.errors import AscertainError
from ascertain.report.show import EvidenceFilter, work_records
from ascertain.store import schema

COLUMNS = ("work_id", "claimant", "title", "work_file", "source", "document", "copied", "level", "coverage",
           "own_coverage", "own_tokens_copied", "longest_run_tokens", "fragments", "identical", "byte_identical",
           "edit_similarity", "cmi_status", "near_duplicate_jaccard", "evidence_id",
           # image evidence (kind "image"; store/schema.py image_evidence): empty on text rows
           "kind", "image_tier", "work_area_share", "work_region", "copy_region", "scale", "rotation_degrees",
           "mirrored", "orientation", "copies", "c2pa", "cmi_fields", "url", "caption",
           # an output's invisible-watermark check (match/image_watermarks.py); the learned tier's cosine
           "watermark", "watermark_p", "learned_cosine",
           # the work's visible signature/watermark region in the copy (imaging/visible_mark.py)
           "visible_mark", "visible_mark_source", "visible_mark_correlation")
TEXT_COLUMNS = {"claimant", "title", "work_file", "source", "document", "url", "caption", "cmi_fields", "watermark"}
# a spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such text cells
# are written with a leading apostrophe, which spreadsheets show as text and do not display
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def evidence_rows(case: Case, flt: EvidenceFilter = EvidenceFilter()) -> Iterator[dict]:
    """The CSV rows, one work's at a time (memory follows the largest work's evidence, not the case's)."""
    with case.store.engine.connect() as c:
        ids = [r[0] for r in c.execute(select(schema.works.c.id).order_by(schema.works.c.id))]
        for wid in ids:
            w = work_records(c, str(wid), flt)
            for e in w["evidence"]:
                yield {"work_id": wid, "claimant": w["claimant"], "title": w["title"],
                       "work_file": e["work_file"], "source": e["source"], "document": e["document"],
                       "copied": e["copied"], "level": e.get("level"), "coverage": e["coverage"],
                       "own_coverage": e["own_coverage"], "own_tokens_copied": e.get("own_tokens_copied"),
                       "longest_run_tokens": e["longest_run_tokens"], "fragments": e["fragments"],
                       "identical": e["identical"], "byte_identical": e["byte_identical"],
                       "edit_similarity": e.get("edit_similarity"),
                       "cmi_status": (e.get("cmi") or {}).get("status"),
                       "near_duplicate_jaccard": (e.get("near_duplicate") or {}).get("jaccard_estimate"),
                       "evidence_id": e["evidence_id"], "kind": "text"}
            for e in w["image_evidence"]:
                t = e["transform"] or {}
                yield {"work_id": wid, "claimant": w["claimant"], "title": w["title"], "work_file": e["work_file"],
                       "source": e["source"], "document": e["document"], "copied": e["copied"],
                       "identical": e["tier"] in ("same_bytes", "same_pixels"),
                       "byte_identical": e["tier"] == "same_bytes", "cmi_status": e["cmi_status"],
                       "evidence_id": e["evidence_id"], "kind": "image", "image_tier": e["tier"],
                       "work_area_share": e["work_area_share"],
                       "work_region": _box(e["work_region"]), "copy_region": _box(e["copy_region"]),
                       "scale": t.get("scale"), "rotation_degrees": t.get("rotation_degrees"),
                       "mirrored": t.get("mirrored"), "orientation": t.get("orientation"), "copies": e["copies"],
                       "c2pa": e["c2pa"], "url": e["url"], "caption": e["caption"],
                       "cmi_fields": "; ".join(f"{k}: {v['status']}" for k, v in sorted(e["cmi"].items())),
                       **_watermark_cells(e.get("watermark")),
                       "learned_cosine": (e.get("learned") or {}).get("cosine"),
                       **({"visible_mark": e["visible_mark"]["status"],
                           "visible_mark_source": e["visible_mark"]["source"],
                           "visible_mark_correlation": e["visible_mark"].get("correlation")}
                          if e.get("visible_mark") else {})}


def _watermark_cells(f: dict | None) -> dict:
    """`watermark`: the message found, `none found` or `unreadable`; `watermark_p`: its p-value under random bits."""
    if not f:
        return {}
    word = {"present": f.get("message"), "absent": "none found", "unreadable": "unreadable"}[f["status"]]
    return {"watermark": word, "watermark_p": f.get("p_family") if f["status"] == "present" else None}


def _box(b: list | None) -> str | None:
    return None if b is None else " ".join(f"{v:.4f}" for v in b)


def write_evidence_csv(case: Case, path: Path, flt: EvidenceFilter = EvidenceFilter()) -> int:
    """Write the CSV (UTF-8, header row); returns the number of evidence rows."""
    n = 0
    part = path.with_name(path.name + ".part")  # rows are written as read: a failed export leaves no half file
    try:
        with open(part, "w", newline="", encoding="utf-8") as fh:
            out = Writer(fh, COLUMNS)
            out.header()
            for r in evidence_rows(case, flt):
                out.record(r)
                n += 1
        os.replace(part, path)
    except OSError as e:
        part.unlink(missing_ok=True)
        raise AscertainError(str(path), f"cannot write ({e.strerror})", "choose a writable file") from e
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return n
