"""Deterministic rule-set resolution, checked at publish time (issue 10, item 10).

One more rule set published for 411200 used to make every proposal check resolved by
jurisdiction in 411200 answer 422 ("several rule sets apply").  Now the most specific level
wins — parcel > park > county > city > province > national, a set for the request's industry
before a set for every industry — and a second set at the same level for the same jurisdiction,
target, industries and dates is refused when it is published (409 naming the other).
The county 411282 (灵宝市) is published at by this module only."""

from __future__ import annotations

import pytest

from tests.conftest import proposal
from tests.contract_factory import base_contract
from tests.factories import child_doc, tax_rule

COUNTY = "411282"


def publish(client, doc: dict, status: int = 201) -> dict:
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == status, r.text
    return r.json()


def resolve(client, **params) -> dict:
    r = client.get("/v1/rulesets/resolve", params={"as_of": "2024-03-01", **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_another_city_set_for_411200_is_refused_and_checks_keep_resolving(client, uid):
    """The reported failure: a second general set for Sanmenxia, in force on the same dates."""
    doc = child_doc(f"smx-extra-{uid}", [tax_rule(16)], parent="henan-standard-land", jurisdiction="411200",
                    effective_from="2023-01-01", applies_to=None)
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "sanmenxia-standard-land" in detail and "411200" in detail
    assert client.get(f"/v1/rulesets/{doc['id']}").status_code == 404        # nothing stored
    r = client.post("/v1/checks/proposal", json=proposal(jurisdiction="411200"))
    assert r.status_code == 200, r.text
    assert r.json()["ruleset"]["id"] == "sanmenxia-standard-land"
    # a set for the same city in a period of its own is no competitor
    publish(client, {**doc, "effective_from": "2001-01-01", "effective_to": "2002-01-01"})


@pytest.fixture(scope="module")
def layers(client) -> dict:
    """灵宝市 411282: a county set (tax ≥ 16), a set for its industry 26 only (≥ 16.5), a set
    for park LB-PARK (≥ 17) and one for parcel LB-0001 (≥ 18), each under the county set."""
    import uuid

    uid = uuid.uuid4().hex[:8]
    ids = {k: f"lb-{k}-{uid}" for k in ("county", "c26", "park", "parcel")}
    publish(client, child_doc(ids["county"], [tax_rule(16)], jurisdiction=COUNTY, applies_to=None))
    publish(client, child_doc(ids["c26"], [tax_rule("16.5")], jurisdiction=COUNTY, applies_to={"industries": ["26"]}))
    publish(client, child_doc(ids["park"], [tax_rule(17)], parent=ids["county"], jurisdiction=COUNTY,
                              applies_to={"parks": [f"LB-PARK-{uid}"]}))
    publish(client, child_doc(ids["parcel"], [tax_rule(18)], parent=ids["county"], jurisdiction=COUNTY,
                              applies_to={"parcels": [f"LB-{uid}-0001"]}))
    return {**ids, "park_id": f"LB-PARK-{uid}", "parcel_code": f"LB-{uid}-0001", "uid": uid}


def test_the_most_specific_level_wins(client, layers):
    L = layers
    got = {name: resolve(client, jurisdiction=COUNTY, industry="32", **params)["ruleset"]["id"]
           for name, params in {"county": {}, "park": {"park": L["park_id"]},
                                "parcel": {"parcel": L["parcel_code"]},
                                "parcel in park": {"parcel": L["parcel_code"], "park": L["park_id"]},
                                "other parcel": {"parcel": "LB-NONE-0002"}, "other park": {"park": "ELSEWHERE"}}.items()}
    assert got == {"county": L["county"], "park": L["park"], "parcel": L["parcel"], "parcel in park": L["parcel"],
                   "other parcel": L["county"], "other park": L["county"]}
    # within the county level, the set for industry 26 before the set for every industry
    assert resolve(client, jurisdiction=COUNTY, industry="26")["ruleset"]["id"] == L["c26"]
    assert resolve(client, jurisdiction=COUNTY, industry="2611")["ruleset"]["id"] == L["c26"]
    assert resolve(client, jurisdiction=COUNTY)["ruleset"]["id"] == L["county"]
    # and a parcel's own set before the industry's county set
    assert resolve(client, jurisdiction=COUNTY, industry="26", parcel=L["parcel_code"])["ruleset"]["id"] == L["parcel"]


def test_checks_use_the_parcel_set(client, layers, uid):
    r = client.post("/v1/checks/proposal", json=proposal(jurisdiction=COUNTY, parcel=layers["parcel_code"]))
    assert r.status_code == 200, r.text
    assert r.json()["ruleset"]["id"] == layers["parcel"]
    findings = {f["rule"]: f for f in r.json()["findings"]}
    assert findings["tax_per_mu_min"]["layer"] == layers["parcel"]
    body = base_contract(uid, jurisdiction=COUNTY, parcel_code=layers["parcel_code"])
    del body["ruleset"]
    r = client.post("/v1/checks/contract", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["ruleset"]["id"] == layers["parcel"]


def test_competing_sets_are_refused_naming_the_other(client, layers, uid):
    L = layers
    cases = [
        (child_doc(f"lb-c2-{uid}", [tax_rule(19)], jurisdiction=COUNTY, applies_to=None), L["county"]),
        (child_doc(f"lb-p2-{uid}", [tax_rule(19)], parent=L["county"], jurisdiction=COUNTY,
                   applies_to={"parks": ["OTHER", L["park_id"]]}), L["park"]),
        (child_doc(f"lb-q2-{uid}", [tax_rule(19)], parent=L["county"], jurisdiction=COUNTY,
                   applies_to={"parcels": [L["parcel_code"].lower()]}), L["parcel"]),
        (child_doc(f"lb-i2-{uid}", [tax_rule(19)], jurisdiction=COUNTY, applies_to={"industries": ["26", "27"]}),
         L["c26"]),
        # a later start still overlaps an open-ended set
        (child_doc(f"lb-c3-{uid}", [tax_rule(19)], jurisdiction=COUNTY, effective_from="2030-01-01", applies_to=None),
         L["county"]),
    ]
    for doc, other in cases:
        r = client.post("/v1/rulesets", json=doc)
        assert r.status_code == 409, (doc["id"], r.text)
        assert other in r.json()["detail"], (doc["id"], r.json()["detail"])
        assert client.get(f"/v1/rulesets/{doc['id']}").status_code == 404
    # no competitor: another park, another parcel, another industry, a period of its own, a child
    # of the county set at the same level (it refines its parent), a new version of the same id
    publish(client, child_doc(f"lb-p3-{uid}", [tax_rule(19)], parent=L["county"], jurisdiction=COUNTY,
                              applies_to={"parks": [f"OTHER-{uid}"]}))
    publish(client, child_doc(f"lb-q3-{uid}", [tax_rule(19)], parent=L["county"], jurisdiction=COUNTY,
                              applies_to={"parcels": [f"LB-{uid}-0003"]}))
    publish(client, child_doc(f"lb-i3-{uid}", [tax_rule(19)], jurisdiction=COUNTY, applies_to={"industries": ["13"]}))
    publish(client, child_doc(f"lb-old-{uid}", [tax_rule(19)], jurisdiction=COUNTY, effective_from="2001-01-01",
                              effective_to="2002-01-01", applies_to=None))
    publish(client, child_doc(f"lb-sub-{uid}", [tax_rule(20)], parent=L["county"], jurisdiction=COUNTY, applies_to=None))
    assert resolve(client, jurisdiction=COUNTY, industry="32")["ruleset"]["id"] == f"lb-sub-{uid}"   # the child wins
    publish(client, child_doc(L["park"], [tax_rule(21)], version="2", parent=L["county"], jurisdiction=COUNTY,
                              applies_to={"parks": [L["park_id"]]}))
    res = resolve(client, jurisdiction=COUNTY, industry="32", park=L["park_id"])
    assert (res["ruleset"]["id"], res["ruleset"]["version"]) == (L["park"], "2")


def test_other_levels_leave_411200_resolving(client, layers):
    """Sets published for a county, a park and a parcel of Sanmenxia leave the city's own
    checks where they were."""
    assert resolve(client, jurisdiction="411200", industry="32")["ruleset"]["id"] == "sanmenxia-standard-land"
    assert resolve(client, jurisdiction="411202", industry="32")["ruleset"]["id"] == "sanmenxia-standard-land"
    r = client.post("/v1/checks/proposal", json=proposal(jurisdiction="411200"))
    assert r.status_code == 200 and r.json()["ruleset"]["id"] == "sanmenxia-standard-land"


def test_applies_to_is_validated(client, uid):
    doc = child_doc(f"lb-bad-{uid}", [tax_rule(19)], jurisdiction=COUNTY,
                    applies_to={"parcels": ["A"], "parks": ["B"], "industries": [" 26"]})
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 422, r.text
    assert {d["path"] for d in r.json()["detail"]} >= {"applies_to", "applies_to.industries.0"}
