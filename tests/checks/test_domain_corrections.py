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


# ---------------------------------------------------------------- parks: helpers

def _park_with(client, uid: str, contracts: dict[str, dict]) -> dict[str, str]:
    """A park holding one transferred parcel per registered contract; returns key → parcel code."""
    import uuid

    from tests.contract_factory import mu

    pid = f"dc-{uid}"
    tag = uuid.uuid4().int % 10**6
    r = client.post("/v1/parks", json={
        "id": pid, "name": "示例园区", "name_valid_from": "2009-01-01", "jurisdiction": "411200",
        "planned_area": mu(1000), "ruleset": "henan-park-low-efficiency-example",
        "tax_ruleset": "sanmenxia-standard-land"})
    assert r.status_code == 201, r.text
    codes = {}
    for n, (key, body) in enumerate(contracts.items(), start=1):
        codes[key] = f"411202{tag:06d}GB{n:05d}"
        r = client.post("/v1/parcels", json={"code": codes[key], "park": pid, "area": body["land_area"],
                                             "supply_status": "transferred", "contract_no": body["contract_no"]})
        assert r.status_code == 201, r.text
    return codes


def _plan(**over) -> dict:
    body = {"as_of": "2025-01-10", "categories": ["idle"],
            "cause": {"type": "government", "government_cause": "late_delivery", "detail": "迟延交地"},
            "measure": "extend_start", "deadline": "2025-04-30",
            "responsible": {"lead_unit": "三门峡市自然资源和规划局"}, "progress": {"status": "planned"}}
    body.update(over)
    return body


# ---------------------------------------------------------------- item 4: 53号令 citations

def test_temporary_use_cites_article_12_3_and_force_majeure_article_8(client, uid):
    """53号令 Art. 12: (一) extension, (二) change of use or planning, (三) temporary use ≤ 2 years,
    (四) negotiated paid reclaim.  Force majeure is disposed of like a government cause (Art. 8)."""
    from tests.contract_factory import base_contract, one, performance, post_events, register

    body = base_contract(uid, 1)
    register(client, body)
    post_events(client, body["contract_no"], {"type": "delivered", "on": "2022-03-01"},
                {"type": "government_delay", "on": "2023-02-15", "cause": "force_majeure", "document": "暴雨灾害"})
    codes = _park_with(client, uid, {"A": body})
    r = client.put(f"/v1/parcels/{codes['A']}/plan", json=_plan(
        measure="temporary_use", cause={"type": "force_majeure", "detail": "暴雨灾害"},
        cap_from="2025-02-01", deadline="2027-02-01"))
    assert r.status_code == 201, r.text
    cap = r.json()["plan"]["statutory_cap"]
    assert cap["cite"]["article"] == "第十二条（三）" and cap["limit"] == "2027-02-01", cap
    f = one(performance(client, body["contract_no"], "2024-06-01"), "idle_land")
    assert f["state"] == "government_caused" and "第八条" in f["cite"]["article"], f
    assert {p["measure"]: p["article"] for p in f["disposal_options"]}["temporary_use"] == "第十二条（三）"
    assert {p["measure"]: p["article"] for p in f["disposal_options"]}["negotiated_paid_reclaim"] == "第十二条（四）"


# ---------------------------------------------------------------- item 3: the extension cap's start

