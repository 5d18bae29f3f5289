"""Performance audit: where a contract stands on a date.

Per commitment and per consequence a finding with ``kind``, ``status`` (pass, fail,
insufficient_data, not_applicable), ``amount`` (万元, decimal text, null when none),
``formula`` and ``inputs``.  The state is recomputed from the stored events; every
decisive comparison (days late against 0, actual − committed against 0, the idle-land
ratios against 1) runs through the rule engine in one evaluation.  Missing data is
``insufficient_data`` with what is missing — never zero.

Tax records reach the audit screened by the caller's ``TaxView`` (``app.checks.visibility``): a
year whose record was reported by a region the caller may not see is ``withheld``
(不在本辖区权限内) — no figure, no penalty, not part of ``amount_total`` (which then says it is
partial), and the verdict cannot be ``pass``.  ``tax_regions`` lists the regions of the tax
figures the result contains (the stored decision is readable only by keys that see them all).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks import tax_per_mu as tpm
from app.checks.contract import canonical as q_canonical
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH, TaxView, is_withheld, lookup, screen
from app.core import clock
from app.core.numbers import dec_str
from app.engine import Engine
from app.engine.comparisons import Comparisons
from app.lifecycle import idle, penalties
from app.lifecycle.law import contract_models
from app.lifecycle.periods import days_late
from app.lifecycle.state import State, completion_site, fold
from app.rulesets.resolve import Registry
from app.schemas.contract import ContractRequest
from app.store import contracts, decisions, rulesets, tax
from app.store.parks import park_of_parcel
from indicators import units
from indicators.catalog import load_catalog
from indicators.derive import Site, counted_floor_area, derive
from indicators.units import M2_PER_MU

ZERO = Fraction(0)
# The engine tests of every part, evaluated once, then the findings built (app/engine/comparisons.py).
Audit = Comparisons


def _finding(kind: str, status: str, message: str, *, amount: Fraction | None = None, formula: str | None = None,
             inputs: dict | None = None, **extra: Any) -> dict:
    return {"kind": kind, "status": status, "amount": dec_str(amount, 2) if amount is not None else None,
            "formula": formula, "inputs": inputs or {}, "message": message, **extra}


def _penalty(kind: str, status: str, message: str, p: penalties.Penalty, **extra: Any) -> dict:
    d = p.to_dict()
    return {"kind": kind, "status": status, "amount": d["amount"], "formula": d["formula"], "inputs": d["inputs"],
            "flags": d["flags"], "notes": d["notes"], "message": message, "label": d["label"], **extra}


def _missing(kind: str, what: list[str], message: str, **extra: Any) -> dict:
    return _finding(kind, "insufficient_data", message, missing=what, **extra)


# ---------------------------------------------------------------- dates: F1, F2, F3, F8

def late_start(st: State, price: Fraction | None, a: Audit) -> tuple:
    c, due = st.contract, st.start_due
    if due is None:
        return lambda h: _missing("late_start", ["schedule.start_by"], "合同未约定开工日期")
    end = st.started_on or (st.as_of if st.as_of > due else None)
    if end is None:
        return lambda h: _finding("late_start", "not_applicable", f"开工期限 {due} 未到")
    key = a.add("late_start", Fraction(days_late(due, end)), "<=")

    def build(h: dict) -> dict:
        extended = f"（已延期，原定 {c.schedule.start_by}）" if due != c.schedule.start_by else ""
        if h[key]:
            return _finding("late_start", "pass", f"于 {st.started_on} 开工，未超过开工期限 {due}{extended}",
                            inputs={"start_due": due.isoformat(), "started_on": str(st.started_on)})
        what = "已开工" if st.started_on else f"截至 {st.as_of} 仍未开工"
        if c.penalties.late_start_permille is None or price is None:
            return _missing("late_start", [m for m, v in (("penalties.late_start_permille", c.penalties.late_start_permille),
                                                          ("land_price", price)) if v is None],
                            f"延期开工（{what}，期限 {due}{extended}），但违约金比例或出让价款未约定，金额无法计算")
        p = penalties.f2_late_start(price, c.penalties.late_start_permille, due, end,
                                    original_start_due=c.schedule.start_by)
        return _penalty("late_start", "fail", f"延期开工 {days_late(due, end)} 天（{what}；期限 {due}{extended}）", p,
                        **_government_note(st))
    return build


def _government_note(st: State) -> dict:
    """Whether a recorded government act or force majeure may excuse the delay is a legal
    question the notes leave open: the finding says so instead of deciding it."""
    gov = sorted({g.cause for g in st.government_delays if g.new_start_by is None})
    if not gov:
        return {}
    return {"government_delay_recorded": gov,
            "note": f"已记录政府原因或不可抗力延误（{'、'.join(gov)}）：受让人可主张免责，金额为合同约定金额，是否减免需认定"}


def late_completion(st: State, price: Fraction | None, a: Audit) -> tuple:
    c, due = st.contract, st.complete_due
    if due is None:
        return lambda h: _missing("late_completion", ["schedule.complete_by"], "合同未约定竣工日期")
    done = st.completion.on if st.completion else None
    end = done or (st.as_of if st.as_of > due else None)
    if end is None:
        return lambda h: _finding("late_completion", "not_applicable", f"竣工期限 {due} 未到")
    key = a.add("late_completion", Fraction(days_late(due, end)), "<=")
    model = contract_models().get(c.model)

    def build(h: dict) -> dict:
        if h[key]:
            return _finding("late_completion", "pass", f"于 {done} 竣工验收，未超过竣工期限 {due}",
                            inputs={"complete_due": due.isoformat(), "completed_on": str(done)})
        what = "已竣工验收" if done else f"截至 {st.as_of} 仍未竣工验收"
        if c.penalties.late_completion_permille is None or price is None:
            return _missing("late_completion", [m for m, v in (("penalties.late_completion_permille",
                                                                 c.penalties.late_completion_permille),
                                                                ("land_price", price)) if v is None],
                            f"延期竣工（{what}，期限 {due}），但违约金比例或出让价款未约定，金额无法计算")
        if model is not None and model.late_completion_base != "total_price":
            return _missing("late_completion", ["uncompleted_counted_floor", "total_counted_floor"],
                            f"延期竣工（{what}）；{c.model} 以未竣工计容建筑面积对应价款为基数，缺少未竣工面积数据")
        p = penalties.f3_late_completion(price, c.penalties.late_completion_permille, due, end, version="GF-2008-2601")
        return _penalty("late_completion", "fail", f"延期竣工 {days_late(due, end)} 天（{what}；期限 {due}）", p,
                        **_government_note(st))
    return build


def late_payment(st: State, a: Audit) -> list:
    c = st.contract
    if not st.payments:
        return [lambda h: _finding("late_payment", "not_applicable", "无付款记录")]
    out = []
    for i, pay in enumerate(st.payments):
        key = a.add(f"late_payment.{i}", Fraction(days_late(pay.due_on, pay.on)), "<=")

        def build(h: dict, pay=pay, key=key) -> dict:
            amount = q_canonical(pay.amount, "money", "payment.amount")
            if h[key]:
                return _finding("late_payment", "pass", f"{dec_str(amount)} 万元于 {pay.on} 按期支付（应付日 {pay.due_on}）")
            if c.penalties.late_payment_permille is None:
                return _missing("late_payment", ["penalties.late_payment_permille"], "逾期付款，但违约金比例未约定")
            p = penalties.f1_late_payment(amount, c.penalties.late_payment_permille, pay.due_on, pay.on,
                                          demand_made=pay.demanded)
            return _penalty("late_payment", "fail", f"逾期付款 {days_late(pay.due_on, pay.on)} 天（{dec_str(amount)} 万元）", p)
        out.append(build)
    return out


def late_delivery(st: State, a: Audit) -> tuple:
    c, due = st.contract, st.contract.schedule.delivery_on
    if due is None:
        return lambda h: _missing("late_delivery", ["schedule.delivery_on"], "合同未约定交付日期")
    end = st.delivered_on or (st.as_of if st.as_of > due else None)
    if end is None:
        return lambda h: _finding("late_delivery", "not_applicable", f"交付期限 {due} 未到")
    key = a.add("late_delivery", Fraction(days_late(due, end)), "<=")

    def build(h: dict) -> dict:
        if h[key]:
            return _finding("late_delivery", "pass", f"出让人于 {st.delivered_on} 按期交付土地（期限 {due}）")
        paid = sum((q_canonical(p.amount, "money", "payment.amount") for p in st.payments if p.on <= end), ZERO)
        if c.penalties.late_delivery_permille is None:
            return _missing("late_delivery", ["penalties.late_delivery_permille"],
                            f"出让人延期交付 {days_late(due, end)} 天（期限 {due}）：可作为政府原因延误的依据；违约金比例未约定",
                            party="transferor")
        p = penalties.f8_late_delivery(paid, c.penalties.late_delivery_permille, due, end,
                                       still_undelivered=st.delivered_on is None)
        return _penalty("late_delivery", "fail", f"出让人延期交付 {days_late(due, end)} 天（已付价款 {dec_str(paid)} 万元）",
                        p, party="transferor")
    return build


# ---------------------------------------------------------------- completion: F4–F7

INTERVAL_KINDS = ("plot_ratio", "building_coefficient", "green_ratio", "admin_land_share", "admin_floor_share")


def completion_parts(st: State, area: Fraction, price: Fraction | None, a: Audit) -> list:
    c = st.contract
    due = st.complete_due
    if st.completion is None:
        kinds = ["investment"] + [k for k in INTERVAL_KINDS if getattr(c.commitments, k) is not None]
        if due is not None and st.as_of > due:
            return [lambda h, k=k: _missing(k, ["completion_accepted"], f"已过竣工期限 {due}，尚无竣工验收数据") for k in kinds]
        return [lambda h, k=k: _finding(k, "not_applicable", "尚未竣工验收") for k in kinds]
    site = completion_site(st, area)
    out = [investment(st, area, price, a)]
    below, above, over = [], [], []
    for kind in INTERVAL_KINDS:
        iv = getattr(c.commitments, kind)
        if iv is None:
            continue
        actual = derive(kind, site)
        if actual is None:
            out.append(lambda h, kind=kind: _missing(kind, [f"completion_accepted 中计算{kind}所需的数据"],
                                                     "竣工验收数据不足，无法计算"))
            continue
        unit_kind = "ratio" if kind == "plot_ratio" else "percent"
        lo = None if iv.min is None else units.to_canonical(iv.min, iv.unit, unit_kind)
        hi = None if iv.max is None else units.to_canonical(iv.max, iv.unit, unit_kind)
        keys = {}
        if lo is not None:
            keys["min"] = a.add(f"{kind}.min", actual - lo, ">=")
        if hi is not None:
            keys["max"] = a.add(f"{kind}.max", actual - hi, "<=")
        entry = (kind, actual, lo, hi, keys)
        (over if kind in ("green_ratio", "admin_land_share", "admin_floor_share") else below).append(entry)
        if kind in ("plot_ratio", "building_coefficient"):
            above.append(entry)
    out.append(shortfall_group(st, site, price, below, above))
    out.append(over_limit_group(st, price, over))
    return out


def investment(st: State, area: Fraction, price: Fraction | None, a: Audit):
    c, comp = st.contract, st.completion
    agreed_total = None if c.commitments.fixed_asset_investment is None else \
        q_canonical(c.commitments.fixed_asset_investment, "money", "commitments.fixed_asset_investment")
    agreed_int = None if c.commitments.investment_intensity is None else \
        q_canonical(c.commitments.investment_intensity, "money_per_area", "commitments.investment_intensity")
    if agreed_int is None and agreed_total is not None:
        agreed_int = agreed_total / area
    if agreed_total is None and agreed_int is not None:
        agreed_total = agreed_int * area
    if agreed_total is None:
        return lambda h: _finding("investment", "not_applicable", "合同未约定投资总额或投资强度")
    actual_total = None if comp.fixed_asset_investment is None else \
        q_canonical(comp.fixed_asset_investment, "money", "completion.fixed_asset_investment")
    if actual_total is None:
        return lambda h: _missing("investment", ["completion_accepted.fixed_asset_investment"], "竣工验收未报固定资产投资总额")
    actual_int = actual_total / area
    k1 = a.add("investment.total", actual_total - agreed_total, ">=")
    k2 = a.add("investment.intensity", actual_int - agreed_int, ">=")

    def build(h: dict) -> dict:
        inputs = {"total_agreed": dec_str(agreed_total), "total_actual": dec_str(actual_total),
                  "intensity_agreed": dec_str(agreed_int), "intensity_actual": dec_str(actual_int)}
        if h[k1] and h[k2]:
            return _finding("investment", "pass",
                            f"固定资产投资 {dec_str(actual_total)} 万元，达到约定 {dec_str(agreed_total)} 万元", inputs=inputs)
        agg = c.penalties.shortfall_aggregate
        if agg is None or price is None:
            return _missing("investment", [m for m, v in (("penalties.shortfall_aggregate", agg), ("land_price", price))
                                           if v is None], "投资不足，但合并方式或出让价款未约定，金额无法计算", inputs=inputs)
        p = penalties.f4_investment_shortfall(price, agreed_total, actual_total, agreed_int, actual_int, agg=agg)
        return _penalty("investment", "fail",
                        f"投资不足：实际 {dec_str(actual_total, 2)} 万元，约定 {dec_str(agreed_total, 2)} 万元", p)
    return build


def shortfall_group(st: State, site: Site, price: Fraction | None, below: list, above: list):
    """F5 (below a minimum) and F6 (above a maximum) for plot ratio and building coefficient.
    Several breached items combine by the contract's aggregate; the amount is carried by
    the first breached item, the others point to it."""
    c = st.contract

    def build(h: dict) -> list[dict]:
        out = []
        low = [(k, act, lo) for k, act, lo, hi, keys in below if "min" in keys and not h[keys["min"]]]
        high = [(k, act, hi) for k, act, lo, hi, keys in above if "max" in keys and not h[keys["max"]]]
        agg = c.penalties.shortfall_aggregate
        f5 = f6 = None
        if low and agg and price is not None:
            f5 = penalties.f5_below_minimum(price, {k: (lo, act) for k, act, lo in low}, agg=agg)
        if high and agg and price is not None:
            counted = counted_floor_area(site)       # 亩; the excess floor area is reported in m²
            f6 = penalties.f6_above_maximum(price, {k: (hi, act) for k, act, hi in high}, agg=agg,
                                            counted_floor_area=counted * M2_PER_MU if counted is not None else None,
                                            site_area=site.land_area * M2_PER_MU)
        for k, act, lo, hi, _keys in below + [e for e in above if e not in below]:
            label = {"plot_ratio": "容积率", "building_coefficient": "建筑系数"}.get(k, k)
            is_low = any(x[0] == k for x in low)
            is_high = any(x[0] == k for x in high)
            inputs = {"actual": dec_str(act), "min": dec_str(lo), "max": dec_str(hi)}
            if not (is_low or is_high):
                out.append(_finding(k, "pass", f"{label} {dec_str(act, 2)}，在约定范围内", inputs=inputs))
                continue
            pen, first = (f5, low[0][0]) if is_low else (f6, high[0][0])
            side = "低于约定下限" if is_low else "高于约定上限"
            if pen is None:
                out.append(_missing(k, [m for m, v in (("penalties.shortfall_aggregate", agg), ("land_price", price))
                                       if v is None], f"{label} {dec_str(act, 2)} {side}，合并方式或出让价款未约定，金额无法计算",
                                    inputs=inputs))
            elif k == first:
                out.append(_penalty(k, "fail", f"{label} {dec_str(act, 2)} {side}（{'F5' if is_low else 'F6'}）", pen))
            else:
                out.append(_finding(k, "fail", f"{label} {dec_str(act, 2)} {side}；违约金已并入 {first} 一项（合并方式 {agg}）",
                                    inputs=inputs, counted_in=first))
        return out
    return build


def over_limit_group(st: State, price: Fraction | None, over: list):
    """F7: green ratio, admin land or admin floor share above the agreed maximum: one-off ‰ of the price."""
    c = st.contract

    def build(h: dict) -> list[dict]:
        out = []
        breached = [k for k, act, lo, hi, keys in over if "max" in keys and not h[keys["max"]]]
        pen = None
        if breached and c.penalties.over_limit_permille is not None and price is not None:
            pen = penalties.f7_over_limit(price, c.penalties.over_limit_permille, breached, mode=c.penalties.over_limit_mode)
        for key, act, lo, hi, _keys in over:
            k, label = key, load_catalog().indicators[key].label
            inputs = {"actual": dec_str(act), "max": dec_str(hi), "min": dec_str(lo)}
            if k not in breached:
                out.append(_finding(k, "pass", f"{label} {dec_str(act, 2)}% 未超过约定上限", inputs=inputs))
            elif pen is None:
                out.append(_missing(k, [m for m, v in (("penalties.over_limit_permille", c.penalties.over_limit_permille),
                                                       ("land_price", price)) if v is None],
                                    f"{label} {dec_str(act, 2)}% 超过约定上限 {dec_str(hi)}%，违约金比例或出让价款未约定",
                                    inputs=inputs))
            elif k == breached[0] or c.penalties.over_limit_mode == "per_item":
                single = pen if c.penalties.over_limit_mode == "once" else \
                    penalties.f7_over_limit(price, c.penalties.over_limit_permille, [k], mode="once")
                out.append(_penalty(k, "fail",
                                    f"{label} {dec_str(act, 2)}% 超过约定上限 {dec_str(hi)}%（F7，一次性；超出部分应拆除）",
                                    single))
            else:
                out.append(_finding(k, "fail", f"{label} {dec_str(act, 2)}% 超过约定上限；一次性违约金已计入 {breached[0]}",
                                    inputs=inputs, counted_in=breached[0]))
        return out
    return build


# ---------------------------------------------------------------- 亩均税收

def tax_years(records: dict[int, dict], registry: Registry, st: State, area: Fraction, price: Fraction | None, a: Audit,
              known_at: dt.datetime, park: str | None = None, regions: set[str | None] | None = None,
              land: list[tpm.Holding] | None = None) -> list:
    """One finding per reviewed year.  ``records`` are screened (``visibility.screen``): a
    withheld year has no figure to compute with.  The region of each record used is added to
    ``regions``.  The enterprise's tax is allocated over its ``land`` (``tax_per_mu.ALLOCATION``,
    as for parcels and parks): an enterprise with two contracts is not credited twice."""
    c = st.contract
    land = land or []
    # The contract's land under the area basis: its registered parcels' area (as the park counts it),
    # else the contracted area.
    own_area = sum((h.area for h in land if h.contract_no == c.contract_no), ZERO) or area
    commit = c.commitments.tax_per_mu
    if commit is None:
        return []
    committed = q_canonical(commit, "money_per_area", "commitments.tax_per_mu")
    first = commit.from_year
    if first is None:
        return [lambda h: _missing("tax_per_mu", ["commitments.tax_per_mu.from_year"], "未约定起始考核年度")]
    last = st.as_of.year - 1          # a year is reviewed once it has ended
    if last < first:
        return [lambda h: _finding("tax_per_mu", "not_applicable", f"起始考核年度 {first} 尚未结束", year=first)]
    out = []
    for year in range(first, last + 1):
        res = registry.resolve(ruleset=c.ruleset, jurisdiction=c.jurisdiction, as_of=dt.date(year, 12, 31),
                               known_at=known_at, industry=c.industry.model_dump(), parcel=c.parcel_code, park=park)
        basis = next((layer.doc.tax_basis for layer in reversed(res.layers) if layer.doc.tax_basis), None)
        add_back = bool(basis and basis.refunds_added_back)
        rec = lookup(records, year)
        if is_withheld(rec):
            out.append(lambda h, year=year: _finding(
                "tax_per_mu", WITHHELD_STATUS, f"{year} 年税收数据{WITHHELD_ZH}（由其他辖区税务机关报送），不显示亦不计算",
                year=year, withheld=True))
            continue
        if rec is None:
            out.append(lambda h, year=year: _missing("tax_per_mu", [f"tax_records {year}"],
                                                     f"{year} 年度无税收记录（缺数据不视为零）", year=year))
            continue
        if regions is not None:
            regions.add(rec.get("region"))
        paid = Fraction(rec["tax_paid"])
        refunds = Fraction(rec["policy_refunds"]) if rec["policy_refunds"] is not None else ZERO
        counted = tpm.counted_tax(paid, refunds, add_back)
        # The contract's parcels (or the contract itself) as one holding of its area; the rest of the
        # enterprise's land supplied by the year's end shares the tax by area.
        others = [h for h in land if h.contract_no != c.contract_no]
        share = tpm.allocate(counted, others, year, tpm.Holding(c.contract_no, None, own_area, c.signed_on))
        actual = share.tax_per_mu
        key = a.add(f"tax_per_mu.{year}", actual - committed, ">=")
        inputs = {"tax_paid": dec_str(paid), "policy_refunds": dec_str(refunds), "refunds_added_back": add_back,
                  "tax_basis_layer": res.leaf.id, "counted_tax": dec_str(counted), "area_mu": dec_str(own_area),
                  **share.inputs(), "shared_with": sorted(h.parcel or h.contract_no for h in share.shared_with),
                  "shared_with_contracts": sorted({h.contract_no for h in share.shared_with}),
                  "actual_tax_per_mu": dec_str(actual), "committed": dec_str(committed), "batch_id": rec["batch_id"]}

        def build(h: dict, year=year, key=key, actual=actual, inputs=inputs) -> dict:
            if h[key]:
                return _finding("tax_per_mu", "pass",
                                f"{year} 年亩均税收 {dec_str(actual, 2)} 万元/亩，达到约定 {dec_str(committed)}",
                                inputs=inputs, year=year)
            option = c.penalties.tax_shortfall
            if option is None:
                return _missing("tax_per_mu", ["penalties.tax_shortfall"], f"{year} 年亩均税收未达标，但处理方式未约定",
                                inputs=inputs, year=year)
            try:
                p = penalties.tax_per_mu_shortfall(option, committed_tpm=committed, actual_tpm=actual, area_mu=area, P=price)
            except (penalties.InsufficientDataError, ValueError) as e:
                return _missing("tax_per_mu", ["land_price"], f"{year} 年亩均税收未达标：{e}", inputs=inputs, year=year)
            res = _penalty("tax_per_mu", "fail",
                           f"{year} 年亩均税收 {dec_str(actual, 2)} 万元/亩，低于约定 {dec_str(committed)}（{option}）",
                           p, year=year)
            res["inputs"] = {**inputs, **res["inputs"]}
            return res
        out.append(build)
    return out


# ---------------------------------------------------------------- the audit

def evaluate(session: Session, contract_no: str, as_of: dt.date, engine: Engine,
             known_at: dt.datetime | None = None, *, view: TaxView) -> dict:
    """Load the contract, its events and the enterprise's tax records (screened by ``view``:
    the caller's), then audit."""
    known_at = known_at or clock.utcnow()
    _, document = contracts.get(session, contract_no)
    c = ContractRequest.model_validate(document)
    uscc = tax.normalise_uscc(c.transferee.uscc)
    records = screen({uscc: tax.current_records(session, uscc)}, view)[uscc]
    return audit(c, contracts.events(session, contract_no), as_of, engine,
                 tax_records=records, registry=rulesets.registry(session), known_at=known_at,
                 park=park_of_parcel(session, c.parcel_code), land=tpm.enterprise_land(session, [uscc]).get(uscc, []))


