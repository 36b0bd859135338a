"""Hostile uploads to the public lookup (issue 26, items 1 and 5): each attack is performed through the app,
with real files built here, and must be refused or answered with bounded work, the server staying responsive."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import tarfile
import threading
import time
import zipfile

import pytest
from fastapi.testclient import TestClient

from ascertain.web.app import create_app


@pytest.fixture(scope="module")
def root(backend, request):
    if backend != "sqlite":
        pytest.skip("uploads do not depend on the store backend")
    return request.getfixturevalue("demo_case").root


def epub(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    container = ('<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                 '<rootfile full-path="OEBPS/content.opf"/></rootfiles></container>')
    items = "".join(f'<item id="c{i}" href="{n.split("/")[-1]}" media-type="application/xhtml+xml"/>'
                    for i, n in enumerate(members))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(members)))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml", container)
        zf.writestr("OEBPS/content.opf", '<package xmlns="http://www.idpf.org/2007/opf"><manifest>' + items +
                    "</manifest><spine>" + refs + "</spine></package>")
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def nested_divs(n: int) -> str:
    return "<html><body>" + "<div>" * n + "deep" + "</div>" * n + "</body></html>"


def txz_bomb() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        data = b"word " * 6_000_000  # 30 MB that compresses to a few KB
        info = tarfile.TarInfo("big.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_hostile_uploads_are_bounded_and_refused_clearly(root):
    client = TestClient(create_app(root, lookups_per_minute=1000), base_url="https://testserver")
    # a 2.5 KB EPUB of 100,000 nested divs took about a minute: its 200,000 tags are past the upload's budget
    deep = epub({"OEBPS/ch1.xhtml": nested_divs(100_000)})
    assert len(deep) < 4000
    r = client.post("/api/lookup", files={"file": ("deep.epub", deep)})
    assert r.status_code == 400 and "200,000 tags" in r.json()["detail"], r.text
    assert "plain-text copy" in r.json()["fix"]
    # 60,000 levels, within the budget: flattened and read in linear time
    t = time.monotonic()
    r = client.post("/api/lookup", files={"file": ("deep.epub", epub({"OEBPS/ch1.xhtml": nested_divs(60_000)})
                                                  )})
    assert r.status_code == 200, r.text
    assert r.json()["matches"] == 0 and time.monotonic() - t < 30
    # a .txz of one 30 MB member: archives and compressed files are not expanded for a lookup at all
    bomb = txz_bomb()
    assert len(bomb) < 20_000
    for name in ("bomb.txz", "bomb.tar.gz", "w.txt.gz", "w.jsonl"):
        r = client.post("/api/lookup", files={"file": (name, bomb)})
        assert r.status_code == 415 and "not looked up" in r.json()["detail"], (name, r.text)
    # an EPUB whose markup is past the upload's tag budget: a clear refusal that names the upload, not a path
    many = epub({"OEBPS/ch1.xhtml": "<html><body>" + "<b>x</b>" * 120_000 + "</body></html>"})
    r = client.post("/api/lookup", files={"file": ("many tags.epub", many)})
    assert r.status_code == 400 and "tags" in r.json()["detail"], r.text
    assert "many tags.epub" in r.json()["detail"] and "/tmp" not in r.text and "ascertain-upload" not in r.text


def test_a_lookup_over_its_time_budget_is_stopped_and_the_server_answers_meanwhile(root):
    client = TestClient(create_app(root, lookups_per_minute=1000, lookup_seconds=0.05),
                        base_url="https://testserver")
    text = " ".join(f"w{i % 5000} v{i % 7}" for i in range(150_000)).encode()  # ~1.6 MB: takes > 0.05 s
    r = client.post("/api/lookup", files={"file": ("long.txt", text)})
    assert r.status_code == 400 and "took more than 0.05 seconds" in r.json()["detail"], r.text
    assert "long.txt" in r.json()["detail"] and "/tmp" not in r.text
    # the pool is still usable afterwards
    ok = TestClient(create_app(root, lookups_per_minute=1000), base_url="https://testserver")
    assert ok.post("/api/lookup", files={"file": ("w.py", b"print('hello')\n")}).status_code == 200


def test_three_hostile_uploads_at_once_leave_pages_fast(root, unused_port):
    """Three uploads at once against a real server: the sign-in page still answers within a second or two (it
    took 15 s when file lookups ran in the web process's threads)."""
    import uvicorn

    app = create_app(root, lookups_per_minute=1000)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=unused_port, log_level="error",
                                           proxy_headers=False))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    import httpx

    base = f"http://127.0.0.1:{unused_port}"
    for _ in range(100):
        try:
            httpx.get(base + "/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    deep = epub({"OEBPS/ch1.xhtml": nested_divs(30_000)})
    codes: list[int] = []

    def upload(i: int) -> None:  # one client each: a client may run only one upload at a time
        with httpx.Client(base_url=base, timeout=120, transport=httpx.HTTPTransport(local_address=f"127.0.0.{i}")
                          ) as c:
            codes.append(c.post("/api/lookup", files={"file": (f"d{i}.epub", deep)}).status_code)

    threads = [threading.Thread(target=upload, args=(i,)) for i in (2, 3, 4)]
    for t in threads:
        t.start()
    slowest = 0.0
    try:
        while any(t.is_alive() for t in threads):
            t0 = time.monotonic()
            assert httpx.get(base + "/login", timeout=30).status_code == 200
            slowest = max(slowest, time.monotonic() - t0)
            time.sleep(0.05)
        for t in threads:
            t.join()
    finally:
        server.should_exit = True
        th.join(10)
    assert sorted(codes) == [200, 200, 200]
    assert slowest < 2.0, slowest


def _asgi_post(app, path: str, chunks, headers: dict[str, str]) -> tuple[int, int, dict]:
    """POST through the ASGI app with a body that arrives chunk by chunk: (status, chunks the app took, body)."""
    taken = 0
    out: dict = {}
    it = iter(chunks)

    async def receive():
        nonlocal taken
        chunk = next(it, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        taken += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] = out.get("body", b"") + message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "https",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("198.51.100.7", 5000), "server": ("testserver", 443)}
    asyncio.run(app(scope, receive, send))
    return out["status"], taken, json.loads(out.get("body") or b"{}")


