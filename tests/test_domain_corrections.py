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
