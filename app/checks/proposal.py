"""Proposal check: does a parcel's proposed indicator set meet the rules in force?

Flow: normalise the request (units → canonical, exact) → resolve the layered
rule set → take each indicator as given or derive it from measures → round as
each rule's layer declares → let the engine compare → assemble findings and the
verdict (docs/verdicts.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.core import clock
from app.core.errors import InputError, Problem
from app.core.gc import gc_paused
from app.core.numbers import STRICT_PLACES, ceil_to, dec_str, fixed, floor_to, round_half_up
from app.engine import Engine
from app.engine import program as prog
from app.rulesets.layering import map_industry
from app.rulesets.resolve import EffectiveRule, Registry, Resolution
from app.schemas.proposal import ProposalRequest, industry_problems
from app.store import decisions, rulesets
from indicators import units
from indicators.catalog import load_catalog
from indicators.derive import Site, Storey, derive

STATUSES = ("pass", "fail", "missing", "not_required", "not_covered", "waived")
OP_ZH = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "between": "介于", "in": "属于", "is_true": "为是"}


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


# ---------------------------------------------------------------- normalisation

def normalise(req: ProposalRequest) -> Normalised:
    """Convert every quantity to canonical units and check bounds; collect every problem."""
    cat = load_catalog()
    problems: list[Problem] = []

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
        q = getattr(req.measures, mid)
        if q is not None:
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
        q = getattr(req.indicators, iid)
        if q is None:
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
        for iid, ind in cat.indicators.items():
            if iid in given:
                continue
            v = derive(iid, site)
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


# ---------------------------------------------------------------- evaluation

def _precision_of(er: EffectiveRule) -> tuple[str, int | None]:
    p = er.layer.doc.precision
    return (p.mode, p.places)


def _slot(er: EffectiveRule) -> str:
    mode, places = _precision_of(er)
    return f"{er.rule.indicator}|{mode}|{places}"


def build_program(resolution: Resolution, waived: set[str]) -> tuple[prog.Program, list[int]]:
    """The engine program for the rules that need a comparison; returns it and, per
    check, the index of its effective rule."""
    items, index = [], []
    for i, er in enumerate(resolution.rules):
        if er.concrete.status is None and er.rule.id not in waived:
            items.append((_slot(er), er.rule.op, er.concrete.threshold))
            index.append(i)
    return prog.build(items), index


# (program, index, feeds) per effective-rule list and waiver set.  Effective rules are cached
# per rule-set chain and industry (Registry._effective), so a process sees few of these;
# each entry keeps its rule list alive, so the id() in its key cannot be reused.
_COMPILED: dict[tuple[int, frozenset], tuple[list, prog.Program, list[int], list[tuple]]] = {}
_COMPILED_MAX = 1024


def _compiled(resolution: Resolution, waived: frozenset) -> tuple[prog.Program, list[int], list[tuple]]:
    """The program, its rule indexes, and per check where its value comes from
    (slot, indicator, decimal places to round half up to, or None for strict)."""
    rules = resolution.rules
    hit = _COMPILED.get((id(rules), waived))
    if hit is None or hit[0] is not rules:
        program, index = build_program(resolution, set(waived))
        feeds = []
        for i in index:
            mode, places = _precision_of(rules[i])
            feeds.append((_slot(rules[i]), rules[i].rule.indicator, places if mode == "round_half_up" else None))
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        hit = _COMPILED[(id(rules), waived)] = (rules, program, index, feeds)
    return hit[1], hit[2], hit[3]


def evaluate(req: ProposalRequest, registry: Registry, engine: Engine, *, known_at: dt.datetime,
             pinned: list[str] | None = None, cache: dict | None = None) -> dict:
    """The verdict for one proposal (no storage).  Raises InputError on bad input.

    ``cache`` (optional) memoises resolutions across the items of one batch."""
    norm = normalise(req)
    industry = req.industry.model_dump() if req.industry else None
    key = (req.ruleset, req.jurisdiction, req.as_of, known_at, tuple(pinned or ()),
           tuple(sorted(industry.items())) if industry else None, req.parcel, req.park)
    resolution = cache.get(key) if cache is not None else None
    if resolution is None:
        resolution = registry.resolve(ruleset=req.ruleset, jurisdiction=req.jurisdiction, as_of=req.as_of,
                                      known_at=known_at, industry=industry, pinned=pinned,
                                      parcel=req.parcel, park=req.park)
        if cache is not None:
            cache[key] = resolution
    waivers = {w.rule: w for w in req.waivers}
    unknown = sorted(set(waivers) - {er.rule.id for er in resolution.rules}) if waivers else None
    if unknown:
        raise InputError([Problem("waivers", f"豁免的规则不在生效规则中 (waived rules not in force: {unknown})")])

    _admitted_from_ruleset(norm, resolution, req)
    program, index, feeds = _compiled(resolution, frozenset(waivers))
    values: dict[str, Fraction | None] = {}
    for slot, indicator, places in feeds:
        v, _ = norm.value(indicator)
        if v is not None and places is not None:
            v = round_half_up(v, places)
        values[slot] = v
    outcomes = engine.evaluate(program, values)
    by_rule = {index[n]: outcomes[c.key] for n, c in enumerate(program.checks)}

    findings = [finding(er, by_rule.get(i), norm, waivers.get(er.rule.id)) for i, er in enumerate(resolution.rules)]
    ref, warned, pinned_digests = _about(resolution)
    return {
        "verdict": overall(findings),
        "ruleset": {**ref, "layers": [dict(layer) for layer in ref["layers"]]},
        "as_of": req.as_of.isoformat(),
        "known_at": known_at.isoformat(),
        "industry": dict(industry) if industry is not None else None,
        "findings": findings,
        "warnings": list(warned),
        "engine": engine.name,
        "engine_version": engine.version,
        "pinned": list(pinned_digests),
    }


# The parts of a verdict that depend on the resolution alone, per resolution object (a
# batch's items share theirs); each entry keeps its resolution alive, so its id() is not reused.
_ABOUT: dict[int, tuple[Resolution, dict, list[str], list[str]]] = {}


def _about(resolution: Resolution) -> tuple[dict, list[str], list[str]]:
    hit = _ABOUT.get(id(resolution))
    if hit is None or hit[0] is not resolution:
        if len(_ABOUT) >= _COMPILED_MAX:
            _ABOUT.clear()
        hit = _ABOUT[id(resolution)] = (resolution, resolution.ref(), warnings(resolution),
                                        [layer.digest for layer in resolution.layers])
    return hit[1], hit[2], hit[3]


def _admitted_from_ruleset(norm: Normalised, resolution: Resolution, req: ProposalRequest) -> None:
    """industry_admitted from the most specific layer that publishes an admitted list.

    A published list outranks anything the applicant states about itself."""
    for layer in reversed(resolution.layers):
        if layer.doc.admitted_industries is None:
            continue
        norm.given.pop("industry_admitted", None)
        norm.derived.pop("industry_admitted", None)
        if req.industry is None:
            return
        cands, _ = map_industry(req.industry.code, req.industry.classification, layer.doc)
        if cands is None:
            return
        ok = any(c.startswith(a) for c in cands for a in layer.doc.admitted_industries)
        norm.derived["industry_admitted"] = Fraction(int(ok))
        return


def overall(findings: list[dict]) -> str:
    required = [f for f in findings if f["required"]]
    if any(f["status"] == "missing" for f in required):
        return "incomplete"
    if any(f["status"] == "not_covered" for f in required):
        return "manual_review"
    if any(f["status"] == "fail" for f in findings):
        return "fail"
    return "pass"


def strict_display(v: Fraction, op: str, t: Any) -> Fraction:
    """``v`` on the 10⁻¹² grid, rounded down where the rule bounds it from below and up
    where it bounds it from above; thresholds sit on the grid, so order is preserved."""
    if op in (">=", ">") or (op == "between" and t is not None and v - t[0] <= t[1] - v):
        return floor_to(v, STRICT_PLACES)
    if op in ("<=", "<", "between"):
        return ceil_to(v, STRICT_PLACES)
    return round_half_up(v, STRICT_PLACES)


def _threshold_out(er: EffectiveRule) -> Any:
    t = er.concrete.threshold
    if t is None or isinstance(t, bool):
        return t
    if isinstance(t, tuple):
        return [dec_str(x) for x in t]
    return dec_str(t)


def _margin(op: str, v: Fraction, t: Any) -> Fraction | None:
    if op in (">=", ">"):
        return v - t
    if op in ("<=", "<"):
        return t - v
    if op == "between":
        return min(v - t[0], t[1] - v)
    return None


def _plan(er: EffectiveRule) -> dict:
    """Everything in a finding that depends on the rule alone — its fixed fields and the
    text of its messages — computed once per effective rule (effective rules are cached per
    rule-set chain and industry), so a check only fills in its value, status and margin."""
    if er.static is None:
        ind = load_catalog().indicators[er.rule.indicator]
        doc = er.layer.doc
        ref = doc.documents[er.rule.cite.doc]
        mode, places = _precision_of(er)
        extras: dict[str, Any] = {}
        if er.supersedes:
            extras["supersedes"] = er.supersedes
        if er.note:
            extras["relaxation"] = er.note
        if er.concrete.matched not in (None, "default"):
            extras["industry_key"] = er.concrete.matched
        t = er.concrete.threshold
        compared = t is not None and er.concrete.status is None     # the engine decides pass or fail
        er.static = {
            "finding": {
                "rule": er.rule.id, "indicator": er.rule.indicator, "label": ind.label, "role": er.rule.role,
                "required": er.rule.required, "unit": ind.unit or None, "op": er.rule.op,
                "threshold": _threshold_out(er), "layer": er.layer.id, "layer_version": er.layer.version,
                "cite": {"doc": er.rule.cite.doc, "article": er.rule.cite.article, "title": ref.title,
                         "number": ref.number, "url": ref.url},
                "example": doc.status == "example" or bool(er.rule.example),
            },
            "extras": extras, "ind": ind, "mode": mode, "places": places,
            # round_half_up on the integer grid: margins for a plain threshold without Fractions.
            "scale": 10**places if mode == "round_half_up" else None,
            "plain_t": (t.numerator, t.denominator) if isinstance(t, Fraction) else None,
            # the messages for a comparison's outcome: the value is the only variable part
            "said": _outcome_messages(er, ind) if compared else None,
        }
    return er.static


def _outcome_messages(er: EffectiveRule, ind: Any) -> dict:
    prefix = "【示例数据】" if er.layer.doc.status == "example" or er.rule.example else ""
    if ind.is_boolean:
        return {(a, st): f"{prefix}{ind.label}：{'是' if a else '否'}，{'符合' if st == 'pass' else '不符合'}要求"
                for a in (True, False) for st in ("pass", "fail")}
    unit = ind.unit
    sep = " " if unit else ""
    tail = f"{sep}{unit}，要求 {OP_ZH[er.rule.op]} {_t_text(er, sep + unit)}，"
    return {"head": f"{prefix}{ind.label} ", "pass": tail + "符合", "fail": tail + "不符合"}


def _half_up(n: int, d: int) -> int:
    """n / d rounded half away from zero, d > 0 (as numbers._half_up_int on a reduced fraction)."""
    if n >= 0:
        return (2 * n + d) // (2 * d)
    return -((-2 * n + d) // (2 * d))


def finding(er: EffectiveRule, outcome: str | None, norm: Normalised, waiver: Any) -> dict:
    plan = _plan(er)
    raw, source = norm.value(er.rule.indicator)
    op, t = er.rule.op, er.concrete.threshold
    actual: Any = None
    margin = None
    if raw is not None:
        if plan["ind"].is_boolean:
            actual = bool(raw)
        elif (scale := plan["scale"]) is not None:
            places = plan["places"]
            vi = _half_up(raw.numerator * scale, raw.denominator)     # the value rounded, × scale
            actual = fixed(vi, places)
            if plan["plain_t"] is not None and op in (">=", ">", "<=", "<"):
                tn, td = plan["plain_t"]
                n = vi * td - tn * scale               # (v − t) × scale × td
                margin = fixed(_half_up(n if op in (">=", ">") else -n, td), places)
            elif t is not None:
                m = _margin(op, Fraction(vi, scale), t)
                margin = dec_str(m, places) if m is not None else None
        else:
            # strict: compared unrounded; shown to 12 decimals, rounded towards the side of
            # the threshold the exact value is on, so the shown margin keeps its sign.
            v = strict_display(raw, op, t)
            actual = dec_str(v)
            if t is not None:
                m = _margin(op, v, t)
                margin = dec_str(m) if m is not None else None

    if waiver is not None:
        status = "waived"
    elif er.concrete.status is not None:
        status = er.concrete.status
    elif outcome == prog.ABSENT:
        status = "missing" if er.rule.required else "not_required"
    else:
        status = outcome
    said = plan["said"]
    if said is not None and waiver is None and status in ("pass", "fail"):
        text = said[(actual, status)] if plan["ind"].is_boolean else f"{said['head']}{actual}{said[status]}"
    else:
        text = message(status, er, plan["ind"], actual, waiver)
    static = plan["finding"]
    f = {**static, "status": status, "actual": actual, "source": source, "margin": margin,
         "cite": dict(static["cite"]), "message": text}
    if plan["extras"]:
        f.update(plan["extras"])
    return f


def _t_text(er: EffectiveRule, unit: str) -> str:
    t = er.concrete.threshold
    if isinstance(t, tuple) and er.rule.op == "between":
        return f"{dec_str(t[0])}–{dec_str(t[1])}{unit}"
    if isinstance(t, tuple):
        return "、".join(dec_str(x) for x in t)
    return f"{dec_str(t)}{unit}"


def message(status: str, er: EffectiveRule, ind: Any, actual: Any, waiver: Any) -> str:
    unit = ind.unit
    prefix = "【示例数据】" if er.layer.doc.status == "example" or er.rule.example else ""
    if status == "waived":
        return f"{prefix}{ind.label}：已豁免（{waiver.reason}{'，' + waiver.doc if waiver.doc else ''}）"
    if status == "not_covered":
        return f"{prefix}{ind.label}：{er.concrete.message}"
    if status == "not_required":
        return f"{prefix}{ind.label}：不作要求" + (f"（{er.concrete.message}）" if er.concrete.message else "")
    if status == "missing":
        srcs = "、".join(ind.measures) if ind.measures else ""
        how = f"请提供 indicators.{ind.id}" + (f" 或计算所需的 measures（{srcs}）" if srcs else "")
        return f"{prefix}缺少{ind.label}：{how}"
    if ind.is_boolean:
        return f"{prefix}{ind.label}：{'是' if actual else '否'}，{'符合' if status == 'pass' else '不符合'}要求"
    cmp = OP_ZH[er.rule.op]
    verdict = "符合" if status == "pass" else "不符合"
    sep = " " if unit else ""
    return f"{prefix}{ind.label} {actual}{sep}{unit}，要求 {cmp} {_t_text(er, sep + unit)}，{verdict}"


def warnings(resolution: Resolution) -> list[str]:
    out = []
    examples = [layer.id for layer in resolution.layers if layer.doc.status == "example"]
    if examples:
        out.append(f"规则集 {', '.join(examples)} 为示例数据（status: example），阈值未经官方核实，不能作为正式审查依据。")
    vias = sorted({er.concrete.message for er in resolution.rules
                   if er.concrete.status is None and er.concrete.message})
    for via in vias:
        out.append(f"行业代码经对照表转换：{via}")
    for er in resolution.rules:
        if er.note:
            out.append(f"规则 {er.rule.id}：{er.note}")
    return out


# ---------------------------------------------------------------- with the decision log

def _record(req: ProposalRequest, result: dict) -> dict:
    rec = {"kind": "proposal", "request": req.model_dump(mode="json", exclude_none=True), **result}
    if req.reference is not None:
        rec["reference"] = req.reference       # the caller's own id, echoed in batch results
    return rec


def run(session: Session, req: ProposalRequest, engine: Engine) -> dict:
    """Check one proposal and store the decision."""
    known_at = req.known_at or clock.utcnow()
    registry = rulesets.registry(session)
    session.rollback()      # hand the connection back to the pool while the engine works
    result = evaluate(req, registry, engine, known_at=known_at)
    return decisions.append(session, [_record(req, result)])[0]


def run_batch(session: Session, reqs: list[ProposalRequest], engine: Engine,
              also: Callable[[Connection, list[dict]], None] | None = None) -> list[dict]:
    """Check many proposals; every problem of every item is reported (paths under
    ``items.N``) and nothing is stored unless all are valid: one transaction.
    ``also`` writes rows that belong with the batch in that transaction (``decisions.append``)."""
    now = clock.utcnow()
    reg = rulesets.registry(session)
    session.rollback()
    cache: dict = {}
    results, problems = [], []
    # A batch builds ~100 dicts per item and keeps them all; the cyclic collector would
    # rescan that growing heap again and again.  Nothing here makes reference cycles.
    with gc_paused():
        for i, req in enumerate(reqs):
            try:
                results.append(_record(req, evaluate(req, reg, engine, known_at=req.known_at or now, cache=cache)))
            except InputError as e:
                problems.extend(Problem(f"items.{i}.{p.path}".rstrip("."), p.msg) for p in e.problems)
        if problems:
            raise InputError(problems)
        return decisions.append(session, results, also=also)