def test_government_extension_cap_runs_from_the_date_agreed_in_the_supplementary_agreement(client, uid):
    """Contract start_by 2023-03-01; the government's late delivery is found in 2025 and a
    supplementary agreement sets the start for 2025-03-01.  53号令 Art. 12(1): the extension runs at
    most one year from that agreed date, to 2026-03-01 — not from the contract's date (2024-03-01)."""
    from tests.contract_factory import base_contract, post_events, register

    a, b = base_contract(uid, 1), base_contract(uid, 2)
    for body in (a, b):
        register(client, body)
        post_events(client, body["contract_no"], {"type": "government_delay", "on": "2023-02-01", "cause": "late_delivery"})
    codes = _park_with(client, uid, {"A": a, "B": b})
    r = client.put(f"/v1/parcels/{codes['A']}/plan", json=_plan(cap_from="2025-03-01", deadline="2026-03-02"))
    assert r.status_code == 422 and paths(r) == {"deadline"}, r.text
    assert "2026-03-01" in r.json()["detail"][0]["msg"]
    r = client.put(f"/v1/parcels/{codes['A']}/plan", json=_plan(cap_from="2025-03-01", deadline="2026-03-01"))
    assert r.status_code == 201, r.text
    cap = r.json()["plan"]["statutory_cap"]
    assert (cap["from"], cap["limit"], cap["months"], cap["cite"]["article"]) == (
        "2025-03-01", "2026-03-01", 12, "第十二条（一）"), cap
    # the agreement recorded as an event (its new start date): the plan need not repeat the date
    post_events(client, b["contract_no"], {"type": "government_delay", "on": "2025-01-05", "cause": "late_delivery",
                                           "new_start_by": "2025-03-01", "document": "补充协议"})
    r = client.put(f"/v1/parcels/{codes['B']}/plan", json=_plan(deadline="2026-03-01"))
    assert r.status_code == 201 and r.json()["plan"]["statutory_cap"]["from"] == "2025-03-01", r.text
    # and an extension event after it (same batch as its agreement, or later) is capped from the agreed date
    c = base_contract(uid, 3)
    register(client, c)
    post_events(client, c["contract_no"],
                {"type": "government_delay", "on": "2025-01-05", "cause": "late_delivery", "new_start_by": "2025-03-01"},
                {"type": "extension_approved", "on": "2025-02-01", "new_start_by": "2026-03-01"})
    bad = post_events(client, c["contract_no"], {"type": "extension_approved", "on": "2025-02-02",
                                                 "new_start_by": "2026-03-02"}, status=422)
    assert [d["path"] for d in bad] == ["events.0.new_start_by"] and "2026-03-01" in bad[0]["msg"]


# ---------------------------------------------------------------- item 5: 停建 and 停产

def test_production_stop_after_completion_is_low_efficiency_not_idle(client, uid):
    """Two plants accepted on completion 2024-06-30 (base schedule).  P posts the old single stop field
    (progress.suspended_since 2024-09-01, after acceptance): read as 停产.  Q posts production_stopped.
    53号令 does not apply to completed projects: not idle; 停产 12 months from 2024-09-01 → 2025-09-01,
    low-efficiency from 2025-09-02; the 停建缓建 class does not apply."""
    from tests.contract_factory import base_contract, m2, one, performance, post_events, register, wan

    done = [{"type": "started", "on": "2023-03-01"},
            {"type": "completion_accepted", "on": "2024-06-30", "fixed_asset_investment": wan(9000),
             "total_floor_area": m2(30000), "building_footprint": m2(9000), "admin_land_area": m2(1000),
             "green_area": m2(2000)}]
    p, q = base_contract(uid, 1), base_contract(uid, 2)
    for body in (p, q):
        register(client, body)
    post_events(client, p["contract_no"], *done, {"type": "progress", "on": "2024-09-15", "suspended_since": "2024-09-01"})
    post_events(client, q["contract_no"], *done, {"type": "production_stopped", "on": "2024-09-01", "partial": True})
    codes = _park_with(client, uid, {"P": p, "Q": q})
    for key, body in (("P", p), ("Q", q)):
        f = one(performance(client, body["contract_no"], "2025-10-01"), "idle_land")
        assert (f["state"], f["status"]) == ("not_idle", "pass"), f
        assert f["inputs"]["completed_on"] == "2024-06-30" and f["inputs"]["production_stopped_since"] == "2024-09-01"
        before = client.get(f"/v1/parcels/{codes[key]}", params={"as_of": "2025-09-01"}).json()
        preds = {x["predicate"]: x for x in before["assessment"]["low_efficiency"]["predicates"]}
        assert preds["stopped_12_months"]["status"] == "not_met"
        v = client.get(f"/v1/parcels/{codes[key]}", params={"as_of": "2025-09-02"}).json()
        preds = {x["predicate"]: x for x in v["assessment"]["low_efficiency"]["predicates"]}
        assert (preds["stopped_12_months"]["status"], preds["stopped_12_months"]["threshold"]) == ("holds", "2025-09-01")
        assert preds["construction_suspended_12_months"]["status"] == "not_applicable"
        assert [c["code"] for c in v["categories"]] == ["LOW_EFF"] and v["assessment"]["idle"]["status"] == "no"
    assert "半停产" in preds["stopped_12_months"]["message"]


