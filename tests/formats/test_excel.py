"""Excel in and out: the proposal sheet round trip, uploads through the API with
row-level errors and nothing stored from a bad sheet, and the print layout of exports."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from app.formats.excel import proposal_requests, proposals_sheet, write_table
from app.schemas.proposal import ProposalRequest
from indicators.identifiers import synthetic_uscc
from tests.conftest import proposal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _varied() -> list[dict]:
    a = proposal(reference="A-1")
    b = proposal(reference="B-2", land_area={"value": "60000", "unit": "m2"})
    b["indicators"]["green_ratio"] = {"value": "0.12", "unit": "fraction"}
    b["indicators"]["environment_attested"] = {"value": False}
    c = proposal(reference="C-3", land_area={"value": "6", "unit": "公顷"})
    c["measures"] = {"fixed_asset_investment": {"value": "19799.995", "unit": "万元"},
                     "annual_tax": {"value": "13500000", "unit": "元"}}
    c["indicators"]["investment_intensity"] = {"value": "3300", "unit": "元/m2"}
    return [a, b, c]


def test_proposal_sheet_round_trip_preserves_every_value():
    reqs = _varied()
    back = proposal_requests(proposals_sheet(reqs))
    assert len(back) == len(reqs)
    for original, read in zip(reqs, back, strict=True):
        want = ProposalRequest.model_validate(original).model_dump(mode="json", exclude_none=True)
        assert read.model_dump(mode="json", exclude_none=True) == want


def test_upload_gives_the_same_verdicts_as_the_json_batch(client):
    reqs = _varied()
    by_json = client.post("/v1/checks/proposal:batch", json={"items": reqs}).json()["items"]
    r = client.post("/v1/checks/proposal:xlsx", files={"file": ("p.xlsx", proposals_sheet(reqs), XLSX)})
    assert r.status_code == 200, r.text
    by_xlsx = r.json()["items"]
    assert [i["verdict"] for i in by_xlsx] == [i["verdict"] for i in by_json]
    assert [i["findings"] for i in by_xlsx] == [i["findings"] for i in by_json]
    assert [i["reference"] for i in by_xlsx] == ["A-1", "B-2", "C-3"]


def test_chinese_headers_with_units_are_read():
    data = _sheet([["出让方案"],                                  # a title row above the header
                   ["编号", "审查日期", "行政区划代码", "行业代码", "用地面积（亩）", "固定资产投资(万元)", "容积率",
                    "绿地率（%）"],
                   ["X-1", "2024-03-01", "411200", "32", 90, 19800, 0.8, 12]])
    (req,) = proposal_requests(data)
    assert req.land_area.value == Decimal("90") and req.land_area.unit == "亩"
    assert req.measures.fixed_asset_investment.unit == "万元"
    assert req.indicators.green_ratio.unit == "%" and req.indicators.plot_ratio.value == Decimal("0.8")


def _verify_count(client) -> int:
    return client.get("/v1/decisions/verify").json()["checked"]


def test_a_malformed_sheet_is_refused_row_by_row_and_nothing_is_stored(client):
    data = _sheet([["编号", "审查日期", "行政区划代码", "行业代码", "用地面积（亩）", "绿地率", "容积率"],
                   ["ok", "2024-03-01", "411200", "32", 90, None, 0.8],
                   ["bad-area", "2024-03-01", "411200", "32", -5, None, 0.8],
                   ["bad-unit", "2024-03-01", "411200", "32", 90, 12, 0.8],      # a percentage without a unit
                   ["bad-date", "2024-13-45", "411200", "32", 90, None, 0.8]])
    before = _verify_count(client)
    r = client.post("/v1/checks/proposal:xlsx", files={"file": ("p.xlsx", data, XLSX)})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    paths = {d["path"] for d in detail}
    assert "rows.3.land_area.value" in paths
    assert "rows.4.indicators.green_ratio.unit" in paths
    assert "rows.5.as_of" in paths
    assert not any(p.startswith("rows.2.") for p in paths)
    assert all("第" in d["msg"] and "行" in d["msg"] for d in detail)
    assert _verify_count(client) == before


def test_unknown_headers_and_unreadable_files_are_422(client):
    r = client.post("/v1/checks/proposal:xlsx", files={"file": ("p.xlsx", _sheet([["编号", "不存在的列"], ["a", 1]]), XLSX)})
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "header.B"
    r = client.post("/v1/checks/proposal:xlsx", files={"file": ("p.xlsx", b"not a spreadsheet", XLSX)})
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "file"


def test_tax_records_from_a_sheet(client, uid):
    code = synthetic_uscc(org8=f"XL{uid[:6].upper()}".replace("I", "1").replace("O", "0").replace("S", "5")
                          .replace("V", "7").replace("Z", "2"))
    good = _sheet([["统一社会信用代码", "年度", "实缴税额（万元）", "政策性退税（万元）"], [code, 2024, 450, 90],
                   [code, 2025, 480.5, None]])
    r = client.post(f"/v1/tax-records:xlsx?batch_id=xl-{uid}", files={"file": ("t.xlsx", good, XLSX)})
    assert r.status_code == 201, r.text
    assert r.json()["count"] == 2
    hist = client.get("/v1/tax-records", params={"uscc": code}).json()["records"]
    assert {(h["year"], h["tax_paid"]["value"]) for h in hist} == {(2024, "450"), (2025, "480.5")}
    bad = _sheet([["统一社会信用代码", "年度", "实缴税额（万元）"], [code, 2026, 1], [code, 2027, -3], ["NOT-A-CODE", 2028, 1]])
    r = client.post(f"/v1/tax-records:xlsx?batch_id=xl-bad-{uid}", files={"file": ("t.xlsx", bad, XLSX)})
    assert r.status_code == 422, r.text
    paths = {d["path"] for d in r.json()["detail"]}
    assert any(p.startswith("rows.3.") for p in paths) and any(p.startswith("rows.4.") for p in paths)
    assert not any(p.startswith("rows.2.") for p in paths)
    assert len(client.get("/v1/tax-records", params={"uscc": code}).json()["records"]) == 2    # nothing stored


@pytest.mark.parametrize("totals", [True, False])
def test_export_layout_frozen_header_units_totals(totals):
    data = write_table("园区亩均税收", [("宗地代码", None), ("面积", "亩"), ("税收", "万元")],
                       [["A", Decimal("10.5"), Decimal("100")], ["B", Decimal("4.5"), Decimal("20.25")]],
                       totals={1: Decimal("15"), 2: Decimal("120.25")} if totals else None)
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "园区亩均税收"
    assert [c.value for c in ws[2]] == ["宗地代码", "面积（亩）", "税收（万元）"]
    assert ws.freeze_panes == "A3"
    assert ws["B3"].value == 10.5 and ws["C4"].value == 20.25
    if totals:
        assert [c.value for c in ws[5]] == ["合计", 15, 120.25]
    else:
        assert ws.max_row == 4


def test_parcels_round_trip_through_excel_preserves_every_value(client, uid):
    """Export a park's parcels, import the sheet back: every parcel is recognised as identical
    (nothing created, nothing changed); a malformed copy is refused row by row."""
    tag = int(uid[:6], 16) % 1_000_000
    pid = f"xl-park-{uid}"
    park = {"id": pid, "name": "示例园区", "name_valid_from": "2021-01-01", "jurisdiction": "411200",
            "planned_area": {"value": 500, "unit": "亩"}}
    parcels = [
        {"code": f"411202{tag:06d}GB00001", "park": pid, "area": {"value": "20.5", "unit": "亩"}, "use": "industrial",
         "supply_status": "approved_unsupplied", "approval": {"document": "豫政土〔2019〕12号", "date": "2019-05-10"},
         "location": "示例路 1 号"},
        {"code": f"411202{tag:06d}GB00002", "park": pid, "area": {"value": "13340", "unit": "m2"}, "use": "warehouse",
         "supply_status": "allocated", "supplied_on": "2020-07-01", "note": "划拨"},
    ]
    r = client.post("/v1/parks:import", json={"park": park, "parcels": parcels})
    assert r.status_code == 201, r.text
    exported = client.get(f"/v1/parks/{pid}/parcels.xlsx")
    assert exported.status_code == 200
    ws = load_workbook(io.BytesIO(exported.content)).active
    assert ws.freeze_panes == "A3" and "面积（亩）" in [c.value for c in ws[2]] and "面积（m2）" in [c.value for c in ws[2]]
    assert ws.cell(row=ws.max_row, column=1).value == "合计"
    back = client.post(f"/v1/parks/{pid}/parcels:xlsx", files={"file": ("p.xlsx", exported.content, XLSX)})
    assert back.status_code == 200, back.text
    assert back.json()["unchanged"] == 2 and back.json()["created"] == 0
    for p in parcels:
        stored = client.get(f"/v1/parcels/{p['code']}").json()["registration"]
        assert stored == {k: v for k, v in p.items()}
    # a copy with a bad row: nothing of it is stored
    wb = load_workbook(io.BytesIO(exported.content))
    ws = wb.active
    ws.insert_rows(4)
    ws["A4"], ws["B4"], ws["D4"], ws["E4"] = f"411202{tag:06d}GB00003", -1, "工业", "批而未供"
    buf = io.BytesIO()
    wb.save(buf)
    bad = client.post(f"/v1/parks/{pid}/parcels:xlsx", files={"file": ("p.xlsx", buf.getvalue(), XLSX)})
    assert bad.status_code == 422, bad.text
    assert all(d["path"].startswith("rows.4.") for d in bad.json()["detail"])
    assert client.get(f"/v1/parcels/411202{tag:06d}GB00003").status_code == 404
