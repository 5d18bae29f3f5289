"""Exports (app/api/exports.py): the ledger, the yearly evaluation and a scoring run as .xlsx an
officer prints (title, frozen header, units in the headers, a totals row that is the sum of
the rows, notes on example data and the tax and area bases), and the evaluation as SVG charts.
Every printed value is compared with the JSON endpoint's; the data is the demo park
(app/demo/, the same spec as tests/cli/test_demo.py: loading it again is a no-op)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app import demo
from app.api.exports import LEDGER_VALUE_LABELS
from app.checks.parks.common import CATEGORIES
from app.checks.parks.ledger import LEDGER_COLUMNS, flat_ledger
from app.formats import excel
from tests.conftest import load_demo

SPEC = demo.Spec(parcels=40, years=5, seed=11, last_year=2025)
Y = SPEC.last_year
PID = SPEC.park_id
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def loaded(client) -> dict:
    return load_demo(client, SPEC)[1]


def sheet(client, url: str, params: dict | None = None, filename: str | None = None):
    r = client.get(url, params=params or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;") and (filename is None or f'filename="{filename}"' in cd)
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    return ws, rows


def layout(ws, rows: list[list]) -> tuple[list[str], list[list], list, list[str]]:
    """(headers, data rows, totals row, notes) of a write_table sheet."""
    assert ws.freeze_panes == "A3"                         # title and header stay on screen
    assert rows[0][0] and all(v is None for v in rows[0][1:])
    headers = rows[1]
    total_at = next(i for i, r in enumerate(rows) if r[0] == "合计")
    notes = [r[0] for r in rows[total_at + 1:]]
    assert all(all(v is None for v in r[1:]) for r in rows[total_at + 1:])
    return headers, rows[2:total_at], rows[total_at], notes


def num(v) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def col_sum(rows: list[list], i: int) -> Decimal:
    return sum((num(r[i]) for r in rows if r[i] is not None), Decimal(0))


# ---------------------------------------------------------------- the ledger

def test_ledger_xlsx_equals_the_json_ledger(client, loaded):
    on = SPEC.as_of.isoformat()
    ws, rows = sheet(client, f"/v1/parks/{PID}/ledger.xlsx", {"as_of": on}, f"ledger-{PID}-{on}.xlsx")
    headers, body, total, notes = layout(ws, rows)
    assert "示例园区（合成数据）" in rows[0][0] and on in rows[0][0]
    assert headers == LEDGER_COLUMNS and "面积（亩）" in headers       # the unit in the header
    led = client.get(f"/v1/parks/{PID}/ledger", params={"as_of": on}).json()
    flat = flat_ledger(led)
    assert len(body) == len(flat) == led["count"] > 0
    area_i = headers.index("面积（亩）")
    for got, want in zip(body, flat, strict=True):
        for i, h in enumerate(headers):
            if i == area_i:
                assert num(got[i]) == Decimal(want[h]), (want["宗地代码"], h)
            else:
                # codes (进度 in_progress, 方案状态 missing) are written as their Chinese labels
                shown = LEDGER_VALUE_LABELS.get(h, {}).get(want[h], want[h])
                assert got[i] == (None if want[h] == "" else shown), (want["宗地代码"], h, got[i], want[h])
    assert num(total[area_i]) == col_sum(body, area_i) == sum(Decimal(r["面积（亩）"]) for r in flat)
    assert total[1] == f"共 {len(body)} 宗"
    text = "\n".join(notes)
    assert "示例" in text and "面积口径" in text and "亩均税收按 2024 年度" in text
    for k, v in led["totals"].items():
        assert f"{CATEGORIES[k][1]} {v['count']} 宗 {v['area']['value']} 亩" in text


# ---------------------------------------------------------------- the evaluation

def test_evaluation_xlsx_equals_the_json_evaluation(client, loaded):
    ws, rows = sheet(client, f"/v1/parks/{PID}/evaluation.xlsx", {"year": Y}, f"evaluation-{PID}-{Y}.xlsx")
    headers, body, total, notes = layout(ws, rows)
    assert f"{Y} 年度亩均税收评价" in rows[0][0] and "示例园区（合成数据）" in rows[0][0]
    for h in ("宗地面积（亩）", "计入面积（亩）", "计入税收（万元）", "亩均税收（万元/亩）"):
        assert h in headers
    ix = {h: headers.index(h) for h in headers}
    ev = client.get(f"/v1/parks/{PID}/evaluation", params={"year": Y}).json()
    t = ev["tax_per_mu"]
    counted = {p["code"]: p for p in t["parcels_counted"]}
    zero = {p["code"]: p for p in t["parcels_zero"]}                     # no record: in the figure with 0
    assert zero and {p["code"] for p in t["parcels_missing_data"]} <= set(zero)
    assert len(body) == len(counted) + len(zero) and [r[ix["序号"]] for r in body] == list(range(1, len(body) + 1))
    below = {p["code"] for p in ev["pulling_down"]}
    for r in body:
        code = r[ix["宗地代码"]]
        if code in counted:
            p = counted[code]
            assert num(r[ix["宗地面积（亩）"]]) == num(r[ix["计入面积（亩）"]]) == Decimal(p["area"]["value"])
            assert num(r[ix["计入税收（万元）"]]) == Decimal(p["allocated_tax"]["value"])
            assert num(r[ix["亩均税收（万元/亩）"]]) == Decimal(p["tax_per_mu"]["value"])
            assert r[ix["受让人统一社会信用代码"]] == p["inputs"]["uscc"]
            assert r[ix["低于园区亩均"]] == ("是" if code in below else "否")
        else:
            p = zero[code]
            assert num(r[ix["宗地面积（亩）"]]) == num(r[ix["计入面积（亩）"]]) == Decimal(p["area"]["value"])
            assert num(r[ix["计入税收（万元）"]]) == num(r[ix["亩均税收（万元/亩）"]]) == 0
            assert r[ix["说明"]].startswith("缺少税收数据，计为 0" if p["reason"] == "data_missing" else
                                          f"{p['reason_label']}，计为 0"), r[ix["说明"]]
            assert r[ix["低于园区亩均"]] == ("是" if code in below else "否")
    for h in ("宗地面积（亩）", "计入面积（亩）", "计入税收（万元）"):
        assert num(total[ix[h]]) == col_sum(body, ix[h]), h
    assert num(total[ix["宗地面积（亩）"]]) == Decimal(t["area_in_scope"]["value"])
    assert num(total[ix["计入面积（亩）"]]) == Decimal(t["area_counted"]["value"]) == Decimal(t["area_in_scope"]["value"])
    assert abs(num(total[ix["计入税收（万元）"]]) - Decimal(t["total_tax"]["value"])) < Decimal("0.00001") * len(body)
    assert total[ix["亩均税收（万元/亩）"]] is None                          # a ratio is not summed
    text = "\n".join(notes)
    # the notes are sentences: the computed figures in them rounded to 2 decimals (the cells keep every digit)
    r2 = excel.number_text
    assert f"= {r2(t['value']['value'])} 万元/亩" in text and "税收口径" in text and "政策性退税加回" in text
    assert "面积口径" in text and "示例" in text and "决定编号" in text
    second = t["over_land_with_data"]
    assert f"参考：仅计有税收数据的宗地（不作为园区结论）：{r2(t['total_tax']['value'])} ÷ {r2(second['area']['value'])} 亩 = " \
           f"{r2(second['value']['value'])} 万元/亩" in text
    assert "分摊规则：按用地面积分摊" in text
    if ev["verdict"] == "incomplete":
        assert "结论待补充数据" in text and all(c in text for c in ev["incomplete"]["parcels"])


# ---------------------------------------------------------------- the scoring run

def test_scoring_run_xlsx_equals_the_stored_run(client, loaded):
    assert loaded["scoring"]["status"] == "ok", loaded["scoring"]
    rid = loaded["scoring"]["run_id"]
    ws, rows = sheet(client, f"/v1/scoring/runs/{rid}.xlsx", filename=f"scoring-run-{rid}.xlsx")
    headers, body, total, notes = layout(ws, rows)
    doc = client.get(f"/v1/scoring/runs/{rid}").json()
    assert f"{doc['year']} 年度评价结果" in rows[0][0]
    assert headers[:7] == ["排名", "排名百分位（%）", "类别", "类别说明", "企业标识（统一社会信用代码）", "企业名称",
                           "综合得分（分）"]
    inds = doc["ruleset"]["indicators"]
    assert "亩均税收（万元/亩）" in headers and "亩均税收得分（分）" in headers
    assert len(body) == len(doc["results"])
    for r, want in zip(body, doc["results"], strict=True):
        assert (r[0], r[2], r[4], r[5]) == (want["rank"], want["class"], want["id"], want["name"])
        assert num(r[6]) == num(want["score"]) and num(r[1]) == num(want["percentile"])
        for k, i in enumerate(inds):
            s = want["sub_scores"][i["key"]]
            assert num(r[7 + 2 * k]) == num(s["value"]) and num(r[8 + 2 * k]) == num(s["sub_score"])
        assert (r[-1] == "完整" or r[-1].startswith("缺")) if want["complete"] else r[-1].startswith("数据不全")
    c = doc["counts"]
    assert total[5] == f"共 {c['enterprises']} 家，计分 {c['scored']} 家"
    text = "\n".join(notes)
    assert "示例" in text and rid in text and doc["decision_id"] in text
    assert all(f"{k} 类 {v} 家" in text for k, v in doc["class_counts"].items())


def test_scoring_xlsx_route_is_not_taken_by_the_json_route(client):
    # /v1/scoring/runs/{id} would match "x.xlsx" too: the export must be routed first
    r = client.get("/v1/scoring/runs/00000000-0000-0000-0000-000000000000.xlsx")
    assert r.status_code == 404 and "scoring run 00000000-0000-0000-0000-000000000000 not found" in r.text


# ---------------------------------------------------------------- charts

def svg(client, chart: str, year: int = Y) -> ET.Element:
    r = client.get(f"/v1/parks/{PID}/evaluation.svg", params={"year": year, "chart": chart})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(r.content)                        # well-formed XML
    assert root.tag == f"{SVG_NS}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")]


def test_tax_per_mu_chart_shows_every_parcel_and_the_target(client, loaded):
    root = svg(client, "tax_per_mu")
    words = texts(root)
    ev = client.get(f"/v1/parks/{PID}/evaluation", params={"year": Y}).json()
    t = ev["tax_per_mu"]
    labels = set(words)
    for p in t["parcels_counted"]:
        assert p["code"] in labels, p["code"]
    for p in t["parcels_zero"]:                                          # drawn at 0, with the reason
        assert f"{p['code']}（{p['reason_label']}，计为 0）" in labels, p["code"]
    assert "无数据" not in words
    bars = root.findall(f"{SVG_NS}rect")
    # + the park figure and the secondary line over land with data
    assert len(bars) == len(t["parcels_counted"]) + len(t["parcels_zero"]) + 2
    assert "参考：仅计有税收数据的宗地" in labels
    second = Decimal(t["over_land_with_data"]["value"]["value"]).quantize(Decimal("0.01"))
    assert f"{second}万元/亩" in words
    assert any(w.startswith("目标 15") for w in words)
    red = {el.get("fill") for el in bars if el.get("fill") == "#c94b4b"}
    assert red                                                            # parcels below the target
    avg = Decimal(t["value"]["value"]).quantize(Decimal("0.01"))
    assert f"{avg}万元/亩" in words


def test_categories_chart_splits_the_registered_land(client, loaded):
    root = svg(client, "categories")
    words = texts(root)
    ev = client.get(f"/v1/parks/{PID}/evaluation", params={"year": Y}).json()
    legend = [w for w in words if "：" in w]
    parts = {w.split("：")[0]: Decimal(w.split("：")[1].split("亩")[0]) for w in legend}
    assert sum(parts.values()) == Decimal(ev["land"]["registered"]["area"]["value"])
    assert parts["未列入问题类型"] == Decimal(ev["land"]["without_category"]["area"]["value"])
    for cat in ev["land"]["by_category"].values():
        # a parcel in one category only: its part is the category's area
        alone = parts.get(cat["label"], Decimal(0))
        both = sum((v for k, v in parts.items() if cat["label"] in k.split("＋") and k != cat["label"]), Decimal(0))
        assert alone + both == Decimal(cat["area"]["value"]), cat["label"]


# ---------------------------------------------------------------- errors

def test_unknown_parks_and_runs_are_404(client, loaded):
    for url, params in ((f"/v1/parks/nope-{PID}/ledger.xlsx", {}), (f"/v1/parks/nope-{PID}/evaluation.xlsx", {"year": Y}),
                        (f"/v1/parks/nope-{PID}/evaluation.svg", {"year": Y}),
                        ("/v1/scoring/runs/no-such-run.xlsx", {})):
        r = client.get(url, params=params)
        assert r.status_code == 404, (url, r.text)
    assert client.get(f"/v1/parks/{PID}/evaluation.xlsx").status_code == 422               # year is required
    assert client.get(f"/v1/parks/{PID}/evaluation.svg", params={"year": Y, "chart": "pie"}).status_code == 422
