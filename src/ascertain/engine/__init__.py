"""Executors for the stages' pure functions over batches: the only seam between one process, a process pool
on one machine and a Ray cluster.

A stage (fingerprinting a batch of documents, sorting one partition of a lookup table, reading one partition
for a set of hashes) is a module-level function of plain data. It is handed to an executor's `submit`, which
returns a handle; `result(handle)` gives its value. The caller keeps the handles in its own order, so the
results are assembled in the same order whichever engine ran them and the output is byte-identical.

    local  (processes 1)  the call runs at `submit`, in this process
    local  (processes N)  a concurrent.futures process pool of N workers (forkserver: no inherited threads)
    ray                   Ray tasks (ray_engine.py): a local Ray instance of N CPUs, or the cluster at
                          --ray-address / RAY_ADDRESS

A call whose value is (small, large) can be submitted with `submit_split`: `result_split` gives the small part
and a `Shared` handle on the large one, which other calls read with `shared_value` (on Ray the large part stays
in the object store of the node that made it and never passes through the driver; reading the inputs uses it).

A large read-only value every call needs (match's prepared context) goes through `share` once: the calls get a
small `Shared` handle and read the value with `shared_value` (the object itself in process, a pickle file for
the pool, a Ray object for Ray), so it is not pickled again with every call.
"""

from __future__ import annotations

import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ascertain.errors import AscertainError

ENGINES = ("local", "ray")


class Executor(Protocol):
    name: str
    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any: ...

    def result(self, handle: Any) -> Any: ...

    def share(self, value: Any) -> Shared: ...

    def submit_split(self, fn: Callable[..., Any], *args: Any) -> Any: ...

    def result_split(self, handle: Any) -> tuple[Any, Shared]: ...

    def stage_times(self) -> dict[str, dict]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Shared:
    """A handle on a value put once where the workers can read it; `token` names it for the workers' caches."""

    token: str
    value: Any = None  # in process: the object itself (never pickled)
    path: str | None = None  # process pool: a pickle file the workers read
    ref: Any = None  # Ray: an object ref, nested so that a task is not handed a fresh copy each call


Timing = tuple[str, str, float, float]  # stage function, node, wall seconds, CPU seconds of the call


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, Timing]:
    """fn(*args), and (its name, the node it ran on, its wall and CPU seconds): what an executor submits."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn(*args)
    return value, (fn.__name__, node_name(), time.perf_counter() - t0, time.process_time() - c0)


def timed_split(fn: Callable[..., Any], *args: Any) -> tuple[tuple[Any, Timing], Any]:
    """timed for a call whose value is (small, large): the timing travels with the small part."""
    t0, c0 = time.perf_counter(), time.process_time()
    small, large = fn(*args)
    return (small, (fn.__name__, node_name(), time.perf_counter() - t0, time.process_time() - c0)), large


def node_name() -> str:
    """The Ray node this process runs on (its id), or `local`."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return ray.get_runtime_context().get_node_id()
    return "local"


class StageTimes:
    """Calls, seconds and nodes per stage function, as an executor's calls finish (a run's "where the time
    goes": it names no input and holds nothing of the case)."""

    def __init__(self) -> None:
        self.stages: dict[str, list] = {}

    def add(self, meta: Timing) -> None:
        name, node, seconds, cpu = meta
        entry = self.stages.setdefault(name, [0, 0.0, 0.0, set()])
        entry[0] += 1
        entry[1] += seconds
        entry[2] += cpu
        entry[3].add(node)

    def report(self) -> dict[str, dict]:
        return {name: {"calls": n, "seconds": round(s, 3), "cpu_seconds": round(c, 3), "nodes": len(nodes)}
                for name, (n, s, c, nodes) in sorted(self.stages.items())}


def shared_value(s: Shared) -> Any:
    """The value behind a handle (a worker reads it once per token and keeps what it derives from it)."""
    if s.path is not None:
        with open(s.path, "rb") as fh:
            return pickle.load(fh)
    if s.ref is not None:
        import ray

        return ray.get(s.ref)
    return s.value


def ordered_map(ex: Executor, fn: Callable[..., Any], items: Iterable[tuple], window: int | None = None
                ) -> Iterator[Any]:
    """fn(*item) for each item, in the items' order, with at most `window` calls in flight (2 per worker)."""
    window = window or 2 * ex.workers
    pending: list[Any] = []
    for args in items:
        pending.append(ex.submit(fn, *args))
        if len(pending) >= window:
            yield ex.result(pending.pop(0))
    for h in pending:
        yield ex.result(h)


def check_engine(engine: str = "local", processes: int | None = None, address: str | None = None) -> None:
    """Refuse an unknown engine, a number of processes below 1, a cluster address without Ray, or Ray when it
    is not installed."""
    if address is not None and engine != "ray":
        raise AscertainError("--ray-address", f"given with --engine {engine}",
                             "add --engine ray to run on that cluster, or drop --ray-address")
    if address is not None and not address.strip():
        raise AscertainError("--ray-address", "is empty", "give the head node's HOST:PORT (e.g. 10.0.0.5:6379)")
    if engine not in ENGINES:
        raise AscertainError("--engine", f"unknown engine {engine!r}", f"choose one of {', '.join(ENGINES)}")
    if processes is not None and (not isinstance(processes, int) or processes < 1):
        raise AscertainError("--processes", f"{processes!r} is not a number of processes",
                             "pass a whole number of 1 or more (e.g. --processes 2 on a 2-core machine)")
    if engine == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise AscertainError("--engine ray", "Ray is not installed",
                                 'install the scale extra: pip install "ascertain[scale]" '
                                 '(or pip install "ray[data]==2.60.0"), or use --engine local')


def make_executor(engine: str = "local", processes: int | None = None, address: str | None = None) -> Executor:
    """The executor for `--engine` / `--processes` / `--ray-address`; bad values are refused with the fix."""
    check_engine(engine, processes, address)
    if engine == "ray":
        from ascertain.engine.ray_engine import RayExecutor

        return RayExecutor(processes, address)
    from ascertain.engine.local import InProcess, ProcessPool

    return InProcess() if (processes or 1) == 1 else ProcessPool(processes)
