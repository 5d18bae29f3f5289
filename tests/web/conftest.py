"""Browser-test infrastructure: the service in a uvicorn subprocess on the session test
database, Debian's Chromium driven by Playwright, and helpers for screenshots,
accessibility (axe) and layout checks.

Chromium must be at /usr/bin/chromium (``apt-get install chromium``; CI installs it):
without it these tests fail — they are part of "done", not optional."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import demo
from tests.conftest import load_demo, proposal, scratch_app
from tests.trust_support import Server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}


@contextmanager
def serve(database_url: str, log: Path) -> Iterator[str]:
    """Run the app with uvicorn in a subprocess on ``database_url``; yield its base URL."""
    server = Server(database_url, log, ready="/healthz")
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield server.base
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory) -> Iterator[str]:
    """Base URL of the app served by uvicorn in a subprocess, on the session database."""
    with serve(database_url, tmp_path_factory.mktemp("server") / "uvicorn.log") as base:
        yield base


def create_key(database_url: str, role: str) -> str:
    """A key made by the ``keys create`` command in a subprocess on ``database_url`` (not the
    database the tests' app is on); the secret."""
    out = subprocess.run([sys.executable, "-m", "app.cli", "keys", "create", "--role", role],
                         cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@contextmanager
def keyed_server(tmp_dir: Path, roles: Iterable[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """The app served by uvicorn on a database of its own with one key per role (keys end open
    mode, so not on the session database): (base URL, secret per role)."""
    url = f"sqlite:///{tmp_dir / 'keyed.db'}"
    keys = {role: create_key(url, role) for role in roles}
    with serve(url, tmp_dir / "uvicorn.log") as base:
        yield base, keys


# The demo park the page tests read on the session database (contracts, parks, ledgers).
DEMO_PARK = demo.Spec(parcels=300, years=3, seed=5, last_year=2025)


@pytest.fixture(scope="session")
def demo_park(client) -> demo.Demo:
    """DEMO_PARK loaded once into the session database, through the app."""
    return load_demo(client, DEMO_PARK)[0]


@contextmanager
def demo_scene(tmp_dir: Path, name: str, spec: demo.Spec) -> Iterator[dict]:
    """A client (open mode) on a database of its own (``scratch_app``) holding the demo park of
    ``spec``, a proposal verdict and a clause check: {"client", "data", "ids"}, the ids filling
    the page routes' path parameters."""
    from app.web.pages_contract_check import EXAMPLE

    with scratch_app(tmp_dir, name) as c:
        data, loaded = load_demo(c, spec)
        assert loaded["scoring"]["status"] == "ok", loaded["scoring"]
        decision = c.post("/v1/checks/proposal", json=proposal()).json()["decision_id"]
        r = c.post("/contracts/check", data={**EXAMPLE, **csrf(c, "/contracts/check")}, follow_redirects=False)
        assert r.status_code == 303, r.text[-2000:]
        rs = c.get("/v1/rulesets/sanmenxia-standard-land").json()
        ids = {"decision_id": decision, "check_id": r.headers["location"].rsplit("/", 1)[1],
               "contract_no": data.contracts[0]["contract_no"], "park_id": spec.park_id,
               "run_id": loaded["scoring"]["run_id"], "rid": rs["id"], "version": rs["versions"][-1]["version"],
               "from": rs["versions"][0]["version"]}
        yield {"client": c, "data": data, "ids": ids}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium); "
                    "`playwright install` cannot download browsers here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield b
        b.close()


def _page(browser, live_server, java_script_enabled: bool):
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server, locale="zh-CN",
                                  java_script_enabled=java_script_enabled)
    context.set_default_timeout(15_000)
    page = context.new_page()
    _NO_SCRIPT[id(page)] = not java_script_enabled
    return context, page


# axe runs as a script: on a page without JavaScript it would wait forever, so say so at once.
_NO_SCRIPT: dict[int, bool] = {}


@pytest.fixture(params=[True], ids=["js"])
def page(request, browser, live_server):
    """A fresh 1366×768 page; parametrize indirectly with False to disable JavaScript."""
    context, pg = _page(browser, live_server, request.param)
    yield pg
    context.close()


@pytest.fixture
def page_nojs(browser, live_server):
    """A fresh 1366×768 page with JavaScript disabled: forms must still work."""
    context, pg = _page(browser, live_server, False)
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact (test-artifacts/screenshots/<name>.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page) -> None:
    """Run axe-core on the page (all its rules, among them label and color-contrast);
    fail on any violation with axe's report."""
    from axe_playwright_python.sync_playwright import Axe

    assert not _NO_SCRIPT.get(id(page)), "axe needs JavaScript: check this URL on a `page` with JavaScript on"
    results = Axe().run(page)
    ran = {r["id"] for r in results.response.get("passes", []) + results.response.get("violations", [])
           + results.response.get("inapplicable", []) + results.response.get("incomplete", [])}
    assert {"label", "color-contrast"} <= ran, f"axe did not run its label and contrast rules: {sorted(ran)[:20]}"
    assert results.violations_count == 0, f"{page.url}: axe violations\n{results.generate_report()}"


def assert_no_horizontal_scroll(page) -> None:
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{page.url}: page scrolls horizontally ({width}px > {client}px)"


def csrf(client, action: str) -> dict:
    """The hidden token field that the page form posting to ``action`` carries for the key in this
    test client's cookie (app/web/security.py); TestClient posts send it as a browser would."""
    from app.access.auth import COOKIE
    from app.web.security import TOKEN_FIELD, csrf_token

    key = client.cookies.get(COOKIE)
    return {TOKEN_FIELD: csrf_token(key.strip() if key else None, action)}
