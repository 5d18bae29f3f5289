"""Idle land under 53号令 (《闲置土地处置办法》), through GET /v1/contracts/{no}/performance:
the ``idle_land`` finding and its ``state``.

Dates follow the Civil Code (民法典 Art. 201–202, docs/domain.md): the start date is not
counted; "满一年" ends on the anniversary (29 Feb → 28 Feb), and the land is idle for
≥ n years only from the day AFTER the n-th anniversary.  No holiday roll-over.
Idle fee = 20 % × P = 20 % × 1200 = 240.00 万元.
"""

from __future__ import annotations

import pytest

from tests.contract_factory import base_contract, m2, mu, one, performance, post_events, register, wan

PAID = {"type": "payment", "on": "2022-02-01", "due_on": "2022-02-01", "amount": wan(1200)}
DELIVERED = {"type": "delivered", "on": "2022-03-01"}
STARTED = {"type": "started", "on": "2023-03-01"}


def idle(client, no: str, as_of: str) -> dict:
    f = one(performance(client, no, as_of), "idle_land")
    assert f["kind"] == "idle_land"
    return f


def assert_not_idle(f: dict) -> None:
    assert (f["state"], f["status"], f["amount"]) == ("not_idle", "pass", None), f


def assert_idle_fee(f: dict, state: str) -> None:
    # 20 % × 1200 = 240.00
    assert (f["state"], f["status"], f["amount"]) == (state, "fail", "240.00"), f
    assert f["proposals"] == ["idle_fee"]
    assert f["formula"] and f["inputs"]["P"] == "1200" and f["inputs"]["share"] == "0.2"
    assert f["cite"]["number"] == "国土资源部令第53号"


def not_started(client, uid: str, n: int = 0, **over) -> str:
    no = register(client, base_contract(uid, n, **over))
    post_events(client, no, PAID, DELIVERED)
    return no


# ---------------------------------------------------------------- not started: 1 and 2 full years

@pytest.mark.parametrize(("as_of", "state"), [
    ("2024-02-29", "not_idle"),      # inside the first year
    ("2024-03-01", "not_idle"),      # 1st anniversary of start_by 2023-03-01: the year ends at 24:00
    ("2024-03-02", "idle_1y"),       # the next day: more than one full year
    ("2025-03-01", "idle_1y"),       # 2nd anniversary: still only idle_1y
    ("2025-03-02", "idle_2y"),       # the next day: two full years → free reclaim
])
def test_not_started_anniversaries(client, uid, as_of, state):
    no = not_started(client, uid)
    f = idle(client, no, as_of)
    assert f["state"] == state, f
    assert f["inputs"]["start_due"] == "2023-03-01"
    if state == "not_idle":
        assert_not_idle(f)
        assert f["inputs"]["anniversary_1y"] == "2024-03-01"
    elif state == "idle_1y":
        assert_idle_fee(f, "idle_1y")
    else:
        assert (f["status"], f["amount"], f["proposals"]) == ("fail", None, ["free_reclaim"]), f
        assert f["inputs"]["anniversary_2y"] == "2025-03-01"


def test_idle_fee_adds_to_the_late_start_penalty(client, uid):
    no = not_started(client, uid)
    perf = performance(client, no, "2024-03-02")
    # late start also accrues: 2023-03-01 → 2024-03-02 = 367 days (2024 is a leap year),
    # 1200 × 1/1000 × 367 = 440.40; plus the idle fee 240.00 → 680.40 in all
    assert one(perf, "late_start")["amount"] == "440.40"
    assert one(perf, "late_start")["flags"]["idle_rules_may_apply"] is True
    assert perf["amount_total"] == "680.40"


LEAP = {"signed_on": "2027-12-01", "supervision_no": "4112022027B00001",
        "schedule": {"delivery_on": "2028-01-15", "start_by": "2028-02-29", "complete_by": "2029-12-31"}}


