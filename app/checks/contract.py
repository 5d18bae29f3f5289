"""Contract-clause check: before signing, is every required clause present, filled in,
and at least as strict as the rule set in force on the signing date?  Are the
identifiers valid?

Finding statuses: pass, missing, weaker, non_model, invalid, warning.  The verdict is
``pass`` only when no finding is missing, weaker, non_model or invalid.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks import law
from app.core import clock
from app.core.errors import InputError, NotFound
from app.core.numbers import dec_str
from app.engine import Engine
from app.engine.comparisons import Comparisons
from app.lifecycle.law import IDLE_LAND_ID, ContractModel
from app.lifecycle.state import validate_new_events
from app.lifecycle.terms import ContractTerms
from app.rulesets.resolve import EffectiveRule, Resolution
from app.schemas.contract import ContractRequest
from app.schemas.proposal import industry_problems
from app.store import decisions, rulesets
from app.store.parks import park_of_parcel
from indicators import identifiers
from indicators.catalog import load_catalog

BLOCKING = {"missing", "weaker", "non_model", "invalid"}
# Commitments that correspond to indicator rules: (field, shape).
COMMITTED = {"investment_intensity": "value", "tax_per_mu": "value", "output_per_mu": "value",
             "plot_ratio": "interval", "building_coefficient": "interval", "admin_land_share": "interval",
             "admin_floor_share": "interval", "green_ratio": "interval"}
# A contract whose agreed total and agreed intensity × area differ by more than this is
# flagged (docs/domain.md, F4 note) ⚙ — a warning, never a verdict.
CONSISTENCY_TOLERANCE = Fraction(1, 100)


def _get(req: ContractRequest, dotted: str) -> Any:
    obj: Any = req
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _f(status: str, clause: str, message: str, contract_value: Any = None, rule_value: Any = None,
       cite: dict | None = None, **extra: Any) -> dict:
    return {"clause": clause, "status": status, "contract_value": contract_value, "rule_value": rule_value,
            "cite": cite, "message": message, **extra}


def _show(v: Any) -> Any:
    if hasattr(v, "value") and hasattr(v, "unit"):      # a quantity
        return f"{v.value} {v.unit or ''}".strip()
    if isinstance(v, Fraction):
        return dec_str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v) if v is not None and not isinstance(v, bool | int | str) else v


# ---------------------------------------------------------------- parts of the check

def check_identifiers(req: ContractRequest) -> list[dict]:
    out = []
    groups = [("transferee.uscc", identifiers.check_uscc(req.transferee.uscc), req.transferee.uscc),
              ("jurisdiction", identifiers.check_division(req.jurisdiction), req.jurisdiction)]
    if req.parcel_code is not None:
        groups.append(("parcel_code", identifiers.check_parcel_code(req.parcel_code), req.parcel_code))
    if req.supervision_no is not None:
        groups.append(("supervision_no", identifiers.check_supervision_no(req.supervision_no, req.signed_on.year),
                       req.supervision_no))
    for clause, found, value in groups:
        if not found:
            out.append(_f("pass", clause, "标识符格式与校验位正确", value))
        for f in found:
            out.append(_f(f.severity, clause, f.message, value))
    return out


def check_model(req: ContractRequest, model: ContractModel | None, known_models: list[str]) -> list[dict]:
    if model is None:
        known = "、".join(known_models)
        return [_f("non_model", "model", f"合同文本 {req.model} 不是已知示范文本（已知：{known}），无法逐条核对", req.model)]
    out = [_f("pass", "model", f"采用示范文本 {model.title}", req.model)]
    if model.status != "official":
        out.append(_f("warning", "model", f"{model.title}：官方文本未取得，条款按现有资料核对", req.model))
    for field, entry in model.required.items():
        value = _get(req, field)
        if value is None:
            out.append(_f("missing", field,
                          f"示范文本要求填写：{entry.get('article')}（空白或未填写，将无法计算违约金或核查履约）",
                          None, "必填", model.cite(entry)))
        elif field not in model.limits:
            out.append(_f("pass", field, f"已填写：{entry.get('article')}", _show(value), "必填", model.cite(entry)))
    for field, lim in model.limits.items():
        value = _get(req, field)
        if value is None:
            continue            # reported as missing above
        ok = value >= lim["value"] if lim["op"] == ">=" else value <= lim["value"]
        out.append(_f("pass" if ok else "weaker", field,
                      f"{lim['article']}：合同约定 {_show(value)}，示范文本要求 {lim['op']} {lim['value']}"
                      + ("" if ok else "，弱于示范文本"), _show(value), f"{lim['op']} {lim['value']}", model.cite(lim)))
    return out


def check_schedule(req: ContractRequest) -> list[dict]:
    s = req.schedule
    out = []
    seq = [("schedule.delivery_on", s.delivery_on), ("schedule.start_by", s.start_by), ("schedule.complete_by", s.complete_by)]
    given = [(k, v) for k, v in seq if v is not None]
    for (k1, v1), (k2, v2) in zip(given, given[1:], strict=False):
        if v2 < v1:
            out.append(_f("invalid", k2, f"{k2}（{v2}）早于 {k1}（{v1}）", v2.isoformat()))
    if s.start_by and s.start_by < req.signed_on:
        out.append(_f("warning", "schedule.start_by", f"约定开工日期 {s.start_by} 早于签订日期 {req.signed_on}",
                      s.start_by.isoformat()))
    if req.commitments.tax_per_mu is not None:
        if req.penalties.tax_shortfall is None:
            out.append(_f("missing", "penalties.tax_shortfall",
                          "约定了亩均税收，但未约定未达标的处理方式（补缴差额 / 按比例 / 不处理）"))
        if req.commitments.tax_per_mu.from_year is None:
            out.append(_f("missing", "commitments.tax_per_mu.from_year", "约定了亩均税收，但未约定起始考核年度"))
    return out


def _committed_bounds(terms: ContractTerms, indicator: str) -> tuple[Fraction | None, Fraction | None, Any]:
    """(lower, upper, shown) of a commitment in the indicator's canonical unit."""
    c = terms.commitments
    if COMMITTED[indicator] == "value":
        v = c.value(indicator)
        if v is None and indicator == "investment_intensity" and c.fixed_asset_investment is not None:
            v = c.fixed_asset_investment / terms.area_mu
            return v, None, f"{dec_str(v)}（由固定资产投资总额 ÷ 用地面积计算）"
        if v is None:
            return None, None, None
        return v, None, dec_str(v)
    iv = c.intervals.get(indicator)
    if iv is None:
        return None, None, None
    lo, hi = iv.min, iv.max
    shown = f"{dec_str(lo)}–{dec_str(hi)}" if lo is not None and hi is not None else \
        f"≥{dec_str(lo)}" if lo is not None else f"≤{dec_str(hi)}"
    return lo, hi, shown


