"""The pages under attack (issue 10, items 3, 5, 8, 9): the page role matrix against the API's,
cross-site form posts and login CSRF, security headers and no inline script on every page route,
a stored ``javascript:`` URL never shown as a link.

Every page route is enumerated from ``app.routes`` (a new page fails until it is in ``PAGES``),
on a database of this module's own (a small demo park, then one key per role): SQLite file, or a
schema of the PostgreSQL test database.  The last tests drive a real browser from a page on
another port (the same *site*, so ``SameSite=Strict`` cookies go along)."""

from __future__ import annotations

import http.server
import itertools
import json
import re
import threading
import uuid
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import yaml
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import Session

from app import demo
from tests.access.test_auth import EXPECTED
from tests.conftest import new_key
from tests.factories import standalone_doc
from tests.web.conftest import VIEWPORT, csrf, demo_scene, keyed_server
from tests.web.test_pages_auth import login
from tests.web.test_pages_proposal import FLAGS, PASSING

R, OF, T, A = "rule_admin", "officer", "tax_system", "auditor"
ROLES = (R, OF, T, A)
PUBLIC = "public"
SPEC = demo.Spec(parcels=20, years=2, seed=4242, last_year=2025)

# Every page route → the API operation whose roles it has (tests/access/test_auth.py EXPECTED), or PUBLIC.
# A page showing data has the roles of the API read that returns it; a form page that only serves a
# write has the write's roles; the proposal form also resolves the rule set (GET …/resolve).
PAGES: dict[tuple[str, str], tuple[str, str] | str] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/proposal"): ("GET", "/v1/rulesets/resolve"),
    ("POST", "/proposal"): ("POST", "/v1/checks/proposal"),
    ("GET", "/proposal/result/{decision_id}"): ("GET", "/v1/decisions/{decision_id}"),
    ("GET", "/proposal/result/{decision_id}/print"): ("GET", "/v1/decisions/{decision_id}"),
    ("GET", "/rulesets"): ("GET", "/v1/rulesets"),
    ("GET", "/rulesets/{rid}/versions/{version}"): ("GET", "/v1/rulesets/{rid}/versions/{version}"),
    ("GET", "/rulesets/{rid}/diff"): ("GET", "/v1/rulesets/{rid}/diff"),
    ("GET", "/rulesets/upload"): ("POST", "/v1/rulesets"),
    ("POST", "/rulesets/upload"): ("POST", "/v1/rulesets"),
    ("GET", "/contracts"): ("GET", "/v1/contracts/{contract_no}"),
    ("GET", "/contracts/check"): ("POST", "/v1/checks/contract"),
    ("POST", "/contracts/check"): ("POST", "/v1/checks/contract"),
    ("GET", "/contracts/check/{decision_id}"): ("GET", "/v1/decisions/{decision_id}"),
    ("GET", "/contracts/{contract_no}"): ("GET", "/v1/contracts/{contract_no}/performance"),
    ("GET", "/parks"): ("GET", "/v1/parks/{park_id}"),
    ("GET", "/parks/scoring"): ("GET", "/v1/scoring/rulesets"),
    ("POST", "/parks/scoring"): ("POST", "/v1/scoring/runs"),
    ("GET", "/parks/scoring/runs/{run_id}"): ("GET", "/v1/scoring/runs/{run_id}"),
    ("GET", "/parks/{park_id}"): ("GET", "/v1/parks/{park_id}"),
    ("GET", "/parks/{park_id}/ledger"): ("GET", "/v1/parks/{park_id}/ledger"),
    ("GET", "/parks/{park_id}/evaluation"): ("GET", "/v1/parks/{park_id}/evaluation"),
}
NOT_PAGES = {"/healthz", "/metrics"}      # service endpoints outside /v1 (tests/access/test_auth.py OPEN_PATHS)


def page_routes() -> set[tuple[str, str]]:
    """Every (method, path) the app routes outside /v1, through included routers."""
    from app.main import app

    out = set()
    for ctx in iter_route_contexts(app.routes):
        route, path = ctx.original_route, ctx.path
        if isinstance(route, APIRoute) and path and not path.startswith("/v1") and path not in NOT_PAGES:
            out |= {(m, path) for m in route.methods if m != "HEAD"}
    return out


