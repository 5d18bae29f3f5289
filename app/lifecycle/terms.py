"""A contract's terms as the lifecycle works with them: exact numbers in canonical units.

``ContractTerms.from_request`` is the one place a contract's quantities are converted
(``indicators.units``): areas in 亩 (``area_m2`` for m²), money in 万元, intensities and
亩均税收 in 万元/亩, the committed intervals in the indicator's canonical unit (ratio or %),
‰ rates as exact numbers.  The clause check, the state on a date, the idle-land tests and the
performance audit all read these terms; none converts a unit again.  A unit that does not fit
its quantity is a 422 with the field's path, reported for every such field at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from app.core.errors import InputError, Problem
from app.schemas.contract import ContractRequest
from indicators import units
from indicators.units import M2_PER_MU

# Committed intervals and the canonical kind of their indicator (indicators/catalog.yaml).
INTERVAL_KINDS: dict[str, str] = {"plot_ratio": "ratio", "building_coefficient": "percent", "green_ratio": "percent",
                                  "admin_land_share": "percent", "admin_floor_share": "percent"}
# Committed single values (a minimum) and their kind.
VALUE_KINDS: dict[str, str] = {"investment_intensity": "money_per_area", "tax_per_mu": "money_per_area",
                               "output_per_mu": "money_per_area"}


@dataclass(frozen=True)
class Bounds:
    """A committed interval in the indicator's canonical unit; either side may be absent."""

    min: Fraction | None
    max: Fraction | None


@dataclass(frozen=True)
class Commitments:
    fixed_asset_investment: Fraction | None        # 万元, as agreed (None: not agreed)
    investment_intensity: Fraction | None          # 万元/亩, as agreed
    tax_per_mu: Fraction | None                    # 万元/亩
    tax_from_year: int | None
    output_per_mu: Fraction | None                 # 万元/亩
    intervals: dict[str, Bounds]                   # only the agreed ones

    def value(self, indicator: str) -> Fraction | None:
        return getattr(self, indicator)


@dataclass(frozen=True)
class Penalties:
    """The contract's blanks: ‰ rates (None: left blank) and the agreed choices."""

    late_payment_permille: Fraction | None
    late_start_permille: Fraction | None
    late_completion_permille: Fraction | None
    over_limit_permille: Fraction | None
    late_delivery_permille: Fraction | None
    shortfall_aggregate: str | None
    tax_shortfall: str | None
    over_limit_mode: str


@dataclass(frozen=True)
class Schedule:
    delivery_on: dt.date | None
    start_by: dt.date | None
    complete_by: dt.date | None


@dataclass(frozen=True)
class ContractTerms:
    contract_no: str
    model: str
    jurisdiction: str
    industry: dict                      # as the rule-set registry takes it
    ruleset: str | None
    parcel_code: str | None
    signed_on: dt.date
    uscc: str
    area_mu: Fraction                   # > 0
    price_wan: Fraction | None          # the transfer price P (None: not stated)
    commitments: Commitments
    schedule: Schedule
    penalties: Penalties
    extension_notice_days: int | None
    extension_max_years: Fraction | None
    request: ContractRequest            # the text as agreed: for the clause check and for display

    @property
    def area_m2(self) -> Fraction:
        return self.area_mu * M2_PER_MU

    @classmethod
    def from_request(cls, req: ContractRequest) -> ContractTerms:
        problems: list[Problem] = []

        def conv(value: Any, unit: str | None, kind: str, path: str) -> Fraction | None:
            if value is None:
                return None
            try:
                fn, fd = _factor(unit, kind)
            except units.UnitError as e:
                problems.append(Problem(f"{path}.unit", str(e)))
                return None
            n, d = value.as_integer_ratio()          # Decimal: exact, and no Fraction detour
            return Fraction(n * fn, d * fd)

        def qty(q: Any, kind: str, path: str) -> Fraction | None:
            return None if q is None else conv(q.value, q.unit, kind, path)

        area = qty(req.land_area, "area", "land_area")
        if area is not None and area <= 0:
            problems.append(Problem("land_area.value", "用地面积必须大于 0 (must be > 0)"))
        price = qty(req.land_price, "money", "land_price")
        c = req.commitments
        values = {k: qty(getattr(c, k), kind, f"commitments.{k}") for k, kind in VALUE_KINDS.items()}
        intervals = {}
        for k, kind in INTERVAL_KINDS.items():
            iv = getattr(c, k)
            if iv is not None:
                # One problem per interval (both sides share the unit).
                before = len(problems)
                lo = conv(iv.min, iv.unit, kind, f"commitments.{k}")
                hi = conv(iv.max, iv.unit, kind, f"commitments.{k}") if len(problems) == before else None
                intervals[k] = Bounds(lo, hi)
        total = qty(c.fixed_asset_investment, "money", "commitments.fixed_asset_investment")
        if problems:
            raise InputError(problems)
        assert area is not None
        p = req.penalties
        s = req.schedule
        return cls(
            contract_no=req.contract_no, model=req.model, jurisdiction=req.jurisdiction,
            industry=req.industry.model_dump(), ruleset=req.ruleset, parcel_code=req.parcel_code,
            signed_on=req.signed_on, uscc=req.transferee.uscc, area_mu=area, price_wan=price,
            commitments=Commitments(fixed_asset_investment=total, investment_intensity=values["investment_intensity"],
                                    tax_per_mu=values["tax_per_mu"],
                                    tax_from_year=c.tax_per_mu.from_year if c.tax_per_mu is not None else None,
                                    output_per_mu=values["output_per_mu"], intervals=intervals),
            schedule=Schedule(s.delivery_on, s.start_by, s.complete_by),
            penalties=Penalties(_exact(p.late_payment_permille), _exact(p.late_start_permille),
                                _exact(p.late_completion_permille), _exact(p.over_limit_permille),
                                _exact(p.late_delivery_permille), p.shortfall_aggregate, p.tax_shortfall,
                                p.over_limit_mode),
            extension_notice_days=req.clauses.extension_notice_days,
            extension_max_years=_exact(req.clauses.extension_max_years),
            request=req,
        )


def _exact(v: Decimal | None) -> Fraction | None:
    return None if v is None else Fraction(v)


@lru_cache(maxsize=1024)           # units are user input: bounded
def _factor(unit: str | None, kind: str) -> tuple[int, int]:
    """``units.to_canonical`` is linear in the value and refuses a unit by unit and kind alone: one
    call per pair gives the factor (as in ``app.checks.proposal``), a contract's figures then cost a
    Fraction of two integers each (the parks code folds thousands of contracts)."""
    f = units.to_canonical(1, unit, kind)
    return f.numerator, f.denominator


def terms_of(contract: ContractRequest | ContractTerms) -> ContractTerms:
    """The terms of a contract given either way (callers that still hold the request)."""
    return contract if isinstance(contract, ContractTerms) else ContractTerms.from_request(contract)


def money(q: Any, path: str) -> Fraction | None:
    """An event's money figure in 万元 (events are converted as they are read: ``app.lifecycle.state``)."""
    return _event_qty(q, "money", path)


def area(q: Any, path: str) -> Fraction | None:
    """An event's area figure in 亩."""
    return _event_qty(q, "area", path)


def _event_qty(q: Any, kind: str, path: str) -> Fraction | None:
    if q is None:
        return None
    try:
        return units.to_canonical(q.value, q.unit, kind)
    except units.UnitError as e:
        raise InputError([Problem(f"{path}.unit", str(e))]) from None
