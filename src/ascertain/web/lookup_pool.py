"""File lookups of the web app, done in worker processes with bounded work (issue 26, item 1).

An uploaded file is read and compared in a separate process: the CPU it costs never holds the web process's
event loop or its GIL, so pages keep answering while lookups run. Each upload is bounded:
  - what it may be: plain text, PDF, EPUB or HTML (archives, compressed files and record files are refused:
    a lookup is of one work, and expanding containers is where a small upload becomes a large job);
  - what it may become: UPLOAD_READ caps the text (after any decompression), EPUB output, PDF pages and the
    markup's tags (readers/html.py);
  - how long it may take: `seconds` of wall time, enforced inside the worker (a timer that interrupts the
    reading or comparing), and by the web process (a worker that does not answer in time is replaced);
  - how many run: `workers` at once and `queue` waiting; beyond that the request is refused with 503;
    a client runs one upload at a time (web/upload_guard.py).
The worker prepares the case's work files before its timer starts, so the budget is the upload's alone.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.readers.archives import is_archive
from ascertain.readers.base import ReadOptions
from ascertain.readers.records import is_jsonl, is_parquet

WORKERS = 2
QUEUE = 128  # waiting lookups cost the web process only a connection; past this, 503
SECONDS = 20.0
GRACE = 60.0  # past the worker's own timer (and its start-up): a worker stuck in C code is replaced
UPLOAD_READ = ReadOptions(expand_containers=False, max_doc_bytes=4 * 1024 * 1024,
                          max_expanded_bytes=16 * 1024 * 1024, min_bomb_bytes=16 * 1024 * 1024,
                          max_archive_members=1, max_markup_tags=200_000, max_pdf_pages=300)
_REFUSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zstd", ".lz4", ".7z", ".rar", ".z")


class Busy(Exception):
    """Every worker is busy and the queue is full."""


def refused_kind(filename: str) -> str | None:
    """Why an upload of this name is not looked up (None: it is)."""
    p = Path(filename)
    if is_archive(p) or p.name.lower().endswith(_REFUSED_SUFFIXES):
        return "archives and compressed files are not looked up"
    if is_jsonl(p) or is_parquet(p):
        return "record files (JSONL, Parquet) are not looked up"
    return None


class _OutOfTime(Exception):
    pass


_CASE = None


def _start(case_root: str) -> None:
    global _CASE
    from ascertain.case import Case

    _CASE = Case.open(Path(case_root))


def _on_alarm(signum, frame) -> None:  # noqa: ARG001
    raise _OutOfTime


def _work(path: str, seconds: float) -> dict:
    """In the worker: the lookup of one file, interrupted after `seconds`."""
    from ascertain.classes.lookup import lookup, prepare_work_files

    prepare_work_files(_CASE)  # the case's own files: prepared once per worker, outside the upload's budget
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return lookup(_CASE, None, path, read=UPLOAD_READ)
    except _OutOfTime:
        raise AscertainError(path, f"took more than {seconds:g} seconds to read and compare",
                             "look up a plain-text copy of the work, or a shorter extract of it") from None
    except RecursionError:
        raise AscertainError(path, "is nested too deeply to read", "look up a plain-text copy of the work"
                             ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _work_image(path: str, seconds: float) -> dict:
    """In the worker: the lookup of one uploaded image, interrupted after `seconds` (web/image_lookup.py)."""
    from ascertain.web.image_lookup import case_images, lookup_image_file

    case_images(_CASE)  # the case's images: prepared once per worker and state, outside the upload's budget
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return lookup_image_file(_CASE, path)
    except _OutOfTime:
        raise AscertainError(path, f"took more than {seconds:g} seconds to decode and compare",
                             "upload a smaller copy of the image") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


class LookupPool:
    def __init__(self, case_root: Path, workers: int = WORKERS, queue: int = QUEUE, seconds: float = SECONDS
                 ) -> None:
        self.case_root, self.workers, self.seconds = str(case_root), workers, seconds
        self.capacity = workers + queue
        self.in_flight = 0
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:  # spawn: the web process has threads, which fork would copy half-way
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start, initargs=(self.case_root,))
        return self._executor

    def _replace(self) -> None:
        """Drop the pool whose worker did not answer; its processes are ended, a new pool starts on demand."""
        ex, self._executor = self._executor, None
        if ex is None:
            return
        for p in list((getattr(ex, "_processes", None) or {}).values()):
            p.kill()
        ex.shutdown(wait=False, cancel_futures=True)

    async def lookup(self, path: str) -> dict:
        return await self._run(_work, path)

    async def lookup_image(self, path: str) -> dict:
        return await self._run(_work_image, path)

    async def _run(self, work, path: str) -> dict:
        if self.in_flight >= self.capacity:
            raise Busy
        self.in_flight += 1
        try:
            fut = asyncio.get_running_loop().run_in_executor(self._pool(), work, path, self.seconds)
            return await asyncio.wait_for(fut, self.seconds + GRACE)
        except (TimeoutError, BrokenProcessPool):
            self._replace()
            raise AscertainError(path, f"took more than {self.seconds:g} seconds to read and compare",
                                 "look up a plain-text copy of the work, or a shorter extract of it") from None
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
