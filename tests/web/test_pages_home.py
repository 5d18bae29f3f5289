"""Home page, navigation and login in a real browser."""

from __future__ import annotations

from tests.web.conftest import assert_accessible, assert_no_horizontal_scroll, shot


def test_home_links_the_four_sections_by_their_chinese_names(page):
    page.goto("/")
    assert page.title().startswith("首页")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    main = page.locator("main")
    for href, name in [("/proposal", "方案预审"), ("/rulesets", "规则集"), ("/contracts", "合同履约"), ("/parks", "园区")]:
        assert main.get_by_role("link", name=name, exact=True).get_attribute("href") == href
        assert page.get_by_role("navigation").get_by_role("link", name=name, exact=True).get_attribute("href") == href
    assert page.get_by_role("navigation").get_by_role("link", name="API 文档").get_attribute("href") == "/docs"
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "home")


def test_login_sets_an_httponly_strict_cookie_and_returns_to_the_page(page):
    page.goto("/login?next=/rulesets")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "login")
    page.get_by_label("API 密钥").fill("some-key")
    page.get_by_role("button", name="登录").click()
    assert page.url.endswith("/rulesets")
    cookie = next(c for c in page.context.cookies() if c["name"] == "sl_key")
    assert cookie["value"] == "some-key" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.goto("/logout")            # a page whose form logs out (a link alone could be forged)
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()
    assert not [c for c in page.context.cookies() if c["name"] == "sl_key"]


def test_login_refuses_to_redirect_off_site(page, live_server):
    page.goto("/login?next=//example.org/x")
    page.get_by_label("API 密钥").fill("k")
    page.get_by_role("button", name="登录").click()
    assert page.url == f"{live_server}/"