def allowed_roles(method: str, path: str) -> set[str]:
    op = PAGES[(method, path)]
    return set(ROLES) if op == PUBLIC else {str(r) for r in EXPECTED[op]}


# ---------------------------------------------------------------- the scene: a database of our own

@pytest.fixture(scope="module")
def scene(database_url, tmp_path_factory):
    """A client on this module's database holding a demo park (contracts, tax, a scoring run), a
    proposal verdict and a clause check, with one key per role (created after the data: open mode)."""
    with demo_scene(tmp_path_factory.mktemp("pagesec"), "web_security_tests", SPEC) as scene:
        scene["keys"] = {role: new_key(role, label="page security") for role in ROLES}
        yield scene


def as_key(c, secret: str | None):
    from app.access.auth import COOKIE

    c.cookies.clear()
    if secret:
        c.cookies.set(COOKIE, secret)
    return c


def url_of(path: str, ids: dict) -> str:
    def fill(m: re.Match) -> str:
        name = m.group(1)
        return quote(ids["check_id"] if (name == "decision_id" and path.startswith("/contracts")) else ids[name], safe="")

    return re.sub(r"\{(\w+)\}", fill, path)


_JURISDICTIONS = itertools.count(10)


def _upload_yaml(tag: str) -> str:
    """A new stand-alone rule set, each in a county of its own (no two at the same level overlap)."""
    doc = standalone_doc(f"pagesec-{tag}-{uuid.uuid4().hex[:8]}", jurisdiction=f"4199{next(_JURISDICTIONS)}")
    return yaml.safe_dump(doc, allow_unicode=True)


# The unit selects a browser submits with their first option (the canonical unit).
UNITS = {"land_area.unit": "亩", "measures.fixed_asset_investment.unit": "万元", "measures.annual_tax.unit": "万元",
         "indicators.building_coefficient.unit": "%", "indicators.admin_land_share.unit": "%",
         "indicators.green_ratio.unit": "%"}


def form_for(path: str) -> dict:
    """A valid submission of each page form (the token is added per key)."""
    from app.web.pages_contract_check import EXAMPLE
    from tests.web.test_pages_parks import ENTERPRISES

    return {
        "/proposal": {**PASSING, **dict.fromkeys(FLAGS, "on"), **UNITS},
        "/contracts/check": dict(EXAMPLE),
        "/parks/scoring": {"ruleset": "", "year": "2025", "enterprises": "\n".join(ENTERPRISES)},
        "/rulesets/upload": {"yaml": _upload_yaml("matrix")},
        "/login": {"key": "whatever", "next": "/"},
        "/logout": {},
    }[path]


def call(c, method: str, path: str, ids: dict):
    url = url_of(path, ids)
    if method == "GET":
        return c.get(url, follow_redirects=False)
    # As a browser on this site's own page: its Origin, the form's token for this client's key.
    return c.post(url, data={**form_for(path), **csrf(c, path)}, headers={"Origin": "http://testserver"},
                  follow_redirects=False)


# ---------------------------------------------------------------- item 3: the page role matrix

def test_every_page_route_has_its_api_capability():
    routes = page_routes()
    assert routes - PAGES.keys() == set(), "page routes without an API capability in PAGES"
    assert PAGES.keys() - routes == set(), "PAGES lists routes that no longer exist"
    for op in PAGES.values():
        assert op == PUBLIC or op in EXPECTED, op


@pytest.mark.parametrize(("method", "path"), sorted(PAGES), ids=lambda v: v)
def test_page_matrix_follows_the_api(scene, method, path):
    """Each role gets exactly what the API gives it: allowed → the page (200/201) or its redirect
    (303); refused → the 403 page; no key → the login form (public pages: shown)."""
    c, ids, keys = scene["client"], scene["ids"], scene["keys"]
    allowed = allowed_roles(method, path)
    r = call(as_key(c, None), method, path, ids)
    if allowed == set(ROLES):
        assert r.status_code in (200, 303), (r.status_code, r.text[-1500:])
    else:
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), (r.status_code, r.text[-800:])
    for role in ROLES:
        r = call(as_key(c, keys[role]), method, path, ids)
        if role in allowed:
            assert r.status_code in (200, 201, 303), (role, r.status_code, r.text[-1500:])
            if r.status_code == 303:
                assert not r.headers["location"].startswith("/login"), (role, r.headers["location"])
        else:
            assert r.status_code == 403 and "text/html" in r.headers["content-type"], (role, r.status_code)
            assert "无权访问" in r.text, (role, r.text[-800:])


