"""Hostile uploads to the public lookup (issue 26, items 1 and 5): each attack is performed through the app,
with real files built here, and must be refused or answered with bounded work, the server staying responsive."""

from __future__ import annotations

import asyncio
import hashlib
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



# --- items 3, 4, 10, 12, 13: field policy, CSRF on JSON writes, per-visitor tokens, timing, ids, headers

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def site(root):
    import sqlalchemy as sa

    from ascertain.case import Case
    from ascertain.web.policy import ROLES
    from ascertain.web.users import add_user, new_token

    case = Case.open(root)
    tokens = {}
    for role in ROLES:
        add_user(case, f"h-{role}", role, PASSWORD)
        tokens[role] = new_token(case, f"h-{role}")
    with case.store.begin() as db:  # a link in the review queue
        db.execute(sa.text("UPDATE registration_links SET status = 'review' "
                           "WHERE id = (SELECT max(id) FROM registration_links)"))
    return case, tokens


def _fields(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _fields(v)
    elif isinstance(value, list):
        for v in value:
            yield from _fields(v)


def test_every_role_gets_only_the_fields_the_policy_gives_it(site):
    import sqlalchemy as sa

    from ascertain.web.policy import CAPABILITIES, FIELDS, ROLES

    case, tokens = site
    client = TestClient(create_app(case.root, lookups_per_minute=1000), base_url="https://testserver")
    with case.store.engine.connect() as db:
        locators = {r for (r,) in db.execute(sa.text("SELECT doc_locator FROM evidence")) if r}
        ev_ids = [i for (i,) in db.execute(sa.text("SELECT id FROM evidence ORDER BY id"))]
        work_ids = [i for (i,) in db.execute(sa.text("SELECT DISTINCT work_id FROM evidence ORDER BY work_id"))]
        classes = json.loads(db.execute(sa.text("SELECT manifest FROM runs WHERE stage = 'classes' ORDER BY id DESC"
                                                )).scalar() or "{}")
    assert locators and ev_ids
    urls = ["/api/dashboard", "/api/works", "/api/classes", "/api/reviews", "/api/lookup?q=The Orchard at Dusk",
            "/api/disputes", *(f"/api/classes/{n}/members.json" for n in classes.get("files", {})),
            *(f"/api/works/{w}" for w in work_ids), *(f"/api/evidence/{e}" for e in ev_ids)]
    checked = set()
    for role in ROLES:
        h = {"Authorization": f"Bearer {tokens[role]}"}
        answers = []
        for url in urls:
            cap = url.split("/")[2].split("?")[0].rstrip("s") + "s" if "lookup" not in url else "lookup"
            cap = {"dashboards": "dashboard", "works": "works", "evidences": "evidence", "classes": "classes",
                   "reviews": "reviews", "lookup": "lookup", "disputes": "disputes"}[cap]
            r = client.get(url, headers=h)
            if role not in CAPABILITIES[cap]:
                assert r.status_code == 403, (url, role)
                continue
            assert r.status_code == 200, (url, role, r.text[:300])  # every evidence record, copy or not
            answers.append((url, r.json()))
        answers.append(("POST /api/lookup", client.post("/api/lookup", headers=h, files={
            "file": ("w.py", b"import json\nprint(json.dumps({'a': 1}))\n")}).json()))
        for url, answer in answers:
            for key, value in _fields(answer):
                checked.add((role, key))
                rule = FIELDS.get(key)
                if rule and role not in rule[0]:
                    assert rule[1] == "name" and (value is None or "/" not in value), (role, url, key, value)
                if role in ("claims", "public") and isinstance(value, str):
                    assert not value.startswith("/") and str(case.root) not in value, (role, url, key, value)
                    assert not any(loc in value for loc in locators), (role, url, key, value)
    assert {("claims", "work_file"), ("master", "doc_locator"), ("claims", "title")} <= checked
    assert ("claims", "doc_locator") not in checked
    for e in ev_ids:  # the page of every evidence record, a copy or not (13 of 23 answered 500)
        page = client.get(f"/evidence/{e}", headers={"Authorization": f"Bearer {tokens['master']}"})
        assert page.status_code == 200, (e, page.text[:300])
    # the pages say the same as their JSON twins, and the member CSV drops the columns that name corpus records
    h = {"Authorization": f"Bearer {tokens['claims']}"}
    for w in work_ids:
        html = client.get(f"/works/{w}", headers=h).text
        assert not any(loc in html for loc in locators) and str(case.root) not in html
    for name in classes.get("files", {}):
        body = client.get(f"/api/classes/{name}/members.csv", headers=h).text
        assert "identifier_hits" not in body.splitlines()[0] and not any(loc in body for loc in locators)
        master = client.get(f"/api/classes/{name}/members.csv",
                            headers={"Authorization": f"Bearer {tokens['master']}"}).text
        assert "identifier_hits" in master.splitlines()[0]


def _sign_in(client: TestClient, name: str) -> None:
    import re

    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)[1]
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_cookie_json_writes_need_the_same_origin_bearer_calls_do_not(site):
    import re

    import sqlalchemy as sa

    case, tokens = site
    app = create_app(case.root, lookups_per_minute=1000)
    with case.store.engine.connect() as db:
        link = db.execute(sa.text("SELECT max(id) FROM registration_links")).scalar()
    browser = TestClient(app, base_url="https://testserver")
    _sign_in(browser, "h-claims")
    data = {"decision": "reject", "reason": "a foreign site says so"}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        r = browser.post(f"/api/reviews/{link}", data=data, headers=headers)
        assert r.status_code == 403 and "CSRF" in r.json()["detail"], (headers, r.text)
    with case.store.engine.connect() as db:
        assert db.execute(sa.text("SELECT status FROM registration_links WHERE id = :i"), {"i": link}).scalar() \
            == "review"  # nothing changed
    ok = browser.post(f"/api/reviews/{link}", headers={"Origin": "https://testserver"},
                      data={"decision": "accept", "reason": "from the site's own page"})
    assert ok.status_code == 200, ok.text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', browser.get("/reviews").text)[1]
    assert browser.post(f"/api/reviews/{link}", headers={"X-CSRF-Token": token},
                        data={"decision": "accept", "reason": "with the token"}).status_code == 200
    api = TestClient(app, base_url="https://testserver")  # a bearer token: no cookie, no Origin rule
    r = api.post(f"/api/reviews/{link}", data={"decision": "accept", "reason": "by API"},
                 headers={"Authorization": f"Bearer {tokens['claims']}", "Origin": "https://elsewhere.example"})
    assert r.status_code == 200, r.text
    # before sign-in every visitor has a token of its own: one visitor's token does not work for another
    a, b = TestClient(app, base_url="https://testserver"), TestClient(app, base_url="https://testserver")
    ta = re.search(r'name="csrf" value="([0-9a-f]+)"', a.get("/login").text)[1]
    tb = re.search(r'name="csrf" value="([0-9a-f]+)"', b.get("/login").text)[1]
    assert ta != tb
    r = b.post("/login", data={"name": "h-claims", "password": PASSWORD, "csrf": ta}, follow_redirects=False)
    assert r.status_code == 403
    fresh = TestClient(app, base_url="https://testserver")  # no visitor cookie at all: refused, never a match
    assert fresh.post("/login", data={"name": "h-claims", "password": PASSWORD, "csrf": ""}).status_code == 403


