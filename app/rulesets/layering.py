"""Concrete thresholds for one industry, and the "at least as strict" relation
between a child layer's rule and its parent's (docs/rule-sets.md, Layers)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from app.rulesets.document import Rule, RuleSetDoc
from indicators import tables, units
from indicators.catalog import indicator

SIDES = {">=": {"min"}, ">": {"min"}, "<=": {"max"}, "<": {"max"}, "between": {"min", "max"},
         "in": {"eq"}, "is_true": {"eq"}}

Threshold = Fraction | tuple[Fraction, Fraction] | tuple[Fraction, ...] | bool


@dataclass(frozen=True)
class Concrete:
    """A rule's threshold for one industry, in the indicator's canonical unit."""

    threshold: Threshold | None     # None: not covered or not required
    status: str | None              # None (applies), "not_covered" or "not_required"
    message: str | None             # why not covered, with the candidate codes
    matched: str | None             # the by_industry key used, or "default"
    candidates: tuple = ()          # not covered because ambiguous: each candidate's threshold


def _convert(value: Any, op: str, rule: Rule) -> Threshold:
    kind = indicator(rule.indicator).kind
    if op == "is_true":
        return True
    if op == "between":
        lo, hi = value
        return (units.to_canonical(lo, rule.unit, kind), units.to_canonical(hi, rule.unit, kind))
    if op == "in":
        return tuple(units.to_canonical(v, rule.unit, kind) for v in value)
    return units.to_canonical(value, rule.unit, kind)


def map_industry(code: str, classification: str, doc: RuleSetDoc) -> tuple[tuple[str, ...] | None, str]:
    """Map a request's industry code onto ``doc``'s classification.

    Returns (candidates, trace); candidates None means no mapping is known."""
    if classification == doc.classification:
        return (code,), ""
    for m in doc.industry_map or ():
        if m.source == classification:
            for key in sorted(m.map, key=len, reverse=True):
                if code.startswith(key):
                    return (m.map[key],), f"{classification} {key} → {doc.classification} {m.map[key]}（规则集对照）"
            return (), f"{classification} {code} 在规则集对照表中无对应"
    mapping = tables.crosswalk(code, classification, doc.classification)
    if mapping is None:
        return None, f"无 {classification} → {doc.classification} 的对照表"
    return mapping.candidates, mapping.via


def _lookup(by_industry: dict, code: str) -> tuple[str | None, Any]:
    for key in sorted(by_industry, key=len, reverse=True):
        if code.startswith(key):
            return key, by_industry[key]
    return None, None


def concrete(rule: Rule, doc: RuleSetDoc, code: str | None, classification: str | None) -> Concrete:
    if not rule.by_industry:
        return Concrete(_convert(rule.threshold, rule.op, rule), None, None, "default")
    if code is None or classification is None:
        if rule.threshold is not None:
            return Concrete(_convert(rule.threshold, rule.op, rule), None, None, "default")
        return Concrete(None, "not_covered", "未提供行业代码，无法确定分行业阈值 (no industry given)", None)
    candidates, via = map_industry(code, classification, doc)
    if candidates is None:
        return Concrete(None, "not_covered", f"行业 {code}（{classification}）无法对应到 {doc.classification}：{via}", None)
    found: dict[str, tuple[str, Any]] = {}
    for cand in candidates:
        key, value = _lookup(rule.by_industry, cand)
        if key is not None:
            found[cand] = (key, value)
        elif rule.threshold is not None:
            found[cand] = ("default", rule.threshold)
    names = tables.industry_names(doc.classification)
    listing = "、".join(f"{c} {names.get(c, '')}".strip() for c in candidates) or "无"
    if not candidates or len(found) < len(candidates):
        return Concrete(None, "not_covered",
                        f"行业 {code} 在 {doc.classification} 中无对应阈值（候选：{listing}）{'；' + via if via else ''}", None)
    distinct = {repr(v) for _, v in found.values()}
    if len(distinct) > 1:
        detail = "、".join(f"{c}→{_show(v, rule)}" for c, (_, v) in found.items())
        cands = tuple(_convert(v, rule.op, rule) for _, v in found.values() if v is not None)
        return Concrete(None, "not_covered",
                        f"行业 {code} 对应 {doc.classification} 多个类别且阈值不同（候选：{detail}），需人工审核；{via}", None,
                        cands if len(cands) == len(found) else ())
    key, value = next(iter(found.values()))
    if value is None:
        return Concrete(None, "not_required", f"该行业不要求此项（{key} 为“/”）", key)
    return Concrete(_convert(value, rule.op, rule), None, via or None, key)


def _show(value: Any, rule: Rule) -> str:
    if value is None:
        return "/"
    t = _convert(value, rule.op, rule)
    return "–".join(_f(x) for x in t) if isinstance(t, tuple) else str(t) if isinstance(t, bool) else _f(t)


def at_least_as_strict(op_c: str, t_c: Threshold, op_p: str, t_p: Threshold) -> tuple[bool, str]:
    """Is the child's (op_c, t_c) at least as strict as the parent's on every side they share?"""
    shared = SIDES[op_c] & SIDES[op_p]
    reasons = []
    for side in shared:
        if side == "min":
            lc, sc = _low(op_c, t_c)
            lp, sp = _low(op_p, t_p)
            if lc < lp or (lc == lp and sp and not sc):
                reasons.append(f"下限 {_f(lc)} 低于上级 {_f(lp)}")
        elif side == "max":
            hc, sc = _high(op_c, t_c)
            hp, sp = _high(op_p, t_p)
            if hc > hp or (hc == hp and sp and not sc):
                reasons.append(f"上限 {_f(hc)} 高于上级 {_f(hp)}")
        elif side == "eq" and op_c == "in" and op_p == "in":
            extra = set(t_c) - set(t_p)
            if extra:
                reasons.append(f"允许值 {sorted(_f(x) for x in extra)} 不在上级列表中")
    return (not reasons, "；".join(reasons))


def covers(op_c: str, op_p: str) -> bool:
    return SIDES[op_p] <= SIDES[op_c]


def _low(op: str, t: Threshold) -> tuple[Fraction, bool]:
    return (t[0], False) if op == "between" else (t, op == ">")


def _high(op: str, t: Threshold) -> tuple[Fraction, bool]:
    return (t[1], False) if op == "between" else (t, op == "<")


def _f(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else format(float(x), "g")


def _overlaps(a: RuleSetDoc, b: RuleSetDoc) -> bool:
    a_end, b_end = a.effective_to, b.effective_to
    return (b_end is None or a.effective_from < b_end) and (a_end is None or b.effective_from < a_end)


def loosening_problems(child: RuleSetDoc, parents: list[RuleSetDoc], skip_indicators: set[str] = frozenset()) -> list:
    """Every place where ``child`` is looser than a parent version in force during
    its validity, for any industry code, and carries no ``relaxation``."""
    from app.core.errors import Problem

    problems: list[Problem] = []
    # A parcel rule set that admits only some industries is compared for those alone.
    codes_in_scope = child.admitted_industries or list(tables.industry_names(child.classification))
    universe: list[str | None] = [None, *codes_in_scope]
    for i, rule in enumerate(child.rules):
        if rule.relaxation:
            continue
        codes = list(dict.fromkeys([*universe, *(rule.by_industry or {})]))
        for parent in parents:
            if not _overlaps(child, parent):
                continue
            for prule in parent.rules:
                if prule.indicator in skip_indicators:
                    continue
                if prule.indicator != rule.indicator or not (SIDES[rule.op] & SIDES[prule.op]):
                    continue
                for code in codes:
                    cls = child.classification if code is not None else None
                    c = concrete(rule, child, code, cls)
                    p = concrete(prule, parent, code, cls)
                    if c.threshold is None or p.threshold is None:
                        continue
                    ok, why = at_least_as_strict(rule.op, c.threshold, prule.op, p.threshold)
                    if not ok:
                        where = f"by_industry.{c.matched}" if c.matched not in (None, "default") else "threshold"
                        problems.append(Problem(
                            f"rules.{i}.{where}",
                            f"比上级 {parent.id} {parent.version} 的规则 {prule.id} 宽松（行业 {code or '全部'}：{why}）；"
                            f"如确需放宽，请加 relaxation: {{doc, reason}} "
                            f"(looser than parent {parent.id}@{parent.version} rule {prule.id})"))
                        break   # one problem per (rule, parent rule) is enough to read
    return problems


def ancestry_problems(child: RuleSetDoc, versions_by_id: dict[str, list[RuleSetDoc]]) -> list:
    """Loosening problems against every layer above ``child`` (parent, grandparent …).
    An indicator that an intermediate layer relaxed, with a documented relaxation, is
    compared only up to that layer."""
    problems: list = []
    relaxed: set[str] = set()
    level, seen = {child.parent} - {None}, {child.id}
    while level:
        versions = [v for rid in level for v in versions_by_id.get(rid, ())]
        problems += [p for p in loosening_problems(child, versions, relaxed) if p not in problems]
        relaxed |= {r.indicator for v in versions for r in v.rules if r.relaxation}
        seen |= level
        level = {v.parent for v in versions if v.parent and v.parent not in seen}
    return problems
