"""The indicator catalog (catalog.yaml) as typed, immutable objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import yaml

from indicators.units import CANONICAL

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Bounds:
    min: Fraction | None = None
    max: Fraction | None = None
    min_exclusive: bool = False

    def violation(self, value: Fraction) -> str | None:
        if self.min is not None and (value < self.min or (self.min_exclusive and value == self.min)):
            zh, en = ("大于", ">") if self.min_exclusive else ("不小于", ">=")
            return f"必须{zh} {_fmt(self.min)} (must be {en} {_fmt(self.min)})"
        if self.max is not None and value > self.max:
            return f"超出合理范围上限 {_fmt(self.max)} (above the sanity bound {_fmt(self.max)})"
        return None


def _fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else str(float(x))


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    label_en: str
    kind: str
    direction: str
    role: str
    bounds: Bounds
    formula: str | None
    measures: tuple[str, ...]
    note: str | None

    @property
    def unit(self) -> str:
        return CANONICAL[self.kind]

    @property
    def is_boolean(self) -> bool:
        return self.kind == "boolean"


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    kind: str
    bounds: Bounds


@dataclass(frozen=True)
class Catalog:
    indicators: dict[str, Indicator]
    measures: dict[str, Measure]
    land_area: Measure
    storey_height_over_m: Fraction
    storey_multiplier: Fraction
    storey_max_height_m: Fraction
    extra: dict = field(default_factory=dict)


def _bounds(raw: dict | None) -> Bounds:
    raw = raw or {}
    return Bounds(
        min=Fraction(str(raw["min"])) if "min" in raw else None,
        max=Fraction(str(raw["max"])) if "max" in raw else None,
        min_exclusive=bool(raw.get("min_exclusive", False)),
    )


@cache
def load_catalog(path: Path = HERE / "catalog.yaml") -> Catalog:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    indicators = {}
    for iid, d in raw["indicators"].items():
        deriv = d.get("derivation") or {}
        indicators[iid] = Indicator(
            id=iid, label=d["label"], label_en=d["label_en"], kind=d["kind"],
            direction=str(d["direction"]).lower(), role=d["role"], bounds=_bounds(d.get("bounds")),
            formula=deriv.get("formula"), measures=tuple(deriv.get("measures", ())), note=deriv.get("note"),
        )
    measures = {
        mid: Measure(id=mid, label=d["label"], kind=d["kind"], bounds=_bounds(d.get("bounds")))
        for mid, d in raw["measures"].items()
    }
    la = raw["land_area"]
    sr = raw["storey_rule"]
    return Catalog(
        indicators=indicators,
        measures=measures,
        land_area=Measure(id="land_area", label=la["label"], kind=la["kind"], bounds=_bounds(la["bounds"])),
        storey_height_over_m=Fraction(str(sr["height_over_m"])),
        storey_multiplier=Fraction(str(sr["multiplier"])),
        storey_max_height_m=Fraction(str(sr["max_height_m"])),
    )
