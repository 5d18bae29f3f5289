"""The proposal workbook follows the published indicator catalog (issue 13): after the Taizhou 路桥
catalog addition and rule set are published, a sheet with 年平均职工人数 and 全员劳动生产率 columns (Chinese
headers, units in the headers) is checked through POST /v1/checks/proposal:xlsx; each row is checked
against the catalog in force on its own date.  On a database of its own (it publishes documents)."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from app.formats.excel import proposals_sheet
from tests.checks.test_indicator_catalog import TZ, doc
from tests.conftest import scratch_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RULESET = "taizhou-luqiao-xinqiao-example"
HEADERS = ["编号", "规则集", "审查日期", "行政区划代码", "行业代码", "用地面积（亩）", "固定资产投资（万元）",
           "年度税收（万元）", "工业增加值（万元）", "年平均职工人数（人）", "综合能耗（吨标煤）", "主要污染物排放量（吨）",
           "研发经费支出（万元）", "主营业务收入（万元）", "容积率"]


def row(ref: str, value_added: object, employees: object = 200, as_of: str = "2024-06-01") -> list:
    # the golden case at the threshold: 5999 万元 ÷ 200 人 = 29.995 → 30.00 ≥ 30 (example value)
    return [ref, RULESET, as_of, "331004", "34", 50, 15000, 1500, value_added, employees, 1000, 10, 1000, 40000, 2.5]


def sheet(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["出让方案"])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(c, data: bytes):
    return c.post("/v1/checks/proposal:xlsx", files={"file": ("p.xlsx", data, XLSX)})


def lp(item: dict) -> dict:
    return next(f for f in item["findings"] if f["rule"] == "labour_productivity_min")


def test_workbook_reads_catalog_addition_columns_and_checks_the_derived_indicator(database_url, tmp_path):
    with scratch_app(tmp_path, "catform_xlsx") as c:
        data = sheet([row("TZ-1", 5999), row("TZ-2", 5998.8)])
        r = upload(c, data)                      # no catalog declares the column yet
        assert r.status_code == 422 and "header.J" in r.text and "年平均职工人数" in r.text, r.text

        assert c.post("/v1/indicators", json=doc(TZ / "catalog.yaml")).status_code == 201
        assert c.post("/v1/rulesets", json=doc(TZ / "taizhou-luqiao-example.yaml")).status_code == 201

        r = upload(c, data)
        assert r.status_code == 200, r.text
        first, second = r.json()["items"]
        assert (lp(first)["status"], lp(first)["actual"], lp(first)["unit"], lp(first)["source"]) == \
            ("pass", "30.00", "万元/人·年", "derived")
        assert (lp(second)["status"], lp(second)["actual"]) == ("fail", "29.99")
        assert first["reference"] == "TZ-1"
        stored = c.get(f"/v1/decisions/{first['decision_id']}").json()
        assert stored["request"]["measures"]["average_employees"] == {"value": "200", "unit": "人"}
        assert "zhejiang-mujun-example" in {p["id"] for p in stored["law"]}

        # the indicator given directly in a unit of the addition, under its Chinese label
        given = sheet([row("TZ-3", 5999, None)], [*HEADERS, "全员劳动生产率（元/人·年）"])
        wb = load_workbook(io.BytesIO(given))
        wb.active.cell(row=3, column=len(HEADERS) + 1, value=299900)        # 29.99 万元/人·年 < 30
        buf = io.BytesIO()
        wb.save(buf)
        r = upload(c, buf.getvalue())
        assert r.status_code == 200, r.text
        item = r.json()["items"][0]
        assert (lp(item)["status"], lp(item)["actual"], lp(item)["source"]) == ("fail", "29.99", "given")

        # bad rows: reported by row and column, in Chinese, nothing stored
        before = c.get("/v1/decisions/verify").json()["checked"]
        r = upload(c, sheet([row("OK", 5999), row("ZERO", 5999, 0), row("EARLY", 5999, as_of="2023-06-01")]))
        assert r.status_code == 422, r.text
        problems = {d["path"]: d["msg"] for d in r.json()["detail"]}
        zero = next(v for k, v in problems.items() if k.startswith("rows.4.measures.average_employees"))
        assert zero.startswith("第 4 行「年平均职工人数（人）」列：") and "必须大于 0" in zero, problems
        early = next(v for k, v in problems.items() if k.startswith("rows.5.measures.average_employees"))
        assert early.startswith("第 5 行「年平均职工人数（人）」列：") and "不在生效的指标目录中" in early, problems
        assert not any(k.startswith("rows.3.") for k in problems), problems
        assert c.get("/v1/decisions/verify").json()["checked"] == before > 0


def test_exported_sheet_names_catalog_fields_by_their_chinese_labels(database_url, tmp_path):
    with scratch_app(tmp_path, "catform_xlsx_export") as c:
        assert c.post("/v1/indicators", json=doc(TZ / "catalog.yaml")).status_code == 201
        assert c.post("/v1/rulesets", json=doc(TZ / "taizhou-luqiao-example.yaml")).status_code == 201
        req = {"reference": "TZ-1", "ruleset": RULESET, "as_of": "2024-06-01", "jurisdiction": "331004",
               "industry": {"code": "34", "classification": "GB/T 4754-2017"}, "land_area": {"value": "50", "unit": "亩"},
               "measures": {"value_added": {"value": "5999", "unit": "万元"},
                            "average_employees": {"value": "200", "unit": "人"}}}
        data = proposals_sheet([req])
        headers = [cell.value for cell in load_workbook(io.BytesIO(data)).active[2]]
        assert "工业增加值（万元）" in headers and "年平均职工人数（人）" in headers, headers
        assert not any("value_added" in h or "average_employees" in h for h in headers), headers
        r = upload(c, data)
        assert r.status_code == 200, r.text
        assert lp(r.json()["items"][0])["status"] == "pass"
