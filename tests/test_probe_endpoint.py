"""The probe against an OpenAI-compatible endpoint that misbehaves: a real HTTP server on 127.0.0.1 (serve.py
over a tiny model trained here) that answers slowly, rate-limits with Retry-After, fails with 5xx, sends
malformed JSON, or dies half-way through a probe, which must then resume without repeating or losing attempts."""

from __future__ import annotations

import email.utils
import time
from collections import Counter

import pytest
from sqlalchemy import select

pytest.importorskip("torch")
pytest.importorskip("transformers")

from ascertain.case import Case  # noqa: E402
from ascertain.errors import AscertainError  # noqa: E402
from ascertain.probe.api import ApiModel, retry_after  # noqa: E402
from ascertain.probe.calibration import Setup, synthetic_corpus  # noqa: E402
from ascertain.probe.models import load_model  # noqa: E402
from ascertain.probe.reproduction import ReproParams  # noqa: E402
from ascertain.probe.run import ProbeOptions, run_probe  # noqa: E402
from ascertain.probe.serve import serve_model  # noqa: E402
from ascertain.probe.tiny_model import train_tiny_lm  # noqa: E402
from ascertain.store import schema as s  # noqa: E402
from ascertain.works import add_work  # noqa: E402

REPRO = ReproParams(prefix_tokens=(8,), continuation_tokens=12, cuts=2, samples=1, max_new_tokens=16, min_run=8)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("endpoint")
    corpus = synthetic_corpus(Setup(documents=12, words=30, traps=4, repeats=(10,), vocabulary=50, null_pool=0))
    train_tiny_lm(corpus["train"], root / "model", steps=40, width=32, layers=1, block=64, batch=8, vocab_size=256)
    works = []
    for i, t in enumerate(corpus["traps"][10]):
        works.append(root / f"work{i}.txt")
        works[-1].write_text(t)
    return {"root": root, "model": load_model(str(root / "model")), "works": works}


def serve(world, hook):
    return serve_model(world["model"], "tiny", hook=hook)


def is_generation(h) -> bool:
    b = getattr(h, "body", None) or {}
    return h.command == "POST" and b.get("max_tokens") == REPRO.max_new_tokens and not b.get("echo")


def test_retry_after_is_honoured_in_seconds_and_as_a_date(world):
    left = {"n": 2}

    def limited(h) -> bool:
        if left["n"]:
            left["n"] -= 1
            h.send_response(429)
            h.send_header("Retry-After", "0.3")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return True
        return False

    server, url = serve(world, limited)
    try:
        t0 = time.perf_counter()
        api = ApiModel(url, None, backoff=0.001)
        assert api.retried == 2 and api.waited == pytest.approx(0.6) and time.perf_counter() - t0 >= 0.6
    finally:
        server.shutdown()
    assert retry_after(email.utils.formatdate(time.time() + 30, usegmt=True)) == pytest.approx(30, abs=1.5)
    assert retry_after("7") == 7 and retry_after(None) is None and retry_after("soon") is None


def test_a_wait_longer_than_the_limit_ends_the_call_at_once(world):
    def hour(h) -> bool:
        h.send_response(429)
        h.send_header("Retry-After", "3600")
        h.send_header("Content-Length", "0")
        h.end_headers()
        return True

    server, url = serve(world, hour)
    try:
        with pytest.raises(AscertainError, match="asks to wait 3600 s") as e:
            ApiModel(url, None, backoff=0.001)
        assert url in str(e.value) and "run the same command again" in str(e.value)
    finally:
        server.shutdown()


def test_slow_server_times_out_with_the_endpoint_and_the_fix(world):
    def slow(h) -> bool:
        time.sleep(0.6)
        return False

    server, url = serve(world, slow)
    try:
        with pytest.raises(AscertainError, match=r"did not answer after 2 attempts \(last: no answer within 0.2 s"):
            ApiModel(url, None, timeout=0.2, retries=1, backoff=0.001)
    finally:
        server.shutdown()


