"""The web application in a real browser: Debian's chromium driven by Playwright against `ascertain serve`'s
app on loopback, one demo case for the module. Each flow asserts what the page shows; every page is also
photographed at desktop (1280×800) and phone (390×844) width, and no page may be wider than the phone.

Screenshots go to $ASCERTAIN_SCREENSHOTS when set, else to a pytest temporary folder (kept for the last runs).
Skipped only when /usr/bin/chromium is absent and CI_REQUIRE_BROWSER is not set; with CI_REQUIRE_BROWSER=1 a
missing browser fails the module instead.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import func, select, update

from ascertain.case import Case
from ascertain.demo import run_demo
from ascertain.store import schema
from ascertain.web.app import MAX_UPLOAD, create_app
from ascertain.web.policy import ROLES, text_allowed
from ascertain.web.users import add_user

CHROMIUM = Path("/usr/bin/chromium")
# without the background-networking flags chromium keeps calling home, which floods a closed network
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery staple"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    why = f"{CHROMIUM} is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(f"CI_REQUIRE_BROWSER is set but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo case (without the model probe), a user per role, and the app served on a free loopback port."""
    _browser_or_skip()
    root = tmp_path_factory.mktemp("browser") / "case"
    assert run_demo(root, None, report=False, with_probe=False)["ok"]
    case = Case.open(root)
    for role in ROLES:
        add_user(case, role, role, PASSWORD)
    with case.store.begin() as c:  # one link back in the review queue, through the store's write transaction
        first = c.execute(select(func.min(schema.registration_links.c.id))).scalar_one()
        c.execute(update(schema.registration_links).where(schema.registration_links.c.id == first)
                  .values(status="review"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(root, lookups_per_minute=1000), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield case, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser(site):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("ASCERTAIN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


def shoot(page: Page, shots: Path, name: str) -> None:
    """The page at desktop and at phone width, full length; at phone width nothing may stick out sideways."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.screenshot(path=shots / f"{name}-{size['width']}.png", full_page=True)
        if size is PHONE:
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{name} is {wide} px wide on a {PHONE['width']} px phone"
    page.set_viewport_size(DESKTOP)


def signed_in(browser: Browser, base: str, role: str) -> tuple[BrowserContext, Page]:
    ctx = browser.new_context(viewport=DESKTOP, base_url=base, accept_downloads=True)
    page = ctx.new_page()
    page.goto("/login")
    page.fill("input[name=name]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page.locator("nav .who")).to_contain_text(f"{role} ({role})")
    return ctx, page


def corpus_lines(data: Path) -> set[str]:
    """Every line of 25 characters or more of the demo corpus's text files: none may reach a public page."""
    lines = set()
    for p in (data / "corpus").rglob("*"):
        if p.is_file():
            lines |= {s for line in p.read_text(errors="replace").splitlines() if len(s := line.strip()) >= 25}
    return lines


def evidence_id(case: Case, kind: str, cmi: str) -> tuple[int, int]:
    e, src = schema.evidence, schema.sources
    with case.store.engine.connect() as c:
        rows = c.execute(select(e.c.id, e.c.work_id, e.c.metrics).join(src, src.c.id == e.c.source_id)
                         .where(e.c.copied, src.c.kind == kind).order_by(e.c.id)).all()
    return next((r.id, r.work_id) for r in rows if r.metrics["cmi"]["status"] == cmi)


def test_sign_in_refuses_a_wrong_password_and_keeps_the_page_asked_for(site, browser, shots):
    _, base = site
    ctx = browser.new_context(viewport=DESKTOP, base_url=base)
    page = ctx.new_page()
    page.goto("/works")
    assert re.search(r"/login\?next=/works$", page.url)
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("form[action='/login'] input[name=csrf]").input_value())
    shoot(page, shots, "login")
    page.fill("input[name=name]", "master")
    page.fill("input[name=password]", "not the password at all")
    page.click("button:has-text('Sign in')")
    expect(page.locator(".err")).to_have_text("Wrong name or password.")
    expect(page.locator("nav .who")).to_contain_text("Sign in")
    shoot(page, shots, "login-refused")
    page.fill("input[name=name]", "master")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    assert page.url.endswith("/works")
    expect(page.locator("h1")).to_contain_text("Works")
    cookie = next(c for c in ctx.cookies() if c["name"] == "asc_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    ctx.close()


def test_master_walks_the_case_and_opens_an_exhibit(site, browser, shots):
    case, base = site
    ctx, page = signed_in(browser, base, "master")
    page.goto("/")
    expect(page.locator("h1")).to_have_text(f"Case {case.root.name}")
    expect(page.locator("table").first).to_contain_text("copies in corpora")
    shoot(page, shots, "dashboard")
    page.click("nav a:has-text('Works')")
    rows = page.locator("table tr:has(td)")
    assert rows.count() >= 5
    shoot(page, shots, "works")
    page.fill("input[name=q]", "rsa")
    page.click("button:has-text('Search')")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("python-rsa")
    ev, work = evidence_id(case, "corpus", "removed")
    page.goto(f"/works/{work}")
    expect(page.locator("h2").nth(1)).to_contain_text("Evidence")
    shoot(page, shots, "work")
    page.click(f"a[href='/evidence/{ev}']")
    sbs = page.locator("table.sbs")
    expect(sbs).to_be_visible()
    expect(page.locator("h2").first).to_have_text(re.compile(r"^Exhibit "))
    # two texts side by side: both columns carry text, with changed/one-sided lines and a CMI line marked
    originals = [t for t in sbs.locator("td.t.o").all_inner_texts() if t.strip()]
    copies = [t for t in sbs.locator("td.t.c").all_inner_texts() if t.strip()]
    assert len(originals) > 10 and len(copies) > 10
    assert sbs.locator("tr.equal").count() > 0
    assert sbs.locator("tr.changed, tr.original, tr.copy").count() > 0
    assert sbs.locator("tr.cmi-removed").count() > 0
    expect(sbs.locator("tr.cmi-removed td.mk").first).to_contain_text("CMI removed")
    expect(page.locator("h3:has-text('CMI of the original')")).to_contain_text("removed")
    shoot(page, shots, "evidence-master")
    ctx.close()


def test_public_lookup_by_title_and_by_file_shows_no_corpus_text(site, browser, shots, data, tmp_path):
    _, base = site
    ctx, page = signed_in(browser, base, "public")
    assert page.url.endswith("/lookup")  # the public role has no dashboard
    expect(page.locator("nav")).not_to_contain_text("Works")
    shoot(page, shots, "lookup")
    secret = corpus_lines(data)
    page.fill("input[name=q]", "Salt and Circuitry")
    page.click("button:has-text('Look up')")
    answer = page.locator(".answer")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("Salt and Circuitry — Daniel Reyes")
    expect(answer).to_contain_text("On the class list: yes (in-corpus, in-corpus/statutory)")
    expect(answer).to_contain_text("§412: eligible")
    body = page.inner_text("body")
    assert not [s for s in secret if s in body]
    shoot(page, shots, "lookup-title")
    page.set_input_files("input[type=file]", str(data / "works" / "python-rsa" / "randnum.py"))
    page.click("button:has-text('Look up the file')")
    expect(page.locator(".answer").first).to_contain_text("python-rsa")
    expect(page.locator(".answer").first).to_contain_text("Matched the file by")
    expect(page.locator(".answer").first).to_contain_text("In a training corpus: yes")
    expect(page.locator("h2")).to_have_text(re.compile(r"^file randnum\.py \(sha256 [0-9a-f]{12}…\)$"))
    body = page.inner_text("body")
    assert not [s for s in secret if s in body] and "/tmp" not in body  # nor the server's copy of the upload
    shoot(page, shots, "lookup-file")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (MAX_UPLOAD + 1))
    page.set_input_files("input[type=file]", str(big))
    page.click("button:has-text('Look up the file')")
    expect(page.locator("h1")).to_have_text("File too large")
    expect(page.locator(".err")).to_contain_text(f"larger than {MAX_UPLOAD:,} bytes")
    shoot(page, shots, "refused-upload-too-large")
    page.goto("/works")  # signed in, but not a role that may see works: a page that says so, not raw JSON
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".err")).to_have_text("the public role may not see works")
    shoot(page, shots, "refused-public-works")
    ctx.close()


