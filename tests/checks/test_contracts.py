"""Contract-clause check (POST /v1/checks/contract) and registration (POST /v1/contracts).

Base contract: tests/contract_factory.py (30 亩 = 20000 m², price 1200 万元, GF-2008-2601,
Sanmenxia rule set: tax_per_mu ≥ 15 万元/亩, investment_intensity ≥ 200 万元/亩 for industry 38).
"""

from __future__ import annotations

import pytest

from indicators.identifiers import USCC_CHARS, synthetic_uscc
from tests.contract_factory import SANMENXIA, base_contract
from tests.factories import paths

FINDING_KEYS = {"clause", "status", "contract_value", "rule_value", "cite"}


def check(client, body: dict) -> dict:
    r = client.post("/v1/checks/contract", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["kind"] == "contract"
    for f in out["findings"]:
        assert FINDING_KEYS <= set(f), f
    return out


def by_clause(result: dict, clause: str) -> list[dict]:
    return [f for f in result["findings"] if f["clause"] == clause]


def only(result: dict, clause: str) -> dict:
    found = by_clause(result, clause)
    assert len(found) == 1, (clause, found)
    return found[0]


def blocking(result: dict) -> list[tuple[str, str]]:
    return [(f["clause"], f["status"]) for f in result["findings"]
            if f["status"] in ("missing", "weaker", "non_model", "invalid")]


# ---------------------------------------------------------------- the base contract

def test_base_contract_passes_every_clause(client, uid):
    res = check(client, base_contract(uid))
    assert res["verdict"] == "pass"
    assert blocking(res) == []
    assert res["ruleset"]["id"] == SANMENXIA
    assert res["as_of"] == "2023-01-10"           # the rule set in force on the signing date
    assert res["counts"]["missing"] == res["counts"]["weaker"] == res["counts"]["invalid"] == 0
    # 4500 元/m² ÷ 15 = 300 万元/亩 ≥ 200 (Sanmenxia, industry 38)
    ii = only(res, "commitments.investment_intensity")
    assert (ii["status"], ii["contract_value"], ii["rule_value"]) == ("pass", "300", "200")
    assert ii["cite"]["layer"] == SANMENXIA and ii["rule"] == "investment_intensity_min"
    tpm = only(res, "commitments.tax_per_mu")
    assert (tpm["status"], tpm["contract_value"], tpm["rule_value"]) == ("pass", "20", "15")
    assert (tpm["cite"]["doc"], tpm["cite"]["number"]) == ("smx-2021-5", "三政办〔2021〕5号")   # the city's park goal
    # each identifier passes
    for clause in ("transferee.uscc", "jurisdiction", "parcel_code", "supervision_no"):
        assert only(res, clause)["status"] == "pass", clause
    # the model's limits: notice 30 ≥ 30, extension 1 ≤ 1
    notice = only(res, "clauses.extension_notice_days")
    assert (notice["status"], notice["contract_value"], notice["rule_value"]) == ("pass", 30, ">= 30")
    assert notice["cite"]["article"].startswith("第十六条")


def test_every_finding_has_clause_status_values_and_cite(client, uid):
    res = check(client, base_contract(uid))
    for f in res["findings"]:
        if f["clause"].startswith(("penalties.", "schedule.", "clauses.", "commitments.")):
            assert f["cite"] is not None and f["cite"]["article"], f
            assert f["rule_value"] is not None, f
        if f["clause"].startswith("commitments."):
            assert f["cite"]["doc"] and f["cite"]["layer"], f


def test_contract_values_are_plain_values_not_python_reprs(client, uid):
    """contract_value is shown to officers: a Quantity must not leak as a Python repr."""
    res = check(client, base_contract(uid))
    price = only(res, "land_price")
    assert price["status"] == "pass"
    assert "Decimal(" not in str(price["contract_value"]), price["contract_value"]


# ---------------------------------------------------------------- blank penalty rates

RATES = ["late_payment_permille", "late_start_permille", "late_completion_permille", "over_limit_permille",
         "late_delivery_permille"]


@pytest.mark.parametrize("how", ["null", "absent"])
@pytest.mark.parametrize("rate", RATES)
def test_blank_penalty_rate_is_missing(client, uid, rate, how):
    """Every ‰ rate is a blank in the model contract (2008 Art. 30, 33, 36, 37): a blank
    one makes the penalty uncomputable, so the clause is missing and the verdict fails."""
    body = base_contract(uid)
    if how == "null":
        body["penalties"][rate] = None
    else:
        del body["penalties"][rate]
    res = check(client, body)
    f = only(res, f"penalties.{rate}")
    assert f["status"] == "missing", f
    assert f["contract_value"] is None
    assert f["cite"] is not None
    assert res["verdict"] == "fail"
    assert blocking(res) == [(f"penalties.{rate}", "missing")]


def test_missing_tax_shortfall_option_is_missing(client, uid):
    body = base_contract(uid)
    del body["penalties"]["tax_shortfall"]
    res = check(client, body)
    assert only(res, "penalties.tax_shortfall")["status"] == "missing"
    assert res["verdict"] == "fail"


def test_missing_start_date_is_missing(client, uid):
    body = base_contract(uid)
    del body["schedule"]["start_by"]
    res = check(client, body)
    assert only(res, "schedule.start_by")["status"] == "missing"
    assert res["verdict"] == "fail"


# ---------------------------------------------------------------- identifiers

def _bad_check_char(code: str) -> str:
    i = USCC_CHARS.index(code[17])
    return code[:17] + USCC_CHARS[(i + 1) % len(USCC_CHARS)]


def test_uscc_with_wrong_check_character_is_invalid(client, uid):
    good = synthetic_uscc(org8=uid.upper())
    body = base_contract(uid, transferee={"name": "乙公司", "uscc": _bad_check_char(good)})
    res = check(client, body)
    f = only(res, "transferee.uscc")
    assert f["status"] == "invalid"
    assert f["contract_value"] == body["transferee"]["uscc"]
    assert "校验位" in f["message"]
    assert res["verdict"] == "fail"


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_uscc_with_a_letter_outside_the_charset_is_invalid(client, uid, letter):
    good = synthetic_uscc(org8=uid.upper())
    bad = good[:10] + letter + good[11:]            # inside the organisation code, right length
    assert len(bad) == 18
    res = check(client, base_contract(uid, transferee={"name": "乙公司", "uscc": bad}))
    f = only(res, "transferee.uscc")
    assert f["status"] == "invalid" and letter in f["message"]
    assert res["verdict"] == "fail"


def test_uscc_of_wrong_length_is_invalid(client, uid):
    res = check(client, base_contract(uid, transferee={"name": "乙公司", "uscc": synthetic_uscc(org8=uid.upper())[:17]}))
    assert only(res, "transferee.uscc")["status"] == "invalid"
    assert res["verdict"] == "fail"


def test_historic_division_code_is_a_warning_and_still_resolves_to_sanmenxia(client, uid):
    """陕县 411222 was replaced by 陕州区 411203: a warning, not a block.  Resolution by
    jurisdiction walks 411222 → 411200 (Sanmenxia); no other test publishes at 411222."""
    body = base_contract(uid, jurisdiction="411222")
    del body["ruleset"]
    res = check(client, body)
    f = only(res, "jurisdiction")
    assert (f["status"], f["contract_value"]) == ("warning", "411222")
    assert "历史" in f["message"]
    assert res["ruleset"]["id"] == SANMENXIA
    assert res["verdict"] == "pass"
    assert res["counts"]["warning"] >= 1


@pytest.mark.parametrize("number", ["ABC-123", "41120220231234", "4112022023b00001"])
def test_unusual_supervision_number_is_a_warning(client, uid, number):
    res = check(client, base_contract(uid, supervision_no=number))
    f = only(res, "supervision_no")
    assert (f["status"], f["contract_value"]) == ("warning", number)
    assert res["verdict"] == "pass"


def test_supervision_number_year_far_from_signing_year_is_a_warning(client, uid):
    res = check(client, base_contract(uid, supervision_no="4112022019B00001"))
    f = only(res, "supervision_no")
    assert f["status"] == "warning" and "2019" in f["message"]
    assert res["verdict"] == "pass"


def test_malformed_parcel_code_is_invalid(client, uid):
    res = check(client, base_contract(uid, parcel_code="41120200100GB00001"))      # 18 characters
    assert only(res, "parcel_code")["status"] == "invalid"
    assert res["verdict"] == "fail"


# ---------------------------------------------------------------- contract model

def test_unknown_model_is_non_model(client, uid):
    res = check(client, base_contract(uid, model="GF-1999-0000"))
    f = only(res, "model")
    assert (f["status"], f["contract_value"]) == ("non_model", "GF-1999-0000")
    assert "GF-2008-2601、GF-2025-2601" in f["message"]          # the published models are named
    assert res["verdict"] == "fail"
    assert res["counts"]["non_model"] == 1
    assert res["law"] == []                                      # no model document used, none pinned


def test_apparent_2025_model_passes_with_a_warning(client, uid):
    res = check(client, base_contract(uid, model="GF-2025-2601"))
    statuses = {f["status"] for f in by_clause(res, "model")}
    assert statuses == {"pass", "warning"}
    assert res["verdict"] == "pass"


def test_extension_longer_than_one_year_is_weaker(client, uid):
    body = base_contract(uid)
    body["clauses"]["extension_max_years"] = 2
    res = check(client, body)
    f = only(res, "clauses.extension_max_years")
    assert (f["status"], f["contract_value"], f["rule_value"]) == ("weaker", "2", "<= 1")
    assert f["cite"]["article"].startswith("第十六条")
    assert res["verdict"] == "fail"
    assert blocking(res) == [("clauses.extension_max_years", "weaker")]


def test_shorter_extension_notice_is_weaker(client, uid):
    body = base_contract(uid)
    body["clauses"]["extension_notice_days"] = 15
    res = check(client, body)
    f = only(res, "clauses.extension_notice_days")
    assert (f["status"], f["contract_value"], f["rule_value"]) == ("weaker", 15, ">= 30")
    assert res["verdict"] == "fail"
    assert blocking(res) == [("clauses.extension_notice_days", "weaker")]


def test_stricter_clauses_pass(client, uid):
    body = base_contract(uid)
    body["clauses"] = {"extension_notice_days": 60, "extension_max_years": 0.5}
    res = check(client, body)
    assert only(res, "clauses.extension_notice_days")["status"] == "pass"
    assert only(res, "clauses.extension_max_years")["status"] == "pass"
    assert res["verdict"] == "pass"


# ---------------------------------------------------------------- commitments vs the rule set in force

def test_tax_commitment_below_the_rule_set_is_weaker(client, uid):
    body = base_contract(uid)
    body["commitments"]["tax_per_mu"]["value"] = 10                 # 10 < 15 万元/亩
    res = check(client, body)
    f = only(res, "commitments.tax_per_mu")
    assert (f["status"], f["contract_value"], f["rule_value"]) == ("weaker", "10", "15")
    assert f["cite"]["layer"] == SANMENXIA and f["rule"] == "tax_per_mu_min"
    assert res["verdict"] == "fail"
    assert blocking(res) == [("commitments.tax_per_mu", "weaker")]


def test_tax_commitment_equal_to_the_rule_set_passes(client, uid):
    body = base_contract(uid)
    body["commitments"]["tax_per_mu"]["value"] = 15                 # 15 ≥ 15
    res = check(client, body)
    assert only(res, "commitments.tax_per_mu")["status"] == "pass"
    assert res["verdict"] == "pass"


def test_intensity_commitment_in_yuan_per_m2_below_the_rule_set_is_weaker(client, uid):
    """2000 元/m² ÷ 15 = 133.33… 万元/亩 < 200.  (The agreed total is adjusted to match:
    133.33… × 30 = 4000 万元, so no consistency warning is involved.)"""
    body = base_contract(uid)
    body["commitments"]["investment_intensity"]["value"] = 2000
    body["commitments"]["fixed_asset_investment"]["value"] = 4000
    res = check(client, body)
    f = only(res, "commitments.investment_intensity")
    assert f["status"] == "weaker" and f["rule_value"] == "200"
    assert f["contract_value"].startswith("133.33")
    assert res["verdict"] == "fail"
    assert blocking(res) == [("commitments.investment_intensity", "weaker")]
    assert by_clause(res, "commitments.fixed_asset_investment") == []


def test_intensity_exactly_at_the_rule_passes(client, uid):
    # 3000 元/m² ÷ 15 = 200 万元/亩 = 200; total 200 × 30 = 6000 万元
    body = base_contract(uid)
    body["commitments"]["investment_intensity"]["value"] = 3000
    body["commitments"]["fixed_asset_investment"]["value"] = 6000
    res = check(client, body)
    f = only(res, "commitments.investment_intensity")
    assert (f["status"], f["contract_value"]) == ("pass", "200")
    assert res["verdict"] == "pass"


def test_inconsistent_total_and_intensity_is_a_warning(client, uid):
    # 4800 元/m² = 320 万元/亩 × 30 = 9600 万元 ≠ 9000 (6.7 % apart > 1 %)
    body = base_contract(uid)
    body["commitments"]["investment_intensity"]["value"] = 4800
    res = check(client, body)
    f = only(res, "commitments.fixed_asset_investment")
    assert (f["status"], f["contract_value"], f["rule_value"]) == ("warning", "9000", "9600")
    assert res["verdict"] == "pass"


def test_green_ratio_above_the_national_cap_is_weaker(client, uid):
    body = base_contract(uid)
    body["commitments"]["green_ratio"]["max"] = 25                  # 25 % > 20 % (national-2008)
    res = check(client, body)
    f = only(res, "commitments.green_ratio")
    assert (f["status"], f["rule_value"]) == ("weaker", "20")
    assert f["cite"]["layer"] == "national-2008"
    assert res["verdict"] == "fail"


def test_required_rule_without_commitment_is_missing(client, uid):
    body = base_contract(uid)
    del body["commitments"]["tax_per_mu"]
    res = check(client, body)
    f = only(res, "commitments.tax_per_mu")
    assert (f["status"], f["contract_value"], f["rule_value"]) == ("missing", None, "15")
    assert f["cite"]["layer"] == SANMENXIA
    assert res["verdict"] == "fail"
    assert blocking(res) == [("commitments.tax_per_mu", "missing")]


def test_intensity_derived_from_the_total_when_not_stated(client, uid):
    # 9000 万元 ÷ 30 亩 = 300 万元/亩 ≥ 200
    body = base_contract(uid)
    del body["commitments"]["investment_intensity"]
    res = check(client, body)
    f = only(res, "commitments.investment_intensity")
    assert f["status"] == "pass" and f["contract_value"].startswith("300")


def test_tax_commitment_without_first_year_is_missing(client, uid):
    body = base_contract(uid)
    del body["commitments"]["tax_per_mu"]["from_year"]
    res = check(client, body)
    assert only(res, "commitments.tax_per_mu.from_year")["status"] == "missing"
    assert res["verdict"] == "fail"


def test_start_date_before_delivery_is_invalid(client, uid):
    body = base_contract(uid)
    body["schedule"]["start_by"] = "2022-02-01"                       # before delivery 2022-03-01
    res = check(client, body)
    statuses = {f["status"] for f in by_clause(res, "schedule.start_by")}
    # filled in (pass), before delivery (invalid), before signing 2023-01-10 (warning)
    assert statuses == {"pass", "invalid", "warning"}
    assert blocking(res) == [("schedule.start_by", "invalid")]
    assert res["verdict"] == "fail"


def test_check_decision_is_stored(client, uid):
    res = check(client, base_contract(uid))
    stored = client.get(f"/v1/decisions/{res['decision_id']}")
    assert stored.status_code == 200
    assert stored.json()["kind"] == "contract" and stored.json()["verdict"] == "pass"


# ---------------------------------------------------------------- registration

def test_register_then_identical_then_conflicting(client, uid):
    body = base_contract(uid)
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["created"] is True and first["contract_no"] == body["contract_no"]
    assert first["check"]["verdict"] == "pass"
    assert first["check_decision_id"] == first["check"]["decision_id"]

    again = client.post("/v1/contracts", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["digest"] == first["digest"]

    changed = base_contract(uid)
    changed["land_price"]["value"] = 1300
    r = client.post("/v1/contracts", json=changed)
    assert r.status_code == 409, r.text

    got = client.get(f"/v1/contracts/{body['contract_no']}")
    assert got.status_code == 200
    assert got.json()["contract"]["land_price"]["value"] in ("1200", 1200)
    assert got.json()["events"] == []


def test_registration_stores_a_failing_contract_too(client, uid):
    body = base_contract(uid)
    body["clauses"]["extension_max_years"] = 2
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["check"]["verdict"] == "fail"


def test_unknown_contract_is_404(client, uid):
    assert client.get(f"/v1/contracts/NOPE-{uid}").status_code == 404
    assert client.get(f"/v1/contracts/NOPE-{uid}/performance", params={"as_of": "2024-01-01"}).status_code == 404


# ---------------------------------------------------------------- structural errors → 422 with paths

def test_bad_date_is_422_with_path(client, uid):
    r = client.post("/v1/checks/contract", json=base_contract(uid, signed_on="2023-02-30"))
    assert r.status_code == 422
    assert "signed_on" in paths(r)


def test_bad_schedule_date_is_422_with_path(client, uid):
    body = base_contract(uid)
    body["schedule"]["start_by"] = "2023-13-01"
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 422
    assert "schedule.start_by" in paths(r)


def test_unknown_field_is_422_with_path(client, uid):
    body = base_contract(uid)
    body["commitments"]["parking_ratio"] = {"max": 3}
    body["surprise"] = 1
    r = client.post("/v1/checks/contract", json=body)
    assert r.status_code == 422
    assert {"commitments.parking_ratio", "surprise"} <= paths(r)


def test_negative_rate_is_422_with_path(client, uid):
    body = base_contract(uid)
    body["penalties"]["late_start_permille"] = -1
    r = client.post("/v1/checks/contract", json=body)
    assert r.status_code == 422
    assert "penalties.late_start_permille" in paths(r)


def test_interval_min_above_max_is_422(client, uid):
    body = base_contract(uid)
    body["commitments"]["plot_ratio"] = {"min": 2.5, "max": 2.0}
    r = client.post("/v1/checks/contract", json=body)
    assert r.status_code == 422
    assert any(p.startswith("commitments.plot_ratio") for p in paths(r))


def test_zero_land_area_is_422(client, uid):
    r = client.post("/v1/checks/contract", json=base_contract(uid, land_area={"value": 0, "unit": "亩"}))
    assert r.status_code == 422
    assert any(p.startswith("land_area") for p in paths(r))


def test_wrong_unit_is_422(client, uid):
    r = client.post("/v1/checks/contract", json=base_contract(uid, land_price={"value": 1200, "unit": "亩"}))
    assert r.status_code == 422
    assert "land_price.unit" in paths(r)


def test_every_wrong_unit_is_named_at_once(client, uid):
    """The contract's figures are converted once (app.lifecycle.terms.ContractTerms): every field whose
    unit does not fit is reported in one answer — also a committed interval no rule of the rule set
    checks (its figure would otherwise fail only later, in the performance audit)."""
    body = base_contract(uid, land_price={"value": 1200, "unit": "亩"})
    body["commitments"]["admin_floor_share"] = {"max": 15, "unit": "万元"}     # no rule of the set checks it
    body["commitments"]["investment_intensity"] = {"value": 4500, "unit": "m2"}
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 422, r.text
    assert set(paths(r)) == {"land_price.unit", "commitments.admin_floor_share.unit",
                             "commitments.investment_intensity.unit"}


def test_terms_are_exact_in_canonical_units(uid):
    from fractions import Fraction

    from app.lifecycle.terms import ContractTerms
    from app.schemas.contract import ContractRequest

    body = base_contract(uid, land_area={"value": 20000, "unit": "m2"})
    t = ContractTerms.from_request(ContractRequest.model_validate(body))
    assert t.area_mu == 30 and t.area_m2 == 20000                         # 20000 m² = 30 亩 exactly
    assert t.price_wan == 1200 and t.commitments.fixed_asset_investment == 9000
    assert t.commitments.investment_intensity == 300                      # 4500 元/m² = 300 万元/亩
    assert t.commitments.intervals["plot_ratio"].min == Fraction(6, 5)
    assert t.commitments.intervals["green_ratio"].max == 15 and t.commitments.intervals["green_ratio"].min is None
    assert (t.commitments.tax_per_mu, t.commitments.tax_from_year) == (20, 2025)


@pytest.mark.parametrize("endpoint", ["/v1/checks/contract", "/v1/contracts"])
def test_negative_land_price_is_422_with_path(client, uid, endpoint):
    """A land price of −5 万元 is structurally impossible (every penalty F2–F7 is a share of
    it); it must be refused like a negative rate, not checked and registered as 'pass'."""
    r = client.post(endpoint, json=base_contract(uid, land_price={"value": -5, "unit": "万元"}))
    assert r.status_code == 422, r.text
    assert any(p.startswith("land_price") for p in paths(r))


def test_negative_committed_investment_is_422(client, uid):
    body = base_contract(uid)
    body["commitments"]["fixed_asset_investment"]["value"] = -9000
    r = client.post("/v1/checks/contract", json=body)
    assert r.status_code == 422, r.text
    assert any(p.startswith("commitments.fixed_asset_investment") for p in paths(r))


def test_contract_number_with_a_slash_is_422(client, uid):
    r = client.post("/v1/contracts", json=base_contract(uid, contract_no=f"A/{uid}"))
    assert r.status_code == 422
    assert "contract_no" in paths(r)
