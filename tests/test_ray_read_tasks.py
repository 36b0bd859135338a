"""Reading the inputs as tasks (index/input_units.py) gives the serial stream's items, in its order: JSONL files
cut into byte ranges keep their line numbers and their skips, a folder's entries are grouped, a large JSONL
file inside a folder is cut too; keyed redaction numbers the items as the serial stream does. Run in process
and in a pool of 2 (the units' texts come back as handles the shard tasks resolve)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ascertain.engine.local import InProcess, ProcessPool
from ascertain.index.input_units import TextRef, plan_units, read_planned, resolve_texts
from ascertain.readers import ReadOptions
from ascertain.readers.base import Document
from ascertain.readers.records import line_cuts
from ascertain.sources import _planned_stream, _stream


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, data) -> list[str]:
    root = tmp_path_factory.mktemp("units")
    lines = []
    for n in range(300):
        if n % 37 == 5:
            lines.append(b"{not json")
        elif n % 41 == 7:
            lines.append(b"")
        elif n % 53 == 11:
            lines.append(json.dumps({"content": "no text field"}).encode())
        else:
            lines.append(json.dumps({"text": f"def f{n}(x):\n    return x * {n}  # record {n}\n" * (1 + n % 5),
                                     "path": f"src/m{n}.py"}).encode())
    lines.append(b"x" * 3000)  # longer than --max-doc-bytes below
    big = root / "records.jsonl"
    big.write_bytes(b"\n".join(lines) + b"\n" + json.dumps({"text": "last line, no newline"}).encode())
    folder = root / "folder"
    shutil.copytree(data / "corpus", folder / "demo")
    shutil.copy(big, folder / "inner.jsonl")
    (folder / "zz.txt").write_text("after the inner records\n")
    return [str(big), str(folder), str(data / "corpus")]


OPTS = ReadOptions(max_doc_bytes=2048)


def _resolved(items) -> list:
    out = []
    for it in items:
        if isinstance(it, Document) and isinstance(it.text, TextRef):
            it = Document(it.locator, resolve_texts([it.text])[0], it.language, it.sha256, it.meta)
        out.append(it)
    return out


def test_line_cuts_fall_on_line_starts(inputs):
    path = Path(inputs[0])
    data = path.read_bytes()
    cuts = line_cuts(path, 1000)
    assert cuts[0] == 0 and cuts[-1] == len(data) and len(cuts) > 10
    assert all(data[c - 1:c] == b"\n" for c in cuts[1:-1])
    assert cuts == sorted(set(cuts))


@pytest.mark.parametrize("kind", ["corpus", "outputs"])
def test_planned_stream_equals_serial_stream(inputs, kind):
    paths = inputs[:1] if kind == "outputs" else inputs
    serial = list(_stream(kind, paths, OPTS, None))
    ex = InProcess()
    units = plan_units(kind, paths, OPTS, ex, unit_bytes=1000)
    assert sum(u.kind == "lines" for u in units) > 20 and (kind == "outputs" or any(u.kind == "entries"
                                                                                      for u in units))
    planned = _resolved(it for _, it in read_planned(ex, units, OPTS, kind))
    assert planned == serial
    assert any(not isinstance(it, Document) for it in serial)  # the skips are there, in place


def test_keyed_redaction_numbers_items_as_the_serial_stream(inputs, monkeypatch):
    monkeypatch.setattr("ascertain.index.input_units.UNIT_BYTES", 1000)
    key = bytes(range(32))
    serial = list(_stream("corpus", inputs, OPTS, key))
    planned = _resolved(_planned_stream("corpus", inputs, OPTS, key, InProcess()))
    assert planned == serial and all(it.locator.startswith("keyed:") for it in serial)


def test_pool_reads_units_and_shard_tasks_resolve_texts(inputs):
    ex = ProcessPool(2)
    try:
        units = plan_units("corpus", inputs, OPTS, ex, unit_bytes=4000)
        planned = _resolved(it for _, it in read_planned(ex, units, OPTS, "corpus"))
    finally:
        ex.close()
    assert planned == list(_stream("corpus", inputs, OPTS, None))


class _Watching(InProcess):
    """Runs in process like InProcess but as if it had 2 workers (so inputs are read as tasks), and pickles every
    call's arguments and every shared value, as a pool or Ray would, to look for the case key in them."""

    workers = 2

    def __init__(self, secret: bytes) -> None:
        super().__init__()
        self.secret, self.calls = secret, 0

    def _check(self, *values) -> None:
        import pickle

        blob = pickle.dumps(values)
        self.calls += 1
        assert self.secret not in blob, "the case key was handed to a worker"

    def submit(self, fn, *args):
        self._check(fn.__name__, *args)
        return super().submit(fn, *args)

    def submit_split(self, fn, *args):
        self._check(fn.__name__, *args)
        return super().submit_split(fn, *args)

    def share(self, value):
        self._check(value)
        return super().share(value)


