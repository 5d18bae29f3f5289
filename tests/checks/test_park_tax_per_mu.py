"""Issue 11 items 1, 2 and 7 through the HTTP API: the park 亩均税收 over all supplied industrial
land (a parcel without a record counts 0 with its reason; ``incomplete`` where missing data could
change the verdict; the figure over land with data as a secondary line), one 亩均税收 with one
allocation by area (contract audit, parcel, park), and the low-efficiency plot-ratio test against
the parcel's own requirement.  Every figure by hand.
"""

from __future__ import annotations

import uuid

import pytest

from tests.contract_factory import (
    base_contract,
    m2,
    mu,
    performance,
    post_events,
    post_tax,
    register,
    tax_record,
    tax_year,
    uscc_for,
    wan,
)
from tests.tax_scope_support import (
    As,
    contract,
    import_park,
    new_key,
    own_app,
    record,
    register_built,
    uscc_in,
)
from tests.tax_scope_support import post_tax as post_tax_as

CDE = {"delivery_on": "2021-03-10", "start_by": "2021-04-01", "complete_by": "2022-06-30"}
STARTED = {"type": "started", "on": "2021-04-01"}


def completed(floor_m2: int = 30000) -> dict:
    return {"type": "completion_accepted", "on": "2022-06-30", "fixed_asset_investment": wan(9000),
            "total_floor_area": m2(floor_m2), "building_footprint": m2(9000), "admin_land_area": m2(1000),
            "green_area": m2(2000)}


def code(tag: int, n: int) -> str:
    return f"411202{tag:06d}GB{n:05d}"


def park(client, pid: str, target: int | None = 15) -> None:
    body = {"id": pid, "name": f"测试园区 {pid}", "name_valid_from": "2009-01-01", "jurisdiction": "411202",
            "planned_area": mu(1000), "ruleset": "henan-park-low-efficiency-example",
            "tax_ruleset": "sanmenxia-standard-land"}
    if target is not None:
        body.update(target_tax_per_mu={"value": target, "unit": "万元/亩"}, target_source="测试目标")
    r = client.post("/v1/parks", json=body)
    assert r.status_code == 201, r.text


def parcel(client, pid: str, c: str, no: str, area: int = 30) -> None:
    r = client.post("/v1/parcels", json={"code": c, "park": pid, "area": mu(area), "supply_status": "transferred",
                                         "contract_no": no})
    assert r.status_code == 201, r.text


def evaluation(client, pid: str, year: int) -> dict:
    r = client.get(f"/v1/parks/{pid}/evaluation", params={"year": year})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- item 1: the park figure


