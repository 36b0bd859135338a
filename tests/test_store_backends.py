"""The case store on each backend (SQLite and a real PostgreSQL server): the whole demo pipeline (works, code
and book corpora, outputs, match, registrations, links, reviews, classes, sample, estimate, probe) gives its
planted answers on both, the store holds exactly the evidence the report file holds, and what a user reads
back (`show`, the audit chain, source removal) is the same."""

from __future__ import annotations

import json

import sqlalchemy as sa

from ascertain.case import Case
from ascertain.readers import ReadOptions
from ascertain.report.show import case_summary, work_evidence
from ascertain.sources import add_source, list_sources, remove_source
from ascertain.store import audit_chain, schema
from ascertain.works import import_manifest


def test_demo_pipeline_is_faithful_on_the_backend(demo_case: Case, backend: str):
    case = demo_case  # built by run_demo, which asserts every planted copy, CMI status, class and probe
    assert case.config["store_url"].startswith("postgresql" if backend == "postgres" else "sqlite")
    report = json.loads((case.root / "reports" / "evidence.json").read_bytes())["evidence"]
    e, f, s = schema.evidence, schema.work_files, schema.sources
    with case.store.engine.connect() as c:
        stored = c.execute(sa.select(f.c.path, s.c.name, e.c.doc_locator, e.c.copied, e.c.coverage,
                                     e.c.longest_run_tokens, e.c.metrics)
                           .join_from(e, f, e.c.work_file_id == f.c.id).join_from(e, s, e.c.source_id == s.c.id)
                           ).all()
    assert len(stored) == len(report) > 0
    by_key = {(r[0], r[1], r[2]): r for r in stored}
    for r in report:  # the JSON column round-trips (floats, unicode, nesting) on this backend
        got = by_key[(r["work_file"], r["source"], r["doc_locator"])]
        m = r["metrics"]
        assert (got[3], got[4], got[5]) == (r["copied"], m["coverage"], m["longest_run_tokens"])
        assert got[6] == m
    summary = case_summary(case)
    # the demo's image works count their image copies (report/show_images.py), not in evidence.json
    text_works = [w for w in summary["works"] if not w.get("image")]
    assert sum(w["copies"] for w in text_works) == sum(r["copied"] for r in report)
    for w in text_works:
        mine = [r for r in report if r["work_id"] == w["id"]]
        assert len(work_evidence(case, str(w["id"]))["evidence"]) == len(mine)
    chain = audit_chain.check(case.store.engine)
    assert chain["ok"] and chain["entries"] > 10


def test_sources_remove_and_re_add(tmp_path, data, backend, new_store_url):
    case = Case.init(tmp_path / "case", new_store_url(backend))
    import_manifest(case, str(data / "works.csv"))
    first = add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    removed = remove_source(case, "corpus")
    assert removed["documents"] == first["documents"] and removed["index_removed"]
    assert list_sources(case) == []
    again = add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    assert again["documents"] == first["documents"]
    assert [r["name"] for r in list_sources(case)] == ["corpus"]
    assert audit_chain.check(case.store.engine)["ok"]
