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
