"""`match` in batches of works (match/run.py FILES_BATCH): the report and the stored evidence are the same
bytes as one pass, whatever the batch size: seeds decided over all the works, records merged in document
order, regions ranked across works of different batches."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

import ascertain.match.run as match_run
from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.works import add_work, import_manifest


def _digests(case: Case) -> tuple[bytes, str]:
    db = sqlite3.connect(case.root / "store.sqlite")
    h = hashlib.sha256()
    cols = [c[1] for c in db.execute("PRAGMA table_info(evidence)") if c[1] not in ("id", "run_id")]
    for row in db.execute(f"SELECT {', '.join(cols)} FROM evidence ORDER BY id"):
        h.update(repr(row).encode() + b"\n")
    db.close()
    return (case.root / "reports" / "evidence.json").read_bytes(), h.hexdigest()


def _same_in_batches(case: Case, monkeypatch, opts: dict, sizes: tuple[int, ...]) -> dict:
    """Match in one pass, then in batches of each size: every run the same report and stored rows."""
    monkeypatch.setattr(match_run, "FILES_BATCH", 10_000)
    run_match(case, MatchOptions(**opts))
    whole = _digests(case)
    batches = []
    real = match_run._run_totals

    def counted(con, case_, b, *a):
        batches.append(len(b))
        return real(con, case_, b, *a)

    monkeypatch.setattr(match_run, "_run_totals", counted)
    for size in sizes:
        monkeypatch.setattr(match_run, "FILES_BATCH", size)
        run_match(case, MatchOptions(**opts))
        assert _digests(case) == whole, f"batches of {size} files"
    assert len(batches) == len(sizes) and min(batches) > 2  # several batches each time
    assert not list(case.root.glob(".match-batches-*"))  # the spill folder removed
    return json.loads(whole[0])


@pytest.fixture(scope="module")
def many_works(tmp_path_factory, data):
    """The demo case plus each corpus file as a work of its own, and the same file in two works (their records
    in one region of a document: ranked across batches)."""
    c = Case.init(tmp_path_factory.mktemp("batches") / "case")
    import_manifest(c, str(data / "works.csv"))
    for p in sorted((data / "corpus").rglob("*.py")):
        add_work(c, "someone", str(p), p.stem)
    add_work(c, "another", str(data / "works" / "python-rsa" / "randnum.py"), "randnum again")
    add_source(c, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    return c


def test_batches_give_the_same_evidence(many_works, monkeypatch):
    report = _same_in_batches(many_works, monkeypatch, {}, (1, 2, 5))
    ranks = [r["metrics"]["region_rank"] for r in report["evidence"] if "region_rank" in r["metrics"]]
    assert any(r["of"] > 1 for r in ranks)  # works of different batches ranked in one region
    assert report["manifest"]["counts"]["copied"] >= 5


def test_batches_decide_seeds_over_all_works(many_works, monkeypatch):
    """With frequent and repeated fingerprints common (low limits), which are left out depends on every work's
    occurrences: decided over all the works, counted once, the same in batches."""
    report = _same_in_batches(many_works, monkeypatch, {"max_seed_df": 1, "max_hash_hits": 2}, (1, 3))
    seeds = report["manifest"]["seeds"]
    assert seeds["left_out_notices_only"] > 0 and seeds["left_out_repetition"] > 0
    assert seeds["frequent_fingerprints"] > 0


def test_batches_at_the_auto_level(tmp_path, data, monkeypatch):
    """An `auto` source: files prepared at two levels, a document's records ordered as one pass orders them."""
    c = Case.init(tmp_path / "case")
    add_work(c, "Austen", str(data / "books" / "works" / "pride-and-prejudice-ch1-6.txt"), "P&P 1-6")
    add_work(c, "Stüvel", str(data / "works" / "python-rsa" / "randnum.py"), "randnum")
    add_work(c, "Austen", str(data / "books" / "works" / "pride-and-prejudice-ch1-6.txt"), "P&P again")
    add_work(c, "other", str(data / "works" / "python-rsa"), "python-rsa")
    add_source(c, "mixed", "corpus", [str(data / "books" / "corpus" / "pride-and-prejudice-ch1-6.pdf"),
                                      str(data / "corpus" / "vendor" / "randnum.py")], ReadOptions(), level="auto")
    report = _same_in_batches(c, monkeypatch, {}, (1,))
    assert sum(r["copied"] for r in report["evidence"]) >= 3


def test_file_batches_keep_works_whole():
    files = [{"id": i, "work_id": w} for i, w in enumerate([3, 1, 1, 2, 2, 2, 4], 1)]
    batches = match_run.file_batches(files, 2)
    assert [[f["id"] for f in b] for b in batches] == [[2, 3], [4, 5, 6], [1, 7]]
    assert match_run.file_batches([], 2) == [[]]
    sized = [{**f, "bytes": 40} for f in files]  # and at most 100 bytes of text a batch, works whole
    assert [[f["id"] for f in b] for b in match_run.file_batches(sized, 10, 100)] == [[2, 3], [4, 5, 6], [1, 7]]
    assert [[f["id"] for f in b] for b in match_run.file_batches(sized, 10, 200)] == [[2, 3, 4, 5, 6], [1, 7]]


def test_cmi_of_a_batch(many_works):
    """A batch's CMI read for its works only equals the same files' CMI read from every row."""
    from ascertain.cmi.work import load_work_cmi
    from ascertain.store import schema

    with many_works.store.engine.connect() as c:
        files = c.execute(match_run.select(schema.work_files)).mappings().all()
        some = [f for f in files if f["work_id"] in (1, 3)]
        assert load_work_cmi(c, some, None, [1, 3]) == load_work_cmi(c, some)
    assert Path(many_works.root).exists()