def test_size_and_rate_are_checked_before_the_body_is_taken(root):
    app = create_app(root, lookups_per_minute=2, max_upload=1_000_000)
    mb = b"x" * (1 << 20)
    ctype = {"content-type": "multipart/form-data; boundary=b"}
    # a declared 300 MB body: refused before a single byte is read
    status, taken, body = _asgi_post(app, "/api/lookup", (mb for _ in range(300)),
                                     {**ctype, "content-length": str(300 << 20)})
    assert (status, taken) == (413, 0) and "larger than 1,000,000 bytes" in body["detail"]
    # no declared length (chunked): reading stops at the first chunk over the limit, the rest is never taken
    status, taken, _ = _asgi_post(app, "/api/lookup", (mb for _ in range(300)), ctype)
    assert status == 413 and taken == 2
    # past the rate limit, a 150 MB upload is refused before its body is read (the two above used the limit)
    status, taken, body = _asgi_post(app, "/api/lookup", (mb for _ in range(150)), ctype)
    assert (status, taken) == (429, 0) and "a minute" in body["detail"]
    status, taken, _ = _asgi_post(app, "/lookup", (mb for _ in range(150)), ctype)
    assert (status, taken) == (429, 0)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hostile_pdf_upload_is_bounded_by_its_pages(root, tmp_path):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "many.pdf"))
    for i in range(320):
        c.drawString(72, 720, f"page {i} of a long and ordinary book")
        c.showPage()
    c.save()
    client = TestClient(create_app(root, lookups_per_minute=1000), base_url="https://testserver")
    r = client.post("/api/lookup", files={"file": ("many.pdf", (tmp_path / "many.pdf").read_bytes())})
    assert r.status_code == 400 and "300-page limit" in r.json()["detail"], r.text

