"""The engines give the same bytes: `corpus add` in one process, in a pool of 2 processes and on a real local
Ray instance (2 CPUs) write identical index files, `match` over each index writes an identical report and
stores identical evidence, and so does `match --processes 2` / `--engine ray` (its documents measured by the
workers). In CI (CI_REQUIRE_RAY=1, .ci/run) a missing Ray fails instead of skipping."""

from __future__ import annotations

import functools
import os
import shutil
import sysconfig
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.index import partitions, shards
from ascertain.match import run as match_run
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.sources import add_source
from ascertain.store import schema
from ascertain.works import import_manifest

ENGINES = {"local": ("local", None), "processes-2": ("local", 2), "ray": ("ray", 2)}


@pytest.fixture(scope="session")
def ray_cluster():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only (read when ray is imported)
    try:
        import ray
    except ImportError:
        if os.environ.get("CI_REQUIRE_RAY") == "1":
            pytest.fail("CI_REQUIRE_RAY=1 but ray is not installed (the scale extra, part of dev)")
        pytest.skip('ray is not installed: pip install "ray[data]==2.60.0"')
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, data) -> Path:
    """The demo corpus plus a real package of the standard library (several shards of 64 KB, below)."""
    root = tmp_path_factory.mktemp("engine-corpus")
    shutil.copytree(data / "corpus", root / "demo")
    shutil.copytree(Path(sysconfig.get_paths()["stdlib"]) / "email", root / "email",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="session")
def cases(tmp_path_factory, data, corpus, ray_cluster) -> dict[str, Path]:
    """One case per engine, each with the same corpus added and the same works matched."""
    mp = pytest.MonkeyPatch()
    mp.setattr(partitions, "PARTITION_ROWS", 5_000)  # several lookup-table partitions, sorted by the workers
    # batches of 16 KB, shards of 64 KB: several shards in flight at once
    mp.setattr("ascertain.sources.IndexWriter", functools.partial(shards.IndexWriter, batch_bytes=16 << 10))
    out = {}
    try:
        for name, (engine, processes) in ENGINES.items():
            case = Case.init(tmp_path_factory.mktemp("case") / name)
            import_manifest(case, str(data / "works.csv"))
            summary = add_source(case, "corpus", "corpus", [str(corpus)], ReadOptions(), shard_bytes=64 << 10,
                                 engine=engine, processes=processes)
            assert summary["shards"] >= 4
            run_match(case, MatchOptions())
            out[name] = case.root
    finally:
        mp.undo()
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "cache" not in p.relative_to(folder).parts}


def _stored_evidence(root: Path) -> list[tuple]:
    case = Case.open(root)
    cols = [c for c in schema.evidence.c if c.name not in ("id", "run_id")]
    with case.store.engine.connect() as c:
        return [tuple(r) for r in c.execute(select(*cols).order_by(schema.evidence.c.id))]


def test_engines_write_identical_indexes(cases):
    local = _files(cases["local"] / "index" / "corpus")
    assert sum(n.startswith("lk-fp-") for n in local) >= 2 and sum(n.startswith("docs-") for n in local) >= 4
    for name in ("processes-2", "ray"):
        assert _files(cases[name] / "index" / "corpus") == local, name


def test_engines_give_identical_evidence(cases):
    report = (cases["local"] / "reports" / "evidence.json").read_bytes()
    stored = _stored_evidence(cases["local"])
    assert any(r[5] for r in stored)  # `copied` records: the demo's planted copies were found
    for name in ("processes-2", "ray"):
        assert (cases[name] / "reports" / "evidence.json").read_bytes() == report, name
        assert _stored_evidence(cases[name]) == stored, name


def test_match_on_each_engine_gives_identical_evidence(cases, monkeypatch):
    """The same index matched again by the process pool and by Ray, from a cold CMI cache (several workers
    write it at once): the report's bytes and the stored rows equal the in-process run's."""
    report = (cases["local"] / "reports" / "evidence.json").read_bytes()
    stored = _stored_evidence(cases["local"])
    with Case.open(cases["local"]).store.engine.connect() as c:
        matched = len({r.doc_id for r in c.execute(select(schema.evidence.c.doc_id))})
    monkeypatch.setattr(match_run, "CHUNK_DOCS", 2)  # many chunks: both workers get some, out of order
    assert matched >= 6
    for name, options in (("processes-2", ["--processes", "2"]), ("ray", ["--engine", "ray", "--processes", "2"])):
        root = cases[name]
        shutil.rmtree(root / "index" / "corpus" / "cache", ignore_errors=True)
        r = CliRunner().invoke(app, ["match", str(root), "--json", *options])
        assert r.exit_code == 0, r.output
        assert (root / "reports" / "evidence.json").read_bytes() == report, name
        assert _stored_evidence(root) == stored, name
        assert (root / "index" / "corpus" / "cache" / "cmi.sqlite").exists()  # the workers' scans were kept


def test_keyed_match_on_each_engine_gives_identical_evidence(tmp_path, data, ray_cluster, monkeypatch):
    """A keyed (text-less) index: the workers compare the works' keyed digests without being sent the key."""
    key = tmp_path / "case.key"
    key.write_bytes(bytes(range(32)))
    case = Case.init(tmp_path / "case")
    import_manifest(case, str(data / "works.csv"))
    add_source(case, "secret", "corpus", [str(data / "corpus")], ReadOptions(), key_file=str(key))
    monkeypatch.setattr(match_run, "CHUNK_DOCS", 1)
    reports, stored = [], []
    for options in ([], ["--processes", "2"], ["--engine", "ray", "--processes", "2"]):
        r = CliRunner().invoke(app, ["match", str(case.root), "--key-file", str(key), "--json", *options])
        assert r.exit_code == 0, r.output
        reports.append((case.root / "reports" / "evidence.json").read_bytes())
        stored.append(_stored_evidence(case.root))
    assert b'"byte_identical":true' in reports[0] and any(row[5] for row in stored[0])
    assert reports[1] == reports[0] == reports[2] and stored[1] == stored[0] == stored[2]


def test_bad_engine_options_are_refused_before_anything_is_recorded(tmp_path, corpus):
    case = Case.init(tmp_path / "case")
    for engine, processes, named in (("local", 0, "--processes"), ("spark", None, "--engine")):
        with pytest.raises(AscertainError) as e:
            add_source(case, "c", "corpus", [str(corpus)], ReadOptions(), engine=engine, processes=processes)
        assert e.value.what == named
    with case.store.engine.connect() as c:
        assert c.execute(select(schema.sources)).first() is None
    r = CliRunner().invoke(app, ["corpus", "add", str(tmp_path / "case"), "c", str(corpus), "--processes", "0"])
    assert r.exit_code != 0 and "--processes" in r.output and "1 or more" in r.output
    for options, named in ((["--processes", "0"], "1 or more"), (["--engine", "spark"], "unknown engine")):
        r = CliRunner().invoke(app, ["match", str(tmp_path / "case"), *options])
        assert r.exit_code != 0 and named in r.output, r.output
    with pytest.raises(AscertainError) as e:
        run_match(case, MatchOptions(processes=0))
    assert e.value.what == "--processes"
