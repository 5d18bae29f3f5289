"""合同履约 pages in a real browser: the contract list and lookup, a contract's timeline (events
with a correction, tax years with a corrected record, stored decisions), its performance with
the penalty amounts in 万元 and 元, the idle-land status, and the clause check with field errors.

One contract is registered here through the API with figures chosen so that the expected
amounts follow from the contract by hand: a payment of 2,700 万元 paid 10 days late at 1 ‰ a
day is 27 万元 (F1); 1,080 万元 of tax on 90 亩 in 2024 is 12 万元/亩 against the 15 agreed,
so the 补缴差额 is (15 − 12) × 90 = 270 万元.  The demo park gives an idle contract (F2 and
53号令), whose figures are compared with the API's JSON for the same date.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest

from indicators.identifiers import synthetic_uscc
from tests.conftest import new_key, scratch_app
from tests.web.conftest import assert_accessible, assert_no_horizontal_scroll, csrf, shot

AS_OF = "2025-06-30"


def money(x: str | Decimal) -> str:
    """The pages' display of a decimal: thousands separators, the digits as given."""
    return f"{Decimal(x):,}"


@pytest.fixture(scope="module")
def contract(client) -> dict:
    """A contract registered through the API, with events (one corrected) and tax years (one corrected)."""
    tag = uuid.uuid4().hex[:6].upper()
    no, uscc = f"WEB-B-{tag}", synthetic_uscc("411202", f"MA{tag}")
    body = {"contract_no": no, "model": "GF-2008-2601", "supervision_no": "4112022021B00777",
            "transferee": {"name": "网页测试制造有限公司（测试）", "uscc": uscc}, "jurisdiction": "411202",
            "industry": {"code": "32", "classification": "GB/T 4754-2017"}, "ruleset": "sanmenxia-standard-land",
            "signed_on": "2021-03-01", "land_area": {"value": "90", "unit": "亩"},
            "land_price": {"value": "2700", "unit": "万元"},
            "commitments": {"tax_per_mu": {"value": "15", "unit": "万元/亩", "from_year": 2023}},
            "schedule": {"delivery_on": "2021-04-01", "start_by": "2021-09-01", "complete_by": "2022-12-31"},
            "penalties": {"late_payment_permille": "1", "late_start_permille": "1", "late_completion_permille": "0.5",
                          "over_limit_permille": "5", "late_delivery_permille": "1", "shortfall_aggregate": "max",
                          "tax_shortfall": "pay_difference"},
            "clauses": {"extension_notice_days": 30, "extension_max_years": "1"}}
    assert client.post("/v1/contracts", json=body).status_code == 201
    events = [{"type": "payment", "on": "2021-04-10", "due_on": "2021-03-31", "amount": {"value": "2700", "unit": "万元"}},
              {"type": "delivered", "on": "2021-04-01"},
              {"type": "started", "on": "2021-08-01"},
              {"type": "completion_accepted", "on": "2022-12-01"}]
    stored = client.post(f"/v1/contracts/{no}/events", json={"events": events}).json()["events"]
    started = next(e for e in stored if e["type"] == "started")
    fix = {"type": "started", "on": "2021-07-15", "correct": started["id"], "note": "开工日期以施工许可为准"}
    assert client.post(f"/v1/contracts/{no}/events", json={"events": [fix]}).status_code == 201

    def tax(batch: str, year: int, paid: str) -> None:
        r = client.post("/v1/tax-records", json={"batch_id": f"web-b-{tag}-{batch}", "records": [
            {"uscc": uscc, "year": year, "tax_paid": {"value": paid, "unit": "万元"}}]})
        assert r.status_code == 201, r.text

    tax("1", 2023, "1350")
    tax("2", 2024, "1000")
    tax("3", 2024, "1080")          # the tax system's correction of 2024
    return {"no": no, "uscc": uscc}


def finding_row(page, text: str):
    return page.locator("table.findings tbody tr", has_text=text)


