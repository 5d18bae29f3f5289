"""The contract-model and 53号令 parsers (app.lifecycle.law): a bad document is refused with the
path of every problem, directly and through POST /v1/law/{kind}."""

from __future__ import annotations

import json

import pytest

from app.core import safe_yaml
from app.core.errors import InputError
from app.lifecycle.law import parse_contract_model, parse_idle_land_law
from rules import RULES_DIR


def _doc(path: str) -> dict:
    return json.loads(json.dumps(safe_yaml.load((RULES_DIR / path).read_text(encoding="utf-8")), default=str))


def _paths(fn, raw) -> set[str]:
    with pytest.raises(InputError) as e:
        fn(raw)
    return {p.path for p in e.value.problems}


def test_the_bundled_documents_parse_with_their_versions():
    m = parse_contract_model(_doc("contract-models/gf-2008-2601.yaml"))
    assert (m.id, m.version, m.late_completion_base) == ("GF-2008-2601", "2008.1", "total_price")
    law = parse_idle_land_law(_doc("lifecycle/idle-land-53.yaml"))
    assert (law.version, law.idle_fee_after_years, law.reclaim_after_years) == ("2012.1", 1, 2)
    assert str(law.idle_fee_share_of_price) == "1/5" and law.disposal("extend_start")["cap_years"] == 1


def test_a_bad_contract_model_names_every_problem():
    raw = _doc("contract-models/gf-2008-2601.yaml")
    raw["version"] = 2008
    raw["limits"]["clauses.extension_max_years"]["op"] = "=="
    raw["limits"]["clauses.extension_notice_days"]["value"] = "thirty"
    raw["required"]["land_price"]["doc"] = "no-such-doc"
    raw["late_completion_base"] = "area"
    assert _paths(parse_contract_model, raw) == {
        "version", "limits.clauses.extension_max_years.op", "limits.clauses.extension_notice_days.value",
        "required.land_price.doc", "late_completion_base"}
    assert _paths(parse_contract_model, []) >= {""}


def test_a_bad_53_document_names_every_problem():
    raw = _doc("lifecycle/idle-land-53.yaml")
    raw["idle_fee_share_of_price"] = 0.2                 # a float: not exact
    raw["reclaim_after_years"] = 1                       # not after the fee
    raw["stalled_developed_share"] = "3/2"
    raw["disposal_options"] = [o for o in raw["disposal_options"] if o["measure"] != "extend_start"]
    del raw["government_cause_labels"]["petition"]
    assert _paths(parse_idle_land_law, raw) == {
        "idle_fee_share_of_price", "reclaim_after_years", "stalled_developed_share", "disposal_options",
        "government_cause_labels.petition"}


def test_publishing_a_bad_53_document_is_422_with_paths(client, uid):
    raw = {**_doc("lifecycle/idle-land-53.yaml"), "version": f"9.{uid}", "idle_fee_share_of_price": "abc"}
    r = client.post("/v1/law/idle_land", json=raw)
    assert r.status_code == 422, r.text
    assert "idle_fee_share_of_price" in {p["path"] for p in r.json()["detail"]}


def test_the_extension_cap_after_a_government_delay_is_the_documents(client, uid):
    """53号令 Art. 12(1) caps an extension agreed after a government-caused delay: the cap is the
    ``cap_years`` of the version in force when the events happen (here a version from 2095 with two
    years; the bundled one has one)."""
    from tests.contract_factory import base_contract, post_events, register

    raw = _doc("lifecycle/idle-land-53.yaml")
    raw.update(version=f"2095.t{uid}", effective_from="2095-01-01",
               disposal_options=[{**o, "cap_years": 2} if o["measure"] == "extend_start" else o
                                 for o in raw["disposal_options"]])
    assert client.post("/v1/law/idle_land", json=raw).status_code in (200, 201)
    no = register(client, base_contract(uid))
    post_events(client, no, {"type": "government_delay", "on": "2095-01-01", "cause": "plan_change",
                             "new_start_by": "2095-06-01"})
    post_events(client, no, {"type": "extension_approved", "on": "2095-05-01", "new_start_by": "2096-10-01"})
    (problem,) = post_events(client, no, {"type": "extension_approved", "on": "2095-05-02",
                                          "new_start_by": "2097-12-01"}, status=422)
    assert problem["path"] == "events.0.new_start_by" and "24 个月" in problem["msg"], problem


def test_an_audit_before_the_first_53_version_uses_it(client, uid):
    from tests.contract_factory import base_contract, one, performance, register

    no = register(client, base_contract(uid))
    perf = performance(client, no, "2011-06-01")
    (pin,) = [p for p in perf["law"] if p["kind"] == "idle_land"]
    assert pin["version"] == "2012.1"
    assert one(perf, "idle_land")["state"] == "not_idle"
