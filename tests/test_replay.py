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


def test_replay_of_a_contract_check_decision_is_refused_with_a_reason(client, uid):
    from tests.contract_factory import base_contract

    r = client.post("/v1/checks/contract", json=base_contract(uid))
    assert r.status_code == 200, r.text
    decision_id = r.json()["decision_id"]
    r = client.post(f"/v1/decisions/{decision_id}/replay")
    assert r.status_code == 422, r.text
    (problem,) = r.json()["detail"]
    assert problem["path"] == "decision_id" and "proposal" in problem["msg"]
