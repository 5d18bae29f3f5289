"""Proposal check, step one: the request normalised — every quantity converted to canonical
units exactly and checked against its bounds, indicators not given derived from the measures.
Every problem is collected (422 with field paths); nothing here depends on the rule set."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from app.core.errors import InputError, Problem
from app.schemas.proposal import ProposalRequest, industry_problems, unknown_field
from indicators import formula as fx
from indicators import units
from indicators.catalog import Catalog, load_catalog
from indicators.derive import BUILTINS, Site, Storey


@dataclass
class Normalised:
    site: Site
    given: dict[str, Fraction]          # indicators given directly, canonical units
    derived: dict[str, Fraction]        # indicators derived from measures

    def value(self, indicator: str) -> tuple[Fraction | None, str | None]:
        if indicator in self.given:
            return self.given[indicator], "given"
        if indicator in self.derived:
            return self.derived[indicator], "derived"
        return None, None


def normalise(req: ProposalRequest, catalog: Catalog | None = None) -> Normalised:
    """Convert every quantity to canonical units and check bounds; collect every problem.

    ``catalog``: the indicator catalog in force on the proposal's date.  Without one (the extra
    checks of a request pydantic already refused) the base catalog, and fields of catalog additions
    are left for the evaluation to check."""
    cat = catalog if catalog is not None else load_catalog()
    problems: list[Problem] = []
    m_extra = req.measures.model_extra or {}
    i_extra = req.indicators.model_extra or {}
    # Fields of catalog additions: declared by the catalog in force on as_of, or refused at their path
    # (without a catalog, ``proposal_problems`` checks them against every catalog known).
    if (m_extra or i_extra) and catalog is not None:
        for name, extra, known in (("measures", m_extra, cat.measures), ("indicators", i_extra, cat.indicators)):
            problems += [Problem(f"{name}.{key}", unknown_field(name, key)) for key in extra if key not in known]

    def conv(q: Any, kind: str, path: str, bounds=None) -> Fraction | None:
        factor = _FACTORS.get((q.unit, kind))
        if factor is None:
            try:
                factor = _factor(q.unit, kind)
            except units.UnitError as e:
                problems.append(Problem(f"{path}.unit", str(e)))
                return None
        n, d = q.value.as_integer_ratio()
        v = Fraction(n * factor[0], d * factor[1])
        if bounds is not None and not _within(bounds, v) and (why := bounds.violation(v)):
            problems.append(Problem(f"{path}.value", why))
            return None
        return v

    land = conv(req.land_area, "area", "land_area", cat.land_area.bounds)

    measures: dict[str, Fraction] = {}
    for mid, m in cat.measures.items():
        q = getattr(req.measures, mid, None)
        if q is not None and mid in m_extra and not hasattr(q, "unit"):     # base fields are typed by the model
            problems.append(Problem(f"measures.{mid}", "应为带单位的数值 {value, unit} (a quantity)"))
        elif q is not None:
            v = conv(q, m.kind, f"measures.{mid}", m.bounds)
            if v is not None:
                measures[mid] = v

    floors = None
    if req.measures.floors is not None:
        if req.measures.total_floor_area is not None:
            problems.append(Problem("measures.floors",
                                    "floors 与 total_floor_area 只能提供其一 (give floors or total_floor_area, not both)"))
        floors = []
        from indicators.catalog import Bounds
        height_bounds = Bounds(min=Fraction(0), max=cat.storey_max_height_m, min_exclusive=True)
        area_bounds = Bounds(min=Fraction(0), max=Fraction(1000000), min_exclusive=True)
        for i, f in enumerate(req.measures.floors):
            a = conv(f.area, "area", f"measures.floors.{i}.area", area_bounds)
            h = conv(f.height, "length", f"measures.floors.{i}.height", height_bounds)
            if a is not None and h is not None:
                floors.append(Storey(area=a, height_m=h, count=f.count))

    given: dict[str, Fraction] = {}
    for iid, ind in cat.indicators.items():
        q = getattr(req.indicators, iid, None)
        if q is None:
            continue
        if iid in i_extra and ind.is_boolean != (not hasattr(q, "unit")):
            problems.append(Problem(f"indicators.{iid}", "布尔指标应为 {value: true|false}，数值指标应为 {value, unit} "
                                                         "(a flag for a boolean indicator, a quantity otherwise)"))
            continue
        if ind.is_boolean:
            given[iid] = Fraction(int(q.value))
            continue
        v = conv(q, ind.kind, f"indicators.{iid}", ind.bounds)
        if v is not None:
            given[iid] = v

    if land is not None:
        for mid in ("admin_land_area", "green_area", "building_footprint", "yard_area", "structure_footprint"):
            if mid in measures and measures[mid] > land:
                problems.append(Problem(f"measures.{mid}.value", f"{cat.measures[mid].label}大于用地面积 (larger than the site)"))

    problems += industry_problems(req.industry)
    code = req.industry.code if req.industry else None
    site = Site(land_area=land or Fraction(1), measures=measures, floors=floors, industry_code=code,
                admitted_industries=req.measures.admitted_industries)
    derived: dict[str, Fraction] = {}
    if land is not None:
        env = {**measures, "land_area": land}       # what formulas read: one mapping per proposal
        for iid, ind in cat.indicators.items():
            if iid in given:
                continue
            v = fx.evaluate(ind.expr, env) if ind.expr is not None else BUILTINS[ind.builtin](site) if ind.builtin else None
            if v is None:
                continue
            if not ind.is_boolean and not _within(ind.bounds, v) and (why := ind.bounds.violation(v)):
                sent = [m for m in ind.measures if m in measures or (m == "floors" and floors is not None)]
                src = "、".join(f"measures.{m}" for m in sent) or "measures"
                problems.append(Problem(f"measures.{sent[0]}" if sent else "measures",
                                        f"由 {src} 计算的{ind.label} {float(v):g}{ind.unit} 不合理：{why}"))
                continue
            derived[iid] = v
    if problems:
        raise InputError(problems)
    return Normalised(site=site, given=given, derived=derived)


# Conversion factors by (unit, kind) as integer pairs: units.to_canonical is linear in the
# value, and whether it refuses a unit depends on the unit and kind alone, so one call per
# pair decides both; a value then costs one Fraction of two integers (was a Fraction from
# the Decimal and a Fraction product, a third of normalisation).
_FACTORS: dict[tuple[str | None, str], tuple[int, int]] = {}


def _factor(unit: str | None, kind: str) -> tuple[int, int]:
    f = units.to_canonical(1, unit, kind)
    if len(_FACTORS) < 1024:        # units are user input: bounded
        _FACTORS[(unit, kind)] = (f.numerator, f.denominator)
    return f.numerator, f.denominator


def _within(b: Any, v: Fraction) -> bool:
    """True if ``b.violation(v)`` would find nothing; integer cross-multiplication instead of
    Fraction comparisons (its messages are still built by ``violation`` itself)."""
    vn, vd = v.numerator, v.denominator
    if b.min is not None:
        lo = vn * b.min.denominator - b.min.numerator * vd       # sign of v − min
        if lo < 0 or (lo == 0 and b.min_exclusive):
            return False
    return b.max is None or vn * b.max.denominator <= b.max.numerator * vd