def test_park_figure_divides_by_all_supplied_industrial_land_and_says_why_a_parcel_counts_zero(client, uid):
    """Three 30-亩 parcels, target 15 万元/亩:

    P producing (accepted 2022-06-30), tax 2023 1500, 2024 600;
    I contract signed 2023-01-10, start_by 2023-03-01, never started: 2023 not started, 2024 idle land;
    M producing, no record in either year: missing data.

    2024: 600 ÷ 90 = 6.666667 (main divided by P's 30 亩 only: 20, "meets the target").  Below 15, and M
    alone could change that: ``incomplete`` naming M; M would have to add 15 × 90 − 600 = 750 万元,
    750 ÷ 30 = 25 万元/亩.  Secondary line (land with data): 600 ÷ 30 = 20.
    2023: 1500 ÷ 90 = 16.666667 ≥ 15: M's missing record (counted 0) cannot lower it further, so the
    park meets its target whatever M paid; M is still listed as missing data."""
    pid, tag = f"pt-{uid}", uuid.uuid4().int % 10**6
    park(client, pid)
    p_no = register(client, base_contract(uid, 1, signed_on="2021-03-01", schedule=CDE))
    m_no = register(client, base_contract(uid, 2, signed_on="2021-03-01", schedule=CDE))
    i_no = register(client, base_contract(uid, 3))
    for no in (p_no, m_no):
        post_events(client, no, STARTED, completed())
    codes = {k: code(tag, n) for n, k in enumerate("PIM", start=1)}
    for k, no in (("P", p_no), ("I", i_no), ("M", m_no)):
        parcel(client, pid, codes[k], no)
    post_tax(client, f"pt-{uid}", tax_record(uscc_for(uid, 1), 2023, 1500), tax_record(uscc_for(uid, 1), 2024, 600))

    ev = evaluation(client, pid, 2024)
    t = ev["tax_per_mu"]
    assert t["value"] == {"value": "6.666667", "unit": "万元/亩"}
    assert (t["total_tax"]["value"], t["area_counted"]["value"], t["area_in_scope"]["value"]) == ("600", "90", "90")
    assert t["over_land_with_data"]["value"] == {"value": "20", "unit": "万元/亩"}
    assert t["over_land_with_data"]["label"].startswith("参考：仅计有税收数据的宗地")
    assert (t["area_with_data"]["value"], t["coverage"]["value"]) == ("30", "33.333333")
    zero = {z["code"]: z for z in t["parcels_zero"]}
    assert {c: (z["reason"], z["tax_per_mu"]["value"]) for c, z in zero.items()} == {
        codes["I"]: ("idle", "0"), codes["M"]: ("data_missing", "0")}
    assert zero[codes["I"]]["reason_label"] == "闲置土地" and "2022-06-30 竣工验收" in zero[codes["M"]]["message"]
    assert [z["code"] for z in t["parcels_missing_data"]] == [codes["M"]]
    assert ev["verdict"] == "incomplete" and ev["target"]["status"] == "below"
    inc = ev["incomplete"]
    assert inc["parcels"] == [codes["M"]] and inc["withheld_parcels"] is False
    assert (inc["gap_tax"]["value"], inc["required_tax_per_mu"]["value"], inc["area"]["value"]) == ("750", "25", "30")
    assert ev["target"]["distance"] == {"value": "8.333333", "unit": "万元/亩"}
    # the parcels pulling the figure down: I and M at 0 (code order), P (20) is above it
    assert [(p["code"], p["reason"]) for p in ev["pulling_down"]] == [(codes["I"], "idle"), (codes["M"], "data_missing")]

    ev23 = evaluation(client, pid, 2023)
    assert ev23["tax_per_mu"]["value"] == {"value": "16.666667", "unit": "万元/亩"}
    assert ev23["verdict"] == "meets_target" and ev23["incomplete"] is None
    assert {z["code"]: z["reason"] for z in ev23["tax_per_mu"]["parcels_zero"]} == {
        codes["I"]: "not_started", codes["M"]: "data_missing"}


# ---------------------------------------------------------------- items 1 and tax visibility


@pytest.fixture
def keyed(database_url, tmp_path_factory):
    """The app on a database of its own while the test runs (keys end open mode)."""
    with own_app(tmp_path_factory.mktemp("parktax"), "park_tax_per_mu") as client:
        yield client


