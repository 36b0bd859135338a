"""The report's manifest: sha256 of every input, index file, store row set and report file, with versions
and parameters, so `ascertain verify` can re-check each of them."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from sqlalchemy import select

from ascertain import __version__
from ascertain.case import Case
from ascertain.store import schema as s

# the dependencies whose versions can change an output's bytes (pinned in pyproject.toml)
PINNED = ("pyarrow", "duckdb", "sqlalchemy", "zstandard", "spdx", "license-expression", "tree-sitter", "rensa",
          "datasketch", "rapidfuzz", "weasyprint", "matplotlib", "jinja2", "fonttools")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rows_digest(rows: Iterable[dict]) -> str:
    return _digest(rows)[1]


def _digest(rows: Iterable[dict]) -> tuple[int, str]:
    """(number of rows, sha256 of their canonical JSON lines), reading the rows once as they come."""
    h, n = hashlib.sha256(), 0
    for r in rows:
        h.update(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
                 .encode("utf-8", "surrogatepass") + b"\n")
        n += 1
    return n, h.hexdigest()


def store_digests(case: Case) -> dict:
    """Digests of the store's evidence and work rows (ids and run ids left out: they change on a rerun). The
    evidence rows are streamed, 1,000 at a time: their number is not bounded by memory."""
    with case.store.engine.connect() as c:
        streamed = c.execution_options(stream_results=True, yield_per=1000)
        n_ev, ev_sha = _digest({k: v for k, v in r._mapping.items() if k not in ("id", "run_id")}
                               for r in streamed.execute(select(s.evidence).order_by(
                                   s.evidence.c.work_file_id, s.evidence.c.source_id, s.evidence.c.doc_id)))
        wf = [dict(r._mapping) for r in c.execute(select(s.work_files).order_by(s.work_files.c.id))]
        works = [dict(r._mapping) for r in c.execute(select(s.works).order_by(s.works.c.id))]
        srcs = [{k: v for k, v in r._mapping.items() if k != "added_at"}
                for r in c.execute(select(s.sources).order_by(s.sources.c.id))]
        regs = [{k: v for k, v in r._mapping.items() if k not in ("id", "import_id")}
                for r in c.execute(select(s.registrations).order_by(s.registrations.c.number))]
        links = [{k: v for k, v in r._mapping.items() if k not in ("id", "run_id")}
                 for r in c.execute(select(s.registration_links).order_by(s.registration_links.c.work_id,
                                                                          s.registration_links.c.registration_id))]
        # what the report's class, sampling and probing sections read (not re-derived by verify: hashed here,
        # under the signature, so they cannot change after the report unseen)
        last_classes = c.execute(select(s.runs.c.manifest).where(s.runs.c.stage == "classes")
                                 .order_by(s.runs.c.id.desc()).limit(1)).scalar()
        more = {f"{t.name}_sha256": _digest(dict(r._mapping) for r in streamed.execute(
            select(t).order_by(*t.primary_key.columns)))[1]
            for t in (s.class_memberships, s.class_decisions, s.disputes, s.samples, s.sample_items, s.probe_runs,
                      s.probes, s.probe_results)}
        images = image_digests(c)
    return {"evidence_rows": n_ev, "evidence_sha256": ev_sha, "work_files_sha256": rows_digest(wf), **images,
            "works_sha256": rows_digest(works), "sources_sha256": rows_digest(srcs),
            "registrations_sha256": rows_digest(regs), "registration_links_sha256": rows_digest(links),
            "classes_run_sha256": rows_digest([last_classes] if last_classes is not None else []), **more}


def image_digests(c) -> dict:
    """Digests of the image works' rows (their bytes by sha256, not again) and of the image evidence with the
    locators of its identical copies (ids and run ids left out: they change on a rerun)."""
    ie, ic, wi = s.image_evidence, s.image_evidence_copies, s.work_images
    key = (ie.c.work_file_id, ie.c.source_id, ie.c.doc_id)
    n, ev = _digest({k: v for k, v in r._mapping.items() if k not in ("id", "run_id")}
                    for r in c.execute(select(ie).order_by(*key)))
    copies = _digest(dict(r._mapping) for r in c.execute(
        select(*key, ic.c.doc_id.label("copy_doc"), ic.c.locator).join(ie, ie.c.id == ic.c.evidence_id)
        .order_by(*key, ic.c.doc_id)))[1]
    works = _digest({k: v for k, v in r._mapping.items() if k != "data"}
                    for r in c.execute(select(wi).order_by(wi.c.work_file_id)))[1]
    me = s.image_metadata_evidence  # metadata-only datasets' evidence (match/image_metadata.py)
    meta = _digest({k: v for k, v in r._mapping.items() if k not in ("id", "run_id")}
                   for r in c.execute(select(me).order_by(me.c.source_id, me.c.file, me.c.row, me.c.kind,
                                                          me.c.claimant_id, me.c.work_id, me.c.target)))[1]
    wm = s.image_watermarks  # output sets' invisible-watermark checks (match/image_watermarks.py)
    marks = _digest({k: v for k, v in r._mapping.items() if k not in ("id", "run_id")}
                    for r in c.execute(select(wm).order_by(wm.c.source_id, wm.c.doc_id)))[1]
    return {"image_evidence_rows": n, "image_evidence_sha256": ev, "image_evidence_copies_sha256": copies,
            "work_images_sha256": works, "image_metadata_evidence_sha256": meta, "image_watermarks_sha256": marks}


def image_match_run(case: Case) -> dict:
    """The latest image match run (its manifest holds the image parameters, library versions and CMI rates),
    for the report's manifest; empty when the case has none."""
    from ascertain.match.images import IMAGE_STAGE

    with case.store.engine.connect() as c:
        run = c.execute(select(s.runs).where(s.runs.c.stage == IMAGE_STAGE).order_by(s.runs.c.id.desc())
                        .limit(1)).mappings().first()
    if run is None:
        return {}
    return {"image_match_run": {"id": run["id"], "started_at": run["started_at"], "manifest": run["manifest"]}}


