"""园区 pages in a real browser, on the demo park (app/demo/, 300 parcels): the park list, the
一宗一策 ledger paged and filtered, its Excel download, the yearly evaluation with its charts,
and a scoring run started from the page.

The ledger's rows are compared with ``GET /v1/parks/{id}/ledger`` for the same date (the
service's numbers are checked against an independent model in tests/cli/test_demo.py); the
scoring run's classes are derived here from the rule set's bands: eight enterprises whose
every indicator falls with their number rank 1–8, so by rank ÷ 8 × 100 ≤ 25 / 70 / 95 / 100
they are A A B B B C C D.
"""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app import demo
from tests.web.conftest import DEMO_PARK, assert_accessible, assert_no_horizontal_scroll, csrf, shot

SPEC = DEMO_PARK
PARK = SPEC.park_id
AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def ledger(client, demo_park) -> dict:
    return client.get(f"/v1/parks/{PARK}/ledger", params={"as_of": AS_OF}).json()


def shown(value: str) -> str:
    """A computed figure as the pages show it: rounded half-up to 2 decimals, thousands separators."""
    d = Decimal(value)
    return f"{d.quantize(Decimal('0.01'), ROUND_HALF_UP) if d.as_tuple().exponent < -2 else d:,}"


def sheet(download):
    """The downloaded workbook's sheet (the saved file has no .xlsx name, so it is read as bytes)."""
    return load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active


def codes_on(page) -> list[str]:
    return [c.strip() for c in page.locator("#ledger tbody th").all_inner_texts()]


def test_park_list_links_the_park(page, demo_park):
    page.goto("/parks")
    assert page.title().startswith("园区")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-list")
    link = page.locator(f'a[href="/parks/{PARK}"]')      # other demo parks in the session share the name
    assert link.inner_text() == demo.DEMO_NAME
    link.click()
    assert page.url.endswith(f"/parks/{PARK}")
    assert f"{SPEC.parcels} 宗" in page.locator("dl.meta").inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-park")


def test_ledger_pages_filters_and_downloads(page, demo_park, ledger):
    api_codes = [r["parcel"]["code"] for r in ledger["rows"]]
    assert len(api_codes) > 100                  # three pages of 50
    page.goto(f"/parks/{PARK}/ledger?as_of={AS_OF}")
    assert f"符合条件 {len(api_codes)} 宗" in page.locator("#ledger caption").inner_text()
    first = codes_on(page)
    assert first == api_codes[:50]
    assert page.get_by_role("link", name=re.compile("^上一页")).count() == 0
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-ledger")

    page.get_by_role("link", name="下一页（第 2 页）").click()
    assert "page=2" in page.url and f"as_of={AS_OF}" in page.url
    second = codes_on(page)
    assert second == api_codes[50:100] and not set(first) & set(second)
    page.get_by_role("link", name="下一页（第 3 页）").click()
    assert codes_on(page) == api_codes[100:150]
    assert page.get_by_role("link", name=re.compile("^下一页")).count() == 0
    page.get_by_role("link", name="上一页（第 2 页）").click()
    assert codes_on(page) == second

    # a filter narrows the rows to the parcels of that category, on the same date
    idle = [r["parcel"]["code"] for r in ledger["rows"] if "idle" in {c["category"] for c in r["categories"]}]
    assert 0 < len(idle) < 50
    page.get_by_label("类型", exact=True).select_option(label="闲置土地")
    page.get_by_role("button", name="筛选").click()
    assert "category=idle" in page.url and f"as_of={AS_OF}" in page.url
    assert codes_on(page) == idle
    assert all("闲置土地" in t for t in page.locator("#ledger tbody tr td:nth-of-type(4)").all_inner_texts())
    page.get_by_label("宗地代码、合同编号或企业").fill(idle[0])
    page.get_by_role("button", name="筛选").click()
    assert codes_on(page) == [idle[0]]
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-ledger-filtered")

    # the Excel button: the same ledger, every parcel code and the count in the totals row
    page.goto(f"/parks/{PARK}/ledger?as_of={AS_OF}")
    with page.expect_download() as dl:
        page.get_by_role("link", name="下载台账（Excel）").click()
    ws = sheet(dl.value)
    assert f"截至 {AS_OF}" in ws["A1"].value
    header = [c.value for c in ws[2]]
    col = header.index("宗地代码")
    body = [r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] not in (None, "合计")]
    assert [r[col] for r in body if isinstance(r[col], str) and r[col].startswith("4112")] == api_codes
    total = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == "合计")
    assert f"共 {len(api_codes)} 宗" in total