def test_claims_rejects_a_review_item_with_a_reason_and_it_leaves_the_queue(site, browser, shots):
    case, base = site
    ctx, page = signed_in(browser, base, "claims")
    page.goto("/reviews")
    items = page.locator(".answer")
    expect(items).to_have_count(1)
    expect(page.locator("h1")).to_contain_text("(1)")
    shoot(page, shots, "reviews")
    link = int(items.locator("form").get_attribute("action").rsplit("/", 1)[1])
    items.locator("input[name=reason]").fill("the registration is of another edition")
    items.locator("button:has-text('Reject')").click()
    expect(page.locator("h1")).to_contain_text("(0)")
    expect(page.locator("body")).to_contain_text("Nothing waits for review")
    shoot(page, shots, "reviews-empty")
    with sqlite3.connect(case.root / "store.sqlite") as db:
        status, reason = db.execute("SELECT status, reason FROM registration_links WHERE id = ?", (link,)).fetchone()
        audited = [json.loads(d) for (d,) in db.execute("SELECT detail FROM audit_log WHERE action LIKE '%review%' "
                                                       "OR action LIKE '%link%'")]
    assert status == "rejected" and reason == "the registration is of another edition (by claims)"
    assert any("another edition" in json.dumps(a) for a in audited)
    ctx.close()


