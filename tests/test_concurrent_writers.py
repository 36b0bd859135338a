"""Concurrent writers on each store backend: two `ascertain match` processes and review decisions at the same
time must leave exactly one run's evidence (not two, not none), every run and decision recorded, and an
unbroken audit chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from ascertain.case import Case
from ascertain.classes.linkage import decide, link, review_queue
from ascertain.classes.registrations import import_registrations
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.store import audit_chain, schema
from ascertain.works import import_manifest

EVIDENCE_KEY = ("work_file_id", "source_id", "doc_id", "copied", "coverage", "longest_run_tokens")


def evidence_rows(case: Case) -> list[tuple]:
    e = schema.evidence
    with case.store.engine.connect() as c:
        rows = c.execute(sa.select(*(e.c[k] for k in EVIDENCE_KEY if k in e.c))).all()
    return sorted(tuple(r) for r in rows)


@pytest.fixture(scope="module")
def case(tmp_path_factory, data, backend, new_store_url) -> Case:
    root = tmp_path_factory.mktemp(f"writers-{backend}") / "case"
    c = Case.init(root, new_store_url(backend))
    import_manifest(c, str(data / "works.csv"))
    add_source(c, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    import_manifest(c, str(data / "classes" / "books.csv"))
    import_registrations(c, str(data / "classes" / "registrations.csv"))
    link(c)
    return c


def test_two_matches_and_reviews_at_once_lose_and_double_nothing(case):
    run_match(case, MatchOptions())
    reference = evidence_rows(case)
    assert reference and any(r[EVIDENCE_KEY.index("copied")] for r in reference)
    report = case.root / "reports" / "evidence.json"
    reference_report = json.loads(report.read_bytes())["evidence"]
    with case.store.engine.connect() as c:
        links = [r.id for r in c.execute(sa.select(schema.registration_links.c.id))]
        audits_before = c.execute(sa.select(sa.func.count()).select_from(schema.audit_log)).scalar()
    assert len(links) >= 2

    env = {**os.environ, "COLUMNS": "80"}
    matches = [subprocess.Popen([sys.executable, "-m", "ascertain", "match", str(case.root)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors: list[BaseException] = []

    def reviewer() -> None:  # a claims reviewer deciding links while both matches write
        try:
            for i, lid in enumerate(links * 3):
                decide(case, lid, i % 2 == 0, f"decision {i} during two match runs")
        except BaseException as e:  # noqa: BLE001 - reported below, with the backend
            errors.append(e)

    t = threading.Thread(target=reviewer)
    t.start()
    outs = [m.communicate(timeout=600) for m in matches]
    t.join(timeout=600)
    assert not errors, errors
    for m, (_out, err) in zip(matches, outs, strict=True):
        assert m.returncode == 0, err[-2000:]

    assert evidence_rows(case) == reference  # one run's evidence: neither doubled nor lost
    assert json.loads(report.read_bytes())["evidence"] == reference_report  # never a torn or mixed file
    with case.store.engine.connect() as c:
        runs = c.execute(sa.select(sa.func.count()).select_from(schema.runs).where(schema.runs.c.stage == "match")
                         ).scalar()
        audits = c.execute(sa.select(schema.audit_log.c.action).where(schema.audit_log.c.id > audits_before)
                           ).scalars().all()
        last = c.execute(sa.select(schema.registration_links.c.reason).where(
            schema.registration_links.c.id == links[-1])).scalar()
    assert runs == 3
    assert audits.count("match") == 2 and audits.count("review") == len(links) * 3
    assert last == f"decision {len(links) * 3 - 1} during two match runs"  # the last decision is the one kept
    chain = audit_chain.check(case.store.engine)
    assert chain["ok"], chain["problems"]
    assert review_queue(case, "accepted") or review_queue(case, "rejected")


def test_a_second_writer_waits_for_the_first(case):
    """The serialization itself, made deterministic: writer B starts while A holds an open transaction
    that replaced the evidence; B must not see the old rows nor delete-and-insert beside A's."""
    run_match(case, MatchOptions())
    rows = evidence_rows(case)
    e = schema.evidence
    with case.store.engine.connect() as c:
        template = [dict(r) for r in c.execute(sa.select(e)).mappings()]
    for r in template:
        r.pop("id")
    a_holds, order = threading.Event(), []

    def replace_evidence(name: str, hold: float) -> None:
        with case.store.begin() as c:
            order.append(f"{name} in")
            c.execute(sa.delete(e))
            c.execute(sa.insert(e), template)
            if hold:
                a_holds.set()
                threading.Event().wait(hold)
            order.append(f"{name} out")

    a = threading.Thread(target=replace_evidence, args=("A", 1.5))
    a.start()
    assert a_holds.wait(30)
    b = threading.Thread(target=replace_evidence, args=("B", 0))
    b.start()
    a.join(60)
    b.join(60)
    assert order == ["A in", "A out", "B in", "B out"]
    assert evidence_rows(case) == rows
