"""The public lookup by image upload (web/image_lookup.py): yes or no with the tier, dataset and shard; never a
corpus image, its URL, caption or locator to the public; bounded cost per upload; and the page in Chromium."""

from __future__ import annotations

import io
import os
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ascertain.case import Case
from ascertain.readers import ReadOptions
from ascertain.sources_images import add_image_source
from ascertain.web.app import create_app
from ascertain.web.policy import ROLES
from ascertain.web.users import add_user, new_token
from ascertain.works import import_manifest

IMAGES = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def image_case(tmp_path_factory):
    """A case whose training corpus is the demo's webdataset shard and whose outputs are its generated images,
    with the artist's portfolio as works."""
    case = Case.init(tmp_path_factory.mktemp("imglookup") / "case")
    import_manifest(case, str(IMAGES / "works.csv"))
    add_image_source(case, "laion-demo-shard", "corpus", [str(IMAGES / "corpus" / "00000.tar")], ReadOptions())
    add_image_source(case, "demo-generator", "outputs", [str(IMAGES / "outputs")], ReadOptions())
    tokens = {}
    for role in ROLES:
        add_user(case, role, role, PASSWORD)
        tokens[role] = new_token(case, role)
    return case, tokens


@pytest.fixture(scope="module")
def client(image_case):
    case, _ = image_case
    with TestClient(create_app(case.root, lookups_per_minute=1000, lookup_workers=1),
                    base_url="https://testserver") as c:
        yield c


def post(client, tokens, role: str, name: str, data: bytes):
    return client.post("/api/lookup/image", files={"file": (name, data)},
                       headers={"Authorization": f"Bearer {tokens[role]}"})


def test_the_creators_image_is_found_with_tier_dataset_and_shard_and_nothing_else(image_case, client):
    _, tokens = image_case
    moon = (IMAGES / "works" / "full-moon.jpg").read_bytes()
    r = post(client, tokens, "public", "my-moon.jpg", moon)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["found"] and a["in_training_data"] and not a["in_outputs"] and a["query"] == "my-moon.jpg"
    assert a["where"] == [{"dataset": "laion-demo-shard", "kind": "corpus", "shard": "00000.tar",
                           "tier": "region_copy", "images": 1, "share_of_your_image": pytest.approx(0.49, abs=0.03)}]
    body = r.text
    # never a corpus image, its URL, its caption or where it sits in the shard
    assert "example" not in body and "000000004" not in body and "caption" not in body and "base64" not in body
    master = post(client, tokens, "master", "my-moon.jpg", moon).json()
    assert master["where"][0]["locator"][0].endswith("00000.tar!000000004.jpg")  # the parties see where it is
    assert a["works"] == [{"title": "Full Moon", "tier": "same_bytes"}]  # and it is a work on the case's list
    mars = post(client, tokens, "public", "mars.jpg", (IMAGES / "works" / "mars.jpg").read_bytes()).json()
    tiers = {(w["kind"], w["tier"]) for w in mars["where"]}
    assert tiers == {("corpus", "near_duplicate"), ("outputs", "region_copy")} and mars["in_outputs"]


def test_an_unrelated_image_is_not_found(image_case, client):
    _, tokens = image_case
    rng = __import__("random").Random(5)
    im = Image.new("RGB", (300, 200), (250, 250, 250))
    px = im.load()
    for _ in range(4000):
        px[rng.randrange(300), rng.randrange(200)] = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    a = post(client, tokens, "public", "noise.png", buf.getvalue()).json()
    assert not a["found"] and a["where"] == [] and a["works"] == [] and a["checked"]["images"] >= 20


def _bomb_png(w: int, h: int) -> bytes:
    """A small PNG whose header declares w x h pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def test_bad_uploads_are_refused_with_the_reason_before_decoding(image_case, client):
    _, tokens = image_case
    r = post(client, tokens, "public", "bomb.png", _bomb_png(100_000, 100_000))
    assert r.status_code == 400 and "decompression bomb" in r.json()["detail"]
    r = post(client, tokens, "public", "wide.png", _bomb_png(8000, 6000))  # 48 MP: over the lookup's bound
    assert r.status_code == 400 and "40,000,000-pixel bound" in r.json()["detail"]
    r = post(client, tokens, "public", "notes.txt", b"hello")
    assert r.status_code == 400 and "not an image" in r.json()["detail"]
    half = (IMAGES / "works" / "saturn.jpg").read_bytes()[:4000]
    r = post(client, tokens, "public", "cut.jpg", half)
    assert r.status_code == 400 and "truncated" in r.json()["detail"] and "/tmp" not in r.text
    small = create_app(image_case[0].root, lookups_per_minute=1000, max_upload=10_000)
    with TestClient(small, base_url="https://testserver") as c2:
        r = post(c2, tokens, "public", "big.jpg", (IMAGES / "works" / "full-moon.jpg").read_bytes())
        assert r.status_code == 413


CHROMIUM = Path("/usr/bin/chromium")


def test_the_public_page_uploads_an_image_and_shows_yes_and_where(image_case, tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("CI_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail("CI_REQUIRE_BROWSER is set but chromium is missing")
        pytest.skip("chromium is not installed")
    import uvicorn
    from playwright.sync_api import expect, sync_playwright

    case, _ = image_case
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(case.root, lookups_per_minute=1000, lookup_workers=1),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    shots = Path(os.environ.get("ASCERTAIN_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_page(viewport={"width": 1280, "height": 800},
                              base_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
            page.goto("/login")
            page.fill("input[name=name]", "public")
            page.fill("input[name=password]", PASSWORD)
            page.click("button:has-text('Sign in')")
            page.set_input_files("#image-lookup input[type=file]", str(IMAGES / "works" / "saturn.jpg"))
            page.click("button:has-text('Look up the image')")
            answer = page.locator("#image-answer")
            expect(answer).to_contain_text("Found in the case's training data: yes")
            expect(answer).to_contain_text("in model outputs: yes")
            expect(answer).to_contain_text("laion-demo-shard")
            expect(answer).to_contain_text("same bytes")
            expect(answer).to_contain_text("00000.tar")
            expect(answer).to_contain_text("It is a work on the case's list: Saturn (same bytes)")
            body = page.inner_text("body")
            assert "example" not in body and "0000000" not in body  # no URL, no member of the shard
            assert page.locator("#image-answer img").count() == 0
            page.screenshot(path=shots / "lookup-image-1280.png", full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=shots / "lookup-image-390.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            b.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