def _rule_text(er: EffectiveRule) -> Any:
    t = er.concrete.threshold
    if isinstance(t, tuple):
        return [dec_str(x) for x in t]
    return dec_str(t) if isinstance(t, Fraction) else t


def check_commitments(terms: ContractTerms, resolution: Resolution, engine: Engine) -> list[dict]:
    """Each indicator rule in force at signing vs the contract's commitment.  The engine
    compares committed − required against 0: a committed minimum may not be below the
    rule's (strictly above it for ">"), a committed maximum not above it."""
    cat = load_catalog()
    out: list[dict] = []
    comparisons = Comparisons()
    pending: list[tuple[dict, list[str]]] = []
    for er in resolution.rules:
        indicator = er.rule.indicator
        if indicator not in COMMITTED:
            continue
        ind = cat.indicators[indicator]
        ref = er.layer.doc.documents[er.rule.cite.doc]
        cite = {"doc": er.rule.cite.doc, "article": er.rule.cite.article, "title": ref.title, "number": ref.number,
                "url": ref.url, "layer": er.layer.id, "layer_version": er.layer.version}
        clause = f"commitments.{indicator}"
        lo, hi, shown = _committed_bounds(terms, indicator)
        base = {"rule": er.rule.id, "unit": ind.unit or None, "example": er.layer.doc.status == "example"}
        if er.concrete.status == "not_required":
            continue
        if er.concrete.status == "not_covered":
            out.append(_f("warning", clause, f"{ind.label}：{er.concrete.message}", shown, None, cite, **base))
            continue
        op, t = er.rule.op, er.concrete.threshold
        needs = []          # (side, committed, required, engine operator on committed − required)
        if op in (">=", ">"):
            needs.append(("min", lo, t, op))
        elif op in ("<=", "<"):
            needs.append(("max", hi, t, op))
        elif op == "between":
            needs += [("min", lo, t[0], ">="), ("max", hi, t[1], "<=")]
        else:
            continue
        absent = [side for side, v, _, _ in needs if v is None]
        if absent and not er.rule.required:
            continue
        if absent:
            out.append(_f("missing", clause, f"规则 {er.rule.id} 要求{ind.label} {op} {_rule_text(er)}{ind.unit}，合同未约定"
                          f"{'下限' if 'min' in absent else '上限'}", shown, _rule_text(er), cite, **base))
            continue
        keys = [comparisons.add(f"{indicator}.{side}.{len(comparisons)}", v - required, cmp)
                for side, v, required, cmp in needs]
        finding = _f("pass", clause, "", shown, _rule_text(er), cite, **base)
        finding["_label"] = f"{ind.label}：合同约定 {shown}{ind.unit}，规则 {er.rule.id} 要求 {op} {_rule_text(er)}{ind.unit}"
        pending.append((finding, keys))
        out.append(finding)
    if pending:
        holds = comparisons.run(engine)
        for finding, keys in pending:
            ok = all(holds[k] for k in keys)
            finding["status"] = "pass" if ok else "weaker"
            finding["message"] = finding.pop("_label") + ("，符合" if ok else "，弱于规则")
    return out


