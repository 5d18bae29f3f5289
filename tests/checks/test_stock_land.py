"""Stock land through the API (issue 14): approval batches with partial supply and 批文清理, the
批而未供 figure and its age, the one "disposed" rule, the 已批未供即用 rectification ledger and
增存挂钩.  Every figure and date below is computed by hand in the comments; the parameters come
from the bundled example document rules/stock/stock-land-example.yaml (priority after 2 years,
deadlines 2021-12-31, industrial cut-off 2018-12-31, township cut-off 2020-01-01, ratio for supply 0.5)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.api.test_openapi_responses import _same
from tests.contract_factory import m2, mu


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _events(client, batch: str, *events: dict, status: int = 201):
    r = client.post(f"/v1/stock/batches/{batch}/events", json={"events": list(events)})
    assert r.status_code == status, r.text
    _same(client, "POST", "/v1/stock/batches/{batch_id}/events", r)      # the answer is its declared model
    return r.json()


def _paths(r) -> set[str]:
    assert r.status_code == 422, r.text
    return {d["path"] for d in r.json()["detail"]}


@pytest.fixture
def batch(client) -> dict:
    """批次 100 亩 approved 2019-05-10 in 411202; parcels P1 30 亩, P2 20000 m² (= 20000 × 15/10000 = 30 亩),
    P3 10 亩, P4 5 亩 (carved out 75 亩, 25 亩 not yet carved out)."""
    bid = _id("b")
    body = {"id": bid, "document": "豫政土〔2019〕12号", "approved_on": "2019-05-10", "jurisdiction": "411202",
            "area": mu(100), "parcels": [{"code": "p1", "area": mu(30)}, {"code": "P2", "area": m2(20000)},
                                         {"code": "P3", "area": mu(10)}, {"code": "P4", "area": mu(5)}]}
    r = client.post("/v1/stock/batches", json=body)
    assert r.status_code == 201, r.text
    _same(client, "POST", "/v1/stock/batches", r)
    assert r.json()["area"] == {"value": "100", "unit": "亩"} and r.json()["parcels"] == 4
    assert client.post("/v1/stock/batches", json=body).status_code == 200          # identical: no-op
    assert client.post("/v1/stock/batches", json={**body, "area": mu(101)}).status_code == 409
    _events(client, bid,
            {"type": "supplied", "parcel": "P1", "on": "2020-03-01", "area": mu(12), "method": "transfer",
             "contract_no": "C-2020-01"},                                        # partial supply: 12 of 30
            {"type": "supplied", "parcel": "P1", "on": "2021-06-01", "method": "transfer",
             "contract_no": "C-2021-07"},                                        # the rest: 18 亩 (default)
            {"type": "temporary_use", "parcel": "P2", "on": "2020-01-01", "until": "2021-12-31"},
            {"type": "cleared", "parcel": "P3", "on": "2020-09-01", "reason": "土地利用现状未改变，不再征收",
             "decision": {"number": "湖政〔2020〕8号"}},
            {"type": "extension", "parcel": "P4", "on": "2020-05-01", "until": "2021-05-01"})
    return {"id": bid, "body": body}


def test_partially_supplied_batch_reports_its_remaining_unsupplied_area(client, batch):
    # 2021-05-10: supplied 12 (P1, 2020-03-01), cleared 10 (P3) → 批而未供 = 100 − 12 − 10 = 78 亩.
    # Two full years after 2019-05-10 end on 2021-05-10 (counted from the next day): age 1, no priority yet.
    r = client.get(f"/v1/stock/batches/{batch['id']}", params={"as_of": "2021-05-10"})
    _same(client, "GET", "/v1/stock/batches/{batch_id}", r)
    b = r.json()
    assert b["approved_unsupplied"] == {"value": "78", "unit": "亩"}
    assert (b["supplied"]["value"], b["cleared"]["value"], b["carved_out"]["value"], b["not_carved_out"]["value"]) == \
        ("12", "10", "75", "25")
    assert (b["age_years"], b["priority"], b["priority_from"]) == (1, False, "2021-05-11")
    p = {x["code"]: x for x in b["parcels"]}
    assert p["P1"]["unsupplied"]["value"] == "18" and p["P1"]["disposed"] is False
    assert p["P1"]["disposed_area"]["value"] == "12" and "部分供地" in p["P1"]["disposal"]
    assert p["P2"]["area"]["value"] == "30"                                      # 20000 m² exactly 30 亩
    # 2021-05-11: age 2 → 消化 priority (78 亩 still unsupplied)
    b = client.get(f"/v1/stock/batches/{batch['id']}", params={"as_of": "2021-05-11"}).json()
    assert (b["age_years"], b["priority"]) == (2, True)
    assert b["law"]["id"] == "sanmenxia-stock-land-example" and "priority" in b["law"]["example_values"]
    # 2021-06-01: P1's remaining 18 亩 supplied → 100 − 30 − 10 = 60 亩; supply rate 30/100 = 30.00 %
    b = client.get(f"/v1/stock/batches/{batch['id']}", params={"as_of": "2021-06-01"}).json()
    assert b["approved_unsupplied"]["value"] == "60" and b["supply_rate"] == "30.00%"
    p = {x["code"]: x for x in b["parcels"]}
    assert p["P1"]["disposed"] is True and p["P1"]["disposed_on"] == "2021-06-01"


def test_extension_or_temporary_use_alone_is_not_disposal(client, batch):
    b = client.get(f"/v1/stock/batches/{batch['id']}", params={"as_of": "2022-01-01"}).json()
    p = {x["code"]: x for x in b["parcels"]}
    for code, kind in (("P2", "temporary_use"), ("P4", "extension")):
        assert p[code]["disposed"] is False and p[code]["disposed_area"]["value"] == "0", p[code]
        assert [i["type"] for i in p[code]["ignored"]] == [kind]
        assert p[code]["unsupplied"] == p[code]["area"]
    # 批文清理 takes P3 out of the stock but is no disposal either
    assert p["P3"]["disposed"] is False and p["P3"]["unsupplied"]["value"] == "0"
    # building on unsupplied land (已批未供即用) leaves it 未供
    _events(client, batch["id"], {"type": "started", "parcel": "P2", "on": "2022-02-01"})
    p2 = next(x for x in client.get(f"/v1/stock/batches/{batch['id']}", params={"as_of": "2022-03-01"}).json()["parcels"]
              if x["code"] == "P2")
    assert p2["disposed"] is False and "不算供地" in p2["ignored"][-1]["reason"]


def test_bad_batches_and_events_are_422_with_paths(client, batch):
    bid = batch["id"]
    r = client.post("/v1/stock/batches", json={**batch["body"], "id": _id("b"), "area": mu(70)})
    assert _paths(r) == {"parcels"}                                        # 75 亩 of parcels > 70 亩 approved
    r = client.post("/v1/stock/batches", json={**batch["body"], "id": _id("b"), "area": {"value": 5, "unit": "kg"}})
    assert "area.unit" in _paths(r)
    r = client.post(f"/v1/stock/batches/{bid}/events", json={"events": [
        {"type": "supplied", "parcel": "P1", "on": "2022-01-01", "method": "allocation"},  # nothing left
        {"type": "supplied", "parcel": "P2", "on": "2022-01-01", "area": mu(31), "method": "allocation"},
        {"type": "cleared", "parcel": "P4", "on": "2022-01-01"},
        {"type": "supplied", "parcel": "NOPE", "on": "2022-01-01", "method": "allocation"},
        {"type": "supplied", "parcel": "P2", "on": "2019-01-01", "area": mu(1), "method": "transfer"}]})
    assert _paths(r) == {"events.0.area", "events.1.area", "events.2.reason", "events.3.parcel", "events.4.on",
                         "events.4.contract_no"}
    assert any("剩余批而未供面积 30" in d["msg"] for d in r.json()["detail"])
    # nothing of the refused request was stored
    b = client.get(f"/v1/stock/batches/{bid}", params={"as_of": "2022-12-31"}).json()
    assert b["supplied"]["value"] == "30"


def test_rectification_ledger_routes_status_and_overdue(client):
    bid = _id("r")
    r = client.post("/v1/stock/batches", json={
        "id": bid, "document": "豫政土〔2017〕3号", "approved_on": "2017-03-01", "jurisdiction": "411202", "area": mu(60),
        "parcels": [{"code": "I1", "area": mu(20)}, {"code": "S1", "area": mu(10), "use": "public_service"},
                    {"code": "T1", "area": mu(15)}, {"code": "I2", "area": mu(5)}]})
    assert r.status_code == 201, r.text
    # routes whose conditions do not hold: used after the 2018-12-31 cut-off; expropriation approved on
    # 2020-01-01 (must be before); the public route for an industrial parcel
    r = client.post(f"/v1/stock/batches/{bid}/events", json={"events": [
        {"type": "used_before_supply", "parcel": "I2", "on": "2021-03-01", "route": "industrial_pre_cutoff",
         "user": "乙公司", "used_since": "2019-01-01"},
        {"type": "used_before_supply", "parcel": "T1", "on": "2021-03-01", "route": "township_collective",
         "user": "丙乡镇企业", "used_since": "2005-01-01", "expropriation_approved_on": "2020-01-01"},
        {"type": "used_before_supply", "parcel": "I2", "on": "2021-03-01", "route": "public_allocation",
         "user": "乙公司", "used_since": "2018-01-01"}]})
    assert _paths(r) == {"events.0.used_since", "events.1.expropriation_approved_on", "events.2.route"}
    _events(client, bid,
            {"type": "used_before_supply", "parcel": "I1", "on": "2021-03-01", "route": "industrial_pre_cutoff",
             "user": "甲公司", "used_since": "2018-06-01"},
            {"type": "used_before_supply", "parcel": "S1", "on": "2021-03-01", "route": "public_allocation",
             "user": "湖滨区教育局", "used_since": "2016-09-01"},
            {"type": "used_before_supply", "parcel": "T1", "on": "2021-03-01", "route": "township_collective",
             "user": "丙乡镇企业", "used_since": "2005-01-01", "expropriation_approved_on": "2019-12-31"},
            {"type": "rectification_step", "parcel": "I1", "on": "2021-04-01", "step": "determined"},
            {"type": "rectification_step", "parcel": "I1", "on": "2021-06-01", "step": "accepted"},
            {"type": "rectification_step", "parcel": "S1", "on": "2021-10-08", "step": "allocation_decision",
             "decision": {"number": "湖划〔2021〕15号"}},
            {"type": "rectification_step", "parcel": "T1", "on": "2022-02-15", "step": "contract_signed",
             "decision": {"number": "HB-2022-004"}})
    # the allocation decision needs its number; a parcel already wholly supplied is not 已批未供即用
    r = client.post("/v1/stock/batches", json={"id": (full := _id("f")), "document": "豫政土〔2017〕4号",
                                               "approved_on": "2017-03-01", "jurisdiction": "411202", "area": mu(10),
                                               "parcels": [{"code": "S9", "area": mu(10), "use": "public_service"}]})
    assert r.status_code == 201, r.text
    _events(client, full, {"type": "supplied", "parcel": "S9", "on": "2021-02-20", "method": "allocation"})
    r = client.post(f"/v1/stock/batches/{full}/events", json={"events": [
        {"type": "used_before_supply", "parcel": "S9", "on": "2021-03-01", "route": "public_allocation",
         "user": "湖滨区教育局", "used_since": "2016-09-01"}]})
    assert _paths(r) == {"events.0.parcel"}
    r = client.post(f"/v1/stock/batches/{bid}/events", json={"events": [
        {"type": "rectification_step", "parcel": "S1", "on": "2021-10-08", "step": "allocation_decision"}]})
    assert "events.0.decision" in _paths(r)
        # steps in order: 完善用地手续 before 省厅备案 is refused
    r = client.post(f"/v1/stock/batches/{bid}/events", json={"events": [
        {"type": "rectification_step", "parcel": "I1", "on": "2022-01-05", "step": "procedures_completed"}]})
    assert _paths(r) == {"events.0.step"} and "报省自然资源厅备案" in r.json()["detail"][0]["msg"]

    def ledger(as_of: str) -> tuple[dict, dict]:
        r = client.get("/v1/stock/rectification", params={"as_of": as_of, "jurisdiction": "411202"})
        _same(client, "GET", "/v1/stock/rectification", r)
        out = r.json()
        return out, {i["parcel"]: i for i in out["items"] if i["batch"] == bid}

    out, items = ledger("2021-12-31")                                    # the deadline day itself: not overdue
    assert {k: v["status"] for k, v in items.items()} == {"I1": "in_progress", "S1": "completed", "T1": "open"}
    assert items["I1"]["next_step"] == "报省自然资源厅备案" and items["I1"]["deadline"] == "2021-12-31"
    out, items = ledger("2022-01-10")                                    # 10 days after 2021-12-31
    assert items["I1"]["status"] == "overdue" and items["I1"]["days_overdue"] == 10
    assert items["T1"]["status"] == "overdue" and items["S1"]["status"] == "completed"
    assert {(o["batch"], o["parcel"], o["days_overdue"]) for o in out["overdue"] if o["batch"] == bid} == \
        {(bid, "I1", 10), (bid, "T1", 10)}
    out, items = ledger("2022-03-01")                                    # T1 signed 2022-02-15: late
    assert items["T1"]["status"] == "completed_late" and items["I1"]["days_overdue"] == 60   # 31 + 28 + 1


def test_linkage_per_county_recomputed_by_hand(client):
    """411221 in 2021: batch A supplies 12 亩 in 2020 (other year) and 18 亩 on 2021-06-01; batch B
    (15 公顷 = 225 亩) supplies parcel Q1 (45 亩) by allocation on 2021-09-01; Q2 only temporary use,
    Q3 built on before supply (not supplied).  Disposed in 2021: 18 + 45 = 63 亩; quota with the
    example ratio 0.5 for supply: 18 × 0.5 + 45 × 0.5 = 9 + 22.5 = 31.5 亩."""
    county = f"4112{uuid.uuid4().int % 80 + 20:02d}"      # a county of its own (411220–411299)
    a, b = _id("la"), _id("lb")
    for bid, area, parcels in ((a, mu(40), [{"code": "A1", "area": mu(30)}]),
                               (b, {"value": 15, "unit": "公顷"}, [{"code": "Q1", "area": mu(45)},
                                                                  {"code": "Q2", "area": mu(20)},
                                                                  {"code": "Q3", "area": mu(10)}])):
        r = client.post("/v1/stock/batches", json={"id": bid, "document": f"豫政土〔2019〕{bid}号", "approved_on": "2019-01-15",
                                                   "jurisdiction": county, "area": area, "parcels": parcels})
        assert r.status_code == 201, r.text
    _events(client, a, {"type": "supplied", "parcel": "A1", "on": "2020-12-31", "area": mu(12), "method": "allocation"},
            {"type": "supplied", "parcel": "A1", "on": "2021-06-01", "area": mu(18), "method": "allocation"})
    _events(client, b, {"type": "supplied", "parcel": "Q1", "on": "2021-09-01", "method": "allocation"},
            {"type": "temporary_use", "parcel": "Q2", "on": "2021-02-01", "until": "2022-02-01"},
            {"type": "started", "parcel": "Q3", "on": "2021-04-01"})
    r = client.get("/v1/stock/linkage", params={"year": 2021, "jurisdiction": county})
    _same(client, "GET", "/v1/stock/linkage", r)
    (c,) = r.json()["counties"]
    assert c["jurisdiction"] == county and c["disposed_area"]["value"] == "63" and c["quota"]["value"] == "31.5"
    assert sorted((p["parcel"], p["area"]["value"], p["ratio"], p["quota"]["value"]) for p in c["parcels"]) == \
        [("A1", "18", "0.5", "9"), ("Q1", "45", "0.5", "22.5")]
    assert "linkage" in c["law"]["example_values"]
    out = client.get("/v1/stock/linkage", params={"year": 2020, "jurisdiction": county}).json()
    # 2020: 12 亩 disposed, but no stock_land document was in force on 2020-12-31 (the example
    # document starts on 2021-02-10): the quota is not computed rather than computed from a later rule
    (c,) = out["counties"]
    assert c["disposed_area"]["value"] == "12" and c["quota"] is None and c["missing_law"] is True
    # a county document is more specific than the city's: published for this county with ratio 0.8 for
    # supply, the 2021 quota becomes 63 × 0.8 = 50.4 亩 (18 × 0.8 = 14.4, 45 × 0.8 = 36)
    import json

    from app.core import safe_yaml
    from rules import RULES_DIR

    raw = json.loads(json.dumps(safe_yaml.load((RULES_DIR / "stock" / "stock-land-example.yaml").read_text(
        encoding="utf-8")), default=str))
    mine = {**raw, "id": f"county-{county}-{a}", "jurisdiction": county, "effective_from": "2021-01-01",
            "linkage": {**raw["linkage"], "ratios": {**raw["linkage"]["ratios"], "supplied": "0.8"}}}
    assert client.post("/v1/law/stock_land", json=mine).status_code == 201
    (c,) = client.get("/v1/stock/linkage", params={"year": 2021, "jurisdiction": county}).json()["counties"]
    assert c["quota"]["value"] == "50.4" and c["law"]["id"] == mine["id"]
    assert sorted(p["quota"]["value"] for p in c["parcels"]) == ["14.4", "36"]
    b_view = client.get(f"/v1/stock/batches/{b}", params={"as_of": "2021-12-31"}).json()
    assert b_view["approved_area"]["value"] == "225" and b_view["approved_unsupplied"]["value"] == "180"  # 225 − 45


def test_an_unconfirmed_parameter_must_be_labelled_as_an_example(client, uid):
    from app.core import safe_yaml
    from rules import RULES_DIR

    raw = safe_yaml.load((RULES_DIR / "stock" / "stock-land-example.yaml").read_text(encoding="utf-8"))
    import json

    raw = json.loads(json.dumps(raw, default=str))
    bad = {**raw, "id": f"stock-{uid}", "linkage": {**raw["linkage"], "example": False},
           "priority": {**raw["priority"], "older_than_years": -1}}
    r = client.post("/v1/law/stock_land", json=bad)
    assert _paths(r) == {"linkage", "priority.older_than_years"}
    ok = {**raw, "id": f"stock-{uid}"}
    assert client.post("/v1/law/stock_land", json=ok).status_code == 201


def test_park_ledger_uses_the_same_disposed_rule(client):
    """The 一宗一策 ledger's ``disposal`` of a park parcel: an idle parcel whose completed plan is a
    temporary use is not disposed; once its contract records the start of development, it is."""
    from app.checks.parks.ledger import flat_ledger
    from tests.contract_factory import base_contract, register

    uid = uuid.uuid4().hex[:8]
    pid = f"disp-{uid}"
    r = client.post("/v1/parks", json={"id": pid, "name": "处置测试园区", "name_valid_from": "2010-01-01",
                                       "jurisdiction": "411202", "planned_area": mu(1000)})
    assert r.status_code == 201, r.text
    no = register(client, base_contract(uid, 1, parcel_code=None))     # start due 2023-03-01, never started
    code = f"411202{uuid.uuid4().int % 10**6:06d}GB00001"
    r = client.post("/v1/parcels", json={"code": code, "park": pid, "area": mu(30), "supply_status": "transferred",
                                         "contract_no": no})
    assert r.status_code == 201, r.text
    r = client.put(f"/v1/parcels/{code}/plan", json={
        "as_of": "2024-07-01", "categories": ["idle"], "cause": {"type": "enterprise", "detail": "资金不足"},
        "measure": "temporary_use", "cap_from": "2024-07-01", "deadline": "2025-06-30",
        "responsible": {"lead_unit": "湖滨区自然资源局"}, "progress": {"status": "completed", "updated_on": "2024-07-01"}})
    assert r.status_code == 201, r.text

    def row(as_of: str) -> dict:
        led = client.get(f"/v1/parks/{pid}/ledger", params={"as_of": as_of}).json()
        (x,) = [x for x in led["rows"] if x["parcel"]["code"] == code]
        return x, {f["宗地代码"]: f for f in flat_ledger(led)}[code]

    x, flat = row("2024-08-01")
    assert x["disposal"]["disposed"] is False and x["disposal"]["ignored"] == ["temporary_use"], x["disposal"]
    assert "仅临时使用" in flat["处置认定"]
    r = client.post(f"/v1/contracts/{no}/events", json={"events": [{"type": "started", "on": "2024-09-01"}]})
    assert r.status_code == 201, r.text
    x, flat = row("2024-10-01")
    assert (x["disposal"]["disposed"], x["disposal"]["on"], x["disposal"]["by"]) == (True, "2024-09-01", ["started"])
    assert "已动工开发" in flat["处置认定"]


def test_a_retried_event_is_not_stored_twice(client, batch):
    """A partial supply of 5 亩 sent twice with the same id counts once: P2 30 − 5 = 25 亩 left."""
    ev = {"id": "sup-p2-1", "type": "supplied", "parcel": "P2", "on": "2022-04-01", "area": mu(5), "method": "allocation"}
    first = _events(client, batch["id"], ev)
    assert len(first["appended"]) == 1 and first["unchanged"] == []
    again = _events(client, batch["id"], ev)
    assert again["appended"] == [] and [e["id"] for e in again["unchanged"]] == ["sup-p2-1"]
    r = client.post(f"/v1/stock/batches/{batch['id']}/events", json={"events": [{**ev, "area": mu(6)}]})
    assert r.status_code == 409, r.text
    # a refused event's path is its place in the request, also after a repeated one
    r = client.post(f"/v1/stock/batches/{batch['id']}/events", json={"events": [ev, {**ev, "id": None, "area": mu(26)}]})
    assert _paths(r) == {"events.1.area"}
    p2 = next(x for x in client.get(f"/v1/stock/batches/{batch['id']}", params={"as_of": "2022-12-31"}).json()["parcels"]
              if x["code"] == "P2")
    assert p2["supplied"]["value"] == "5" and p2["unsupplied"]["value"] == "25"


def test_workbooks_equal_the_json(client, batch):
    import io

    import openpyxl

    from app.checks.stock import BATCH_COLUMNS, RECT_COLUMNS, flat_batches, flat_rectification

    for path, columns, flat_of in (("/v1/stock/batches", BATCH_COLUMNS, flat_batches),
                                   ("/v1/stock/rectification", RECT_COLUMNS, flat_rectification)):
        params = {"as_of": "2022-01-10", "jurisdiction": "411202"}
        answer = client.get(path, params=params)
        _same(client, "GET", path, answer)
        flat = flat_of(answer.json())
        r = client.get(f"{path}.xlsx", params=params)
        assert r.status_code == 200, r.text
        rows = [list(x) for x in openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)]
        assert rows[1] == columns and "2022-01-10" in rows[0][0]
        body = rows[2:2 + len(flat)]
        for got, want in zip(body, flat, strict=True):
            for i, h in enumerate(columns):
                w, g = want[h], got[i]
                if isinstance(g, int | float) and isinstance(w, str):      # an area: a number cell, exact
                    assert Decimal(str(g)) == Decimal(w), (h, g, w)
                else:
                    assert g == w, (h, g, w)
        total = rows[2 + len(flat)]
        assert total[0] == "合计" and total[1] == f"共 {len(flat)} 项"
    # this test's batch is in the sheet with its own figures: 100 − 30 − 10 = 60 亩 on 2022-01-10
    flat = {f["批次"]: f for f in flat_batches(client.get("/v1/stock/batches", params={"as_of": "2022-01-10"}).json())}
    assert flat[batch["id"]]["批而未供面积（亩）"] == "60" and flat[batch["id"]]["消化优先"] == "是"
