"""Copyright management information stored in an image: EXIF, IPTC-IIM, XMP (with the IPTC/PLUS data-mining
property) and the presence of a C2PA manifest; and its status in a copy (kept, altered, removed, never present).

XMP is parsed by Pillow through defusedxml (entity expansion refused). Fields are read, never guessed: a field
absent from the file is absent from the result.
"""

from __future__ import annotations

import io
import re

from PIL import Image

# EXIF tags (TIFF 6.0 / EXIF 2.3)
EXIF_FIELDS = {0x013B: "exif:Artist", 0x8298: "exif:Copyright", 0x010E: "exif:ImageDescription"}
# IPTC-IIM record 2 datasets
IPTC_FIELDS = {(2, 80): "iptc:By-line", (2, 116): "iptc:CopyrightNotice", (2, 110): "iptc:Credit",
               (2, 115): "iptc:Source", (2, 5): "iptc:ObjectName"}
# XMP properties by local name, with the namespaces they come from
XMP_FIELDS = {"creator": "xmp:dc:creator", "rights": "xmp:dc:rights", "UsageTerms": "xmp:xmpRights:UsageTerms",
              "WebStatement": "xmp:xmpRights:WebStatement", "Marked": "xmp:xmpRights:Marked",
              "CreditLine": "xmp:photoshop:Credit", "Credit": "xmp:photoshop:Credit",
              "DataMining": "xmp:plus:DataMining", "CopyrightOwner": "xmp:plus:CopyrightOwner",
              "Licensor": "xmp:plus:Licensor", "ImageCreator": "xmp:plus:ImageCreator"}
# the fields that identify the author or the rights (what §1202(c) lists as CMI)
CMI_FIELDS = ("exif:Artist", "exif:Copyright", "iptc:By-line", "iptc:CopyrightNotice", "iptc:Credit",
              "xmp:dc:creator", "xmp:dc:rights", "xmp:xmpRights:UsageTerms", "xmp:xmpRights:WebStatement",
              "xmp:photoshop:Credit", "xmp:plus:DataMining", "xmp:plus:CopyrightOwner", "xmp:plus:ImageCreator")
C2PA_MARKERS = (b"c2pa", b"jumb")


def _text(v) -> str:
    if isinstance(v, bytes):
        for enc in ("utf-8", "latin-1"):
            try:
                return v.decode(enc).strip("\x00 ").strip()
            except UnicodeDecodeError:
                continue
    if isinstance(v, list | tuple):
        return "; ".join(t for t in (_text(x) for x in v) if t)
    if isinstance(v, dict):
        for key in ("li", "Alt", "Seq", "Bag", "text"):
            if key in v:
                return _text(v[key])
        return "; ".join(t for t in (_text(x) for x in v.values()) if t)
    return str(v).strip() if v is not None else ""


def _walk_xmp(node, found: dict[str, str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            local = k.split("}")[-1].split(":")[-1]
            if local in XMP_FIELDS and XMP_FIELDS[local] not in found:
                t = _text(v)
                if t:
                    found[XMP_FIELDS[local]] = t
            else:
                _walk_xmp(v, found)
    elif isinstance(node, list):
        for v in node:
            _walk_xmp(v, found)


def read_image_cmi(data: bytes) -> dict:
    """{"fields": {field: value}, "c2pa": bool, "errors": [...]} for one image file's bytes."""
    fields: dict[str, str] = {}
    errors: list[str] = []
    try:
        im = Image.open(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 (an unreadable image has no readable CMI; the reader records why)
        return {"fields": {}, "c2pa": False, "errors": [f"unreadable image: {type(e).__name__}"]}
    try:
        exif = im.getexif()
        for tag, name in EXIF_FIELDS.items():
            t = _text(exif.get(tag))
            if t:
                fields[name] = t
    except Exception as e:  # noqa: BLE001 (corrupt EXIF: the other blocks are still read)
        errors.append(f"EXIF unreadable: {type(e).__name__}")
    try:
        from PIL import IptcImagePlugin

        iptc = IptcImagePlugin.getiptcinfo(im) or {}
        for key, name in IPTC_FIELDS.items():
            t = _text(iptc.get(key))
            if t:
                fields[name] = t
    except Exception as e:  # noqa: BLE001
        errors.append(f"IPTC unreadable: {type(e).__name__}")
    try:
        xmp = im.getxmp() if hasattr(im, "getxmp") else {}
        _walk_xmp(xmp, fields)
    except Exception as e:  # noqa: BLE001
        errors.append(f"XMP unreadable: {type(e).__name__}")
    return {"fields": dict(sorted(fields.items())), "c2pa": has_c2pa(data), "errors": errors}


def has_c2pa(data: bytes) -> bool:
    """A C2PA manifest store is present (JUMBF in JPEG APP11, a PNG caBX chunk, or a WebP/RIFF C2PA chunk).
    Presence only: validating the signature needs the c2pa library and its trust list."""
    head = data[: 4 << 20]
    if b"caBX" in head[:4096] or re.search(rb"\xff\xeb..JP", head):
        return True
    return any(m in head for m in C2PA_MARKERS) and b"jumd" in head


def _norm(v: str) -> str:
    return re.sub(r"\s+", " ", v.replace("©", "(c)")).strip().lower()


def image_cmi_status(work: dict, copy: dict) -> dict:
    """Per CMI field of the work: kept, altered or removed in the copy; overall status as for text CMI."""
    per: dict[str, dict] = {}
    for f in CMI_FIELDS:
        w, c = work["fields"].get(f), copy["fields"].get(f)
        if not w:
            continue
        per[f] = {"work": w, "copy": c, "status": "removed" if not c else ("kept" if _norm(w) == _norm(c)
                                                                          else "altered")}
    statuses = {v["status"] for v in per.values()}
    if not per:
        overall = "never_present"
    elif statuses == {"kept"}:
        overall = "retained"
    elif statuses == {"removed"}:
        overall = "removed"
    else:
        overall = "altered"
    c2pa = ("kept" if copy["c2pa"] else "removed") if work["c2pa"] else "never_present"
    return {"status": overall, "fields": per, "c2pa": c2pa}
