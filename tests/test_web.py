"""The web application, role by role and route by route: nothing is served beyond the role, corpus text
never reaches a role the protective order keeps from it, and bad requests are refused."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from ascertain.case import Case
from ascertain.web.app import create_app
from ascertain.web.policy import CAPABILITIES, ROLES
from ascertain.web.users import add_user, new_token

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def site(demo_case, data):
    """The demo case on each store backend (SQLite, PostgreSQL), one user and token per role."""
    case, root = demo_case, demo_case.root
    tokens = {}
    for role in ROLES:
        add_user(case, role, role, PASSWORD)
        tokens[role] = new_token(case, role)
    with case.store.begin() as db:  # one link back in the review queue, for the review tests
        db.execute(sa.text("UPDATE registration_links SET status = 'review' "
                           "WHERE id = (SELECT min(id) FROM registration_links)"))
    client = TestClient(create_app(root, lookups_per_minute=1000), base_url="https://testserver")
    return case, client, tokens, data


def _json(value):
    """A JSON column as read with raw SQL: text on SQLite, already decoded on PostgreSQL (json type)."""
    return json.loads(value) if isinstance(value, str) else value


def corpus_only_lines(data) -> set[str]:
    works = "\n".join(p.read_text(errors="replace") for p in (data / "works").rglob("*") if p.is_file())
    lines = set()
    for p in (data / "corpus").rglob("*"):
        if p.is_file():
            for line in p.read_text(errors="replace").splitlines():
                if len(line.strip()) >= 25 and line.strip() not in works:
                    lines.add(line.strip())
    return lines


def ids(case: Case) -> dict:
    with case.store.engine.connect() as db:
        ev = db.execute(sa.text("SELECT e.id FROM evidence e JOIN sources s ON s.id = e.source_id WHERE e.copied "
                                "AND s.kind = 'corpus' ORDER BY e.id")).scalar()
        link = db.execute(sa.text("SELECT min(id) FROM registration_links")).scalar()
        classes = _json(db.execute(sa.text("SELECT manifest FROM runs WHERE stage = 'classes' ORDER BY id DESC"
                                           )).scalar())
    return {"work_id": 1, "evidence_id": ev, "link_id": link, "name": next(iter(classes["counts"]))}


def test_every_route_in_the_schema_with_every_role(site):
    case, client, tokens, data = site
    schema = client.get("/openapi.json").json()
    params = ids(case)
    secret_lines = corpus_only_lines(data)
    walked = 0
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            cap = op["x-capability"]
            url = re.sub(r"\{(\w+)\}", lambda m: str(params[m[1]]), path)
            for role in (*ROLES, None):
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
                if method == "get":
                    r = client.get(url, headers=headers, params={"q": "The Orchard at Dusk"} if "lookup" in url
                                   else None)
                elif "lookup" in url:
                    r = client.post(url, headers=headers, files={"file": ("w.py", b"print('hello')\n")})
                else:  # reviews: a decision needs a reason; an allowed role gets 200 or 400, never 401/403
                    r = client.post(url, headers=headers, data={"decision": "reject", "reason": ""})
                allowed = role is not None and role in CAPABILITIES[cap] or (role is None and cap == "lookup")
                if allowed:
                    assert r.status_code in (200, 400), (path, method, role, r.status_code, r.text[:200])
                else:
                    assert r.status_code == (401 if role is None else 403), (path, method, role, r.status_code)
                    assert r.json()["detail"].startswith(("the ", "unknown")), r.text
                if r.status_code == 200 and role not in ("master", "defendant"):
                    body = r.text
                    leaked = [s for s in secret_lines if json.dumps(s)[1:-1] in body or s in body]
                    assert not leaked, (path, role, leaked[:3])
                walked += 1
    assert walked >= 10 * 6


def test_protective_order_figures_only_for_the_other_side(site):
    case, client, tokens, data = site
    ev = ids(case)["evidence_id"]
    as_master = client.get(f"/api/evidence/{ev}", headers={"Authorization": f"Bearer {tokens['master']}"}).json()
    as_plaintiff = client.get(f"/api/evidence/{ev}", headers={"Authorization": f"Bearer {tokens['plaintiff']}"}
                              ).json()
    assert any(r["copy"] for r in as_master["rows"])
    assert as_plaintiff["hide_copy"] and not any(r["copy"] for r in as_plaintiff["rows"])
    assert as_plaintiff["figures"]["coverage"] == as_master["figures"]["coverage"]
    assert as_plaintiff["doc_sha256"] == as_master["doc_sha256"]
    # the defendant sees its own corpus, not the plaintiff's works
    as_defendant = client.get(f"/api/evidence/{ev}", headers={"Authorization": f"Bearer {tokens['defendant']}"}
                              ).json()
    assert any(r["copy"] for r in as_defendant["rows"]) and not any(r["original"] for r in as_defendant["rows"])
    # each text served is in the audit chain, with the user
    with case.store.engine.connect() as db:
        who = [_json(d)["user"] for (d,) in db.execute(
            sa.text("SELECT detail FROM audit_log WHERE action = 'web: text served'"))]
    assert {"master", "defendant"} <= set(who) and "plaintiff" in who  # plaintiff saw its own work's text


def test_public_lookup_answers_exact_queries_and_cannot_enumerate(site):
    _, client, tokens, _ = site
    h = {"Authorization": f"Bearer {tokens['public']}"}
    r = client.get("/api/lookup", params={"q": "The Orchard at Dusk"}, headers=h).json()
    assert [w["title"] for w in r["results"]] == ["The Orchard at Dusk"]
    assert set(r["results"][0]) >= {"on_the_list", "classes", "in_corpus", "s412"}
    assert "why" not in r["results"][0] and "owners" not in r["results"][0]
    for q in ("a", "e", "the", "%", "_"):
        assert client.get("/api/lookup", params={"q": q}, headers=h).json().get("results", []) == []
    assert client.get("/api/works", headers=h).status_code == 403
    assert client.get("/api/works").status_code == 401


def test_uploads_traversal_rate_limit_and_csrf(site, tmp_path):
    case, client, tokens, _ = site
    h = {"Authorization": f"Bearer {tokens['master']}"}
    small = create_app(case.root, lookups_per_minute=3, max_upload=1000)
    c2 = TestClient(small, base_url="https://testserver")
    assert c2.post("/api/lookup", files={"file": ("big.txt", b"x" * 1001)}, headers=h).status_code == 413
    codes = [c2.get("/api/lookup", params={"q": "boto3"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    for bad in ("..%2F..%2Fstore.sqlite", "%2e%2e", "../../case.json", "in-corpus%2F..%2F..%2Fcase.json"):
        r = client.get(f"/api/classes/{bad}/members.csv", headers=h)
        assert r.status_code == 404, (bad, r.status_code)
    # a browser session: sign in with the form's CSRF token, then a form without it is refused
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)[1]
    r = client.post("/login", data={"name": "claims", "password": PASSWORD, "csrf": csrf, "next": "/reviews"},
                    follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert "secure" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
    reviews = client.get("/reviews")
    assert reviews.status_code == 200 and "Accept" in reviews.text
    link = ids(case)["link_id"]
    assert client.post(f"/reviews/{link}", data={"decision": "accept", "reason": "same book"}).status_code == 403
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', reviews.text)[1]
    r = client.post(f"/reviews/{link}", data={"decision": "accept", "reason": "same book", "csrf": token},
                    follow_redirects=False)
    assert r.status_code == 303
    with case.store.engine.connect() as db:
        status, reason = db.execute(sa.text("SELECT status, reason FROM registration_links WHERE id = :i"),
                                    {"i": link}).one()
    assert status == "accepted" and "by claims" in reason
    client.cookies.clear()  # a new visitor: a token of its own (the one of the session before is refused)
    assert client.post("/login", data={"name": "claims", "password": "wrong password!!", "csrf": csrf}
                       ).status_code == 403
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)[1]
    assert client.post("/login", data={"name": "claims", "password": "wrong password!!", "csrf": csrf}
                       ).status_code == 200  # the form again, with the error; refused sign-in is audited


def test_pages_render_for_the_master(site):
    case, client, tokens, _ = site
    h = {"Authorization": f"Bearer {tokens['master']}"}
    params = ids(case)
    for url in ("/", "/works", "/works?q=boto", f"/works/{params['work_id']}", f"/evidence/{params['evidence_id']}",
                "/classes", "/reviews", "/lookup?q=boto3"):
        r = client.get(url, headers=h)
        assert r.status_code == 200 and "<nav>" in r.text, url
    assert "sbs" in client.get(f"/evidence/{params['evidence_id']}", headers=h).text  # the report's renderer


def test_disputes_defendant_opens_master_resolves_audited(site):
    case, client, tokens, _ = site

    def auth(role):
        return {"Authorization": f"Bearer {tokens[role]}"}

    name = ids(case)["name"]
    r = client.post("/api/disputes", headers=auth("defendant"), data={
        "class_name": name, "work_id": "1", "reason": "another book of the same title",
        "evidence": "corpus record 12: other author"})
    assert r.status_code == 200, r.text
    did = r.json()["dispute"]
    assert r.json()["opened_by"] == "defendant" and r.json()["role"] == "defendant"
    assert client.post("/api/disputes", headers=auth("claims"), data={"class_name": name, "work_id": "1",
                                                                      "reason": "x"}).status_code == 403
    bad = client.post("/api/disputes", headers=auth("defendant"), data={"class_name": name, "work_id": "one"})
    assert bad.status_code == 400
    assert client.post("/api/disputes/resolve", headers=auth("defendant"), data={
        "dispute_id": str(did), "outcome": "upheld", "resolution": "mine"}).status_code == 403
    r = client.post("/api/disputes/resolve", headers=auth("master"), data={
        "dispute_id": str(did), "outcome": "rejected", "resolution": "the record's ISBN is this work's"})
    assert r.status_code == 200 and r.json()["now"] == "rejected"
    listed = client.get("/api/disputes", headers=auth("plaintiff")).json()["items"]
    assert [(x["id"], x["status"]) for x in listed if x["id"] == did] == [(did, "rejected")]
    page = client.get("/disputes", headers=auth("master"))
    assert page.status_code == 200 and "the record&#39;s ISBN is this work&#39;s" in page.text
    with case.store.engine.connect() as db:
        actions = [a for (a,) in db.execute(sa.text("SELECT action FROM audit_log WHERE action LIKE 'dispute%' "
                                                      "ORDER BY id"))]
    assert actions[-2:] == ["dispute open", "dispute resolve"]
