"""The facts a class file's criteria test, gathered per work from the case store (one pass, no per-work queries).

Routes into the corpus: by content (a copy found by `match`: evidence in a corpus source) and by identifier
(a corpus record's own metadata names the work: same ISBN, or same folded title and author). Both are kept.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ascertain.case import Case
from ascertain.index.shards import read_manifest
from ascertain.media import is_image_source
from ascertain.store import schema as s
from ascertain.text.bibliographic import fold, isbns, name_key, title_key

DEFAULT_META_FIELDS = ("isbn", "title", "author", "authors")


@dataclass
class WorkFacts:
    work_id: int
    title: str
    authors: list[str]
    isbns: list[str]
    publication_date: str | None
    language: str | None
    work_type: str | None
    owners: list[dict]  # {name, role, share}, once per (name, role)
    content_evidence: list[int | str] = field(default_factory=list)  # evidence ids of copies in corpora ("image:N")
    identifier_hits: list[dict] = field(default_factory=list)  # {source, document, by}
    output_evidence: list[int | str] = field(default_factory=list)  # evidence ids of copies in model outputs
    coverage: float = 0.0
    longest_run: int = 0
    cmi_status: list[str] = field(default_factory=list)
    first_copy_at: dict = field(default_factory=dict)  # source -> acquired date / first output timestamp
    undated_sources: list[str] = field(default_factory=list)  # sources with a copy or record of it, and no date
    registrations: list[dict] = field(default_factory=list)  # accepted links with the registration
    pending_links: int = 0
    registrations_loaded: bool = True  # False: the case holds no registration records at all


def infringement_setting(case: Case) -> str | None:
    """The `infringement_began` date of the latest `classes` run's class file (None: per source, "auto")."""
    with case.store.engine.connect() as c:
        m = c.execute(select(s.runs.c.manifest).where(s.runs.c.stage == "classes")
                      .order_by(s.runs.c.id.desc()).limit(1)).scalar()
    v = (m or {}).get("infringement_began")
    return None if v in (None, "auto") else v


