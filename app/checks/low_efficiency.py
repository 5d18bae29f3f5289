"""Park low-efficiency rule sets (rules/parks/*.yaml, or published through ``POST /v1/law/low_efficiency``:
the law store ``app.checks.law`` reads them with ``parse``) and their predicates.

A park rule set lists predicates (docs/domain.md ⚙ "configurable predicates, each
carrying its parameter, source, confidence and who set it").  The measure each one
compares is a closed list here; the parameter, the gate and the citation are data.

Every comparison runs through the rule engine on the 10^-6 grid: the measure minus its
threshold against 0 (so ``k × park average`` need not be on the grid), dates as day
differences against 0 (Civil Code Art. 201/202 as for idle land: "≥ n months" holds from
the day after the n-month anniversary).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH
from app.core.errors import InputError, Problem, pydantic_problems
from app.core.numbers import dec_str
from app.engine.comparisons import Comparisons as Audit
from app.lifecycle.periods import add_months, anniversary
from app.lifecycle.state import State
from app.rulesets.document import GRID_PLACES, TaxBasis

ZERO = Fraction(0)

# measure → (operator as written in the rule set, the parameter's allowed units)
MEASURES: dict[str, tuple[str, tuple[str | None, ...]]] = {
    "tax_per_mu_vs_park_average": ("<", ("fraction", "%")),
    "plot_ratio": ("<", (None,)),
    # k × the parcel's own minimum: its contract's commitment, else the rule set in force for its
    # industry on its signing date (``Requirement``); k = 1 is the requirement itself.
    "plot_ratio_vs_requirement": ("<", ("fraction", "%")),
    "investment_intensity_vs_contract": ("<", ("fraction", "%")),
    "months_stopped": (">=", ("月",)),
    "years_past_completion_due": (">", ("年",)),
    "months_construction_suspended": (">=", ("月",)),
}
# 停产 (production stopped, after completion acceptance) and 停建缓建 (construction suspended before
# it): the two classes of the city plan (三政办〔2021〕5号 二（三）4) read different events.
MONTH_MEASURES = ("months_stopped", "months_construction_suspended")
CONFIDENCE = ("✅", "◐", "❓", "⚙")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    doc: str | None = None
    article: str | None = None
    confidence: Literal["✅", "◐", "❓", "⚙"]
    note: str | None = None


class Parameter(_Strict):
    value: Decimal = Field(allow_inf_nan=False, ge=0)
    unit: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v


class Predicate(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: str = Field(min_length=1)
    measure: str
    op: str
    parameter: Parameter
    after_completion_years: int | None = Field(default=None, ge=0, le=50)
    source: Source
    set_by: str = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _measure(self) -> Predicate:
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}; one of {sorted(MEASURES)}")
        op, unit_set = MEASURES[self.measure]
        if self.op != op:
            raise ValueError(f"measure {self.measure} compares with {op!r}, not {self.op!r}")
        if self.parameter.unit not in unit_set:
            raise ValueError(f"parameter unit of {self.measure} must be one of {list(unit_set)}")
        if self.measure in (*MONTH_MEASURES, "years_past_completion_due") and self.parameter.value != int(self.parameter.value):
            raise ValueError("months or years must be a whole number")
        if (Fraction(self.parameter.value) * 10**GRID_PLACES).denominator != 1:
            raise ValueError(f"parameter must be exact to {GRID_PLACES} decimals")
        return self

    @property
    def k(self) -> Fraction:
        """The parameter as an exact number (a share as a fraction of 1)."""
        v = Fraction(self.parameter.value)
        return v / 100 if self.parameter.unit == "%" else v


class Document(_Strict):
    title: str
    number: str | None = None
    url: str | None = None


class ParkRuleSet(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    version: str
    title: str
    status: Literal["example", "official"]
    jurisdiction: str = Field(pattern=r"^\d{6}$")
    effective_from: dt.date
    effective_to: dt.date | None = None
    area_basis: Literal["contract", "certificated", "enterprise", "parcel"]
    tax_basis: TaxBasis | None = None
    excludes_idle: bool = True
    excludes_idle_source: Source | None = None
    documents: dict[str, Document]
    notes: str | None = None
    predicates: list[Predicate] = Field(min_length=1)

    @model_validator(mode="after")
    def _refs(self) -> ParkRuleSet:
        ids = [p.id for p in self.predicates]
        if len(ids) != len(set(ids)):
            raise ValueError("predicate ids must be unique")
        for p in self.predicates:
            if p.source.doc is not None and p.source.doc not in self.documents:
                raise ValueError(f"predicate {p.id}: source.doc {p.source.doc!r} is not in documents")
        if self.area_basis != "contract":
            raise ValueError("only area_basis: contract (the parcel's registered = contracted area) is implemented")
        return self

    def cite(self, src: Source | None) -> dict | None:
        if src is None:
            return None
        doc = self.documents.get(src.doc) if src.doc else None
        return {"doc": src.doc, "article": src.article, "title": doc.title if doc else None,
                "number": doc.number if doc else None, "url": doc.url if doc else None,
                "confidence": src.confidence, "note": src.note}


@dataclass(frozen=True)
class LoadedRuleSet:
    doc: ParkRuleSet
    digest: str
    path: str

    def ref(self) -> dict:
        d = self.doc
        return {"id": d.id, "version": d.version, "digest": self.digest, "status": d.status, "title": d.title,
                "example": d.status == "example", "effective_from": d.effective_from.isoformat(),
                "effective_to": d.effective_to.isoformat() if d.effective_to else None}


def parse(raw: Any, path: str = "") -> LoadedRuleSet:
    """Validate a park rule-set document; InputError with every problem's path."""
    if not isinstance(raw, dict):
        raise InputError([Problem("", "园区规则集必须是对象 (a park rule set is a mapping)")])
    try:
        doc = ParkRuleSet.model_validate(raw)
    except ValidationError as e:
        raise InputError(pydantic_problems(e)) from None
    body = json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return LoadedRuleSet(doc, hashlib.sha256(body.encode("utf-8")).hexdigest(), path)


