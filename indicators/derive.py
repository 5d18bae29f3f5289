"""Derivation of indicators from raw measures (exact rational arithmetic).

All inputs are already in canonical units: areas in 亩, money in 万元, shares in %.
Each formula returns the value, or None when a measure it needs is absent
(then the indicator is "missing", never zero).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from indicators import formula as fx
from indicators.catalog import Catalog, load_catalog


@dataclass(frozen=True)
class Storey:
    """One floor-area line: ``area`` (亩, one storey) × ``count`` storeys of ``height_m``."""

    area: Fraction
    height_m: Fraction
    count: int


@dataclass(frozen=True)
class Site:
    land_area: Fraction                 # 亩, > 0
    measures: Mapping[str, Fraction]    # canonical units
    floors: Sequence[Storey] | None = None
    industry_code: str | None = None
    admitted_industries: Sequence[str] | None = None


def counted_floor_area(site: Site) -> Fraction | None:
    """Floor area counted for the plot ratio: a storey *strictly* higher than the
    threshold (8 m) counts ``multiplier`` times; exactly 8 m counts once."""
    if site.floors is not None:
        cat = load_catalog()
        total = Fraction(0)
        for s in site.floors:
            mult = cat.storey_multiplier if s.height_m > cat.storey_height_over_m else 1
            total += s.area * s.count * mult
        return total
    return site.measures.get("total_floor_area")


def physical_floor_area(site: Site) -> Fraction | None:
    if site.floors is not None:
        return sum((s.area * s.count for s in site.floors), Fraction(0))
    return site.measures.get("total_floor_area")


def plot_ratio(site: Site) -> Fraction | None:
    area = counted_floor_area(site)
    return None if area is None else area / site.land_area


def building_coefficient(site: Site) -> Fraction | None:
    parts = [site.measures.get(m) for m in ("building_footprint", "structure_footprint", "yard_area")]
    if all(p is None for p in parts):
        return None
    # Structures and yards are often absent on a site; a footprint alone is enough.
    if parts[0] is None:
        return None
    return sum((p for p in parts if p is not None), Fraction(0)) / site.land_area * 100


def admin_land_share(site: Site) -> Fraction | None:
    land = site.measures.get("admin_land_area")
    if land is not None:
        return land / site.land_area * 100
    # Apportionment (国土资发〔2008〕24号 应用说明): land × admin floor ÷ total floor.
    return admin_floor_share(site)


def admin_floor_share(site: Site) -> Fraction | None:
    admin = site.measures.get("admin_floor_area")
    total = physical_floor_area(site)
    if admin is None or not total:
        return None
    return admin / total * 100


def industry_admitted(site: Site) -> Fraction | None:
    if site.admitted_industries is None or site.industry_code is None:
        return None
    ok = any(site.industry_code.startswith(code) for code in site.admitted_industries)
    return Fraction(int(ok))


# The built-in derivations a catalog document may name (``builtin:``): the ones that need code.
BUILTINS: dict[str, Callable[[Site], Fraction | None]] = {
    "plot_ratio": plot_ratio,
    "building_coefficient": building_coefficient,
    "admin_land_share": admin_land_share,
    "admin_floor_share": admin_floor_share,
    "industry_admitted": industry_admitted,
}


def derive(indicator_id: str, site: Site, catalog: Catalog | None = None) -> Fraction | None:
    """The indicator's value from the site's measures under ``catalog`` (default: the base)."""
    ind = (catalog or load_catalog()).indicators[indicator_id]
    if ind.expr is not None:
        env = dict(site.measures)
        env["land_area"] = site.land_area
        return fx.evaluate(ind.expr, env)
    if ind.builtin is not None:
        return BUILTINS[ind.builtin](site)
    return None
