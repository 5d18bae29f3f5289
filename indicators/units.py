"""Units and exact conversions.

Every quantity is converted to its kind's canonical unit with exact rational
arithmetic (``Fraction``): 1 亩 = 10000/15 m² exactly, so m² → 亩 is ×15/10000
and 元/m² → 万元/亩 is ÷15.  Nothing here rounds; rounding is a rule-set choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

M2_PER_MU = Fraction(10000, 15)


@dataclass(frozen=True)
class Unit:
    symbol: str          # canonical spelling shown in findings
    kind: str            # area, money, money_per_area, percent, ...
    factor: Fraction     # multiply a value in this unit by factor → canonical unit of the kind


# Canonical unit of each kind (factor 1).
CANONICAL: dict[str, str] = {
    "area": "亩",
    "money": "万元",
    "money_per_area": "万元/亩",
    "percent": "%",
    "ratio": "",  # dimensionless (plot ratio)
    "length": "m",
    "energy": "吨标煤",
    "mass": "吨",
    "money_per_energy": "万元/吨标煤",
    "money_per_mass": "万元/吨",
    "boolean": "",
}

_UNITS: list[tuple[tuple[str, ...], Unit]] = [
    (("亩", "mu"), Unit("亩", "area", Fraction(1))),
    (("m2", "㎡", "平方米", "m²"), Unit("m2", "area", 1 / M2_PER_MU)),
    (("公顷", "ha", "hm2", "hm²"), Unit("公顷", "area", Fraction(15))),
    (("万元", "wan_yuan"), Unit("万元", "money", Fraction(1))),
    (("元", "yuan"), Unit("元", "money", Fraction(1, 10000))),
    (("亿元", "yi_yuan"), Unit("亿元", "money", Fraction(10000))),
    (("万元/亩", "wan_yuan/mu"), Unit("万元/亩", "money_per_area", Fraction(1))),
    (("元/m2", "元/㎡", "元/平方米", "yuan/m2", "元/m²"), Unit("元/m2", "money_per_area", Fraction(1, 15))),
    (("万元/公顷", "wan_yuan/ha", "万元/hm2"), Unit("万元/公顷", "money_per_area", Fraction(1, 15))),
    (("元/亩", "yuan/mu"), Unit("元/亩", "money_per_area", Fraction(1, 10000))),
    (("%", "percent"), Unit("%", "percent", Fraction(1))),
    (("fraction",), Unit("fraction", "percent", Fraction(100))),
    (("m", "米"), Unit("m", "length", Fraction(1))),
    (("吨标煤", "tce"), Unit("吨标煤", "energy", Fraction(1))),
    (("吨", "t"), Unit("吨", "mass", Fraction(1))),
    (("万元/吨标煤", "wan_yuan/tce"), Unit("万元/吨标煤", "money_per_energy", Fraction(1))),
    (("万元/吨", "wan_yuan/t"), Unit("万元/吨", "money_per_mass", Fraction(1))),
]

UNITS: dict[str, Unit] = {alias: unit for aliases, unit in _UNITS for alias in aliases}


class UnitError(ValueError):
    """A unit is unknown, missing where required, or of the wrong kind."""


def lookup(symbol: str) -> Unit:
    try:
        return UNITS[symbol.strip()]
    except KeyError:
        raise UnitError(f"未知单位 unknown unit {symbol!r}") from None


def units_of_kind(kind: str) -> list[str]:
    return sorted({alias for alias, u in UNITS.items() if u.kind == kind})


def to_canonical(value: Decimal | Fraction | int, unit: str | None, kind: str) -> Fraction:
    """Convert ``value`` given in ``unit`` to the canonical unit of ``kind``, exactly."""
    if kind in ("ratio", "boolean"):
        if unit not in (None, "", "1"):
            raise UnitError(f"单位应为空 this quantity is dimensionless, got unit {unit!r}")
        return Fraction(value)
    if unit is None or unit == "":
        raise UnitError(f"缺少单位 a unit is required; use one of {units_of_kind(kind)}")
    u = lookup(unit)
    if u.kind != kind:
        raise UnitError(f"单位不匹配 unit {unit!r} is a {u.kind} unit; expected one of {units_of_kind(kind)}")
    return Fraction(value) * u.factor


def from_canonical(value: Fraction, unit: str, kind: str) -> Fraction:
    """Express a canonical value in another unit of the same kind (for display)."""
    if kind in ("ratio", "boolean"):
        return value
    u = lookup(unit)
    if u.kind != kind:
        raise UnitError(f"unit {unit!r} is not a {kind} unit")
    return value / u.factor


def conflict(symbol: str, kind: str, factor: Fraction) -> str | None:
    """Why ``symbol`` cannot mean (kind, factor): it already means something else."""
    u = UNITS.get(symbol.strip())
    if u is not None and (u.kind != kind or u.factor != factor):
        return f"单位 {symbol} 已定义为 {u.kind} ×{u.factor} (unit {symbol!r} already means {u.kind} × {u.factor})"
    return None


def register(symbols: tuple[str, ...], kind: str, factor: Fraction, canonical: bool) -> None:
    """Add a unit declared by an indicator-catalog document (exact factor to its kind's canonical
    unit).  Units are process-wide: a symbol keeps one meaning (``conflict`` is checked at publish)."""
    unit = Unit(symbols[0], kind, factor)
    for s in symbols:
        UNITS.setdefault(s.strip(), unit)
    if canonical:
        CANONICAL.setdefault(kind, symbols[0])