def gather(case: Case, only: list[int] | None = None) -> dict[int, WorkFacts]:
    """Facts of every work, or of the works `only` names (lookup)."""

    def some(q, col):
        return q.where(col.in_(only)) if only is not None else q

    with case.store.engine.connect() as c:
        d = s.work_details
        facts: dict[int, WorkFacts] = {}
        for r in c.execute(some(select(s.works.c.id, s.works.c.title, d.c.authors, d.c.isbns, d.c.publication_date,
                                       d.c.language, d.c.work_type).join_from(
                s.works, d, s.works.c.id == d.c.work_id, isouter=True), s.works.c.id).order_by(s.works.c.id)):
            facts[r.id] = WorkFacts(r.id, r.title, r.authors or [], r.isbns or [], r.publication_date, r.language,
                                    r.work_type, [])
        for r in c.execute(some(select(s.work_owners.c.work_id, s.claimants.c.name, s.work_owners.c.role,
                                       s.work_owners.c.share).join_from(s.work_owners, s.claimants),
                                s.work_owners.c.work_id)
                           .order_by(s.work_owners.c.work_id, s.work_owners.c.role, s.claimants.c.name)):
            facts[r.work_id].owners.append({"name": r.name, "role": r.role, "share": r.share})
        for r in c.execute(some(select(s.works.c.id, s.claimants.c.name).join_from(s.works, s.claimants),
                                s.works.c.id)):
            if not facts[r.id].owners:  # works added by path: their claimant is the legal owner
                facts[r.id].owners.append({"name": r.name, "role": "legal owner", "share": None})
        sources = {r.id: dict(r._mapping) for r in c.execute(select(s.sources))}
        outputs_ts = {(r.source_id, r.doc_id): r.timestamp for r in c.execute(
            select(s.outputs.c.source_id, s.outputs.c.doc_id, s.outputs.c.timestamp))}
        for e in c.execute(some(select(s.evidence.c.id, s.evidence.c.work_id, s.evidence.c.source_id,
                                       s.evidence.c.doc_id, s.evidence.c.copied, s.evidence.c.coverage,
                                       s.evidence.c.longest_run_tokens,
                                       # the one field needed, read in the database: metrics are large
                                       s.evidence.c.metrics[("cmi", "status")].as_string().label("cmi_status"))
                                .where(s.evidence.c.copied), s.evidence.c.work_id).order_by(s.evidence.c.id)):
            f, src = facts[e.work_id], sources[e.source_id]
            f.coverage = max(f.coverage, e.coverage)
            f.longest_run = max(f.longest_run, e.longest_run_tokens)
            status = e.cmi_status
            if status and status not in f.cmi_status:
                f.cmi_status.append(status)
            if src["kind"] == "outputs":
                f.output_evidence.append(e.id)
                ts = outputs_ts.get((e.source_id, e.doc_id)) or ""
                if ts and (src["name"] not in f.first_copy_at or ts < f.first_copy_at[src["name"]]):
                    f.first_copy_at[src["name"]] = ts
            else:
                f.content_evidence.append(e.id)
                if src["params"].get("acquired"):
                    f.first_copy_at[src["name"]] = src["params"]["acquired"]
            if src["name"] not in f.first_copy_at and src["name"] not in f.undated_sources:
                f.undated_sources.append(src["name"])
        ie = s.image_evidence  # an image work's copies (match/images.py): evidence ids "image:N", share of its area
        for e in c.execute(some(select(ie.c.id, ie.c.work_id, ie.c.source_id, ie.c.doc_id, ie.c.work_area_share,
                                       ie.c.cmi_status).where(ie.c.copied), ie.c.work_id).order_by(ie.c.id)):
            f, src = facts[e.work_id], sources[e.source_id]
            f.coverage = max(f.coverage, e.work_area_share)
            if e.cmi_status and e.cmi_status not in f.cmi_status:
                f.cmi_status.append(e.cmi_status)
            if src["kind"] == "outputs":
                f.output_evidence.append(f"image:{e.id}")
            else:
                f.content_evidence.append(f"image:{e.id}")
                if src["params"].get("acquired"):
                    f.first_copy_at[src["name"]] = src["params"]["acquired"]
            if src["name"] not in f.first_copy_at and src["name"] not in f.undated_sources:
                f.undated_sources.append(src["name"])
        linked = some(select(s.registration_links.c.registration_id), s.registration_links.c.work_id)
        regs = {r.id: dict(r._mapping) for r in c.execute(select(
            s.registrations.c.id, s.registrations.c.number, s.registrations.c.effective_date,
            s.registrations.c.publication_date, s.registrations.c.title, s.registrations.c.group_registration,
            s.registrations.c.supplementary).where(s.registrations.c.id.in_(linked)))}
        for lk in c.execute(some(select(s.registration_links).where(s.registration_links.c.status != "rejected"),
                                 s.registration_links.c.work_id).order_by(s.registration_links.c.id)):
            if lk.status == "review":
                facts[lk.work_id].pending_links += 1
            else:
                item = (lk.agreeing or {}).get("contents_item")
                facts[lk.work_id].registrations.append({**regs[lk.registration_id], "link_id": lk.id,
                                                        "method": lk.method, "score": lk.score,
                                                        "decided_by": lk.decided_by, "listed_as": item,
                                                        "agreeing": lk.agreeing or {}})
        loaded = c.execute(select(s.registrations.c.id).limit(1)).first() is not None
    for f in facts.values():
        f.registrations_loaded = loaded
    _identifier_route(case, facts, sources)
    for f in facts.values():
        f.registrations.sort(key=lambda r: (r["effective_date"], r["number"]))
    return facts