def audit(c: ContractRequest, stored_events: list[dict], as_of: dt.date, engine: Engine, *,
          tax_records: dict[int, dict], registry: Registry, known_at: dt.datetime, park: str | None = None,
          land: list[tpm.Holding] | None = None) -> dict:
    """The audit itself, without the database: the same inputs give the same findings.
    ``tax_records`` as screened for the caller (``visibility.screen``); ``land`` the transferee's
    land its tax is allocated over (``tax_per_mu.enterprise_land``; none: this contract alone)."""
    contract_no = c.contract_no
    st = fold(c, stored_events, as_of)
    area = q_canonical(c.land_area, "area", "land_area")
    price = None if c.land_price is None else q_canonical(c.land_price, "money", "land_price")
    a = Audit()
    builders: list = [late_delivery(st, a), *late_payment(st, a), late_start(st, price, a), late_completion(st, price, a)]
    builders += completion_parts(st, area, price, a)
    regions: set[str | None] = set()
    builders += tax_years(tax_records, registry, st, area, price, a, known_at, park, regions, land)
    ins = idle.inputs(st, price)
    for key, value, op, threshold in idle.tests(st, ins):
        a.add(key, value, op, threshold)
    holds = a.run(engine)
    findings: list[dict] = []
    for b in builders:
        made = b(holds)
        findings += made if isinstance(made, list) else [made]
    findings.append(idle.finding(st, ins, holds))
    statuses = {f["status"] for f in findings}
    # A withheld year could be a failure: never "pass", and the total is only of what is shown.
    verdict = ("fail" if "fail" in statuses else "incomplete" if statuses & {"insufficient_data", WITHHELD_STATUS}
               else "pass")
    total = sum((Fraction(f["amount"]) for f in findings
                 if f.get("amount") and f["status"] == "fail" and f.get("party") != "transferor"), ZERO)
    withheld = [f.get("year") for f in findings if f["status"] == WITHHELD_STATUS]
    partial = {"amount_total_complete": False, "withheld_years": withheld,
               "amount_total_note": f"不含{WITHHELD_ZH}的 {len(withheld)} 个年度（亩均税收考核），合计不完整"} if withheld else {}
    return {**_reduction_note(findings, price),
        "kind": "performance", "verdict": verdict, "contract_no": contract_no, "as_of": as_of.isoformat(),
        "known_at": known_at.isoformat(), "findings": findings,
        "amount_total": dec_str(total, 2), "amount_label": penalties.AMOUNT_LABEL, **partial,
        "tax_regions": sorted(regions, key=lambda r: r or ""),
        "state": {"start_due": str(st.start_due), "complete_due": str(st.complete_due), "delivered_on": str(st.delivered_on),
                  "started_on": str(st.started_on), "completed_on": str(st.completion.on if st.completion else None)},
        "events_used": st.events_used, "engine": engine.name, "engine_version": engine.version,
    }