def test_construction_suspension_feeds_the_stalled_test_and_the_suspended_class(client, uid):
    """A: construction_suspended 2024-01-01 with 5 of 30 亩 developed (< ⅓): idle (stalled) from 2025-01-02,
    so not counted as low-efficiency (the rule set excludes idle land).  B: the same with 15 亩 (½) and
    6000 of 9000 万元 invested: not idle, but 停建缓建 low-efficiency from 2025-01-02.  A resumption ends it."""
    from tests.contract_factory import base_contract, mu, post_events, register, wan

    a, b = base_contract(uid, 1), base_contract(uid, 2)
    for body in (a, b):
        register(client, body)
    started = {"type": "started", "on": "2023-03-01"}
    post_events(client, a["contract_no"], started, {"type": "construction_suspended", "on": "2024-01-01",
                                                    "developed_area": mu(5), "area_to_develop": mu(30)})
    post_events(client, b["contract_no"], started, {"type": "construction_suspended", "on": "2024-01-01",
                                                    "developed_area": mu(15), "area_to_develop": mu(30),
                                                    "invested": wan(6000), "total_investment": wan(9000)})
    codes = _park_with(client, uid, {"A": a, "B": b})
    va = client.get(f"/v1/parcels/{codes['A']}", params={"as_of": "2025-01-02"}).json()
    assert va["assessment"]["idle"]["state"] == "stalled" and [c["code"] for c in va["categories"]] == ["IDLE"]
    assert va["assessment"]["low_efficiency"]["status"] == "excluded"
    vb = client.get(f"/v1/parcels/{codes['B']}", params={"as_of": "2025-01-02"}).json()
    assert vb["assessment"]["idle"]["state"] == "not_idle" and [c["code"] for c in vb["categories"]] == ["LOW_EFF"]
    preds = {x["predicate"]: x for x in vb["assessment"]["low_efficiency"]["predicates"]}
    assert (preds["construction_suspended_12_months"]["status"], preds["stopped_12_months"]["status"]) == (
        "holds", "not_met")
    post_events(client, b["contract_no"], {"type": "construction_resumed", "on": "2025-03-01"})
    vb = client.get(f"/v1/parcels/{codes['B']}", params={"as_of": "2025-03-01"}).json()
    assert vb["categories"] == []


def test_stop_events_must_match_the_completion_state(client, uid):
    from tests.contract_factory import base_contract, m2, post_events, register

    body = base_contract(uid)
    register(client, body)
    no = body["contract_no"]
    bad = post_events(client, no, {"type": "started", "on": "2023-03-01"},
                      {"type": "production_stopped", "on": "2024-01-01"}, status=422)
    assert [d["path"] for d in bad] == ["events.1.type"]
    post_events(client, no, {"type": "started", "on": "2023-03-01"},
                {"type": "completion_accepted", "on": "2024-06-30", "total_floor_area": m2(30000)})
    bad = post_events(client, no, {"type": "construction_suspended", "on": "2024-08-01"}, status=422)
    assert [d["path"] for d in bad] == ["events.0.type"] and "production_stopped" in bad[0]["msg"]
    post_events(client, no, {"type": "production_stopped", "on": "2024-08-01"})


# ---------------------------------------------------------------- item 8: seed citations

