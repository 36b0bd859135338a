"""Latency of the public lookup under load: 100 concurrent clients on loopback against `ascertain serve`.

    python3 benchmarks/web_load.py [--case benchmarks/.work/case] [--backends sqlite,postgres]
                                   [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                   [--clients 100] [--rounds 5] [--workers 2]

The case defaults to the 200 MB benchmark case (benchmarks/report.py --corpus-mb 200 builds it: 1,000 works,
21,246 corpus documents). For PostgreSQL the case is copied to a new database (every table, row for row) beside
a copy of its folder. The server runs in its own processes (`ascertain serve --workers N`); the load comes
from one httpx asyncio client process: `--clients` tasks at once, each making `--rounds` title lookups (a
work's title, an ISBN-like miss, a title with a typo), then each making one file lookup of a 10 KB file (half
taken from works, half from held-out files). Latency = request sent to response read, per request. Writes a
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
from ascertain.report.doc_sections import write_section  # noqa: E402
from ascertain.store import schema  # noqa: E402

WORK = HERE / ".work"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_copy(case: Path, admin_url: str) -> Path:
    """The case folder copied beside itself, its store copied into a new PostgreSQL database."""
    dest = case.parent / f"{case.name}-postgres"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(case, dest, copy_function=os.link, ignore=shutil.ignore_patterns("store.sqlite*"))
    name = "ascertain_web_load"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    src, dst = sa.create_engine(f"sqlite:///{case / 'store.sqlite'}"), sa.create_engine(url)
    schema.metadata.create_all(dst)
    with src.connect() as r, dst.begin() as w:
        for table in schema.metadata.sorted_tables:
            rows = [dict(x) for x in r.execute(sa.select(table)).mappings()]
            for i in range(0, len(rows), 5000):
                w.execute(sa.insert(table), rows[i:i + 5000])
            if "id" in table.c and rows:
                w.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"(SELECT max(id) FROM {table.name}))"))
    cfg = json.loads((dest / "case.json").read_text())
    cfg["store_url"] = url
    (dest / "case.json").unlink()  # a hard link to the original's: never write through it
    (dest / "case.json").write_text(json.dumps(cfg, indent=2) + "\n")
    return dest


def _isbn13(n: int) -> str:
    """A well-formed ISBN-13 (978 prefix, right check digit) that no work of the case has."""
    digits = f"978{n:09d}"
    check = (10 - sum(int(d) * (1 if k % 2 == 0 else 3) for k, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


def queries(case: Path, n: int) -> tuple[list[str], list[tuple[str, bytes]]]:
    with sa.create_engine(f"sqlite:///{case / 'store.sqlite'}").connect() as c:
        titles = [t for (t,) in c.execute(sa.select(schema.works.c.title).order_by(schema.works.c.id))]
        files = [p for (p,) in c.execute(sa.select(schema.work_files.c.path).order_by(schema.work_files.c.id))]
    rng = np.random.default_rng(0)
    qs = []
    for i in range(n):
        t = titles[int(rng.integers(len(titles)))]
        qs.append(t if i % 3 == 0 else _isbn13(int(rng.integers(10**9))) if i % 3 == 1 else t[:-1] + "x")
    tenk = []
    holdout = sorted((HERE / ".data").glob("holdout-*MB"))
    pool = [Path(p) for p in files] + ([*sorted(holdout[0].rglob("*"))] if holdout else [])
    for p in pool:
        if p.is_file():
            data = p.read_bytes()
            if len(data) >= 10_000:
                tenk.append((p.name, data[:10_000]))
    works_part, rest = tenk[: len(files)], tenk[len(files):]
    picked = [works_part[i % len(works_part)] if i % 2 == 0 or not rest else rest[i % len(rest)] for i in range(n)]
    return qs, picked


async def load(port: int, clients: int, rounds: int, qs: list[str], files: list[tuple[str, bytes]]) -> dict:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    client: httpx.AsyncClient  # one a phase, made below (the closures read it when they run)
    async def one(kind: str, **kw) -> tuple[str, float, int]:
        t = time.perf_counter()
        try:
            r = await (client.get("/api/lookup", **kw) if kind == "title" else client.post("/api/lookup", **kw))
            code = r.status_code
        except httpx.HTTPError:
            code = -1
        return kind, time.perf_counter() - t, code

    async def title_client(i: int) -> list:
        return [await one("title", params={"q": qs[(i * rounds + j) % len(qs)]}) for j in range(rounds)]

    async def file_client(i: int) -> list:
        """One client address each (127.0.0.2, ...): the server runs one upload at a time per client."""
        name, data = files[i % len(files)]
        t = time.perf_counter()
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{1 + (i + 1) // 250}.{1 + (i + 1) % 250}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=transport,
                                     timeout=httpx.Timeout(300.0)) as own:
            try:
                code = (await own.post("/api/lookup", files={"file": (name, data)})).status_code
            except httpx.HTTPError:
                code = -1
        return [("file", time.perf_counter() - t, code)]

    async def alone(kind: str) -> list:  # one client, one request at a time: a lookup's own latency
        if kind == "title":
            return [await one("title", params={"q": q}) for q in qs[:100]]
        return [await one("file", files={"file": f}) for f in files[:20]]

    async def concurrent(fn) -> list:
        return [x for xs in await asyncio.gather(*(fn(i) for i in range(clients))) for x in xs]

    results: dict[str, list] = {}
    for kind, run in (("title alone", lambda: alone("title")), ("file alone", lambda: alone("file")),
                      ("title", lambda: concurrent(title_client)), ("file", lambda: concurrent(file_client))):
        # a fresh pool each phase: the server closes connections idle for 5 s, and reusing one as it closes
        # fails on the client's side, not the server's
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                     timeout=httpx.Timeout(300.0)) as client:
            t0 = time.perf_counter()
            got = await run()
            wall = time.perf_counter() - t0
        lat = np.array([s for _, s, c in got if c == 200]) * 1000
        results[kind] = {"requests": len(got), "errors": sum(c != 200 for _, _, c in got),
                         "codes": sorted({c for _, _, c in got}), "wall_s": round(wall, 2),
                         "per_s": round(len(got) / wall, 1),
                         **{f"p{q}": round(float(np.percentile(lat, q)), 1) if len(lat) else None
                            for q in (50, 95, 99)}}
    return results


def serve(case: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "ascertain", "serve", str(case), "--port", str(port),
                             "--lookups-per-minute", "1000000", "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/lookup", params={"q": "warm-up"}, timeout=60).status_code:
                return proc, port
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"serve exited: {proc.stderr.read()[-2000:]}") from None
            time.sleep(0.5)
    raise SystemExit("serve did not answer in 5 minutes")


def _reading(out: dict, clients: int) -> str:
    def met(kind: str, limit_ms: float) -> str:
        return ", ".join(f"{b} {'met' if r[kind]['p95'] is not None and r[kind]['p95'] < limit_ms else 'not met'} "
                         f"(p95 {r[kind]['p95']:,} ms)" for b, r in out.items())
    return (f"Reading: with {clients} clients at once and no pause between requests, each request waits for "
            "the ones ahead of it, so latency ≈ clients ÷ throughput (Little's law): the rows with "
            f"{clients} clients measure how many lookups a second the machine's two shared cores serve, the "
            "one-client rows what one lookup costs. Targets (p95) — title under 200 ms: one client "
            f"{met('title alone', 200)}; {clients} clients {met('title', 200)}. 10 KB file under 2 s: one "
            f"client {met('file alone', 2000)}; {clients} clients {met('file', 2000)}. Meeting the {clients}-"
            f"client target needs about {clients * 1000 // 200:,} title lookups a second: more cores or "
            "workers, since each lookup is already a few milliseconds of CPU.\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", type=Path, default=WORK / "case")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--postgres-url", default=os.environ.get("ASCERTAIN_TEST_POSTGRES_URL"))
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--docs", type=Path, default=HERE.parent / "docs" / "benchmarks.md")
    a = ap.parse_args()
    if not (a.case / "case.json").exists():
        raise SystemExit(f"{a.case}: no case here; build it with `python3 benchmarks/report.py --corpus-mb 200`")
    qs, files = queries(a.case, a.clients * a.rounds)
    out = {}
    for backend in a.backends.split(","):
        if backend == "postgres" and not a.postgres_url:
            raise SystemExit("--postgres-url (or ASCERTAIN_TEST_POSTGRES_URL) is needed for the postgres backend")
        case = a.case if backend == "sqlite" else postgres_copy(a.case, a.postgres_url)
        proc, port = serve(case, a.workers)
        try:
            for name, data in files[: a.workers * 4]:  # warm-up: each worker prepares the works' files once
                httpx.post(f"http://127.0.0.1:{port}/api/lookup", files={"file": (name, data)}, timeout=600)
            out[backend] = asyncio.run(load(port, a.clients, a.rounds, qs, files))
        finally:
            proc.terminate()
            proc.wait(30)
        print(backend, json.dumps(out[backend]), flush=True)
    with sa.create_engine(f"sqlite:///{a.case / 'store.sqlite'}").connect() as c:
        n_works = c.execute(sa.select(sa.func.count()).select_from(schema.works)).scalar()
        n_ev = c.execute(sa.select(sa.func.count()).select_from(schema.evidence)).scalar()
    rows = ["| backend | lookup | requests | errors | p50 ms | p95 ms | p99 ms | requests/s |",
            "|---|---|---|---|---|---|---|---|"]
    for b, r in out.items():
        for kind in ("title alone", "file alone", "title", "file"):
            x = r[kind]
            label = kind.replace(" alone", ", one client") if "alone" in kind else f"{kind}, {a.clients} clients"
            rows.append(f"| {b} | {label} | {x['requests']} | {x['errors']} | {x['p50']} | {x['p95']} | {x['p99']} "
                        f"| {x['per_s']} |")
    cmd = (f"python3 benchmarks/web_load.py --backends {a.backends} --clients {a.clients} --rounds {a.rounds} "
           f"--workers {a.workers}")
    body = (f"## Web: public lookups under load\n\n`{cmd}` on {time.strftime('%Y-%m-%d')} (this shared 2-core "
            f"machine; the load client and the server's {a.workers} worker processes share its cores), against "
            f"the 200 MB benchmark case ({n_works:,} works, {n_ev:,} evidence records). {a.clients} clients at "
            f"once on loopback (httpx, asyncio): {a.rounds} title lookups each (a title, an ISBN-like miss, a "
            "title with a typo), then one 10 KB file lookup each (half from works, half from held-out files); "
            "before that, one client alone (100 title and 20 file lookups, one at a time): a lookup's own "
            "latency, without queueing. "
            "Targets: p95 under 200 ms for a title lookup, under 2 s for a 10 KB file lookup.\n\n"
            + "\n".join(rows) + "\n\n" + _reading(out, a.clients))
    write_section(a.docs, "web-load", body)
    print(body)


if __name__ == "__main__":
    main()
