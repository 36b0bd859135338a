"""Pairs proven weak from their fingerprint hits (match/hit_bounds.py): the bound holds on every pair, the
documents it rules out are not read, and a lookup's evidence is the same with the filter on and off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest

import ascertain.match.measure_docs as measure_docs
from ascertain.case import Case
from ascertain.fingerprint.winnow import Params, fingerprint_hashes
from ascertain.match.hit_bounds import span_bounds, weak_from_hits, work_windows
from ascertain.match.measure import Thresholds
from ascertain.match.pairs import hits
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.works import import_manifest

PARAMS = Params()  # k 8, w 13: the defaults every case uses unless told otherwise


def _pair_spans(work: np.ndarray, copy: np.ndarray, left_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(wpos, dpos) of the seeds of a pair (every shared fingerprint but the left-out ones) and the longest span
    `extend_seeds` finds from them."""
    from ascertain.match.spans import extend_seeds

    wh, wp = fingerprint_hashes(work, PARAMS)
    ch, cp = fingerprint_hashes(copy, PARAMS)
    seeded = ~np.isin(wh, left_out)
    wpos, dpos = hits(wh[seeded], wp[seeded], ch, cp)
    spans = extend_seeds(work, copy, wpos, dpos, PARAMS.k)
    return wpos, dpos, max((s.length for s in spans), default=0)