def class_inputs(classes: dict | None) -> dict:
    """The class file as kept in the case (path relative to it) by the last `ascertain classes` run."""
    if not classes:
        return {}
    return {"class_file": {"kept_as": classes["kept_as"], "sha256": classes["class_file_sha256"]}}


def index_digests(sources: dict[int, dict]) -> dict:
    out = {}
    for src in sources.values():
        root: Path = src["index_path"]
        if not root.is_dir():  # a metadata-only dataset keeps no index: its files are pinned in its params
            continue
        out[src["name"]] = {p.name: sha256_file(p) for p in sorted(root.iterdir()) if p.is_file()}
        for table in ("codes", "features"):  # an image source's code tables (index/images.py): index files too
            if (root / table).is_dir():
                out[src["name"]].update({f"{table}/{p.name}": sha256_file(p) for p in sorted((root / table).iterdir())
                                         if p.is_file()})
    return out


def input_digests(files: dict[int, dict], sources: dict[int, dict]) -> dict:
    works = [{"path": f["path"], "sha256": f["sha256"]} for f in sorted(files.values(), key=lambda f: f["path"])]
    srcs = {src["name"]: src["inputs"] for src in sources.values()}
    return {"work_files": works, "sources": srcs}


def software() -> dict:
    versions = {}
    for name in PINNED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"ascertain": __version__, "code_sha256": code_digest(), "python": platform.python_version(),
            "dependencies": versions}


CODE_SUFFIXES = (".py", ".c", ".h", ".json", ".j2", ".css", ".toml", ".txt")


@functools.cache
def code_digest() -> str:
    """A digest of the ascertain package's own source and data files (the demo's data left out): two builds
    with the same version number (a development checkout) can still derive other evidence, and verify must
    know."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file() and q.suffix in CODE_SUFFIXES
                    and not {"__pycache__", "demo_data"} & set(q.relative_to(root).parts)):
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def validation_input(path: Path | None) -> dict | None:
    """The validation figures a report was given (None: the shipped ones, which the software version pins)."""
    if path is None:
        return None
    return {"path": str(Path(path).resolve()), "sha256": sha256_file(Path(path))}
