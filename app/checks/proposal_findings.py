"""Proposal check, the findings: per effective rule its status (from the engine's answer,
the rule's own status or a waiver), the value as compared and its margin, the officer's text;
the verdict over all findings and the warnings of a resolution (docs/verdicts.md)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from app.checks.proposal_normalise import Normalised
from app.core.numbers import STRICT_PLACES, ceil_to, dec_str, fixed, floor_to, round_half_up
from app.rulesets.resolve import EffectiveRule, Resolution
from indicators.catalog import indicator

STATUSES = ("pass", "fail", "missing", "not_required", "not_covered", "waived")
OP_ZH = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "between": "介于", "in": "属于", "is_true": "为是"}


def precision_of(er: EffectiveRule) -> tuple[str, int | None]:
    p = er.layer.doc.precision
    return (p.mode, p.places)


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
        ind = indicator(er.rule.indicator)
        doc = er.layer.doc
        ref = doc.documents[er.rule.cite.doc]
        mode, places = precision_of(er)
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


def finding(er: EffectiveRule, outcome: bool | None, norm: Normalised, waiver: Any) -> dict:
    """The finding of one effective rule; ``outcome`` is the engine's answer (None: the value
    is missing), read only for a rule that was compared (no status of its own, not waived)."""
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
    elif outcome is None:           # compared, and the value is missing
        status = "missing" if er.rule.required else "not_required"
    else:
        status = "pass" if outcome else "fail"
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
