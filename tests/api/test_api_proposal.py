"""POST /v1/checks/proposal and /v1/checks/proposal:batch through the HTTP API.

Numbers are worked by hand: 90 亩 = 60000 m² = 6 公顷; Sanmenxia (example) asks,
for GB/T 4754-2017 industry 32, investment ≥ 220 万元/亩 and tax ≥ 15 万元/亩; the
national 2008 layer asks plot ratio ≥ 0.6 (2017-32 → 2002-33), building
coefficient ≥ 30 %, admin land share ≤ 7 %, green ratio ≤ 20 %; precision is
round half up to 2 places.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal

import pytest

from tests.conftest import proposal
from tests.factories import by_rule, child_doc, paths, simple_proposal, standalone_doc, tax_rule

CHINESE = re.compile(r"[\u4e00-\u9fff]")

SANMENXIA_LAYERS = ["national-2008", "henan-standard-land", "sanmenxia-standard-land"]

# rule → (status, actual, threshold, margin, layer, layer_version) for the passing proposal
PASSING = {
    "plot_ratio_min": ("pass", "0.80", "0.6", "0.20", "national-2008", "2008.1"),
    "building_coefficient_min": ("pass", "45.00", "30", "15.00", "national-2008", "2008.1"),
    "admin_land_share_max": ("pass", "5.00", "7", "2.00", "national-2008", "2008.1"),
    "green_ratio_max": ("pass", "12.00", "20", "8.00", "national-2008", "2008.1"),
    "environment_standard": ("pass", True, True, None, "henan-standard-land", "2021.1"),
    "investment_intensity_min": ("pass", "220.00", "220", "0.00", "sanmenxia-standard-land", "2021.2"),
    "tax_per_mu_min": ("pass", "15.00", "15", "0.00", "sanmenxia-standard-land", "2021.2"),
    "output_per_mu_min": ("not_required", None, "300", None, "sanmenxia-standard-land", "2021.2"),
    "construction_conditions": ("pass", True, True, None, "sanmenxia-standard-land", "2021.2"),
}


def squeeze(message: str) -> str:
    """A message without spaces: the wording is checked, not the spacing."""
    return re.sub(r"\s+", "", message)


def check(client, body: dict) -> dict:
    r = client.post("/v1/checks/proposal", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def check_422(client, body: dict):
    r = client.post("/v1/checks/proposal", json=body)
    assert r.status_code == 422, r.text
    return r


def chain_count(client) -> int:
    r = client.get("/v1/decisions/verify")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True, body
    return body["checked"]


def with_indicators(**ind) -> dict:
    body = proposal()
    body["indicators"].update(ind)
    return body


def with_measures(**m) -> dict:
    body = proposal()
    body["measures"].update(m)
    return body


# ---------------------------------------------------------------- the passing proposal

def test_passing_proposal_has_one_finding_per_rule_with_values(client):
    v = check(client, proposal())
    assert v["verdict"] == "pass"
    assert v["kind"] == "proposal"
    assert v["ruleset"]["id"] == "sanmenxia-standard-land"
    assert v["ruleset"]["version"] == "2021.2"
    assert [layer["id"] for layer in v["ruleset"]["layers"]] == SANMENXIA_LAYERS
    assert v["pinned"] == [layer["digest"] for layer in v["ruleset"]["layers"]]
    assert v["as_of"] == "2024-03-01"

    rules = [f["rule"] for f in v["findings"]]
    assert sorted(rules) == sorted(PASSING), rules
    assert len(rules) == len(set(rules)) == 9
    got = {f["rule"]: (f["status"], f["actual"], f["threshold"], f["margin"], f["layer"], f["layer_version"])
           for f in v["findings"]}
    assert got == PASSING

    for f in v["findings"]:
        assert CHINESE.search(f["message"]), f
        assert f["cite"]["doc"] and f["cite"]["title"], f
    f = by_rule(v["findings"])
    inv = f["investment_intensity_min"]
    assert squeeze(inv["message"]) == "【示例数据】亩均投资强度220.00万元/亩，要求≥220万元/亩，符合"
    assert inv["unit"] == "万元/亩" and inv["op"] == ">=" and inv["source"] == "derived"
    assert inv["label"] == "亩均投资强度" and inv["role"] == "core" and inv["required"] is True
    assert inv["industry_key"] == "32"
    # an example value cites the example, never a clause of the city plan (which has no values)
    assert inv["cite"] == {"doc": "example", "article": "亩均投资强度示例值（方案二（四）只列指标名称，未规定数值）",
                           "title": "示例值（standard-land 项目组设定；三政办〔2021〕5号与豫政办〔2020〕43号均未规定数值）",
                           "number": None, "url": None}
    pr = f["plot_ratio_min"]
    assert squeeze(pr["message"]) == "容积率0.80，要求≥0.6，符合"
    assert pr["source"] == "given" and pr["unit"] is None
    assert pr["cite"]["number"] == "国土资发〔2008〕24号" and pr["cite"]["article"] == "表2 容积率控制指标"
    assert pr["industry_key"] == "33"          # 2017-32 → 2002-33 (有色金属冶炼)
    assert squeeze(f["admin_land_share_max"]["message"]) == "行政办公及生活服务设施用地所占比重5.00%，要求≤7%，符合"
    assert squeeze(f["output_per_mu_min"]["message"]) == "【示例数据】亩均产出：不作要求"


def test_passing_proposal_is_stored_as_a_decision(client):
    v = check(client, proposal(reference="smx-2024-001"))
    assert re.fullmatch(r"[0-9a-f]{64}", v["hash"])
    assert re.fullmatch(r"[0-9a-f]{64}", v["prev_hash"])
    stored = client.get(f"/v1/decisions/{v['decision_id']}").json()
    assert stored["verdict"] == "pass"
    assert stored["hash"] == v["hash"]
    assert stored["request"]["reference"] == "smx-2024-001"
    assert stored["findings"] == v["findings"]


# ---------------------------------------------------------------- thresholds

@pytest.mark.parametrize("investment, status, actual, margin", [
    (19800, "pass", "220.00", "0.00"),        # exactly 220 万元/亩
    (19799, "fail", "219.99", "-0.01"),       # 219.98888… → 219.99
    ("19799.55", "pass", "220.00", "0.00"),   # 219.995 exactly rounds half up to 220.00
    ("19799.54", "fail", "219.99", "-0.01"),  # 219.99488… → 219.99
    (19890, "pass", "221.00", "1.00"),
])
def test_investment_intensity_at_and_below_threshold(client, investment, status, actual, margin):
    v = check(client, with_measures(fixed_asset_investment={"value": investment, "unit": "万元"}))
    f = by_rule(v["findings"])["investment_intensity_min"]
    assert (f["status"], f["actual"], f["threshold"], f["margin"]) == (status, actual, "220", margin)
    assert v["verdict"] == status
    if status == "fail":
        assert squeeze(f["message"]) == f"【示例数据】亩均投资强度{actual}万元/亩，要求≥220万元/亩，不符合"


def test_other_industries_get_their_own_investment_threshold(client):
    # 26 → 250 万元/亩 (19800/90 = 220 fails);
    # 13 → default 200 (passes) but the national plot ratio is 1.0 (0.8 fails)
    v26 = check(client, proposal(industry={"code": "26"}))
    f = by_rule(v26["findings"])["investment_intensity_min"]
    assert (f["status"], f["threshold"], f["margin"], f["industry_key"]) == ("fail", "250", "-30.00", "26")
    assert v26["verdict"] == "fail"
    v13 = check(client, proposal(industry={"code": "13"}))
    f13 = by_rule(v13["findings"])
    inv13 = f13["investment_intensity_min"]
    assert (inv13["status"], inv13["threshold"]) == ("pass", "200")
    assert "industry_key" not in f13["investment_intensity_min"]
    assert (f13["plot_ratio_min"]["status"], f13["plot_ratio_min"]["threshold"],
            f13["plot_ratio_min"]["margin"]) == ("fail", "1", "-0.20")


@pytest.mark.parametrize("share, status, margin", [(7, "pass", "0.00"), ("7.01", "fail", "-0.01"),
                                                    ("7.004", "pass", "0.00"), ("7.005", "fail", "-0.01")])
def test_maximum_rule_at_and_above_threshold(client, share, status, margin):
    v = check(client, with_indicators(admin_land_share={"value": share, "unit": "%"}))
    f = by_rule(v["findings"])["admin_land_share_max"]
    assert (f["status"], f["threshold"], f["margin"]) == (status, "7", margin)
    assert v["verdict"] == status


def test_tax_just_below_threshold_fails(client):
    v = check(client, with_measures(annual_tax={"value": 1349, "unit": "万元"}))   # 14.98888… → 14.99
    f = by_rule(v["findings"])["tax_per_mu_min"]
    assert (f["status"], f["actual"], f["margin"]) == ("fail", "14.99", "-0.01")
    assert v["verdict"] == "fail"


# ---------------------------------------------------------------- units

@pytest.mark.parametrize("land", [
    {"value": 60000, "unit": "m2"}, {"value": 60000, "unit": "㎡"}, {"value": 60000, "unit": "平方米"},
    {"value": 6, "unit": "公顷"}, {"value": 6, "unit": "ha"}, {"value": 90, "unit": "mu"},
    {"value": "90.000", "unit": "亩"},
])
def test_land_area_units_give_identical_findings(client, land):
    base = check(client, proposal())
    other = check(client, proposal(land_area=land))
    assert other["findings"] == base["findings"]
    assert other["verdict"] == "pass"


def test_land_area_in_m2_just_over_90_mu_changes_the_result(client):
    # 60100 m² = 90.15 亩 → 19800 / 90.15 = 219.633… → 219.63
    v = check(client, proposal(land_area={"value": 60100, "unit": "m2"}))
    f = by_rule(v["findings"])["investment_intensity_min"]
    assert (f["status"], f["actual"], f["margin"]) == ("fail", "219.63", "-0.37")


def _direct_investment(value, unit) -> dict:
    body = proposal()
    del body["measures"]["fixed_asset_investment"]
    body["indicators"]["investment_intensity"] = {"value": value, "unit": unit}
    return body


@pytest.mark.parametrize("value, unit", [(3300, "元/m2"), (3300, "元/㎡"), (3300, "万元/公顷"),
                                         (220, "万元/亩"), (2200000, "元/亩"), (220, "wan_yuan/mu")])
def test_investment_intensity_given_directly_in_other_units(client, value, unit):
    v = check(client, _direct_investment(value, unit))
    f = by_rule(v["findings"])["investment_intensity_min"]
    assert (f["status"], f["actual"], f["margin"], f["source"], f["unit"]) == (
        "pass", "220.00", "0.00", "given", "万元/亩")
    assert v["verdict"] == "pass"
    derived = by_rule(check(client, proposal())["findings"])["investment_intensity_min"]
    assert {**f, "source": None} == {**derived, "source": None}


@pytest.mark.parametrize("value, unit, actual", [(3299, "元/m2", "219.93"), (3299, "万元/公顷", "219.93")])
def test_investment_intensity_just_below_in_other_units(client, value, unit, actual):
    v = check(client, _direct_investment(value, unit))
    f = by_rule(v["findings"])["investment_intensity_min"]
    assert (f["status"], f["actual"]) == ("fail", actual)


def _floors(*lines) -> dict:
    body = proposal()
    del body["indicators"]["plot_ratio"]
    body["measures"]["floors"] = [
        {"area": {"value": a, "unit": "m2"}, "height": {"value": h, "unit": "m"}, "count": n}
        for a, h, n in lines]
    return body


@pytest.mark.parametrize("lines, status, actual", [
    ([(24000, 8, 1)], "fail", "0.40"),                 # exactly 8 m counts once: 24000 / 60000
    ([(24000, "8.01", 1)], "pass", "0.80"),            # above 8 m counts twice
    ([(12000, 8, 2)], "fail", "0.40"),
    ([(12000, "8.01", 1), (6000, 4, 2)], "pass", "0.60"),   # 24000 + 12000 = 36000 / 60000
    ([(18000, 8, 1), (9000, "8.5", 1)], "pass", "0.60"),     # 18000 + 18000
])
def test_storeys_over_8m_count_double_in_plot_ratio(client, lines, status, actual):
    v = check(client, _floors(*lines))
    f = by_rule(v["findings"])["plot_ratio_min"]
    assert (f["status"], f["actual"], f["source"]) == (status, actual, "derived")
    assert v["verdict"] == status


def test_floors_and_total_floor_area_together_are_refused(client):
    body = _floors((24000, 8, 1))
    body["measures"]["total_floor_area"] = {"value": 24000, "unit": "m2"}
    assert "measures.floors" in paths(check_422(client, body))


def test_percent_and_fraction_agree(client):
    pct = check(client, proposal())
    given = {"fraction": {"building_coefficient": "0.45", "admin_land_share": "0.05", "green_ratio": "0.12"},
             "percent": {"building_coefficient": 45, "admin_land_share": 5, "green_ratio": 12}}
    for unit, values in given.items():
        body = proposal()
        for key, value in values.items():
            body["indicators"][key] = {"value": value, "unit": unit}
        other = check(client, body)
        assert other["findings"] == pct["findings"], unit


def test_fraction_just_below_threshold(client):
    v = check(client, with_indicators(building_coefficient={"value": "0.2999", "unit": "fraction"}))
    f = by_rule(v["findings"])["building_coefficient_min"]
    assert (f["status"], f["actual"], f["margin"]) == ("fail", "29.99", "-0.01")


@pytest.mark.parametrize("indicator", ["building_coefficient", "admin_land_share", "green_ratio"])
def test_bare_number_for_a_percentage_is_refused(client, indicator):
    r = check_422(client, with_indicators(**{indicator: {"value": 45}}))
    assert paths(r) == {f"indicators.{indicator}.unit"}
    assert "%" in r.json()["detail"][0]["msg"]


def test_money_without_a_unit_is_refused(client):
    r = check_422(client, with_measures(annual_tax={"value": 1350}))
    assert paths(r) == {"measures.annual_tax.unit"}


def test_plot_ratio_with_a_unit_is_refused(client):
    r = check_422(client, with_indicators(plot_ratio={"value": 0.8, "unit": "%"}))
    assert paths(r) == {"indicators.plot_ratio.unit"}


# ---------------------------------------------------------------- invalid input

@pytest.mark.parametrize("body, path", [
    (proposal(land_area={"value": 0, "unit": "亩"}), "land_area.value"),
    (proposal(land_area={"value": -90, "unit": "亩"}), "land_area.value"),
    (proposal(land_area={"value": "NaN", "unit": "亩"}), "land_area.value"),
    (proposal(land_area={"value": "Infinity", "unit": "亩"}), "land_area.value"),
    (proposal(land_area={"value": 90, "unit": "acre"}), "land_area.unit"),
    (proposal(land_area={"value": 90, "unit": "万元"}), "land_area.unit"),
    (with_indicators(plot_ratio={"value": "NaN"}), "indicators.plot_ratio.value"),
    (with_measures(annual_tax={"value": "NaN", "unit": "万元"}), "measures.annual_tax.value"),
    (with_measures(annual_tax={"value": -1, "unit": "万元"}), "measures.annual_tax.value"),
    (with_measures(annual_tax={"value": 1350, "unit": "dollars"}), "measures.annual_tax.unit"),
    (with_indicators(green_ratio={"value": 101, "unit": "%"}), "indicators.green_ratio.value"),
    (with_indicators(building_coefficient={"value": "1.01", "unit": "fraction"}),
     "indicators.building_coefficient.value"),
    (with_indicators(plot_ratio={"value": "10.5"}), "indicators.plot_ratio.value"),
    (with_indicators(plot_ratio={"value": 0}), "indicators.plot_ratio.value"),
    (with_measures(admin_land_area={"value": 91, "unit": "亩"}), "measures.admin_land_area.value"),
    (with_measures(green_area={"value": 60001, "unit": "m2"}), "measures.green_area.value"),
    (with_indicators(unknown_indicator={"value": 1}), "indicators.unknown_indicator"),
    (with_measures(unknown_measure={"value": 1, "unit": "亩"}), "measures.unknown_measure"),
    (proposal(unexpected=1), "unexpected"),
    (proposal(as_of="2024-02-30"), "as_of"),
    (proposal(jurisdiction="41120"), "jurisdiction"),
])
def test_invalid_input_is_422_with_the_path(client, body, path):
    before = chain_count(client)
    r = check_422(client, body)
    assert path in paths(r), r.json()
    for d in r.json()["detail"]:
        assert d["msg"], d
    assert chain_count(client) == before


def test_derived_plot_ratio_above_10_is_refused(client):
    body = proposal()
    del body["indicators"]["plot_ratio"]
    body["measures"]["total_floor_area"] = {"value": 1000, "unit": "亩"}      # 1000 / 90 = 11.1
    r = check_422(client, body)
    assert paths(r) == {"measures.total_floor_area"}
    assert "容积率" in r.json()["detail"][0]["msg"]


def test_plot_ratio_above_10_from_floors_points_at_floors(client):
    """The plot ratio derived from measures.floors is out of bounds: the problem must be
    reported at measures.floors (the field the caller sent), not measures.total_floor_area."""
    body = _floors((60300, 4, 10))              # 603000 m² / 60000 m² = 10.05
    r = check_422(client, body)
    assert paths(r) == {"measures.floors"}, r.json()
    assert "10.05" in r.json()["detail"][0]["msg"]


def test_every_value_problem_is_listed_together(client):
    body = proposal()
    body["measures"]["annual_tax"] = {"value": 1350, "unit": "dollars"}
    body["measures"]["admin_land_area"] = {"value": 100, "unit": "亩"}
    body["indicators"]["green_ratio"] = {"value": 101, "unit": "%"}
    body["indicators"]["plot_ratio"] = {"value": 11}
    body["indicators"]["building_coefficient"] = {"value": 45}
    r = check_422(client, body)
    assert paths(r) == {"measures.annual_tax.unit", "measures.admin_land_area.value",
                        "indicators.green_ratio.value", "indicators.plot_ratio.value",
                        "indicators.building_coefficient.unit"}


def test_every_schema_problem_is_listed_together(client):
    body = proposal(land_area={"value": "NaN", "unit": "亩"})
    body["indicators"]["foo"] = {"value": 1}
    body["measures"]["bar"] = {"value": 1, "unit": "亩"}
    body["indicators"]["plot_ratio"] = {"value": "Infinity"}
    r = check_422(client, body)
    assert paths(r) == {"land_area.value", "indicators.foo", "measures.bar", "indicators.plot_ratio.value"}


def test_every_problem_is_listed_in_one_response(client):
    """docs/verdicts.md: 422 lists *every* offending field.  A request mixing a schema problem
    (NaN, unknown indicator) with value problems (negative area, unknown unit, share
    above 100 %) must report all of them, not just the first validation phase."""
    body = proposal(land_area={"value": -90, "unit": "亩"})
    body["indicators"]["plot_ratio"] = {"value": "NaN"}
    body["indicators"]["foo"] = {"value": 1}
    body["measures"]["annual_tax"] = {"value": 1350, "unit": "dollars"}
    body["indicators"]["green_ratio"] = {"value": 101, "unit": "%"}
    r = check_422(client, body)
    assert {"land_area.value", "indicators.plot_ratio.value", "indicators.foo",
            "measures.annual_tax.unit", "indicators.green_ratio.value"} <= paths(r)


def test_known_at_without_timezone_is_not_a_server_error(client):
    """GET /v1/rulesets/resolve reads a naive known_at as UTC; the proposal check must
    not crash on it (comparing naive and aware datetimes raises TypeError → 500)."""
    aware = check(client, proposal(known_at="2030-01-01T00:00:00Z"))
    assert aware["known_at"] == "2030-01-01T00:00:00+00:00"
    r = client.post("/v1/checks/proposal", json=proposal(known_at="2030-01-01T00:00:00"))
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["known_at"] == "2030-01-01T00:00:00+00:00"
        assert r.json()["findings"] == aware["findings"]
    else:
        assert "known_at" in paths(r)


def test_batch_item_with_known_at_without_timezone_is_not_a_server_error(client):
    item = proposal(known_at="2030-01-01T00:00:00")
    r = client.post("/v1/checks/proposal:batch", json={"items": [proposal(), item]})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert [x["verdict"] for x in r.json()["items"]] == ["pass", "pass"]
    else:
        assert "items.1.known_at" in paths(r)


@pytest.mark.parametrize("tax_wan, status", [
    ("1349.99999999", "fail"),      # 14.99999999988… 万元/亩
    ("1349.9999", "fail"),          # 14.99999888…
    ("1350", "pass"),
    ("1350.00000001", "pass"),
])
def test_strict_precision_finding_is_self_consistent(client, uid, tax_wan, status):
    """With precision {mode: strict} nothing is rounded before the comparison, so the
    finding shown must agree with its status: a failing ≥ rule has actual < threshold
    and a negative margin (docs/verdicts.md: margin ≥ 0 means compliant)."""
    rid = f"strict-{uid}"
    r = client.post("/v1/rulesets", json=standalone_doc(rid, precision={"mode": "strict"}))
    assert r.status_code == 201, r.text
    v = check(client, simple_proposal(rid, tax_wan=tax_wan))
    f = by_rule(v["findings"])["tax_per_mu_min"]
    assert f["status"] == status
    assert v["verdict"] == status
    if status == "fail":
        assert Decimal(f["margin"]) < 0, f
        assert Decimal(f["actual"]) < Decimal(f["threshold"]), f
    else:
        assert Decimal(f["margin"]) >= 0, f
        assert Decimal(f["actual"]) >= Decimal(f["threshold"]), f


# ---------------------------------------------------------------- incomplete, manual review

def test_missing_required_indicator_is_incomplete(client):
    body = proposal()
    del body["measures"]["annual_tax"]
    v = check(client, body)
    assert v["verdict"] == "incomplete"
    f = by_rule(v["findings"])
    assert (f["tax_per_mu_min"]["status"], f["tax_per_mu_min"]["actual"], f["tax_per_mu_min"]["margin"]) == (
        "missing", None, None)
    assert "缺少亩均税收" in f["tax_per_mu_min"]["message"]
    assert "annual_tax" in f["tax_per_mu_min"]["message"]
    assert f["investment_intensity_min"]["status"] == "pass"


def test_incomplete_beats_fail_and_manual_review(client):
    body = proposal(industry={"code": "29"})
    del body["indicators"]["environment_attested"]
    body["measures"]["fixed_asset_investment"] = {"value": 9000, "unit": "万元"}    # 100 < 200: fail
    v = check(client, body)
    f = by_rule(v["findings"])
    assert f["environment_standard"]["status"] == "missing"
    assert f["investment_intensity_min"]["status"] == "fail"
    assert f["plot_ratio_min"]["status"] == "not_covered"
    assert v["verdict"] == "incomplete"


def test_missing_optional_indicator_is_not_required(client):
    v = check(client, proposal())
    f = by_rule(v["findings"])["output_per_mu_min"]
    assert (f["status"], f["required"]) == ("not_required", False)
    body = with_measures(annual_output={"value": 26999, "unit": "万元"})      # 299.99 < 300
    f2 = by_rule(check(client, body)["findings"])["output_per_mu_min"]
    assert (f2["status"], f2["actual"], f2["margin"]) == ("fail", "299.99", "-0.01")


def test_missing_boolean_attestation_is_incomplete(client):
    body = proposal()
    del body["indicators"]["construction_conditions_attested"]
    v = check(client, body)
    assert v["verdict"] == "incomplete"
    assert by_rule(v["findings"])["construction_conditions"]["status"] == "missing"


def test_false_attestation_fails(client):
    v = check(client, with_indicators(environment_attested={"value": False}))
    f = by_rule(v["findings"])["environment_standard"]
    assert (f["status"], f["actual"]) == ("fail", False)
    assert squeeze(f["message"]) == "【示例数据】环境标准（承诺符合行业环保要求）：否，不符合要求"
    assert v["verdict"] == "fail"


def test_ambiguous_industry_goes_to_manual_review_with_candidates(client):
    # 2017-29 橡胶和塑料制品业 → 2002-29 (0.8) and 2002-30 (1.0)
    v = check(client, proposal(industry={"code": "29"}))
    assert v["verdict"] == "manual_review"
    f = by_rule(v["findings"])["plot_ratio_min"]
    assert f["status"] == "not_covered"
    assert f["threshold"] is None and f["margin"] is None
    assert "29→0.8" in f["message"] and "30→1" in f["message"]
    assert "人工审核" in f["message"]
    # the other rules are still evaluated: investment uses the default 200
    inv = by_rule(v["findings"])["investment_intensity_min"]
    assert (inv["status"], inv["threshold"], inv["margin"]) == ("pass", "200", "20.00")


def test_manual_review_beats_fail(client):
    body = proposal(industry={"code": "29"})
    body["measures"]["fixed_asset_investment"] = {"value": 9000, "unit": "万元"}
    v = check(client, body)
    assert by_rule(v["findings"])["investment_intensity_min"]["status"] == "fail"
    assert v["verdict"] == "manual_review"


def test_industry_mapping_is_reported_in_warnings(client):
    v = check(client, proposal())
    assert any("GB/T 4754-2017 32 → GB/T 4754-2002 33" in w for w in v["warnings"]), v["warnings"]


# ---------------------------------------------------------------- example data

def test_example_rule_sets_are_labelled(client):
    v = check(client, proposal())
    assert v["ruleset"]["example"] is True
    example_warnings = [w for w in v["warnings"] if "示例数据" in w]
    assert len(example_warnings) == 1
    assert "henan-standard-land" in example_warnings[0] and "sanmenxia-standard-land" in example_warnings[0]
    assert "national-2008" not in example_warnings[0]
    status = {layer["id"]: layer["status"] for layer in v["ruleset"]["layers"]}
    assert status == {"national-2008": "official", "henan-standard-land": "example",
                      "sanmenxia-standard-land": "example"}
    for f in v["findings"]:
        example_layer = status[f["layer"]] == "example"
        assert f["example"] is example_layer, f
        assert f["message"].startswith("【示例数据】") is example_layer, f


def test_official_rule_set_has_no_example_warning(client):
    body = {
        "as_of": "2024-03-01", "jurisdiction": "511083",
        "industry": {"code": "34", "classification": "GB/T 4754-2017"},     # → equipment
        "land_area": {"value": 60000, "unit": "m2"},
        "measures": {"fixed_asset_investment": {"value": 13500, "unit": "万元"},   # 150 万元/亩
                     "annual_tax": {"value": 720, "unit": "万元"},                 # 8 万元/亩
                     "annual_output": {"value": 31500, "unit": "万元"},            # 350 万元/亩
                     "rd_spending": {"value": 20, "unit": "万元"},                  # 2 % of revenue
                     "revenue": {"value": 1000, "unit": "万元"}},
        "indicators": {"environment_attested": {"value": True}},
    }
    v = check(client, body)
    assert v["ruleset"]["id"] == "longchang-standard-land"
    assert v["ruleset"]["example"] is False
    assert v["verdict"] == "pass"
    assert not any("示例" in w for w in v["warnings"]), v["warnings"]
    f = by_rule(v["findings"])
    assert all(x["example"] is False for x in v["findings"])
    assert (f["output_per_mu_min"]["threshold"], f["output_per_mu_min"]["actual"],
            f["output_per_mu_min"]["industry_key"]) == ("350", "350.00", "equipment")
    assert (f["rd_share_min"]["threshold"], f["rd_share_min"]["actual"]) == ("2", "2.00")
    body["measures"]["rd_spending"] = {"value": "19.9", "unit": "万元"}       # 1.99 % < 2 %
    v2 = check(client, body)
    assert by_rule(v2["findings"])["rd_share_min"]["status"] == "fail"
    assert v2["verdict"] == "fail"


def test_official_child_of_an_example_parent(client, uid):
    rid = f"child-{uid}"
    doc = child_doc(rid, [tax_rule(16)], jurisdiction="411203")
    assert client.post("/v1/rulesets", json=doc).status_code == 201
    body = proposal(ruleset=rid)
    body["measures"]["annual_tax"] = {"value": 1440, "unit": "万元"}      # 16 万元/亩
    v = check(client, body)
    assert v["ruleset"]["id"] == rid and v["ruleset"]["example"] is True
    f = by_rule(v["findings"])
    tax = f["tax_per_mu_min"]
    assert (tax["layer"], tax["threshold"], tax["actual"], tax["example"]) == (rid, "16", "16.00", False)
    assert tax["supersedes"] == ["sanmenxia-standard-land:tax_per_mu_min"]
    assert not tax["message"].startswith("【示例数据】")
    assert f["investment_intensity_min"]["example"] is True
    assert any("sanmenxia-standard-land" in w and "示例数据" in w for w in v["warnings"])
    assert not any(rid in w for w in v["warnings"] if "示例数据" in w)


def test_published_admitted_list_outranks_the_applicant(client):
    """Beihai 2023GC07007 admits only 2017-26; an applicant in 27 cannot declare itself admitted."""
    body = {
        "as_of": "2024-03-01", "ruleset": "beihai-2023gc07007", "industry": {"code": "27"},
        "land_area": {"value": "102.76", "unit": "亩"},
        "measures": {"fixed_asset_investment": {"value": 30000, "unit": "万元"},
                     "annual_output": {"value": 45000, "unit": "万元"},
                     "annual_tax": {"value": 2100, "unit": "万元"}},
        "indicators": {"plot_ratio": {"value": 1.0}, "building_coefficient": {"value": 50, "unit": "%"},
                       "green_ratio": {"value": 10, "unit": "%"}, "admin_land_share": {"value": 5, "unit": "%"},
                       "admin_floor_share": {"value": 10, "unit": "%"}, "industry_admitted": {"value": True}},
    }
    v = check(client, body)
    f = by_rule(v["findings"])
    assert (f["industry_admitted"]["status"], f["industry_admitted"]["actual"]) == ("fail", False)
    assert v["verdict"] == "fail"
    body["industry"] = {"code": "2614"}
    v26 = check(client, body)
    assert by_rule(v26["findings"])["industry_admitted"]["status"] == "pass"
    assert v26["verdict"] == "pass", [(x["rule"], x["status"]) for x in v26["findings"]]


# ---------------------------------------------------------------- batch

def test_batch_results_in_order(client):
    fail = with_measures(fixed_asset_investment={"value": 19799, "unit": "万元"})
    incomplete = proposal()
    del incomplete["measures"]["annual_tax"]
    items = [proposal(), fail, incomplete, proposal(industry={"code": "29"}),
             proposal(land_area={"value": 60000, "unit": "m2"})]
    for i, item in enumerate(items):
        item["reference"] = f"item-{i}"
    before = chain_count(client)
    r = client.post("/v1/checks/proposal:batch", json={"items": items})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 5
    assert [x["verdict"] for x in body["items"]] == ["pass", "fail", "incomplete", "manual_review", "pass"]
    assert [x["reference"] for x in body["items"]] == [f"item-{i}" for i in range(5)]
    assert all("request" not in x for x in body["items"])     # stored, not echoed
    seqs = [x["seq"] for x in body["items"]]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    for a, b in zip(body["items"], body["items"][1:], strict=False):
        assert b["prev_hash"] == a["hash"]
    assert len({x["decision_id"] for x in body["items"]}) == 5
    assert by_rule(body["items"][1]["findings"])["investment_intensity_min"]["actual"] == "219.99"
    assert body["items"][4]["findings"] == body["items"][0]["findings"]
    assert chain_count(client) == before + 5


def test_batch_with_an_invalid_item_stores_nothing(client):
    items = [proposal(), proposal(land_area={"value": 0, "unit": "亩"}), proposal(),
             with_measures(annual_tax={"value": 1350, "unit": "dollars"})]
    before = chain_count(client)
    r = client.post("/v1/checks/proposal:batch", json={"items": items})
    assert r.status_code == 422, r.text
    assert paths(r) == {"items.1.land_area.value", "items.3.measures.annual_tax.unit"}
    assert chain_count(client) == before


def test_batch_with_a_schema_error_stores_nothing(client):
    bad = copy.deepcopy(proposal())
    bad["indicators"]["plot_ratio"] = {"value": "NaN"}
    before = chain_count(client)
    r = client.post("/v1/checks/proposal:batch", json={"items": [proposal(), bad]})
    assert r.status_code == 422
    assert paths(r) == {"items.1.indicators.plot_ratio.value"}
    assert chain_count(client) == before


def test_batch_with_an_unknown_rule_set_stores_nothing(client, uid):
    before = chain_count(client)
    r = client.post("/v1/checks/proposal:batch",
                    json={"items": [proposal(), proposal(ruleset=f"no-such-{uid}")]})
    assert r.status_code == 422
    assert paths(r) == {"items.1.ruleset"}
    assert chain_count(client) == before


def test_empty_batch_is_refused(client):
    r = client.post("/v1/checks/proposal:batch", json={"items": []})
    assert r.status_code == 422
    assert paths(r) == {"items"}