def check_consistency(terms: ContractTerms) -> list[dict]:
    total, intensity = terms.commitments.fixed_asset_investment, terms.commitments.investment_intensity
    if total is None or intensity is None:
        return []
    implied = intensity * terms.area_mu
    if implied and abs(total - implied) / implied > CONSISTENCY_TOLERANCE:
        return [_f("warning", "commitments.fixed_asset_investment",
                   f"固定资产投资总额 {dec_str(total)} 万元与投资强度 × 用地面积 = {dec_str(implied)} 万元不一致，"
                   f"投资不足违约金（F4）的两个比例将不同", dec_str(total), dec_str(implied))]
    return []


# ---------------------------------------------------------------- the check

def evaluate(req: ContractRequest, session: Session, engine: Engine, *, known_at: dt.datetime | None = None,
             pinned: list[str] | None = None, law_pins: list[dict] | None = None) -> dict:
    """Check ``req``.  For a replay, ``pinned`` (rule-set layer digests) and ``law_pins`` (the stored
    decision's ``law``) fix the documents: exactly those are used, whatever was published since."""
    known_at = known_at or clock.utcnow()
    bad_industry = industry_problems(req.industry)
    if bad_industry:
        raise InputError(bad_industry)
    terms = ContractTerms.from_request(req)
    registry = rulesets.registry(session)
    resolution = registry.resolve(ruleset=req.ruleset, jurisdiction=req.jurisdiction, as_of=req.signed_on,
                                  known_at=known_at, industry=req.industry.model_dump(), parcel=req.parcel_code,
                                  park=park_of_parcel(session, req.parcel_code), pinned=pinned)
    if law_pins is None:
        model_doc = resolve_model(session, req.model, req.signed_on)
    else:
        model_doc = next((law.by_digest(session, "contract_model", p["digest"]) for p in law_pins
                          if p["kind"] == "contract_model"), None)
    model = model_doc.value if model_doc else None
    known = [] if model else sorted({d["id"] for d in law.listing(session, "contract_model")})
    findings = (check_model(req, model, known) + check_identifiers(req) + check_schedule(req)
                + check_commitments(terms, resolution, engine) + check_consistency(terms))
    verdict = "fail" if any(f["status"] in BLOCKING for f in findings) else "pass"
    return {
        "kind": "contract", "verdict": verdict, "contract_no": req.contract_no,
        "ruleset": resolution.ref(), "as_of": req.signed_on.isoformat(), "known_at": known_at.isoformat(),
        "findings": findings,
        "counts": {s: sum(1 for f in findings if f["status"] == s)
                   for s in ("pass", "missing", "weaker", "non_model", "invalid", "warning")},
        "engine": engine.name, "engine_version": engine.version,
        "pinned": [layer.digest for layer in resolution.layers],
        "law": [law.pin(model_doc)] if model_doc else [],
        "request": req.model_dump(mode="json", exclude_none=True),
    }


def resolve_model(session: Session, model_id: str, signed_on: dt.date) -> law.Law | None:
    """The contract model a contract names, in the version in force on its signing date (a contract
    is written on the model text of its day); signed before any version took effect, the latest
    version (as before models were versioned).  None when no such model is published: the check
    reports ``non_model``."""
    try:
        return law.resolve(session, "contract_model", model_id, signed_on)
    except NotFound:
        pass
    try:
        return law.latest(session, "contract_model", model_id)
    except NotFound:
        return None


def resolve_idle_law(session: Session, on: dt.date) -> law.Law:
    """The 53号令 parameters in force on ``on``; on a date before the first version took effect
    (2012-07-01), the earliest version, as audits answered before the parameters were dated."""
    try:
        return law.resolve(session, "idle_land", IDLE_LAND_ID, on)
    except NotFound:
        rows = [r for r in law.listing(session, "idle_land") if r["id"] == IDLE_LAND_ID]
        if not rows:
            raise
        first = min(rows, key=lambda r: (r["effective_from"], law.version_key(r["version"])))
        return law.by_version(session, "idle_land", IDLE_LAND_ID, first["version"])


def validate_events(session: Session, contract: ContractRequest, stored: list[dict], new: list) -> None:
    """``lifecycle.state.validate_new_events`` under the published documents: the contract's model
    (in force on its signing date) and the 53号令 parameters in force on the latest new event's day."""
    terms = ContractTerms.from_request(contract)
    model_doc = resolve_model(session, terms.model, terms.signed_on)
    on = max((ev.on for ev in new), default=clock.today())
    idle_doc = resolve_idle_law(session, on)
    validate_new_events(terms, stored, new, model=model_doc.value if model_doc else None, law=idle_doc.value)


def run(session: Session, req: ContractRequest, engine: Engine) -> dict:
    """Check a contract and store the decision (the contract itself is not registered)."""
    result = evaluate(req, session, engine)
    return decisions.append(session, [result])[0]