def test_lookup_timeline_penalties_corrections_and_tax_years(page, contract):
    page.goto("/contracts")
    assert page.title().startswith("合同履约")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "contracts-list")

    page.get_by_label("合同编号", exact=True).fill(contract["no"])
    page.get_by_role("button", name="查看").click()
    assert page.url.split("?")[0].endswith(f"/contracts/{contract['no']}")
    page.get_by_label("评估日期", exact=True).fill(AS_OF)
    page.get_by_role("button", name="重新评估").click()
    assert f"as_of={AS_OF}" in page.url

    # F1: 2,700 万元 × 1/1000 × 10 days = 27 万元 = 270,000 元
    f1 = finding_row(page, "F1 逾期付款")
    assert "违约" in f1.inner_text() and "逾期 10 天" in f1.inner_text()
    assert "27.00" in f1.inner_text() and "270,000.00" in f1.inner_text()
    assert "第三十条" in f1.inner_text()
    # 2024: 1,080 ÷ 90 = 12 万元/亩 < 15 → (15 − 12) × 90 = 270 万元; 2023: 1,350 ÷ 90 = 15 → 符合
    t24 = finding_row(page, "亩均税收考核（2024 年度）")
    assert "违约" in t24.inner_text() and "270.00" in t24.inner_text() and "2,700,000.00" in t24.inner_text()
    assert "符合" in finding_row(page, "亩均税收考核（2023 年度）").inner_text()
    assert "受让人违约金合计 297.00 万元" in page.locator(".verdict").inner_text()
    assert "未构成闲置" in page.locator("#idle ~ dl").first.inner_text()

    events = page.locator("table", has=page.locator("caption", has_text="按日期排列"))
    rows = [r.inner_text() for r in events.locator("tbody tr").all()]
    assert len(rows) == 5
    dates = [re.search(r"\d{4}-\d{2}-\d{2}", r).group(0) for r in rows]
    assert dates == sorted(dates)
    original = next(r for r in rows if "2021-08-01" in r)
    correction = next(r for r in rows if "2021-07-15" in r)
    assert "已被第 5 条更正" in original and "更正第 3 条" in correction and "施工许可" in correction

    tax_rows = [[c.strip() for c in r.locator("td").all_inner_texts()]
                for r in page.locator("table", has=page.locator("caption", has_text="税务部门报送")).locator("tbody tr").all()]
    # year, paid, refunds, record, batch, 亩均税收, agreed, review
    assert [(r[0], r[1], r[3]) for r in tax_rows] == [("2023", "1,350", "当前有效"), ("2024", "1,000", "已被更正"),
                                                     ("2024", "1,080", "当前有效")]
    assert (tax_rows[0][5], tax_rows[0][7]) == ("15", "符合")
    assert tax_rows[1][5] == "—"
    assert (tax_rows[2][5], tax_rows[2][6], tax_rows[2][7]) == ("12", "15", "违约")

    decision_id = page.locator(".notice code").first.inner_text()
    assert decision_id in page.locator("table", has=page.locator("caption", has_text="决定")).inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "contracts-timeline")


def test_idle_contract_read_without_javascript(page_nojs, page, demo_park, client):
    """A demo contract never started: F2 late start and 53号令 idle land, as the API reports them.
    Read without JavaScript; axe needs JavaScript, so the same page is checked again with it."""
    idle = next(c for c in demo_park.contracts if demo_park.kinds[c["parcel_code"]] == "idle")
    no = idle["contract_no"]
    api = client.get(f"/v1/contracts/{no}/performance", params={"as_of": "2025-12-31"}).json()
    f2 = next(f for f in api["findings"] if f["kind"] == "late_start")
    idle_api = next(f for f in api["findings"] if f["kind"] == "idle_land")
    assert f2["status"] == "fail" and idle_api["status"] == "fail"

    page_nojs.goto(f"/contracts/{no}?as_of=2025-12-31")
    row = finding_row(page_nojs, "F2 延期开工").inner_text()
    assert money(f2["amount"]) in row and f"逾期 {f2['inputs']['days']} 天" in row
    assert money(Decimal(f2["amount"]) * 10000) in row and "第三十三条" in row
    idle_text = page_nojs.locator("#idle ~ dl").first.inner_text()
    assert idle_api["message"] in idle_text and idle_api["cite"]["article"] in idle_text
    assert "闲置满" in idle_text
    delivered = next(e for e in demo_park.events[no] if e["type"] == "delivered")
    assert delivered["on"] in page_nojs.locator("table", has=page_nojs.locator("caption", has_text="按日期排列")).inner_text()
    assert_no_horizontal_scroll(page_nojs)
    shot(page_nojs, "contracts-idle-nojs")
    page.goto(page_nojs.url)
    assert_accessible(page)


def test_unknown_contract_is_reported_next_to_the_lookup_field(page):
    page.goto("/contracts?no=NO-SUCH-CONTRACT")
    error = page.locator('[id="err-no"]')
    assert "未找到合同 NO-SUCH-CONTRACT" in error.inner_text()
    assert page.get_by_label("合同编号", exact=True).get_attribute("aria-describedby") == "err-no"


def test_clause_check_shows_errors_next_to_the_fields(page):
    page.goto("/contracts/check?example=1")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "contracts-check-form")

    page.get_by_label("出让面积", exact=True).fill("-5")
    page.get_by_label("签订日期").fill("")
    page.get_by_role("button", name="检查条款").click()
    assert "不能为负数" in page.locator('[id="err-land_area.value"]').inner_text()
    assert "必填" in page.locator('[id="err-signed_on"]').inner_text()
    assert page.get_by_label("出让面积", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("出让面积", exact=True).get_attribute("aria-describedby") == "err-land_area.value"
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "contracts-check-errors")


