"""The proposal form follows the indicator catalog in force on the proposal date (issue 13): after the
Taizhou 路桥 catalog addition and rule set are published, an officer enters 年平均职工人数 and 工业增加值
in the browser form and gets the derived 全员劳动生产率 checked.  No JavaScript is needed: TestClient."""

from __future__ import annotations

import html
import re

from tests.checks.test_indicator_catalog import TZ, doc
from tests.conftest import scratch_app
from tests.web.conftest import csrf

RULESET = "taizhou-luqiao-xinqiao-example"
# The golden case at the threshold: 5999 万元 ÷ 200 人 = 29.995 → 30.00 ≥ 30 (example value).
FORM = {
    "jurisdiction": "331004", "ruleset": RULESET, "industry.code": "34", "as_of": "2024-06-01",
    "land_area.value": "50", "land_area.unit": "亩",
    "measures.fixed_asset_investment.value": "15000", "measures.fixed_asset_investment.unit": "万元",
    "measures.annual_tax.value": "1500", "measures.annual_tax.unit": "万元",
    "measures.value_added.value": "5999", "measures.value_added.unit": "万元",
    "measures.average_employees.value": "200", "measures.average_employees.unit": "人",
    "measures.energy_use.value": "1000", "measures.energy_use.unit": "吨标煤",
    "measures.emissions.value": "10", "measures.emissions.unit": "吨",
    "measures.rd_spending.value": "1000", "measures.rd_spending.unit": "万元",
    "measures.revenue.value": "40000", "measures.revenue.unit": "万元",
    "indicators.plot_ratio.value": "2.5",
}


def visible_text(page: str) -> str:
    """The page as an officer reads it: tags (their attributes: input names) and scripts left out."""
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", page, flags=re.S)))


def finding(page: str, rule: str) -> str:
    m = re.search(rf'<tr class="finding" data-rule="{rule}" data-status="(\w+)">(.*?)</tr>', page, re.S)
    assert m, page[-3000:]
    return " ".join((m.group(1) + " " + visible_text(m.group(2))).replace("示例数据", "").split())


def submit(c, form: dict):
    return c.post("/proposal", data={**form, **csrf(c, "/proposal")}, follow_redirects=False)


def test_form_offers_the_catalog_in_force_and_checks_a_derived_addition_indicator(database_url, tmp_path):
    with scratch_app(tmp_path, "catform_page") as c:
        before = c.get("/proposal", params={"as_of": "2024-06-01"}).text
        assert "年平均职工人数" not in before and "全员劳动生产率" not in before
        assert 'name="measures.fixed_asset_investment.value"' in before      # the base form as it was

        assert c.post("/v1/indicators", json=doc(TZ / "catalog.yaml")).status_code == 201
        assert c.post("/v1/rulesets", json=doc(TZ / "taizhou-luqiao-example.yaml")).status_code == 201

        page = c.get("/proposal", params={"as_of": "2024-06-01"}).text
        for label in ("年平均职工人数", "全员劳动生产率", "亩均增加值", "单位增加值能耗"):
            assert label in visible_text(page), label
        units = re.search(r'<select id="measures-average_employees-unit"[^>]*>(.*?)</select>', page, re.S)
        assert units and "人" in visible_text(units.group(1))
        units = re.search(r'<select id="indicators-labour_productivity-unit"[^>]*>(.*?)</select>', page, re.S)
        assert units and visible_text(units.group(1)).split()[0] == "万元/人·年"          # canonical first
        text = visible_text(page)
        assert not re.search(r"average_employees|labour_productivity|va_per_mu", text), "keys shown to officers"
        assert "可不填，由上方数据计算：工业增加值 ÷ 年平均职工人数" in text
        # before the addition's effective_from the form is the base catalog's; today's is the union
        assert "年平均职工人数" not in c.get("/proposal", params={"as_of": "2023-06-01"}).text
        assert "年平均职工人数" in c.get("/proposal").text

        # at the threshold after rounding: passes
        r = submit(c, FORM)
        assert r.status_code == 303, visible_text(r.text)[-2000:]
        result = c.get(r.headers["location"]).text
        row = finding(result, "labour_productivity_min")
        assert row.startswith("pass 全员劳动生产率 30.00 万元/人·年 ≥ 30 万元/人·年"), row
        did = r.headers["location"].rsplit("/", 1)[1]
        stored = c.get(f"/v1/decisions/{did}").json()
        assert stored["request"]["measures"]["average_employees"] == {"value": "200", "unit": "人"}
        assert "zhejiang-mujun-example" in {p["id"] for p in stored["law"]}

        # 5998.8 ÷ 200 = 29.994 → 29.99 < 30: fails, shown with its label and unit
        r = submit(c, {**FORM, "measures.value_added.value": "5998.8"})
        assert r.status_code == 303
        row = finding(c.get(r.headers["location"]).text, "labour_productivity_min")
        assert row.startswith("fail 全员劳动生产率 29.99 万元/人·年"), row
        assert "不符合" in row

        # the same in 元/人·年 given directly (a unit of the addition), converted exactly: 299,950 元 = 29.995 万元
        direct = {k: v for k, v in FORM.items() if not k.startswith("measures.average_employees")}
        r = submit(c, {**direct, "indicators.labour_productivity.value": "299950",
                       "indicators.labour_productivity.unit": "元/人·年"})
        assert r.status_code == 303, visible_text(r.text)[-2000:]
        assert finding(c.get(r.headers["location"]).text, "labour_productivity_min").startswith("pass 全员劳动生产率 30.00")

        # a bad entry: the error in Chinese next to its field, nothing stored
        r = submit(c, {**FORM, "measures.average_employees.value": "0"})
        assert r.status_code == 422
        err = re.search(r'<span class="field-error" id="err-measures.average_employees.value">(.*?)</span>', r.text, re.S)
        assert err and "必须大于 0" in err.group(1), visible_text(r.text)[-2000:]
        assert 'aria-describedby="err-measures.average_employees.value"' in r.text
        assert 'value="0"' in r.text                                          # what was typed is kept
        # … also beside a format error of another field (both in the same answer)
        r = submit(c, {**FORM, "measures.average_employees.value": "0", "measures.annual_tax.value": "一千五"})
        assert r.status_code == 422
        assert 'id="err-measures.average_employees.value"' in r.text and 'id="err-measures.annual_tax.value"' in r.text
        r = submit(c, {**FORM, "measures.average_employees.unit": "万元"})
        assert r.status_code == 422 and 'id="err-measures.average_employees.unit"' in r.text, visible_text(r.text)[-2000:]

        # a field of the addition posted for a date before it is in force: refused, not dropped
        r = submit(c, {**FORM, "as_of": "2023-06-01"})
        assert r.status_code == 422
        assert "年平均职工人数" in visible_text(r.text) and "不在生效的指标目录中" in visible_text(r.text)
        assert "average_employees" not in visible_text(r.text)
