"""match's fast paths give the evidence of the plain ones, byte for byte: the collinear chain in the C kernel
against its NumPy reference, weak pairs counted from their spans before selection against measuring them, and
the tokens as written built once per document against building them per call."""

from __future__ import annotations

import random

import pytest

import ascertain.match.measure_docs as measure_docs
import ascertain.match.spans as spans_mod
from ascertain.case import Case
from ascertain.match.measure import Thresholds, cannot_be_copied, decoration_of, measure
from ascertain.match.run import MatchOptions, run_match
from ascertain.match.spans import Span, _collinear_chain, select_spans
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.text.boilerplate import cmi_mask
from ascertain.text.tokenize import tokenize
from ascertain.works import import_manifest


def _random_spans(rng: random.Random, n: int) -> list[Span]:
    out = []
    for _ in range(n):
        w0, length = rng.randrange(0, 400), rng.randrange(20, 90)
        d0 = max(0, w0 + rng.randrange(-6, 6)) if rng.random() < 0.6 else rng.randrange(0, 400)
        out.append(Span(w0, w0 + length, d0, d0 + length, rng.randrange(4)))
    return out


@pytest.mark.skipif(spans_mod._chain is None, reason="the C kernel is not built")
def test_chain_kernel_equals_reference(monkeypatch):
    rng = random.Random(7)
    for _ in range(400):
        spans = _random_spans(rng, rng.choice([2, 3, 6, 15, 60, 250]))
        fast = _collinear_chain(list(spans)), select_spans(list(spans), 20)
        monkeypatch.setattr(spans_mod, "_chain", None)
        slow = _collinear_chain(list(spans)), select_spans(list(spans), 20)
        monkeypatch.undo()
        assert fast == slow


def test_cannot_be_copied_only_for_weak_pairs(data):
    """Whenever the early test says a pair cannot be copied, measuring it says: not copied, longest selected
    span under min_evidence_span (a weak pair)."""
    th = Thresholds(common_df=5)
    files = sorted(p for p in (data / "corpus").rglob("*.py") if p.stat().st_size > 2000)[:6]
    rng = random.Random(3)
    said = 0
    for p in files:
        text = p.read_text(encoding="utf-8")
        work = tokenize(text, "python")
        mask = cmi_mask(work, "python", str(p))
        own = ~mask & ~decoration_of(work)
        n = len(work)
        for _ in range(60):
            k = rng.choice([1, 2, 4, 12])
            spans = []
            for _ in range(k):
                length = rng.randrange(20, 60)
                w0 = rng.randrange(0, max(1, n - length))
                spans.append(Span(w0, w0 + length, w0, w0 + length, rng.randrange(10)))
            if not cannot_be_copied(own, spans, th):
                continue
            said += 1
            chosen = select_spans(spans, th.min_span_tokens)
            m = measure(work, mask, chosen, th, work, n, False)
            assert not m["copied"] and max(s.length for s in chosen) < th.min_evidence_span
    assert said > 20  # the test did exercise the early path


@pytest.fixture(scope="module")
def case(tmp_path_factory, data):
    c = Case.init(tmp_path_factory.mktemp("fast-paths") / "case")
    import_manifest(c, str(data / "works.csv"))
    add_source(c, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    return c


def test_evidence_equals_the_plain_paths(case, monkeypatch):
    run_match(case, MatchOptions())
    fast = (case.root / "reports" / "evidence.json").read_bytes()
    monkeypatch.setattr(spans_mod, "_chain", None)  # the NumPy chain
    monkeypatch.setattr(measure_docs, "cannot_be_copied", lambda *a: False)  # every pair measured
    run_match(case, MatchOptions())
    assert (case.root / "reports" / "evidence.json").read_bytes() == fast
    assert len(fast) > 1000


def _stored(case) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(case.root / "store.sqlite")
    cols = [c[1] for c in db.execute("PRAGMA table_info(evidence)") if c[1] not in ("id", "run_id")]
    rows = db.execute(f"SELECT {', '.join(cols)} FROM evidence ORDER BY id").fetchall()
    db.close()
    return rows


def test_stored_rows_equal_sqlalchemys_json(case, monkeypatch):
    """Metrics stored as the text made when the record was found equal what SQLAlchemy's JSON type writes."""
    import json

    import ascertain.match.run as match_run
    from ascertain.store import schema

    run_match(case, MatchOptions())
    fast = _stored(case)
    monkeypatch.setattr(match_run, "store_params", lambda conn, table, rows: (
        schema.evidence, [{**r, "metrics": json.loads(r["metrics"])} for r in rows]))
    run_match(case, MatchOptions())
    assert _stored(case) == fast and len(fast) > 5


def test_metrics_json_is_the_round_trip():
    import json

    import orjson

    from ascertain.match.evidence_out import metrics_json

    for m in ({"a": 0.1, "b": [1, (2, 3)], "c": {"d": None, "e": 1e16, "f": -0.0}}, {"x": float("nan")},
              {"y": [float("inf"), "é\u2028"]}):
        assert metrics_json(m) == json.dumps(orjson.loads(orjson.dumps(m)))
