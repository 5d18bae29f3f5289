"""The indicator catalog as typed, immutable objects, read from indicator-catalog documents.

A catalog document (kind ``indicator_catalog``; docs/law-documents.md) declares units with exact
factors, measures with sanity bounds, and indicators whose derivation is a formula over measures
(``indicators.formula``) or, for the few that need code (the 8 m storey rule, apportionment, the
admitted-industry list), a named built-in of ``indicators.derive``.  The bundled base document is
``indicators/catalogs/base.yaml``; ``load_catalog()`` is that document alone (what code that knows no
date uses), and ``merge`` joins the documents in force on a date.  Nothing here imports ``app``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cache
from pathlib import Path

import yaml

from indicators import formula as fx
from indicators import units as _units
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
    formula: str | None                 # the formula as written, or the built-in's name
    measures: tuple[str, ...]
    note: str | None
    expr: fx.Node | None = None         # parsed formula (None: a built-in, or given only)
    builtin: str | None = None
    zero_guard: tuple[str, ...] = ()
    source: str | None = None           # "document-id@version" that declared it
    example: bool = False

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
    source: str | None = None


@dataclass(frozen=True)
class UnitDecl:
    symbols: tuple[str, ...]
    kind: str
    factor: Fraction
    canonical: bool


@dataclass(frozen=True)
class Part:
    """One catalog document, parsed."""

    source: str
    indicators: dict[str, Indicator]
    measures: dict[str, Measure]
    units: tuple[UnitDecl, ...]
    land_area: Measure | None
    storey: tuple[Fraction, Fraction, Fraction] | None


@dataclass(frozen=True)
class Catalog:
    indicators: dict[str, Indicator]
    measures: dict[str, Measure]
    land_area: Measure
    storey_height_over_m: Fraction
    storey_multiplier: Fraction
    storey_max_height_m: Fraction
    extra: dict = field(default_factory=dict)


class CatalogError(ValueError):
    """Every problem of a catalog document, as (path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


# Derivations that need code, by name (indicators.derive registers them); a document may name only these.
BUILTINS = ("plot_ratio", "building_coefficient", "admin_land_share", "admin_floor_share", "industry_admitted")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
DIRECTIONS = ("min", "max", "range", "true")
ROLES = ("core", "n", "optional", "plus_one")
RESERVED = frozenset({"land_area", "floors", "admitted_industries"})     # request fields that are not measures


def _exact(x: object) -> Fraction:
    """An exact number from a document: int, decimal string or float spelling, or "a/b"."""
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        raise ValueError("应为数值 (a number)")
    return Fraction(str(x).strip())


def _bounds(raw: object, path: str, out: list) -> Bounds:
    if raw is None:
        return Bounds()
    if not isinstance(raw, dict) or set(raw) - {"min", "max", "min_exclusive"}:
        out.append((path, "bounds 只能有 min、max、min_exclusive (only min, max, min_exclusive)"))
        return Bounds()
    try:
        lo = _exact(raw["min"]) if "min" in raw else None
        hi = _exact(raw["max"]) if "max" in raw else None
    except (ValueError, ZeroDivisionError):
        out.append((path, "min/max 应为数值 (numbers)"))
        return Bounds()
    if lo is not None and hi is not None and hi < lo:
        out.append((f"{path}.max", "max 小于 min (max below min)"))
    return Bounds(min=lo, max=hi, min_exclusive=bool(raw.get("min_exclusive", False)))


def _never_zero(b: Bounds) -> bool:
    return b.min is not None and (b.min > 0 or (b.min == 0 and b.min_exclusive))


def parse_document(raw: dict, source: str, base: Catalog | None = None) -> Part:
    """Parse one catalog document (already plain JSON data); CatalogError with every problem's path.

    ``base``: the measures of the base catalog a formula may also name (besides its own)."""
    out: list[tuple[str, str]] = []
    decls: list[UnitDecl] = []
    new_kinds: set[str] = set()
    for i, u in enumerate(raw.get("units") or []):
        p = f"units.{i}"
        if not isinstance(u, dict) or not isinstance(u.get("symbol"), str) or not isinstance(u.get("kind"), str):
            out.append((p, "单位须有 symbol、kind、factor (a unit needs symbol, kind and factor)"))
            continue
        try:
            factor = _exact(u.get("factor"))
            if factor <= 0:
                raise ValueError
        except (ValueError, ZeroDivisionError):
            out.append((f"{p}.factor", "换算系数须为正的精确数值，如 1、0.0001 或 \"1/15\" (a positive exact factor)"))
            continue
        aliases = u.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            out.append((f"{p}.aliases", "别名应为字符串列表 (a list of strings)"))
            continue
        canonical = bool(u.get("canonical", False))
        if canonical and factor != 1:
            out.append((f"{p}.factor", "基准单位的换算系数必须为 1 (a canonical unit has factor 1)"))
        if canonical and u["kind"] in CANONICAL and CANONICAL[u["kind"]] != u["symbol"]:
            out.append((f"{p}.canonical",
                        f"{u['kind']} 的基准单位已是 {CANONICAL[u['kind']]} (kind already has a canonical unit)"))
        symbols = (u["symbol"], *aliases)
        for s in symbols:
            if (why := _units.conflict(s, u["kind"], factor)) is not None:
                out.append((f"{p}.symbol", why))
        if canonical:
            new_kinds.add(u["kind"])
        decls.append(UnitDecl(tuple(symbols), u["kind"], factor, canonical))
    kinds = set(CANONICAL) | new_kinds
    if not any(d.canonical for d in decls):
        for d in decls:
            if d.kind not in kinds:
                out.append(("units", f"类别 {d.kind} 没有基准单位 (kind {d.kind!r} needs a canonical unit)"))

    measures: dict[str, Measure] = {}
    for mid, m in (raw.get("measures") or {}).items():
        p = f"measures.{mid}"
        if not KEY.match(mid):
            out.append((p, "名称只能用小写字母、数字、下划线 (lower-case key)"))
            continue
        if mid in RESERVED:
            out.append((p, f"{mid} 是保留名称 (reserved: {sorted(RESERVED)})"))
            continue
        if not isinstance(m, dict) or not isinstance(m.get("label"), str) or m.get("kind") not in kinds:
            out.append((p, f"计量项须有 label 与已知 kind (label and a known kind: {sorted(kinds)})"))
            continue
        measures[mid] = Measure(mid, m["label"], m["kind"], _bounds(m.get("bounds"), f"{p}.bounds", out), source)

    land_area = storey = None
    if "land_area" in raw:
        la = raw["land_area"]
        b = _bounds(la.get("bounds") if isinstance(la, dict) else None, "land_area.bounds", out)
        if not _never_zero(b):
            out.append(("land_area.bounds", "用地面积必须 > 0 (min_exclusive: true): 它是分母 (land area is a divisor)"))
        land_area = Measure("land_area", la.get("label", "用地面积") if isinstance(la, dict) else "用地面积", "area", b, source)
    if "storey_rule" in raw:
        sr = raw["storey_rule"]
        try:
            storey = (_exact(sr["height_over_m"]), _exact(sr["multiplier"]), _exact(sr["max_height_m"]))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            out.append(("storey_rule", "须有 height_over_m、multiplier、max_height_m (numbers)"))

    known = dict(base.measures) if base is not None else {}
    known.update(measures)
    la_bounds = land_area.bounds if land_area else base.land_area.bounds if base else Bounds(Fraction(0), None, True)

    indicators: dict[str, Indicator] = {}
    for iid, d in (raw.get("indicators") or {}).items():
        p = f"indicators.{iid}"
        if not KEY.match(iid):
            out.append((p, "名称只能用小写字母、数字、下划线 (lower-case key)"))
            continue
        if not isinstance(d, dict):
            out.append((p, "应为对象 (a mapping)"))
            continue
        bad = False
        for f in ("label", "kind", "direction", "role"):
            if not isinstance(d.get(f), str | bool) or d.get(f) in ("", None):
                out.append((f"{p}.{f}", "必填 (required)"))
                bad = True
        if bad:
            continue
        kind, direction = d["kind"], str(d["direction"]).lower()
        if kind not in kinds:
            out.append((f"{p}.kind", f"未知类别 {kind!r} (unknown kind; declare a canonical unit for it under units)"))
            continue
        canon = CANONICAL.get(kind) or next((x.symbols[0] for x in decls if x.kind == kind and x.canonical), None)
        if "unit" in d and d["unit"] != canon:
            out.append((f"{p}.unit", f"应为 {kind} 的基准单位 (must be the canonical unit of {kind})"))
        if direction not in DIRECTIONS:
            out.append((f"{p}.direction", f"应为 {DIRECTIONS} 之一"))
        if d["role"] not in ROLES:
            out.append((f"{p}.role", f"应为 {ROLES} 之一"))
        expr = None
        builtin = d.get("builtin")
        text = d.get("formula")
        guard = tuple(d.get("zero_guard") or ())
        if builtin is not None and text is not None:
            out.append((p, "formula 与 builtin 只能给出其一 (formula or builtin, not both)"))
            continue
        if builtin is not None and builtin not in BUILTINS:
            out.append((f"{p}.builtin", f"未知的内置推导 {builtin!r}；文件中的推导须写成 formula (known: {list(BUILTINS)})"))
            continue
        used: tuple[str, ...] = tuple(d.get("measures") or ())
        if text is not None:
            try:
                expr = fx.parse(text)
            except fx.FormulaError as e:
                out.append((f"{p}.formula", str(e)))
                continue
            named = fx.names(expr)
            for n in sorted(named - set(known) - {"land_area"}):
                out.append((f"{p}.formula", f"未声明的计量项 {n} (undeclared measure {n!r}); declared: {sorted(known)}"))
            for g in guard:
                if g not in named:
                    out.append((f"{p}.zero_guard", f"{g} 不在公式中 (not in the formula)"))
            for den in fx.denominators(expr):
                if isinstance(den, fx.Num):
                    if den.value == 0:
                        out.append((f"{p}.formula", "除以零 (division by zero)"))
                    continue
                if not isinstance(den, fx.Var):
                    out.append((f"{p}.formula", f"分母 {fx.show(den)} 须为单个计量项或非零常数 "
                                                "(divide by one measure or a non-zero number)"))
                    continue
                b = la_bounds if den.name == "land_area" else known[den.name].bounds if den.name in known else None
                if b is not None and not _never_zero(b) and den.name not in guard:
                    out.append((f"{p}.formula", f"除以可能为零的 {den.name}：请在其 bounds 中设 min_exclusive: true，"
                                                f"或在 zero_guard 中列出它（为零时指标缺失） (divides by {den.name}, "
                                                "which may be zero, without a guard)"))
            used = tuple(sorted(named - {"land_area"}))
        indicators[iid] = Indicator(
            id=iid, label=d["label"], label_en=d.get("label_en") or d["label"], kind=kind, direction=direction,
            role=d["role"], bounds=_bounds(d.get("bounds"), f"{p}.bounds", out),
            formula=text if text is not None else builtin, measures=used, note=d.get("note"), expr=expr,
            builtin=builtin, zero_guard=guard, source=source, example=bool(d.get("example", False)))
    if out:
        raise CatalogError(out)
    return Part(source, indicators, measures, tuple(decls), land_area, storey)


def register_units(part: Part) -> None:
    for d in part.units:
        _units.register(d.symbols, d.kind, d.factor, d.canonical)


def merge(parts: list[Part]) -> Catalog:
    """The catalog of several documents in force together: their union.  A key (indicator or
    measure) declared by two documents is refused, as is anything but exactly one base."""
    out: list[tuple[str, str]] = []
    indicators: dict[str, Indicator] = {}
    measures: dict[str, Measure] = {}
    bases = [p for p in parts if p.land_area is not None and p.storey is not None]
    for part in parts:
        register_units(part)
        for key, ind in part.indicators.items():
            if key in indicators:
                out.append((f"indicators.{key}", f"指标 {key} 同时由 {indicators[key].source} 与 {part.source} 声明 "
                                                 "(declared by two documents in force)"))
            indicators[key] = ind
        for key, m in part.measures.items():
            if key in measures:
                out.append((f"measures.{key}", f"计量项 {key} 同时由 {measures[key].source} 与 {part.source} 声明 "
                                               "(declared by two documents in force)"))
            measures[key] = m
    if len(bases) != 1:
        out.append(("land_area", f"须恰有一个基础目录（含 land_area 与 storey_rule），现有 {len(bases)} 个 "
                                 "(exactly one base catalog in force)"))
    if out:
        raise CatalogError(out)
    b = bases[0]
    assert b.land_area is not None and b.storey is not None
    return Catalog(indicators=indicators, measures=measures, land_area=b.land_area,
                   storey_height_over_m=b.storey[0], storey_multiplier=b.storey[1], storey_max_height_m=b.storey[2])


BASE_FILE = HERE / "catalogs" / "base.yaml"


@cache
def base_part() -> Part:
    raw = yaml.safe_load(BASE_FILE.read_text(encoding="utf-8"))
    return parse_document(raw, f"{raw['id']}@{raw['version']}")


@cache
def load_catalog() -> Catalog:
    """The bundled base catalog alone (what code without a date or a session uses)."""
    return merge([base_part()])


# Every indicator any parsed catalog has declared, for the code that only needs an indicator's
# label, kind or unit for a rule that passed publication (where the catalog in force was checked).
_KNOWN: dict[str, Indicator] = {}


_KNOWN_MEASURES: dict[str, Measure] = {}


def remember(cat: Catalog) -> None:
    for key, ind in cat.indicators.items():
        _KNOWN.setdefault(key, ind)
    for key, m in cat.measures.items():
        _KNOWN_MEASURES.setdefault(key, m)


def remember_part(part: Part) -> None:
    """A stored document's units and declarations, known process-wide (rules that passed publication
    read their indicator's kind and label by key; a unit symbol has one meaning)."""
    register_units(part)
    for key, ind in part.indicators.items():
        _KNOWN.setdefault(key, ind)
    for key, m in part.measures.items():
        _KNOWN_MEASURES.setdefault(key, m)


def known_keys() -> tuple[set[str], set[str]]:
    """(measures, indicators) of the base and of every catalog seen in this process."""
    base = load_catalog()
    return set(base.measures) | set(_KNOWN_MEASURES), set(base.indicators) | set(_KNOWN)


def known_labels() -> dict[str, str]:
    """Key → Chinese label of every measure and indicator of the base and of every catalog seen in
    this process (pages show keys that reach a message by their label)."""
    base = load_catalog()
    out = {k: x.label for group in (_KNOWN_MEASURES, _KNOWN) for k, x in group.items()}
    out.update({k: x.label for group in (base.measures, base.indicators) for k, x in group.items()})
    return out


def indicator(key: str) -> Indicator:
    """The declaration of ``key`` (base catalog first, then any catalog seen in this process)."""
    base = load_catalog().indicators.get(key)
    if base is not None:
        return base
    return _KNOWN[key]


def with_source(ind: Indicator, source: str) -> Indicator:
    return replace(ind, source=source)


def _date(x: object) -> dt.date | None:
    if x is None or isinstance(x, dt.date):
        return x
    return dt.date.fromisoformat(str(x))


@cache
def _bundled() -> tuple[tuple[Part, dt.date, dt.date | None], ...]:
    out = []
    for path in sorted(BASE_FILE.parent.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        part = base_part() if path == BASE_FILE else parse_document(raw, f"{raw['id']}@{raw['version']}", load_catalog())
        frm = _date(raw["effective_from"])
        assert frm is not None
        out.append((part, frm, _date(raw.get("effective_to"))))
    return tuple(out)


def bundled_in_force(on: dt.date) -> Catalog:
    """The union of the bundled catalog documents in force on ``on`` (for checks without a database:
    golden cases, ``rules validate``); the service itself reads the published documents."""
    parts = [p for p, frm, to in _bundled() if frm <= on and (to is None or on < to)]
    if not any(p.land_area is not None for p in parts):
        parts.insert(0, base_part())        # before the base's date: the base still defines the measures
    if len(parts) == 1 and parts[0] is base_part():
        return load_catalog()
    cat = merge(parts)
    remember(cat)
    return cat
