"""No stored text becomes a formula in a workbook the service writes (issue 10, item 6).

Texts an officer or an import can store — a park name, parcel fields, a contract number,
scoring-run enterprise names — are stored through the API beginning with ``=``, ``+``, ``-``
and ``@`` (OWASP CSV injection).  Every .xlsx export of the OpenAPI document is downloaded
(enumerated, so an export added later is covered): no cell is a formula (openpyxl
``data_type`` 'f', no ``<f>`` element in the sheet XML), each such text is a text cell with the
quotePrefix style and its value unchanged, and parcels.xlsx imports back unchanged."""

from __future__ import annotations

import io
import re
import uuid
import zipfile

import pytest
from openpyxl import load_workbook

from tests.contract_factory import base_contract, m2, mu, post_events, post_tax, register, tax_record, uscc_for, wan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HYPERLINK = '=HYPERLINK("http://x","y")'
DANGEROUS = {
    "park_name": HYPERLINK,
    "approval": "=1+2",
    "location": "+CMD|' /C calc'!A0",
    "note": "-2+3",
    "supervision": "@SUM(1,1)",
    "enterprise": '=HYPERLINK("http://evil","点击")',
    "enterprise2": "+1+1",
}
YEAR = 2024
STARTED = {"type": "started", "on": "2021-04-01"}
COMPLETED = {"type": "completion_accepted", "on": "2022-06-30", "fixed_asset_investment": wan(9000),
             "total_floor_area": m2(30000), "building_footprint": m2(9000), "admin_land_area": m2(1000),
             "green_area": m2(2000)}


def _ok(r, *status: int) -> dict:
    assert r.status_code in (status or (200, 201)), r.text
    return r.json()


@pytest.fixture(scope="module")
def scene(client) -> dict:
    uid = uuid.uuid4().hex[:8]
    tag = uuid.uuid4().int % 10**6
    pid = f"inj-{uid}"
    _ok(client.post("/v1/parks", json={
        "id": pid, "name": DANGEROUS["park_name"], "name_valid_from": "2009-01-01", "jurisdiction": "411200",
        "planned_area": mu(500), "target_tax_per_mu": {"value": 15, "unit": "万元/亩"},
        "target_source": "-测试目标", "ruleset": "henan-park-low-efficiency-example",
        "tax_ruleset": "sanmenxia-standard-land"}), 201)
    # a contract whose number starts with "=" (the ledger and the parcel list print it)
    contract = base_contract(uid, 1, contract_no=f"=C{uid}", signed_on="2021-03-01",
                             schedule={"delivery_on": "2021-03-10", "start_by": "2021-04-01",
                                       "complete_by": "2022-06-30"})
    no = register(client, contract)
    post_events(client, no, STARTED, COMPLETED)
    post_tax(client, f"inj-{uid}", tax_record(uscc_for(uid, 1), YEAR, 30), tax_record(uscc_for(uid, 1), YEAR - 1, 30))
    codes = [f"411202{tag:06d}GB{n:05d}" for n in (1, 2)]
    _ok(client.post("/v1/parcels", json={
        "code": codes[0], "park": pid, "area": mu(20), "supply_status": "approved_unsupplied",
        "approval": {"document": DANGEROUS["approval"], "date": "2019-05-10"},
        "location": DANGEROUS["location"], "note": DANGEROUS["note"],
        "supervision_no": DANGEROUS["supervision"]}), 201)
    _ok(client.post("/v1/parcels", json={
        "code": codes[1], "park": pid, "area": mu(30), "supply_status": "transferred", "contract_no": no,
        "location": "@地块", "note": "=0"}), 201)
    run = _ok(client.post("/v1/scoring/runs", json={"year": YEAR, "enterprises": [
        {"id": "@E1", "name": DANGEROUS["enterprise"],
         "values": {"tax_per_mu": 30.5, "va_per_mu": 150, "energy_efficiency": 3.1, "emission_efficiency": 2,
                    "labour_productivity": 20, "rd_share": 0.035}},
        {"id": "-E2", "name": DANGEROUS["enterprise2"],
         "values": {"tax_per_mu": 10, "va_per_mu": 50, "energy_efficiency": 1, "emission_efficiency": 1,
                    "labour_productivity": 5, "rd_share": 0.01}}]}), 201)
    return {"park": pid, "run": run["run_id"], "contract": no, "codes": codes}


