"""The parcel's own plot-ratio requirement (``app.checks.parks.classify.plot_ratio_requirement``)
when the contract states none and no rule set resolves on its signing date: ``not_covered``, with
the resolver's reasons in the message (not an error)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from app.checks.parks.classify import plot_ratio_requirement
from app.core.errors import InputError, Problem
from app.schemas.contract import ContractRequest
from tests.contract_factory import base_contract


class _NoRuleSet:
    def resolve(self, **_kw):
        raise InputError([Problem("ruleset", "签约日无生效版本"), Problem("jurisdiction", "无适用规则集")])


def test_no_rule_set_on_the_signing_date_is_not_covered():
    body = base_contract("abcd1234", 1)
    del body["commitments"]["plot_ratio"]
    contract = ContractRequest.model_validate(body)
    data = SimpleNamespace(registry=_NoRuleSet(), known_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                           park=SimpleNamespace(id="p"))
    req = plot_ratio_requirement(data, SimpleNamespace(contract=contract))
    assert (req.value, req.source, req.status) == (None, "ruleset", "not_covered")
    assert req.message == "签约日 2023-01-10 无可用规则集：签约日无生效版本；无适用规则集"