def test_withheld_parcels_are_neither_zero_nor_missing_but_stay_in_the_denominator(keyed):
    """A 411202 park of seven 30-亩 parcels (210 亩), target 15, seen by a 411202 auditor and by the city:

    A1, A2, A3  411203 enterprises, 2024 tax 100, 110, 120 (withheld from the county: another region);
    B           a 411202 enterprise, 90;
    M           411202, accepted 2022-06-30, no 2024 record: missing data;
    I           411202, never started: idle land, 0;
    H           411203, accepted, a 2023 record only: for the county its 2024 is withheld; in the full
                data it is missing.

    Aggregate (every enterprise; three hidden contributors, none above 85 %, so the county may see it):
    420 ÷ 210 = 2 万元/亩; with data (A1–A3, B: 120 亩) 3.5.  Below 15 with missing data: ``incomplete``.
    The county sees M and I as zero, A1–A3 and H only as withheld (no reason, not missing), and is told
    that withheld parcels lack data too, without their codes; the city sees H named."""
    officer, tax, county, city = (As(keyed, new_key("officer")), As(keyed, new_key("tax_system")),
                                  As(keyed, new_key("auditor", "411202")), As(keyed, new_key("auditor", "411200")))
    uid = uuid.uuid4().hex[:6]
    people = {k: uscc_in(region, uid + f"{n:02d}") for n, (k, region) in enumerate(
        (("A1", "411203"), ("A2", "411203"), ("A3", "411203"), ("B", "411202"), ("M", "411202"), ("I", "411202"),
         ("H", "411203")), start=1)}
    nos = {}
    for n, k in enumerate(people, start=1):
        body = contract(uid, n, people[k], "411202")
        if k == "I":
            r = officer.post("/v1/contracts", json=body)
            assert r.status_code == 201, r.text
            nos[k] = body["contract_no"]
        else:
            nos[k] = register_built(officer, body)
    post_tax_as(tax, f"ptv-{uid}", record(people["A1"], 2024, 100), record(people["A2"], 2024, 110),
                record(people["A3"], 2024, 120), record(people["B"], 2024, 90), record(people["H"], 2023, 70))
    pid = f"ptv-{uid}"
    codes = dict(zip(people, import_park(officer, pid, "411202", list(nos.values())), strict=True))

    r = county.get(f"/v1/parks/{pid}/evaluation", params={"year": 2024})
    assert r.status_code == 200, r.text
    ev = r.json()
    t = ev["tax_per_mu"]
    assert t["status"] == "ok" and t["value"]["value"] == "2" and t["total_tax"]["value"] == "420"
    assert t["area_counted"]["value"] == t["area_in_scope"]["value"] == "210"          # withheld land included
    assert t["over_land_with_data"]["value"]["value"] == "3.5"
    assert {p["code"] for p in t["parcels_withheld"]} == {codes[k] for k in ("A1", "A2", "A3", "H")}
    assert {z["code"]: z["reason"] for z in t["parcels_zero"]} == {codes["M"]: "data_missing", codes["I"]: "idle"}
    assert [z["code"] for z in t["parcels_missing_data"]] == [codes["M"]]
    assert ev["verdict"] == "incomplete" and ev["incomplete"]["parcels"] == [codes["M"]]
    assert ev["incomplete"]["withheld_parcels"] is True and ev["incomplete"]["required_tax_per_mu"] is None
    assert ev["incomplete"]["gap_tax"]["value"] == "2730"                             # 15 × 210 − 420
    assert codes["H"] not in str(ev["incomplete"]) and codes["H"] not in str(ev["pulling_down"])

    c = city.get(f"/v1/parks/{pid}/evaluation", params={"year": 2024}).json()
    assert c["tax_per_mu"]["value"]["value"] == "2" and c["verdict"] == "incomplete"
    assert sorted(c["incomplete"]["parcels"]) == sorted([codes["M"], codes["H"]])
    assert c["incomplete"]["required_tax_per_mu"]["value"] == "45.5"                  # 2730 ÷ 60
    assert c["tax_per_mu"]["parcels_withheld"] == []


# ---------------------------------------------------------------- item 2: one allocation


def test_one_enterprise_two_contracts_is_credited_once_everywhere(client, uid):
    """One transferee, two contracts: G 10 亩 (its parcel registered in the park) and H 30 亩 (no parcel
    registered).  Tax 2025: 200 万元.  By area over its 40 亩: 5 万元/亩 on both, G 50 and H 150 万元.
    Main credited 200 ÷ 10 = 20 to G's audit (meeting the committed 20) and 200 ÷ 30 = 6.67 to H's, and the
    park gave G the whole 200 (its only registered parcel)."""
    pid, tag = f"al-{uid}", uuid.uuid4().int % 10**6
    park(client, pid, target=None)
    who = {"name": "两宗地有限公司", "uscc": uscc_for(uid, 9)}
    g = register(client, base_contract(uid, 1, transferee=who, land_area=mu(10), signed_on="2021-03-01", schedule=CDE))
    h = register(client, base_contract(uid, 2, transferee=who, signed_on="2021-03-01", schedule=CDE))
    parcel(client, pid, code(tag, 1), g, area=10)
    post_tax(client, f"al-{uid}", tax_record(who["uscc"], 2025, 200))

    for no, own, other in ((g, "10", h), (h, "30", g)):
        f = tax_year(performance(client, no, "2026-06-30"), 2025)
        assert f["status"] == "fail", f                                      # 5 < the committed 20
        assert f["inputs"]["actual_tax_per_mu"] == "5" and f["inputs"]["allocation"] == "by_area"
        assert (f["inputs"]["area_mu"], f["inputs"]["enterprise_area_mu"]) == (own, "40")
        assert f["inputs"]["shared_with_contracts"] == [other]
    # the same function for the park and the parcel
    t = evaluation(client, pid, 2025)["tax_per_mu"]
    row = t["parcels_counted"][0]
    assert (row["tax_per_mu"]["value"], row["allocated_tax"]["value"]) == ("5", "50")
    assert row["inputs"]["shared_with"] == [f"合同 {h}"] and t["allocation"]["id"] == "by_area"
    assert t["total_tax"]["value"] == "50" and t["value"]["value"] == "5"
    view = client.get(f"/v1/parcels/{code(tag, 1)}", params={"as_of": "2026-01-01"}).json()
    assert view["tax"]["tax_per_mu"] == {"value": "5", "unit": "万元/亩"}


