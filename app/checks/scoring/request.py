"""A scoring run request: the population of enterprises, their values checked against the rule set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from app.core.errors import InputError, Problem
from app.core.numbers import dec_str
from app.store.decisions import canonical
from indicators import units

from .arithmetic import dec as _dec
from .library import DEFAULT_RULESET, get_ruleset
from .ruleset import Indicator, ScoringRuleSet

MAX_ENTERPRISES = 50_000
MAX_ID, MAX_NAME = 64, 200
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_ABS_DEC = Decimal(10**12)
MAX_PLACES = 12
_P12 = 10**12


@dataclass(frozen=True)
class Enterprise:
    index: int
    id: str
    name: str | None
    values: dict[str, Fraction | None]         # every indicator of the rule set; None = no data
    texts: dict[str, str | None]               # the same as decimal text (exact to 12 places, else to 6)
    # A value converted from another unit may not end within 12 decimal places (元/平方米 → 万元/亩
    # divides by 15): its exact fraction "n/d", so that the stored request is the request run.
    exact: dict[str, str] = field(default_factory=dict)

    def normalised_values(self) -> dict[str, str | None]:
        return {**self.texts, **self.exact} if self.exact else self.texts


@dataclass(frozen=True)
class Request:
    ruleset: ScoringRuleSet
    year: int
    enterprises: tuple[Enterprise, ...]
    law: dict | None = None                     # the pin of the law document the rule set was read from

    def normalised(self) -> dict:
        return {"ruleset": {"id": self.ruleset.id, "version": self.ruleset.version, "digest": self.ruleset.digest},
                "year": self.year,
                "enterprises": [{"id": e.id, "name": e.name, "values": e.normalised_values()} for e in self.enterprises]}

    def digest(self) -> str:
        return hashlib.sha256(canonical(self.normalised()).encode("utf-8")).hexdigest()


# (rule-set id, version or None) → the rule set and the pin of the document it came from;
# InputError at "ruleset" / "ruleset_version" when there is none.
Resolver = Callable[[str, str | None], tuple[ScoringRuleSet, dict | None]]


def bundled_resolver(rid: str, version: str | None) -> tuple[ScoringRuleSet, dict | None]:
    return get_ruleset(rid, version), None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _value(raw: Any, ind: Indicator, path: str, p: list[Problem], exact: dict[str, str]) -> Fraction | None:
    """A bare number (in the rule set's unit) or {"value": …, "unit": …}; null = no data."""
    if raw is None:
        return None
    unit = None
    if isinstance(raw, dict):
        extra = set(raw) - {"value", "unit"}
        if extra or "value" not in raw:
            p.append(Problem(path, "应为数值、null 或 {\"value\": …, \"unit\": …}"))
            return None
        unit, raw = raw.get("unit"), raw["value"]
        if raw is None:
            return None
        if unit is not None and not isinstance(unit, str):
            p.append(Problem(f"{path}.unit", "单位应为字符串 (unit must be a string)"))
            return None
        path_v = f"{path}.value"
    else:
        path_v = path
    if isinstance(raw, float):             # a dict built in Python (JSON bodies give Decimal)
        raw = Decimal(repr(raw))
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        p.append(Problem(path_v, f"应为数值 (a number is required, got {type(raw).__name__})"))
        return None
    try:
        d = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(raw)
    except InvalidOperation:
        p.append(Problem(path_v, f"不是数值 (not a number: {raw!r})"))
        return None
    # Checked on the Decimal first: a value like 1e999999 never becomes a Fraction.
    if not d.is_finite():
        p.append(Problem(path_v, "应为有限数值 (NaN and infinities are refused)"))
        return None
    if d.copy_abs() > MAX_ABS_DEC:     # abs() rounds to the context and overflows on 1e999999999
        p.append(Problem(path_v, "数值过大 (absolute value above 10^12)"))
        return None
    exp = d.as_tuple().exponent
    if isinstance(exp, int) and exp < -MAX_PLACES:
        p.append(Problem(path_v, f"小数位过多 (more than {MAX_PLACES} decimal places)"))
        return None
    if unit is None or unit.strip() in ("", ind.unit):
        if d < 0:
            p.append(Problem(path_v, f"不能为负数 (must be ≥ 0, got {format(d, 'f')})"))
            return None
        if ind.max_dec is not None and d > ind.max_dec:
            p.append(Problem(path_v, f"超出合理范围 (above the sanity bound {dec_str(ind.max)} {ind.unit})"))
            return None
        return Fraction(d)
    try:
        declared = units.lookup(ind.unit)
        v = units.to_canonical(Fraction(d), unit, declared.kind) / declared.factor
    except units.UnitError as e:
        p.append(Problem(f"{path}.unit", f"{e} (the rule set's unit for {ind.key} is {ind.unit!r})"))
        return None
    if v < 0:
        p.append(Problem(path_v, f"不能为负数 (must be ≥ 0, got {dec_str(v)})"))
        return None
    if ind.max is not None and v > ind.max:
        p.append(Problem(path_v, f"超出合理范围 (above the sanity bound {dec_str(ind.max)} {ind.unit} "
                                 f"after conversion: {dec_str(v)})"))
        return None
    if (v * _P12).denominator != 1:
        exact[ind.key] = f"{v.numerator}/{v.denominator}"
    return v


def parse_request(body: bytes | str | dict, ruleset: ScoringRuleSet | None = None,
                  resolve: Resolver = bundled_resolver) -> Request:
    """Validate a run request; every problem, with its path, in one InputError.  The rule set the
    body names is found by ``resolve`` (the law-document store in the service, the bundled files
    by default); ``ruleset``, if given, is used instead (tests, local files)."""
    if isinstance(body, bytes | str):
        try:
            raw = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError as e:
            raise InputError([Problem("", f"请求体不是有效的 JSON (invalid JSON: {e})")]) from None
    else:
        raw = body
    if not isinstance(raw, dict):
        raise InputError([Problem("", "请求体应为 JSON 对象 (a JSON object is required)")])
    p: list[Problem] = []
    for k in sorted(set(raw) - {"ruleset", "ruleset_version", "year", "enterprises"}):
        p.append(Problem(k, f"未知字段 (unknown field {k!r})"))
    rid = raw.get("ruleset", DEFAULT_RULESET)
    version = raw.get("ruleset_version")
    rs, pin = ruleset, None
    if rs is not None:
        pass
    elif not isinstance(rid, str):
        p.append(Problem("ruleset", "应为规则集 id 字符串"))
    elif version is not None and not isinstance(version, str):
        p.append(Problem("ruleset_version", "应为版本字符串，如 \"2022.1\""))
    else:
        try:
            rs, pin = resolve(rid, version)
        except InputError as e:
            p += e.problems
    year = raw.get("year")
    if type(year) is not int or not MIN_YEAR <= year <= MAX_YEAR:
        p.append(Problem("year", f"评价年度应为 {MIN_YEAR}–{MAX_YEAR} 的整数 (an integer year)"))
    ents = raw.get("enterprises")
    out: list[Enterprise] = []
    if not isinstance(ents, list):
        p.append(Problem("enterprises", "应为企业列表 (a list of enterprises)"))
        ents = []
    elif not ents:
        p.append(Problem("enterprises", "企业列表为空 (the population is empty)"))
    elif len(ents) > MAX_ENTERPRISES:
        p.append(Problem("enterprises", f"企业过多 (at most {MAX_ENTERPRISES:,} enterprises per run, got {len(ents):,})"))
        ents = []
    seen: dict[str, int] = {}
    for i, e in enumerate(ents):
        path = f"enterprises.{i}"
        if not isinstance(e, dict):
            p.append(Problem(path, "企业应为 JSON 对象 (an object: {id, name, values})"))
            continue
        for k in sorted(set(e) - {"id", "name", "values"}):
            p.append(Problem(f"{path}.{k}", f"未知字段 (unknown field {k!r})"))
        eid = e.get("id")
        if not isinstance(eid, str) or not eid.strip() or len(eid.strip()) > MAX_ID:
            p.append(Problem(f"{path}.id", f"应为 1–{MAX_ID} 个字符的标识（统一社会信用代码或名称）"))
            eid = None
        else:
            eid = eid.strip()
            first = seen.setdefault(eid, i)
            if first != i:
                p.append(Problem(f"{path}.id", f"企业重复 (duplicate id {eid!r}: same as enterprises.{first})"))
        name = e.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            p.append(Problem(f"{path}.name", f"名称应为不超过 {MAX_NAME} 个字符的字符串"))
            name = None
        vals = e.get("values")
        values: dict[str, Fraction | None] = {}
        exact: dict[str, str] = {}
        if not isinstance(vals, dict):
            p.append(Problem(f"{path}.values", "应为 {指标: 数值} 对象 (an object of indicator values)"))
        elif rs is not None:
            by_key = rs.by_key
            for k in vals:
                if k not in by_key:
                    p.append(Problem(f"{path}.values.{k}",
                                     f"未知指标 (unknown indicator {k!r}; {rs.id} scores {', '.join(by_key)})"))
            values = {ind.key: _value(vals.get(ind.key), ind, f"{path}.values.{ind.key}", p, exact)
                      for ind in rs.indicators}
        if eid is not None:
            out.append(Enterprise(i, eid, name.strip() if isinstance(name, str) else None, values,
                                  {k: _dec(v) for k, v in values.items()}, exact))
    if p:
        raise InputError(p)
    return Request(rs, year, tuple(out), pin)


def from_run(doc: dict, rs: ScoringRuleSet) -> Request:
    """The request a stored run was computed from, rebuilt from its results (each enterprise's
    values, in the order sent) under ``rs``.  Its digest is the run's ``request_digest`` unless
    the stored values were altered (a replay reports that as a difference)."""
    ents = []
    for r in sorted(doc["results"], key=lambda r: r["index"]):
        subs = r["sub_scores"]
        texts = {ind.key: subs[ind.key]["value"] for ind in rs.indicators}
        exact = {ind.key: subs[ind.key]["value_exact"] for ind in rs.indicators if subs[ind.key].get("value_exact")}
        values = {k: None if t is None else Fraction(exact.get(k, t)) for k, t in texts.items()}
        ents.append(Enterprise(r["index"], r["id"], r["name"], values, texts, exact))
    return Request(rs, doc["year"], tuple(ents), (doc.get("law") or [None])[0])
