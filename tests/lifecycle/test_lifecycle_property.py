"""The performance audit gives identical findings under the durable engine and the
reference evaluator, on random contract timelines — including dates exactly on
deadlines and anniversaries and ratios exactly at 1/3 and 25 %."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.checks.golden import bundled_registry
from app.checks.performance import audit
from app.engine import REFERENCE, Engine, durable
from app.schemas.contract import ContractRequest
from indicators.identifiers import synthetic_uscc

REGISTRY = bundled_registry()
# The bare durable adapter, without the service's reference cross-check, so that this
# test compares two independent evaluations.
DURABLE = Engine(durable.NAME, "bare", durable.evaluate)
NOW = dt.datetime.now(dt.UTC)
START = dt.date(2023, 3, 1)
USCC = synthetic_uscc()

days = st.integers(min_value=-400, max_value=1200)


def _contract(draw) -> ContractRequest:
    return ContractRequest.model_validate({
        "contract_no": "P-1", "model": draw(st.sampled_from(["GF-2008-2601", "GF-2025-2601"])),
        "transferee": {"name": "x", "uscc": USCC}, "jurisdiction": "411202", "industry": {"code": "38"},
        "signed_on": "2023-01-10", "land_area": {"value": 30, "unit": "亩"},
        "land_price": draw(st.sampled_from([None, {"value": 1200, "unit": "万元"}])),
        "commitments": {"fixed_asset_investment": {"value": 9000, "unit": "万元"},
                        "plot_ratio": {"min": 1.2, "max": 2.0}, "building_coefficient": {"min": 40, "unit": "%"},
                        "green_ratio": {"max": 15, "unit": "%"}, "admin_land_share": {"max": 7, "unit": "%"},
                        "tax_per_mu": {"value": 20, "unit": "万元/亩", "from_year": 2024}},
        "schedule": {"delivery_on": "2022-03-01", "start_by": START.isoformat(), "complete_by": "2024-06-30"},
        "penalties": {"late_payment_permille": 1, "late_start_permille": draw(st.sampled_from([None, 1])),
                      "late_completion_permille": 0.5, "over_limit_permille": 5, "late_delivery_permille": 1,
                      "shortfall_aggregate": draw(st.sampled_from(["max", "mean"])), "tax_shortfall": "pay_difference"},
    })


@st.composite
def timelines(draw):
    c = _contract(draw)
    events, n = [], 0

    def add(body):
        nonlocal n
        n += 1
        events.append({**body, "id": f"e{n}", "recorded_at": NOW.isoformat()})

    on = lambda k: (START + dt.timedelta(days=k)).isoformat()  # noqa: E731
    if draw(st.booleans()):
        add({"type": "delivered", "on": on(draw(days) // 3)})
    if draw(st.booleans()):
        add({"type": "extension_approved", "on": on(-20), "new_start_by": on(draw(st.integers(1, 365)))})
    if draw(st.booleans()):
        add({"type": "government_delay", "on": on(draw(days)), "cause": "plan_change",
             **({"new_start_by": on(draw(st.integers(1, 700)))} if draw(st.booleans()) else {})})
    started = draw(st.booleans())
    if started:
        add({"type": "started", "on": on(draw(days))})
        third = Decimal(draw(st.sampled_from(["1", "0.999999", "1.000001", "0.5", "2"])))
        add({"type": "progress", "on": on(draw(days)), "suspended_since": on(draw(days)),
             "developed_area": {"value": str(Decimal(3000) * third), "unit": "m2"},
             "area_to_develop": {"value": "9000", "unit": "m2"},
             "invested": {"value": str(Decimal(1500) * third), "unit": "万元"},
             "total_investment": {"value": "2400", "unit": "万元"}, "land_price_included": True})
    if draw(st.booleans()):
        ratio = draw(st.sampled_from(["1", "0.9", "1.1"]))
        add({"type": "completion_accepted", "on": on(draw(days)),
             "fixed_asset_investment": {"value": str(9000 * Decimal(ratio)), "unit": "万元"},
             "total_floor_area": {"value": str(draw(st.sampled_from([24000, 23999, 40000, 40001]))), "unit": "m2"},
             "building_footprint": {"value": str(draw(st.sampled_from([8000, 7999]))), "unit": "m2"},
             "green_area": {"value": str(draw(st.sampled_from([3000, 3001]))), "unit": "m2"}})
    if draw(st.booleans()):
        add({"type": "payment", "on": on(draw(days) // 4), "due_on": on(-30), "amount": {"value": "1200", "unit": "万元"}})
    records = {2024: {"tax_paid": Decimal(draw(st.sampled_from(["600", "599.99", "540"]))),
                      "policy_refunds": Decimal(draw(st.sampled_from(["0", "60"]))), "batch_id": "b", "pk": 1}}
    as_of = START + dt.timedelta(days=draw(st.integers(-100, 1500)))
    return c, events, as_of, records


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timelines())
def test_durable_and_reference_audits_agree(t):
    c, events, as_of, records = t
    kw = {"tax_records": records, "registry": REGISTRY, "known_at": NOW}
    a = audit(c, events, as_of, DURABLE, **kw)
    b = audit(c, events, as_of, REFERENCE, **kw)
    assert a["findings"] == b["findings"]
    assert a["verdict"] == b["verdict"]
