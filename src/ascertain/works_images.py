"""Image works: an artist's portfolio, one work per image (JPEG, PNG, WebP, TIFF, GIF, BMP).

`works add` routes here when a path is an image file, or a folder whose files are all images (or any folder with
--images: its images only); `works import` when a row's path is an image file (titles, dates and owners from the
works list, as for text). Each image is decoded within bounds (imaging/decode.py), described (sha256, decoded
pixels digest, PDQ and its 8 dihedral variants) and its image CMI read (cmi/image.py, EXIF/IPTC/XMP/C2PA); the
work, its file (work_files: language "image", no text) and its image row (work_images, bytes included) are
written in one transaction. A bad image is a recorded skip with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, insert, select

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.imaging.decode import decode, is_image_name
from ascertain.imaging.descriptors import describe, pdq_hex
from ascertain.imaging.visible_mark import parse_box
from ascertain.index.images import read_cmi
from ascertain.readers.base import ReadOptions, Skip, printable
from ascertain.readers.files import walk
from ascertain.readers.images import ImageDocument, read_images
from ascertain.store import schema
from ascertain.store.db import now

IMAGE_LANGUAGE = "image"  # work_files.language of an image work's file


def image_work_paths(path: str, images_only: bool = False) -> list[Path] | None:
    """The images that are works when `path` is an image file, or a folder most of whose files are images (a
    portfolio, perhaps with a README or licence; any folder's images with images_only); None when `path` is a
    text work (a repository with a few icons stays one text work)."""
    p = Path(path)
    if p.is_file():
        return [p] if is_image_name(p.name) else None
    if not p.is_dir():
        return None
    files = [f for f in walk(p) if isinstance(f, Path) and f.is_file() and not f.name.startswith(".")]
    images = [f for f in files if is_image_name(f.name)]
    if images and (images_only or 2 * len(images) >= len(files)):
        return images
    return None


def other_files(path: str, images: list[Path]) -> list[Path]:
    """The files of a portfolio folder that are not images (not works: recorded as skipped, never dropped)."""
    p = Path(path)
    if not p.is_dir():
        return []
    chosen = set(images)
    return [f for f in walk(p) if isinstance(f, Path) and f.is_file() and f not in chosen
            and not f.name.startswith(".")]


def add_image_works(case: Case, claimant: str, root: str, images: list[Path], title: str | None,
                    identifiers: dict | None, report, claimant_id: Callable[[Connection, str], int],
                    on_insert: Callable[[Connection, int], None] | None = None) -> None:
    """Each image one work; title: --title or the works list's (one image), else the image's path in the
    folder. Skips and additions go into `report` (works.WorksReport)."""
    base = Path(root) if Path(root).is_dir() else Path(root).parent
    if title and len(images) > 1:
        raise AscertainError("--title", f"names one work but {printable(root)} holds {len(images)} images (one "
                             "work each)", "leave out --title (titles are the file names), or use a works list")
    first_skip = len(report.skipped)
    for f in other_files(root, images):
        report.skipped.append(Skip(printable(root), printable(str(f)), "not an image: the folder was read as a "
                                   "portfolio, one work per image", "add the file as a work of its own if it is one"))
    added = 0
    for img_path in images:
        doc = _read(img_path, report)
        if doc is None:
            continue
        try:
            decoded = decode(doc.data, doc.locator)
            d = describe(decoded, doc.data)
        except AscertainError as e:
            report.skipped.append(Skip(printable(root), doc.locator, e.problem, e.fix))
            continue
        cmi = read_cmi(doc.data)
        work_title = (title or img_path.relative_to(base).as_posix()).strip()
        ids = dict(identifiers or {})
        if ids.get("signature_box"):  # a visible signature/watermark region declared by the works list
            try:
                parse_box(ids["signature_box"], d.width, d.height, doc.locator)
            except AscertainError as e:
                report.skipped.append(Skip(printable(root), doc.locator, f"signature_box not used: {e.problem} (the "
                                           "work is added; its corners are searched for a mark instead)", e.fix))
                ids.pop("signature_box")
        with case.store.begin() as c:
            cid = claimant_id(c, claimant)
            if c.execute(select(schema.works.c.id).where(schema.works.c.claimant_id == cid,
                                                         schema.works.c.title == work_title)).first():
                report.existing.append(f"{claimant} / {work_title}")
                continue
            stable = case.stable_path(str(img_path.absolute()))
            wid = c.execute(insert(schema.works).values(
                claimant_id=cid, title=work_title, identifiers=ids, inputs=[stable],
                added_at=now())).inserted_primary_key[0]
            fid = c.execute(insert(schema.work_files).values(
                work_id=wid, path=stable, sha256=d.sha256, bytes=len(doc.data), language=IMAGE_LANGUAGE,
                text="")).inserted_primary_key[0]
            c.execute(insert(schema.work_images).values(
                work_file_id=fid, work_id=wid, media_type=decoded.media_type, width=d.width, height=d.height,
                frames=decoded.frames, mode=decoded.mode, pixel_sha256=d.pixel_sha256, pdq=pdq_hex(d.pdq),
                pdq_dihedral=[pdq_hex(x) for x in d.pdq_dihedral], pdq_quality=d.pdq_quality, cmi=cmi,
                data=doc.data))
            if on_insert:
                on_insert(c, wid)
        added += 1
        report.added.append({"work_id": wid, "claimant": claimant, "title": work_title, "files": 1,
                             "kind": "image", "cmi_fields": sorted(cmi["fields"]), "c2pa": cmi["c2pa"]})
    case.store.record_skips("works", None, report.skipped[first_skip:])
    if added:
        case.store.audit("works add", {"claimant": claimant, "path": str(root), "image_works": added})


def _read(path: Path, report) -> ImageDocument | None:
    for item in read_images([path], ReadOptions(max_doc_bytes=256 << 20)):
        if isinstance(item, Skip):
            report.skipped.append(item)
        else:
            return item
    return None
