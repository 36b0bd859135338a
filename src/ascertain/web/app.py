"""`ascertain serve`: the case as pages and their JSON twins (FastAPI, server-rendered, no build step).

Access: every route depends on `need(capability)` (web/policy.py); an API call authenticates with a bearer
token, a browser with a signed session cookie (HttpOnly, Secure, SameSite=Strict) and a CSRF token in every
form. The public lookup is rate-limited per client. Every response that carries corpus text is written to
the audit chain with the user and the evidence id.
"""

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as FastAPIPath
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from ascertain import __version__
from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.imaging.decode import is_image_name
from ascertain.web import users, views
from ascertain.web.lookup_pool import Busy, LookupPool, refused_kind
from ascertain.web.policy import can, redact
from ascertain.web.upload_guard import UploadGuard

COOKIE = "asc_session"
VISITOR_COOKIE = "asc_visitor"  # a visitor's CSRF nonce before sign-in
SESSION_SECONDS = 8 * 3600
MAX_UPLOAD = 2 * 1024 * 1024
LOOKUPS_PER_MINUTE = 30
MAX_PAGE = 1_000_000
RowId = Annotated[int, FastAPIPath(ge=1, le=2**63 - 1)]  # a row id the store can hold: larger is a 422, not a 500


def _secret(case: Case) -> bytes:
    """The case's session key, made once, readable by its owner only."""
    p = case.root / "web-secret"
    if not p.exists():
        p.touch(mode=0o600)
        p.write_text(secrets.token_hex(32))
    return bytes.fromhex(p.read_text().strip())


class RateLimit:
    """At most per_minute hits a minute per key; keys idle for a minute are forgotten (no growth per client)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute, self.hits = per_minute, defaultdict(deque)
        self.calls = 0

    def allow(self, key: str) -> bool:
        now, q = time.monotonic(), self.hits[key]
        self.calls += 1
        if self.calls % 1024 == 0:
            for k in [k for k, d in self.hits.items() if not d or now - d[-1] > 60]:
                del self.hits[k]
            q = self.hits[key]
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        return True


def _closing(pool: LookupPool):
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ARG001
        yield
        pool.close()
    return lifespan


def app_from_environment() -> FastAPI:
    """The app of one of `ascertain serve --workers N`'s processes (the case and limit come from serve)."""
    return create_app(Path(os.environ["ASCERTAIN_SERVE_CASE"]),
                      lookups_per_minute=int(os.environ["ASCERTAIN_SERVE_LOOKUPS_PER_MINUTE"]),
                      lookup_workers=int(os.environ.get("ASCERTAIN_SERVE_LOOKUP_WORKERS", "2")),
                      lookup_seconds=float(os.environ.get("ASCERTAIN_SERVE_LOOKUP_SECONDS", "20")))


