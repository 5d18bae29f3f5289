"""Decisions: stored verdict, pinned digests, hash chain, and replay under the pinned
rule sets after newer (stricter) versions of the same rule set were published."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import proposal
from tests.factories import by_rule, simple_proposal, standalone_doc


def publish(client, doc: dict) -> dict:
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 201, r.text
    return r.json()


def check(client, body: dict) -> dict:
    r = client.post("/v1/checks/proposal", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def replay(client, decision_id: str) -> dict:
    r = client.post(f"/v1/decisions/{decision_id}/replay")
    assert r.status_code == 200, r.text
    return r.json()


def canonical(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_replay_after_a_stricter_version_with_a_later_effective_from(client, uid):
    rid = f"r-{uid}"
    v1 = publish(client, standalone_doc(rid, version="1", tax=15))
    decision = check(client, simple_proposal(rid, tax_wan=1350))         # 15 万元/亩: pass at the threshold
    assert decision["verdict"] == "pass"
    assert decision["pinned"] == [v1["digest"]]

    v2 = publish(client, standalone_doc(rid, version="2", tax=20, effective_from="2024-01-01"))
    # the newer version is in force for the same request now …
    now = check(client, simple_proposal(rid, tax_wan=1350))
    assert (now["ruleset"]["version"], now["verdict"], now["pinned"]) == ("2", "fail", [v2["digest"]])
    assert by_rule(now["findings"])["tax_per_mu_min"]["margin"] == "-5.00"

    # … but the stored decision replays exactly as it was made
    again = replay(client, decision["decision_id"])
    assert again["identical"] is True, again["differences"]
    assert again["differences"] == []
    assert again["verdict"] == "pass"
    assert again["findings"] == decision["findings"]
    assert again["pinned"] == [v1["digest"]]
    tax = by_rule(again["findings"])["tax_per_mu_min"]
    assert (tax["threshold"], tax["margin"], tax["layer_version"]) == ("15", "0.00", "1")


def test_replay_after_a_stricter_version_with_the_same_effective_from(client, uid):
    rid = f"r-{uid}"
    v1 = publish(client, standalone_doc(rid, version="1", tax=15, investment=200))
    decision = check(client, simple_proposal(rid, tax_wan=1440, investment_wan=18000))   # 16 and 200 万元/亩
    assert decision["verdict"] == "pass"

    publish(client, standalone_doc(rid, version="1.1", tax=16, investment=201))   # same effective_from
    now = check(client, simple_proposal(rid, tax_wan=1440, investment_wan=18000))
    assert now["ruleset"]["version"] == "1.1"
    assert now["verdict"] == "fail"
    inv = by_rule(now["findings"])["investment_intensity_min"]
    assert (inv["status"], inv["threshold"], inv["margin"]) == ("fail", "201", "-1.00")

    again = replay(client, decision["decision_id"])
    assert again["identical"] is True, again["differences"]
    assert again["verdict"] == "pass"
    assert again["pinned"] == [v1["digest"]]
    assert again["findings"] == decision["findings"]


def test_replay_of_a_layered_decision(client, uid):
    """A Sanmenxia decision pins all three layers and replays identically after an
    unrelated rule set was published."""
    decision = check(client, proposal(reference=f"layered-{uid}"))
    assert len(decision["pinned"]) == 3
    assert decision["pinned"] == [layer["digest"] for layer in decision["ruleset"]["layers"]]
    publish(client, standalone_doc(f"r-{uid}", tax=99))
    again = replay(client, decision["decision_id"])
    assert again["identical"] is True, again["differences"]
    assert again["findings"] == decision["findings"]


def test_replay_of_a_request_with_units_floors_and_a_waiver(client, uid):
    body = proposal(land_area={"value": 6, "unit": "公顷"}, reference=f"units-{uid}")
    del body["indicators"]["plot_ratio"]
    body["measures"]["floors"] = [
        {"area": {"value": 12000, "unit": "m2"}, "height": {"value": "8.01", "unit": "m"}},
        {"area": {"value": 6000, "unit": "㎡"}, "height": {"value": 4, "unit": "米"}, "count": 2}]
    body["indicators"]["building_coefficient"] = {"value": "0.45", "unit": "fraction"}
    body["measures"]["annual_tax"] = {"value": 12000000, "unit": "元"}        # 1200 万元 = 13.33 万元/亩
    body["waivers"] = [{"rule": "tax_per_mu_min", "reason": "重大项目一事一议", "doc": "测〔2024〕9号"}]
    decision = check(client, body)
    f = by_rule(decision["findings"])
    assert (f["plot_ratio_min"]["actual"], f["plot_ratio_min"]["status"]) == ("0.60", "pass")
    assert (f["tax_per_mu_min"]["status"], f["tax_per_mu_min"]["actual"]) == ("waived", "13.33")
    assert "重大项目一事一议" in f["tax_per_mu_min"]["message"]
    assert decision["verdict"] == "pass"
    publish(client, standalone_doc(f"r-{uid}"))
    again = replay(client, decision["decision_id"])
    assert again["identical"] is True, again["differences"]
    assert again["findings"] == decision["findings"]


def test_replay_of_a_failing_decision_keeps_the_failure(client, uid):
    rid = f"r-{uid}"
    publish(client, standalone_doc(rid, version="1", tax=15))
    decision = check(client, simple_proposal(rid, tax_wan=1349))        # 14.99 < 15
    assert decision["verdict"] == "fail"
    publish(client, standalone_doc(rid, version="2", tax=20, effective_from="2024-01-01"))
    again = replay(client, decision["decision_id"])
    assert again["identical"] is True
    assert again["verdict"] == "fail"
    assert by_rule(again["findings"])["tax_per_mu_min"]["margin"] == "-0.01"


def test_get_decision_returns_the_stored_record(client, uid):
    rid = f"r-{uid}"
    v1 = publish(client, standalone_doc(rid, version="1", tax=15))
    decision = check(client, simple_proposal(rid, tax_wan=1350, reference=f"ref-{uid}"))
    r = client.get(f"/v1/decisions/{decision['decision_id']}")
    assert r.status_code == 200, r.text
    stored = r.json()
    assert stored["decision_id"] == decision["decision_id"]
    assert stored["kind"] == "proposal"
    assert stored["verdict"] == "pass"
    assert stored["pinned"] == [v1["digest"]]
    assert stored["hash"] == decision["hash"]
    assert stored["prev_hash"] == decision["prev_hash"]
    assert stored["seq"] == decision["seq"]
    assert stored["findings"] == decision["findings"]
    assert stored["as_of"] == "2024-03-01"
    assert stored["known_at"] == decision["known_at"]
    assert stored["engine"] == decision["engine"] and stored["engine_version"] == decision["engine_version"]
    assert stored["request"]["reference"] == f"ref-{uid}"
    assert stored["request"]["ruleset"] == rid
    assert stored["request"]["land_area"] == {"value": "90", "unit": "亩"}

    # the hash chains the record to the previous one: sha256(prev_hash + canonical payload)
    payload = {k: v for k, v in stored.items() if k != "hash"}
    expected = hashlib.sha256((stored["prev_hash"] + canonical(payload)).encode("utf-8")).hexdigest()
    assert expected == stored["hash"]

    # publishing a newer version does not change the stored decision
    publish(client, standalone_doc(rid, version="2", tax=20, effective_from="2024-01-01"))
    assert client.get(f"/v1/decisions/{decision['decision_id']}").json() == stored


def test_consecutive_decisions_are_chained(client):
    a = check(client, proposal())
    b = check(client, proposal())
    assert b["prev_hash"] == a["hash"]
    assert b["seq"] == a["seq"] + 1
    report = client.get("/v1/decisions/verify").json()
    assert report["ok"] is True
    assert report["checked"] >= b["seq"]
    assert report["head"] == b["hash"]


def test_unknown_decision_is_404(client, uid):
    assert client.get(f"/v1/decisions/no-such-{uid}").status_code == 404
    assert client.post(f"/v1/decisions/no-such-{uid}/replay").status_code == 404


def _law_doc(path: str, **over) -> dict:
    import json as _json

    from app.core import safe_yaml
    from rules import RULES_DIR

    raw = _json.loads(_json.dumps(safe_yaml.load((RULES_DIR / path).read_text(encoding="utf-8")), default=str))
    return {**raw, **over}


def test_a_contract_check_replays_under_its_pinned_model_after_a_stricter_version(client, uid):
    from tests.contract_factory import base_contract

    # A model of its own, so that its new version reaches no other test.
    model_id = f"GF-T-{uid}"
    doc = _law_doc("contract-models/gf-2008-2601.yaml", id=model_id, version="1")
    r = client.post("/v1/law/contract_model", json=doc)
    assert r.status_code == 201, r.text
    first_digest = r.json()["digest"]
    r = client.post("/v1/checks/contract", json=base_contract(uid, model=model_id))
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["verdict"] == "pass"
    assert decision["law"] == [{"kind": "contract_model", "id": model_id, "version": "1", "digest": first_digest}]

    # Version 2, in force from the same day, asks for 60 days' notice: a new check is weaker ...
    stricter = {**doc, "version": "2"}
    stricter["limits"] = {**doc["limits"], "clauses.extension_notice_days": {
        **doc["limits"]["clauses.extension_notice_days"], "value": 60}}
    assert client.post("/v1/law/contract_model", json=stricter).status_code == 201
    again = client.post("/v1/checks/contract", json=base_contract(uid, model=model_id)).json()
    assert again["verdict"] == "fail" and again["law"][0]["version"] == "2"
    (weaker,) = [f for f in again["findings"] if f["clause"] == "clauses.extension_notice_days"]
    assert weaker["status"] == "weaker" and weaker["rule_value"] == ">= 60"

    # ... and the stored decision replays identically under version 1.
    r = client.post(f"/v1/decisions/{decision['decision_id']}/replay")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "contract" and body["identical"] is True and body["differences"] == []
    assert body["verdict"] == "pass" and body["law"] == decision["law"]

    # The newer decision replays identically too, and differs from the first where the model did.
    body2 = client.post(f"/v1/decisions/{again['decision_id']}/replay").json()
    assert body2["identical"] is True and body2["verdict"] == "fail"


def _late_contract(uid: str) -> dict:
    """The factory's contract, its 亩均税收 reviewed from 2089 (audits here are as of 2091)."""
    from tests.contract_factory import base_contract

    body = base_contract(uid)
    body["commitments"]["tax_per_mu"]["from_year"] = 2089
    return body