@pytest.mark.parametrize(("as_of", "state"), [
    ("2029-02-28", "not_idle"),      # 2028-02-29 + 1 year clamps to 2029-02-28 (Art. 202)
    ("2029-03-01", "idle_1y"),
    ("2030-02-28", "idle_1y"),       # 2nd anniversary, also clamped
    ("2030-03-01", "idle_2y"),
])
def test_leap_day_start_date(client, uid, as_of, state):
    body = base_contract(uid, **LEAP)
    body["commitments"]["tax_per_mu"]["from_year"] = 2030
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["check"]["verdict"] == "pass"       # Sanmenxia (no effective_to) is in force in 2027
    no = body["contract_no"]
    post_events(client, no, {"type": "payment", "on": "2028-01-10", "due_on": "2028-01-10", "amount": wan(1200)},
                {"type": "delivered", "on": "2028-01-15"})
    f = idle(client, no, as_of)
    assert f["state"] == state, f
    assert f["inputs"]["anniversary_1y"] == "2029-02-28"
    assert f["inputs"]["anniversary_2y"] == "2030-02-28"
    if state == "idle_1y":
        assert_idle_fee(f, "idle_1y")


def test_approved_extension_moves_the_idle_clock(client, uid):
    no = not_started(client, uid)
    post_events(client, no, {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2023-09-01"})
    # without the extension 2024-06-01 would be idle_1y (anniversary 2024-03-01)
    assert_not_idle(idle(client, no, "2024-06-01"))
    assert_not_idle(idle(client, no, "2024-09-01"))        # 1st anniversary of the extended date
    assert_idle_fee(idle(client, no, "2024-09-02"), "idle_1y")


def test_start_date_unknown_is_insufficient_data(client, uid):
    body = base_contract(uid)
    del body["schedule"]["start_by"]
    no = register(client, body)
    f = idle(client, no, "2025-01-01")
    assert (f["status"], f["state"]) == ("insufficient_data", None)
    assert f["missing"] == ["schedule.start_by"]


def test_started_land_is_not_idle(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, PAID, DELIVERED, STARTED)
    assert_not_idle(idle(client, no, "2026-01-01"))


# ---------------------------------------------------------------- started but stalled

def stalled_case(client, uid: str, *, suspended_since: str = "2023-05-01", **progress) -> str:
    no = register(client, base_contract(uid))
    post_events(client, no, PAID, DELIVERED, STARTED,
                {"type": "progress", "on": "2024-06-01", "suspended_since": suspended_since, **progress})
    return no


def test_developed_exactly_one_third_and_invested_exactly_25_percent_is_not_stalled(client, uid):
    # suspended 2023-05-01 → anniversary 2024-05-01 < 2024-06-01: halted more than a year.
    # developed 10/30 = 1/3 exactly: not "不足" 1/3.
    # investment gross of the land price: (1500 − 1200)/(2400 − 1200) = 300/1200 = 25 % exactly: not short.
    no = stalled_case(client, uid, developed_area=mu(10), area_to_develop=mu(30),
                      invested=wan(1500), total_investment=wan(2400), land_price_included=True)
    f = idle(client, no, "2024-06-01")
    assert_not_idle(f)
    assert f["inputs"]["developed"] == "10" and f["inputs"]["area_to_develop"] == "30"
    assert f["inputs"]["invested_excluding_land_price"] == "300"
    assert f["inputs"]["total_investment_excluding_land_price"] == "1200"


def test_developed_exactly_one_third_in_square_metres_is_not_stalled(client, uid):
    # 10000 m² of 30000 m² = 1/3 (15 亩 of 45 亩), exact in 亩 as well; invested 600/2400 = 25 %
    no = stalled_case(client, uid, developed_area=m2(10000), area_to_develop=m2(30000),
                      invested=wan(600), total_investment=wan(2400))
    assert_not_idle(idle(client, no, "2024-06-01"))


def test_developed_a_hair_below_one_third_is_stalled(client, uid):
    # 9.9999/30 < 1/3; investment 25 % (not short) — one short ratio is enough
    no = stalled_case(client, uid, developed_area=mu("9.9999"), area_to_develop=mu(30),
                      invested=wan(1500), total_investment=wan(2400), land_price_included=True)
    f = idle(client, no, "2024-06-01")
    assert_idle_fee(f, "stalled")
    assert "三分之一" in f["message"]


def test_invested_below_25_percent_excluding_land_price_is_stalled(client, uid):
    # (1499.99 − 1200)/(2400 − 1200) = 299.99/1200 < 25 %; developed 1/3 exactly (not short)
    no = stalled_case(client, uid, developed_area=mu(10), area_to_develop=mu(30),
                      invested=wan("1499.99"), total_investment=wan(2400), land_price_included=True)
    f = idle(client, no, "2024-06-01")
    assert_idle_fee(f, "stalled")
    assert "25%" in f["message"]
    assert f["inputs"]["invested_excluding_land_price"] == "299.99"


def test_gross_figures_would_hide_the_shortfall(client, uid):
    """1500/2400 = 62.5 % gross, but only 300/1200 = 25 % net: with land_price_included the
    land price is taken out; here 1400 gross → (1400 − 1200)/1200 = 16.7 % < 25 %."""
    no = stalled_case(client, uid, developed_area=mu(10), area_to_develop=mu(30),
                      invested=wan(1400), total_investment=wan(2400), land_price_included=True)
    assert idle(client, no, "2024-06-01")["state"] == "stalled"


def test_halted_exactly_one_year_is_not_yet_stalled(client, uid):
    # suspended 2023-06-01: the anniversary 2024-06-01 is still inside the year
    no = stalled_case(client, uid, suspended_since="2023-06-01", developed_area=mu(1), area_to_develop=mu(30),
                      invested=wan(1250), total_investment=wan(2400), land_price_included=True)
    assert_not_idle(idle(client, no, "2024-06-01"))
    assert idle(client, no, "2024-06-02")["state"] == "stalled"


def test_stalled_two_full_years_proposes_free_reclaim(client, uid):
    no = stalled_case(client, uid, developed_area=mu(1), area_to_develop=mu(30))
    # suspended 2023-05-01: 2nd anniversary 2025-05-01; on 2025-05-02 two full years
    f = idle(client, no, "2025-05-02")
    assert (f["state"], f["status"], f["proposals"], f["amount"]) == ("stalled", "fail", ["free_reclaim"], None)
    assert_idle_fee(idle(client, no, "2025-05-01"), "stalled")


def test_stalled_without_any_ratio_data_is_insufficient_data(client, uid):
    no = stalled_case(client, uid)
    f = idle(client, no, "2024-06-01")
    assert (f["status"], f["state"], f["amount"]) == ("insufficient_data", None, None)
    assert f["missing"] == ["progress.developed_area / area_to_develop", "progress.invested / total_investment"]


def test_one_ratio_not_short_and_the_other_unknown_is_insufficient_data(client, uid):
    """Stalled = halted ≥ 1 year AND (developed < 1/3 OR invested < 25 %).  Developed is
    exactly 1/3 (not short) but no investment figures were reported: the OR may still hold,
    so the answer is unknown — insufficient_data naming the investment, never 'not idle'."""
    no = stalled_case(client, uid, developed_area=mu(10), area_to_develop=mu(30))
    f = idle(client, no, "2024-06-01")
    assert f["status"] == "insufficient_data", f
    assert f["missing"] == ["progress.invested / total_investment"]


def test_land_price_included_without_a_contract_price_cannot_judge_investment(client, uid):
    body = base_contract(uid)
    del body["land_price"]
    no = register(client, body)
    post_events(client, no, DELIVERED, STARTED,
                {"type": "progress", "on": "2024-06-01", "suspended_since": "2023-05-01",
                 "developed_area": mu(1), "area_to_develop": mu(30),
                 "invested": wan(1500), "total_investment": wan(2400), "land_price_included": True})
    f = idle(client, no, "2024-06-01")
    # developed 1/30 < 1/3 → stalled, but the 20 % fee needs the price: no amount, "land_price" missing
    assert (f["state"], f["status"], f["amount"]) == ("stalled", "fail", None)
    assert f["missing"] == ["land_price"]


# ---------------------------------------------------------------- government-caused delay

def test_government_delay_without_new_date_is_government_caused(client, uid):
    no = not_started(client, uid)
    post_events(client, no, {"type": "government_delay", "on": "2023-02-15", "cause": "plan_change",
                             "document": "规划调整通知"})
    f = idle(client, no, "2024-06-01")
    assert (f["state"], f["status"], f["amount"]) == ("government_caused", "not_applicable", None)
    assert "extend_start_by_max_1_year" in f["proposals"]
    assert "free_reclaim" not in f["proposals"] and "idle_fee" not in f["proposals"]
    assert f["inputs"]["causes"] == "plan_change"
    # also after two full years: still negotiated disposal, never free reclaim
    assert idle(client, no, "2025-06-01")["state"] == "government_caused"


def test_government_delay_with_new_start_date_restarts_the_clock(client, uid):
    no = not_started(client, uid)
    post_events(client, no, {"type": "government_delay", "on": "2023-02-15", "cause": "plan_change",
                             "new_start_by": "2024-01-01"})
    # without the delay 2024-06-01 would be idle_1y (anniversary 2024-03-01)
    f = idle(client, no, "2024-06-01")
    assert_not_idle(f)
    assert f["inputs"]["start_due"] == "2024-01-01"
    assert_not_idle(idle(client, no, "2025-01-01"))        # 1st anniversary of the new date
    assert_idle_fee(idle(client, no, "2025-01-02"), "idle_1y")
    assert idle(client, no, "2026-01-02")["state"] == "idle_2y"


def test_government_delay_during_a_stall_is_government_caused(client, uid):
    no = stalled_case(client, uid, developed_area=mu(1), area_to_develop=mu(30))
    post_events(client, no, {"type": "government_delay", "on": "2023-06-01", "cause": "policy_change"})
    f = idle(client, no, "2024-06-01")
    assert (f["state"], f["status"]) == ("government_caused", "not_applicable")
    assert f["inputs"]["causes"] == "policy_change"


def test_unknown_government_cause_is_422(client, uid):
    no = not_started(client, uid)
    r = client.post(f"/v1/contracts/{no}/events", json={"events": [
        {"type": "government_delay", "on": "2023-02-15", "cause": "weather"}]})
    assert r.status_code == 422
    assert any(d["path"].startswith("events.0") for d in r.json()["detail"])


def test_agreed_new_start_date_is_the_government_disposal_until_it_lapses(client, uid):
    """Delivered 325 days late (due 2022-03-01, delivered 2023-01-20); the delay is found after the first
    anniversary of the start date (2023-03-01 → 2024-03-01) and a supplementary agreement of 2024-04-15
    sets a new start date, 2024-10-01.  On 2024-06-01 the land is idle land caused by the government
    (53号令 Art. 2, Art. 8), being disposed of by the extension (Art. 12(1)) whose deadline is 2024-10-01:
    no fee.  The extension lapses without a start: enterprise-caused idle land counted from 2024-10-01
    (Art. 14): the fee from 2025-10-02, free reclaim from 2026-10-02."""
    no = register(client, base_contract(uid))
    post_events(client, no, PAID, {"type": "delivered", "on": "2023-01-20"},
                {"type": "government_delay", "on": "2024-04-15", "cause": "late_delivery", "new_start_by": "2024-10-01",
                 "document": "补充协议（示例）第 1 号"})
    for as_of in ("2024-06-01", "2024-10-01"):
        f = idle(client, no, as_of)
        assert (f["state"], f["status"], f["amount"], f["fee"]) == ("government_caused", "not_applicable", None, None), f
        assert f["cause"] == {"type": "government", "causes": ["late_delivery"],
                              "labels": ["未按约定的期限、条件交付土地（第八条第一项）"]}
        d = f["disposal"]
        assert (d["measure"], d["article"], d["new_start_by"], d["deadline"], d["agreed_on"]) == (
            "extend_start", "第十二条（一）", "2024-10-01", "2024-10-01", "2024-04-15"), d
        assert f["deadline"] == "2024-10-01" and f["proposals"] == ["extend_start_by_max_1_year"]
        assert f["inputs"]["original_start_due"] == "2023-03-01" and f["inputs"]["anniversary_1y"] == "2024-03-01"
    # before the first anniversary of the original start date the land is not idle at all
    assert_not_idle(idle(client, no, "2024-03-01"))
    # the extension lapsed without a start: counted afresh from the extended date
    f = idle(client, no, "2024-10-02")
    assert_not_idle(f)
    assert (f["inputs"]["extension_lapsed_on"], f["inputs"]["anniversary_1y"]) == ("2024-10-01", "2025-10-01")
    assert_not_idle(idle(client, no, "2025-10-01"))
    f = idle(client, no, "2025-10-02")
    assert_idle_fee(f, "idle_1y")
    assert "第十四条" in f["cite"]["article"]
    assert idle(client, no, "2026-10-02")["state"] == "idle_2y"


def test_land_started_by_the_extended_date_is_not_idle(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, PAID, {"type": "delivered", "on": "2023-01-20"},
                {"type": "government_delay", "on": "2024-04-15", "cause": "late_delivery", "new_start_by": "2024-10-01"},
                {"type": "started", "on": "2024-09-20"})
    assert_not_idle(idle(client, no, "2024-09-20"))
    assert_not_idle(idle(client, no, "2026-01-01"))
    assert idle(client, no, "2024-09-19")["state"] == "government_caused"
