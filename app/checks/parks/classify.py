"""Classification of a parcel on a date: 批而未供, 闲置土地 (53号令) and 低效用地 (the park's
low-efficiency rule set), each with the predicate results that produced it (``classify``); the
facts the predicates read (``facts``, ``plot_ratio_requirement``); the parcel's basic data
(``parcel_basics``) and its view (``parcel_view``)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from sqlmodel import Session

from app.checks import low_efficiency as lowe
from app.checks.parks.common import CATEGORIES, SUPPLY_STATUSES, USES, ZERO, q
from app.checks.parks.data import ParcelRec, ParkData, load
from app.checks.parks.tax import ParcelTax, ParkTax, parcel_tax, park_tax
from app.checks.performance import Audit
from app.checks.visibility import (
    WITHHELD_STATUS,
    WITHHELD_ZH,
    TaxView,
)
from app.core.errors import InputError
from app.core.numbers import dec_str
from app.engine import Engine
from app.lifecycle import idle
from app.lifecycle.state import completion_site
from app.schemas.contract import ContractRequest
from app.store import parks as store
from indicators import units
from indicators.derive import derive


def _contract_area(c: ContractRequest) -> Fraction:
    return units.to_canonical(c.land_area.value, c.land_area.unit, "area")


def plot_ratio_requirement(data: ParkData, rec: ParcelRec) -> lowe.Requirement | None:
    """The parcel's own plot-ratio minimum (the low-efficiency plot-ratio test compares with it):
    its contract's committed minimum; else the strictest minimum of the rule set in force for its
    industry on its signing date, resolved as the contract check resolves it (the contract's rule
    set, or by jurisdiction, parcel and park).  None without a contract."""
    c = rec.contract
    if c is None:
        return None
    iv = c.commitments.plot_ratio
    if iv is not None and iv.min is not None:
        return lowe.Requirement(units.to_canonical(iv.min, iv.unit, "ratio"), False, "contract", "ok",
                                f"合同 {c.contract_no} 约定容积率下限 {dec_str(units.to_canonical(iv.min, iv.unit, 'ratio'))}",
                                {"contract_no": c.contract_no, "clause": "commitments.plot_ratio.min"})
    try:
        res = data.registry.resolve(ruleset=c.ruleset, jurisdiction=c.jurisdiction, as_of=c.signed_on,
                                    known_at=data.known_at, industry=c.industry.model_dump(), parcel=c.parcel_code,
                                    park=data.park.id)
    except InputError as e:
        return lowe.Requirement(None, False, "ruleset", "not_covered",
                                f"签约日 {c.signed_on} 无可用规则集：{'；'.join(p.msg for p in e.problems)}")
    mins = [er for er in res.rules if er.rule.indicator == "plot_ratio" and er.rule.op in (">=", ">", "between")
            and er.concrete.status != "not_required"]
    if not mins:
        return lowe.Requirement(None, False, "ruleset", "none",
                                f"合同未约定容积率下限，签约日 {c.signed_on} 适用的规则集 {res.leaf.id} 对行业 "
                                f"{c.industry.code} 无容积率下限")
    unknown = [er for er in mins if er.concrete.threshold is None]
    if unknown:
        er = unknown[0]
        return lowe.Requirement(None, False, "ruleset", "not_covered",
                                f"合同未约定容积率下限；规则 {er.layer.id}:{er.rule.id} 对行业 {c.industry.code}："
                                f"{er.concrete.message}")
    lows = []
    for er in mins:
        t = er.concrete.threshold
        lows.append((t[0] if isinstance(t, tuple) else t, er.rule.op == ">", er))
    value, strict, er = max(lows, key=lambda x: (x[0], x[1]))
    ref = er.layer.doc.documents.get(er.rule.cite.doc) if er.rule.cite else None
    cite = {"layer": er.layer.id, "layer_version": er.layer.version, "rule": er.rule.id,
            "number": ref.number if ref else None, "article": er.rule.cite.article if er.rule.cite else None,
            "as_of": c.signed_on.isoformat(), "industry": c.industry.code}
    return lowe.Requirement(value, strict, "ruleset", "ok",
                            f"合同未约定容积率下限；签约日 {c.signed_on} 适用 {er.layer.id} {er.rule.id}，行业 {c.industry.code} "
                            f"{'>' if strict else '≥'} {dec_str(value)}", cite)


def facts(rec: ParcelRec, as_of: dt.date, tax_year: int, t: ParcelTax | None, park_avg: Fraction | None,
          park_avg_status: str = "ok", far_requirement: lowe.Requirement | None = None) -> lowe.ParcelFacts:
    st = rec.state(as_of)
    far = intensity = agreed = None
    c_area = None
    if rec.contract is not None:
        c = rec.contract
        c_area = _contract_area(c)
        if c_area > 0:
            cm = c.commitments
            if cm.investment_intensity is not None:
                agreed = units.to_canonical(cm.investment_intensity.value, cm.investment_intensity.unit, "money_per_area")
            elif cm.fixed_asset_investment is not None:
                agreed = units.to_canonical(cm.fixed_asset_investment.value, cm.fixed_asset_investment.unit, "money") / c_area
            if st is not None and st.completion is not None:
                far = derive("plot_ratio", completion_site(st, c_area))
                inv = st.completion.fixed_asset_investment
                if inv is not None:
                    intensity = units.to_canonical(inv.value, inv.unit, "money") / c_area
    return lowe.ParcelFacts(state=st, contract_area=c_area, tax_per_mu=t.tax_per_mu if t else None,
                            tax_status=t.status if t else "insufficient_data", tax_note=t.reason if t else None,
                            park_average=park_avg, tax_year=tax_year,
                            plot_ratio=far, investment_intensity=intensity, contract_intensity=agreed,
                            park_average_status=park_avg_status, plot_ratio_requirement=far_requirement)


def _date_test(a: Audit, key: str, later: dt.date, earlier: dt.date) -> str:
    """``later`` on or after ``earlier``, as a day difference against 0."""
    return a.add(key, Fraction((later - earlier).days), ">=", ZERO)


def _piwg(rec: ParcelRec, as_of: dt.date, a: Audit):
    """批而未供: approved on or before ``as_of`` and not supplied by then."""
    approval = rec.row.approval_date
    if approval is None:
        return lambda h: {"status": "no", "message": "无新增建设用地批准记录（存量用地或未登记批准文件），不属批而未供",
                          "predicates": [{"predicate": "approved", "status": "insufficient_data", "holds": None,
                                          "message": "未登记批准文号与日期"}]}
    k_app = _date_test(a, "piwg.approved", as_of, approval)
    k_sup = _date_test(a, "piwg.supplied", as_of, rec.supplied_on) if rec.supplied_on else None

    def build(h: dict) -> dict:
        approved = bool(h[k_app])
        supplied = bool(k_sup and h[k_sup])
        preds = [
            {"predicate": "approved", "holds": approved, "status": "holds" if approved else "not_met",
             "value": approval.isoformat(), "op": "<=", "threshold": as_of.isoformat(), "document": rec.row.approval_doc,
             "message": f"{approval} 经 {rec.row.approval_doc} 批准" if approved else f"批准日期 {approval} 晚于 {as_of}"},
            {"predicate": "unsupplied", "holds": not supplied, "status": "not_met" if supplied else "holds",
             "value": rec.supplied_on.isoformat() if rec.supplied_on else None, "op": ">", "threshold": as_of.isoformat(),
             "message": f"已于 {rec.supplied_on} 供地" if supplied else
             (f"至 {as_of} 未供地（{rec.supplied_on} 供地）" if rec.supplied_on else f"至 {as_of} 未办理供地手续")},
        ]
        yes = approved and not supplied
        out = {"status": "yes" if yes else "no", "predicates": preds,
               "message": f"批而未供：{approval} 批准，至 {as_of} 未供地" if yes else "不属批而未供"}
        if yes:
            out["days_since_approval"] = (as_of - approval).days
        return out
    return build


def _idle(data: ParkData, rec: ParcelRec, as_of: dt.date, a: Audit):
    st = rec.state(as_of)
    if st is None:
        return lambda h: {"status": "not_applicable", "predicates": [],
                          "message": "无出让合同：闲置土地认定（53号令）以有偿使用合同或划拨决定约定的动工日期为准，"
                                     "划拨土地的动工日期未登记"}
    if not rec.supplied_by(as_of):
        return lambda h: {"status": "not_applicable", "predicates": [], "message": f"至 {as_of} 尚未供地"}
    c = st.contract
    price = None if c.land_price is None else units.to_canonical(c.land_price.value, c.land_price.unit, "money")
    law = data.law.idle_land(as_of)      # the 53号令 version in force on the date assessed
    ins = idle.inputs(st, price, law)
    tests = idle.tests(st, ins, law)
    for key, value, op, threshold in tests:
        a.add(key, value, op, threshold)

    def build(h: dict) -> dict:
        finding = idle.finding(st, ins, h, law)
        preds = [{"predicate": key, "value": dec_str(value), "op": op, "threshold": dec_str(threshold),
                  "holds": h.get(key), "status": "holds" if h.get(key) else "not_met" if h.get(key) is False else
                  "insufficient_data"} for key, value, op, threshold in tests]
        state = finding.get("state")
        if finding["status"] == "insufficient_data":
            status = "insufficient_data"
        else:
            status = "yes" if state in ("idle_1y", "idle_2y", "stalled", "government_caused") else "no"
        out = {"status": status, "state": state, "predicates": preds, "finding": finding, "message": finding["message"]}
        if status == "yes":
            out["cause"] = "government" if state == "government_caused" else "enterprise"
        return out
    return build


def _low(data: ParkData, rec: ParcelRec, as_of: dt.date, tax_year: int, t: ParcelTax | None, ptax: ParkTax, a: Audit):
    rid = data.park.ruleset
    if rid is None:
        return lambda h, idle_yes: {"status": "not_assessed", "predicates": [], "ruleset": None,
                                    "message": "园区未指定低效用地认定规则集 (the park names no rule set)"}
    rs = data.law.low_efficiency(rid, as_of)
    if rs is None:
        return lambda h, idle_yes: {"status": "not_assessed", "predicates": [], "ruleset": {"id": rid},
                                    "message": f"规则集 {rid} 在 {as_of} 无生效版本"}
    if not rec.industrial:
        return lambda h, idle_yes: {"status": "not_applicable", "predicates": [], "ruleset": rs.ref(),
                                    "message": f"非工业用地（{USES.get(rec.row.use, rec.row.use)}）"}
    if not rec.supplied_by(as_of):
        return lambda h, idle_yes: {"status": "not_applicable", "predicates": [], "ruleset": rs.ref(),
                                    "message": f"至 {as_of} 尚未供地"}
    # The tax predicate compares a parcel with the park's producing land (the figure over land with
    # data): idle and unbuilt land counted as 0 would lower the bar exactly where it abounds.
    builders = lowe.predicates(rs.doc, facts(rec, as_of, tax_year, t, ptax.with_data_value, ptax.status,
                                             plot_ratio_requirement(data, rec)), as_of, a)

    def build(h: dict, idle_yes: bool) -> dict:
        preds = [b(h) for b in builders]
        st = {p["status"] for p in preds}
        # A withheld tax predicate could hold: without another predicate holding, the result is
        # withheld too (neither "yes", which would reveal it, nor "no").
        status = ("yes" if "holds" in st else WITHHELD_STATUS if WITHHELD_STATUS in st
                  else "insufficient_data" if "insufficient_data" in st else "no")
        out = {"status": status, "predicates": preds, "ruleset": rs.ref(), "tax_year": tax_year,
               "message": "、".join(p["label"] for p in preds if p["status"] == "holds") if status == "yes" else
               f"亩均税收条件{WITHHELD_ZH}，无法判定" if status == WITHHELD_STATUS else
               "有认定条件缺少数据" if status == "insufficient_data" else "不符合低效用地认定条件"}
        if idle_yes and rs.doc.excludes_idle and status != "no":
            out.update(status="excluded", excluded_because="idle",
                       excludes_idle_source=rs.doc.cite(rs.doc.excludes_idle_source),
                       message=f"已认定为闲置土地，按规则集不再认定为低效用地（{out['message']}）")
        return out
    return build


def classify(data: ParkData, as_of: dt.date, engine: Engine, *, tax_year: int | None = None,
             ptax: ParkTax | None = None, only: str | None = None) -> dict[str, dict]:
    """Every parcel of the park (or ``only`` one) on ``as_of``: ``categories`` (the assigned
    ones, each with its predicate results) and ``assessment`` (all three, with status yes, no,
    insufficient_data, not_applicable, not_assessed or excluded).  Tax predicates read
    ``tax_year`` (default: the last year ended by ``as_of``)."""
    tax_year = as_of.year - 1 if tax_year is None else tax_year
    ptax = ptax or park_tax(data, tax_year)
    by_code = {r.code: t for r, t in ptax.counted + ptax.missing + ptax.withheld}
    basis = ptax.basis
    out = {}
    for rec in data.parcels:
        if only is not None and rec.code != only:
            continue
        t = by_code.get(rec.code) or parcel_tax(data, rec, tax_year, basis)
        a = Audit()
        b_piwg, b_idle = _piwg(rec, as_of, a), _idle(data, rec, as_of, a)
        b_low = _low(data, rec, as_of, tax_year, t, ptax, a)
        holds = a.run(engine)
        piwg, idle_ = b_piwg(holds), b_idle(holds)
        low = b_low(holds, idle_["status"] == "yes")
        assessment = {"approved_unsupplied": piwg, "idle": idle_, "low_efficiency": low}
        categories = []
        for cat, res in assessment.items():
            if res["status"] == "yes":
                code, label = CATEGORIES[cat]
                categories.append({"category": cat, "code": code, "label": label, "as_of": as_of.isoformat(),
                                   **{k: v for k, v in res.items() if k != "status"}})
        out[rec.code] = {"code": rec.code, "as_of": as_of.isoformat(), "tax_year": tax_year,
                         "categories": categories, "assessment": assessment,
                         "tax": {"status": t.status, "reason": t.reason, "tax_per_mu": q(t.tax_per_mu, "万元/亩"),
                                 "park_average": q(ptax.with_data_value, "万元/亩"), "park_average_status": ptax.status,
                                 "park_average_basis": "land_with_data",
                                 "inputs": t.detail}}
    return out


def parcel_basics(data: ParkData, rec: ParcelRec, as_of: dt.date) -> dict:
    """地块基本信息 of the ledger (docs/domain.md)."""
    code = rec.code
    out = {"code": code, "code_kind": "不动产单元代码" if len(code) == 28 else "宗地代码", "county": code[:6],
           "park": data.park.id, "park_name": data.name_on(as_of), "location": rec.doc.get("location"),
           "area": q(rec.area, "亩"), "area_m2": q(rec.area * units.M2_PER_MU, "m2", 2),
           "use": rec.row.use, "use_label": USES.get(rec.row.use), "supply_status": rec.row.supply_status,
           "supply_status_label": SUPPLY_STATUSES.get(rec.row.supply_status),
           "supplied_on": rec.supplied_on.isoformat() if rec.supplied_on else None,
           "approval": rec.doc.get("approval"), "supervision_no": rec.doc.get("supervision_no"),
           "contract": None}
    if rec.contract is not None:
        c, st = rec.contract, rec.state(as_of)
        out["contract"] = {
            "contract_no": c.contract_no, "signed_on": c.signed_on.isoformat(), "transferee": c.transferee.model_dump(),
            "industry": c.industry.model_dump(), "land_price": c.land_price.model_dump(mode="json") if c.land_price else None,
            "land_area": c.land_area.model_dump(mode="json"), "ruleset": c.ruleset, "model": c.model,
            "start_by": c.schedule.start_by.isoformat() if c.schedule.start_by else None,
            "complete_by": c.schedule.complete_by.isoformat() if c.schedule.complete_by else None,
            "start_due": st.start_due.isoformat() if st and st.start_due else None,
            "complete_due": st.complete_due.isoformat() if st and st.complete_due else None,
            "started_on": st.started_on.isoformat() if st and st.started_on else None,
            "completed_on": st.completion.on.isoformat() if st and st.completion else None}
    return out


def parcel_view(session: Session, code: str, as_of: dt.date, engine: Engine, *, view: TaxView) -> dict:
    """GET /v1/parcels/{code}: the registration, the basic data and the classification on ``as_of``
    (tax figures as ``view`` may see them)."""
    row = store.get_parcel(session, code)
    data = load(session, row.park_id, view)
    rec = next(r for r in data.parcels if r.code == row.code)
    cls = classify(data, as_of, engine, only=row.code)[row.code]
    latest = store.latest_plans(session, [row.code]).get(row.code)
    return {**store.parcel_summary(row), "registration": rec.doc, "basics": parcel_basics(data, rec, as_of), **cls,
            "plan": store.plan_dict(latest[0]) if latest else None, "law": data.law.pins(),
            "engine": engine.name, "engine_version": engine.version}
