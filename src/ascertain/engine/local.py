"""The local engine: in this process, or a process pool on this machine (`--processes N`)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ascertain.engine import Shared, StageTimes, timed, timed_split


class InProcess:
    """Runs each call at submit: the single-process engine, with no pickling and no extra memory."""

    name, workers = "local", 1

    def __init__(self) -> None:
        self.times = StageTimes()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return timed(fn, *args)

    def result(self, handle: Any) -> Any:
        value, meta = handle
        self.times.add(meta)
        return value

    def share(self, value: Any) -> Shared:
        return Shared(uuid.uuid4().hex, value=value)

    def submit_split(self, fn: Callable[..., Any], *args: Any) -> Any:
        return timed_split(fn, *args)

    def result_split(self, handle: Any) -> tuple[Any, Shared]:
        (small, meta), large = handle
        self.times.add(meta)
        return small, Shared(uuid.uuid4().hex, value=large)

    def stage_times(self) -> dict[str, dict]:
        return self.times.report()

    def close(self) -> None:
        pass


class ProcessPool:
    """N worker processes. forkserver, not fork: the parent may hold threads (DuckDB, SQLite) that a forked
    child would inherit in a locked state; the server preloads the stage modules once."""

    name = "local"

    def __init__(self, processes: int) -> None:
        self.workers = processes
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["ascertain.index.shards", "ascertain.match.measure_docs"])
        self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=ctx)
        self._shared_dir: str | None = None
        self.times = StageTimes()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.pool.submit(timed, fn, *args)

    def result(self, handle: Future) -> Any:
        value, meta = handle.result()
        self.times.add(meta)
        return value

    def submit_split(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.pool.submit(timed_split, fn, *args)

    def result_split(self, handle: Future) -> tuple[Any, Shared]:
        """Both parts come back through this process (a pool shares no memory): the large part goes on to the
        calls that read it as their argument."""
        (small, meta), large = handle.result()
        self.times.add(meta)
        return small, Shared(uuid.uuid4().hex, value=large)

    def stage_times(self) -> dict[str, dict]:
        return self.times.report()

    def share(self, value: Any) -> Shared:
        """Pickled once to a private temporary file; each worker reads it at its first call that needs it."""
        if self._shared_dir is None:
            self._shared_dir = tempfile.mkdtemp(prefix="ascertain-shared-")
        token = uuid.uuid4().hex
        path = os.path.join(self._shared_dir, token + ".pickle")
        with open(path, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return Shared(token, path=path)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._shared_dir is not None:
            shutil.rmtree(self._shared_dir, ignore_errors=True)
