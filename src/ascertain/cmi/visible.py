"""A work's declared visible signature or watermark region as one more CMI field of its image CMI (`visible:mark`),
so its kept / altered / removed status per copy, and its rates over a corpus, go where the metadata fields' go
(evidence, show, CSV, report). The region and its check: imaging/visible_mark.py. A mark cropped out of the copy
counts as removed (the CMI is gone from the copy), with how it went in `how`. An automatic candidate (a corner
blob that looks like writing) is checked and reported too, but not counted as the work's CMI: it may be a drawn
detail, not a signature, until someone declares it."""

from __future__ import annotations

FIELD = "visible:mark"


def describe_mark(mark: dict) -> str:
    """The work's side of the field: where the mark is and how it was found."""
    x, y, w, h = mark["box"]
    how = "declared" if mark["source"] == "declared" else f"found automatically ({mark['corner']}, score " \
                                                           f"{mark['score']:.2f})"
    return f"{how}: box {x},{y},{w},{h} px"


def with_visible_mark(status: dict, mark: dict | None, check: dict | None) -> dict:
    """The image CMI status (cmi/image.py image_cmi_status) with the mark's field added and the overall status
    recomputed as for text CMI. No mark, or no check (no transform to map it with): unchanged."""
    if not mark or mark.get("source") != "declared" or not check \
            or check.get("status") not in ("kept", "altered", "removed", "cropped_out"):
        return status
    st = check["status"]
    copy = {"kept": "kept", "altered": "changed", "removed": "gone", "cropped_out": "cropped out of the copy"}[st]
    if check.get("correlation") is not None:
        copy += f" (correlation {check['correlation']:.2f}, contrast {check['contrast_ratio']:.2f})"
    field = {"work": describe_mark(mark), "copy": copy, "status": "removed" if st == "cropped_out" else st,
             "how": st}
    fields = {**status["fields"], FIELD: field}
    statuses = {v["status"] for v in fields.values()}
    overall = "retained" if statuses == {"kept"} else "removed" if statuses == {"removed"} else "altered"
    return {**status, "fields": dict(sorted(fields.items())), "status": overall}