def _xlsx_exports(client) -> list[str]:
    """Every GET path of the OpenAPI document that serves a workbook."""
    out = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        get = ops.get("get")
        if get is None:
            continue
        content = get.get("responses", {}).get("200", {}).get("content", {})
        if path.endswith(".xlsx") or XLSX in content:
            out.append(path)
    return sorted(out)


def _url(path: str, scene: dict) -> tuple[str, dict]:
    url = path.replace("{park_id}", scene["park"]).replace("{run_id}", scene["run"])
    assert "{" not in url, f"no value for a path parameter of {path}: extend this test"
    params = {"year": YEAR} if "evaluation" in path else {"as_of": f"{YEAR + 1}-03-01"} if "ledger" in path else {}
    return url, params


def _check_workbook(data: bytes) -> list:
    """All cell values; asserts that nothing in the workbook is a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                assert not re.search(rb"<(\w+:)?f[ >/]", z.read(name)), f"a formula element in {name}"
    values = []
    for ws in load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (cell.coordinate, cell.value, cell.data_type)
                    if cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                        assert cell.quotePrefix, (cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def test_every_xlsx_export_writes_texts_as_text(client, scene):
    exports = _xlsx_exports(client)
    assert {"/v1/parks/{park_id}/ledger.xlsx", "/v1/parks/{park_id}/evaluation.xlsx",
            "/v1/parks/{park_id}/parcels.xlsx", "/v1/scoring/runs/{run_id}.xlsx"} <= set(exports), exports
    seen: dict[str, list] = {}
    for path in exports:
        url, params = _url(path, scene)
        r = client.get(url, params=params)
        assert r.status_code == 200, (path, r.text)
        seen[path] = _check_workbook(r.content)
    texts = {p: [v for v in vals if isinstance(v, str)] for p, vals in seen.items()}
    # the stored texts are printed unchanged (titles carry the park name inside a longer text)
    assert any(v.startswith(HYPERLINK) for v in texts["/v1/parks/{park_id}/ledger.xlsx"])
    assert any(v.startswith(HYPERLINK) for v in texts["/v1/parks/{park_id}/evaluation.xlsx"])
    assert scene["contract"] in texts["/v1/parks/{park_id}/ledger.xlsx"] + texts["/v1/parks/{park_id}/parcels.xlsx"]
    for key in ("approval", "location", "note", "supervision"):
        assert DANGEROUS[key] in texts["/v1/parks/{park_id}/parcels.xlsx"], key
    run = texts["/v1/scoring/runs/{run_id}.xlsx"]
    assert {DANGEROUS["enterprise"], DANGEROUS["enterprise2"], "@E1", "-E2"} <= set(run)


def test_parcels_xlsx_round_trip_preserves_every_text(client, scene):
    pid = scene["park"]
    r = client.get(f"/v1/parks/{pid}/parcels.xlsx")
    assert r.status_code == 200
    _check_workbook(r.content)
    back = client.post(f"/v1/parks/{pid}/parcels:xlsx", files={"file": ("parcels.xlsx", r.content, XLSX)})
    # same content → every parcel "unchanged"; a changed text would be 409 (other content)
    assert back.status_code == 200, back.text
    assert back.json()["count"] == 2 and back.json()["unchanged"] == 2
    for code in scene["codes"]:
        doc = client.get(f"/v1/parcels/{code}").json()
        assert doc["code"] == code
    first = client.get(f"/v1/parcels/{scene['codes'][0]}").json()
    flat = repr(first)
    for key in ("approval", "location", "note", "supervision"):
        assert DANGEROUS[key] in flat, key
