"""The local engine: in this process, or a process pool on this machine (`--processes N`)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


class InProcess:
    """Runs each call at submit: the single-process engine, with no pickling and no extra memory."""

    name, workers = "local", 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def result(self, handle: Any) -> Any:
        return handle

    def close(self) -> None:
        pass


class ProcessPool:
    """N worker processes. forkserver, not fork: the parent may hold threads (DuckDB, SQLite) that a forked
    child would inherit in a locked state; the server preloads the stage modules once."""

    name = "local"

    def __init__(self, processes: int) -> None:
        self.workers = processes
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["ascertain.index.shards"])
        self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=ctx)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.pool.submit(fn, *args)

    def result(self, handle: Future) -> Any:
        return handle.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