def test_rule_admin_sees_no_tax_on_the_contract_and_park_pages(scene):
    """The reported leak: the API refuses rule_admin the contract's performance and the park's
    figures; the pages did not."""
    c, ids, keys = scene["client"], scene["ids"], scene["keys"]
    for url in (f"/contracts/{ids['contract_no']}", f"/parks/{ids['park_id']}", f"/parks/{ids['park_id']}/ledger",
                f"/parks/{ids['park_id']}/evaluation", "/parks", f"/parks/scoring/runs/{ids['run_id']}"):
        r = as_key(c, keys[R]).get(url)
        assert r.status_code == 403 and "亩均税收" not in r.text, url


# ---------------------------------------------------------------- item 5: headers and no inline script

class _Inline(HTMLParser):
    """Collects what a strict Content-Security-Policy would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in a
            if "src" in a and not (a["src"] or "").startswith("/static/"):
                self.found.append(f"script from {a['src']}")
        if tag == "style":
            self.found.append("<style> block")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name == "style":
                self.found.append(f"{tag} style=")
            if name in ("href", "src", "action", "formaction") and value and \
                    re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"{tag} {name}={value[:40]}")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append("inline <script>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def inline_content(html: str) -> list[str]:
    p = _Inline()
    p.feed(html)
    return p.found


def assert_headers(r, url: str) -> None:
    from app.web.security import POLICY

    h = r.headers
    assert h.get("content-security-policy") == POLICY, url
    assert "'unsafe-inline'" not in POLICY and "frame-ancestors 'none'" in POLICY and "script-src 'self'" in POLICY
    assert h.get("x-frame-options") == "DENY", url
    assert h.get("x-content-type-options") == "nosniff", url
    assert h.get("referrer-policy") == "same-origin", url


def test_every_page_has_the_headers_and_no_inline_script(scene):
    """Every page route, as an officer and as an auditor (the pages each can see), with real ids, a
    missing id, a refusal and a form error: the security headers, and nothing inline."""
    c, ids, keys = scene["client"], scene["ids"], scene["keys"]
    seen = 0
    for method, path in sorted(page_routes()):
        for role in (OF, A, R):
            r = call(as_key(c, keys[role]), method, path, ids)
            assert_headers(r, f"{method} {path} as {role}")
            if "text/html" in r.headers.get("content-type", ""):
                assert inline_content(r.text) == [], (method, path, role, inline_content(r.text))
                seen += 1
        if method == "GET" and "{" in path:
            r = as_key(c, keys[OF]).get(re.sub(r"\{\w+\}", "no-such-thing", path))
            assert r.status_code in (403, 404), (path, r.status_code)
            assert_headers(r, path)
            assert inline_content(r.text) == [], path
    r = as_key(c, keys[OF]).post("/proposal", data={"as_of": "x", **csrf(c, "/proposal")})
    assert r.status_code == 422 and inline_content(r.text) == []
    assert_headers(r, "POST /proposal 422")
    r = as_key(c, keys[OF]).get(f"/proposal/result/{ids['decision_id']}/print")
    assert '<link rel="stylesheet" href="/static/proposal_print.css">' in r.text    # the A4 page rule, as a file
    for url in ("/v1/decisions/verify", "/static/site.css", "/static/proposal.js"):
        assert_headers(as_key(c, keys[OF]).get(url), url)
    assert seen > 40


def test_the_api_docs_have_a_policy_of_their_own_covering_their_inline_scripts(scene):
    import base64
    import hashlib

    c = as_key(scene["client"], None)
    for url in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        r = c.get(url)
        assert r.status_code == 200
        policy = r.headers["content-security-policy"]
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in policy
        for body in re.findall(r"<script>(.*?)</script>", r.text, re.S):
            h = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{h}'" in script_src, url
        assert r.headers["x-frame-options"] == "DENY"


def test_a_stored_javascript_url_is_shown_as_text(scene):
    """A document URL that reached the store before validation refused it (written here straight
    into the table) is never rendered as a link."""
    from sqlmodel import select

    from app.store.db import get_engine
    from app.store.models import RuleSetVersion

    c, keys = scene["client"], scene["keys"]
    rid = f"pagesec-xss-{uuid.uuid4().hex[:8]}"
    doc = standalone_doc(rid, jurisdiction="419899")
    doc["documents"]["t-doc"]["url"] = "https://example.gov.cn/doc"
    r = c.post("/v1/rulesets", json=doc, headers={"Authorization": f"Bearer {keys[R]}"})
    assert r.status_code == 201, r.text
    with Session(get_engine()) as s:
        row = s.exec(select(RuleSetVersion).where(RuleSetVersion.ruleset_id == rid)).one()
        stored = json.loads(row.document)
        stored["documents"]["t-doc"]["url"] = "javascript:alert(document.domain)"
        row.document = json.dumps(stored, ensure_ascii=False)
        s.add(row)
        s.commit()
    page = as_key(c, keys[A]).get(f"/rulesets/{rid}/versions/1")
    assert page.status_code == 200
    assert "测〔2024〕1号" in page.text                   # the citation is shown …
    assert "javascript:" not in page.text.lower()          # … and the scheme never as a link
    assert inline_content(page.text) == []


# ---------------------------------------------------------------- item 9: cross-site posts

OTHER_PORT = "http://testserver:8081"
SIBLING = "http://evil.testserver"


def _published(c, keys: dict, rid: str) -> bool:
    return c.get(f"/v1/rulesets/{rid}", headers={"Authorization": f"Bearer {keys[R]}"}).status_code == 200


@pytest.mark.parametrize(("label", "headers", "with_token"), [
    ("another port", {"Origin": OTHER_PORT}, True),
    ("a sibling subdomain", {"Origin": SIBLING}, True),
    ("Origin: null", {"Origin": "null"}, True),
    ("Sec-Fetch-Site: same-site", {"Sec-Fetch-Site": "same-site"}, True),
    ("Sec-Fetch-Site: cross-site, no Origin", {"Sec-Fetch-Site": "cross-site"}, True),
    ("same origin without the token", {"Origin": "http://testserver"}, False),
    ("no Origin and no token", {}, False),
])
def test_a_cross_site_rule_set_upload_is_refused_and_stores_nothing(scene, label, headers, with_token):
    c, keys = scene["client"], scene["keys"]
    text = _upload_yaml("csrf")
    rid = yaml.safe_load(text)["id"]
    as_key(c, keys[R])
    data = {"yaml": text, **(csrf(c, "/rulesets/upload") if with_token else {})}
    r = c.post("/rulesets/upload", data=data, headers=headers)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"], (label, r.status_code)
    assert "请求被拒绝" in r.text and "未保存任何内容" in r.text
    assert not _published(c, keys, rid), label
    # The same form from this site's own page is accepted (the control).
    r = c.post("/rulesets/upload", data={"yaml": text, **csrf(c, "/rulesets/upload")}, headers={"Origin": "http://testserver"})
    assert r.status_code == 201 and _published(c, keys, rid), r.text[-1500:]


def test_a_token_of_another_key_or_form_is_refused(scene):
    c, keys = scene["client"], scene["keys"]
    text = _upload_yaml("csrf-token")
    rid = yaml.safe_load(text)["id"]
    token_of_officer = csrf(as_key(c, keys[OF]), "/rulesets/upload")
    token_of_other_form = csrf(as_key(c, keys[R]), "/proposal")
    for data in (token_of_officer, {"csrf_token": token_of_other_form["csrf_token"]}, {"csrf_token": ""},
                 {"csrf_token": "x" * 64}):
        r = as_key(c, keys[R]).post("/rulesets/upload", data={"yaml": text, **data})
        assert r.status_code == 403 and "请求被拒绝" in r.text
    assert not _published(c, keys, rid)


def test_every_page_form_needs_its_token(scene):
    """Every state-changing page route (generated): without the token, or from another port, 403
    and no decision is stored."""
    c, ids, keys = scene["client"], scene["ids"], scene["keys"]
    before = c.get("/v1/decisions/verify", headers={"Authorization": f"Bearer {keys[A]}"}).json()
    posts = sorted(p for m, p in page_routes() if m == "POST" and p != "/login")
    assert posts
    for path in posts:
        for headers, token in (({}, {}), ({"Origin": OTHER_PORT}, csrf(as_key(c, keys[OF]), path))):
            r = as_key(c, keys[OF]).post(url_of(path, ids), data={**form_for(path), **token}, headers=headers,
                                          follow_redirects=False)
            assert r.status_code == 403 and "请求被拒绝" in r.text, (path, headers, r.status_code)
    after = c.get("/v1/decisions/verify", headers={"Authorization": f"Bearer {keys[A]}"}).json()
    assert after == before


def test_login_csrf_is_refused(scene):
    """Another site logging the officer in under the attacker's key: refused, no cookie set."""
    c, keys = scene["client"], scene["keys"]
    for headers in ({"Origin": OTHER_PORT}, {"Origin": SIBLING}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        r = as_key(c, None).post("/login", data={"key": keys[OF], "next": "/"}, headers=headers, follow_redirects=False)
        assert r.status_code == 403 and "请求被拒绝" in r.text, headers
        assert "set-cookie" not in r.headers
    r = as_key(c, None).post("/login", data={"key": keys[OF], "next": "/"}, headers={"Origin": "http://testserver"},
                             follow_redirects=False)
    assert r.status_code == 303 and "sl_key=" in r.headers["set-cookie"]


def test_logout_is_a_form_not_a_link(scene):
    c, keys = scene["client"], scene["keys"]
    r = as_key(c, keys[OF]).get("/logout")
    assert r.status_code == 200 and "set-cookie" not in r.headers and 'action="/logout"' in r.text
    r = as_key(c, keys[OF]).post("/logout", headers={"Origin": OTHER_PORT}, data=csrf(c, "/logout"))
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = as_key(c, keys[OF]).post("/logout", data=csrf(c, "/logout"), follow_redirects=False)
    assert r.status_code == 303 and 'sl_key=""' in r.headers["set-cookie"]


def _proposal_xlsx() -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_cookie_authenticated_api_writes_need_this_origin(scene):
    """The API takes the cookie too: a multipart upload (which a cross-site form can send) with the
    cookie must come from this origin; with a Bearer key it is not a browser's forgery."""
    c, keys = scene["client"], scene["keys"]
    verify = {"Authorization": f"Bearer {keys[A]}"}
    before = c.get("/v1/decisions/verify", headers=verify).json()
    files = {"file": ("p.xlsx", _proposal_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    for headers in ({"Origin": OTHER_PORT}, {"Origin": SIBLING}, {"Sec-Fetch-Site": "same-site"}, {}):
        r = as_key(c, keys[OF]).post("/v1/checks/proposal:xlsx", files=files, headers=headers)
        assert r.status_code == 403 and "跨站请求被拒绝" in r.json()["detail"], (headers, r.status_code, r.text[:300])
    assert c.get("/v1/decisions/verify", headers=verify).json() == before
    r = as_key(c, keys[OF]).post("/v1/checks/proposal:xlsx", files=files, headers={"Origin": "http://testserver"})
    assert r.status_code not in (401, 403), r.text[:500]
    r = as_key(c, None).post("/v1/checks/proposal:xlsx", files=files, headers={"Authorization": f"Bearer {keys[OF]}"})
    assert r.status_code not in (401, 403), r.text[:500]


# ---------------------------------------------------------------- a real browser on another port

class _Attacker(http.server.BaseHTTPRequestHandler):
    html = b""

    def do_GET(self):  # noqa: N802 — the http.server API
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def live_keyed(tmp_path_factory):
    with keyed_server(tmp_path_factory.mktemp("pagesec-live"), (R, OF, A)) as served:
        yield served


@pytest.fixture
def attacker():
    """A page on another port of the same host: another origin, the same site."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _attack_page(target: str, fields: str, enctype: str = "multipart/form-data") -> bytes:
    return (f'<!doctype html><html lang="en"><title>prize</title><form method="post" action="{target}" enctype="{enctype}">'
            f'{fields}<button type="submit">claim</button></form></html>').encode()


def test_a_real_browser_post_from_another_port_is_refused(browser, live_keyed, attacker):
    """The reported attack: logged in as rule_admin, the officer opens a page on another port of
    the same host, which posts the upload form (the SameSite=Strict cookie goes along)."""
    import httpx

    base, keys = live_keyed
    ctx = browser.new_context(viewport=VIEWPORT, base_url=base, locale="zh-CN")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        page.goto("/login?next=/rulesets/upload")
        login(page, keys[R])
        assert page.url == f"{base}/rulesets/upload"
        text = _upload_yaml("browser")
        rid = yaml.safe_load(text)["id"]
        textarea = f'<textarea name="yaml">{text.replace("&", "&amp;").replace("<", "&lt;")}</textarea>'
        _Attacker.html = _attack_page(f"{base}/rulesets/upload", textarea)
        page.goto(attacker)
        with page.expect_response(lambda r: r.url.startswith(base) and r.request.method == "POST") as posted:
            page.get_by_role("button", name="claim").click()
        assert posted.value.status == 403
        assert "请求被拒绝" in page.locator("main").inner_text()
        published = httpx.get(f"{base}/v1/rulesets/{rid}", headers={"Authorization": f"Bearer {keys[R]}"})
        assert published.status_code == 404
        # The site's own form, in the same browser, still publishes (Origin and token are sent).
        page.goto("/rulesets/upload")
        page.locator('[name="yaml"]').fill(text)
        page.get_by_role("button", name="校验并发布").click()
        page.wait_for_load_state()
        published = httpx.get(f"{base}/v1/rulesets/{rid}", headers={"Authorization": f"Bearer {keys[R]}"})
        assert published.status_code == 200, page.content()[-2000:]

        # Login CSRF: the attacker's page logs the browser in under another key.
        _Attacker.html = _attack_page(f"{base}/login", f'<input name="key" value="{keys[A]}"><input name="next" value="/">',
                                      "application/x-www-form-urlencoded")
        page.goto(attacker)
        with page.expect_response(lambda r: r.url.startswith(base) and r.request.method == "POST") as posted:
            page.get_by_role("button", name="claim").click()
        assert posted.value.status == 403
        assert next(c["value"] for c in ctx.cookies() if c["name"] == "sl_key") == keys[R]
    finally:
        ctx.close()


def test_a_real_browser_cookie_upload_to_the_api_from_another_port_is_refused(browser, live_keyed, attacker, tmp_path):
    import httpx

    base, keys = live_keyed
    verify = {"Authorization": f"Bearer {keys[A]}"}
    before = httpx.get(f"{base}/v1/decisions/verify", headers=verify).json()
    ctx = browser.new_context(viewport=VIEWPORT, base_url=base, locale="zh-CN")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        page.goto("/login?next=/proposal")
        login(page, keys[OF])
        _Attacker.html = _attack_page(f"{base}/v1/checks/proposal:xlsx", '<input type="file" name="file">')
        page.goto(attacker)
        sheet = tmp_path / "p.xlsx"
        sheet.write_bytes(_proposal_xlsx())
        page.locator('input[type="file"]').set_input_files(str(sheet))
        with page.expect_response(lambda r: r.url.startswith(base) and r.request.method == "POST") as posted:
            page.get_by_role("button", name="claim").click()
        assert posted.value.status == 403
        assert httpx.get(f"{base}/v1/decisions/verify", headers=verify).json() == before
    finally:
        ctx.close()


def test_configured_public_origins_are_this_origin(scene, monkeypatch):
    """Behind a TLS proxy that rewrites scheme and host, STANDARD_LAND_ORIGINS names the address
    officers use; any other origin stays refused."""
    c, keys = scene["client"], scene["keys"]
    monkeypatch.setenv("STANDARD_LAND_ORIGINS", "https://land.example.gov.cn, https://land2.example.gov.cn:8443")
    for origin, status in (("https://land.example.gov.cn", 303), ("https://land.example.gov.cn:443", 303),
                           ("https://land2.example.gov.cn:8443", 303), ("http://land.example.gov.cn", 403),
                           ("https://evil.land.example.gov.cn", 403), ("https://land2.example.gov.cn", 403)):
        r = as_key(c, None).post("/login", data={"key": keys[OF], "next": "/"}, headers={"Origin": origin},
                                 follow_redirects=False)
        assert r.status_code == status, origin