def _reduction_note(findings: list[dict], price: Fraction | None) -> dict:
    """The transferee's contractual penalties (违约金; not the idle fee, an administrative charge) above
    the land price: shown with the note that a court or arbitration body may reduce a penalty that
    is excessively higher than the loss on a party's request (民法典 Art. 585 ¶2).  The amounts stay
    the contractual ones: whether and how much to reduce is for the court."""
    penalties_total = sum((Fraction(f["amount"]) for f in findings if f.get("amount") and f["status"] == "fail"
                           and f.get("party") != "transferor" and f["kind"] != "idle_land"), ZERO)
    out: dict = {"penalty_total": dec_str(penalties_total, 2), "penalty_note": None}
    if price is not None and penalties_total > price:
        out["penalty_note"] = {
            "code": "exceeds_land_price", "penalty_total": dec_str(penalties_total, 2), "land_price": dec_str(price, 2),
            "cite": {"title": "中华人民共和国民法典", "article": "第五百八十五条第二款", "number": None, "url": None},
            "message": f"违约金合计 {dec_str(penalties_total, 2)} 万元超过出让价款 {dec_str(price, 2)} 万元。约定的违约金"
                       f"过分高于造成的损失的，人民法院或者仲裁机构可以根据当事人的请求予以适当减少（民法典第五百八十五条）；"
                       f"以上金额为合同约定金额，未作调整。"}
    return out


def run(session: Session, contract_no: str, as_of: dt.date, engine: Engine, *, view: TaxView) -> dict:
    """Audit as ``view`` may see it, and store the result as a decision."""
    result = evaluate(session, contract_no, as_of, engine, view=view)
    return decisions.append(session, [result])[0]
