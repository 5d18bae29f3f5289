"""Contract penalty formulas F1–F8 and the 亩均税收 shortfall options (docs/domain.md).

Pure functions, exact arithmetic (``fractions.Fraction``); round only at output (``to_output``).

Conventions
- Money is in the unit the caller passes; this service passes 万元 throughout, and every formula is
  linear in its money input, so the amount comes back in the same unit.
- Numbers may be ``int``, ``str`` ("1200", "0.5", "1/3"), ``Decimal`` or ``Fraction``.  ``float`` and
  ``bool`` are refused: a float such as 0.1 has no exact value, and the results must be exact.
- Every ‰ rate comes from the contract blank (``r_permille`` = the number written before "‰", per day
  unless the formula says one-off).  There are no default rates: ``None`` (a blank) raises
  ``MissingRateError`` because the penalty cannot be computed.
- Choices that are ❓ in the domain notes are parameters: how several ratios combine (``agg``), F7's
  ``mode``, the F3 contract ``version`` (no default: which version Sanmenxia uses is ❓), the
  rescission threshold and its counting start, the 亩均税收 ``option`` (no default), output rounding.
- Amounts are the *contractual* amounts; a court may reduce an excessive agreed penalty
  (民法典 Art. 585, ❓ not re-verified), so outputs carry ``AMOUNT_LABEL``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from fractions import Fraction
from typing import Literal

from app.lifecycle.periods import add_years, days_late, elapsed_at_least

__all__ = [
    "AMOUNT_LABEL",
    "Num",
    "Agg",
    "Penalty",
    "MissingRateError",
    "InsufficientDataError",
    "InvestmentConsistency",
    "permille",
    "s",
    "e",
    "aggregate",
    "f1_late_payment",
    "f2_late_start",
    "f3_late_completion",
    "f4_investment_shortfall",
    "investment_terms_consistency",
    "intensity_to_yuan_per_m2",
    "f5_below_minimum",
    "f6_above_maximum",
    "f7_over_limit",
    "over_limit_items",
    "f8_late_delivery",
    "tax_per_mu_shortfall",
    "m2_to_mu",
    "to_output",
    "to_output_str",
]

Num = int | str | Decimal | Fraction
Agg = Literal["max", "mean", "sum"]
ContractVersion = Literal["GF-2008-2601", "GF-2025-2601"]
CountFrom = Literal["due", "demand"]
TaxOption = Literal["pay_difference", "make_up", "proportional", "none"]

AMOUNT_LABEL = "合同约定金额 (contractual amount; a court may reduce it, 民法典 Art. 585 ❓)"

_AGGS = ("max", "mean", "sum")
_ROUNDINGS = (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_UP, ROUND_DOWN, ROUND_CEILING, ROUND_FLOOR)
_HALF = Fraction(1, 2)


class MissingRateError(ValueError):
    """A ‰ rate is blank (None) in the contract: the penalty cannot be computed."""


class InsufficientDataError(ValueError):
    """A required figure is missing (e.g. no tax record): never read as zero; raise a data request instead."""


# ---------------------------------------------------------------------------------------------- helpers


def _num(name: str, value: object) -> Fraction:
    """An exact Fraction from int / str / Decimal / Fraction; floats, bools and None are refused."""
    if value is None:
        raise InsufficientDataError(f"{name} is missing (None)")
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{name} must be int, str, Decimal or Fraction (got {type(value).__name__}); floats are not exact")
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value}")
        return Fraction(value)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"{name} is not a number: {value!r}") from exc
    raise TypeError(f"{name} must be int, str, Decimal or Fraction, got {type(value).__name__}")


def _nonneg(name: str, value: object) -> Fraction:
    x = _num(name, value)
    if x < 0:
        raise ValueError(f"{name} must be >= 0, got {_fmt(x)}")
    return x


def _pos(name: str, value: object) -> Fraction:
    x = _num(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {_fmt(x)}")
    return x


def _rate(name: str, value: object) -> Fraction:
    if value is None:
        raise MissingRateError(
            f"{name} is blank (None): the contract's ‰ rate was not filled in, so this penalty cannot be computed; "
            "read the rate from the contract or the rule set (there is no default rate)"
        )
    return _nonneg(name, value)


def _fmt(x: Fraction) -> str:
    """Exact text: a terminating decimal ("1200", "0.25", "-3.5") or "n/d" ("1/3")."""
    d = x.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    places = max(twos, fives)
    scaled = x.numerator * 10**places // x.denominator  # exact: 10**places is a multiple of the denominator
    return format(Decimal(f"{scaled}E-{places}"), "f")


def _date_str(d: date | None) -> str:
    return "" if d is None else d.isoformat()


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


# ---------------------------------------------------------------------------------------------- F1–F8


def f1_late_payment(
    overdue: Num,
    r_permille: Num | None,
    due: date,
    paid: date,
    *,
    demand_made: bool = False,
    demand_date: date | None = None,
    still_unpaid: bool = False,
    rescission_after_days: int = 60,
    rescission_count_from: CountFrom = "due",
) -> Penalty:
    """F1 late payment (2008 Art. 30 ◐): ``overdue × r/1000 × days_late(due, paid)``.

    ``paid`` is the payment date, or the as-of date while the sum is still unpaid (then pass ``still_unpaid=True``).
    Flag ``rescission_option`` (transferor may rescind and keep the deposit): more than ``rescission_after_days``
    (60) days late, a demand made (``demand_made`` or a ``demand_date`` on or before ``paid``) and still unpaid.
    Days are counted from ``due`` by default; ``rescission_count_from="demand"`` counts from ``demand_date``.
    """
    amt = _nonneg("overdue", overdue)
    r = _rate("r_permille", r_permille)
    days = days_late(due, paid)
    option, info = _rescission(
        due, paid, demand_made=demand_made, demand_date=demand_date, outstanding=still_unpaid,
        after_days=rescission_after_days, count_from=rescission_count_from,
    )
    inputs = {"overdue": _fmt(amt), "r_permille": _fmt(r), "due": due.isoformat(), "paid": paid.isoformat(),
              "days": str(days), "still_unpaid": str(bool(still_unpaid)).lower(), **info}
    return Penalty(
        amount=amt * r / 1000 * days,
        formula="F1 逾期付款：逾期金额 × r/1000 × 逾期天数 (overdue × r/1000 × days)",
        inputs=inputs,
        flags={"rescission_option": option},
    )


def f2_late_start(
    P: Num,
    r_permille: Num | None,
    start_due: date,
    started: date,
    *,
    original_start_due: date | None = None,
    max_extension_years: int = 1,
) -> Penalty:
    """F2 late start (2008 Art. 33 ◐): ``P × r/1000 × days_late(start_due, started)``.

    ``start_due`` is the agreed start date, or the extended one if an extension was approved; ``started`` is
    the start date or the as-of date.  If ``original_start_due`` is given, flag ``extension_over_limit`` when
    ``start_due`` lies beyond ``original_start_due`` + ``max_extension_years`` (≤1 year ✅).  Flag
    ``idle_rules_may_apply`` once more than one full year has run past ``start_due`` (53号令, docs/domain.md; no roll-over).
    """
    p = _nonneg("P", P)
    r = _rate("r_permille", r_permille)
    days = days_late(start_due, started)
    inputs = {"P": _fmt(p), "r_permille": _fmt(r), "start_due": start_due.isoformat(), "started": started.isoformat(),
              "days": str(days)}
    flags = {"idle_rules_may_apply": elapsed_at_least(start_due, started, 1)}
    if original_start_due is not None:
        limit = add_years(original_start_due, max_extension_years)
        inputs["original_start_due"] = original_start_due.isoformat()
        inputs["extension_limit"] = limit.isoformat()
        flags["extension_over_limit"] = start_due > limit
    return Penalty(
        amount=p * r / 1000 * days,
        formula="F2 延期开工：P × r/1000 × 逾期天数 (P × r/1000 × days)",
        inputs=inputs,
        flags=flags,
        notes=("count from the extended start date if an extension (≤1 year) was approved",),
    )


def f3_late_completion(
    P: Num,
    r_permille: Num | None,
    complete_due: date,
    completed: date,
    *,
    version: ContractVersion,
    uncompleted_counted_floor: Num | None = None,
    total_counted_floor: Num | None = None,
) -> Penalty:
    """F3 late completion: base × r/1000 × days_late(complete_due, completed).

    ``version="GF-2008-2601"`` (◐): base = P.
    ``version="GF-2025-2601"`` (◐, apparent 2025 text Art. 32): base = P × uncompleted_counted_floor / total_counted_floor
    (计容建筑面积); both areas are then required, with 0 ≤ uncompleted ≤ total and total > 0.
    The version has no default: which contract version applies is ❓ and changes the amount.
    """
    p = _nonneg("P", P)
    r = _rate("r_permille", r_permille)
    days = days_late(complete_due, completed)
    inputs = {"version": str(version), "P": _fmt(p), "r_permille": _fmt(r), "complete_due": complete_due.isoformat(),
              "completed": completed.isoformat(), "days": str(days)}
    if version == "GF-2008-2601":
        base = p
        formula = "F3 延期竣工 (GF-2008-2601)：P × r/1000 × 逾期天数 (P × r/1000 × days)"
    elif version == "GF-2025-2601":
        if uncompleted_counted_floor is None or total_counted_floor is None:
            raise InsufficientDataError("GF-2025-2601 needs uncompleted_counted_floor and total_counted_floor (计容建筑面积)")
        unc = _nonneg("uncompleted_counted_floor", uncompleted_counted_floor)
        tot = _pos("total_counted_floor", total_counted_floor)
        if unc > tot:
            raise ValueError("uncompleted_counted_floor exceeds total_counted_floor")
        base = p * unc / tot
        inputs |= {"uncompleted_counted_floor": _fmt(unc), "total_counted_floor": _fmt(tot), "base": _fmt(base)}
        formula = ("F3 延期竣工 (GF-2025-2601)：P × 未竣工计容建筑面积/总计容建筑面积 × r/1000 × 逾期天数 "
                   "(P × uncompleted/total × r/1000 × days)")
    else:
        raise ValueError(f"version must be 'GF-2008-2601' or 'GF-2025-2601', got {version!r}")
    return Penalty(amount=base * r / 1000 * days, formula=formula, inputs=inputs, flags={})


def f4_investment_shortfall(
    P: Num,
    total_agreed: Num,
    total_actual: Num,
    intensity_agreed: Num,
    intensity_actual: Num,
    *,
    agg: Agg = "max",
) -> Penalty:
    """F4 investment shortfall (2008 Art. 34 ◐).

    ``P × agg([s(total_agreed, total_actual), s(intensity_agreed, intensity_actual)])``.

    Totals in one money unit, intensities in one intensity unit (normalise first: ``intensity_to_yuan_per_m2``).
    Investment includes the land price (Art. 12).  ``agg`` ❓: "max" suggested; "sum" only on a legal ruling.
    """
    p = _nonneg("P", P)
    ta, tx = _pos("total_agreed", total_agreed), _nonneg("total_actual", total_actual)
    ia, ix = _pos("intensity_agreed", intensity_agreed), _nonneg("intensity_actual", intensity_actual)
    s_total, s_int = s(ta, tx), s(ia, ix)
    ratio = aggregate([s_total, s_int], agg)
    return Penalty(
        amount=p * ratio,
        formula=f"F4 投资不足：P × {agg}(s(总投资), s(投资强度)), s = max(0, (约定 − 实际)/约定)",
        inputs={"P": _fmt(p), "total_agreed": _fmt(ta), "total_actual": _fmt(tx), "intensity_agreed": _fmt(ia),
                "intensity_actual": _fmt(ix), "s_total": _fmt(s_total), "s_intensity": _fmt(s_int), "agg": agg,
                "ratio": _fmt(ratio)},
        flags={},
        notes=("investment includes the land price (contract Art. 12)", "performance may still be demanded"),
    )


_INTENSITY_TO_YUAN_PER_M2 = {
    "元/m2": Fraction(1),
    "万元/公顷": Fraction(1),  # 10000 元 / 10000 m²
    "万元/亩": Fraction(15),  # 10000 元 / (10000/15 m²)
}


def intensity_to_yuan_per_m2(value: Num, unit: str) -> Fraction:
    """Normalise an investment intensity to 元/m² (1 万元/亩 = 15 元/m²; 1 万元/公顷 = 1 元/m²).

    Units: "元/m2" (also 元/㎡, 元/m²), "万元/公顷", "万元/亩".
    """
    key = unit.replace("㎡", "m2").replace("m²", "m2").strip()
    if key not in _INTENSITY_TO_YUAN_PER_M2:
        raise ValueError(f"unknown intensity unit {unit!r}; use one of {sorted(_INTENSITY_TO_YUAN_PER_M2)}")
    return _num("intensity", value) * _INTENSITY_TO_YUAN_PER_M2[key]


@dataclass(frozen=True)
class InvestmentConsistency:
    consistent: bool
    total_agreed_wan: Fraction
    implied_total_wan: Fraction  # agreed intensity × area, in 万元
    difference_wan: Fraction  # total_agreed − implied
    relative_difference: Fraction  # |difference| / implied (0 when both are 0)


def investment_terms_consistency(
    total_agreed_wan: Num,
    intensity_agreed: Num,
    area_m2: Num,
    *,
    intensity_unit: str = "元/m2",
    tolerance: Num = 0,
) -> InvestmentConsistency:
    """Compare the agreed total (万元) with agreed intensity × area (⚙ docs/domain.md note on F4).

    With an unchanged area the two F4 ratios are equal; when the two agreed terms disagree they are not, and the
    choice of ``agg`` matters.  ``consistent`` iff relative difference ≤ ``tolerance`` (default 0: exact).
    """
    total = _nonneg("total_agreed_wan", total_agreed_wan)
    area = _pos("area_m2", area_m2)
    tol = _nonneg("tolerance", tolerance)
    implied = intensity_to_yuan_per_m2(intensity_agreed, intensity_unit) * area / 10000
    diff = total - implied
    rel = abs(diff) / implied if implied else (Fraction(0) if diff == 0 else Fraction(1))
    return InvestmentConsistency(rel <= tol, total, implied, diff, rel)


def _items(name: str, items: Mapping[str, tuple[Num, Num]]) -> list[tuple[str, Fraction, Fraction]]:
    if not items:
        raise ValueError(f"{name}: at least one indicator is needed")
    out = []
    for key, pair in items.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"{name}[{key!r}] must be a (limit, actual) pair")
        out.append((str(key), _pos(f"{key}.limit", pair[0]), _nonneg(f"{key}.actual", pair[1])))
    return out


def f5_below_minimum(P: Num, items: Mapping[str, tuple[Num, Num]], *, agg: Agg = "max") -> Penalty:
    """F5 容积率 / 建筑密度 below the agreed minimum (2008 Art. 35 ◐): ``P × agg([s(min_i, actual_i)])``.

    ``items`` maps an indicator name to ``(minimum, actual)``, e.g. ``{"plot_ratio": ("1.2", "1.0")}``.
    """
    p = _nonneg("P", P)
    rows = _items("items", items)
    inputs = {"P": _fmt(p), "agg": agg}
    ratios = []
    for key, lo, actual in rows:
        r = s(lo, actual)
        ratios.append(r)
        inputs |= {f"{key}.min": _fmt(lo), f"{key}.actual": _fmt(actual), f"{key}.s": _fmt(r)}
    ratio = aggregate(ratios, agg)
    inputs["ratio"] = _fmt(ratio)
    return Penalty(
        amount=p * ratio,
        formula=f"F5 低于下限：P × {agg}(s(下限_i, 实际_i)), s = max(0, (下限 − 实际)/下限)",
        inputs=inputs,
        flags={},
    )


def f6_above_maximum(
    P: Num,
    items: Mapping[str, tuple[Num, Num]],
    *,
    agg: Agg = "max",
    counted_floor_area: Num | None = None,
    site_area: Num | None = None,
    far_key: str = "plot_ratio",
) -> Penalty:
    """F6 容积率 / 建筑密度 above the agreed maximum (clause wording ❓): ``P × agg([e(max_i, actual_i)])``.

    ``items`` maps an indicator name to ``(maximum, actual)``.  Flag ``reclaim_excess_area`` when any excess.
    If ``counted_floor_area`` and ``site_area`` (same area unit) are given, ``items[far_key]`` supplies the max
    FAR and ``inputs["excess_counted_floor_area"]`` = max(0, counted floor area − max FAR × site area).
    """
    p = _nonneg("P", P)
    rows = _items("items", items)
    inputs = {"P": _fmt(p), "agg": agg}
    ratios = []
    for key, hi, actual in rows:
        r = e(hi, actual)
        ratios.append(r)
        inputs |= {f"{key}.max": _fmt(hi), f"{key}.actual": _fmt(actual), f"{key}.e": _fmt(r)}
    ratio = aggregate(ratios, agg)
    inputs["ratio"] = _fmt(ratio)
    notes: list[str] = ["clause wording for the above-maximum penalty is ❓ (recollection)"]
    if (counted_floor_area is None) != (site_area is None):
        raise ValueError("give both counted_floor_area and site_area, or neither")
    if counted_floor_area is not None:
        floor = _nonneg("counted_floor_area", counted_floor_area)
        site = _pos("site_area", site_area)
        far = {key: hi for key, hi, _ in rows}.get(far_key)
        if far is None:
            raise ValueError(f"excess floor area needs the maximum plot ratio: items has no {far_key!r}")
        excess = max(Fraction(0), floor - far * site)
        inputs |= {"counted_floor_area": _fmt(floor), "site_area": _fmt(site),
                   "excess_counted_floor_area": _fmt(excess)}
        notes.append("excess counted floor area = counted floor area − max FAR × site area")
    return Penalty(
        amount=p * ratio,
        formula=f"F6 超过上限：P × {agg}(e(上限_i, 实际_i)), e = max(0, (实际 − 上限)/上限)；超出部分可收回",
        inputs=inputs,
        flags={"reclaim_excess_area": ratio > 0},
        notes=tuple(notes),
    )


def over_limit_items(limits: Mapping[str, Num], actuals: Mapping[str, Num]) -> list[str]:
    """Names whose actual value is strictly above its limit ("≤ limit" passes at equality); in ``limits`` order.

    A name in ``limits`` without an actual raises ``InsufficientDataError`` (missing is not compliant).
    """
    out = []
    for key, limit in limits.items():
        if key not in actuals or actuals[key] is None:
            raise InsufficientDataError(f"no actual value for {key!r}")
        if _num(f"{key}.actual", actuals[key]) > _num(f"{key}.limit", limit):
            out.append(str(key))
    return out


def f7_over_limit(
    P: Num,
    r_permille: Num | None,
    breached_items: Iterable[str],
    *,
    mode: Literal["once", "per_item"] = "once",
) -> Penalty:
    """F7 green ratio / admin land / admin floor area over the limit (2008 Art. 36 ◐): one-off ``P × r/1000``.

    ``mode="once"``: charged once whatever the number of breached items; ``mode="per_item"`` (❓): × the number
    of distinct breached items.  Zero when nothing is breached.  Flag ``demolish_excess`` when anything is.
    """
    if mode not in ("once", "per_item"):
        raise ValueError(f"mode must be 'once' or 'per_item', got {mode!r}")
    p = _nonneg("P", P)
    r = _rate("r_permille", r_permille)
    if isinstance(breached_items, str):
        raise TypeError("breached_items must be a collection of names, not a string")
    names = list(dict.fromkeys(str(x) for x in breached_items))
    n = len(names)
    multiplier = 0 if n == 0 else (1 if mode == "once" else n)
    return Penalty(
        amount=p * r / 1000 * multiplier,
        formula="F7 超标（绿地率/行政办公及生活服务设施）：P × r/1000，一次性" + ("" if mode == "once" else " × 超标项数"),
        inputs={"P": _fmt(p), "r_permille": _fmt(r), "mode": mode, "breached_items": ",".join(names),
                "breached_count": str(n), "multiplier": str(multiplier)},
        flags={"demolish_excess": n > 0},
    )


def f8_late_delivery(
    paid_amount: Num,
    r_permille: Num | None,
    due: date,
    delivered: date,
    *,
    demand_made: bool = False,
    demand_date: date | None = None,
    still_undelivered: bool = False,
    rescission_after_days: int = 60,
    rescission_count_from: CountFrom = "demand",
) -> Penalty:
    """F8 transferor's late delivery (2008 Art. 37 ◐): ``paid_amount × r/1000 × days_late(due, delivered)``.

    ``delivered`` is the delivery date, or the as-of date while undelivered (then ``still_undelivered=True``).
    Flag ``rescission_option_transferee`` (transferee may rescind, deposit returned double): a demand made, land
    still undelivered, and more than ``rescission_after_days`` (60) days counted from ``demand_date`` (default, as
    one source in docs/domain.md words it) or from ``due`` (``rescission_count_from="due"``, as another words it).
    The land-use term runs from actual delivery; the delay also supports a government-caused-delay defence (53号令 Art. 8).
    """
    amt = _nonneg("paid_amount", paid_amount)
    r = _rate("r_permille", r_permille)
    days = days_late(due, delivered)
    option, info = _rescission(
        due, delivered, demand_made=demand_made, demand_date=demand_date, outstanding=still_undelivered,
        after_days=rescission_after_days, count_from=rescission_count_from,
    )
    inputs = {"paid_amount": _fmt(amt), "r_permille": _fmt(r), "due": due.isoformat(), "delivered": delivered.isoformat(),
              "days": str(days), "still_undelivered": str(bool(still_undelivered)).lower(), **info}
    return Penalty(
        amount=amt * r / 1000 * days,
        formula="F8 出让人延期交地：已付价款 × r/1000 × 逾期天数 (paid × r/1000 × days)",
        inputs=inputs,
        flags={"rescission_option_transferee": option, "supports_government_delay_defence": days > 0},
        notes=("the land-use term runs from actual delivery",),
    )


# ---------------------------------------------------------------------------------------------- 亩均税收


def m2_to_mu(area_m2: Num) -> Fraction:
    """Square metres to 亩 (1 亩 = 10000/15 m²)."""
    return _nonneg("area_m2", area_m2) * 15 / 10000


def tax_per_mu_shortfall(
    option: TaxOption,
    *,
    committed_tpm: Num,
    actual_tpm: Num | None,
    area_mu: Num | None = None,
    P: Num | None = None,
) -> Penalty:
    """亩均税收 shortfall (docs/domain.md, no verified Henan formula ❓, so ``option`` has no default).

    ``committed_tpm`` / ``actual_tpm`` in 万元/亩; ``area_mu`` in 亩; ``P`` in 万元.
    - "pay_difference" (alias "make_up", 补缴差额): ``max(0, committed − actual) × area_mu``  (needs ``area_mu``)
    - "proportional": ``P × max(0, committed − actual) / committed``  (needs ``P``; mirrors Art. 34)
    - "none": 0; credit and evaluation sanctions only.
    ``actual_tpm=None`` (no tax record) raises ``InsufficientDataError``: a missing record is never zero tax.
    Flag ``shortfall`` whenever actual < committed, whatever the option.
    """
    if option not in ("pay_difference", "make_up", "proportional", "none"):
        raise ValueError(f"option must be 'pay_difference' (or 'make_up'), 'proportional' or 'none', got {option!r}")
    if actual_tpm is None:
        raise InsufficientDataError("actual 亩均税收 is missing: request the tax data; a missing record is not zero tax")
    c = _pos("committed_tpm", committed_tpm)
    a = _nonneg("actual_tpm", actual_tpm)
    gap = max(Fraction(0), c - a)
    inputs = {"option": option, "committed_tpm": _fmt(c), "actual_tpm": _fmt(a), "gap_tpm": _fmt(gap)}
    if option in ("pay_difference", "make_up"):
        if area_mu is None:
            raise InsufficientDataError("option 'pay_difference' needs area_mu")
        mu = _nonneg("area_mu", area_mu)
        inputs["area_mu"] = _fmt(mu)
        amount = gap * mu
        formula = "亩均税收不足（补缴差额）：max(0, 承诺亩均税收 − 实际亩均税收) × 亩数"
    elif option == "proportional":
        if P is None:
            raise InsufficientDataError("option 'proportional' needs P (land price)")
        p = _nonneg("P", P)
        inputs["P"] = _fmt(p)
        amount = p * gap / c
        formula = "亩均税收不足（按比例）：P × max(0, 承诺 − 实际)/承诺"
    else:
        amount = Fraction(0)
        formula = "亩均税收不足（不计违约金）：0，仅信用评价/联合奖惩"
    return Penalty(amount=amount, formula=formula, inputs=inputs, flags={"shortfall": gap > 0})


# ---------------------------------------------------------------------------------------------- output


def _round_scaled(x: Fraction, places: int, rounding: str) -> int:
    """round(x × 10**places) to an integer under a ``decimal`` rounding mode, with exact integer arithmetic."""
    y = x * 10**places
    fl = y.numerator // y.denominator
    frac = y - fl  # in [0, 1)
    if frac == 0:
        return fl
    positive = y > 0
    if rounding == ROUND_FLOOR:
        return fl
    if rounding == ROUND_CEILING:
        return fl + 1
    if rounding == ROUND_DOWN:  # toward zero
        return fl if positive else fl + 1
    if rounding == ROUND_UP:  # away from zero
        return fl + 1 if positive else fl
    if frac != _HALF:
        return fl + 1 if frac > _HALF else fl
    if rounding == ROUND_HALF_UP:  # ties away from zero
        return fl + 1 if positive else fl
    if rounding == ROUND_HALF_DOWN:  # ties toward zero
        return fl if positive else fl + 1
    return fl if fl % 2 == 0 else fl + 1  # ROUND_HALF_EVEN


def to_output(x: Fraction, places: int = 2, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``x`` as a Decimal with exactly ``places`` decimals.  Half-up is suggested but the rule is ❓, so both are parameters.

    Exact: no intermediate float or limited-precision division.  ``rounding`` is a ``decimal`` module constant
    (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_UP, ROUND_DOWN, ROUND_CEILING, ROUND_FLOOR).
    """
    if isinstance(places, bool) or not isinstance(places, int) or places < 0:
        raise ValueError(f"places must be an int >= 0, got {places!r}")
    if rounding not in _ROUNDINGS:
        raise ValueError(f"unsupported rounding {rounding!r}")
    n = _round_scaled(_num("x", x), places, rounding)
    return Decimal(f"{n}E-{places}")


def to_output_str(x: Fraction, places: int = 2, rounding: str = ROUND_HALF_UP) -> str:
    """``to_output`` as plain text for JSON, never in exponent form: Fraction(12345, 100) → "123.45"."""
    return format(to_output(x, places, rounding), "f")
