"""Evidence from metadata-only image datasets: each claimant's names, domains, handles, titles and work hashes
against every row's caption, URL, SHA-256 and pHash, streamed batch by batch (memory bounded whatever the size).

Precision: a claimant name that is common in the corpus (`Grace`, `Will Smith`) floods bare mentions. Before the
scan, the first SAMPLE_ROWS rows are scanned and a name found in more than COMMON_RATE of them (and at least
COMMON_MIN times) is marked common: for it only attributions ("by NAME", "in the style of NAME") and typo-free
matches count; its bare mentions are counted, not stored. Typos are looked for only from words of a name that are
not common in the same sample. Both rates are recorded in the run's manifest.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select

from ascertain import __version__
from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.match.caption_names import NameSet, normalize_column
from ascertain.match.metadata_hashes import PHASH_THRESHOLD, parse_phash_column, phash_hits, sha256_hits, work_phashes
from ascertain.match.url_handles import UrlSet
from ascertain.readers.image_metadata import Layout, iter_batches
from ascertain.store import schema
from ascertain.store.db import now
from ascertain.temp_files import temp_name
from ascertain.works_images import IMAGE_LANGUAGE

KIND = "image-metadata"
SAMPLE_ROWS = 200_000
COMMON_RATE = 1e-3
COMMON_MIN = 5
MAX_STORED = 10_000  # rows stored per claimant and kind (all are counted); the manifest says when capped
ALIAS_KEYS = ("aliases", "alias", "artist", "artist_name", "artist_names", "names", "pseudonym", "pseudonyms")
DOMAIN_KEYS = ("domains", "domain", "website", "websites", "portfolio", "site")
HANDLE_KEYS = ("handles", "handle", "artstation", "deviantart", "instagram", "behance", "tumblr", "flickr",
               "pixiv", "twitter")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp")
MIN_TITLE = 10  # characters of a title (normalized) below which it counts only beside the claimant's name or URL
_SPLIT = re.compile(r"\s*[;|\n]\s*")


@dataclass
class Targets:
    claimants: dict[int, str]
    names: NameSet
    urls: UrlSet
    titles: NameSet  # owner = work id
    title_claimant: dict[int, int]  # work id -> claimant id
    sha256: dict[str, list[int]]  # hex -> work ids
    phash: list[tuple[int, int]]  # (work id, hash)
    notes: list[str] = field(default_factory=list)


def _values(identifiers: dict, keys: tuple[str, ...]) -> list[str]:
    out = []
    for k, v in (identifiers or {}).items():
        if k.lower() in keys and v:
            out.extend(x for x in _SPLIT.split(str(v)) if x.strip())
    return out


def load_targets(case: Case, fuzzy: bool = True) -> Targets:
    s = schema
    with case.store.engine.connect() as c:
        claimants = {r.id: r.name for r in c.execute(select(s.claimants.c.id, s.claimants.c.name))}
        works = c.execute(select(s.works.c.id, s.works.c.claimant_id, s.works.c.title, s.works.c.identifiers)
                          .order_by(s.works.c.id)).all()
        files = c.execute(select(s.work_files.c.id, s.work_files.c.work_id, s.work_files.c.path, s.work_files.c.sha256,
                                 s.work_files.c.language).order_by(s.work_files.c.id)).all()
        stored = {r.work_file_id: r.data for r in c.execute(select(s.work_images.c.work_file_id,
                                                                       s.work_images.c.data))}
        details = {r.work_id: r.authors for r in c.execute(select(s.work_details.c.work_id, s.work_details.c.authors))}
    names, urls, titles = NameSet(fuzzy=fuzzy), UrlSet(), NameSet(fuzzy=False)
    for cid, name in sorted(claimants.items()):
        names.add(name, cid)
    t = Targets(claimants, names, urls, titles, {}, {}, [])
    for w in works:
        for a in _values(w.identifiers, ALIAS_KEYS) + list(details.get(w.id) or []):
            names.add(a, w.claimant_id)
        for d in _values(w.identifiers, DOMAIN_KEYS):
            urls.add_domain(d, w.claimant_id)
        for h in _values(w.identifiers, HANDLE_KEYS):
            urls.add_handle(h, w.claimant_id)
        titles.add(w.title, w.id)
        t.title_claimant[w.id] = w.claimant_id
        for h in _values(w.identifiers, ("sha256",)):
            t.sha256.setdefault(h.lower(), []).append(w.id)
        for h in _values(w.identifiers, ("phash", "image_phash")):
            if re.fullmatch(r"[0-9a-fA-F]{16}", h.strip()):
                t.phash.append((w.id, int(h.strip(), 16)))
    for f in files:
        if f.language != IMAGE_LANGUAGE and not f.path.lower().endswith(IMAGE_SUFFIXES):
            continue
        t.sha256.setdefault(f.sha256.lower(), []).append(f.work_id)
        if f.id in stored:  # the image's bytes as kept when the work was added (works_images.py)
            hs = work_phashes(io.BytesIO(stored[f.id]))
        else:
            hs = work_phashes(Path(f.path) if Path(f.path).is_absolute() else case.root / f.path)
        if not hs:
            t.notes.append(f"{f.path}: not readable now, so no pHash for it")
        t.phash.extend((f.work_id, h) for h in hs)
    t.sha256 = {k: sorted(set(v)) for k, v in t.sha256.items()}
    t.phash = sorted(set(t.phash))
    return t


def common_names(names: NameSet, batches: Iterator, sample_rows: int = SAMPLE_ROWS,
                 rate: float = COMMON_RATE, minimum: int = COMMON_MIN) -> tuple[set[int], set[str], int]:
    """Names (indices) and name words common in the first rows of the corpus, and the rows looked at."""
    seen, counts, words = 0, Counter(), Counter()
    word_set = {w for n in names.norm for w in n.split(" ")}
    names.common = set()
    names.build()  # plain automaton (no stop words yet)
    for b in batches:
        caps = b.columns["caption"].to_pylist()
        norm = normalize_column(b.columns["caption"])
        for h in names.scan(caps, norm):
            if h.kind != "fuzzy":
                counts[h.target] += 1
        for cap in norm:
            words.update(w for w in set(cap.split(" ")) if w in word_set)
        seen += len(caps)
        if seen >= sample_rows:
            break
    bar = max(minimum, rate * seen)
    return ({i for i, n in counts.items() if n >= bar}, {w for w, n in words.items() if n >= bar}, seen)


@dataclass
class Tally:
    rows: int = 0
    counts: Counter = field(default_factory=Counter)  # (claimant, kind) -> hits
    not_stored: Counter = field(default_factory=Counter)
    common_mentions: Counter = field(default_factory=Counter)  # claimant -> bare mentions of a common name


def scan_source(src, targets: Targets, layout_of: Callable[[str], Layout], files: list[str],
                emit: Callable[[dict], None], tally: Tally, threshold: int = PHASH_THRESHOLD,
                progress: Callable[[int], None] | None = None) -> None:
    import numpy as np

    names, urls, titles = targets.names, targets.urls, targets.titles
    ph_targets = np.array([h for _, h in targets.phash], dtype=np.uint64)
    for f in files:
        layout = layout_of(f)
        for b in iter_batches(Path(f), layout):
            cols = b.columns
            caps = cols["caption"].to_pylist() if "caption" in cols else None
            norm = normalize_column(cols["caption"]) if caps is not None else None
            ulist = cols["url"].to_pylist() if "url" in cols else None
            found: list[dict] = []

            def add(row: int, claimant: int, work: int | None, kind: str, match: str, ctx: str, matched: str,
                    target: str, distance: int = 0, _b=b, _caps=caps, _urls=ulist, _out=found) -> None:
                _out.append({"source_id": src["id"], "claimant_id": claimant, "work_id": work, "kind": kind,
                             "match": match, "context": ctx, "matched": matched, "target": target,
                             "distance": distance, "file": _b.file, "row": _b.first_row + row,
                             "url": (_urls[row] or "")[:2000] if _urls else None,
                             "caption": (_caps[row] or "")[:2000] if _caps else None})

            row_claimants: dict[int, set[int]] = {}
            if caps is not None:
                for h in names.scan(caps, norm):
                    owner = names.owner[h.target]
                    if h.target in names.common and h.context == "mention":
                        tally.common_mentions[owner] += 1
                        continue
                    row_claimants.setdefault(h.row, set()).add(owner)
                    add(h.row, owner, None, "caption_name", h.kind, h.context, h.matched, names.names[h.target],
                        h.distance)
            if ulist is not None:
                for u in urls.scan(ulist):
                    owner = urls.owner[u.target]
                    row_claimants.setdefault(u.row, set()).add(owner)
                    add(u.row, owner, None, u.kind, "exact", "url", u.matched, urls.values[u.target])
            if caps is not None and titles.norm:
                for h in titles.scan(caps, norm):
                    wid = titles.owner[h.target]
                    owner = targets.title_claimant[wid]
                    distinctive = len(titles.norm[h.target]) >= MIN_TITLE and " " in titles.norm[h.target]
                    if distinctive or owner in row_claimants.get(h.row, ()):
                        add(h.row, owner, wid, "caption_title", h.kind,
                            "distinctive" if distinctive else "with_name", h.matched, titles.names[h.target])
            if "sha256" in cols and targets.sha256:
                for row, digest in sha256_hits(cols["sha256"], targets.sha256):
                    for wid in targets.sha256[digest]:
                        add(row, targets.title_claimant.get(wid, 0), wid, "sha256", "exact", "hash", digest, digest)
            if "phash" in cols and len(ph_targets):
                rows, hashes = parse_phash_column(cols["phash"])
                best: dict[tuple[int, int], tuple[int, int, int]] = {}  # (row, work) -> its nearest target
                for i, t, d in phash_hits(hashes, ph_targets, threshold):
                    wid, h = targets.phash[t]
                    key = (int(rows[i]), wid)
                    best[key] = min(best.get(key, (d, h, i)), (d, h, i))
                for (row, wid), (d, h, i) in sorted(best.items()):
                    add(row, targets.title_claimant.get(wid, 0), wid, "phash", "exact" if d == 0 else "hamming",
                        "hash", f"{int(hashes[i]):016x}", f"{h:016x}", d)
            for r in found:
                key = (r["claimant_id"], r["kind"])
                tally.counts[key] += 1
                if tally.counts[key] > MAX_STORED:
                    tally.not_stored[key] += 1
                else:
                    emit(r)
            tally.rows += b.rows
            if progress:
                progress(b.rows)


def run_image_metadata_match(case: Case, sources: list[str] | None = None, fuzzy: bool = True,
                             threshold: int = PHASH_THRESHOLD, progress: Callable[[str, int], None] | None = None
                             ) -> dict | None:
    """Match every claimant against the case's metadata-only image datasets; store the evidence (this run's
    replaces the last for the same sources). None when the case has no such source."""
    from ascertain.image_metadata_sources import source_files

    with case.store.engine.connect() as c:
        srcs = c.execute(select(schema.sources).where(schema.sources.c.kind == KIND)
                         .order_by(schema.sources.c.id)).mappings().all()
    if sources:
        srcs = [s for s in srcs if s["name"] in sources]
    if not srcs:
        return None
    started, t0 = now(), time.perf_counter()
    targets = load_targets(case, fuzzy)
    if not targets.claimants:
        raise AscertainError(str(case.root), "has no claimants", "add works with `ascertain works add`")
    tally = Tally()
    per_source = {}
    report = case.root / "reports" / "image-metadata-evidence.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    spill, tmp = temp_name(report, "rows"), temp_name(report)
    kinds: Counter = Counter()
    try:
        # the evidence rows go to a spill file as found (memory bounded by the batch, whatever the hits)
        with open(spill, "w", encoding="utf-8") as fh:
            def emit(r: dict) -> None:
                fh.write(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n")
                kinds[r["kind"]] += 1

            for src in srcs:
                files, layout_of = source_files(case, src)
                first = (b for f in files for b in iter_batches(Path(f), layout_of(f), ("caption",)))
                common, common_words, sampled = (common_names(targets.names, first) if "caption" in
                                                 layout_of(files[0]).columns else (set(), set(), 0))
                targets.names.common = common
                targets.names.build(common_words)
                targets.titles.build()
                targets.urls.build()
                before = sum(kinds.values())
                scan_source(src, targets, layout_of, files, emit, tally, threshold,
                            (lambda n, _s=src["name"]: progress(_s, n)) if progress else None)
                per_source[src["name"]] = {"evidence": sum(kinds.values()) - before, "sampled_rows": sampled,
                                           "common_names": sorted(targets.names.names[i] for i in common),
                                           "common_words_not_seeding_typos": sorted(common_words)}
        total = sum(kinds.values())
        manifest = {
            "tool": "ascertain", "version": __version__, "stage": "match image-metadata",
            "parameters": {"fuzzy": fuzzy, "phash_threshold": threshold, "phash": "imagehash 4.3.2 phash (64 bits)",
                           "sample_rows": SAMPLE_ROWS, "common_rate": COMMON_RATE, "common_min": COMMON_MIN,
                           "max_stored_per_claimant_kind": MAX_STORED},
            "sources": {s["name"]: s["params"] for s in srcs},
            "per_source": per_source,
            "counts": {"rows": tally.rows, "evidence": total, "by_kind": dict(sorted(kinds.items())),
                       "not_stored": {f"{targets.claimants.get(c, c)}/{k}": n
                                      for (c, k), n in sorted(tally.not_stored.items())},
                       "common_name_mentions_not_stored": {targets.claimants.get(c, str(c)): n
                                                           for c, n in sorted(tally.common_mentions.items())}},
            "notes": targets.notes,
        }
        seconds = time.perf_counter() - t0
        with case.store.begin() as c:
            run_id = c.execute(insert(schema.runs).values(stage="match image-metadata", manifest=manifest,
                                                          started_at=started, seconds=seconds)
                               ).inserted_primary_key[0]
            c.execute(delete(schema.image_metadata_evidence).where(
                schema.image_metadata_evidence.c.source_id.in_([s["id"] for s in srcs])))
            for chunk in _chunks(spill, 5000):
                c.execute(insert(schema.image_metadata_evidence), [{**r, "run_id": run_id} for r in chunk])
        # the report: {"evidence": [...], "manifest": {...}}, keys sorted, written row by row, then renamed
        with open(tmp, "w", encoding="utf-8") as out, open(spill, encoding="utf-8") as rows_in:
            out.write('{"evidence": [')
            for i, line in enumerate(rows_in):
                out.write(("," if i else "") + "\n" + line.rstrip("\n"))
            out.write('\n], "manifest": ' + json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False)
                      + "}\n")
        os.replace(tmp, report)
    finally:
        for p in (spill, tmp):
            p.unlink(missing_ok=True)
    case.store.audit("match image-metadata", {"run": run_id, "sources": [s["name"] for s in srcs],
                                              "evidence": total, "rows": tally.rows})
    return {"run": run_id, "evidence": total, "rows": tally.rows, "by_kind": manifest["counts"]["by_kind"],
            "report": str(report), "seconds": round(seconds, 3)}


def _chunks(spill: Path, n: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    with open(spill, encoding="utf-8") as fh:
        for line in fh:
            chunk.append(json.loads(line))
            if len(chunk) == n:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def evidence_counts(case: Case) -> list[dict]:
    """Stored image-metadata evidence counted per claimant, source, kind, match and context (for `show`)."""
    from sqlalchemy import func

    e, cl, src = schema.image_metadata_evidence, schema.claimants, schema.sources
    with case.store.engine.connect() as c:
        rows = c.execute(select(cl.c.name, src.c.name, e.c.kind, e.c.match, e.c.context, func.count())
                         .join(cl, cl.c.id == e.c.claimant_id).join(src, src.c.id == e.c.source_id)
                         .group_by(cl.c.name, src.c.name, e.c.kind, e.c.match, e.c.context)
                         .order_by(cl.c.name, src.c.name, e.c.kind, e.c.match, e.c.context)).all()
    return [{"claimant": r[0], "source": r[1], "kind": r[2], "match": r[3], "context": r[4], "rows": r[5]}
            for r in rows]
