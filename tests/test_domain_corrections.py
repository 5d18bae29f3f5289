"""Domain corrections (issue 11): rule authoring, industry codes, citations and 53号令 details,
through the HTTP API."""

from __future__ import annotations

from tests.factories import paths, simple_proposal, standalone_doc

# ---------------------------------------------------------------- item 9: implied thresholds


def test_is_true_rule_needs_no_threshold(client, uid):
    """``op: is_true`` implies its threshold: the natural form without one is accepted, stored in
    the explicit form and compared as "must be true"."""
    rid = f"t-{uid}"
    doc = standalone_doc(rid)
    doc["rules"].append({"id": "environment_standard", "indicator": "environment_attested", "role": "n",
                         "op": "is_true", "required": True, "cite": {"doc": "t-doc", "article": "第三条"}})
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 201, r.text
    ver = client.get(f"/v1/rulesets/{rid}/versions/1").json()
    assert {x["id"]: x for x in ver["document"]["rules"]}["environment_standard"]["threshold"] is True

    body = simple_proposal(rid)
    body["indicators"]["environment_attested"] = {"value": False}
    out = client.post("/v1/checks/proposal", json=body)
    assert out.status_code == 200, out.text
    env = {f["rule"]: f for f in out.json()["findings"]}["environment_standard"]
    assert (env["status"], env["threshold"]) == ("fail", True)

    # a numeric operator still needs its threshold
    bad = standalone_doc(f"t-{uid}-b")
    del bad["rules"][0]["threshold"]
    r = client.post("/v1/rulesets", json=bad)
    assert r.status_code == 422 and paths(r) == {"rules.0.threshold"}


# ---------------------------------------------------------------- item 10: industry codes

def _check(client, body: dict):
    return client.post("/v1/checks/proposal", json=body)


def test_section_letter_before_the_division_is_accepted_and_picks_the_division_threshold(client):
    """``C32`` (门类 C, 大类 32) is industry 32: investment ≥ 220 万元/亩 (Sanmenxia by_industry), not the
    general 200.  19000 万元 ÷ 90 亩 = 211.11 < 220 → fail (it would pass against 200)."""
    from tests.conftest import proposal

    body = proposal(industry={"code": "C32", "classification": "GB/T 4754-2017"})
    body["measures"]["fixed_asset_investment"] = {"value": 19000, "unit": "万元"}
    r = _check(client, body)
    assert r.status_code == 200, r.text
    inv = {f["rule"]: f for f in r.json()["findings"]}["investment_intensity_min"]
    assert (inv["status"], inv["threshold"], inv["industry_key"]) == ("fail", "220", "32"), inv
    lower = _check(client, proposal(industry={"code": "c32", "classification": "GB/T 4754-2017"}))
    assert lower.status_code == 200 and lower.json()["verdict"] == "pass", lower.text


def test_a_code_not_in_the_classification_is_422_but_warehousing_is_a_valid_code(client):
    from tests.conftest import proposal

    for code in ("99", "00", "D32", "C", "9901"):
        r = _check(client, proposal(industry={"code": code, "classification": "GB/T 4754-2017"}))
        assert r.status_code == 422, (code, r.text)
        assert paths(r) == {"industry.code"}, (code, r.json())
    r = client.post("/v1/checks/proposal:batch", json={"items": [
        proposal(), proposal(industry={"code": "99", "classification": "GB/T 4754-2017"})]})
    assert r.status_code == 422 and "items.1.industry.code" in paths(r), r.text
    # GB/T 4754-2017 59 装卸搬运和仓储业 (门类 G) exists: no 422.  No plot-ratio row covers it (the 2008
    # table is by 2002 manufacturing division), so the verdict stays manual_review.
    for code in ("59", "G59", "5920"):
        r = _check(client, proposal(industry={"code": code, "classification": "GB/T 4754-2017"}))
        assert r.status_code == 200, (code, r.text)
        assert r.json()["verdict"] == "manual_review", (code, r.json()["verdict"])
        far = {f["rule"]: f for f in r.json()["findings"]}["plot_ratio_min"]
        assert far["status"] == "not_covered"


def test_contract_with_an_unknown_industry_code_is_422(client, uid):
    from tests.contract_factory import base_contract

    body = base_contract(uid, industry={"code": "99", "classification": "GB/T 4754-2017"})
    for url in ("/v1/checks/contract", "/v1/contracts"):
        r = client.post(url, json=body)
        assert r.status_code == 422 and paths(r) == {"industry.code"}, r.text
    ok = base_contract(uid, industry={"code": "C38", "classification": "GB/T 4754-2017"})
    r = client.post("/v1/contracts", json=ok)
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/contracts/{ok['contract_no']}").json()["contract"]["industry"]["code"] == "38"
