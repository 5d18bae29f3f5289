"""The dated obligations: late payment (F1), late start (F2), late completion (F3) and the
transferor's late delivery (F8).  Each day count is compared with 0 by the rule engine."""

from __future__ import annotations

from fractions import Fraction

from app.checks.performance.findings import ZERO, Audit, blanks, finding, missing, penalty
from app.core.numbers import dec_str
from app.lifecycle import penalties
from app.lifecycle.law import ContractModel, IdleLandLaw
from app.lifecycle.periods import days_late
from app.lifecycle.state import State


def _extension_cap_years(model: ContractModel | None) -> int | None:
    """The model's cap on an extension of the start date (whole years), if it sets one."""
    v = model.limits.get("clauses.extension_max_years", {}).get("value") if model else None
    return int(v) if v is not None and int(v) == v else None


def late_start(st: State, model: ContractModel | None, law: IdleLandLaw, a: Audit):
    c, due, price = st.terms, st.start_due, st.terms.price_wan
    if due is None:
        return lambda h: missing("late_start", ["schedule.start_by"], "合同未约定开工日期")
    end = st.started_on or (st.as_of if st.as_of > due else None)
    if end is None:
        return lambda h: finding("late_start", "not_applicable", f"开工期限 {due} 未到")
    key = a.add("late_start", Fraction(days_late(due, end)), "<=")

    def build(h: dict) -> dict:
        extended = f"（已延期，原定 {c.schedule.start_by}）" if due != c.schedule.start_by else ""
        if h[key]:
            return finding("late_start", "pass", f"于 {st.started_on} 开工，未超过开工期限 {due}{extended}",
                           inputs={"start_due": due.isoformat(), "started_on": str(st.started_on)})
        what = "已开工" if st.started_on else f"截至 {st.as_of} 仍未开工"
        rate = c.penalties.late_start_permille
        if rate is None or price is None:
            return missing("late_start", blanks(("penalties.late_start_permille", rate), ("land_price", price)),
                           f"延期开工（{what}，期限 {due}{extended}），但违约金比例或出让价款未约定，金额无法计算")
        cap = _extension_cap_years(model)
        p = penalties.f2_late_start(price, rate, due, end, original_start_due=c.schedule.start_by,
                                    idle_after_years=law.idle_fee_after_years,
                                    **({"max_extension_years": cap} if cap is not None else {}))
        return penalty("late_start", "fail", f"延期开工 {days_late(due, end)} 天（{what}；期限 {due}{extended}）", p,
                       **government_note(st))
    return build


def government_note(st: State) -> dict:
    """Whether a recorded government act or force majeure may excuse the delay is a legal
    question the notes leave open: the finding says so instead of deciding it."""
    gov = sorted({g.cause for g in st.government_delays if g.new_start_by is None})
    if not gov:
        return {}
    return {"government_delay_recorded": gov,
            "note": f"已记录政府原因或不可抗力延误（{'、'.join(gov)}）：受让人可主张免责，金额为合同约定金额，是否减免需认定"}


def late_completion(st: State, model: ContractModel | None, a: Audit):
    c, due, price = st.terms, st.complete_due, st.terms.price_wan
    if due is None:
        return lambda h: missing("late_completion", ["schedule.complete_by"], "合同未约定竣工日期")
    done = st.completion.on if st.completion else None
    end = done or (st.as_of if st.as_of > due else None)
    if end is None:
        return lambda h: finding("late_completion", "not_applicable", f"竣工期限 {due} 未到")
    key = a.add("late_completion", Fraction(days_late(due, end)), "<=")

    def build(h: dict) -> dict:
        if h[key]:
            return finding("late_completion", "pass", f"于 {done} 竣工验收，未超过竣工期限 {due}",
                           inputs={"complete_due": due.isoformat(), "completed_on": str(done)})
        what = "已竣工验收" if done else f"截至 {st.as_of} 仍未竣工验收"
        rate = c.penalties.late_completion_permille
        if rate is None or price is None:
            return missing("late_completion", blanks(("penalties.late_completion_permille", rate), ("land_price", price)),
                           f"延期竣工（{what}，期限 {due}），但违约金比例或出让价款未约定，金额无法计算")
        if model is not None and model.late_completion_base != "total_price":
            return missing("late_completion", ["uncompleted_counted_floor", "total_counted_floor"],
                           f"延期竣工（{what}）；{c.model} 以未竣工计容建筑面积对应价款为基数，缺少未竣工面积数据")
        p = penalties.f3_late_completion(price, rate, due, end, version="GF-2008-2601")
        return penalty("late_completion", "fail", f"延期竣工 {days_late(due, end)} 天（{what}；期限 {due}）", p,
                       **government_note(st))
    return build


def late_payment(st: State, a: Audit) -> list:
    rate = st.terms.penalties.late_payment_permille
    if not st.payments:
        return [lambda h: finding("late_payment", "not_applicable", "无付款记录")]
    out = []
    for i, pay in enumerate(st.payments):
        key = a.add(f"late_payment.{i}", Fraction(days_late(pay.due_on, pay.on)), "<=")

        def build(h: dict, pay=pay, key=key) -> dict:
            amount = pay.amount
            if h[key]:
                return finding("late_payment", "pass", f"{dec_str(amount)} 万元于 {pay.on} 按期支付（应付日 {pay.due_on}）")
            if rate is None:
                return missing("late_payment", ["penalties.late_payment_permille"], "逾期付款，但违约金比例未约定")
            p = penalties.f1_late_payment(amount, rate, pay.due_on, pay.on, demand_made=pay.demanded)
            return penalty("late_payment", "fail", f"逾期付款 {days_late(pay.due_on, pay.on)} 天（{dec_str(amount)} 万元）", p)
        out.append(build)
    return out


def late_delivery(st: State, a: Audit):
    c, due = st.terms, st.terms.schedule.delivery_on
    if due is None:
        return lambda h: missing("late_delivery", ["schedule.delivery_on"], "合同未约定交付日期")
    end = st.delivered_on or (st.as_of if st.as_of > due else None)
    if end is None:
        return lambda h: finding("late_delivery", "not_applicable", f"交付期限 {due} 未到")
    key = a.add("late_delivery", Fraction(days_late(due, end)), "<=")

    def build(h: dict) -> dict:
        if h[key]:
            return finding("late_delivery", "pass", f"出让人于 {st.delivered_on} 按期交付土地（期限 {due}）")
        paid = sum((p.amount for p in st.payments if p.on <= end), ZERO)
        if c.penalties.late_delivery_permille is None:
            return missing("late_delivery", ["penalties.late_delivery_permille"],
                           f"出让人延期交付 {days_late(due, end)} 天（期限 {due}）：可作为政府原因延误的依据；违约金比例未约定",
                           party="transferor")
        p = penalties.f8_late_delivery(paid, c.penalties.late_delivery_permille, due, end,
                                       still_undelivered=st.delivered_on is None)
        return penalty("late_delivery", "fail", f"出让人延期交付 {days_late(due, end)} 天（已付价款 {dec_str(paid)} 万元）",
                       p, party="transferor")
    return build