def test_clause_check_verdict_without_javascript(page_nojs, page):
    page_nojs.goto("/contracts/check?example=1")
    page_nojs.get_by_label("延期开工最长年限").fill("2")          # the model allows at most one year
    page_nojs.get_by_role("button", name="检查条款").click()
    assert re.search(r"/contracts/check/[0-9a-f-]{36}$", page_nojs.url), page_nojs.locator("main").inner_text()
    assert "不通过" in page_nojs.locator(".verdict").inner_text()
    row = page_nojs.locator("tbody tr", has_text="clauses.extension_max_years").inner_text()
    assert "弱于规则" in row and "<= 1" in row and "第十六条" in row
    assert "符合" in page_nojs.locator("tbody tr", has_text="commitments.tax_per_mu").inner_text()
    page.goto(page_nojs.url)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "contracts-check-result")


# ---------------------------------------------------------------- error paths (HTTP only, no browser)

def test_unknown_contract_and_decision_are_404_pages(client):
    r = client.get("/contracts/NO-SUCH-CONTRACT")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "未找到合同 NO-SUCH-CONTRACT" in r.text
    r = client.get(f"/contracts/check/{uuid.uuid4()}")
    assert r.status_code == 404 and "未找到条款检查结论" in r.text


def test_bad_dates_and_json_are_422_pages_that_store_nothing(client, contract):
    r = client.get(f"/contracts/{contract['no']}", params={"as_of": "2025-02-30"})
    assert r.status_code == 422
    assert re.search(r'id="err-as_of">[^<]*有效日期', r.text)
    before = client.get("/v1/decisions/verify").json()
    r = client.post("/contracts/check", data={"document": '{"contract_no": "X", ', **csrf(client, "/contracts/check")})
    assert r.status_code == 422 and "不是有效的 JSON" in r.text
    r = client.post("/contracts/check", data={"document": "[1, 2]", **csrf(client, "/contracts/check")})
    assert r.status_code == 422 and "应为一个 JSON 对象" in r.text
    assert client.get("/v1/decisions/verify").json() == before


def test_contract_list_pages_are_clamped(client, contract):
    assert client.get("/contracts", params={"page": "abc"}).status_code == 200
    r = client.get("/contracts", params={"no": contract["no"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/contracts/{contract['no']}"


# ---------------------------------------------------------------- roles (keys), on a database of their own

@pytest.fixture
def keyed(database_url, tmp_path):
    """A client on a database of its own, in which keys are created (the session database stays
    open for the other tests)."""
    with scratch_app(tmp_path, "web_b_keys") as c:
        yield c


def test_page_roles_and_jurisdiction_scope(keyed):
    from app.access.auth import COOKIE
    from app.web.pages_contract_check import EXAMPLE

    officer, auditor, tax_system = new_key("officer"), new_key("auditor"), new_key("tax_system")
    elsewhere = new_key("officer", jurisdiction="410300")          # 洛阳: not 三门峡's 411202

    def as_key(secret: str | None):
        keyed.cookies.clear()
        if secret:
            keyed.cookies.set(COOKIE, secret)
        return keyed

    r = as_key(None).get("/contracts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/contracts"
    r = as_key(tax_system).get("/parks")
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]
    # The clause-check form only serves POST /v1/checks/contract, which is the officer's.
    assert as_key(auditor).get("/contracts/check").status_code == 403
    assert as_key(auditor).post("/contracts/check", data={**EXAMPLE, **csrf(keyed, "/contracts/check")}).status_code == 403
    assert as_key(auditor).post("/parks/scoring", data={"year": "2025", "enterprises": "",
                                                        **csrf(keyed, "/parks/scoring")}).status_code == 403

    r = as_key(officer).post("/contracts/check", data={**EXAMPLE, **csrf(keyed, "/contracts/check")},
                             follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/contracts/check/"), r.text[-3000:]
    assert as_key(auditor).get(r.headers["location"]).status_code == 200

    body = {"contract_no": "WEB-B-SCOPE-1", "model": "GF-2008-2601", "jurisdiction": "411202",
            "transferee": {"name": "辖区测试（测试）", "uscc": synthetic_uscc("411202", "MA9WEB02")},
            "industry": {"code": "32", "classification": "GB/T 4754-2017"}, "ruleset": "sanmenxia-standard-land",
            "signed_on": "2024-03-01", "land_area": {"value": "10", "unit": "亩"}}
    r = keyed.post("/v1/contracts", json=body, headers={"Authorization": f"Bearer {officer}"})
    assert r.status_code == 201, r.text
    assert as_key(auditor).get("/contracts/WEB-B-SCOPE-1").status_code == 200
    r = as_key(elsewhere).get("/contracts/WEB-B-SCOPE-1")
    assert r.status_code == 403 and "无权访问" in r.text