def test_keyed_add_and_match_hand_workers_no_case_key(tmp_path, data, monkeypatch):
    """A keyed `corpus add` and `match` whose every task argument and shared value is pickled and searched for
    the key's bytes: none holds it (shard tasks get two derived keys, index/shards.py ShardKey). The index equals
    the one written in one process, byte for byte."""
    from ascertain.case import Case
    from ascertain.match.run import MatchOptions, run_match
    from ascertain.sources import add_source
    from ascertain.works import import_manifest

    key = bytes(range(100, 132))
    (tmp_path / "case.key").write_bytes(key)
    monkeypatch.setattr("ascertain.index.input_units.UNIT_BYTES", 4000)
    indexes, watchers = [], []
    for name, watched in (("serial", False), ("tasks", True)):
        case = Case.init(tmp_path / name)
        import_manifest(case, str(data / "works.csv"))
        if watched:
            w = _Watching(key)
            watchers.append(w)
            monkeypatch.setattr("ascertain.sources.make_executor", lambda *a, w=w: w)
            monkeypatch.setattr("ascertain.match.run.make_executor", lambda *a, w=w: w)
        add_source(case, "secret", "corpus", [str(data / "corpus")], ReadOptions(), key_file=str(tmp_path / "case.key"))
        run_match(case, MatchOptions(key_file=str(tmp_path / "case.key")))
        folder = case.root / "index" / "secret"
        indexes.append({p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()})
        assert b'"byte_identical":true' in (case.root / "reports" / "evidence.json").read_bytes()
    assert indexes[0] == indexes[1]
    assert watchers[0].calls > 5  # reading, shards, partitions and match chunks all went through it


def _paths_in(value, seen=None) -> set[str]:
    """Every absolute path named in a task's arguments (strings and Paths, inside containers and dataclasses)."""
    import dataclasses

    seen = seen if seen is not None else set()
    if id(value) in seen:
        return set()
    seen.add(id(value))
    if isinstance(value, Path):
        return {str(value)}
    if isinstance(value, str):
        return {value.split(":")[0]} if value.startswith("/") else set()
    if isinstance(value, dict):
        return set().union(*(_paths_in(v, seen) for v in value.values()), set())
    if isinstance(value, list | tuple | set | frozenset):
        return set().union(*(_paths_in(v, seen) for v in value), set())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return set().union(*(_paths_in(getattr(value, f.name), seen) for f in dataclasses.fields(value)), set())
    return set()


class _PathWatching(_Watching):
    def __init__(self) -> None:
        super().__init__(b"\0" * 32)
        self.paths: set[str] = set()

    def _check(self, *values) -> None:
        self.calls += 1
        self.paths |= _paths_in(values)


def test_tasks_are_given_only_case_folder_and_input_paths(tmp_path, data, inputs, monkeypatch):
    """Nodes on separate machines share the case folder and the inputs, nothing else: every path a `corpus add`
    or `match` task is handed lies in the case folder, the inputs or the works."""
    from ascertain.case import Case
    from ascertain.match.run import MatchOptions, run_match
    from ascertain.sources import add_source
    from ascertain.works import import_manifest

    monkeypatch.setattr("ascertain.index.input_units.UNIT_BYTES", 4000)
    w = _PathWatching()
    monkeypatch.setattr("ascertain.sources.make_executor", lambda *a: w)
    monkeypatch.setattr("ascertain.match.run.make_executor", lambda *a: w)
    case = Case.init(tmp_path / "case")
    import_manifest(case, str(data / "works.csv"))
    add_source(case, "c", "corpus", inputs[:2], ReadOptions())
    run_match(case, MatchOptions())
    roots = [case.root, *map(Path, inputs[:2]), data]
    assert w.calls > 10 and any(Path(p).is_relative_to(case.root) for p in w.paths)
    assert [p for p in w.paths if not any(Path(p).is_relative_to(r) for r in roots)] == []


def test_ray_address_without_the_ray_engine_is_refused(tmp_path, data):
    from typer.testing import CliRunner

    from ascertain.case import Case
    from ascertain.cli import app

    case = str(Case.init(tmp_path / "case").root)
    for cmd in (["corpus", "add", case, "c", str(data / "corpus")], ["match", case]):
        r = CliRunner().invoke(app, [*cmd, "--ray-address", "127.0.0.1:6379"])
        assert r.exit_code != 0 and "--ray-address" in r.output and "--engine ray" in r.output, r.output
    assert not (tmp_path / "case" / "index" / "c").exists()