# ---------------------------------------------------------------- item 7: the parcel's own plot-ratio minimum


def test_plot_ratio_low_efficiency_reads_the_parcels_own_requirement(client, uid):
    """Five 30-亩 (20000 m²) parcels accepted 2022-06-30, assessed on 2025-01-01:

    K1 industry 38, no plot-ratio clause, built 16000 m² → 0.8; the rule set in force on its signing date
       (national 2008 table via 38 → 2002 39: ≥ 0.7): meets its requirement, not low-efficiency (main: 0.8 < 1.0);
    K2 industry 39 (→ 40: ≥ 1.0), no clause, 0.8 < 1.0: low-efficiency;
    K3 industry 26 (≥ 0.6), the contract commits ≥ 1.2, 0.8: below its own commitment, low-efficiency;
    K4 industry 38, committed ≥ 1.2, built 22000 m² → 1.1: low-efficiency (main: 1.1 ≥ 1.0, not);
    K5 industry 29 (the 2008 table has two rows, 0.8 and 1.0), no clause, 0.9: the requirement cannot be told."""
    pid, tag = f"far-{uid}", uuid.uuid4().int % 10**6
    park(client, pid)
    spec = {"K1": ("38", None, 16000), "K2": ("39", None, 16000), "K3": ("26", 1.2, 16000), "K4": ("38", 1.2, 22000),
            "K5": ("29", None, 18000)}
    codes = {}
    for n, (k, (industry, commit, floor)) in enumerate(spec.items(), start=1):
        body = base_contract(uid, n, signed_on="2021-03-01", schedule=CDE,
                             industry={"code": industry, "classification": "GB/T 4754-2017"})
        if commit is None:
            del body["commitments"]["plot_ratio"]
        else:
            body["commitments"]["plot_ratio"] = {"min": commit, "max": 2.0}
        no = register(client, body)
        post_events(client, no, STARTED, completed(floor))
        codes[k] = code(tag, n)
        parcel(client, pid, codes[k], no)

    def far(k: str) -> dict:
        r = client.get(f"/v1/parcels/{codes[k]}", params={"as_of": "2025-01-01"})
        assert r.status_code == 200, r.text
        v = r.json()
        return {"pred": {p["predicate"]: p for p in v["assessment"]["low_efficiency"]["predicates"]}["plot_ratio_below"],
                "cats": [c["code"] for c in v["categories"]]}

    k1 = far("K1")
    assert (k1["pred"]["status"], k1["pred"]["value"], k1["pred"]["threshold"]) == ("not_met", "0.8", "0.7")
    assert k1["pred"]["inputs"]["requirement_source"] == "ruleset" and k1["cats"] == []
    assert k1["pred"]["inputs"]["requirement_cite"]["layer"] == "national-2008"
    assert k1["pred"]["inputs"]["requirement_cite"]["as_of"] == "2021-03-01"
    k2 = far("K2")
    assert (k2["pred"]["status"], k2["pred"]["threshold"], k2["cats"]) == ("holds", "1", ["LOW_EFF"])
    k3 = far("K3")
    assert (k3["pred"]["status"], k3["pred"]["threshold"], k3["cats"]) == ("holds", "1.2", ["LOW_EFF"])
    assert k3["pred"]["inputs"]["requirement_source"] == "contract"
    k4 = far("K4")
    assert (k4["pred"]["status"], k4["pred"]["value"], k4["pred"]["threshold"], k4["cats"]) == \
        ("holds", "1.1", "1.2", ["LOW_EFF"])
    k5 = far("K5")
    assert k5["pred"]["status"] == "insufficient_data" and "29" in k5["pred"]["message"] and k5["cats"] == []
    assert k1["pred"]["source"]["confidence"] == "◐" and k1["pred"]["example"] is True