def _identifier_route(case: Case, facts: dict[int, WorkFacts], sources: dict[int, dict]) -> None:
    """Works named by a corpus record's own metadata (ISBN, or folded title + author)."""
    by_isbn: dict[str, list[int]] = {}
    by_title_author: dict[tuple[str, str], list[int]] = {}
    for f in facts.values():
        for i in f.isbns:
            by_isbn.setdefault(i, []).append(f.work_id)
        for a in f.authors or [""]:
            by_title_author.setdefault((title_key(f.title), name_key(a)), []).append(f.work_id)
    for src in sorted(sources.values(), key=lambda x: x["id"]):
        if src["kind"] != "corpus" or src["status"] != "complete" or is_image_source(src["params"]):
            continue  # an image index holds no text records' metadata
        meta = _source_metadata(Path(case.root / src["index_dir"]),
                                tuple(src["params"].get("meta_fields") or DEFAULT_META_FIELDS))
        if meta is None:
            continue
        wanted = sorted({r for i in by_isbn for r in meta.by_isbn.get(i, ())}
                        | {r for k in by_title_author for r in meta.by_title_author.get(k, ())})
        for r in wanted:  # in document order, as a scan of the records would find them
            locator, rec_isbns, title, author = meta.records[r]
            hits: dict[int, tuple[str, list[str]]] = {}
            for i in rec_isbns:
                for wid in by_isbn.get(i, []):
                    hits[wid] = (f"ISBN {i}", ["isbn"])
            if title:
                for wid in by_title_author.get((title_key(title), name_key(author)), []):
                    hits.setdefault(wid, (f"title {fold(title)!r} and author {fold(author)!r}",
                                          ["title", "author"] if name_key(author) else ["title"]))
            for wid, (by, fields) in hits.items():
                facts[wid].identifier_hits.append({"source": src["name"], "document": locator, "by": by,
                                                   "fields": fields})
                if src["params"].get("acquired"):
                    facts[wid].first_copy_at[src["name"]] = src["params"]["acquired"]
                elif src["name"] not in facts[wid].undated_sources:
                    facts[wid].undated_sources.append(src["name"])


@dataclass
class _SourceMetadata:
    """A corpus source's records that carry metadata, and where each ISBN and title + author key occurs."""
    records: list[tuple[str, tuple[str, ...], str | None, str]]  # locator, ISBNs, title, author; doc order
    by_isbn: dict[str, list[int]]
    by_title_author: dict[tuple[str, str], list[int]]


# read once per process and index folder state: a lookup then touches only the records its works name
_METADATA: dict[tuple, _SourceMetadata] = {}


def _source_metadata(index_dir: Path, fields: tuple[str, ...]) -> _SourceMetadata | None:
    import duckdb

    manifest = read_manifest(index_dir)
    files = [str(index_dir / sh["documents_file"]) for sh in (manifest or {}).get("shards", [])]
    if not files:
        return None
    key = (str(index_dir), fields, tuple((f, Path(f).stat().st_mtime_ns, Path(f).stat().st_size) for f in files))
    if key in _METADATA:
        return _METADATA[key]
    meta = _SourceMetadata([], {}, {})
    con = duckdb.connect()
    for locator, raw in con.execute("SELECT locator, meta FROM read_parquet($f) WHERE meta <> '{}' "
                                    "ORDER BY doc", {"f": files}).fetchall():
        m = json.loads(raw)
        vals = {k: m[k] for k in fields if m.get(k) not in (None, "")}
        if not vals:
            continue
        found: list[str] = []
        for k, v in vals.items():
            if "isbn" in k.lower():
                with contextlib.suppress(ValueError):  # a malformed ISBN in a record names no work
                    found += isbns(str(v))
        title = next((str(v) for k, v in vals.items() if "title" in k.lower()), None)
        author = next((str(v) for k, v in vals.items() if "author" in k.lower()), "")
        r = len(meta.records)
        meta.records.append((locator, tuple(found), title, author))
        for i in dict.fromkeys(found):
            meta.by_isbn.setdefault(i, []).append(r)
        if title:
            meta.by_title_author.setdefault((title_key(title), name_key(author)), []).append(r)
    con.close()
    for k in [k for k in _METADATA if k[0] == key[0]]:  # the folder's older state
        del _METADATA[k]
    _METADATA[key] = meta
    return meta
