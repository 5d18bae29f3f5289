"""Scoring rule sets as law documents: published through POST /v1/law/scoring, used by a run
(the version named, else the one in force on the run's date), pinned in the run and its decision,
and replayed under exactly that version after a newer one is published."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from app.core import safe_yaml
from rules import RULES_DIR

HUANGYAN = RULES_DIR / "scoring" / "huangyan-2022-example.yaml"


def scoring_doc(rid: str, version: str, effective_from: str, **weights_and_benchmarks) -> dict:
    """The bundled Huangyan set as a JSON client sends it, under another id and version, with the
    given (weight, benchmark) of some indicators."""
    raw = json.loads(json.dumps(safe_yaml.load(HUANGYAN.read_text(encoding="utf-8")), default=str))
    raw.update(id=rid, version=version, effective_from=effective_from, status="official", title=f"测试评价规则 {version}")
    raw.pop("jurisdiction", None)
    for ind in raw["indicators"]:
        if ind["key"] in weights_and_benchmarks:
            ind["weight"], ind["benchmark"] = weights_and_benchmarks[ind["key"]]
    return raw


def values(**over) -> dict:
    base = {"tax_per_mu": "48.194", "va_per_mu": "136.16", "energy_efficiency": "2.694", "emission_efficiency": "4929.81",
            "labour_productivity": "18.14", "rd_share": "0.0302"}
    return {**base, **over}


def test_published_rule_set_is_used_pinned_and_replayed(client):
    rid = f"scoring-law-{uuid.uuid4().hex[:8]}"
    # v1: tax per mu weighs 40 (benchmark 24.097) and value added 10
    v1 = client.post("/v1/law/scoring", json=scoring_doc(rid, "1", "2020-01-01",
                                                          tax_per_mu=(40, "24.097"), va_per_mu=(10, "136.16")))
    assert v1.status_code == 201, v1.text
    v1 = v1.json()
    assert (v1["kind"], v1["id"], v1["version"], v1["source"]) == ("scoring", rid, "1", "api")
    body = {"ruleset": rid, "year": 2025, "enterprises": [
        {"id": "L1", "values": values()},                                    # tax at 2 × benchmark
        {"id": "L2", "values": values(tax_per_mu="24.097", va_per_mu="272.32")}]}
    run1 = client.post("/v1/scoring/runs", json=body)
    assert run1.status_code == 201, run1.text
    run1 = run1.json()
    pin1 = {"kind": "scoring", "id": rid, "version": "1", "digest": v1["digest"]}
    assert run1["law"] == [pin1] and run1["ruleset"]["digest"] == v1["digest"] and run1["ruleset"]["version"] == "1"
    # L1: 2 × 40 + 10 + 20 + 10 + 10 + 10 = 140; L2: 40 + 2 × 10 + 50 = 110
    assert {r["id"]: r["score"] for r in run1["results"]} == {"L1": "140", "L2": "110"}
    decision = client.get(f"/v1/decisions/{run1['decision_id']}").json()
    assert decision["law"] == [pin1] and decision["ruleset"]["digest"] == v1["digest"]

    # v2, in force from 2021: tax per mu weighs 30 against benchmark 48.194, value added 20
    v2 = client.post("/v1/law/scoring", json=scoring_doc(rid, "2", "2021-01-01", tax_per_mu=(30, "48.194")))
    assert v2.status_code == 201, v2.text
    v2 = v2.json()
    assert v2["digest"] != v1["digest"]

    # The earlier run replays identically under v1, which it pinned.
    r = client.post(f"/v1/decisions/{run1['decision_id']}/replay")
    assert r.status_code == 200, r.text
    replay = r.json()
    assert replay["identical"] is True and replay["differences"] == [] and replay["law"] == [pin1]
    assert replay["ruleset"]["version"] == "1" and replay["class_counts"] == run1["class_counts"]

    # A new run without a version uses v2 (in force today): L1 30 + 20 + 50 = 100, L2 15 + 40 + 50 = 105.
    run2 = client.post("/v1/scoring/runs", json=body).json()
    assert run2["law"] == [{"kind": "scoring", "id": rid, "version": "2", "digest": v2["digest"]}]
    assert {r["id"]: r["score"] for r in run2["results"]} == {"L1": "100", "L2": "105"}
    assert client.post(f"/v1/decisions/{run2['decision_id']}/replay").json()["identical"] is True
    # Naming v1 still gives v1.
    again = client.post("/v1/scoring/runs", json={**body, "ruleset_version": "1"}).json()
    assert again["law"] == [pin1] and again["request_digest"] == run1["request_digest"]
    assert [x["score"] for x in again["results"]] == [x["score"] for x in run1["results"]]

    # Listed and shown like the bundled set.
    listed = client.get("/v1/scoring/rulesets").json()["rulesets"]
    assert {(x["id"], x["version"]) for x in listed if x["id"] == rid} == {(rid, "1"), (rid, "2")}
    shown = client.get(f"/v1/scoring/rulesets/{rid}").json()
    assert shown["version"] == "2" and Decimal(shown["indicators"][0]["benchmark"]) == Decimal("48.194")


def test_version_not_yet_in_force_and_unknown_names(client):
    rid = f"scoring-future-{uuid.uuid4().hex[:8]}"
    assert client.post("/v1/law/scoring", json=scoring_doc(rid, "1", "2099-01-01")).status_code == 201
    ents = [{"id": "F1", "values": values()}]
    r = client.post("/v1/scoring/runs", json={"ruleset": rid, "year": 2025, "enterprises": ents})
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "ruleset_version", r.text
    ok = client.post("/v1/scoring/runs", json={"ruleset": rid, "ruleset_version": "1", "year": 2025, "enterprises": ents})
    assert ok.status_code == 201, ok.text
    r = client.post("/v1/scoring/runs", json={"ruleset": rid, "ruleset_version": "9", "year": 2025, "enterprises": ents})
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "ruleset_version"
    r = client.post("/v1/scoring/runs", json={"ruleset": "no-such-set", "year": 2025, "enterprises": ents})
    assert r.status_code == 422 and r.json()["detail"][0]["path"] == "ruleset"


def test_publish_refuses_a_bad_scoring_rule_set_with_paths(client):
    raw = scoring_doc(f"scoring-bad-{uuid.uuid4().hex[:8]}", "1", "2022-01-01", tax_per_mu=(31, "24.097"))
    raw["classes"]["bands"][1]["from_pct"] = 26
    r = client.post("/v1/law/scoring", json=raw)
    assert r.status_code == 422, r.text
    got = {d["path"]: d["msg"] for d in r.json()["detail"]}
    assert "weights must sum to 100, they sum to 101" in got["indicators"]
    assert "classes.bands.1.from_pct" in got