# ---------------------------------------------------------------- facts of one parcel

@dataclass(frozen=True)
class Requirement:
    """A parcel's own plot-ratio minimum: its contract's commitment, else the minimum of the rule set
    in force for its industry on its signing date.  ``value`` None: none applies (``status`` none)
    or it cannot be told (``status`` not_covered, e.g. an industry the national table maps to two
    rows, or no rule set resolved)."""

    value: Fraction | None
    strict: bool                        # the rule says "> value" (low when ≤), not "≥ value"
    source: str                         # contract | ruleset
    status: str                         # ok | none | not_covered
    message: str
    cite: dict | None = None


@dataclass
class ParcelFacts:
    """What the predicates read about one parcel on one date."""

    state: State | None                 # the contract folded to the date; None without a contract
    contract_area: Fraction | None      # 亩, from the contract
    tax_per_mu: Fraction | None         # the parcel's 亩均税收 in the tax year (None: no data)
    tax_status: str                     # ok | insufficient_data | not_applicable (not supplied in the tax year)
    tax_note: str | None                # why the tax figure is missing, when it is
    park_average: Fraction | None       # the park's 亩均税收 over its land with data in the same year
    tax_year: int
    plot_ratio: Fraction | None
    investment_intensity: Fraction | None          # actual, 万元/亩 (completion acceptance)
    contract_intensity: Fraction | None            # agreed, 万元/亩
    park_average_status: str = "ok"                # withheld: the park figure may not be shown to the caller
    plot_ratio_requirement: Requirement | None = None