def test_unknown_names_cost_what_known_names_cost(site):
    from ascertain.web.users import check_password

    case, _ = site

    def cost(name: str) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            assert check_password(case, name, "not the password at all") is None
            times.append(time.perf_counter() - t)
        return sorted(times)[1]

    known, unknown = cost("h-claims"), cost("nobody-by-this-name")
    assert unknown > 0.5 * known, (known, unknown)  # it was 2 ms against 170 ms


def test_huge_ids_are_422_and_every_answer_has_the_security_headers(site):
    case, tokens = site
    client = TestClient(create_app(case.root, lookups_per_minute=1000), base_url="https://testserver")
    h = {"Authorization": f"Bearer {tokens['master']}"}
    for url in ("/api/works/99999999999999999999999", "/api/evidence/9223372036854775808", "/api/works?page=10"
                "00000000000000000000", "/works/99999999999999999999999", "/works?page=1000000000000000000000000"):
        r = client.get(url, headers=h)
        assert r.status_code == 422, (url, r.status_code, r.text[:200])
    for url in ("/login", "/api/dashboard", "/docs"):
        r = client.get(url, headers=h)
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    docs = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_serve_believes_no_proxy_header_refuses_a_taken_port_and_lists_the_api(root, unused_port):
    """Items 11 and 21: rotating X-Forwarded-For from loopback bypassed the limits; `serve` on a taken port said
    "serving" first; GET /api was a 404."""
    import os
    import subprocess
    import sys

    import httpx

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "ascertain", "serve", str(root), "--port", str(unused_port),
           "--lookups-per-minute", "2"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{unused_port}"
        for _ in range(300):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        codes = [httpx.get(base + "/api/lookup", params={"q": "boto3"}, timeout=10,
                           headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
        assert codes == [200, 200, 429], codes
        api = httpx.get(base + "/api", timeout=10).json()
        assert {"GET /api/works", "POST /api/lookup"} <= {f"{e['method']} {e['path']}" for e in api["endpoints"]}
        taken = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert taken.returncode != 0 and "is taken" in taken.stdout + taken.stderr
        assert "serving" not in taken.stdout
    finally:
        server.terminate()
        server.wait(30)


def test_the_rate_limiter_forgets_idle_clients():
    from ascertain.web.app import RateLimit

    limit = RateLimit(5)
    for i in range(5000):
        limit.allow(f"client-{i}")
    for q in limit.hits.values():
        q[-1] -= 120  # as if a minute had passed since each client's last hit
    for _ in range(1024):
        limit.allow("one more")
    assert len(limit.hits) < 10


def test_sessions_end_on_the_server_and_tokens_expire_or_are_revoked(site, tmp_path):
    """Item 10: sessions survived logout; tokens never expired and could not be revoked; users could not be
    removed or change passwords."""
    import re

    import sqlalchemy as sa

    from ascertain.web.users import add_user, new_token

    case, _ = site
    app = create_app(case.root, lookups_per_minute=1000)
    add_user(case, "h-leaver", "claims", PASSWORD)
    browser = TestClient(app, base_url="https://testserver")
    _sign_in(browser, "h-leaver")
    cookie = browser.cookies.get("asc_session")
    assert browser.get("/api/reviews").status_code == 200
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', browser.get("/reviews").text)[1]
    browser.post("/logout", data={"csrf": token})
    replay = TestClient(app, base_url="https://testserver", cookies={"asc_session": cookie})
    assert replay.get("/api/reviews").status_code == 401  # the old cookie signs no one in
    # a password change ends the sessions; `users revoke` ends tokens and sessions; `users remove` the user
    _sign_in(browser, "h-leaver")
    tok = new_token(case, "h-leaver")
    bearer = {"Authorization": f"Bearer {tok}"}
    r = runner_invoke("users", "passwd", case.root, "h-leaver", "--password-stdin", input="another long password\n")
    assert r.exit_code == 0, r.output
    assert browser.get("/api/reviews").status_code == 401 and replay.get("/api/reviews", headers=bearer
                                                                            ).status_code == 200
    assert runner_invoke("users", "revoke", case.root, "h-leaver").exit_code == 0
    assert replay.get("/api/reviews", headers=bearer).status_code == 401
    assert runner_invoke("users", "remove", case.root, "h-leaver").exit_code == 0
    assert "h-leaver" not in runner_invoke("users", "list", case.root).stdout
    # an expired token is refused
    short = new_token(case, "h-claims", days=1)
    with case.store.begin() as db:
        db.execute(sa.text("UPDATE web_token_expiry SET expires_at = '2000-01-01T00:00:00+00:00' "
                           "WHERE token_sha256 = :s"), {"s": hashlib.sha256(short.encode()).hexdigest()})
    assert replay.get("/api/reviews", headers={"Authorization": f"Bearer {short}"}).status_code == 401


def runner_invoke(*args, input: str | None = None):
    from typer.testing import CliRunner

    from ascertain.cli import app as cli_app

    return CliRunner().invoke(cli_app, [str(a) for a in args], input=input)


def test_a_full_lookup_queue_refuses_at_once(root, tmp_path):
    from ascertain.web.lookup_pool import Busy, LookupPool

    f = tmp_path / "w.py"
    f.write_text("print('hello')\n")
    pool = LookupPool(root, workers=1, queue=0)

    async def two():
        return await asyncio.gather(pool.lookup(str(f)), pool.lookup(str(f)), return_exceptions=True)

    try:
        first, second = asyncio.run(two())
    finally:
        pool.close()
    assert isinstance(first, dict) and isinstance(second, Busy)