def test_defendant_sees_figures_and_hashes_only_of_the_plaintiffs_text(site, browser, shots, data):
    case, base = site
    # the demo case sets no protective order: the default keeps each side's text from the other side
    assert "protective_order" not in case.config
    assert not text_allowed(case.config, "defendant", "plaintiff") and text_allowed(case.config, "defendant",
                                                                                     "defendant")
    ctx, page = signed_in(browser, base, "defendant")
    ev, work = evidence_id(case, "corpus", "removed")
    page.goto(f"/evidence/{ev}")
    sbs = page.locator("table.sbs")
    expect(page.locator(".redacted")).to_be_visible()
    assert not [t for t in sbs.locator("td.t.o").all_inner_texts() if t.strip()]  # the work's text: withheld
    assert [t for t in sbs.locator("td.t.c").all_inner_texts() if t.strip()]  # its own corpus: shown
    work_text = "\n".join(p.read_text() for p in (data / "works").rglob("*.py"))
    copy_text = "\n".join(sbs.locator("td.t.c").all_inner_texts())
    body = page.inner_text("body")
    only_work = {s for line in work_text.splitlines() if len(s := line.strip()) >= 25 and s not in copy_text}
    assert not [s for s in only_work if s in body]
    expect(page.locator("table").nth(1)).to_contain_text("coverage")  # the figures
    expect(page.locator("body")).to_contain_text("sha256")
    shoot(page, shots, "evidence-defendant")
    # a model output is the plaintiffs' side too: neither text, figures and hashes only
    ev_out, _ = evidence_id(case, "outputs", "removed")
    page.goto(f"/evidence/{ev_out}")
    assert not [t for t in page.locator("table.sbs td.t").all_inner_texts() if t.strip()]
    expect(page.locator(".redacted")).to_be_visible()
    shoot(page, shots, "evidence-defendant-output")
    page.goto("/reviews")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".err")).to_have_text("the defendant role may not see reviews")
    shoot(page, shots, "refused-defendant-reviews")
    ctx.close()


def test_classes_and_a_member_list_csv_download(site, browser, shots):
    _, base = site
    ctx, page = signed_in(browser, base, "claims")
    page.click("nav a:has-text('Classes')")
    expect(page.locator("h1")).to_have_text("Classes")
    shoot(page, shots, "classes")
    statutory = page.locator("tr:has(td:text-is('in-corpus/statutory'))")
    works = int(statutory.locator("td.num").first.inner_text())
    statutory.locator("a:has-text('list')").click()  # a subclass: its name has a slash
    expect(page.locator("h1")).to_have_text(f"Members of in-corpus/statutory ({works})")
    members = page.locator("table tr:has(td)")
    expect(members).to_have_count(works)
    titles = set(members.locator("td:nth-child(2)").all_inner_texts())
    assert "Salt and Circuitry" in titles
    shoot(page, shots, "members")
    with page.expect_download() as dl:
        page.click("a:has-text('download the CSV')")
    download = dl.value
    assert download.suggested_filename == "in-corpus__statutory.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert {r["title"] for r in rows} == titles and all(r["s412"] for r in rows)
    page.goto("/classes/no-such-class")
    expect(page.locator("h1")).to_have_text("Not found")
    shoot(page, shots, "not-found")
    ctx.close()
