"""The CMI scans cached in the index folder equal fresh scans, on real documents and installed licence files."""

from __future__ import annotations

from pathlib import Path

from ascertain.cmi.cache import ScanCache
from ascertain.cmi.scan import scan_text


def _sample(data: Path) -> list[Path]:
    demo = sorted(p for p in (data / "corpus").rglob("*") if p.is_file())
    licences = sorted(Path("/usr/share/doc").glob("*/copyright"))[:40]
    return demo + licences


def test_cached_scans_equal_fresh_ones(tmp_path, data):
    files = _sample(data)
    assert len(files) > 20
    texts = [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in files]
    first = ScanCache(tmp_path)
    fresh = [first.scan(loc, text, "") for loc, text in texts]
    first.close()
    assert first.misses == len({(loc, text) for loc, text in texts})
    again = ScanCache(tmp_path)
    cached = [again.scan(loc, text, "") for loc, text in texts]
    again.close()
    assert again.hits == len(texts) and again.misses == 0
    assert cached == fresh == [scan_text(loc, text, "") for loc, text in texts]
    assert any(r["licenses"] for r in cached)  # the sample holds licences to find


def test_another_locator_is_another_entry(tmp_path, data):
    text = (data / "works" / "python-rsa" / "randnum.py").read_text()
    c = ScanCache(tmp_path)
    c.scan("a/randnum.py", text, "python")
    c.scan("b/randnum.py", text, "python")
    assert c.misses == 2
    c.close()


def test_workers_write_their_own_parts_and_the_driver_merges(tmp_path, data):
    """No shared-memory WAL file: each process writes its own part file (rollback journal), the run's driver
    merges the run's parts into the cache (safe on a network filesystem shared by the nodes)."""
    import sqlite3

    from ascertain.cmi.cache import FILE, leftover_parts, merge_parts

    texts = [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in _sample(data)[:6]]
    worker = ScanCache(tmp_path, run="run1")
    fresh = [worker.scan(loc, text, "") for loc, text in texts]
    worker.close(merge=False)  # a worker: its scans wait in its part file
    assert not (tmp_path / FILE).exists() and len(leftover_parts(tmp_path)) == 1
    assert merge_parts(tmp_path, "run2") == 0  # another run's parts are never touched
    assert merge_parts(tmp_path, "run1") == 1 and not leftover_parts(tmp_path)
    names = {p.name for p in (tmp_path / FILE).parent.iterdir()}
    assert names == {"cmi.sqlite"}, names  # no -wal / -shm file beside it
    db = sqlite3.connect(tmp_path / FILE)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()
    reader = ScanCache(tmp_path, run="run3")
    assert [reader.scan(loc, text, "") for loc, text in texts] == fresh
    assert reader.hits == len(texts) and reader.misses == 0
    reader.close()
