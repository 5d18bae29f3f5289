"""Performance audit through the HTTP API: register a contract, post lifecycle events and
tax records, GET /v1/contracts/{no}/performance?as_of=….

Every amount below is computed by hand in a comment.  Base contract (contract_factory):
P = 1200 万元, 30 亩 = 20000 m², start_by 2023-03-01, complete_by 2024-06-30,
delivery 2022-03-01; rates 1‰ payment, 1‰ start, 0.5‰ completion, 5‰ over limit,
1‰ delivery; shortfall aggregate max; tax 20 万元/亩 from 2025, pay_difference.
"""

from __future__ import annotations

import re

import pytest

from tests.contract_factory import (
    base_contract,
    findings,
    m2,
    one,
    performance,
    post_events,
    post_tax,
    register,
    tax_record,
    tax_year,
    uscc_for,
    wan,
)
from tests.factories import child_doc, tax_rule

MONEY = re.compile(r"^-?\d+\.\d{2}$")

DELIVERED = {"type": "delivered", "on": "2022-03-01"}
PAID = {"type": "payment", "on": "2022-02-01", "due_on": "2022-02-01", "amount": wan(1200)}
STARTED = {"type": "started", "on": "2023-03-01"}
# Compliant completion on the due day: 9000 万元 (= agreed), FAR 30000/20000 = 1.5 ∈ [1.2, 2.0],
# building coefficient 9000/20000 = 45 % ≥ 40, admin 1000/20000 = 5 % ≤ 7, green 2000/20000 = 10 % ≤ 15.
COMPLETION = {"type": "completion_accepted", "on": "2024-06-30", "fixed_asset_investment": wan(9000),
              "total_floor_area": m2(30000), "building_footprint": m2(9000), "admin_land_area": m2(1000),
              "green_area": m2(2000)}


def completion(**over) -> dict:
    return {**COMPLETION, **over}


def assert_penalty(f: dict, kind: str, amount: str) -> None:
    assert f["kind"] == kind, f
    assert f["status"] == "fail", f
    assert f["amount"] == amount, f
    assert MONEY.match(f["amount"])
    assert f["formula"], f
    assert f["inputs"], f


def assert_money_fields(perf: dict) -> None:
    for f in perf["findings"]:
        assert f["amount"] is None or MONEY.match(f["amount"]), f
        if f["amount"] is not None and f["status"] == "fail":
            assert f["formula"], f
    assert MONEY.match(perf["amount_total"])


# ---------------------------------------------------------------- a clean history

