"""Parks, parcels, classification, the 一宗一策 ledger and the yearly evaluation, through the API.

The scenario park (one per test session, ids made unique with a random tag), every number by hand:

  A  20 亩  approved 2019-05-10 (豫政土〔2019〕12号), not supplied            → 批而未供 (PIWG)
  B  30 亩  contract T-…-1: signed 2023-01-10, start_by 2023-03-01, no start → 闲置 (IDLE) from 2024-03-02
  C  30 亩  contract T-…-2: completed 2022-06-30; tax 2023: 30, 2024: 60     → 低效 (LOW_EFF) by tax
  D  30 亩  contract T-…-3: completed 2022-06-30; tax 2023: 450, 2024: 570 paid + 30 policy refunds
  E  30 亩  contract T-…-4: completed 2022-06-30; tax 2023: 240, 2024: 240

C, D, E: signed 2021-03-01, start_by 2021-04-01 (started that day), complete_by 2022-06-30 (accepted that
day, 9000 万元 over 30 亩 = 300 万元/亩 = the agreed 4500 元/m²; plot ratio 30000 m² ÷ 20000 m² = 1.5).
Tax basis: sanmenxia-standard-land adds policy refunds back, so D 2024 counts 570 + 30 = 600.
Area basis: the parcel's registered (= contracted) area.  The park figure divides by ALL industrial
land supplied by 31 December (120 亩: B, C, D, E); B's transferee has no tax records and B is not
started (2023) / idle land (2024): it counts 0, with that reason (it is not missing data: no
producing enterprise lacks a record, so the verdict is not ``incomplete``).

  2024 per mu: C 60/30 = 2, D 600/30 = 20, E 240/30 = 8, B 0  → park 900/120 = 7.5 万元/亩
  2023 per mu: C 30/30 = 1, D 450/30 = 15, E 240/30 = 8, B 0  → park 720/120 = 6 万元/亩
  Secondary line (land with data only, C D E = 90 亩): 2024 900/90 = 10, 2023 720/90 = 8.
  YoY 2024: 7.5 − 6 = +1.5, +1.5/6 = +25 %.  Target 15 (百园增效): distance 15 − 7.5 = 7.5, attainment 50 %.
  Low-efficiency tax predicate (k = 0.5) against the producing land's figure (land with data): 2024
  threshold 0.5 × 10 = 5 → C (2) holds, E (8) and D (20) do not.
  Pulling down in 2024 (below 7.5), lowest first: B (0, idle: gap 7.5, shortfall 7.5 × 30 = 225 万元),
  C (gap 5.5, shortfall 165); E (8) is above the park figure.
  Coverage: tax data for 90 亩 of the 120 亩 supplied industrial land = 75 %.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from app.checks.parks.ledger import flat_ledger
from tests.contract_factory import base_contract, m2, mu, post_events, post_tax, register, tax_record, uscc_for, wan

LOW_RS = "henan-park-low-efficiency-example"
CDE_SCHEDULE = {"delivery_on": "2021-03-10", "start_by": "2021-04-01", "complete_by": "2022-06-30"}
STARTED = {"type": "started", "on": "2021-04-01"}
COMPLETED = {"type": "completion_accepted", "on": "2022-06-30", "fixed_asset_investment": wan(9000),
             "total_floor_area": m2(30000), "building_footprint": m2(9000), "admin_land_area": m2(1000),
             "green_area": m2(2000)}


def code(tag: int, n: int) -> str:
    """A valid 宗地代码: county 411202, a 6-digit tag unique to the run, GB, sequence n."""
    return f"411202{tag:06d}GB{n:05d}"


def park_body(pid: str, **over) -> dict:
    body = {"id": pid, "name": "三门峡产业集聚区", "name_valid_from": "2009-01-01", "jurisdiction": "411200",
            "planned_area": {"value": 1000, "unit": "亩"}, "target_tax_per_mu": {"value": 15, "unit": "万元/亩"},
            "target_source": "河南省“百园增效”行动：3–5 年内工业用地亩均税收达到 15 万元/亩（http://kbm75.com/xy/hn/987976.html）",
            "ruleset": LOW_RS, "tax_ruleset": "sanmenxia-standard-land"}
    body.update(copy.deepcopy(over))
    return body


def post(client, url: str, body: dict, status: int) -> dict:
    r = client.post(url, json=body)
    assert r.status_code == status, r.text
    return r.json()


def put_plan(client, parcel: str, body: dict, status: int = 201) -> dict:
    r = client.put(f"/v1/parcels/{parcel}/plan", json=body)
    assert r.status_code == status, r.text
    return r.json()


def paths(detail: dict) -> set[str]:
    return {d["path"] for d in detail["detail"]}


def cde_contract(uid: str, n: int) -> dict:
    return base_contract(uid, n, signed_on="2021-03-01", schedule=CDE_SCHEDULE)


@pytest.fixture(scope="module")
def scene(client) -> dict:
    uid = uuid.uuid4().hex[:8]
    tag = uuid.uuid4().int % 10**6
    pid = f"smx-{uid}"
    out = post(client, "/v1/parks", park_body(pid), 201)
    assert out["created"] is True and out["planned_area"] == {"value": "1000", "unit": "亩"}
    nos = {"B": register(client, base_contract(uid, 1))}
    for n, key in ((2, "C"), (3, "D"), (4, "E")):
        nos[key] = register(client, cde_contract(uid, n))
        post_events(client, nos[key], STARTED, COMPLETED)
    codes = {k: code(tag, i + 1) for i, k in enumerate("ABCDE")}
    post(client, "/v1/parcels", {"code": codes["A"], "park": pid, "area": mu(20), "supply_status": "approved_unsupplied",
                                 "approval": {"document": "豫政土〔2019〕12号", "date": "2019-05-10"}}, 201)
    for k in "BCDE":
        out = post(client, "/v1/parcels", {"code": codes[k], "park": pid, "area": mu(30), "supply_status": "transferred",
                                           "contract_no": nos[k], "location": f"宗地 {k}"}, 201)
        assert out["supplied_on"] == ("2023-01-10" if k == "B" else "2021-03-01")
    post_tax(client, f"parks-{uid}-1",
             tax_record(uscc_for(uid, 2), 2023, 30), tax_record(uscc_for(uid, 2), 2024, 60),
             tax_record(uscc_for(uid, 3), 2023, 450), tax_record(uscc_for(uid, 3), 2024, 570, refunds=30),
             tax_record(uscc_for(uid, 4), 2023, 240), tax_record(uscc_for(uid, 4), 2024, 240))
    return {"uid": uid, "tag": tag, "park": pid, "codes": codes, "contracts": nos}


def parcel(client, c: str, as_of: str) -> dict:
    r = client.get(f"/v1/parcels/{c}", params={"as_of": as_of})
    assert r.status_code == 200, r.text
    return r.json()


def cats(view: dict) -> list[str]:
    return [c["code"] for c in view["categories"]]


# ---------------------------------------------------------------- parks and names

def test_park_names_valid_on_dates(client, scene):
    pid = scene["park"]
    # The 2021 reorganisation: the 产业集聚区 becomes a 开发区 on 2021-07-01; the old name closes that day.
    out = post(client, f"/v1/parks/{pid}/names", {"name": "三门峡经济开发区", "valid_from": "2021-07-01"}, 201)
    assert out["names"] == [{"name": "三门峡产业集聚区", "valid_from": "2009-01-01", "valid_to": "2021-07-01"},
                            {"name": "三门峡经济开发区", "valid_from": "2021-07-01", "valid_to": None}]
    # the same dated name again: nothing changes
    again = post(client, f"/v1/parks/{pid}/names", {"name": "三门峡经济开发区", "valid_from": "2021-07-01"}, 200)
    assert again["created"] is False and len(again["names"]) == 2
    # a period overlapping a closed one is refused, with its path
    bad = post(client, f"/v1/parks/{pid}/names", {"name": "X", "valid_from": "2020-01-01", "valid_to": "2022-01-01"}, 422)
    assert paths(bad) == {"valid_from"}
    for on, name in (("2008-12-31", None), ("2009-01-01", "三门峡产业集聚区"), ("2021-06-30", "三门峡产业集聚区"),
                     ("2021-07-01", "三门峡经济开发区"), ("2025-01-01", "三门峡经济开发区")):
        r = client.get(f"/v1/parks/{pid}", params={"as_of": on})
        assert r.status_code == 200, r.text
        assert r.json()["name"] == name, on
    view = client.get(f"/v1/parks/{pid}", params={"as_of": "2024-01-01"}).json()
    assert view["parcels"] == 5 and view["target_tax_per_mu"] == {"value": "15", "unit": "万元/亩"}
    assert view["ruleset_in_force"]["id"] == LOW_RS and view["ruleset_in_force"]["example"] is True


def test_park_registration_errors(client, uid):
    pid = f"p-{uid}"
    post(client, "/v1/parks", park_body(pid), 201)
    assert post(client, "/v1/parks", park_body(pid), 200)["created"] is False          # identical: no-op
    r = client.post("/v1/parks", json=park_body(pid, planned_area={"value": 999, "unit": "亩"}))
    assert r.status_code == 409, r.text
    bad = post(client, "/v1/parks", park_body(f"q-{uid}", ruleset="no-such-rules", target_source=None,
                                              planned_area={"value": 5, "unit": "万元"}), 422)
    assert paths(bad) == {"ruleset", "target_source", "planned_area.unit"}
    both = post(client, "/v1/parks", park_body(f"q-{uid}", names=[{"name": "甲"}]), 422)
    assert paths(both) == {""}                                   # name and names: the request as a whole
    overlap = park_body(f"q-{uid}", name=None, name_valid_from=None,
                        names=[{"name": "甲", "valid_from": "2010-01-01"}, {"name": "乙", "valid_from": "2021-07-01"}])
    assert paths(post(client, "/v1/parks", overlap, 422)) == {"names.1.valid_from"}      # 甲 is still open
    assert client.get(f"/v1/parks/nope-{uid}").status_code == 404
    assert client.post(f"/v1/parks/nope-{uid}/names", json={"name": "x", "valid_from": "2020-01-01"}).status_code == 404


def test_parcel_registration_errors(client, uid):
    pid, tag = f"reg-{uid}", uuid.uuid4().int % 10**6
    post(client, "/v1/parks", park_body(pid), 201)
    good = {"code": code(tag, 90), "park": pid, "area": mu(10), "supply_status": "approved_unsupplied",
            "approval": {"document": "豫政土〔2020〕1号", "date": "2020-01-01"}, "use": "warehouse"}
    # malformed 宗地代码 (check_parcel_code: invalid), unknown park, unit of the wrong kind
    bad = post(client, "/v1/parcels", {**good, "code": "41120200100XGB00001", "park": f"none-{uid}",
                                       "area": {"value": 10, "unit": "万元"}}, 422)
    assert paths(bad) == {"code", "park", "area.unit"}
    assert paths(post(client, "/v1/parcels", {**good, "approval": None}, 422)) == {"approval"}
    assert paths(post(client, "/v1/parcels", {**good, "supply_status": "transferred", "approval": None}, 422)) == {"contract_no"}
    assert paths(post(client, "/v1/parcels", {**good, "supply_status": "transferred", "contract_no": f"none-{uid}"},
                      422)) == {"contract_no"}
    assert paths(post(client, "/v1/parcels", {**good, "supply_status": "allocated"}, 422)) == {"supplied_on"}
    assert paths(post(client, "/v1/parcels", {**good, "use": "farm"}, 422)) == {"use"}
    post(client, "/v1/parcels", good, 201)
    assert post(client, "/v1/parcels", good, 200)["created"] is False
    r = client.post("/v1/parcels", json={**good, "area": mu(11)})
    assert r.status_code == 409, r.text
    assert client.get(f"/v1/parcels/{code(tag, 91)}").status_code == 404
    # a warehouse parcel is not industrial: no low-efficiency assessment
    view = parcel(client, good["code"], "2024-12-31")
    assert view["assessment"]["low_efficiency"]["status"] == "not_applicable"
    assert cats(view) == ["PIWG"]


# ---------------------------------------------------------------- classification

def test_approved_unsupplied_on_dates(client, scene):
    a = scene["codes"]["A"]
    assert parcel(client, a, "2019-05-09")["categories"] == []                 # not yet approved
    v = parcel(client, a, "2024-12-31")
    assert cats(v) == ["PIWG"]
    piwg = v["categories"][0]
    # 2019-05-10 → 2024-05-10: 5 × 365 + 2 leap days = 1827; → 2024-12-31: 21+30+31+31+30+31+30+31 = 235; total 2062
    assert piwg["days_since_approval"] == 2062
    assert [(p["predicate"], p["holds"]) for p in piwg["predicates"]] == [("approved", True), ("unsupplied", True)]
    assert v["assessment"]["idle"]["status"] == "not_applicable"
    assert v["assessment"]["low_efficiency"]["status"] == "not_applicable"
    assert v["basics"]["area_m2"] == {"value": "13333.33", "unit": "m2"}       # 20 × 10000/15


def test_idle_via_contract_without_start(client, scene):
    b = scene["codes"]["B"]
    # start_by 2023-03-01: one full year ends 2024-03-01, so idle from 2024-03-02
    assert parcel(client, b, "2024-03-01")["categories"] == []
    v = parcel(client, b, "2024-12-31")
    assert cats(v) == ["IDLE"]
    idle = v["categories"][0]
    assert idle["state"] == "idle_1y" and idle["cause"] == "enterprise"
    # fee 20 % × 1200 = 240 万元
    assert idle["finding"]["amount"] == "240.00"
    tests = {p["predicate"]: p for p in idle["predicates"]}
    # 2024-12-31 − 2024-03-01 = 305 days > 0; 2024-12-31 − 2025-03-01 = −60
    assert tests["idle.not_started_1y"]["value"] == "305" and tests["idle.not_started_1y"]["holds"] is True
    assert tests["idle.not_started_2y"]["value"] == "-60" and tests["idle.not_started_2y"]["holds"] is False
    assert parcel(client, b, "2025-03-02")["categories"][0]["state"] == "idle_2y"
    # B is supplied (transferred 2023-01-10): not 批而未供
    assert v["assessment"]["approved_unsupplied"]["status"] == "no"
    # no tax records for B's transferee: insufficient data, never zero
    assert v["tax"]["status"] == "insufficient_data" and v["tax"]["tax_per_mu"] is None


def test_low_efficiency_by_tax_with_predicate_results(client, scene):
    c = scene["codes"]["C"]
    v = parcel(client, c, "2025-01-01")                  # tax year 2024
    assert v["tax_year"] == 2024 and cats(v) == ["LOW_EFF"]
    low = v["categories"][0]
    assert low["ruleset"]["id"] == LOW_RS and low["ruleset"]["example"] is True
    preds = {p["predicate"]: p for p in low["predicates"]}
    tax = preds["tax_per_mu_below_park_average"]
    # 2 < 0.5 × 10 = 5
    assert (tax["status"], tax["value"], tax["threshold"]) == ("holds", "2", "5")
    assert tax["inputs"]["park_average"] == "10" and tax["inputs"]["park_average_basis"] == "land_with_data"
    assert tax["confidence"] == "❓" and tax["set_by"]
    assert tax["parameter"] == {"value": "0.5", "unit": "fraction"} and tax["example"] is True
    assert tax["gate"]["from"] == "2023-06-30"           # 1 year after acceptance on 2022-06-30
    # plot ratio 1.5 ≥ 1.0; intensity 300 ≥ 0.5 × 300 = 150 (gate: 2 years after 2022-06-30 → 2024-06-30)
    assert (preds["plot_ratio_below"]["status"], preds["plot_ratio_below"]["value"]) == ("not_met", "1.5")
    inv = preds["investment_intensity_below_half_contract"]
    assert (inv["status"], inv["value"], inv["threshold"]) == ("not_met", "300", "150")
    assert preds["stopped_12_months"]["status"] == "not_met"
    assert preds["completion_overdue_2_years"]["status"] == "not_applicable"
    # one year earlier (tax year 2023): 1 < 0.5 × 8 = 4 still holds; investment gate not yet open
    earlier = {p["predicate"]: p for p in parcel(client, c, "2024-03-01")["categories"][0]["predicates"]}
    assert (earlier["tax_per_mu_below_park_average"]["value"], earlier["tax_per_mu_below_park_average"]["threshold"]) == \
        ("1", "4")
    assert earlier["investment_intensity_below_half_contract"]["status"] == "not_applicable"
    # D (20 ≥ 5) and E (8 ≥ 5) are fine
    for k in "DE":
        w = parcel(client, scene["codes"][k], "2025-01-01")
        assert w["categories"] == [] and w["assessment"]["low_efficiency"]["status"] == "no"
    d = parcel(client, scene["codes"]["D"], "2025-01-01")["tax"]
    assert d["tax_per_mu"] == {"value": "20", "unit": "万元/亩"}
    assert d["inputs"]["counted_tax"] == "600" and d["inputs"]["refunds_added_back"] is True


# ---------------------------------------------------------------- evaluation

def test_yearly_evaluation(client, scene):
    r = client.get(f"/v1/parks/{scene['park']}/evaluation", params={"year": 2024})
    assert r.status_code == 200, r.text
    ev = r.json()
    codes = scene["codes"]
    assert ev["kind"] == "park_evaluation" and ev["verdict"] == "below_target" and ev["decision_id"]
    assert ev["park_name"] == "三门峡经济开发区" and ev["as_of"] == "2024-12-31" and ev["example"] is True
    t = ev["tax_per_mu"]
    assert t["value"] == {"value": "7.5", "unit": "万元/亩"}
    assert t["total_tax"] == {"value": "900", "unit": "万元"} and t["area_counted"] == {"value": "120", "unit": "亩"}
    assert t["area_in_scope"] == {"value": "120", "unit": "亩"} and t["coverage"] == {"value": "75", "unit": "%"}
    assert t["area_with_data"] == {"value": "90", "unit": "亩"}
    assert t["over_land_with_data"]["value"] == {"value": "10", "unit": "万元/亩"}
    assert t["over_land_with_data"]["area"] == {"value": "90", "unit": "亩"}
    assert "仅计有税收数据" in t["over_land_with_data"]["label"]
    assert t["area_basis"]["id"] == "contract" and t["allocation"]["id"] == "by_area"
    assert t["tax_basis"]["refunds_added_back"] is True and t["tax_basis"]["from"]["id"] == "sanmenxia-standard-land"
    assert [(z["code"], z["reason"], z["tax_per_mu"]["value"]) for z in t["parcels_zero"]] == [(codes["B"], "idle", "0")]
    assert t["parcels_missing_data"] == [] and ev["incomplete"] is None
    # target 15: distance 7.5, attainment 50 %
    assert ev["target"]["status"] == "below"
    assert ev["target"]["distance"] == {"value": "7.5", "unit": "万元/亩"}
    assert ev["target"]["attainment"] == {"value": "50", "unit": "%"}
    assert "kbm75" in ev["target"]["source"]
    pull = ev["pulling_down"]
    assert [p["code"] for p in pull] == [codes["B"], codes["C"]]
    assert [(p["tax_per_mu"]["value"], p["gap"]["value"], p["shortfall_tax"]["value"], p["reason"]) for p in pull] == \
        [("0", "7.5", "225", "idle"), ("2", "5.5", "165", None)]
    assert pull[0]["categories"] == ["IDLE"] and pull[1]["categories"] == ["LOW_EFF"]
    yoy = ev["year_over_year"]
    assert yoy["previous"] == {"value": "6", "unit": "万元/亩"} and yoy["change"] == {"value": "1.5", "unit": "万元/亩"}
    assert yoy["change_percent"] == {"value": "25", "unit": "%"} and yoy["direction"] == "up"
    assert yoy["parcels_added"] == [] and yoy["same_tax_basis"] is True
    land = ev["land"]
    assert land["registered"]["count"] == 5 and land["registered"]["area"]["value"] == "140"
    assert land["supplied"]["area"]["value"] == "120"
    assert {k: (v["count"], v["area"]["value"], v["parcels"]) for k, v in land["by_category"].items()} == {
        "approved_unsupplied": (1, "20", [codes["A"]]), "idle": (1, "30", [codes["B"]]),
        "low_efficiency": (1, "30", [codes["C"]])}
    assert land["problem"]["area"]["value"] == "80" and land["without_category"]["area"]["value"] == "60"
    assert land["planned_not_registered"]["value"] == "860"                 # 1000 − 140
    # the evaluation is a decision in the chain
    stored = client.get(f"/v1/decisions/{ev['decision_id']}")
    assert stored.status_code == 200 and stored.json()["verdict"] == "below_target"


def test_evaluation_without_data_and_unknown_park(client, scene, uid):
    ev = client.get(f"/v1/parks/{scene['park']}/evaluation", params={"year": 2021}).json()
    # 2021: C, D, E were under construction (started 2021-04-01, accepted 2022-06-30) and filed
    # nothing: they count 0 with that reason — not missing data, no producing enterprise lacks a
    # record — so the park's industrial land yielded 0 万元/亩, below its target.  2020: no industrial
    # land supplied yet (nor a tax basis before 2021-02-10): nothing to compare with.
    t = ev["tax_per_mu"]
    assert ev["verdict"] == "below_target" and t["value"] == {"value": "0", "unit": "万元/亩"}
    assert t["area_counted"] == {"value": "90", "unit": "亩"} and t["over_land_with_data"]["value"] is None
    assert {z["reason"] for z in t["parcels_zero"]} == {"under_construction"} and t["parcels_missing_data"] == []
    assert ev["year_over_year"]["status"] == "insufficient_data"
    assert client.get(f"/v1/parks/{scene['park']}/evaluation", params={"year": 2020}).json()["verdict"] == \
        "insufficient_data"
    assert client.get(f"/v1/parks/none-{uid}/evaluation", params={"year": 2024}).status_code == 404
    assert client.get(f"/v1/parks/none-{uid}/ledger").status_code == 404
    assert client.get(f"/v1/parks/{scene['park']}/evaluation").status_code == 422          # year is required


def test_tax_of_an_enterprise_with_two_parcels_is_shared_by_area(client, uid):
    """One transferee, two contracts: G 10 亩, H 30 亩; tax 2024 200 万元 → 200 / 40 = 5 万元/亩 on both;
    allocated G 5 × 10 = 50, H 5 × 30 = 150; park 200 / 40 = 5."""
    pid = f"alloc-{uid}"
    tag = uuid.uuid4().int % 10**6
    post(client, "/v1/parks", park_body(pid, target_tax_per_mu=None, target_source=None), 201)
    who = {"name": "共用纳税人有限公司", "uscc": uscc_for(uid, 7)}
    g = register(client, base_contract(uid, 5, transferee=who, land_area=mu(10), signed_on="2021-03-01",
                                       schedule=CDE_SCHEDULE))
    h = register(client, base_contract(uid, 6, transferee=who, signed_on="2021-03-01", schedule=CDE_SCHEDULE))
    for n, no, area in ((1, g, 10), (2, h, 30)):
        post(client, "/v1/parcels", {"code": code(tag, n), "park": pid, "area": mu(area), "supply_status": "transferred",
                                     "contract_no": no}, 201)
    post_tax(client, f"alloc-{uid}", tax_record(uscc_for(uid, 7), 2024, 200))
    ev = client.get(f"/v1/parks/{pid}/evaluation", params={"year": 2024}).json()
    assert ev["verdict"] == "no_target" and ev["target"]["distance"] is None
    assert ev["tax_per_mu"]["value"]["value"] == "5"
    rows = {p["code"]: p for p in ev["tax_per_mu"]["parcels_counted"]}
    assert rows[code(tag, 1)]["allocated_tax"]["value"] == "50" and rows[code(tag, 2)]["allocated_tax"]["value"] == "150"
    assert rows[code(tag, 1)]["inputs"]["enterprise_area_mu"] == "40"
    assert rows[code(tag, 1)]["inputs"]["shared_with"] == [code(tag, 2)]
    assert ev["pulling_down"] == []                       # both at the park figure, none below it


# ---------------------------------------------------------------- plans and the ledger

def plan(**over) -> dict:
    body = {"as_of": "2025-01-10", "categories": ["idle"],
            "cause": {"type": "enterprise", "detail": "企业资金链紧张未动工"},
            "measure": "idle_fee", "deadline": "2025-04-30",
            "responsible": {"lead_unit": "三门峡市自然资源和规划局", "cooperating_units": ["开发区管委会"], "person": "张三"},
            "progress": {"status": "planned"},
            "documents": [{"kind": "investigation_notice", "number": "三自然资闲调〔2025〕1号", "date": "2025-01-05"}]}
    body.update(copy.deepcopy(over))
    return body


def test_ledger_with_plan_and_history(client, scene):
    b = scene["codes"]["B"]
    v1 = put_plan(client, b, plan())
    assert (v1["version"], v1["created"], v1["plan"]["measure_label"]) == (1, True, "征收土地闲置费（出让价款 20%）")
    second = plan(expected_version=1, progress={"status": "in_progress", "fee_assessed": wan(240), "updated_on": "2025-02-01"},
                  documents=plan()["documents"] + [{"kind": "determination", "number": "三自然资闲认〔2025〕1号",
                                                    "date": "2025-01-25"}])
    v2 = put_plan(client, b, second)
    assert (v2["version"], v2["created"]) == (2, True)
    assert put_plan(client, b, second, 200)["created"] is False              # same content: no new version
    r = client.put(f"/v1/parcels/{b}/plan", json=plan(expected_version=1, measure_detail="stale edit"))
    assert r.status_code == 409, r.text                                     # version 2 was recorded since
    hist = client.get(f"/v1/parcels/{b}/plan/history").json()
    assert hist["count"] == 2 and [v["version"] for v in hist["versions"]] == [1, 2]
    assert hist["versions"][0]["plan"]["progress"]["status"] == "planned"       # the first version is kept
    assert set(hist["versions"][1]["changed"]) == {"documents", "progress.status", "progress.fee_assessed",
                                                   "progress.updated_on"}
    assert client.get(f"/v1/parcels/{b}/plan").json()["version"] == 2

    led = client.get(f"/v1/parks/{scene['park']}/ledger", params={"as_of": "2024-12-31"}).json()
    codes = scene["codes"]
    rows = {row["parcel"]["code"]: row for row in led["rows"]}
    assert set(rows) >= {codes["A"], codes["B"], codes["C"]} and codes["D"] not in rows and codes["E"] not in rows
    assert rows[codes["A"]]["category_codes"] == ["PIWG"] and rows[codes["A"]]["plan_status"] == "missing"
    assert rows[codes["A"]]["suggested_measures"] == ["complete_supply"]
    assert rows[codes["C"]]["category_codes"] == ["LOW_EFF"]
    row = rows[codes["B"]]
    assert row["category_codes"] == ["IDLE"] and row["plan_versions"] == 2 and row["plan_status"] == "open"
    assert (row["measure"], row["deadline"], row["cause"]["type"]) == ("idle_fee", "2025-04-30", "enterprise")
    assert row["parcel"]["contract"]["start_due"] == "2023-03-01" and row["parcel"]["park_name"] == "三门峡经济开发区"
    assert row["parcel"]["contract"]["transferee"]["uscc"] == uscc_for(scene["uid"], 1)
    assert led["totals"]["idle"] == {"count": 1, "area": {"value": "30", "unit": "亩"}}
    flat = {r["宗地代码"]: r for r in flat_ledger(led)}
    assert flat[codes["B"]]["处置措施"] == "征收土地闲置费（出让价款 20%）" and flat[codes["B"]]["方案版本"] == 2
    assert flat[codes["B"]]["决定文书"] == "三自然资闲调〔2025〕1号；三自然资闲认〔2025〕1号"
    # a code is found whatever its case
    assert client.get(f"/v1/parcels/{b.lower()}/plan").json()["version"] == 2
    # later: the deadline has passed while the plan is still in progress
    later = client.get(f"/v1/parks/{scene['park']}/ledger", params={"as_of": "2025-06-01"}).json()
    row = next(x for x in later["rows"] if x["parcel"]["code"] == codes["B"])
    assert row["plan_status"] == "overdue" and row["categories"][0]["state"] == "idle_2y"


def test_plan_checks_closed_list_and_statutory_caps(client, uid):
    """Contract start_by 2023-03-01: an extension may run to 2023-03-01 + 1 year = 2024-03-01 (53号令 Art. 12,
    GF-2008-2601 Art. 16).  Temporary use from 2025-01-01: at most 2 years, to 2027-01-01."""
    pid = f"caps-{uid}"
    tag = uuid.uuid4().int % 10**6
    post(client, "/v1/parks", park_body(pid), 201)
    no = register(client, base_contract(uid, 1))
    with_contract, bare = code(tag, 1), code(tag, 2)
    post(client, "/v1/parcels", {"code": with_contract, "park": pid, "area": mu(30), "supply_status": "transferred",
                                 "contract_no": no}, 201)
    post(client, "/v1/parcels", {"code": bare, "park": pid, "area": mu(20), "supply_status": "approved_unsupplied",
                                 "approval": {"document": "豫政土〔2019〕13号", "date": "2019-06-01"}}, 201)
    gov = {"type": "government", "government_cause": "late_delivery"}

    def refused(parcel_code: str, body: dict) -> set[str]:
        return paths(put_plan(client, parcel_code, body, 422))

    assert refused(with_contract, plan(measure="demolish")) == {"measure"}                  # not in the closed list
    assert refused(with_contract, plan(cause={"type": "government"})) == {"cause"}          # which 53号令 cause?
    assert refused(with_contract, plan(cause=gov)) == {"measure"}                           # no idle fee when government-caused
    assert refused(with_contract, plan(measure="complete_supply")) == {"measure"}           # only for 批而未供
    assert refused(with_contract, plan(measure="extend_start", cause=gov, deadline="2024-03-02")) == {"deadline"}
    enterprise = {"type": "enterprise"}
    assert refused(with_contract, plan(measure="extend_start", cause=enterprise, deadline="2024-03-01",
                                       cap_from="2023-06-01")) == {"cap_from"}   # the contract's date counts (its Art. 16)
    assert refused(with_contract, plan(measure="extend_start", cause=gov, deadline="2024-03-01",
                                       cap_from="2023-01-01")) == {"cap_from"}   # agreed date before the contract's
    assert refused(bare, plan(measure="extend_start", cause=gov, deadline="2024-03-01")) == {"cap_from"}
    assert refused(bare, plan(measure="temporary_use", cause=gov, deadline="2026-01-01")) == {"cap_from"}
    assert refused(bare, plan(measure="temporary_use", cause=gov, cap_from="2025-01-01", deadline="2027-01-02")) == {"deadline"}
    assert client.get(f"/v1/parcels/{with_contract}/plan/history").json()["count"] == 0     # nothing stored

    ok = put_plan(client, with_contract, plan(measure="extend_start", cause=gov, deadline="2024-03-01"))
    assert ok["plan"]["statutory_cap"]["limit"] == "2024-03-01" and ok["plan"]["statutory_cap"]["months"] == 12
    tmp = put_plan(client, bare, plan(measure="temporary_use", cause=gov, cap_from="2025-01-01", deadline="2027-01-01",
                                      categories=["approved_unsupplied"]))
    assert tmp["plan"]["statutory_cap"]["limit"] == "2027-01-01"
    assert put_plan(client, bare, plan(measure="complete_supply", categories=["approved_unsupplied"]))["version"] == 2
    r = client.put(f"/v1/parcels/{code(tag, 3)}/plan", json=plan())
    assert r.status_code == 404


def test_import_park_with_parcels_all_or_nothing(client, uid):
    tag = uuid.uuid4().int % 10**6
    pid = f"imp-{uid}"
    parcels = [{"code": code(tag, 1), "park": pid, "area": mu(12.5), "supply_status": "approved_unsupplied",
                "approval": {"document": "豫政土〔2021〕7号", "date": "2021-08-01"}},
               {"code": "bad", "park": pid, "area": mu(3), "supply_status": "approved_unsupplied"}]
    bad = post(client, "/v1/parks:import", {"park": park_body(pid), "parcels": parcels}, 422)
    assert paths(bad) == {"parcels.1.code", "parcels.1.approval"}
    assert client.get(f"/v1/parks/{pid}").status_code == 404                           # nothing was written
    out = post(client, "/v1/parks:import", {"park": park_body(pid), "parcels": parcels[:1]}, 201)
    assert out["park"]["created"] is True and out["parcels"][0]["area"] == {"value": "12.5", "unit": "亩"}
    assert post(client, "/v1/parks:import", {"park": park_body(pid), "parcels": parcels[:1]}, 200)["park"]["created"] is False


def test_low_efficiency_stopped_overdue_and_government_idle(client, uid):
    """Three contracts with the base schedule (start_by 2023-03-01, complete_by 2024-06-30):

    S started 2023-03-01, construction halted since 2024-01-01 (the old progress.suspended_since, before any
      completion acceptance: 停建) with 15 of 30 亩 developed (½ ≥ ⅓) and 6000 of 9000 万元 invested (⅔ ≥ ¼):
      not idle (53号令 needs one of the two short), but 停建缓建 for 12 months from 2024-01-01 + 12 months =
      2025-01-01, so low-efficiency from 2025-01-02 (not 停产: the plant was never accepted);
    O started 2023-03-01, never completed: 2024-06-30 + 2 years = 2026-06-30, overdue from 2026-07-01;
    G never started, the transferor delivered late (government_delay, no new start date agreed): idle land
      with a government cause from 2024-03-02 (one full year after 2023-03-01)."""
    pid = f"low-{uid}"
    tag = uuid.uuid4().int % 10**6
    post(client, "/v1/parks", park_body(pid), 201)
    s, o, g = (register(client, base_contract(uid, n)) for n in (1, 2, 3))
    started = {"type": "started", "on": "2023-03-01"}
    post_events(client, s, started, {"type": "progress", "on": "2024-01-15", "suspended_since": "2024-01-01",
                                     "developed_area": mu(15), "area_to_develop": mu(30),
                                     "invested": wan(6000), "total_investment": wan(9000)})
    post_events(client, o, started)
    post_events(client, g, {"type": "government_delay", "on": "2023-02-01", "cause": "late_delivery"})
    codes = {}
    for n, (k, no) in enumerate((("S", s), ("O", o), ("G", g)), start=1):
        codes[k] = code(tag, n)
        post(client, "/v1/parcels", {"code": codes[k], "park": pid, "area": mu(30), "supply_status": "transferred",
                                     "contract_no": no}, 201)

    def preds(view: dict) -> dict:
        return {p["predicate"]: p for p in view["assessment"]["low_efficiency"]["predicates"]}

    assert parcel(client, codes["S"], "2025-01-01")["categories"] == []
    v = parcel(client, codes["S"], "2025-01-02")
    assert cats(v) == ["LOW_EFF"] and v["assessment"]["idle"]["state"] == "not_idle"
    stop = preds(v)["construction_suspended_12_months"]
    assert (stop["status"], stop["value"], stop["threshold"]) == ("holds", "2024-01-01", "2025-01-01")
    assert preds(v)["stopped_12_months"]["status"] == "not_met"
    assert preds(v)["tax_per_mu_below_park_average"]["status"] == "not_applicable"        # not completed

    assert preds(parcel(client, codes["O"], "2026-06-30"))["completion_overdue_2_years"]["status"] == "not_met"
    v = parcel(client, codes["O"], "2026-07-01")
    assert cats(v) == ["LOW_EFF"] and preds(v)["completion_overdue_2_years"]["threshold"] == "2026-06-30"

    v = parcel(client, codes["G"], "2024-12-31")
    assert cats(v) == ["IDLE"]
    assert (v["categories"][0]["state"], v["categories"][0]["cause"]) == ("government_caused", "government")
    assert v["assessment"]["low_efficiency"]["status"] in ("no", "excluded")
    led = client.get(f"/v1/parks/{pid}/ledger", params={"as_of": "2024-12-31"}).json()
    row = next(r for r in led["rows"] if r["parcel"]["code"] == codes["G"])
    assert "extend_start" in row["suggested_measures"] and "idle_fee" not in row["suggested_measures"]


def test_bundled_park_rule_set_and_its_validation(client):
    """The bundled rule set, published at start-up, read through the law store (app.checks.law)."""
    import datetime as dt

    from sqlmodel import Session

    from app.checks import low_efficiency as lowe
    from app.checks.parks.documents import low_efficiency_in_force
    from app.core.errors import InputError
    from app.store.db import get_engine

    with Session(get_engine()) as s:
        rs = low_efficiency_in_force(s, LOW_RS, dt.date(2020, 12, 4))
        assert rs is not None and rs.doc.status == "example" and rs.doc.version == "2020.2"
        for p in rs.doc.predicates:
            assert p.source.confidence in lowe.CONFIDENCE and p.set_by and p.parameter.value is not None
        assert low_efficiency_in_force(s, LOW_RS, dt.date(2019, 12, 4)) is None
    raw = rs.doc.model_dump(mode="json")
    raw["predicates"][0]["measure"] = "output_per_mu"
    raw["predicates"][1]["op"] = ">"
    raw["predicates"][2]["source"]["doc"] = "nowhere"
    with pytest.raises(InputError) as e:
        lowe.parse(raw)
    assert {p.path for p in e.value.problems} >= {"predicates.0", "predicates.1"}