def _result(p: Predicate, rs: ParkRuleSet, status: str, message: str, *, value: str | None = None,
            threshold: str | None = None, formula: str | None = None, inputs: dict | None = None,
            missing: list[str] | None = None, gate: dict | None = None) -> dict:
    out = {"predicate": p.id, "label": p.label, "measure": p.measure, "op": p.op,
           "parameter": {"value": format(p.parameter.value, "f"), "unit": p.parameter.unit},
           "status": status, "holds": True if status == "holds" else False if status == "not_met" else None,
           "value": value, "threshold": threshold, "formula": formula, "inputs": inputs or {},
           "source": rs.cite(p.source), "confidence": p.source.confidence, "set_by": p.set_by,
           "example": rs.status == "example", "message": message}
    if missing:
        out["missing"] = missing
    if gate:
        out["gate"] = gate
    return out


def _gate(p: Predicate, rs: ParkRuleSet, st: State | None, as_of: dt.date, a: Audit, prefix: str):
    """(key or None, gate info, early result or None).  Assessed only more than N years after completion."""
    n = p.after_completion_years
    if n is None:
        return None, None, None
    if st is None:
        return None, None, _result(p, rs, "insufficient_data", "宗地无出让合同，无法判断竣工时间", missing=["contract_no"])
    if st.completion is None:
        return None, None, _result(p, rs, "not_applicable", "尚未竣工验收，本项不适用",
                                   gate={"after_completion_years": n, "completed_on": None})
    since = anniversary(st.completion.on, n) if n else st.completion.on
    key = a.add(f"{prefix}.gate", Fraction((as_of - since).days), ">", ZERO)
    return key, {"after_completion_years": n, "completed_on": st.completion.on.isoformat(), "from": since.isoformat()}, None


def predicates(rs: ParkRuleSet, f: ParcelFacts, as_of: dt.date, a: Audit, prefix: str = "low") -> list:
    """The engine tests of every predicate (added to ``a``) and, per predicate, a builder
    ``holds → result``.  Statuses: holds, not_met, insufficient_data, not_applicable."""
    out = []
    for p in rs.predicates:
        key_prefix = f"{prefix}.{p.id}"
        gate_key, gate_info, early = _gate(p, rs, f.state, as_of, a, key_prefix)
        if early is not None:
            out.append(lambda h, r=early: r)
            continue
        out.append(_one(p, rs, f, as_of, a, key_prefix, gate_key, gate_info))
    return out


def _gated(p: Predicate, rs: ParkRuleSet, gate_key: str | None, gate_info: dict | None, build):
    def run(h: dict) -> dict:
        if gate_key is not None and not h[gate_key]:
            return _result(p, rs, "not_applicable",
                           f"竣工验收（{gate_info['completed_on']}）未满 {gate_info['after_completion_years']} 年，本项尚不适用",
                           gate=gate_info)
        r = build(h)
        if gate_info:
            r["gate"] = gate_info
        return r
    return run