def test_clean_history_passes_everything(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    perf = performance(client, no, "2025-06-30")
    assert_money_fields(perf)
    for kind in ("late_delivery", "late_payment", "late_start", "late_completion", "investment", "plot_ratio",
                 "building_coefficient", "green_ratio", "admin_land_share"):
        assert one(perf, kind)["status"] == "pass", one(perf, kind)
    assert one(perf, "tax_per_mu")["status"] == "not_applicable"       # 2025 has not ended on 2025-06-30
    assert one(perf, "idle_land")["state"] == "not_idle"
    assert perf["verdict"] == "pass"
    assert perf["amount_total"] == "0.00"
    assert perf["state"]["completed_on"] == "2024-06-30"


# ---------------------------------------------------------------- F1 late payment

def test_f1_late_payment(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED,
                # paid 10 days late: 2022-02-01 → 2022-02-11
                {"type": "payment", "on": "2022-02-11", "due_on": "2022-02-01", "amount": wan(1200)})
    perf = performance(client, no, "2022-12-31")
    f = one(perf, "late_payment")
    # 1200 × 1/1000 × 10 = 12.00
    assert_penalty(f, "late_payment", "12.00")
    assert f["inputs"]["overdue"] == "1200" and f["inputs"]["days"] == "10" and f["inputs"]["r_permille"] == "1"
    assert f["inputs"]["due"] == "2022-02-01" and f["inputs"]["paid"] == "2022-02-11"
    assert "F1" in f["formula"]
    assert f["flags"]["rescission_option"] is False
    assert one(perf, "late_start")["status"] == "not_applicable"       # start_by 2023-03-01 not reached
    assert perf["amount_total"] == "12.00" and perf["verdict"] == "fail"


def test_f1_several_payments_each_counted(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no,
                {"type": "payment", "on": "2022-01-31", "due_on": "2022-02-01", "amount": wan(400)},    # early
                {"type": "payment", "on": "2022-03-03", "due_on": "2022-03-01", "amount": wan(800)})    # 2 days
    perf = performance(client, no, "2022-12-31")
    pays = findings(perf, "late_payment")
    assert [p["status"] for p in pays] == ["pass", "fail"]
    # 800 × 1/1000 × 2 = 1.60
    assert pays[1]["amount"] == "1.60" and pays[1]["inputs"]["days"] == "2"


def test_f1_half_up_rounding_at_output(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, {"type": "payment", "on": "2022-02-02", "due_on": "2022-02-01", "amount": wan(5)},
                {"type": "payment", "on": "2022-02-03", "due_on": "2022-02-01", "amount": wan("0.2")})
    pays = findings(performance(client, no, "2022-12-31"), "late_payment")
    # 5 × 1/1000 × 1 = 0.005 → half-up at 2 places → 0.01 (half-even would give 0.00)
    assert pays[0]["amount"] == "0.01"
    # 0.2 × 1/1000 × 2 = 0.0004 → 0.00: a tiny amount is still a breach, shown as 0.00
    assert (pays[1]["status"], pays[1]["amount"]) == ("fail", "0.00")


# ---------------------------------------------------------------- F2 late start

def test_f2_late_start_counted_from_the_extended_date(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID,
                {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2023-09-01"},
                {"type": "started", "on": "2023-09-11"})
    perf = performance(client, no, "2024-01-01")
    f = one(perf, "late_start")
    # from the extended date 2023-09-01 to 2023-09-11 = 10 days: 1200 × 1/1000 × 10 = 12.00
    # (from the original 2023-03-01 it would be 194 days = 232.80)
    assert_penalty(f, "late_start", "12.00")
    assert f["inputs"]["start_due"] == "2023-09-01" and f["inputs"]["original_start_due"] == "2023-03-01"
    assert f["inputs"]["days"] == "10" and f["inputs"]["P"] == "1200"
    assert f["flags"]["extension_over_limit"] is False
    assert perf["state"]["start_due"] == "2023-09-01"
    assert one(perf, "idle_land")["state"] == "not_idle"


def test_f2_late_start_accrues_up_to_as_of_when_not_started(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID)
    on_due = performance(client, no, "2023-03-01")
    assert one(on_due, "late_start")["status"] == "not_applicable"     # the due day itself is not late
    perf = performance(client, no, "2023-04-10")
    f = one(perf, "late_start")
    # 2023-03-01 → 2023-04-10: 30 + 10 = 40 days; 1200 × 1/1000 × 40 = 48.00
    assert_penalty(f, "late_start", "48.00")
    assert f["inputs"]["started"] == "2023-04-10" and f["inputs"]["days"] == "40"
    assert "仍未开工" in f["message"]
    later = one(performance(client, no, "2023-04-11"), "late_start")
    assert later["amount"] == "49.20"                                 # 41 days × 1.2 = 49.20


def test_events_after_as_of_are_ignored(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, {"type": "started", "on": "2023-03-21"})
    f = one(performance(client, no, "2023-03-11"), "late_start")
    # not started on 2023-03-11: 10 days so far → 12.00
    assert f["amount"] == "12.00" and "仍未开工" in f["message"]
    f = one(performance(client, no, "2023-06-01"), "late_start")
    # started 2023-03-21: 20 days → 24.00
    assert f["amount"] == "24.00" and f["inputs"]["started"] == "2023-03-21"


# ---------------------------------------------------------------- F3 late completion

def test_f3_completion_date_shifts_with_the_start_extension(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID,
                {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2023-09-01"},
                {"type": "started", "on": "2023-09-01"},
                completion(on="2025-01-10"))
    perf = performance(client, no, "2025-06-30")
    # start moved 2023-03-01 → 2023-09-01 = 31+30+31+30+31+31 = 184 days;
    # completion due 2024-06-30 + 184 days = 2024-12-31 (Jul 31, Aug 31, Sep 30, Oct 31, Nov 30, Dec 31 = 184)
    assert perf["state"]["complete_due"] == "2024-12-31"
    f = one(perf, "late_completion")
    # 2024-12-31 → 2025-01-10 = 10 days; 1200 × 0.5/1000 × 10 = 6.00  (unshifted: 194 days = 116.40)
    assert_penalty(f, "late_completion", "6.00")
    assert f["inputs"]["complete_due"] == "2024-12-31" and f["inputs"]["days"] == "10"
    assert f["inputs"]["r_permille"] == "0.5" and f["inputs"]["version"] == "GF-2008-2601"
    assert one(perf, "late_start")["status"] == "pass"
    assert perf["amount_total"] == "6.00"


def test_missing_completion_after_the_due_date_is_insufficient_data(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED)
    perf = performance(client, no, "2024-07-10")
    f = one(perf, "late_completion")
    # not completed: 2024-06-30 → 2024-07-10 = 10 days so far; 1200 × 0.5/1000 × 10 = 6.00
    assert_penalty(f, "late_completion", "6.00")
    assert "仍未竣工" in f["message"]
    for kind in ("investment", "plot_ratio", "building_coefficient", "green_ratio", "admin_land_share"):
        g = one(perf, kind)
        assert g["status"] == "insufficient_data", g
        assert g["missing"] == ["completion_accepted"], g
        assert g["amount"] is None
    assert perf["verdict"] == "fail"
    assert perf["amount_total"] == "6.00"


def test_before_the_completion_date_completion_parts_are_not_applicable(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED)
    perf = performance(client, no, "2024-06-30")
    assert one(perf, "late_completion")["status"] == "not_applicable"
    assert one(perf, "investment")["status"] == "not_applicable"
    assert perf["verdict"] == "pass"


def test_missing_completion_data_names_what_is_missing(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED,
                {"type": "completion_accepted", "on": "2024-06-30", "total_floor_area": m2(30000)})
    perf = performance(client, no, "2024-12-31")
    inv = one(perf, "investment")
    assert inv["status"] == "insufficient_data"
    assert inv["missing"] == ["completion_accepted.fixed_asset_investment"]
    assert one(perf, "plot_ratio")["status"] == "pass"
    assert one(perf, "green_ratio")["status"] == "insufficient_data"
    assert perf["verdict"] == "incomplete"


# ---------------------------------------------------------------- F4 investment shortfall

@pytest.mark.parametrize(("agg", "amount", "ratio"), [
    # s_total = (9000 − 7200)/9000 = 0.2; intensity agreed 4800 元/m² ÷ 15 = 320 万元/亩,
    # actual 7200/30 = 240, s_int = (320 − 240)/320 = 0.25
    ("max", "300.00", "0.25"),       # 1200 × max(0.2, 0.25) = 1200 × 0.25 = 300.00
    ("mean", "270.00", "0.225"),     # 1200 × (0.2 + 0.25)/2 = 1200 × 0.225 = 270.00
])
def test_f4_investment_shortfall(client, uid, agg, amount, ratio):
    body = base_contract(uid)
    body["commitments"]["investment_intensity"]["value"] = 4800
    body["penalties"]["shortfall_aggregate"] = agg
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, completion(fixed_asset_investment=wan(7200)))
    perf = performance(client, no, "2024-12-31")
    f = one(perf, "investment")
    assert_penalty(f, "investment", amount)
    assert (f["inputs"]["s_total"], f["inputs"]["s_intensity"], f["inputs"]["ratio"]) == ("0.2", "0.25", ratio)
    assert f["inputs"]["total_agreed"] == "9000" and f["inputs"]["total_actual"] == "7200"
    assert f["inputs"]["intensity_agreed"] == "320" and f["inputs"]["intensity_actual"] == "240"
    assert f["inputs"]["agg"] == agg
    assert perf["amount_total"] == amount


def test_f4_investment_exactly_met_passes(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, completion(fixed_asset_investment=wan(9000)))
    f = one(performance(client, no, "2024-12-31"), "investment")
    # 9000 ≥ 9000 and 9000/30 = 300 ≥ 4500/15 = 300
    assert f["status"] == "pass" and f["amount"] is None


# ---------------------------------------------------------------- F5 / F6 plot ratio, building coefficient

def test_f5_plot_ratio_below_minimum(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, completion(total_floor_area=m2(20000)))
    perf = performance(client, no, "2024-12-31")
    f = one(perf, "plot_ratio")
    # FAR 20000/20000 = 1.0 < 1.2: s = (1.2 − 1.0)/1.2 = 1/6; 1200 × 1/6 = 200.00
    assert_penalty(f, "plot_ratio", "200.00")
    assert f["inputs"]["plot_ratio.min"] == "1.2" and f["inputs"]["plot_ratio.actual"] == "1"
    assert f["inputs"]["plot_ratio.s"] == "1/6"
    assert "F5" in f["formula"]
    assert one(perf, "building_coefficient")["status"] == "pass"
    assert perf["amount_total"] == "200.00"


def test_f5_two_breaches_aggregate_by_max_once(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED,
                completion(total_floor_area=m2(20000), building_footprint=m2(6000)))
    perf = performance(client, no, "2024-12-31")
    # FAR 1.0: s = 1/6; building coefficient 6000/20000 = 30 % < 40: s = 10/40 = 0.25
    # 1200 × max(1/6, 0.25) = 300.00, carried by plot_ratio; building_coefficient points to it
    pr, bc = one(perf, "plot_ratio"), one(perf, "building_coefficient")
    assert_penalty(pr, "plot_ratio", "300.00")
    assert pr["inputs"]["building_coefficient.s"] == "0.25" and pr["inputs"]["ratio"] == "0.25"
    assert bc["status"] == "fail" and bc["amount"] is None and bc["counted_in"] == "plot_ratio"
    assert perf["amount_total"] == "300.00"


def test_f6_plot_ratio_above_maximum_with_excess_floor_area(client, uid):
    no = register(client, base_contract(uid))
    floors = [{"area": m2(10000), "height": {"value": 9, "unit": "m"}, "count": 1},    # > 8 m: counts twice
              {"area": m2(14000), "height": {"value": 4, "unit": "m"}, "count": 2}]
    post_events(client, no, DELIVERED, PAID, STARTED, completion(total_floor_area=None, floors=floors))
    perf = performance(client, no, "2024-12-31")
    f = one(perf, "plot_ratio")
    # counted floor area = 10000 × 2 + 14000 × 2 = 48000 m²; FAR 48000/20000 = 2.4 > 2.0
    # e = (2.4 − 2.0)/2.0 = 0.2; 1200 × 0.2 = 240.00
    # excess floor area = 48000 − 2.0 × 20000 = 8000 m²
    assert_penalty(f, "plot_ratio", "240.00")
    assert f["inputs"]["plot_ratio.actual"] == "2.4" and f["inputs"]["plot_ratio.e"] == "0.2"
    assert f["inputs"]["excess_counted_floor_area"] == "8000"
    assert f["inputs"]["counted_floor_area"] == "48000" and f["inputs"]["site_area"] == "20000"
    assert f["flags"]["reclaim_excess_area"] is True
    assert "F6" in f["formula"]


def test_f6_storey_of_exactly_8m_counts_once(client, uid):
    no = register(client, base_contract(uid))
    floors = [{"area": m2(10000), "height": {"value": 8, "unit": "m"}, "count": 1},
              {"area": m2(14000), "height": {"value": 4, "unit": "m"}, "count": 2}]
    post_events(client, no, DELIVERED, PAID, STARTED, completion(total_floor_area=None, floors=floors))
    f = one(performance(client, no, "2024-12-31"), "plot_ratio")
    # 10000 + 28000 = 38000 m²; FAR 1.9 ∈ [1.2, 2.0]
    assert f["status"] == "pass" and f["inputs"]["actual"] == "1.9"


# ---------------------------------------------------------------- F7 over limit

def test_f7_green_ratio_over_limit_is_one_off(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, completion(green_area=m2(4000)))
    perf = performance(client, no, "2024-12-31")
    f = one(perf, "green_ratio")
    # green 4000/20000 = 20 % > 15 %: one-off 1200 × 5/1000 = 6.00
    assert_penalty(f, "green_ratio", "6.00")
    assert f["inputs"]["r_permille"] == "5" and f["inputs"]["mode"] == "once"
    assert f["flags"]["demolish_excess"] is True
    assert "F7" in f["formula"]
    # one-off: the amount does not grow with time
    assert one(performance(client, no, "2025-06-30"), "green_ratio")["amount"] == "6.00"


def test_f7_two_items_over_once_mode_charges_once(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, completion(green_area=m2(4000), admin_land_area=m2(2000)))
    perf = performance(client, no, "2024-12-31")
    # green 20 % > 15 and admin 2000/20000 = 10 % > 7: mode once → 1200 × 5/1000 = 6.00 in all
    g, a = one(perf, "green_ratio"), one(perf, "admin_land_share")
    assert_penalty(g, "green_ratio", "6.00")
    assert a["status"] == "fail" and a["amount"] is None and a["counted_in"] == "green_ratio"
    assert perf["amount_total"] == "6.00"


def test_f7_green_exactly_at_limit_passes(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, completion(green_area=m2(3000)))
    # 3000/20000 = 15 % ≤ 15 %
    assert one(performance(client, no, "2024-12-31"), "green_ratio")["status"] == "pass"


# ---------------------------------------------------------------- F8 late delivery (transferor)

def test_f8_late_delivery_on_the_price_paid_before_delivery(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no,
                {"type": "payment", "on": "2022-02-01", "due_on": "2022-02-01", "amount": wan(600)},
                {"type": "payment", "on": "2022-04-01", "due_on": "2022-04-01", "amount": wan(600)},
                {"type": "delivered", "on": "2022-03-21"})
    perf = performance(client, no, "2022-12-31")
    f = one(perf, "late_delivery")
    # delivered 2022-03-01 → 2022-03-21 = 20 days late; paid by then 600 (the April payment is after);
    # 600 × 1/1000 × 20 = 12.00, owed by the transferor
    assert_penalty(f, "late_delivery", "12.00")
    assert f["party"] == "transferor"
    assert f["inputs"]["paid_amount"] == "600" and f["inputs"]["days"] == "20"
    assert f["flags"]["supports_government_delay_defence"] is True
    assert "F8" in f["formula"]
    assert [p["status"] for p in findings(perf, "late_payment")] == ["pass", "pass"]
    assert perf["amount_total"] == "0.00"            # the transferee owes nothing


def test_f8_not_yet_delivered_accrues_to_as_of(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, PAID)
    f = one(performance(client, no, "2022-03-11"), "late_delivery")
    # 1200 paid, 10 days without delivery: 1200 × 1/1000 × 10 = 12.00
    assert_penalty(f, "late_delivery", "12.00")
    assert f["inputs"]["still_undelivered"] == "true"


# ---------------------------------------------------------------- 亩均税收

def test_tax_per_mu_with_refunds_added_back(client, uid):
    """Sanmenxia's tax basis adds policy refunds back."""
    body = base_contract(uid)
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    uscc = body["transferee"]["uscc"]
    post_tax(client, f"tx-{uid}-1", tax_record(uscc, 2025, 450, 90))
    perf = performance(client, no, "2026-06-30")
    f = tax_year(perf, 2025)
    # (450 + 90)/30 = 18 < 20 → pay_difference (20 − 18) × 30 = 60.00
    assert_penalty(f, "tax_per_mu", "60.00")
    assert f["inputs"]["refunds_added_back"] is True
    assert f["inputs"]["counted_tax"] == "540" and f["inputs"]["actual_tax_per_mu"] == "18"
    assert f["inputs"]["tax_basis_layer"] == "sanmenxia-standard-land"
    assert f["inputs"]["committed"] == "20" and f["inputs"]["gap_tpm"] == "2" and f["inputs"]["area_mu"] == "30"
    assert f["inputs"]["batch_id"] == f"tx-{uid}-1"
    assert perf["amount_total"] == "60.00"


@pytest.fixture(scope="module")
def no_add_back_layer(client):
    """A county layer under Sanmenxia whose tax basis does NOT add refunds back (version 1,
    in force from 2022), then a version 2 in force from 2026-01-01 that does.  Published
    once per session for 411224 (卢氏县), a code no other test publishes at."""
    import uuid

    rid = f"lushi-no-add-back-{uuid.uuid4().hex[:8]}"
    v1 = child_doc(rid, [tax_rule(15)], jurisdiction="411224", effective_from="2022-01-01", status="example", applies_to=None,
                   tax_basis={"includes": ["增值税", "企业所得税"], "refunds_added_back": False,
                              "period": "calendar_year"})
    r = client.post("/v1/rulesets", json=v1)
    assert r.status_code == 201, r.text
    v2 = child_doc(rid, [tax_rule(15)], version="2", jurisdiction="411224", effective_from="2026-01-01", applies_to=None,
                   status="example", tax_basis={"includes": ["增值税", "企业所得税"], "refunds_added_back": True,
                                                "period": "calendar_year"})
    r = client.post("/v1/rulesets", json=v2)
    assert r.status_code == 201, r.text
    return rid


def lushi_contract(uid: str) -> dict:
    body = base_contract(uid, jurisdiction="411224", parcel_code="411224001001GB00001",
                         supervision_no="4112242023B00001")
    del body["ruleset"]                           # resolved by jurisdiction → the county layer
    return body


def test_tax_per_mu_without_refund_add_back(client, uid, no_add_back_layer):
    body = lushi_contract(uid)
    r = client.post("/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["check"]["ruleset"]["id"] == no_add_back_layer
    assert r.json()["check"]["verdict"] == "pass"
    no = body["contract_no"]
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    post_tax(client, f"tx-{uid}-1", tax_record(body["transferee"]["uscc"], 2025, 450, 90))
    f = tax_year(performance(client, no, "2026-06-30"), 2025)
    # refunds not added back: 450/30 = 15 < 20 → (20 − 15) × 30 = 150.00
    assert_penalty(f, "tax_per_mu", "150.00")
    assert f["inputs"]["refunds_added_back"] is False
    assert f["inputs"]["counted_tax"] == "450" and f["inputs"]["actual_tax_per_mu"] == "15"
    assert f["inputs"]["tax_basis_layer"] == no_add_back_layer


def test_each_year_uses_the_tax_basis_in_force_that_year(client, uid, no_add_back_layer):
    body = lushi_contract(uid)
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    uscc = body["transferee"]["uscc"]
    post_tax(client, f"tx-{uid}-1", tax_record(uscc, 2025, 450, 90), tax_record(uscc, 2026, 450, 90))
    perf = performance(client, no, "2027-06-30")
    y25, y26 = tax_year(perf, 2025), tax_year(perf, 2026)
    # 2025 under version 1 (no add-back): 450/30 = 15 → (20 − 15) × 30 = 150.00
    assert (y25["amount"], y25["inputs"]["refunds_added_back"]) == ("150.00", False)
    # 2026 under version 2 (add-back): (450 + 90)/30 = 18 → (20 − 18) × 30 = 60.00
    assert (y26["amount"], y26["inputs"]["refunds_added_back"]) == ("60.00", True)
    assert perf["amount_total"] == "210.00"          # 150 + 60


def test_year_without_tax_record_is_insufficient_data_never_zero(client, uid):
    body = base_contract(uid)
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    # 2025: 600/30 = 20 ≥ 20 (pass); 2026: no record
    post_tax(client, f"tx-{uid}-1", tax_record(body["transferee"]["uscc"], 2025, 600))
    perf = performance(client, no, "2027-01-01")
    assert tax_year(perf, 2025)["status"] == "pass"
    f = tax_year(perf, 2026)
    assert f["status"] == "insufficient_data"
    assert f["amount"] is None
    assert f["missing"] == ["tax_records 2026"]
    assert perf["verdict"] == "incomplete"
    assert perf["amount_total"] == "0.00"


def test_no_tax_record_at_all_is_insufficient_data(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    f = tax_year(performance(client, no, "2026-01-01"), 2025)
    assert (f["status"], f["amount"]) == ("insufficient_data", None)


def test_duplicated_tax_batch_changes_nothing(client, uid):
    body = base_contract(uid)
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    batch = (f"tx-{uid}-dup", tax_record(body["transferee"]["uscc"], 2025, 450, 90))
    first = post_tax(client, *batch)
    before = tax_year(performance(client, no, "2026-06-30"), 2025)
    again = post_tax(client, *batch, status=200)
    assert again["digest"] == first["digest"] and again["new_records"] == first["new_records"] == 1
    after = tax_year(performance(client, no, "2026-06-30"), 2025)
    # still (450 + 90)/30 = 18 → 60.00, from the same batch
    assert after["amount"] == before["amount"] == "60.00"
    assert after["inputs"] == before["inputs"]
    hist = client.get("/v1/tax-records", params={"uscc": body["transferee"]["uscc"]}).json()
    assert hist["count"] == 1


def test_corrected_tax_record_changes_the_year(client, uid):
    body = base_contract(uid)
    uscc = body["transferee"]["uscc"]
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    post_tax(client, f"tx-{uid}-a", tax_record(uscc, 2025, 450, 90))
    assert tax_year(performance(client, no, "2026-06-30"), 2025)["amount"] == "60.00"
    # correction in a new batch: (480 + 90)/30 = 19 → (20 − 19) × 30 = 30.00
    summary = post_tax(client, f"tx-{uid}-b", tax_record(uscc, 2025, 480, 90))
    assert summary["corrections"] == 1
    f = tax_year(performance(client, no, "2026-06-30"), 2025)
    assert f["amount"] == "30.00" and f["inputs"]["batch_id"] == f"tx-{uid}-b"
    # a second correction reaching exactly the commitment: (510 + 90)/30 = 20 ≥ 20 → pass
    post_tax(client, f"tx-{uid}-c", tax_record(uscc, 2025, 510, 90))
    f = tax_year(performance(client, no, "2026-06-30"), 2025)
    assert f["status"] == "pass" and f["amount"] is None
    hist = client.get("/v1/tax-records", params={"uscc": uscc, "year": 2025}).json()
    assert [r["current"] for r in hist["records"]] == [False, False, True]


def test_tax_batch_for_another_enterprise_does_not_count(client, uid):
    body = base_contract(uid)
    no = register(client, body)
    post_events(client, no, DELIVERED, PAID, STARTED, COMPLETION)
    post_tax(client, f"tx-{uid}-other", tax_record(uscc_for(uid, 7), 2025, 9000))
    f = tax_year(performance(client, no, "2026-06-30"), 2025)
    assert f["status"] == "insufficient_data"


# ---------------------------------------------------------------- extensions and corrections

def test_extension_beyond_one_year_is_refused(client, uid):
    no = register(client, base_contract(uid))
    # 2023-03-01 + 1 year = 2024-03-01; 2024-03-02 is one day too far
    detail = post_events(client, no, {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2024-03-02"},
                         status=422)
    assert [d["path"] for d in detail] == ["events.0.new_start_by"]
    assert client.get(f"/v1/contracts/{no}/events").json()["events"] == []
    post_events(client, no, {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2024-03-01"})


def test_refused_batch_stores_nothing(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED,
                {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2025-01-01"}, status=422)
    assert client.get(f"/v1/contracts/{no}/events").json()["events"] == []


def test_extension_beyond_one_year_is_refused_under_a_half_year_cap(client, uid):
    """The contract allows 0.5 year (stricter than the model's 1 year).  An extension of
    three years breaks both caps and must be refused."""
    body = base_contract(uid)
    body["clauses"]["extension_max_years"] = 0.5
    no = register(client, body)
    detail = post_events(client, no, {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2026-03-01"},
                         status=422)
    assert [d["path"] for d in detail] == ["events.0.new_start_by"]


def test_extension_cap_is_the_models_year_even_if_the_contract_says_two(client, uid):
    body = base_contract(uid)
    body["clauses"]["extension_max_years"] = 2          # weaker than the model: registered, but flagged
    no = register(client, body)
    detail = post_events(client, no, {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2024-09-01"},
                         status=422)
    assert [d["path"] for d in detail] == ["events.0.new_start_by"]


def test_cumulative_extensions_are_capped_from_the_agreed_date(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, {"type": "extension_approved", "on": "2023-01-20", "new_start_by": "2023-09-01"})
    detail = post_events(client, no, {"type": "extension_approved", "on": "2023-08-01", "new_start_by": "2024-04-01"},
                         status=422)
    assert [d["path"] for d in detail] == ["events.0.new_start_by"]
    post_events(client, no, {"type": "extension_approved", "on": "2023-08-01", "new_start_by": "2024-03-01"})
    assert performance(client, no, "2023-12-31")["state"]["start_due"] == "2024-03-01"


def test_extension_after_a_government_delay_counts_from_the_new_start_date(client, uid):
    """53号令 Art. 12 / docs/domain.md: after a government-caused delay the start date is
    re-agreed (here 2024-01-01) and the clock restarts; an extension of ≤ 1 year is then
    counted from the newly agreed date: 2024-12-01 ≤ 2024-01-01 + 1 year = 2025-01-01."""
    no = register(client, base_contract(uid))
    post_events(client, no, {"type": "government_delay", "on": "2023-02-15", "cause": "plan_change",
                             "new_start_by": "2024-01-01"})
    post_events(client, no, {"type": "extension_approved", "on": "2023-11-20", "new_start_by": "2024-12-01"})
    assert performance(client, no, "2024-06-30")["state"]["start_due"] == "2024-12-01"


def test_correction_replaces_the_earlier_event(client, uid):
    no = register(client, base_contract(uid))
    stored = post_events(client, no, DELIVERED, PAID, {"type": "started", "on": "2023-04-10"})
    wrong = stored[2]["id"]
    f = one(performance(client, no, "2023-12-31"), "late_start")
    assert f["amount"] == "48.00"                     # 40 days × 1.2
    fixed = post_events(client, no, {"type": "started", "on": "2023-03-11", "correct": wrong,
                                     "note": "开工日期录入错误"})[0]
    perf = performance(client, no, "2023-12-31")
    f = one(perf, "late_start")
    # 2023-03-01 → 2023-03-11 = 10 days: 1200 × 1/1000 × 10 = 12.00
    assert f["amount"] == "12.00" and f["inputs"]["started"] == "2023-03-11"
    assert fixed["id"] in perf["events_used"] and wrong not in perf["events_used"]
    assert perf["state"]["started_on"] == "2023-03-11"


def test_correction_of_a_correction_newest_wins(client, uid):
    no = register(client, base_contract(uid))
    first = post_events(client, no, {"type": "started", "on": "2023-04-10"})[0]["id"]
    second = post_events(client, no, {"type": "started", "on": "2023-03-21", "correct": first})[0]["id"]
    post_events(client, no, {"type": "started", "on": "2023-03-06", "correct": second})
    f = one(performance(client, no, "2023-12-31"), "late_start")
    assert f["amount"] == "6.00"                      # 5 days × 1.2


def test_correction_can_remove_a_late_payment(client, uid):
    no = register(client, base_contract(uid))
    wrong = post_events(client, no, {"type": "payment", "on": "2022-02-11", "due_on": "2022-02-01",
                                     "amount": wan(1200)})[0]["id"]
    assert one(performance(client, no, "2022-12-31"), "late_payment")["amount"] == "12.00"
    post_events(client, no, {"type": "payment", "on": "2022-02-01", "due_on": "2022-02-01", "amount": wan(1200),
                             "correct": wrong})
    f = one(performance(client, no, "2022-12-31"), "late_payment")
    assert f["status"] == "pass" and f["amount"] is None


def test_correction_of_unknown_or_other_type_is_refused(client, uid):
    no = register(client, base_contract(uid))
    started = post_events(client, no, {"type": "started", "on": "2023-03-01"})[0]["id"]
    detail = post_events(client, no, {"type": "started", "on": "2023-03-02", "correct": "no-such-event"}, status=422)
    assert [d["path"] for d in detail] == ["events.0.correct"]
    detail = post_events(client, no, {"type": "delivered", "on": "2022-03-02", "correct": started}, status=422)
    assert [d["path"] for d in detail] == ["events.0.correct"]


def test_structural_event_errors_are_422_with_paths(client, uid):
    no = register(client, base_contract(uid))
    r = client.post(f"/v1/contracts/{no}/events", json={"events": [
        {"type": "started", "on": "2023-02-30"},
        {"type": "teleported", "on": "2023-03-01"},
        {"type": "payment", "on": "2022-02-01", "amount": wan(1)},          # due_on missing
    ]})
    assert r.status_code == 422
    got = {d["path"] for d in r.json()["detail"]}
    assert any(p.startswith("events.0") for p in got)
    assert any(p.startswith("events.1") for p in got)
    assert any(p.startswith("events.2") for p in got)


def test_events_on_unknown_contract_are_404(client, uid):
    r = client.post(f"/v1/contracts/NOPE-{uid}/events", json={"events": [STARTED]})
    assert r.status_code == 404


def test_negative_payment_amount_is_refused(client, uid):
    """A payment of −100 万元 is structurally impossible; accepting it makes every later
    performance audit of the contract fail (F8 sums it as the price paid)."""
    no = register(client, base_contract(uid))
    r = client.post(f"/v1/contracts/{no}/events", json={"events": [
        {"type": "payment", "on": "2022-03-05", "due_on": "2022-02-01", "amount": wan(-100)}]})
    assert r.status_code == 422, r.text
    assert any(d["path"].startswith("events.0.amount") for d in r.json()["detail"])
    assert client.get(f"/v1/contracts/{no}/performance", params={"as_of": "2022-12-31"}).status_code == 200


# ---------------------------------------------------------------- the decision

def test_performance_decision_is_stored(client, uid):
    no = register(client, base_contract(uid))
    post_events(client, no, DELIVERED, {"type": "payment", "on": "2022-02-11", "due_on": "2022-02-01",
                                        "amount": wan(1200)})
    perf = performance(client, no, "2022-12-31")
    r = client.get(f"/v1/decisions/{perf['decision_id']}")
    assert r.status_code == 200
    stored = r.json()
    assert stored["kind"] == "performance" and stored["verdict"] == perf["verdict"] == "fail"
    assert stored["contract_no"] == no and stored["as_of"] == "2022-12-31"
    assert stored["findings"] == perf["findings"]
    assert stored["amount_total"] == "12.00"
