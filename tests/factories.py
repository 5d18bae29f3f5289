"""Builders for test rule-set documents and proposals (docs/rule-sets.md format).

Every builder returns a fresh, valid document; tests override what they need.
Ids must be unique per test (use the ``uid`` fixture): the database is shared by
the whole session.

Each document applies to a park of its own (``applies_to: {parks: [test-<id>]}``) unless the test
says otherwise: publishing two sets at the same level for the same jurisdiction, industries and
dates is refused (409), and the session publishes many sets for 411202 and 419901 that tests
name explicitly (``ruleset``).  A test of resolution by jurisdiction passes ``applies_to=None``
and a jurisdiction (or dates) of its own.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import proposal

_OWN_PARK: Any = object()


def _applies(doc: dict, rid: str, applies_to: Any) -> dict:
    if applies_to is _OWN_PARK:
        doc["applies_to"] = {"parks": [f"test-{rid}"]}
    elif applies_to is not None:
        doc["applies_to"] = copy.deepcopy(applies_to)
    return doc


def standalone_doc(rid: str, version: str = "1", *, effective_from: str = "2020-01-01",
                   jurisdiction: str = "419901", tax: Any = 15, investment: Any = 200,
                   applies_to: Any = _OWN_PARK, **over: Any) -> dict:
    """A rule set with no parent: tax_per_mu >= tax and investment_intensity >= investment (万元/亩)."""
    doc = {
        "id": rid,
        "version": version,
        "title": "测试规则集",
        "status": "official",
        "jurisdiction": jurisdiction,
        "parent": None,
        "effective_from": effective_from,
        "effective_to": None,
        "classification": "GB/T 4754-2017",
        "precision": {"mode": "round_half_up", "places": 2},
        "documents": {"t-doc": {"title": "测试用规范性文件", "number": "测〔2024〕1号", "url": None}},
        "rules": [
            {"id": "tax_per_mu_min", "indicator": "tax_per_mu", "role": "core", "op": ">=",
             "threshold": tax, "unit": "万元/亩", "required": True,
             "cite": {"doc": "t-doc", "article": "第一条"}},
            {"id": "investment_intensity_min", "indicator": "investment_intensity", "role": "core",
             "op": ">=", "threshold": investment, "unit": "万元/亩", "required": True,
             "cite": {"doc": "t-doc", "article": "第二条"}},
        ],
    }
    doc.update(copy.deepcopy(over))
    return _applies(doc, rid, applies_to)


def child_doc(rid: str, rules: list[dict], *, version: str = "1", parent: str = "sanmenxia-standard-land",
              jurisdiction: str = "411202", effective_from: str = "2022-01-01", applies_to: Any = _OWN_PARK,
              **over: Any) -> dict:
    """A county layer under ``parent`` with the given rules; cites ``county-doc``."""
    doc = {
        "id": rid,
        "version": version,
        "title": "测试县级标准地指标",
        "status": "official",
        "jurisdiction": jurisdiction,
        "parent": parent,
        "effective_from": effective_from,
        "effective_to": None,
        "classification": "GB/T 4754-2017",
        "precision": {"mode": "round_half_up", "places": 2},
        "documents": {"county-doc": {"title": "测试县工业用地标准地实施办法", "number": "测县〔2022〕3号"}},
        "rules": rules,
    }
    doc.update(copy.deepcopy(over))
    return _applies(doc, rid, applies_to)


def tax_rule(threshold: Any, **over: Any) -> dict:
    rule = {"id": "tax_per_mu_min", "indicator": "tax_per_mu", "role": "core", "op": ">=",
            "threshold": threshold, "unit": "万元/亩", "required": True,
            "cite": {"doc": "county-doc", "article": "第三条"}}
    rule.update(over)
    return rule


def simple_proposal(ruleset: str, *, tax_wan: Any = 1350, investment_wan: Any = 19800,
                    as_of: str = "2024-03-01", **over: Any) -> dict:
    """A proposal on 90 亩 naming ``ruleset`` directly: tax 1350 万元 = 15 万元/亩,
    investment 19800 万元 = 220 万元/亩 unless overridden."""
    body = proposal(ruleset=ruleset, as_of=as_of)
    body.pop("jurisdiction")
    body["measures"] = {"fixed_asset_investment": {"value": investment_wan, "unit": "万元"},
                        "annual_tax": {"value": tax_wan, "unit": "万元"}}
    body.update(over)
    return body


def by_rule(findings: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for f in findings:
        assert f["rule"] not in out, f"two findings for rule {f['rule']}: name them by layer"
        out[f["rule"]] = f
    return out


def paths(response) -> set[str]:
    return {d["path"] for d in response.json()["detail"]}