def _newer_53(uid: str) -> dict:
    """53号令 parameters in force from 2090 (reaches only audits as of 2090 or later): three years to
    free reclaim, an idle fee of 30 %."""
    return _law_doc("lifecycle/idle-land-53.yaml", version=f"2090.t{uid}", effective_from="2090-01-01",
                    reclaim_after_years=3, idle_fee_share_of_price="3/10")


def test_a_performance_audit_replays_from_what_it_saw(client, uid):
    from tests.contract_factory import one, performance, post_events, post_tax, register, tax_record, tax_year, uscc_for

    no = register(client, _late_contract(uid))
    post_events(client, no, {"type": "delivered", "on": "2022-03-01"})
    post_tax(client, f"B-{uid}-1", tax_record(uscc_for(uid), 2089, 900))
    first = performance(client, no, "2091-01-01")
    idle = one(first, "idle_land")
    assert idle["state"] == "idle_2y" and "满两年" in idle["message"]
    assert {p["kind"] for p in first["law"]} == {"contract_model", "idle_land"}
    assert tax_year(first, 2089)["status"] == "pass"                       # 900 / 30 亩 = 30 ≥ 20
    assert first["inputs"]["tax_records"]["2089"]["tax_paid"] == "900"
    assert "2090" not in first["inputs"]["tax_records"]                    # no record: not kept, not zero

    # Later: the start is recorded, the 2089 figure corrected, and a newer 53号令 version published.
    # A new audit sees all three; the stored decision replays from what it saw.
    post_events(client, no, {"type": "started", "on": "2090-06-01"})
    post_tax(client, f"B-{uid}-2", tax_record(uscc_for(uid), 2089, 300))
    assert client.post("/v1/law/idle_land", json=_newer_53(uid)).status_code in (200, 201)
    second = performance(client, no, "2091-01-01")
    assert one(second, "late_start")["inputs"]["started"] == "2090-06-01"
    assert tax_year(second, 2089)["status"] == "fail"
    (pin,) = [p for p in second["law"] if p["kind"] == "idle_land"]
    assert pin["version"] == f"2090.t{uid}"

    r = client.post(f"/v1/decisions/{first['decision_id']}/replay")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "performance" and body["identical"] is True, body["differences"]
    assert body["verdict"] == first["verdict"] and one(body, "idle_land") == idle
    assert tax_year(body, 2089) == tax_year(first, 2089)


