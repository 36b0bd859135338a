"""`match`'s per-document stage: a chunk of matched corpus documents and their hits in, their evidence out.

A pure function of plain data, run by an executor (engine/): in this process, in a process pool or as Ray
tasks, with the same result. What every chunk needs (the works, their CMI, the thresholds, the index, the
near-duplicate pairs) is one `MatchContext`, handed to the executor's `share` once per source; a worker
derives its state from it (the works prepared on demand, its own connection to the CMI scan cache) at its
first chunk and keeps it for the next. The driver consumes the chunks' results in chunk order, so the report
and the stored rows are the same bytes whatever ran them (tests/test_engine_ray.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ascertain.cmi.cache import ScanCache, merge_parts
from ascertain.cmi.status import status_of_copy
from ascertain.engine import Shared, shared_value
from ascertain.fingerprint.winnow import Params
from ascertain.index.corpus_reader import fetch_docs
from ascertain.match.hit_bounds import WorkWindows, weak_from_hits, work_windows
from ascertain.match.measure import Thresholds, cannot_be_copied, measure, tokens_identical
from ascertain.match.pairs import Prepared, align_streams, prepare
from ascertain.match.prepared_works import PreparedWorks
from ascertain.match.spans import chain_hits, extend_seeds, select_spans
from ascertain.text.levels import DEFAULT_LEVEL, level_stream, resolved_level
from ascertain.text.tokenize import tokenize

Hits = dict[str, np.ndarray]  # doc, file, wpos, dpos, df: sorted by doc, file, wpos, dpos

# pairs proven weak from their hits are not read (match/hit_bounds.py); off only to check that the evidence is
# the same without it (tests/test_hit_bounds.py)
RULE_OUT_FROM_HITS = True


@dataclass
class MatchContext:
    """Everything a chunk of one source needs besides its hits (read-only, shared once per source)."""

    index_dir: str
    manifest: dict
    source: dict  # id, name
    params: Params
    thresholds: Thresholds
    baseline: dict  # the chance baseline recorded in every record
    # file id -> id, work_id, path, text, language, and sha256 as the index has it (keyed for a keyed index)
    files: dict[int, dict]
    file_cmi: dict[int, dict]
    repo_cmi: dict[int, list[dict]]
    near: dict[tuple[int, int], float]  # (work file, doc) -> estimated Jaccard
    # the driver's own prepared works: used in its process, never pickled (a worker prepares its own)
    prepared: PreparedWorks | None = field(default=None, compare=False)
    # matched doc -> documents of the source holding its content, when more than one (index/duplicates.py)
    copies: dict[int, int] = field(default_factory=dict)
    # sorted hashes of the works that the corpus holds but that seed nothing (register_seeds: notices only,
    # repetition); None: not known, and no pair is ruled out from its hits
    left_out: np.ndarray | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "prepared": None}


@dataclass
class ChunkResult:
    groups: list[list[dict]]  # one list of evidence records per document of the chunk, in doc order
    # (work file, document) pairs sharing seeds that yield no record (no shared run of min_span_tokens, or only
    # runs under min_evidence_span without the coverage clause): counted, not stored
    weak: int
    with_spans: list[tuple[int, int]]  # near-duplicate pairs that got span evidence


@dataclass
class _State:
    ctx: MatchContext
    prepared: PreparedWorks
    scans: ScanCache
    windows: dict[int, WorkWindows | None] = field(default_factory=dict)  # per work file (match/hit_bounds.py)


_STATES: dict[str, _State] = {}  # this process's state per shared context (one source at a time)


def _prepare_file(f: dict, params: Params) -> Prepared:
    # no key: a worker uses the tokens and the (already keyed) sha256, never the fingerprints, so the HMAC
    # key does not travel to the workers
    return prepare(f["text"], f["language"], f["path"], f["sha256"], params, None, f.get("level", params.level))


def _state(shared: Shared) -> _State:
    st = _STATES.get(shared.token)
    if st is None:
        ctx: MatchContext = shared_value(shared)
        if ctx.prepared is None:  # a worker given a new source: the last one's chunks are all done
            for token in [t for t, old in _STATES.items() if old.ctx.prepared is None]:
                _STATES.pop(token).scans.close(merge=False)  # its driver merges its part file
        # (a driver's own state, in process, is closed by its `release`: two runs in threads keep theirs)
        prepared = ctx.prepared or PreparedWorks(ctx.files.values(),
                                                 functools.partial(_prepare_file, params=ctx.params),
                                                 fingerprints=False)
        # each process writes its scans to a part file of its own, merged by the driver (cmi/cache.py: safe on
        # a network filesystem shared by the nodes)
        st = _STATES[shared.token] = _State(ctx, prepared, ScanCache(Path(ctx.index_dir), run=shared.token))
    return st


def release(shared: Shared, index_dir: Path) -> None:
    """The driver, at the end of a source: its own state closed, and every part file of the run's CMI scans
    (its own and its workers', all done) merged into the source's scan cache."""
    st = _STATES.pop(shared.token, None)
    if st is not None:
        st.scans.close(merge=False)
    merge_parts(index_dir, shared.token)


def identical_copies(copies: dict[int, int], doc_id: int) -> dict:
    """The record's count of documents holding the same content (the report lists their locators), when the
    document is one of several: measured once, it stands for every one of them."""
    n = copies.get(doc_id, 1)
    return {"identical_copies": {"documents": n}} if n > 1 else {}


def cut_chunks(chunks: Iterable[tuple[np.ndarray, Hits]], max_docs: int, max_rows: int
               ) -> Iterator[tuple[np.ndarray, Hits]]:
    """Each (doc ids, hits) cut into units of at most max_docs documents and about max_rows hit rows (never
    splitting a document: one with more rows is a unit alone). The cut depends on the hits only."""
    for doc_ids, hits in chunks:
        n = len(hits["doc"])
        bounds = np.append(np.searchsorted(hits["doc"], doc_ids, side="left"), n)
        i = 0
        while i < len(doc_ids):
            j = min(i + max_docs, len(doc_ids))
            by_rows = int(np.searchsorted(bounds, bounds[i] + max_rows, side="right")) - 1
            j = max(i + 1, min(j, by_rows))
            lo, hi = int(bounds[i]), int(bounds[j])
            yield doc_ids[i:j], {c: v[lo:hi] for c, v in hits.items()}
            i = j


def ruled_out(st: _State, hits: Hits) -> set[tuple[int, int]]:
    """(doc, work file) pairs of the chunk proven weak from their hits (match/hit_bounds.py): not read."""
    ctx = st.ctx
    if (not RULE_OUT_FROM_HITS or ctx.left_out is None or ctx.params.keyed
            or ctx.manifest.get("store_text") is not True):  # spans chained from the hits: nothing to read
        return set()
    out: set[tuple[int, int]] = set()
    file_col = hits["file"]
    for fid in np.unique(file_col).tolist():
        if fid not in st.windows:
            w = st.prepared[fid]
            st.windows[fid] = work_windows(w.tokens.hashes, w.own_expression, ctx.params, ctx.left_out)
        ww = st.windows[fid]
        if ww is None:
            continue
        sel = file_col == fid
        docs, weak = weak_from_hits(ww, hits["doc"][sel], hits["wpos"][sel], hits["dpos"][sel], ctx.thresholds)
        out.update((d, fid) for d in docs[weak].tolist())
    return out


def _files_of(doc_ids: np.ndarray, hits: Hits) -> list[list[int]]:
    """The work files of each document's hits (hits sorted by doc, file), in file order."""
    doc, file = hits["doc"], hits["file"]
    first = np.ones(len(doc), dtype=bool)
    first[1:] = (doc[1:] != doc[:-1]) | (file[1:] != file[:-1])
    pair_doc, pair_file = doc[first], file[first].tolist()
    cuts = np.searchsorted(pair_doc, doc_ids, side="left").tolist() + [len(pair_file)]
    return [pair_file[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def measure_chunk(shared: Shared, doc_ids: np.ndarray, hits: Hits) -> ChunkResult:
    """The evidence records of each document of the chunk (extend the seeds, select spans, measure, align the
    differences of copies, CMI status, near-duplicate figure). Documents whose every pair is proven weak from
    its hits are not read."""
    st = _state(shared)
    ctx, prepared, scans = st.ctx, st.prepared, st.scans
    params, th, near = ctx.params, ctx.thresholds, ctx.near
    index_dir = Path(ctx.index_dir)
    bounds = np.searchsorted(hits["doc"], doc_ids, side="left").tolist() + [len(hits["doc"])]
    files_of = _files_of(doc_ids, hits)
    ruled = ruled_out(st, hits)
    n_ruled: dict[int, int] = {}
    for d, _ in ruled:
        n_ruled[d] = n_ruled.get(d, 0) + 1
    read = [i for i, d in enumerate(doc_ids.tolist()) if n_ruled.get(d, 0) < len(files_of[i])]
    fetched = iter(fetch_docs(index_dir, ctx.manifest, doc_ids[read]))
    to_read = set(read)
    real_of = {f: ctx.files[f].get("file_id", f) for f in np.unique(hits["file"]).tolist()}
    groups: list[list[dict]] = []
    weak = 0
    with_spans: list[tuple[int, int]] = []
    for i, d in enumerate(doc_ids.tolist()):
        # a pair is a work file (each level of it counted once) and a document
        pairs = {real_of[f] for f in files_of[i]}
        if i not in to_read:  # every pair of the document proven weak from its hits
            groups.append([])
            weak += len(pairs)
            continue
        doc_id, locator, sha, language, n_tokens, text, meta, stored_level = next(fetched)
        lo, hi = bounds[i], bounds[i + 1]
        # the level the document was indexed at (an `auto` index: book for prose, layout for code)
        doc_level = stored_level or resolved_level(params.level, language)
        copy_ts = copy_base = None
        kinds = params.level != DEFAULT_LEVEL  # kinds (comments, strings) matter only above the layout level
        # a layout-level document's spans need only its token hashes: its kinds (the comment and string scanner,
        # the slower part of tokenizing) are added when one of its pairs is measured (same tokens and hashes)
        # (ASCII texts only: tokenizing one that is not costs as much again without its kinds)
        deferred = kinds and doc_level == DEFAULT_LEVEL and text is not None and text.isascii()
        if text is not None:
            copy_base = tokenize(text, language, kinds=kinds and not deferred)
            copy_ts = level_stream(copy_base, doc_level, language)
        copy_cmi = None  # scanned once per document, when it first yields evidence
        copy_raw = None  # its tokens as written, built once when a copy is first aligned
        rows: list[dict] = []
        file_col = hits["file"][lo:hi]
        for fid in files_of[i]:
            if (d, fid) in ruled:
                continue
            w, f = prepared[fid], ctx.files[fid]
            if params.level == "auto" and f["level"] != doc_level:
                continue  # the file prepared at another level than the document's: its hits are not seeds
            a, b = np.searchsorted(file_col, fid), np.searchsorted(file_col, fid, "right")
            sel = slice(lo + int(a), lo + int(b))
            real = f.get("file_id", fid)
            wpos, dpos, df = hits["wpos"][sel], hits["dpos"][sel], hits["df"][sel]
            if copy_ts is not None:
                spans = extend_seeds(w.tokens.hashes, copy_ts.hashes, wpos, dpos, params.k, df, th.min_span_tokens)
            else:
                spans = chain_hits(wpos, dpos, params.k, params.w, df)
            spans = [s for s in spans if s.length >= th.min_span_tokens]
            if not spans:
                continue
            if cannot_be_copied(w.own_expression, spans, th):  # weak whatever is selected: not measured
                continue
            if deferred and text is not None:
                copy_base = tokenize(text, language, kinds=True)
                copy_ts, deferred = level_stream(copy_base, doc_level, language), False
            spans = select_spans(spans, th.min_span_tokens)
            metrics = {"level": f.get("level", params.level),
                       **measure(w.tokens, w.mask, spans, th, copy_ts, int(n_tokens), w.sha256 == sha),
                       "chance_baseline": ctx.baseline}
            metrics["decision_basis"] = {  # the corpus is the population; the size bar still applies
                **metrics["decision_basis"], "chance_baseline": ctx.baseline,
                "chance_baseline_note": "the corpus: spans found in more than common_df of its documents are common "
                                        "and discounted; no independent works of the same task: the size bar applies"}
            if not metrics["copied"] and max(s.length for s in spans) < th.min_evidence_span:
                continue  # only short shared runs (idioms): counted as weak, not stored as evidence
            if copy_ts is not None and w.tokens is not w.base:
                metrics["identical"] = tokens_identical(w.base, copy_base)
            if metrics["copied"] and copy_ts is not None:  # how the copy differs: copies only (cost)
                copy_raw = copy_base.raw if copy_raw is None else copy_raw
                metrics.update(align_streams(w, copy_ts, copy_base, spans, copy_raw))
            if copy_cmi is None and copy_ts is not None and metrics["copied"]:  # CMI status: copies only
                copy_cmi = scans.scan(locator, text, language)
            metrics["cmi"] = status_of_copy(ctx.file_cmi[real], w.tokens, copy_cmi, metrics["spans"],
                                            ctx.repo_cmi.get(f["work_id"]), copied=metrics["copied"],
                                            record_meta=json.loads(meta) if meta else None)
            if (pair := (real, int(doc_id))) in near:
                metrics["near_duplicate"] = {"jaccard_estimate": round(near[pair], 4)}
                with_spans.append(pair)
            metrics.update(identical_copies(ctx.copies, int(doc_id)))
            rows.append({"work_id": f["work_id"], "work_file_id": real, "work_file": w.path,
                         "source_id": ctx.source["id"], "source": ctx.source["name"], "doc_id": int(doc_id),
                         "doc_locator": locator, "copied": metrics["copied"], "metrics": metrics})
        groups.append(rows)
        weak += len(pairs - {r["work_file_id"] for r in rows})
    scans.flush()  # a worker may end without closing: its scans are in the cache once its chunk is done
    return ChunkResult(groups, weak, with_spans)
