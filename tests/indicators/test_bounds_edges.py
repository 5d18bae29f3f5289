"""Sanity bounds of given indicators at their edges, through POST /v1/checks/proposal.

Normalisation tests bounds by integer cross-multiplication rather than Fraction comparisons;
these cases pin where a refusal starts: exactly at a bound, and 10⁻¹² either side of it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from indicators.catalog import load_catalog
from tests.conftest import proposal
from tests.factories import paths

STEP = Decimal("1e-12")


def _on_grid(x: Fraction) -> bool:
    return 10**12 % x.denominator == 0 and abs(x) < 10**11


def _dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


def _cases() -> list[tuple[str, Decimal, bool]]:
    """(indicator, value in its canonical unit, refused?)"""
    out = []
    for iid, ind in load_catalog().indicators.items():
        b = ind.bounds
        if ind.is_boolean or b is None:
            continue
        if b.max is not None and _on_grid(b.max):
            out += [(iid, _dec(b.max), False), (iid, _dec(b.max) + STEP, True)]
        if b.min is not None and _on_grid(b.min):
            out += [(iid, _dec(b.min), b.min_exclusive), (iid, _dec(b.min) - STEP, True),
                    (iid, _dec(b.min) + STEP, False)]
    return out


CASES = _cases()


def test_the_catalog_has_edges_to_test() -> None:
    assert len({c[0] for c in CASES}) >= 3, CASES


@pytest.mark.parametrize(("iid", "value", "refused"), CASES, ids=lambda v: str(v))
def test_bound_edge(client, iid: str, value: Decimal, refused: bool) -> None:
    ind = load_catalog().indicators[iid]
    body = proposal()
    body["indicators"] = {**body["indicators"], iid: {"value": str(value), **({"unit": ind.unit} if ind.unit else {})}}
    r = client.post("/v1/checks/proposal", json=body)
    path = f"indicators.{iid}.value"
    if refused:
        assert r.status_code == 422, r.text
        assert path in paths(r), r.text
    else:
        assert r.status_code == 200, r.text