def test_sanmenxia_citations_never_source_an_example_value_from_a_plan(client):
    """三政办〔2021〕5号 (2021-02-10, under 豫政办〔2020〕43号) contains no threshold values: every example value
    cites the example; the 15 万元/亩 cites the plan's 3–5-year goal for the parks' industrial land and
    says the rule set chose to apply it per parcel."""
    r = client.get("/v1/rulesets/resolve", params={"jurisdiction": "411200", "industry": "32", "as_of": "2024-03-01"})
    assert r.status_code == 200, r.text
    res = r.json()
    smx = next(layer for layer in res["ruleset"]["layers"] if layer["id"] == "sanmenxia-standard-land")
    ver = client.get(f"/v1/rulesets/sanmenxia-standard-land/versions/{smx['version']}").json()["document"]
    docs = ver["documents"]
    assert docs["smx-2021-5"]["number"] == "三政办〔2021〕5号" and "2021-02-10" in docs["smx-2021-5"]["title"]
    assert docs["henan-bygz-2020"]["number"] == "豫政办〔2020〕43号"
    plans = {"smx-2021-5", "henan-bygz-2020"}
    for rule in ver["rules"]:
        if rule.get("example"):
            assert rule["cite"]["doc"] not in plans or rule["op"] == "is_true", rule
    tax = {x["id"]: x for x in ver["rules"]}["tax_per_mu_min"]
    assert tax["cite"]["doc"] == "smx-2021-5" and "一（二）" in tax["cite"]["article"]
    assert "园区" in tax["cite"]["article"] and "选择按宗地适用" in tax["cite"]["article"]
    rules = {x["rule"]: x for x in res["rules"]}
    assert rules["investment_intensity_min"]["cite"]["doc"] == "example"
    assert rules["output_per_mu_min"]["cite"]["doc"] == "example"


# ---------------------------------------------------------------- item 11: penalties above the land price

def test_penalties_above_the_land_price_carry_the_court_reduction_note(client, uid):
    """Price P = 1200 万元, never started (start_by 2023-03-01), never completed (complete_by 2024-06-30).
    On 2026-06-01: late start 2023-03-01 → 2026-06-01 = 1188 days × 1200 × 1‰ = 1425.60; late completion
    2024-06-30 → 2026-06-01 = 701 days × 1200 × 0.5‰ = 420.60; penalties 1846.20 > 1200 → the note (民法典
    Art. 585), amounts unchanged.  The idle fee (an administrative charge) is not a contractual penalty.
    On 2024-03-02 the penalties (440.40 + 0) are below the price: no note."""
    from tests.contract_factory import base_contract, one, performance, post_events, register, wan

    body = base_contract(uid)
    register(client, body)
    no = body["contract_no"]
    post_events(client, no, {"type": "payment", "on": "2022-02-01", "due_on": "2022-02-01", "amount": wan(1200)},
                {"type": "delivered", "on": "2022-03-01"})
    perf = performance(client, no, "2026-06-01")
    assert one(perf, "late_start")["amount"] == "1425.60" and one(perf, "late_completion")["amount"] == "420.60"
    assert perf["penalty_total"] == "1846.20"
    assert perf["amount_total"] == "1846.20"           # the idle land is reclaimed (two years): no fee amount
    note = perf["penalty_note"]
    assert (note["code"], note["penalty_total"], note["land_price"]) == ("exceeds_land_price", "1846.20", "1200.00")
    assert "第五百八十五条" in note["message"] and note["cite"]["article"] == "第五百八十五条第二款"
    early = performance(client, no, "2024-03-02")
    assert early["penalty_total"] == "440.40" and early["penalty_note"] is None
    assert early["amount_total"] == "680.40"            # with the idle fee 240.00, which is not a penalty
    r = client.get(f"/contracts/{no}", params={"as_of": "2026-06-01"})
    assert r.status_code == 200 and "第五百八十五条" in r.text and "1846.20" in r.text.replace(",", "")