def test_malformed_json_and_missing_text(world):
    bad = {"n": 2, "shape": b"<html>502 Bad Gateway</html>"}

    def garbled(h) -> bool:
        if bad["n"] and h.command == "POST":
            bad["n"] -= 1
            h.send_response(200)
            h.send_header("Content-Length", str(len(bad["shape"])))
            h.end_headers()
            h.wfile.write(bad["shape"])
            return True
        return False

    server, url = serve(world, garbled)
    try:
        api = ApiModel(url, None, backoff=0.001)  # two garbled answers, then good ones
        assert api.retried == 2
        bad.update(n=10)
        with pytest.raises(AscertainError, match="not a JSON object"):
            api.generate("a b c", 4, 0.0, 0)
        bad.update(n=1, shape=b'{"choices": []}')
        with pytest.raises(AscertainError, match=r"without choices\[0\]\.text"):
            api.generate("a b c", 4, 0.0, 0)
    finally:
        server.shutdown()
    nowhere, url2 = serve_model(world["model"], hook=lambda h: h._send(404, {}) or True)
    try:
        with pytest.raises(AscertainError, match="is not an OpenAI-compatible API"):
            ApiModel(url2, None, backoff=0.001)
    finally:
        nowhere.shutdown()


def test_server_dying_half_way_then_resume_repeats_and_loses_nothing(world):
    case = Case.init(world["root"] / "case", k=4, w=5)
    for p in world["works"]:
        add_work(case, "Trained", str(p), title=p.stem)
    opts = ProbeOptions(REPRO, tiers=("A",))
    served: list[Counter] = [Counter(), Counter()]
    k = 3

    def dies_after_k(h) -> bool:
        if is_generation(h):
            if sum(served[0].values()) >= k:
                h._send(500, {"error": {"message": "worker crashed"}})
                return True
            served[0][(h.body["prompt"], h.body["seed"])] += 1
        return False

    server, url = serve(world, dies_after_k)
    try:
        with pytest.raises(AscertainError, match="did not answer after 2 attempts"):
            run_probe(case, ApiModel(url, None, retries=1, backoff=0.001), opts)
    finally:
        server.shutdown()
    with case.store.engine.connect() as c:
        run = c.execute(select(s.probe_runs)).mappings().one()
        rows = c.execute(select(s.probes)).mappings().all()
        audit = c.execute(select(s.audit_log)).mappings().all()
    assert run["status"] == "interrupted"
    assert [r["status"] for r in rows].count("ok") == k and [r["status"] for r in rows].count("error") == 1
    assert "worker crashed" not in rows[-1]["error"] and "HTTP 500" in rows[-1]["error"]
    assert any("probe interrupted" in str(a) and "HTTP 500" in str(a) for a in audit)

    def counts(h) -> bool:
        if is_generation(h):
            served[1][(h.body["prompt"], h.body["seed"])] += 1
        return False

    server, url = serve(world, counts)
    try:
        r = run_probe(case, ApiModel(url, None, backoff=0.001), opts)
    finally:
        server.shutdown()
    total = r["attempts_stored_before"] + r["attempts_added"] - 1  # the failed attempt stays on record
    assert r["resumed"] and not set(served[0]) & set(served[1])  # nothing asked twice
    assert all(v == 1 for c in served for v in c.values())
    assert sum(served[0].values()) + sum(served[1].values()) == total  # nothing lost
    with case.store.engine.connect() as c:
        rows = c.execute(select(s.probes)).mappings().all()
        status = c.execute(select(s.probe_runs.c.status)).scalar_one()
    ok = [x for x in rows if x["status"] == "ok"]
    assert status == "complete" and len(ok) == len({x["key"] for x in ok}) == total
    assert sum(a["attempts"] for a in r["results"]["A"].values()) == total
