"""The 53号令 Art. 12 plan caps come from the 53号令 document (rules/lifecycle/idle-land-53.yaml
``disposal_options[].cap_years`` / ``runs_from``), and so do the numbers in their messages and in
the measure labels.  Checked with the bundled document and with a variant that sets other caps:
temporary use from 2025-01-01 ends 2027-01-01 under a 2-year cap, 2028-01-01 under a 3-year one."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from types import SimpleNamespace

import pytest

from app.checks.parks.plans import check_plan, measures, statutory_caps
from app.core.errors import InputError
from app.lifecycle.law import IdleLandLaw, idle_land_law
from app.schemas.parks import PlanIn

BARE = SimpleNamespace(supply_status="approved_unsupplied")      # a parcel row: check_plan reads only this field
GOV = {"type": "government", "government_cause": "late_delivery"}


def plan(**over) -> PlanIn:
    body = {"as_of": "2025-01-10", "categories": ["approved_unsupplied"], "cause": GOV, "measure": "temporary_use",
            "cap_from": "2025-01-01", "deadline": "2027-01-01",
            "responsible": {"lead_unit": "三门峡市自然资源和规划局", "person": "张三"}, "progress": {"status": "planned"}}
    return PlanIn.model_validate({**body, **over})


def variant(caps: dict[str, int], fee_share: str = "0.3") -> IdleLandLaw:
    law = idle_land_law()
    options = tuple({**o, "cap_years": caps[o["measure"]]} if o["measure"] in caps else o for o in law.disposal_options)
    return dataclasses.replace(law, disposal_options=options, idle_fee_share_of_price=Fraction(fee_share))


def messages(e: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.path: p.msg for p in e.value.problems}


def test_bundled_caps_are_the_documents():
    caps = statutory_caps(idle_land_law())
    assert {m: (c.years, c.months, c.article) for m, c in caps.items()} == {
        "extend_start": (1, 12, "第十二条（一）"), "temporary_use": (2, 24, "第十二条（三）")}
    assert caps["temporary_use"].runs_from == "自安排临时使用之日起"
    labels = measures(idle_land_law())
    assert labels["extend_start"] == "延长动工开发期限（不超过一年）"
    assert labels["temporary_use"] == "安排临时使用（不超过两年）"
    assert labels["idle_fee"] == "征收土地闲置费（出让价款 20%）"


def test_temporary_use_cap_follows_the_document():
    cap = check_plan(plan(), BARE, None, [], idle_land_law())
    assert (cap["limit"], cap["months"]) == ("2027-01-01", 24)
    with pytest.raises(InputError) as e:
        check_plan(plan(deadline="2027-06-30"), BARE, None, [], idle_land_law())
    assert "53号令第十二条（三）：临时使用不超过2年" in messages(e)["deadline"]
    assert "at most 24 months" in messages(e)["deadline"]

    law3 = variant({"temporary_use": 3, "extend_start": 2})
    cap = check_plan(plan(deadline="2027-06-30"), BARE, None, [], law3)      # allowed under a 3-year cap
    assert (cap["limit"], cap["months"], cap["why"]) == ("2028-01-01", 36, "53号令第十二条（三）：临时使用不超过3年")
    with pytest.raises(InputError) as e:
        check_plan(plan(deadline="2028-01-02"), BARE, None, [], law3)
    assert "临时使用不超过3年" in messages(e)["deadline"] and "at most 36 months" in messages(e)["deadline"]

    # The government-caused extension: at most cap_years from the agreed start date (cap_from).
    ext = plan(measure="extend_start", cap_from="2024-05-01", deadline="2026-05-01")
    with pytest.raises(InputError) as e:
        check_plan(ext, BARE, None, [], idle_land_law())
    assert "自补充协议约定的动工开发日期起延长不超过1年" in messages(e)["deadline"]
    cap = check_plan(ext, BARE, None, [], law3)
    assert (cap["limit"], cap["months"]) == ("2026-05-01", 24)
    assert cap["why"] == "53号令第十二条（一）：自补充协议约定的动工开发日期起延长不超过2年"

    labels = measures(law3)
    assert (labels["extend_start"], labels["temporary_use"], labels["idle_fee"]) == (
        "延长动工开发期限（不超过两年）", "安排临时使用（不超过三年）", "征收土地闲置费（出让价款 30%）")


def test_a_measure_without_cap_years_has_no_cap():
    law = idle_land_law()
    no_temp = dataclasses.replace(law, disposal_options=tuple(
        {k: v for k, v in o.items() if k != "cap_years"} if o["measure"] == "temporary_use" else o
        for o in law.disposal_options))
    assert "temporary_use" not in statutory_caps(no_temp)
    assert check_plan(plan(deadline="2035-01-01"), BARE, None, [], no_temp) == {}