def create_app(case_root: Path, lookups_per_minute: int = LOOKUPS_PER_MINUTE, max_upload: int = MAX_UPLOAD,
               lookup_workers: int = 2, lookup_seconds: float = 20.0) -> FastAPI:
    case = Case.open(case_root)
    pool = LookupPool(case.root, workers=lookup_workers, seconds=lookup_seconds)
    secret = _secret(case)
    signer = URLSafeTimedSerializer(secret, salt="ascertain-session")
    limiter = RateLimit(lookups_per_minute)
    root = resources.files("ascertain")
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(root / "web" / "templates")),
                                           FileSystemLoader(str(root / "report" / "templates"))]),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    css = (root / "report" / "templates" / "style.css").read_text(encoding="utf-8").replace("PAPER_SIZE", "A4")
    app = FastAPI(title=f"ascertain: {case.root.name}", version=__version__, docs_url=None, redoc_url=None,
                  description="Pages of a case and their JSON twins under /api. Authenticate with "
                              "`Authorization: Bearer TOKEN` (`ascertain users token CASE NAME`).",
                  lifespan=_closing(pool))
    app.state.lookup_pool = pool
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        resp = await call_next(request)
        # the Swagger page has its set-up script inline; no other page has a script
        script = "'self' 'unsafe-inline'" if request.url.path == "/docs" else "'self'"
        resp.headers.setdefault("Content-Security-Policy", f"default-src 'self'; script-src {script}; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'self'")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    @app.get("/api", include_in_schema=False)
    def api_index():
        """The API's endpoints (the page footer and the README point here); /docs shows them with a form."""
        schema = app.openapi()
        endpoints = [{"method": m.upper(), "path": path, "summary": op.get("summary", ""),
                      "capability": op.get("x-capability")}
                     for path, ops in schema["paths"].items() for m, op in ops.items()]
        return {"endpoints": endpoints, "docs": "/docs", "openapi": "/openapi.json",
                "authentication": "Authorization: Bearer TOKEN (`ascertain users token CASE NAME`)"}

    @app.get("/docs", include_in_schema=False)
    def docs_page():
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title}: API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css", swagger_favicon_url="")

    app.add_middleware(UploadGuard, paths={"/lookup", "/api/lookup", "/lookup/image", "/api/lookup/image"},
                       max_bytes=max_upload, allow=limiter.allow,
                       per_minute=lookups_per_minute)

    def session(request: Request) -> dict | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            return signer.loads(raw, max_age=SESSION_SECONDS)
        except BadSignature:
            return None

    def current_user(request: Request) -> users.User:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            u = users.by_token(case, auth[7:].strip())
            if u is None:
                raise HTTPException(401, "unknown or revoked token")
            return u
        sess = session(request)
        if sess:  # a live server-side session: signing out, `users revoke/remove/passwd` end it
            u = users.session_user(case, int(sess["uid"]), str(sess.get("nonce", "")), SESSION_SECONDS)
            if u:
                return u
        return users.ANONYMOUS

    def same_origin(request: Request) -> bool:
        """A browser's request from this site's own pages: Sec-Fetch-Site, else Origin, says where it came from."""
        site = request.headers.get("sec-fetch-site")
        if site is not None:
            return site in ("same-origin", "none")
        origin = request.headers.get("origin")
        return origin is not None and urlsplit(origin).netloc == request.headers.get("host", "")

    def need(capability: str):
        def dep(request: Request, user: Annotated[users.User, Depends(current_user)]) -> users.User:
            cookie_write = (request.method not in ("GET", "HEAD", "OPTIONS") and request.url.path.startswith("/api/")
                            and not request.headers.get("authorization") and request.cookies.get(COOKIE))
            if cookie_write and not (same_origin(request) or hmac.compare_digest(
                    request.headers.get("x-csrf-token", ""), csrf_token(request))):
                # a write with the session cookie from another site (CSRF); bearer-token calls carry no cookie
                raise HTTPException(403, "a write with the session cookie must come from this site's pages "
                                         "(Origin or Sec-Fetch-Site) or carry the X-CSRF-Token header: "
                                         "API clients use a bearer token")
            if not can(user.role, capability):
                if user is users.ANONYMOUS and not request.url.path.startswith("/api/"):
                    raise HTTPException(303, headers={"Location": f"/login?next={request.url.path}"})
                raise HTTPException(403 if user is not users.ANONYMOUS else 401,
                                    f"the {user.role} role may not see {capability}")
            return user
        return dep

    def visitor_nonce(request: Request) -> str | None:
        """The nonce CSRF tokens are made from: the session's, or a visitor's own before sign-in (never one
        value shared by every anonymous visitor)."""
        sess = session(request)
        if sess:
            return sess.get("nonce")
        raw = request.cookies.get(VISITOR_COOKIE, "")
        return raw if re.fullmatch(r"[0-9a-f]{32}", raw) else None

    def csrf_token(request: Request, nonce: str | None = None) -> str:
        nonce = nonce or visitor_nonce(request)
        return hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest() if nonce else ""

    def check_csrf(request: Request, token: str) -> None:
        expected = csrf_token(request)
        if not expected or not hmac.compare_digest(token or "", expected):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and submit the form again")

    def page(request: Request, template: str, user: users.User, **ctx) -> HTMLResponse:
        nonce = visitor_nonce(request)
        new = None if nonce else secrets.token_hex(16)
        ctx = {k: redact(user.role, v) if isinstance(v, dict | list) else v for k, v in ctx.items()}  # field rules
        html = env.get_template(template).render(css=css, user=user, case_name=case.root.name,
                                                 csrf=csrf_token(request, nonce or new),
                                                 can=lambda cap: can(user.role, cap), version=__version__, **ctx)
        resp = HTMLResponse(html)
        if new:
            resp.set_cookie(VISITOR_COOKIE, new, max_age=SESSION_SECONDS, httponly=True, secure=True,
                            samesite="strict")
        return resp

    def audit_text(user: users.User, what: str, detail: dict) -> None:
        case.store.audit("web: text served", {"user": user.name, "role": user.role, "what": what, **detail})

    def is_page(request: Request) -> bool:
        """A browser page (an error is shown as a page), not the API or its schema (an error is JSON)."""
        return not request.url.path.startswith(("/api/", "/openapi", "/docs", "/redoc"))

    def error_page(request: Request, status: int, message: str, fix: str = "") -> HTMLResponse:
        try:
            user = current_user(request)
        except HTTPException:
            user = users.ANONYMOUS
        resp = page(request, "error.html.j2", user, status=status, message=message, fix=fix, next=request.url.path)
        resp.status_code = status
        return resp

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code < 400 or not is_page(request):
            return await http_exception_handler(request, exc)
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(views.NotFound)
    async def not_found(request: Request, exc: views.NotFound):
        if is_page(request):
            return error_page(request, 404, f"There is no such {exc} in this case.")
        return JSONResponse({"detail": f"no such {exc}"}, status_code=404)

    @app.exception_handler(AscertainError)
    async def bad_input(request: Request, exc: AscertainError):
        if is_page(request):
            return error_page(request, 400, f"{exc.what}: {exc.problem}", exc.fix)
        return JSONResponse({"detail": f"{exc.what}: {exc.problem}", "fix": exc.fix}, status_code=400)

    # --- sign-in ---------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/"):
        return page(request, "login.html.j2", users.ANONYMOUS, next=next if next.startswith("/") else "/", error="")

    @app.post("/login", include_in_schema=False)
    def login(request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()],
              csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
        check_csrf(request, csrf)
        if not limiter.allow("login:" + (request.client.host if request.client else "?")):
            raise HTTPException(429, "too many attempts: wait a minute")
        u = users.check_password(case, name, password)
        if u is None:
            case.store.audit("web: sign-in refused", {"name": name}, ok=False)
            return page(request, "login.html.j2", users.ANONYMOUS, next=next, error="Wrong name or password.")
        resp = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/", 303)
        resp.set_cookie(COOKIE, signer.dumps({"uid": u.id, "nonce": users.start_session(case, u)}),
                        max_age=SESSION_SECONDS,
                        httponly=True, secure=True, samesite="strict")
        case.store.audit("web: sign-in", {"name": u.name, "role": u.role})
        return resp

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: Annotated[str, Form()] = ""):
        check_csrf(request, csrf)
        sess = session(request)
        if sess:  # ended on the server: the cookie, if replayed, no longer signs anyone in
            users.end_session(case, str(sess.get("nonce", "")))
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(COOKIE)
        return resp

    # --- dashboard -----------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, user: Annotated[users.User, Depends(current_user)]):
        if not can(user.role, "dashboard"):
            return RedirectResponse("/lookup", 303)
        return page(request, "dashboard.html.j2", user, d=views.dashboard(case))

    @app.get("/api/dashboard", summary="Sources, works, copies by kind, CMI status, classes, last runs",
             openapi_extra={"x-capability": "dashboard"})
    def api_dashboard(user: Annotated[users.User, Depends(need("dashboard"))]):
        return redact(user.role, views.dashboard(case))

    # --- works ------------------------------------------------------------------------------------------
    @app.get("/works", response_class=HTMLResponse, include_in_schema=False)
    def works_page(request: Request, user: Annotated[users.User, Depends(need("works"))], q: str = "",
                   page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1, copied: bool = False):
        return page(request, "works.html.j2", user, d=views.works_list(case, q, page_no, copied))

    @app.get("/api/works", summary="Works, searchable by title or claimant, 50 a page",
             openapi_extra={"x-capability": "works"})
    def api_works(user: Annotated[users.User, Depends(need("works"))], q: str = "",
                  page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                  copied: bool = False):
        return redact(user.role, views.works_list(case, q, page, copied))

    @app.get("/works/{work_id}", response_class=HTMLResponse, include_in_schema=False)
    def work_page(request: Request, work_id: RowId, user: Annotated[users.User, Depends(need("works"))]):
        return page(request, "work.html.j2", user, w=views.work_page(case, work_id))

    @app.get("/api/works/{work_id}", summary="One work with all its evidence (figures)",
             openapi_extra={"x-capability": "works"})
    def api_work(work_id: RowId, user: Annotated[users.User, Depends(need("works"))]):
        return redact(user.role, views.work_page(case, work_id))

    # --- evidence viewer -----------------------------------------------------------------------------
    def _exhibit(evidence_id: int, user: users.User) -> dict:
        record, shown = views.evidence_view(case, evidence_id, user)
        if shown:
            audit_text(user, "evidence", {"evidence": evidence_id, "sides": shown})
        return record

    @app.get("/evidence/{evidence_id}", response_class=HTMLResponse, include_in_schema=False)
    def evidence_page(request: Request, evidence_id: RowId, user: Annotated[users.User, Depends(need("evidence"))]):
        return page(request, "evidence.html.j2", user, e=_exhibit(evidence_id, user))

    @app.get("/api/evidence/{evidence_id}", summary="One exhibit: both texts aligned (as the role may see them)",
             openapi_extra={"x-capability": "evidence"})
    def api_evidence(evidence_id: RowId, user: Annotated[users.User, Depends(need("evidence"))]):
        return redact(user.role, views.exhibit_json(_exhibit(evidence_id, user)))

    # --- classes and reviews ----------------------------------------------------------------------------
    @app.get("/classes", response_class=HTMLResponse, include_in_schema=False)
    def classes_page(request: Request, user: Annotated[users.User, Depends(need("classes"))]):
        return page(request, "classes.html.j2", user, d=views.classes_view(case))

    @app.get("/api/classes", summary="Classes and subclasses: counts, §412 split",
             openapi_extra={"x-capability": "classes"})
    def api_classes(user: Annotated[users.User, Depends(need("classes"))]):
        return redact(user.role, views.classes_view(case))

    @app.get("/classes/{name:path}", response_class=HTMLResponse, include_in_schema=False)
    def members_page(request: Request, name: str, user: Annotated[users.User, Depends(need("classes"))]):
        return page(request, "members.html.j2", user, d=views.class_members(case, name, user.role))

    # {name:path}: a subclass's name has a slash in it ("in-corpus/statutory")
    @app.get("/api/classes/{name:path}/members.csv", summary="A class's member list (CSV)",
             openapi_extra={"x-capability": "classes"})
    def api_members(name: str, user: Annotated[users.User, Depends(need("classes"))]):
        return Response(views.class_members_csv(case, name, user.role), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name.replace("/", "__")}.csv"'})

    @app.get("/api/classes/{name:path}/members.json", summary="A class's member list (JSON): every column, with "
             "evidence tier and dispute", openapi_extra={"x-capability": "classes"})
    def api_members_json(name: str, user: Annotated[users.User, Depends(need("classes"))]):
        return redact(user.role, views.class_members(case, name, user.role, every_column=True))

    @app.get("/reviews", response_class=HTMLResponse, include_in_schema=False)
    def reviews_page(request: Request, user: Annotated[users.User, Depends(need("reviews"))]):
        return page(request, "reviews.html.j2", user, d=views.reviews(case))

    @app.get("/api/reviews", summary="Uncertain registration links waiting for a person",
             openapi_extra={"x-capability": "reviews"})
    def api_reviews(user: Annotated[users.User, Depends(need("reviews"))]):
        return redact(user.role, views.reviews(case))

    @app.post("/reviews/{link_id}", include_in_schema=False)
    def review_form(request: Request, link_id: RowId, user: Annotated[users.User, Depends(need("review_decide"))],
                    decision: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
                    csrf: Annotated[str, Form()] = ""):
        check_csrf(request, csrf)
        views.decide_review(case, link_id, decision == "accept", reason, user)
        return RedirectResponse("/reviews", 303)

    @app.post("/api/reviews/{link_id}", summary="Accept or reject a link, with a reason (audited)",
             openapi_extra={"x-capability": "review_decide"})
    def api_review(link_id: RowId, user: Annotated[users.User, Depends(need("review_decide"))],
                   decision: Annotated[str, Form()], reason: Annotated[str, Form()] = ""):
        if decision not in ("accept", "reject"):
            raise HTTPException(422, "decision must be accept or reject")
        return redact(user.role, views.decide_review(case, link_id, decision == "accept", reason, user))

    # --- membership disputes: a party opens one (form + JSON twin), the master resolves it; all audited ---
    @app.get("/disputes", response_class=HTMLResponse, include_in_schema=False)
    def disputes_page(request: Request, user: Annotated[users.User, Depends(need("disputes"))]):
        return page(request, "disputes.html.j2", user, d=views.disputes(case), classes=views.classes_view(case))

    @app.get("/api/disputes", summary="Challenges to class membership and their resolutions",
             openapi_extra={"x-capability": "disputes"})
    def api_disputes(user: Annotated[users.User, Depends(need("disputes"))]):
        return redact(user.role, views.disputes(case))

    @app.post("/disputes", include_in_schema=False)
    def dispute_form(request: Request, user: Annotated[users.User, Depends(need("dispute_open"))],
                     class_name: Annotated[str, Form()] = "", work_id: Annotated[str, Form()] = "",
                     reason: Annotated[str, Form()] = "", evidence: Annotated[str, Form()] = "",
                     csrf: Annotated[str, Form()] = ""):
        check_csrf(request, csrf)
        views.open_dispute(case, class_name, work_id, reason, evidence, user)
        return RedirectResponse("/disputes", 303)

    @app.post("/api/disputes", summary="Contest a member of a class: class, work id, reason, evidence (audited)",
              openapi_extra={"x-capability": "dispute_open"})
    def api_dispute(user: Annotated[users.User, Depends(need("dispute_open"))],
                    class_name: Annotated[str, Form()] = "", work_id: Annotated[str, Form()] = "",
                    reason: Annotated[str, Form()] = "", evidence: Annotated[str, Form()] = ""):
        return redact(user.role, views.open_dispute(case, class_name, work_id, reason, evidence, user))

    @app.post("/disputes/resolve", include_in_schema=False)
    def resolve_form(request: Request, user: Annotated[users.User, Depends(need("dispute_resolve"))],
                     dispute_id: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                     resolution: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
        check_csrf(request, csrf)
        views.resolve_dispute(case, dispute_id, outcome, resolution, user)
        return RedirectResponse("/disputes", 303)

    @app.post("/api/disputes/resolve", summary="The master resolves a dispute: upheld or rejected, with reasons "
              "(audited)", openapi_extra={"x-capability": "dispute_resolve"})
    def api_resolve(user: Annotated[users.User, Depends(need("dispute_resolve"))],
                    dispute_id: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                    resolution: Annotated[str, Form()] = ""):
        return redact(user.role, views.resolve_dispute(case, dispute_id, outcome, resolution, user))

    # --- the public lookup ----------------------------------------------------------------------------
    def _limited(request: Request, user: users.User) -> None:
        key = f"{user.name}:{request.client.host if request.client else '?'}"
        if not limiter.allow(key):
            raise HTTPException(429, f"more than {limiter.per_minute} lookups a minute: wait a minute")

    async def _upload_text(file: UploadFile, folder: str) -> str:
        """The upload as a file in its own temporary folder (the guard has already bounded its size)."""
        why = refused_kind(file.filename or "")
        if why:
            raise HTTPException(415, f"{why}: upload the work itself as text, PDF, EPUB or HTML")
        data = await file.read(max_upload + 1)
        if len(data) > max_upload:
            raise HTTPException(413, f"the file is larger than {max_upload:,} bytes: look up a smaller file")
        path = Path(folder) / ("upload" + Path(file.filename or "upload.txt").suffix[:12])
        path.write_bytes(data)  # kept only while it is compared, then removed with its folder
        return str(path)

    async def _lookup(request: Request, user: users.User, q: str, file: UploadFile | None) -> dict | None:
        if not q and (file is None or not file.filename):
            return None
        if file is None or not file.filename:  # a query: cheap, answered here (uploads are limited by the guard)
            _limited(request, user)
            return redact(user.role, await run_in_threadpool(views.lookup, case, q, None, user))
        shown = Path(file.filename).name
        with tempfile.TemporaryDirectory(prefix="ascertain-upload-") as folder:
            path = await _upload_text(file, folder)
            try:  # in a worker process: the file's CPU time never holds up this process (web/lookup_pool.py)
                found = await pool.lookup(path)
            except Busy:
                raise HTTPException(503, "the server is busy with other lookups: try again in a minute",
                                    headers={"Retry-After": "60"}) from None
            except AscertainError as e:  # the error names the file as it was sent, never the server's copy
                raise AscertainError(shown, e.problem.replace(path, shown),
                                     "look up a plain-text copy of the work, or a shorter extract of it") from None
        r = views.answer_for(found, None, user)
        r["query"] = r["query"].replace(path, shown)
        return redact(user.role, r)

    async def _lookup_image(user: users.User, file: UploadFile) -> dict:
        """An uploaded image against the case's images, in a worker with a timer (web/image_lookup.py)."""
        shown = Path(file.filename or "").name
        if not is_image_name(shown):
            raise AscertainError(shown or "the upload", "is not an image file",
                                 "upload a JPEG, PNG, WebP, TIFF, GIF or BMP image")
        data = await file.read(max_upload + 1)
        if len(data) > max_upload:
            raise HTTPException(413, f"the file is larger than {max_upload:,} bytes: look up a smaller file")
        with tempfile.TemporaryDirectory(prefix="ascertain-upload-") as folder:
            path = Path(folder) / ("upload" + Path(shown).suffix.lower()[:8])
            path.write_bytes(data)  # kept only while it is compared, then removed with its folder
            try:
                found = await pool.lookup_image(str(path))
            except Busy:
                raise HTTPException(503, "the server is busy with other lookups: try again in a minute",
                                    headers={"Retry-After": "60"}) from None
            except AscertainError as e:  # the error names the file as it was sent, never the server's copy
                raise AscertainError(shown, e.problem.replace(str(path), shown), e.fix) from None
        found["query"] = shown
        return redact(user.role, views.image_answer_for(found, user))

    @app.post("/lookup/image", response_class=HTMLResponse, include_in_schema=False)
    async def lookup_image_upload(request: Request, user: Annotated[users.User, Depends(need("lookup"))],
                                  file: UploadFile, csrf: Annotated[str, Form()] = ""):
        check_csrf(request, csrf)
        return page(request, "lookup.html.j2", user, q="", r=None, ri=await _lookup_image(user, file))

    @app.post("/api/lookup/image", summary="Was this image used? Yes or no, with the tier, dataset and shard of each "
              "match (size- and time-limited; the image is not kept; never a corpus image or its URL)",
              openapi_extra={"x-capability": "lookup"})
    async def api_lookup_image(file: UploadFile, user: Annotated[users.User, Depends(need("lookup"))]):
        return await _lookup_image(user, file)

    @app.get("/lookup", response_class=HTMLResponse, include_in_schema=False)
    async def lookup_page(request: Request, user: Annotated[users.User, Depends(need("lookup"))], q: str = ""):
        return page(request, "lookup.html.j2", user, q=q, r=await _lookup(request, user, q, None))

    @app.post("/lookup", response_class=HTMLResponse, include_in_schema=False)
    async def lookup_upload(request: Request, user: Annotated[users.User, Depends(need("lookup"))],
                            file: UploadFile, csrf: Annotated[str, Form()] = ""):
        check_csrf(request, csrf)
        return page(request, "lookup.html.j2", user, q="", r=await _lookup(request, user, "", file))

    @app.get("/api/lookup", summary="Is a work on the list, and why? By title, author, ISBN or registration number",
             openapi_extra={"x-capability": "lookup"})
    async def api_lookup(request: Request, q: str, user: Annotated[users.User, Depends(need("lookup"))]):
        return await _lookup(request, user, q, None)

    @app.post("/api/lookup", summary="Is this file a work on the list? (size-limited; the file is not kept)",
             openapi_extra={"x-capability": "lookup"})
    async def api_lookup_file(request: Request, file: UploadFile,
                              user: Annotated[users.User, Depends(need("lookup"))]):
        return await _lookup(request, user, "", file)

    return app