@pytest.mark.parametrize("vocabulary", [3, 12, 10_000])
def test_the_bound_holds_on_planted_runs(vocabulary):
    """Runs of 5 to 90 tokens planted in noise, some mutated, over vocabularies small enough that k-grams tie
    within a window (the wild windows) and with some shared fingerprints left out of the seeds: no span is
    ever longer than the bound, and short pairs are ruled out."""
    rng = np.random.default_rng(vocabulary)
    work = rng.integers(1, vocabulary + 1, 1500).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    ruled = long = 0
    for trial in range(120):
        copy = rng.integers(1, vocabulary + 1, 600).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(5, 90))
            a, b = int(rng.integers(0, len(work) - n)), int(rng.integers(0, len(copy) - n))
            copy[b:b + n] = work[a:a + n]
            if rng.random() < 0.3:  # a changed token inside the run
                copy[b + int(rng.integers(0, n))] ^= np.uint64(1)
        g, _ = fingerprint_hashes(work, PARAMS)
        left_out = np.sort(rng.choice(g, size=len(g) // 10, replace=False)) if trial % 3 == 0 else g[:0]
        wpos, dpos, longest_found = _pair_spans(work, copy, left_out)
        if not len(wpos):
            continue
        ww = work_windows(work, np.ones(len(work), bool), PARAMS, left_out)
        _, bound = span_bounds(ww, np.zeros(len(wpos), np.int64), wpos, dpos)
        assert longest_found <= bound[0], (trial, longest_found, bound[0])
        ruled += int(bound[0] < Thresholds().min_evidence_span)
        long += int(longest_found >= Thresholds().min_evidence_span)
    assert ruled > 0 and long > 0  # the bound rules pairs out, and is checked against long spans too


def test_a_short_work_is_never_ruled_out_by_coverage():
    """A work whose whole own expression a few short spans can cover (the coverage clause) keeps its pairs."""
    rng = np.random.default_rng(3)
    work = rng.integers(1, 10_000, 60).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    copy = np.concatenate([rng.integers(1, 10_000, 50).astype(np.uint64), work[:30], work[30:]])
    wpos, dpos, _ = _pair_spans(work, copy, work[:0])
    ww = work_windows(work, np.ones(len(work), bool), PARAMS, work[:0])
    _, weak = weak_from_hits(ww, np.zeros(len(wpos), np.int64), wpos, dpos, Thresholds())
    assert not weak.any()


SNIPPET = 22  # tokens of each shared snippet: over the winnowing guarantee, under min_evidence_span


@pytest.fixture(scope="module")
def scattered_case(tmp_path_factory, data):
    """The demo works and corpus, plus one document that shares three short snippets of a work, far apart, in
    unrelated text: shared fingerprints, no evidence span."""
    from ascertain.text.tokenize import tokenize

    work_path = max(sorted((data / "works").rglob("*.py")), key=lambda p: p.stat().st_size)
    text = work_path.read_text()
    ts = tokenize(text, "python")
    filler = (data / "corpus" / "unrelated").glob("*.py")
    noise = [p.read_text()[:1500] for p in sorted(filler)[:3]]
    parts = []
    for i, at in enumerate((len(ts) // 5, len(ts) // 2, len(ts) * 4 // 5)):
        a, b = int(ts.start[at]), int(ts.end[at + SNIPPET - 1])
        parts += [noise[i], "\n", text[a:b], "\n"]
    extra = tmp_path_factory.mktemp("scattered")
    (extra / "scattered_snippets.py").write_text("".join(parts))
    case = Case.init(tmp_path_factory.mktemp("hitbounds") / "case")
    import_manifest(case, str(data / "works.csv"))
    add_source(case, "corpus", "corpus", [str(data / "corpus"), str(extra)], ReadOptions())
    with case.store.engine.connect() as c:
        from sqlalchemy import select

        from ascertain.store import schema
        work_id = c.execute(select(schema.work_files.c.work_id).where(
            schema.work_files.c.path.like(f"%{work_path.name}"))).scalar_one()
    return case, work_id


def _lookup(case: Case, work: int | None, on: bool, monkeypatch) -> tuple[list, dict, set]:
    read: set[int] = set()
    fetch = measure_docs.fetch_docs

    def counting(index_dir, manifest, ids, *a, **k):
        read.update(int(d) for d in ids)
        return fetch(index_dir, manifest, ids, *a, **k)

    monkeypatch.setattr(measure_docs, "fetch_docs", counting)
    monkeypatch.setattr(measure_docs, "RULE_OUT_FROM_HITS", on)
    r = run_match(case, MatchOptions(work=work, allow_empty=True))
    report = orjson.loads(Path(r["report"]).read_bytes())
    return report["evidence"], report["manifest"]["counts"], read


def test_scattered_document_is_not_read_and_evidence_is_unchanged(scattered_case, monkeypatch):
    case, work_id = scattered_case
    index = case.root / "index" / "corpus"
    manifest = json.loads((index / "manifest.json").read_text())
    from ascertain.index.corpus_reader import fetch_locators

    docs = np.arange(manifest["documents"], dtype=np.int64)
    scattered = next(d for d, loc in fetch_locators(index, manifest, docs) if loc.endswith("scattered_snippets.py"))
    ev_off, counts_off, read_off = _lookup(case, work_id, False, monkeypatch)
    ev_on, counts_on, read_on = _lookup(case, work_id, True, monkeypatch)
    assert scattered in read_off  # a candidate: it shares seeds with the work
    assert scattered not in read_on  # ruled out from its hits: never read
    assert len(read_on) < len(read_off)
    assert ev_on == ev_off and counts_on == counts_off  # same records, same weak pairs
    assert counts_on["weak_pairs_not_stored"] >= 1
    # every work of the demo case at once (DuckDB's join): the same report

    all_off = _lookup(case, None, False, monkeypatch)
    all_on = _lookup(case, None, True, monkeypatch)
    assert all_on[0] == all_off[0] and all_on[1] == all_off[1]


def test_a_lookups_numpy_join_equals_duckdbs(scattered_case, monkeypatch):
    """The hits of a single-work lookup (joined in NumPy) are DuckDB's, row for row and type for type."""
    import duckdb
    import pyarrow as pa

    import ascertain.match.run as run
    from ascertain.index.corpus_reader import Seeds
    from ascertain.match.lookup_hits import lookup_hits

    case, _ = scattered_case
    checked = []

    def both(works_fp, min_shared, seeds, rows, max_df):
        matched, got = lookup_hits(works_fp, min_shared, seeds, rows, max_df)
        assert lookup_hits(works_fp, min_shared, seeds, rows, max_df) is not None
        work_min = pa.table({"file": pa.array(list(min_shared), pa.int64()),
                             "min_shared": pa.array(list(min_shared.values()), pa.int64())})
        want_docs, chunks = run._duckdb_hits(duckdb.connect(), works_fp, work_min,
                                             Seeds(seeds, rows, np.empty(0, np.uint64), {}), max_df)
        want = [h for _, h in chunks]
        assert np.array_equal(matched, want_docs)
        for c in run.HIT_COLUMNS:
            w = np.concatenate([h[c] for h in want]) if want else np.empty(0, got[c].dtype)
            assert np.array_equal(got[c], w) and got[c].dtype == w.dtype, c
        checked.append(len(got["doc"]))
        return matched, got

    monkeypatch.setattr(run, "lookup_hits", both)
    for work in (1, 2, 3):
        run_match(case, MatchOptions(work=work, allow_empty=True))
    assert sum(checked) > 0
    # past MAX_JOIN_ROWS the lookup declines and DuckDB joins: the same evidence
    import ascertain.match.lookup_hits as lh

    monkeypatch.setattr(run, "lookup_hits", lh.lookup_hits)
    numpy_run = _lookup(case, 1, True, monkeypatch)[:2]
    monkeypatch.setattr(lh, "MAX_JOIN_ROWS", 0)
    assert _lookup(case, 1, True, monkeypatch)[:2] == numpy_run
