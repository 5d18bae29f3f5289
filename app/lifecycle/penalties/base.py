"""What every penalty formula shares: the result ``Penalty``, ‰ rates, the shortfall and
excess ratios and how several combine, and the rescission test of F1 and F8."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from app.lifecycle.penalties.numbers import (
    Num,
    _date_str,
    _fmt,
    _num,
    _pos,
    _rate,
    to_output,
    to_output_str,
)
from app.lifecycle.periods import days_late

Agg = Literal["max", "mean", "sum"]
CountFrom = Literal["due", "demand"]

AMOUNT_LABEL = "合同约定金额 (contractual amount; a court may reduce it, 民法典 Art. 585 ❓)"

_AGGS = ("max", "mean", "sum")


def permille(r: Num | None) -> Fraction:
    """A contract ‰ rate as a fraction: permille(1) == 1/1000.  None raises ``MissingRateError``."""
    return _rate("r_permille", r) / 1000


def s(minimum: Num, actual: Num) -> Fraction:
    """Shortfall ratio ``max(0, (minimum − actual) / minimum)``; 0 at exactly the minimum.  ``minimum`` must be > 0."""
    m = _pos("minimum", minimum)
    return max(Fraction(0), (m - _num("actual", actual)) / m)


def e(maximum: Num, actual: Num) -> Fraction:
    """Excess ratio ``max(0, (actual − maximum) / maximum)``; 0 at exactly the maximum.  Not capped at 1."""
    m = _pos("maximum", maximum)
    return max(Fraction(0), (_num("actual", actual) - m) / m)


def aggregate(ratios: Sequence[Fraction], agg: Agg = "max") -> Fraction:
    """Combine shortfall/excess ratios: "max" (the suggested default), "mean", or "sum" (only on an explicit choice).

    How several ratios combine is ❓ (docs/domain.md); the rule set must declare it.  "sum" can exceed 1.
    """
    if agg not in _AGGS:
        raise ValueError(f"agg must be one of {_AGGS}, got {agg!r}")
    values = [Fraction(r) for r in ratios]
    if not values:
        raise ValueError("no ratios to aggregate")
    if agg == "max":
        return max(values)
    if agg == "sum":
        return sum(values, Fraction(0))
    return sum(values, Fraction(0)) / len(values)


def _rescission(
    due: date,
    end: date,
    *,
    demand_made: bool,
    demand_date: date | None,
    outstanding: bool,
    after_days: int,
    count_from: CountFrom,
) -> tuple[bool, dict[str, str]]:
    """Shared F1/F8 test: a demand made (on or before ``end``), still outstanding, and more than ``after_days``
    days counted from ``count_from`` ("due" or "demand") up to ``end``."""
    if isinstance(after_days, bool) or not isinstance(after_days, int) or after_days < 0:
        raise ValueError(f"rescission_after_days must be an int >= 0, got {after_days!r}")
    if count_from not in ("due", "demand"):
        raise ValueError(f"rescission_count_from must be 'due' or 'demand', got {count_from!r}")
    made = (demand_made or demand_date is not None) and (demand_date is None or demand_date <= end)
    if count_from == "demand":
        if (demand_made or demand_date is not None) and demand_date is None:
            raise ValueError("rescission_count_from='demand' needs demand_date")
        counted = days_late(demand_date, end) if demand_date is not None else 0
    else:
        counted = days_late(due, end)
    info = {
        "demand_made": str(bool(made)).lower(),
        "demand_date": _date_str(demand_date),
        "rescission_count_from": count_from,
        "rescission_days_counted": str(counted),
        "rescission_after_days": str(after_days),
    }
    return bool(made and outstanding and counted > after_days), info


# ---------------------------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Penalty:
    """One computed penalty.  ``amount`` is exact (same money unit as the inputs: 万元 in this service)."""

    amount: Fraction
    formula: str  # short human-readable Chinese + symbolic text
    inputs: dict[str, str]  # name → exact value as text (numbers via Fraction, dates ISO)
    flags: dict[str, bool] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def amount_output(self, places: int = 2, rounding: str = ROUND_HALF_UP) -> Decimal:
        return to_output(self.amount, places, rounding)

    def to_dict(self, places: int = 2, rounding: str = ROUND_HALF_UP) -> dict:
        """JSON-ready form: rounded ``amount`` text, the exact amount, formula, inputs, flags, notes, label."""
        return {
            "amount": to_output_str(self.amount, places, rounding),
            "amount_exact": _fmt(self.amount),
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "flags": dict(self.flags),
            "notes": list(self.notes),
            "label": AMOUNT_LABEL,
        }


