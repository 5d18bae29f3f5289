"""Builders for contract, lifecycle-event and tax-record tests (HTTP API only).

The database is shared by the whole test session, so every contract gets a unique
number and a unique transferee USCC (tax records are keyed by USCC): pass the ``uid``
fixture.  ``uid`` is 8 hex digits; upper-cased they use only 0-9 and A-F, which are all
valid organisation-code characters (no I, O, S, V, Z).

The base contract (30 亩 = 20000 m², price 1200 万元; 4500 元/m² = 300 万元/亩) names
its rule set explicitly: other test modules publish layers for 411202 (each for a test
park of its own, see tests/factories.py).  Tests that exercise resolution by jurisdiction
use their own code.
"""

from __future__ import annotations

import copy
from typing import Any

from indicators.identifiers import synthetic_uscc

SANMENXIA = "sanmenxia-standard-land"


def uscc_for(uid: str, n: int = 0) -> str:
    """A valid USCC unique to the test (``n`` tells apart several contracts of one test)."""
    org8 = (uid.upper() + str(n))[-8:] if n else uid.upper()
    return synthetic_uscc(region="411200", org8=org8)


def base_contract(uid: str, n: int = 0, **over: Any) -> dict:
    body = {
        "contract_no": f"T-{uid}-{n}",
        "model": "GF-2008-2601",
        "supervision_no": "4112022023B00001",
        "parcel_code": "411202001001GB00001",
        "transferee": {"name": "测试工业有限公司", "uscc": uscc_for(uid, n)},
        "jurisdiction": "411202",
        "ruleset": SANMENXIA,
        "industry": {"code": "38", "classification": "GB/T 4754-2017"},
        "signed_on": "2023-01-10",
        "land_area": {"value": 30, "unit": "亩"},
        "land_price": {"value": 1200, "unit": "万元"},
        "commitments": {
            "fixed_asset_investment": {"value": 9000, "unit": "万元"},
            "investment_intensity": {"value": 4500, "unit": "元/m2"},
            "plot_ratio": {"min": 1.2, "max": 2.0},
            "building_coefficient": {"min": 40, "unit": "%"},
            "admin_land_share": {"max": 7, "unit": "%"},
            "green_ratio": {"max": 15, "unit": "%"},
            "tax_per_mu": {"value": 20, "unit": "万元/亩", "from_year": 2025},
        },
        "schedule": {"delivery_on": "2022-03-01", "start_by": "2023-03-01", "complete_by": "2024-06-30"},
        "penalties": {"late_payment_permille": 1, "late_start_permille": 1, "late_completion_permille": 0.5,
                      "over_limit_permille": 5, "late_delivery_permille": 1, "shortfall_aggregate": "max",
                      "tax_shortfall": "pay_difference"},
        "clauses": {"extension_notice_days": 30, "extension_max_years": 1},
    }
    for k, v in over.items():
        body[k] = copy.deepcopy(v)
    return body


def register(client, body: dict) -> str:
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    return body["contract_no"]


def post_events(client, no: str, *events: dict, status: int = 201) -> list[dict]:
    r = client.post(f"/v1/contracts/{no}/events", json={"events": list(events)})
    assert r.status_code == status, r.text
    return r.json().get("events", []) if status == 201 else r.json()["detail"]


def performance(client, no: str, as_of: str) -> dict:
    r = client.get(f"/v1/contracts/{no}/performance", params={"as_of": as_of})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "performance" and body["as_of"] == as_of
    return body


def findings(perf: dict, kind: str) -> list[dict]:
    return [f for f in perf["findings"] if f["kind"] == kind]


def one(perf: dict, kind: str) -> dict:
    found = findings(perf, kind)
    assert len(found) == 1, (kind, found)
    return found[0]


def tax_year(perf: dict, year: int) -> dict:
    found = [f for f in findings(perf, "tax_per_mu") if f.get("year") == year]
    assert len(found) == 1, (year, findings(perf, "tax_per_mu"))
    return found[0]


def post_tax(client, batch_id: str, *records: dict, status: int = 201) -> dict:
    r = client.post("/v1/tax-records", json={"batch_id": batch_id, "records": list(records)})
    assert r.status_code == status, r.text
    return r.json()


def tax_record(uscc: str, year: int, paid: Any, refunds: Any = None) -> dict:
    rec = {"uscc": uscc, "year": year, "tax_paid": {"value": paid, "unit": "万元"}}
    if refunds is not None:
        rec["policy_refunds"] = {"value": refunds, "unit": "万元"}
    return rec


def wan(value: Any) -> dict:
    return {"value": value, "unit": "万元"}


def mu(value: Any) -> dict:
    return {"value": value, "unit": "亩"}


def m2(value: Any) -> dict:
    return {"value": value, "unit": "m2"}