def test_idle_messages_state_the_documents_numbers(client, uid):
    from tests.contract_factory import one, performance, post_events, register

    assert client.post("/v1/law/idle_land", json=_newer_53(uid)).status_code in (200, 201)
    body = _late_contract(uid)
    body["schedule"] = {"delivery_on": "2088-03-01", "start_by": "2089-03-01", "complete_by": "2092-06-30"}
    no = register(client, body)
    post_events(client, no, {"type": "delivered", "on": "2088-03-01"})
    # More than two years after the start date, not three: still the idle fee under the newer version.
    f = one(performance(client, no, "2091-06-01"), "idle_land")
    assert (f["state"], f["amount"]) == ("idle_1y", "360.00"), f           # 30 % × 1200
    assert "30%" in f["formula"] and "20%" not in f["message"] + f["formula"]
    assert f["inputs"]["share"] == "0.3"
    reclaim = one(performance(client, no, "2092-03-02"), "idle_land")
    assert reclaim["state"] == "idle_2y" and "满三年" in reclaim["message"], reclaim


def test_recorded_inputs_read_back_exactly():
    """What a performance decision keeps of its tax figures and land reads back to the same values
    (a withheld year stays withheld; the figures stay exact)."""
    import datetime as dt
    import json as _json
    from decimal import Decimal
    from fractions import Fraction

    from app.checks.performance.contract_audit import read_inputs, recorded_inputs
    from app.checks.tax_per_mu import Holding
    from app.checks.visibility import WITHHELD

    records = {2024: WITHHELD, 2025: {"tax_paid": Decimal("540.25"), "policy_refunds": Decimal("12.5"),
                                      "batch_id": "B-1", "region": "411200", "pk": 7}}
    land = [Holding("C-1", "P-1", Fraction(10, 3), dt.date(2020, 1, 2)), Holding("C-2", None, Fraction(30), None)]
    stored = _json.loads(_json.dumps(recorded_inputs(records, land, "park-1")))       # as the decision log keeps it
    again, land2, park = read_inputs(stored)
    assert again[2024] is WITHHELD and park == "park-1" and land2 == land
    assert again[2025] == {"tax_paid": Decimal("540.25"), "policy_refunds": Decimal("12.5"), "batch_id": "B-1",
                           "region": "411200"}


def test_a_performance_decision_without_recorded_inputs_is_refused_with_a_reason(client, uid):
    """Performance decisions stored before they recorded their tax figures and land cannot be
    recomputed from what they saw: 422, not a replay against today's data."""
    from sqlmodel import Session

    from app.store import decisions as store
    from app.store.db import get_engine
    from tests.contract_factory import base_contract, performance, register

    no = register(client, base_contract(uid))
    body = performance(client, no, "2024-01-01")
    old = {k: v for k, v in body.items() if k not in ("inputs", "decision_id", "seq", "created_at", "prev_hash", "hash")}
    with Session(get_engine()) as session:
        (stored,) = store.append(session, [old])
    r = client.post(f"/v1/decisions/{stored['decision_id']}/replay")
    assert r.status_code == 422, r.text
    (problem,) = r.json()["detail"]
    assert problem["path"] == "decision_id" and "performance" in problem["msg"]
    assert client.post(f"/v1/decisions/{body['decision_id']}/replay").json()["identical"] is True
