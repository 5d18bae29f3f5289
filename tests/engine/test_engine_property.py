"""The durable engine and the reference evaluator must agree, exactly, everywhere —
including values exactly at thresholds and values a hair off the engine's grid."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.checks import proposal
from app.checks.golden import bundled_registry
from app.engine import REFERENCE, Engine, reference
from app.engine import durable as durable_engine
from app.engine import program as prog
from app.schemas.proposal import ProposalRequest

# The bare durable adapter (the service also cross-checks it against the reference at
# run time; here the two must agree on their own).
DURABLE = Engine(durable_engine.NAME, "bare", durable_engine.evaluate)
REGISTRY = bundled_registry()
NOW = dt.datetime.now(dt.UTC)

grid = st.integers(min_value=0, max_value=5_000_000_000).map(lambda n: Fraction(n, 10**6))


@st.composite
def value_near(draw, t: Fraction):
    """A value exactly at, a grid step or a fraction of a step around, or far from ``t``."""
    kind = draw(st.sampled_from(["at", "step", "sub", "far", "none"]))
    if kind == "at":
        return t
    if kind == "step":
        return max(Fraction(0), t + draw(st.sampled_from([-1, 1])) * Fraction(1, 10**6))
    if kind == "sub":
        d = Fraction(draw(st.integers(1, 999)), 10**6 * draw(st.integers(1000, 10**6)))
        return max(Fraction(0), t + draw(st.sampled_from([-1, 1])) * d)
    if kind == "far":
        return draw(grid)
    return None


@st.composite
def program_and_values(draw):
    n = draw(st.integers(1, 8))
    items, values = [], {}
    for _ in range(n):
        op = draw(st.sampled_from([">=", ">", "<=", "<", "between", "in", "is_true"]))
        slot = f"x{draw(st.integers(0, n - 1))}"
        if op == "is_true":
            t = True
            v = draw(st.sampled_from([Fraction(0), Fraction(1), None]))
        elif op == "between":
            a, b = sorted([draw(grid), draw(grid)])
            t = (a, b)
            v = draw(value_near(draw(st.sampled_from([a, b]))))
        elif op == "in":
            t = tuple(sorted(set(draw(st.lists(grid, min_size=1, max_size=4)))))
            v = draw(value_near(draw(st.sampled_from(t))))
        else:
            t = draw(grid)
            v = draw(value_near(t))
        items.append((slot, op, t))
        if slot not in values or draw(st.booleans()):
            values[slot] = v
    return prog.build(items), values


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program_and_values())
def test_durable_equals_reference_on_random_programs(pv):
    program, values = pv
    assert durable_engine.evaluate(program, values) == reference.evaluate(program, values)


# ---------------------------------------------------------------- whole proposals

THRESHOLDS = {
    # values at and around the bundled thresholds (万元/亩, %, ratio)
    "investment_intensity": [150, 200, 220, 250],
    "tax_per_mu": [8, 15, 20],
    "output_per_mu": [250, 300, 350, 400],
    "plot_ratio": [0.6, 0.7, 1.0, 1.8],
    "building_coefficient": [30, 35, 65],
    "admin_land_share": [7],
    "admin_floor_share": [15],
    "green_ratio": [20],
    "rd_share": [1, 2],
}
PLACES = st.sampled_from(["0", "0.005", "0.004", "0.01", "-0.005", "-0.004", "-0.01", "0.0049999", "-0.0050001"])


@st.composite
def proposals(draw):
    target = draw(st.sampled_from([
        {"jurisdiction": "411200", "industry": {"code": draw(st.sampled_from(["32", "26", "13", "29", "43", "3251"]))}},
        {"ruleset": "beihai-2023gc07007", "industry": {"code": draw(st.sampled_from(["26", "27"]))}},
        {"ruleset": "longchang-standard-land",
         "industry": {"code": draw(st.sampled_from(["glass", "equipment", "food_beverage", "new_materials"])),
                      "classification": "隆府办发〔2022〕58号 产业类别"}},
    ]))
    indicators = {}
    for iid, ts in THRESHOLDS.items():
        if draw(st.integers(0, 9)) == 0:
            continue            # sometimes missing
        base = draw(st.sampled_from(ts))
        from decimal import Decimal
        v = max(Decimal(0), Decimal(str(base)) + Decimal(draw(PLACES)))
        per_mu = ("investment_intensity", "tax_per_mu", "output_per_mu")
        unit = None if iid == "plot_ratio" else "万元/亩" if iid in per_mu else "%"
        if unit == "%" and draw(st.booleans()):
            v, unit = v / 100, "fraction"
        indicators[iid] = {"value": str(v), **({"unit": unit} if unit else {})}
    for flag in ("environment_attested", "construction_conditions_attested"):
        if draw(st.integers(0, 5)):
            indicators[flag] = {"value": draw(st.booleans())}
    return {"as_of": "2024-03-01", "land_area": {"value": draw(st.sampled_from(["90", "102.76", "1"])), "unit": "亩"},
            **target, "indicators": indicators}


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals())
def test_durable_equals_reference_on_random_proposals(body):
    req = ProposalRequest.model_validate(body)
    a = proposal.evaluate(req, REGISTRY, DURABLE, known_at=NOW)
    b = proposal.evaluate(req, REGISTRY, REFERENCE, known_at=NOW)
    assert a["verdict"] == b["verdict"]
    assert a["findings"] == b["findings"]