def _one(p: Predicate, rs: ParkRuleSet, f: ParcelFacts, as_of: dt.date, a: Audit, kp: str,
         gate_key: str | None, gate_info: dict | None):
    st, k = f.state, p.k
    m = p.measure
    if m == "tax_per_mu_vs_park_average":
        if f.tax_status == "not_applicable":
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "not_applicable", f"{f.tax_year} 年：{f.tax_note}"))
        if WITHHELD_STATUS in (f.tax_status, f.park_average_status):
            # Neither the figure nor the result: "holds" would tell the tax is below k × average.
            what = "宗地受让人税收数据" if f.tax_status == WITHHELD_STATUS else "园区亩均税收"
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, WITHHELD_STATUS, f"{f.tax_year} 年：{what}{WITHHELD_ZH}，本项不显示、不判定"))
        if f.tax_per_mu is None or f.park_average is None:
            what = f.tax_note or f"{f.tax_year} 年园区亩均税收无法计算"
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "insufficient_data", f"{f.tax_year} 年：{what}（缺数据不视为零）",
                missing=[f"tax_records {f.tax_year}"] if f.tax_per_mu is None else ["park_average"]))
        threshold = k * f.park_average
        key = a.add(kp, f.tax_per_mu - threshold, "<", ZERO)
        # The park figure over its land with tax data (the producing land), not the park 亩均税收 over all
        # supplied land: land counted as 0 would lower this bar exactly where idle land abounds.
        inputs = {"year": f.tax_year, "tax_per_mu": dec_str(f.tax_per_mu), "park_average": dec_str(f.park_average),
                  "park_average_basis": "land_with_data", "k": dec_str(k)}

        def build(h: dict) -> dict:
            word = "低于" if h[key] else "不低于"
            return _result(p, rs, "holds" if h[key] else "not_met",
                           f"{f.tax_year} 年亩均税收 {dec_str(f.tax_per_mu, 2)} 万元/亩{word}园区平均（有税收数据的宗地）"
                           f"{dec_str(f.park_average, 2)} × {dec_str(k)} = {dec_str(threshold, 2)}",
                           value=dec_str(f.tax_per_mu), threshold=dec_str(threshold),
                           formula="宗地亩均税收 < k × 园区亩均税收", inputs=inputs)
        return _gated(p, rs, gate_key, gate_info, build)

    if m == "plot_ratio":
        if f.plot_ratio is None:
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "insufficient_data", "缺少竣工验收的建筑面积数据，无法计算容积率",
                missing=["completion_accepted.total_floor_area"]))
        key = a.add(kp, f.plot_ratio, "<", k)

        def build_far(h: dict) -> dict:
            return _result(p, rs, "holds" if h[key] else "not_met",
                           f"容积率 {dec_str(f.plot_ratio, 2)} {'低于' if h[key] else '不低于'} {dec_str(k)}",
                           value=dec_str(f.plot_ratio), threshold=dec_str(k), formula="容积率 < 阈值",
                           inputs={"plot_ratio": dec_str(f.plot_ratio)})
        return _gated(p, rs, gate_key, gate_info, build_far)

    if m == "plot_ratio_vs_requirement":
        req = f.plot_ratio_requirement
        if req is None or req.status == "none":
            why = req.message if req is not None else "宗地无出让合同，无容积率要求"
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(p, rs, "not_applicable", why))
        if req.status != "ok" or req.value is None:
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "insufficient_data", f"无法确定本宗地的容积率要求：{req.message}",
                missing=["commitments.plot_ratio.min"]))
        if f.plot_ratio is None:
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "insufficient_data", "缺少竣工验收的建筑面积数据，无法计算容积率",
                missing=["completion_accepted.total_floor_area"]))
        threshold = k * req.value
        key = a.add(kp, f.plot_ratio - threshold, "<=" if req.strict else "<", ZERO)
        inputs = {"plot_ratio": dec_str(f.plot_ratio), "requirement": dec_str(req.value), "requirement_source": req.source,
                  "requirement_op": ">" if req.strict else ">=", "k": dec_str(k)}
        if req.cite:
            inputs["requirement_cite"] = req.cite

        def build_req(h: dict) -> dict:
            word = ("不高于" if req.strict else "低于") if h[key] else ("高于" if req.strict else "不低于")
            return _result(p, rs, "holds" if h[key] else "not_met",
                           f"容积率 {dec_str(f.plot_ratio, 2)} {word}本宗地要求 {dec_str(threshold)}（{req.message}）",
                           value=dec_str(f.plot_ratio), threshold=dec_str(threshold),
                           formula="容积率 < k × 本宗地容积率要求（合同约定下限；未约定时为签约日适用规则集本行业最低值）",
                           inputs=inputs)
        return _gated(p, rs, gate_key, gate_info, build_req)

    if m == "investment_intensity_vs_contract":
        if f.investment_intensity is None or f.contract_intensity is None:
            miss = [n for n, v in (("completion_accepted.fixed_asset_investment", f.investment_intensity),
                                   ("commitments.investment_intensity", f.contract_intensity)) if v is None]
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "insufficient_data", "缺少实际或约定投资强度", missing=miss))
        threshold = k * f.contract_intensity
        key = a.add(kp, f.investment_intensity - threshold, "<", ZERO)

        def build_inv(h: dict) -> dict:
            return _result(p, rs, "holds" if h[key] else "not_met",
                           f"投资强度 {dec_str(f.investment_intensity, 2)} 万元/亩{'低于' if h[key] else '不低于'}约定 "
                           f"{dec_str(f.contract_intensity, 2)} × {dec_str(k)} = {dec_str(threshold, 2)}",
                           value=dec_str(f.investment_intensity), threshold=dec_str(threshold),
                           formula="实际投资强度 < k × 合同约定投资强度",
                           inputs={"actual": dec_str(f.investment_intensity), "agreed": dec_str(f.contract_intensity),
                                   "k": dec_str(k)})
        return _gated(p, rs, gate_key, gate_info, build_inv)

    if m in MONTH_MEASURES:
        months = int(p.parameter.value)
        production = m == "months_stopped"
        word = "停产" if production else "停建"
        if st is None:
            return lambda h: _result(p, rs, "insufficient_data", f"宗地无出让合同，无{word}记录来源", missing=["contract_no"])
        if production:
            since, event = st.production_stopped_since, "production_stopped"
            if st.production_stop_partial and since is not None:
                word = "半停产"
        else:
            since, event = st.construction_suspended_since, "construction_suspended"
            if st.completion is not None:
                return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                    p, rs, "not_applicable", f"已于 {st.completion.on} 竣工验收：停建缓建类不适用（竣工后停产另行认定）",
                    inputs={"completed_on": st.completion.on.isoformat()}))
        if since is None:
            return _gated(p, rs, gate_key, gate_info, lambda h: _result(
                p, rs, "not_met", f"未报告{word}（{event}）", inputs={"since": None}))
        full = add_months(since, months)
        key = a.add(kp, Fraction((as_of - full).days), ">", ZERO)
        inputs = {"since": since.isoformat(), "as_of": as_of.isoformat(), "event": event}
        if st.stop_read_from:
            inputs["read_from"] = st.stop_read_from

        def build_stop(h: dict) -> dict:
            return _result(p, rs, "holds" if h[key] else "not_met",
                           f"自 {since} {word}，{'已满' if h[key] else '未满'} {months} 个月（满期之日 {full}）",
                           value=since.isoformat(), threshold=full.isoformat(),
                           formula=f"as_of > {event}.on + n 个月（民法典第二百零一、二百零二条）", inputs=inputs)
        return _gated(p, rs, gate_key, gate_info, build_stop)

    # years_past_completion_due
    years = int(p.parameter.value)
    if st is None:
        return lambda h: _result(p, rs, "insufficient_data", "宗地无出让合同，无竣工期限", missing=["contract_no"])
    if st.completion is not None:
        return lambda h: _result(p, rs, "not_applicable", f"已于 {st.completion.on} 竣工验收",
                                 inputs={"completed_on": st.completion.on.isoformat()})
    due = st.complete_due
    if due is None:
        return lambda h: _result(p, rs, "insufficient_data", "合同未约定竣工日期", missing=["schedule.complete_by"])
    full = anniversary(due, years)
    key = a.add(kp, Fraction((as_of - full).days), ">", ZERO)

    def build_due(h: dict) -> dict:
        return _result(p, rs, "holds" if h[key] else "not_met",
                       f"竣工期限 {due}，截至 {as_of} 未竣工，超期{'已满' if h[key] else '未满'} {years} 年（满期之日 {full}）",
                       value=due.isoformat(), threshold=full.isoformat(), formula="未竣工且 as_of > 竣工期限 + n 年",
                       inputs={"complete_due": due.isoformat(), "as_of": as_of.isoformat()})
    return build_due
