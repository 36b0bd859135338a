"""Latency of the public lookup under load: 100 concurrent lookups by title and by a 10 KB file.

    python3 benchmarks/report.py --corpus-mb 200     # once: builds benchmarks/.work/case (1,000 works, 200 MB)
    python3 benchmarks/web_load.py [--case benchmarks/.work/case] [--concurrency 100] [--rounds 3]

The case is copied (its store; the index hard-linked) so the benchmark's users never enter it. `ascertain serve`
runs in its own process (uvicorn, one worker) with the rate limit raised for the run; an httpx async client
sends `--concurrency` requests at once, `--rounds` times, as a `public` user with an API token, on loopback.
Reported: p50/p95/p99 latency of every request, errors, requests/s; and the first file lookup alone, which
prepares the case's work files once for the process. Writes the `web-load` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
from ascertain.report.doc_sections import write_section  # noqa: E402

ASC = [sys.executable, "-m", "ascertain"]
FILE_BYTES = 10_000


def copy_case(case: Path, to: Path) -> Path:
    """The store and case.json copied, the index and reports hard-linked (they are only read)."""
    to.mkdir(parents=True)
    for p in case.iterdir():
        if p.is_dir():
            shutil.copytree(p, to / p.name, copy_function=os.link)
        else:
            shutil.copy2(p, to / p.name)
    return to


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def public_token(case: Path) -> str:
    run = lambda *a: subprocess.run(ASC + list(a), check=True, capture_output=True, text=True).stdout  # noqa: E731
    run("users", "add", str(case), "load-public", "--role", "public", "--no-password")
    return run("users", "token", str(case), "load-public").strip()


def work_titles_and_files(case: Path, n: int) -> tuple[list[str], list[bytes]]:
    import sqlite3

    with sqlite3.connect(case / "store.sqlite") as c:
        titles = [t for (t,) in c.execute("SELECT title FROM works ORDER BY id")]
        texts = [t for (t,) in c.execute("SELECT text FROM work_files WHERE length(text) >= ? ORDER BY id",
                                         (FILE_BYTES,))]
    files = [t.encode()[:FILE_BYTES] for t in texts[:n]]
    return [titles[i * len(titles) // n] for i in range(n)], files


async def burst(base: str, token: str, make_request, n: int) -> tuple[list[float], int]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=300) as client:
        async def one(i: int) -> tuple[float, bool]:
            t0 = time.perf_counter()
            r = await make_request(client, i)
            return time.perf_counter() - t0, r.status_code == 200
        done = await asyncio.gather(*(one(i) for i in range(n)))
    return [t for t, _ in done], sum(not ok for _, ok in done)


def row(name: str, lat: list[float], errors: int, wall: float) -> str:
    ms = np.percentile(np.array(lat) * 1000, [50, 95, 99])
    return (f"| {name} | {len(lat)} | {ms[0]:,.0f} | {ms[1]:,.0f} | {ms[2]:,.0f} | {errors} | "
            f"{len(lat) / wall:,.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", type=Path, default=HERE / ".work" / "case")
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--docs", type=Path, default=HERE.parent / "docs" / "benchmarks.md")
    a = ap.parse_args()
    if not (a.case / "case.json").exists():
        raise SystemExit(f"{a.case} is not a case: build it with `python3 benchmarks/report.py --corpus-mb 200`")
    with tempfile.TemporaryDirectory(dir=HERE / ".work") as tmp:
        case = copy_case(a.case, Path(tmp) / "case")
        token, port = public_token(case), free_port()
        titles, files = work_titles_and_files(case, a.concurrency)
        server = subprocess.Popen(ASC + ["serve", str(case), "--port", str(port), "--lookups-per-minute", "1000000"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    httpx.get(base + "/api/lookup?q=x", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            h = {"Authorization": f"Bearer {token}"}
            t0 = time.perf_counter()
            first = httpx.post(base + "/api/lookup", files={"file": ("w.txt", files[0])}, headers=h, timeout=600)
            first_s = time.perf_counter() - t0
            assert first.status_code == 200, first.text
            rows = []
            kinds = {
                "title": lambda c, i: c.get("/api/lookup", params={"q": titles[i]}),
                f"file ({FILE_BYTES // 1000} KB)": lambda c, i: c.post(
                    "/api/lookup", files={"file": (f"w{i}.txt", files[i % len(files)])}),
            }
            for name, make in kinds.items():
                lat, errors, wall = [], 0, 0.0
                for _ in range(a.rounds):
                    t0 = time.perf_counter()
                    l_, e = asyncio.run(burst(base, token, make, a.concurrency))
                    wall += time.perf_counter() - t0
                    lat += l_
                    errors += e
                rows.append(row(name, lat, errors, wall))
        finally:
            server.terminate()
            server.wait(10)
    cmd = f"python3 benchmarks/web_load.py --concurrency {a.concurrency} --rounds {a.rounds}"
    body = "\n".join([
        "## Web lookup under load (`ascertain serve`, SQLite)", "",
        f"Command: `{cmd}` on benchmarks/report.py's 200 MB case (1,000 works; built by "
        "`python3 benchmarks/report.py --corpus-mb 200`). One uvicorn worker on loopback; "
        f"{a.concurrency} requests sent at once by an httpx async client, {a.rounds} times; a `public` user with an "
        "API token. Latency is from sending to the whole answer.", "",
        "| lookup | requests | p50 ms | p95 ms | p99 ms | errors | requests/s |",
        "|---|---|---|---|---|---|---|", *rows, "",
        f"The first file lookup of a process prepares the case's work files once: {first_s:.1f} s here.", ""])
    print(body)
    write_section(a.docs, "web-load", body)


if __name__ == "__main__":
    main()
