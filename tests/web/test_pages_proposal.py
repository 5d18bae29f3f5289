"""方案预审 pages in a real browser: form → stored decision → verdict → print view."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import assert_accessible, assert_no_horizontal_scroll, shot

PASSING = {
    "jurisdiction": "411200", "industry.code": "32", "as_of": "2024-03-01",
    "land_area.value": "90",
    "measures.fixed_asset_investment.value": "19800", "measures.annual_tax.value": "1350",
    "indicators.plot_ratio.value": "0.8", "indicators.building_coefficient.value": "45",
    "indicators.admin_land_share.value": "5", "indicators.green_ratio.value": "12",
}
FLAGS = ("indicators.environment_attested.value", "indicators.construction_conditions_attested.value")


def fill(page, fields: dict, flags=FLAGS, units: dict | None = None) -> None:
    page.goto("/proposal")
    for name, value in fields.items():
        page.locator(f'[name="{name}"]').fill(value)
    for name, unit in (units or {}).items():
        page.locator(f'[name="{name}"]').select_option(unit)
    for name in flags:
        page.locator(f'[name="{name}"]').check()


def submit(page) -> None:
    page.get_by_role("button", name="提交预审").click()
    page.wait_for_load_state()


def decision_of(page, live_server: str) -> dict:
    did = page.locator("#decision-id").inner_text()
    assert page.url == f"{live_server}/proposal/result/{did}"
    r = httpx.get(f"{live_server}/v1/decisions/{did}")
    assert r.status_code == 200
    return r.json()


def chain_length(live_server: str) -> int:
    return httpx.get(f"{live_server}/v1/decisions/verify").json()["checked"]


def test_form_page_is_accessible_and_resolves_the_rule_set_as_the_officer_types(page):
    page.goto("/proposal")
    assert page.title().startswith("方案预审")
    # every catalog indicator and measure has an input; units come from a list
    assert page.locator('select[name="land_area.unit"] option').all_inner_texts() == ["亩", "m2", "公顷"]
    assert "%" in page.locator('select[name="indicators.green_ratio.unit"] option').all_inner_texts()
    assert page.locator('[name="indicators.plot_ratio.unit"]').count() == 0      # dimensionless
    assert page.locator('input[type="checkbox"][name="indicators.environment_attested.value"]').count() == 1
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.locator('[name="as_of"]').fill("2024-03-01")
    page.locator('[name="industry.code"]').fill("32")
    page.locator('[name="jurisdiction"]').press_sequentially("411200")
    box = page.locator("#resolved")
    box.get_by_text("sanmenxia-standard-land").first.wait_for()
    assert "示例数据" in box.inner_text() and "national-2008" in box.inner_text()
    digest = httpx.get(f"{page.url.split('/proposal')[0]}/v1/rulesets/resolve",
                       params={"as_of": "2024-03-01", "jurisdiction": "411200", "industry": "32"}).json()["ruleset"]["digest"]
    assert digest in box.inner_text()
    shot(page, "proposal-form")


def test_passing_proposal_gives_pass_verdict_with_one_row_per_rule_and_a_print_view(page, live_server):
    fill(page, PASSING)
    submit(page)
    d = decision_of(page, live_server)
    assert d["verdict"] == "pass"
    assert "预审结论：通过" in page.locator("#verdict").inner_text()
    rows = page.locator("tr.finding")
    assert rows.count() == len(d["findings"]) > 0
    plot = page.locator('tr.finding[data-rule="plot_ratio_min"]')
    assert "0.80" in plot.inner_text() and "≥ 0.6" in plot.inner_text() and "国土资发〔2008〕24号" in plot.inner_text()
    assert d["ruleset"]["digest"] in page.locator("#resolved").inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "proposal-result-pass")

    page.get_by_role("link", name="打印").click()
    assert page.url.endswith(f"/proposal/result/{d['decision_id']}/print")
    text = page.locator("main").inner_text()
    assert d["decision_id"] in text and d["hash"] in text and d["as_of"] in text
    for layer in d["ruleset"]["layers"]:
        assert layer["digest"] in text
    assert "经办人签字" in text and "日期" in text
    assert page.get_by_role("navigation").count() == 0
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "proposal-print")
    page.emulate_media(media="print")
    assert not page.locator(".actions").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_failing_proposal_shows_the_failing_rule_with_actual_threshold_and_citation(page, live_server):
    fill(page, {**PASSING, "measures.fixed_asset_investment.value": "19000"})
    submit(page)
    d = decision_of(page, live_server)
    assert d["verdict"] == "fail"
    assert "预审结论：不通过" in page.locator("#verdict").inner_text()
    f = next(x for x in d["findings"] if x["rule"] == "investment_intensity_min")
    assert f["status"] == "fail"
    row = page.locator('tr.finding[data-rule="investment_intensity_min"]')
    assert row.get_attribute("data-status") == "fail"
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == f"{f['actual']} 万元/亩" == "211.11 万元/亩"
    assert cells[1] == f"≥ {f['threshold']} 万元/亩"
    assert cells[2] == f["margin"] == "-8.89"
    assert "sanmenxia-standard-land" in cells[3]
    assert "三政办〔2021〕5号" in cells[4] and f["cite"]["article"] in cells[4]
    assert cells[5].startswith("不符合")
    assert "示例数据" in row.inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "proposal-result-fail")


@pytest.mark.parametrize("field,value,expected", [
    ("land_area.value", "九十", "请输入有效的数字"),
    ("indicators.green_ratio.value", "150", "超出合理范围上限 100"),
])
def test_bad_field_shows_chinese_error_next_to_it_and_stores_nothing(page, live_server, field, value, expected):
    before = chain_length(live_server)
    fill(page, {**PASSING, field: value})
    submit(page)
    assert page.url == f"{live_server}/proposal"
    error = page.locator(f'[id="err-{field}"]')
    assert expected in error.inner_text()
    field_input = page.locator(f'[name="{field}"]')
    assert field_input.get_attribute("aria-describedby") == f"err-{field}"
    assert field_input.get_attribute("aria-invalid") == "true"
    assert field_input.input_value() == value               # the officer's input is kept
    assert page.locator('[name="jurisdiction"]').input_value() == "411200"
    assert chain_length(live_server) == before
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, f"proposal-error-{field.split('.')[-2]}")


def test_a_jurisdiction_without_rule_set_is_reported_at_the_jurisdiction(page, live_server):
    fill(page, {**PASSING, "jurisdiction": "990000", "as_of": "1990-01-01"})
    submit(page)
    assert page.url == f"{live_server}/proposal"
    assert "均无生效规则集" in page.locator('[id="err-jurisdiction"]').inner_text()
    assert "未能确定适用规则集" in page.locator("#resolved").inner_text()


def test_form_works_without_javascript(page_nojs, live_server):
    page = page_nojs
    page.goto("/proposal")
    page.locator('[name="jurisdiction"]').fill("411200")
    page.locator('[name="industry.code"]').fill("32")
    page.locator('[name="as_of"]').fill("2024-03-01")
    page.get_by_role("button", name="查询适用规则集").click()
    assert "sanmenxia-standard-land" in page.locator("#resolved").inner_text()
    assert page.locator('[name="jurisdiction"]').input_value() == "411200"     # the form keeps its values
    for name, value in {**PASSING, "measures.fixed_asset_investment.value": "19000"}.items():
        page.locator(f'[name="{name}"]').fill(value)
    page.locator('[name="land_area.unit"]').select_option("亩")
    for name in FLAGS:
        page.locator(f'[name="{name}"]').check()
    submit(page)
    d = decision_of(page, live_server)
    assert d["verdict"] == "fail"
    assert "不通过" in page.locator("#verdict").inner_text()
    shot(page, "proposal-result-nojs")


def test_units_from_the_lists_are_converted(page, live_server):
    # 60000 m² is 90 亩 exactly; 19800 万元 as 1.98 亿元: the same passing proposal
    fill(page, {**PASSING, "land_area.value": "60000", "measures.fixed_asset_investment.value": "1.98"},
         units={"land_area.unit": "m2", "measures.fixed_asset_investment.unit": "亿元"})
    submit(page)
    d = decision_of(page, live_server)
    assert d["request"]["land_area"] == {"value": "60000", "unit": "m2"}
    assert d["verdict"] == "pass"
    inv = next(x for x in d["findings"] if x["rule"] == "investment_intensity_min")
    assert inv["actual"] == "220.00"


def test_unknown_decision_is_a_404_page(page):
    resp = page.goto("/proposal/result/00000000-0000-0000-0000-000000000000")
    assert resp.status == 404
    assert "未找到预审结论" in page.locator("h1").inner_text()
