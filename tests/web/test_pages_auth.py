"""Pages behind API-key roles: a service with keys configured (its own database, so the
rest of the session stays in open mode), driven through the login form."""

from __future__ import annotations

import pytest

from tests.web.conftest import VIEWPORT, assert_accessible, keyed_server, shot
from tests.web.test_pages_proposal import FLAGS, PASSING


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    with keyed_server(tmp_path_factory.mktemp("keyed"), ("officer", "rule_admin")) as served:
        yield served


@pytest.fixture
def kpage(browser, keyed):
    context = browser.new_context(viewport=VIEWPORT, base_url=keyed[0], locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def login(page, key: str) -> None:
    page.get_by_label("API 密钥").fill(key)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_officer_logs_in_checks_a_proposal_and_may_not_upload_rule_sets(kpage, keyed):
    base, keys = keyed
    page = kpage
    page.goto("/proposal")
    assert page.url == f"{base}/login?next=/proposal"
    login(page, keys["officer"])
    assert page.url == f"{base}/proposal"
    page.locator('[name="as_of"]').fill("2024-03-01")
    page.locator('[name="industry.code"]').fill("32")
    page.locator('[name="jurisdiction"]').press_sequentially("411200")
    # the live resolution's fetch carries the cookie
    page.locator("#resolved").get_by_text("sanmenxia-standard-land").first.wait_for()
    for name, value in PASSING.items():
        page.locator(f'[name="{name}"]').fill(value)
    for name in FLAGS:
        page.locator(f'[name="{name}"]').check()
    page.get_by_role("button", name="提交预审").click()
    assert "预审结论：通过" in page.locator("#verdict").inner_text()
    resp = page.goto("/rulesets/upload")
    assert resp.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert_accessible(page)
    shot(page, "forbidden")


def test_rule_admin_may_upload_but_not_check_proposals(kpage, keyed):
    base, keys = keyed
    page = kpage
    page.goto("/rulesets/upload")
    assert page.url == f"{base}/login?next=/rulesets/upload"
    login(page, keys["rule_admin"])
    assert page.url == f"{base}/rulesets/upload"
    assert page.get_by_role("button", name="校验并发布").count() == 1
    page.goto("/proposal")                     # reading the form is allowed …
    page.locator('[name="jurisdiction"]').fill("411200")
    page.locator('[name="land_area.value"]').fill("90")
    page.locator('[name="as_of"]').fill("2024-03-01")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="提交预审").click()
    assert posted.value.status == 403           # … submitting a check is the officer's
    assert page.locator("h1").inner_text() == "无权访问"


def test_a_wrong_key_returns_to_the_login_form_with_a_notice(kpage, keyed):
    base, _ = keyed
    page = kpage
    page.goto("/rulesets")
    login(page, "sl_not_a_key")
    assert page.url == f"{base}/login?next=/rulesets&invalid=1"
    assert "密钥无效" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.goto("/logout")            # a page whose form logs out (a link alone could be forged)
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()
    page.goto("/rulesets")
    assert page.url == f"{base}/login?next=/rulesets"
    assert page.get_by_role("alert").count() == 0
