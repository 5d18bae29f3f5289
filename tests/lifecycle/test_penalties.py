"""Penalty formulas F1–F8 and the 亩均税收 shortfall options (app.lifecycle.penalties): docs/domain.md.

Money in 万元; rates in ‰ per day (F7: one-off).  Each expected value is worked by hand in a comment.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.lifecycle.penalties import (
    InsufficientDataError,
    MissingRateError,
    Penalty,
    aggregate,
    e,
    f1_late_payment,
    f2_late_start,
    f3_late_completion,
    f4_investment_shortfall,
    f5_below_minimum,
    f6_above_maximum,
    f7_over_limit,
    f8_late_delivery,
    intensity_to_yuan_per_m2,
    investment_terms_consistency,
    m2_to_mu,
    over_limit_items,
    permille,
    s,
    tax_per_mu_shortfall,
    to_output,
    to_output_str,
)

POS = st.fractions(min_value=F(1, 1000), max_value=10**6)
NONNEG = st.fractions(min_value=0, max_value=10**6)


# ------------------------------------------------------------------------------------------ s(), e(), aggregate


def test_shortfall_ratio_boundaries():
    assert s(100, 100) == 0  # exactly the minimum: no shortfall
    assert s(100, 101) == 0  # above the minimum: floored at 0
    assert s(100, 99) == F(1, 100)  # (100 − 99)/100
    assert s("1.2", "0.9") == F(1, 4)  # 0.3/1.2
    assert s(100, 0) == 1
    with pytest.raises(ValueError):
        s(0, 1)  # a minimum of 0 cannot be a divisor


def test_excess_ratio_boundaries():
    assert e(2, 2) == 0  # exactly the maximum: no excess
    assert e(2, "1.5") == 0
    assert e(2, "2.5") == F(1, 4)  # 0.5/2
    assert e(1, 3) == 2  # not capped at 1
    with pytest.raises(ValueError):
        e(0, 1)


def test_aggregate_options():
    ratios = [F(1, 4), F(1, 5)]
    assert aggregate(ratios) == F(1, 4)  # default "max"
    assert aggregate(ratios, "mean") == F(9, 40)  # (1/4 + 1/5)/2 = (5/20 + 4/20)/2
    assert aggregate(ratios, "sum") == F(9, 20)
    with pytest.raises(ValueError):
        aggregate(ratios, "min")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        aggregate([], "max")


def test_none_rate_raises():
    with pytest.raises(MissingRateError, match="blank"):
        permille(None)
    with pytest.raises(MissingRateError):
        f1_late_payment(1200, None, date(2025, 1, 1), date(2025, 2, 15))
    with pytest.raises(MissingRateError):
        f2_late_start(1200, None, date(2025, 1, 1), date(2025, 2, 15))
    with pytest.raises(MissingRateError):
        f3_late_completion(1200, None, date(2025, 1, 1), date(2025, 2, 15), version="GF-2008-2601")
    with pytest.raises(MissingRateError):
        f7_over_limit(1200, None, [])  # even with nothing breached: a blank rate is a contract defect
    with pytest.raises(MissingRateError):
        f8_late_delivery(1200, None, date(2025, 1, 1), date(2025, 2, 15))
    assert issubclass(MissingRateError, ValueError)


def test_inexact_or_bad_numbers_are_refused():
    with pytest.raises(TypeError):
        f1_late_payment(1200.0, 1, date(2025, 1, 1), date(2025, 2, 15))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s(True, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        f1_late_payment("abc", 1, date(2025, 1, 1), date(2025, 2, 15))
    with pytest.raises(ValueError):
        f1_late_payment(-1, 1, date(2025, 1, 1), date(2025, 2, 15))
    with pytest.raises(ValueError):
        permille("-1")
    # exact inputs of every accepted kind agree
    assert permille("0.5") == permille(Decimal("0.5")) == permille(F(1, 2)) == F(1, 2000)


# ------------------------------------------------------------------------------------------ F1


def test_f1_late_payment_amount():
    # 2025-01-01 → 2025-02-15 = 31 + 14 = 45 days; 1200 × 1/1000 × 45 = 54
    p = f1_late_payment("1200", 1, date(2025, 1, 1), date(2025, 2, 15))
    assert isinstance(p, Penalty)
    assert p.amount == 54
    assert p.inputs["overdue"] == "1200" and p.inputs["r_permille"] == "1" and p.inputs["days"] == "45"
    assert "r/1000" in p.formula and "逾期" in p.formula
    assert p.flags == {"rescission_option": False}


def test_f1_due_day_and_next_day():
    assert f1_late_payment(1000, 1, date(2025, 1, 1), date(2025, 1, 1)).amount == 0  # paid on the due day
    assert f1_late_payment(1000, 1, date(2025, 1, 1), date(2025, 1, 2)).amount == 1  # 1000 × 1/1000 × 1
    # 1000 × 0.5/1000 × 10 = 5
    assert f1_late_payment(1000, "0.5", date(2025, 1, 1), date(2025, 1, 11)).amount == 5


def test_f1_rescission_option():
    due = date(2025, 1, 1)
    kw = {"demand_made": True, "still_unpaid": True}
    # 2025-01-01 → 2025-03-02 = 31 + 28 + 1 = 60 days: not "more than 60"
    assert not f1_late_payment(1000, 1, due, date(2025, 3, 2), **kw).flags["rescission_option"]
    # 61 days
    p = f1_late_payment(1000, 1, due, date(2025, 3, 3), **kw)
    assert p.flags["rescission_option"] and p.amount == 61  # 1000 × 1/1000 × 61
    # each condition is needed
    assert not f1_late_payment(1000, 1, due, date(2025, 3, 3), still_unpaid=True).flags["rescission_option"]
    assert not f1_late_payment(1000, 1, due, date(2025, 3, 3), demand_made=True).flags["rescission_option"]
    # a demand dated after the as-of date has not been made yet
    late_demand = f1_late_payment(1000, 1, due, date(2025, 3, 3), demand_date=date(2025, 3, 4), still_unpaid=True)
    assert not late_demand.flags["rescission_option"]
    assert f1_late_payment(1000, 1, due, date(2025, 3, 3), demand_date=date(2025, 2, 1), still_unpaid=True).flags[
        "rescission_option"
    ]
    # threshold is a parameter
    assert f1_late_payment(1000, 1, due, date(2025, 1, 31), rescission_after_days=29, **kw).flags["rescission_option"]


def test_f1_rescission_counted_from_demand():
    due, demand = date(2025, 1, 1), date(2025, 2, 1)
    kw = {"demand_date": demand, "still_unpaid": True, "rescission_count_from": "demand"}
    # 2025-02-01 → 2025-04-02 = 28 + 31 + 1 = 60 days after the demand: not yet
    assert not f1_late_payment(1000, 1, due, date(2025, 4, 2), **kw).flags["rescission_option"]
    assert f1_late_payment(1000, 1, due, date(2025, 4, 3), **kw).flags["rescission_option"]
    with pytest.raises(ValueError):
        f1_late_payment(1000, 1, due, date(2025, 4, 3), demand_made=True, rescission_count_from="demand")


# ------------------------------------------------------------------------------------------ F2


def test_f2_late_start():
    # 2025-06-01 → 2025-06-11 = 10 days; 2000 × 1/1000 × 10 = 20
    p = f2_late_start(2000, 1, date(2025, 6, 1), date(2025, 6, 11))
    assert p.amount == 20
    assert p.inputs["P"] == "2000" and p.inputs["days"] == "10"
    assert f2_late_start(2000, 1, date(2025, 6, 1), date(2025, 6, 1)).amount == 0
    assert f2_late_start(2000, 1, date(2025, 6, 1), date(2025, 6, 2)).amount == 2  # 2000 × 1/1000 × 1


def test_f2_extension_and_idle_flags():
    original = date(2024, 6, 1)
    ok = f2_late_start(2000, 1, date(2025, 6, 1), date(2025, 6, 11), original_start_due=original)
    assert ok.flags["extension_over_limit"] is False  # exactly 1 year: allowed
    assert ok.inputs["extension_limit"] == "2025-06-01"
    too_long = f2_late_start(2000, 1, date(2025, 6, 2), date(2025, 6, 11), original_start_due=original)
    assert too_long.flags["extension_over_limit"] is True
    assert "extension_over_limit" not in f2_late_start(2000, 1, date(2025, 6, 1), date(2025, 6, 11)).flags
    # idle watch: one full year after 2025-06-01 ends on 2026-06-01
    assert not f2_late_start(2000, 1, date(2025, 6, 1), date(2026, 6, 1)).flags["idle_rules_may_apply"]
    p = f2_late_start(2000, 1, date(2025, 6, 1), date(2026, 6, 2))
    assert p.flags["idle_rules_may_apply"]
    assert p.amount == 732  # 366 days × 2000 × 1/1000
    # the years come from the 53号令 document (idle_fee_after_years), passed in: two years → not yet
    two = f2_late_start(2000, 1, date(2025, 6, 1), date(2026, 6, 2), idle_after_years=2)
    assert not two.flags["idle_rules_may_apply"] and two.amount == 732
    assert f2_late_start(2000, 1, date(2025, 6, 1), date(2027, 6, 2), idle_after_years=2).flags["idle_rules_may_apply"]
    # and the extension cap from the contract model (max_extension_years)
    assert not f2_late_start(2000, 1, date(2025, 6, 2), date(2025, 6, 11), original_start_due=original,
                             max_extension_years=2).flags["extension_over_limit"]


# ------------------------------------------------------------------------------------------ F3


def test_f3_version_2008():
    # 2026-12-31 → 2027-01-30 = 30 days; 3000 × 0.5/1000 × 30 = 45
    p = f3_late_completion(3000, "0.5", date(2026, 12, 31), date(2027, 1, 30), version="GF-2008-2601")
    assert p.amount == 45
    assert p.inputs["version"] == "GF-2008-2601"


def test_f3_version_2025():
    # base = 3000 × 2500/10000 = 750; 750 × 0.5/1000 × 30 = 11.25
    p = f3_late_completion(
        3000, "0.5", date(2026, 12, 31), date(2027, 1, 30),
        version="GF-2025-2601", uncompleted_counted_floor=2500, total_counted_floor=10000,
    )
    assert p.amount == F(45, 4)
    assert p.inputs["base"] == "750"
    assert to_output_str(p.amount) == "11.25"
    assert "计容" in p.formula
    # nothing left uncompleted → 0 under 2025 even though late
    zero = f3_late_completion(3000, 1, date(2026, 1, 1), date(2026, 2, 1), version="GF-2025-2601",
                              uncompleted_counted_floor=0, total_counted_floor=10000)
    assert zero.amount == 0


def test_f3_version_errors():
    args = (3000, 1, date(2026, 1, 1), date(2026, 2, 1))
    with pytest.raises(TypeError):
        f3_late_completion(*args)  # type: ignore[call-arg]  # no default version: it is ❓ which one applies
    with pytest.raises(ValueError):
        f3_late_completion(*args, version="2008")  # type: ignore[arg-type]
    with pytest.raises(InsufficientDataError):
        f3_late_completion(*args, version="GF-2025-2601")
    with pytest.raises(ValueError):
        f3_late_completion(*args, version="GF-2025-2601", uncompleted_counted_floor=2, total_counted_floor=1)


# ------------------------------------------------------------------------------------------ F4


def test_f4_investment_shortfall_agg():
    # s_total = (8000 − 6000)/8000 = 1/4; s_int = (3000 − 2400)/3000 = 1/5
    args = (1000, 8000, 6000, 3000, 2400)
    p = f4_investment_shortfall(*args)
    assert p.amount == 250  # max → 1000 × 1/4
    assert p.inputs["s_total"] == "0.25" and p.inputs["s_intensity"] == "0.2" and p.inputs["agg"] == "max"
    assert f4_investment_shortfall(*args, agg="mean").amount == 225  # 1000 × 9/40
    assert f4_investment_shortfall(*args, agg="sum").amount == 450  # 1000 × 9/20
    with pytest.raises(ValueError):
        f4_investment_shortfall(*args, agg="product")  # type: ignore[arg-type]


def test_f4_boundaries():
    assert f4_investment_shortfall(1000, 8000, 8000, 3000, 3000).amount == 0  # exactly the agreed figures
    assert f4_investment_shortfall(1000, 8000, 9000, 3000, 3100).amount == 0  # above: floored
    # one unit short on the total: 1000 × 1/8000 = 1/8
    assert f4_investment_shortfall(1000, 8000, 7999, 3000, 3000).amount == F(1, 8)


def test_investment_terms_consistency():
    # 3000 元/m² × 20000 m² = 6 000 万元 ≠ 8 000 万元 agreed → flag; diff 2000, relative 2000/6000 = 1/3
    c = investment_terms_consistency(8000, 3000, 20000)
    assert not c.consistent
    assert c.implied_total_wan == 6000 and c.difference_wan == 2000 and c.relative_difference == F(1, 3)
    assert investment_terms_consistency(8000, 4000, 20000).consistent  # 4000 × 20000 / 10000 = 8000
    # 200 万元/亩 = 3000 元/m²; 40000 m² (= 60 亩) → 12 000 万元 either way
    assert investment_terms_consistency(12000, 200, 40000, intensity_unit="万元/亩").consistent
    # 8100 vs 8000: relative 100/8000 = 1/80 = 0.0125
    assert not investment_terms_consistency(8100, 4000, 20000, tolerance="0.01").consistent
    assert investment_terms_consistency(8100, 4000, 20000, tolerance="0.02").consistent


def test_intensity_units():
    assert intensity_to_yuan_per_m2(1, "万元/亩") == 15  # 10000 元 / (10000/15 m²)
    assert intensity_to_yuan_per_m2(1, "万元/公顷") == 1
    assert intensity_to_yuan_per_m2(3000, "元/㎡") == 3000
    with pytest.raises(ValueError):
        intensity_to_yuan_per_m2(1, "元/亩")


# ------------------------------------------------------------------------------------------ F5


def test_f5_below_minimum():
    # plot ratio: (1.2 − 0.9)/1.2 = 1/4; density: (0.40 − 0.36)/0.40 = 1/10
    items = {"plot_ratio": ("1.2", "0.9"), "building_density": ("0.40", "0.36")}
    p = f5_below_minimum(1000, items)
    assert p.amount == 250  # max → 1000 × 1/4
    assert p.inputs["plot_ratio.s"] == "0.25" and p.inputs["building_density.s"] == "0.1"
    assert f5_below_minimum(1000, items, agg="mean").amount == 175  # 1000 × (1/4 + 1/10)/2 = 1000 × 7/40
    assert f5_below_minimum(1000, items, agg="sum").amount == 350  # 1000 × 7/20


def test_f5_boundaries():
    assert f5_below_minimum(1000, {"plot_ratio": ("1.2", "1.2")}).amount == 0
    # one indicator alone triggers it: (0.40 − 0.39)/0.40 = 1/40 → 25
    assert f5_below_minimum(1000, {"plot_ratio": ("1.2", "1.5"), "building_density": ("0.40", "0.39")}).amount == 25
    with pytest.raises(ValueError):
        f5_below_minimum(1000, {})
    with pytest.raises(ValueError):
        f5_below_minimum(1000, {"plot_ratio": ("1.2",)})  # type: ignore[dict-item]


# ------------------------------------------------------------------------------------------ F6


def test_f6_above_maximum_and_excess_floor_area():
    # plot ratio: (2.5 − 2.0)/2.0 = 1/4 → 1000 × 1/4 = 250; density at exactly its max: 0
    # excess counted floor area = 25000 − 2.0 × 10000 = 5000 m²
    p = f6_above_maximum(
        1000, {"plot_ratio": ("2.0", "2.5"), "building_density": ("0.6", "0.6")},
        counted_floor_area=25000, site_area=10000,
    )
    assert p.amount == 250
    assert p.flags == {"reclaim_excess_area": True}
    assert p.inputs["excess_counted_floor_area"] == "5000"
    assert p.inputs["building_density.e"] == "0"


def test_f6_boundaries():
    at_max = f6_above_maximum(1000, {"plot_ratio": ("2.0", "2.0")}, counted_floor_area=20000, site_area=10000)
    assert at_max.amount == 0 and not at_max.flags["reclaim_excess_area"]
    assert at_max.inputs["excess_counted_floor_area"] == "0"
    below = f6_above_maximum(1000, {"plot_ratio": ("2.0", "1.5")}, counted_floor_area=15000, site_area=10000)
    assert below.inputs["excess_counted_floor_area"] == "0"  # floored, not −5000
    # mean of e = 1/4 and e = (0.66 − 0.6)/0.6 = 1/10 → 7/40 → 175
    assert f6_above_maximum(1000, {"plot_ratio": ("2.0", "2.5"), "building_density": ("0.6", "0.66")}, agg="mean").amount == 175
    with pytest.raises(ValueError):
        f6_above_maximum(1000, {"building_density": ("0.6", "0.7")}, counted_floor_area=1, site_area=1)  # no plot_ratio
    with pytest.raises(ValueError):
        f6_above_maximum(1000, {"plot_ratio": ("2.0", "2.5")}, counted_floor_area=25000)  # site area missing
    custom = f6_above_maximum(1000, {"far": ("2", "3")}, counted_floor_area=30000, site_area=10000, far_key="far")
    assert custom.inputs["excess_counted_floor_area"] == "10000"  # 30000 − 2 × 10000


# ------------------------------------------------------------------------------------------ F7


def test_f7_over_limit_modes():
    # once: 1000 × 2/1000 = 2, whatever the number of items
    assert f7_over_limit(1000, 2, ["green_ratio"]).amount == 2
    once = f7_over_limit(1000, 2, ["green_ratio", "admin_land_share"])
    assert once.amount == 2 and once.flags == {"demolish_excess": True}
    # per_item: × 2 items = 4
    assert f7_over_limit(1000, 2, ["green_ratio", "admin_land_share"], mode="per_item").amount == 4
    # duplicates count once: 1000 × 2/1000 × 1
    assert f7_over_limit(1000, 2, ["green_ratio", "green_ratio"], mode="per_item").amount == 2
    with pytest.raises(ValueError):
        f7_over_limit(1000, 2, ["x"], mode="daily")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        f7_over_limit(1000, 2, "green_ratio")


def test_f7_nothing_breached():
    for mode in ("once", "per_item"):
        p = f7_over_limit(1000, 2, [], mode=mode)
        assert p.amount == 0 and p.flags == {"demolish_excess": False}


def test_over_limit_items():
    limits = {"green_ratio": "0.20", "admin_land_share": "0.07", "admin_floor_area": 1500}
    actuals = {"green_ratio": "0.20", "admin_land_share": "0.08", "admin_floor_area": 1600}
    assert over_limit_items(limits, actuals) == ["admin_land_share", "admin_floor_area"]  # 0.20 ≤ 0.20 passes
    with pytest.raises(InsufficientDataError):
        over_limit_items(limits, {"green_ratio": "0.1"})
    # feeds F7: 2 items per_item at 1‰ of 1000 = 2
    assert f7_over_limit(1000, 1, over_limit_items(limits, actuals), mode="per_item").amount == 2


# ------------------------------------------------------------------------------------------ F8


def test_f8_late_delivery():
    # 2025-03-01 → 2025-03-21 = 20 days; 500 × 1/1000 × 20 = 10
    p = f8_late_delivery(500, 1, date(2025, 3, 1), date(2025, 3, 21))
    assert p.amount == 10
    assert p.inputs["paid_amount"] == "500" and p.inputs["days"] == "20"
    assert p.flags["rescission_option_transferee"] is False
    assert p.flags["supports_government_delay_defence"] is True
    on_time = f8_late_delivery(500, 1, date(2025, 3, 1), date(2025, 3, 1))
    assert on_time.amount == 0 and not on_time.flags["supports_government_delay_defence"]


def test_f8_rescission_after_demand():
    due, demand = date(2025, 3, 1), date(2025, 4, 1)
    kw = {"demand_date": demand, "still_undelivered": True}
    # 2025-04-01 → 2025-05-31 = 30 + 30 = 60 days after the demand: not yet
    assert not f8_late_delivery(500, 1, due, date(2025, 5, 31), **kw).flags["rescission_option_transferee"]
    p = f8_late_delivery(500, 1, due, date(2025, 6, 1), **kw)  # 61 days after the demand
    assert p.flags["rescission_option_transferee"]
    assert p.amount == 46  # 2025-03-01 → 2025-06-01 = 31 + 30 + 31 = 92 days; 500 × 1/1000 × 92
    # delivered (no longer outstanding) → no option
    assert not f8_late_delivery(500, 1, due, date(2025, 6, 1), demand_date=demand).flags["rescission_option_transferee"]
    # counting from the due date instead: 2025-03-01 → 2025-05-01 = 61 days
    assert f8_late_delivery(500, 1, due, date(2025, 5, 1), rescission_count_from="due", **kw).flags[
        "rescission_option_transferee"
    ]


# ------------------------------------------------------------------------------------------ 亩均税收 shortfall


def test_tax_shortfall_options():
    # committed 15 万元/亩, actual 12 万元/亩, 60 亩, P = 1000 万元
    pay = tax_per_mu_shortfall("pay_difference", committed_tpm=15, actual_tpm=12, area_mu=60)
    assert pay.amount == 180  # (15 − 12) × 60
    assert pay.flags == {"shortfall": True}
    assert tax_per_mu_shortfall("make_up", committed_tpm=15, actual_tpm=12, area_mu=60).amount == 180
    prop = tax_per_mu_shortfall("proportional", committed_tpm=15, actual_tpm=12, P=1000)
    assert prop.amount == 200  # 1000 × 3/15
    none = tax_per_mu_shortfall("none", committed_tpm=15, actual_tpm=12)
    assert none.amount == 0 and none.flags == {"shortfall": True}


def test_tax_shortfall_boundaries_and_errors():
    met = tax_per_mu_shortfall("pay_difference", committed_tpm=15, actual_tpm=15, area_mu=60)
    assert met.amount == 0 and not met.flags["shortfall"]
    assert tax_per_mu_shortfall("pay_difference", committed_tpm=15, actual_tpm=20, area_mu=60).amount == 0  # floored
    # a fractional case: (15 − 14.5) × 33.3 = 16.65
    assert tax_per_mu_shortfall("pay_difference", committed_tpm=15, actual_tpm="14.5", area_mu="33.3").amount == F("16.65")
    with pytest.raises(InsufficientDataError):
        tax_per_mu_shortfall("pay_difference", committed_tpm=15, actual_tpm=None, area_mu=60)  # missing ≠ zero tax
    with pytest.raises(InsufficientDataError):
        tax_per_mu_shortfall("pay_difference", committed_tpm=15, actual_tpm=12)
    with pytest.raises(InsufficientDataError):
        tax_per_mu_shortfall("proportional", committed_tpm=15, actual_tpm=12)
    with pytest.raises(ValueError):
        tax_per_mu_shortfall("penalty", committed_tpm=15, actual_tpm=12)  # type: ignore[arg-type]
    assert m2_to_mu(40000) == 60  # 40000 × 15/10000


# ------------------------------------------------------------------------------------------ output


def test_to_output_rounding():
    assert to_output(F(12345, 1000)) == Decimal("12.35")  # 12.345 half-up
    assert to_output(F(12345, 1000), rounding=ROUND_HALF_EVEN) == Decimal("12.34")
    assert to_output(F(12345, 1000), rounding=ROUND_HALF_DOWN) == Decimal("12.34")
    assert to_output(F(12349, 1000), rounding=ROUND_DOWN) == Decimal("12.34")
    assert to_output(F(-12345, 1000)) == Decimal("-12.35")  # half-up = ties away from zero, as in decimal
    assert to_output(F(2, 3)) == Decimal("0.67")
    assert to_output(F(1, 3), places=4) == Decimal("0.3333")
    assert to_output(F(5, 2), places=0) == Decimal("3")
    assert to_output_str(F(12345, 100)) == "123.45"
    assert to_output_str(F(0)) == "0.00"
    assert to_output_str(F(54)) == "54.00"
    assert to_output_str(F(10**30)) == "1" + "0" * 30 + ".00"  # never exponent form
    # a value a hair below the tie is rounded down (no limited-precision division on the way)
    assert to_output(F(5, 1000) - F(1, 10**60)) == Decimal("0.00")
    with pytest.raises(ValueError):
        to_output(F(1), places=-1)
    with pytest.raises(ValueError):
        to_output(F(1), rounding="ROUND_SOMETIMES")


def test_penalty_to_dict_is_json_ready():
    p = f3_late_completion(3000, "0.5", date(2026, 12, 31), date(2027, 1, 30), version="GF-2025-2601",
                           uncompleted_counted_floor=1, total_counted_floor=3)
    # base = 3000/3 = 1000; 1000 × 0.5/1000 × 30 = 15
    d = p.to_dict()
    assert d["amount"] == "15.00" and d["amount_exact"] == "15"
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    third = f5_below_minimum(1000, {"plot_ratio": ("3", "2")})  # 1000 × 1/3
    assert third.to_dict()["amount"] == "333.33" and third.to_dict()["amount_exact"] == "1000/3"
    assert third.inputs["plot_ratio.s"] == "1/3"
    assert third.amount_output(places=3) == Decimal("333.333")


# ------------------------------------------------------------------------------------------ properties


@given(POS, NONNEG)
def test_s_within_unit_interval(minimum, actual):
    assert 0 <= s(minimum, actual) <= 1


@given(POS, POS)
def test_e_nonnegative_and_bounded_up_to_twice_the_max(maximum, actual):
    r = e(maximum, actual)
    assert r >= 0
    if actual <= 2 * maximum:
        assert r <= 1


@given(st.lists(NONNEG, min_size=1, max_size=5))
def test_aggregate_order(ratios):
    assert aggregate(ratios, "mean") <= aggregate(ratios, "max") <= aggregate(ratios, "sum")


@given(NONNEG, st.fractions(min_value=0, max_value=10), st.dates(), st.dates())
def test_f1_amount_nonnegative_and_linear_in_days(overdue, r, due, paid):
    p = f1_late_payment(overdue, r, due, paid)
    assert p.amount >= 0
    assert p.amount == overdue * r / 1000 * max(0, (paid - due).days)


@given(NONNEG, st.fractions(min_value=0, max_value=10), st.lists(st.sampled_from(["green", "admin_land", "admin_floor"])))
def test_f7_per_item_never_below_once(P, r, items):
    assert f7_over_limit(P, r, items, mode="per_item").amount >= f7_over_limit(P, r, items, mode="once").amount


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=0, max_value=6),
       st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_DOWN]))
def test_to_output_matches_decimal_quantize(n, k, rounding):
    exact = Decimal(n).scaleb(-k)
    assert to_output(F(n, 10**k), 2, rounding) == exact.quantize(Decimal("0.01"), rounding=rounding)