def test_evaluation_with_charts_and_data_table(page, demo_park, client):
    page.goto(f"/parks/{PARK}/evaluation?year={SPEC.last_year}")
    api = client.get(f"/v1/parks/{PARK}/evaluation", params={"year": SPEC.last_year}).json()
    value = api["tax_per_mu"]["value"]["value"]
    # computed figures are shown rounded half-up to 2 decimals (9.846894 → 9.85); the API keeps every digit
    assert f"园区亩均税收 {shown(value)} 万元/亩" in page.locator(".verdict").inner_text()
    for chart in ("#chart-tax", "#chart-categories"):
        img = page.locator(chart)
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), f"{chart} did not load"
        assert "数据见" in img.get_attribute("alt")
    assert "（全部已供工业用地）" in page.locator(".verdict").inner_text()
    # the figure over land with data only: a secondary line, labelled as such
    second = api["tax_per_mu"]["over_land_with_data"]
    assert page.locator("#secondary").inner_text().startswith("参考：仅计有税收数据的宗地")
    assert f"= {shown(second['value']['value'])} 万元/亩" in page.locator("#secondary + dd").inner_text()
    if api["verdict"] == "incomplete":
        notice = page.locator("#incomplete").inner_text()
        assert "结论待补充数据" in notice and all(c in notice for c in api["incomplete"]["parcels"])
    rows = page.locator("#evaluation-rows tbody tr")
    counted = {p["code"]: p for p in api["tax_per_mu"]["parcels_counted"]}
    zero = {p["code"]: p for p in api["tax_per_mu"]["parcels_zero"]}
    assert rows.count() == len(counted) + len(zero) and zero
    code, p = sorted(counted.items())[0]
    cells = [c.strip() for c in rows.filter(has_text=code).first.locator("td").all_inner_texts()]
    assert shown(p['tax_per_mu']['value']) in cells
    zcode, z = sorted(zero.items())[0]
    cells = [c.strip() for c in rows.filter(has_text=zcode).first.locator("td").all_inner_texts()]
    assert "0" in cells and any(z["reason_label"] in c and "计为 0" in c for c in cells)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-evaluation")

    with page.expect_download() as dl:
        page.get_by_role("link", name="下载年度评价（Excel）").click()
    ws = sheet(dl.value)
    header = [c.value for c in ws[2]]
    row = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[1] == code)
    assert Decimal(str(row[header.index("亩均税收（万元/亩）")])) == Decimal(p["tax_per_mu"]["value"])


def test_evaluation_year_out_of_range_is_shown_next_to_the_field(page, demo_park):
    page.goto(f"/parks/{PARK}/evaluation?year=3000")
    assert "1990–2100" in page.locator('[id="err-year"]').inner_text()
    assert page.get_by_label("评价年度", exact=True).get_attribute("aria-invalid") == "true"


ENTERPRISES = ["id,name,tax_per_mu,va_per_mu,energy_efficiency,emission_efficiency,labour_productivity,rd_share"]
ENTERPRISES += [f"E{n},网页测试企业{n},{5 * k},{20 * k},{Decimal('0.5') * k},{100 * k},{5 * k},{Decimal('0.004') * k}"
                for n, k in enumerate(range(8, 0, -1), start=1)]
EXPECTED_CLASSES = dict(zip([f"E{n}" for n in range(1, 9)], "AABBBCCD", strict=True))


def test_scoring_run_from_the_page(page, demo_park):
    page.goto("/parks/scoring")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-scoring-form")

    bad = list(ENTERPRISES)
    bad[2] = bad[2].replace(",35,", ",abc,", 1)          # line 3: E2's tax_per_mu
    page.get_by_label("评价年度", exact=True).fill(str(SPEC.last_year))
    page.get_by_label(re.compile("^企业数据（")).fill("\n".join(bad))
    page.get_by_role("button", name="计分并分类").click()
    error = page.locator('[id="err-enterprises"]').inner_text()
    assert "第 3 行" in error and "亩均税收" in error
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-scoring-errors")

    page.get_by_label(re.compile("^企业数据（")).fill("\n".join(ENTERPRISES))
    page.get_by_role("button", name="计分并分类").click()
    assert re.search(r"/parks/scoring/runs/[0-9a-f-]{36}$", page.url)
    got = {}
    for row in page.locator("#scoring-results tbody tr").all():
        ident = row.locator("th code").inner_text().strip()
        got[ident] = row.locator("td").nth(1).locator("strong").inner_text().strip()
    assert got == EXPECTED_CLASSES
    assert "A 类（优先发展）2 家" in page.locator("dl.meta").inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "parks-scoring-run")

    with page.expect_download() as dl:
        page.get_by_role("link", name="下载评价结果（Excel）").click()
    ws = sheet(dl.value)
    header = [c.value for c in ws[2]]
    rows = {r[header.index("企业标识（统一社会信用代码）")]: r for r in ws.iter_rows(min_row=3, values_only=True)
            if r[header.index("企业标识（统一社会信用代码）")] in EXPECTED_CLASSES}
    assert {k: r[header.index("类别")] for k, r in rows.items()} == EXPECTED_CLASSES


# ---------------------------------------------------------------- error paths (HTTP only, no browser)

def test_unknown_park_and_run_are_404_pages(client):
    for url in ("/parks/no-such-park", "/parks/no-such-park/ledger", "/parks/no-such-park/evaluation",
                "/parks/scoring/runs/no-such-run"):
        r = client.get(url)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "未找到" in r.text, url


def test_ledger_refuses_unknown_filters_next_to_the_field(client, demo_park):
    r = client.get(f"/parks/{PARK}/ledger", params={"category": "bogus", "as_of": "2025-13-01"})
    assert r.status_code == 422
    assert re.search(r'id="err-category">[^<]*请选择', r.text) and re.search(r'id="err-as_of">[^<]*有效日期', r.text)
    last = client.get(f"/parks/{PARK}/ledger", params={"as_of": AS_OF, "page": "999"})
    assert last.status_code == 200 and "下一页" not in last.text and "上一页" in last.text


def test_scoring_form_problems_store_nothing(client):
    before = client.get("/v1/decisions/verify").json()
    r = client.post("/parks/scoring", data={"ruleset": "no-such-set@1", "year": "20x5", "enterprises": "",
                                            **csrf(client, "/parks/scoring")})
    assert r.status_code == 422
    for field in ("err-ruleset", "err-year", "err-enterprises"):
        assert f'id="{field}"' in r.text, field
    r = client.post("/parks/scoring", data={"ruleset": "", "year": "2025",
                                            "enterprises": "id,name,colour\nE1,x,blue", **csrf(client, "/parks/scoring")})
    assert r.status_code == 422 and "未知的列“colour”" in r.text
    assert client.get("/v1/decisions/verify").json() == before
