"""Idle land under 53号令: the tests, evaluated by the rule engine, and the state they give.

Only land not yet accepted on completion can be idle: a construction suspension (停建) feeds the
stalled test; a production stop (停产) after completion acceptance does not (low-efficiency only).

States (the years and shares are the 53号令 document's parameters, ``app.lifecycle.law``;
the bundled values in brackets): ``not_idle``; ``idle_1y`` (not started more than
``idle_fee_after_years`` [one] full years after the start date: idle fee of
``idle_fee_share_of_price`` [20 %] of the price); ``idle_2y`` (``reclaim_after_years``
[two] full years: reclaim without compensation proposed); ``stalled`` (started, halted
≥ ``stalled_suspended_years`` [1], and developed < ``stalled_developed_share`` [1/3] of the
land to develop or invested < ``stalled_invested_share`` [25 %] of total investment, land
price excluded — both strict "less than"); ``government_caused`` (a recorded government act
or force majeure explains the delay: negotiated disposal instead of fee or reclaim).
Every message states the document's numbers (``years_zh``, ``share_zh``), never literal ones.

Each test is a quantity compared with an on-grid threshold so the engine compares
exactly: day differences against 0, and ``developed ÷ (area × 1/3)`` against 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.core.numbers import dec_str
from app.lifecycle import terms
from app.lifecycle.law import IdleLandLaw, idle_land_law
from app.lifecycle.periods import anniversary
from app.lifecycle.state import State

Test = tuple[str, Fraction | None, str, Fraction]     # key, value (None: no data), op, threshold


@dataclass(frozen=True)
class IdleInputs:
    developed: Fraction | None
    to_develop: Fraction | None
    invested_net: Fraction | None
    total_net: Fraction | None
    land_price: Fraction | None


_ZH_DIGITS = "零一两三四五六七八九十"
_ZH_DENOMINATORS = "零一二三四五六七八九十"


def years_zh(n: int) -> str:
    """满一年, 满两年: a whole number of years as the law writes it (digits beyond ten)."""
    return _ZH_DIGITS[n] if 0 <= n <= 10 else str(n)


def share_zh(f: Fraction) -> str:
    """A share as the law writes it: 三分之一 for a unit fraction 1/n (n ≤ 10), else a percentage."""
    if f.numerator == 1 and 2 <= f.denominator <= 10:
        return f"{_ZH_DENOMINATORS[f.denominator]}分之一"
    return percent(f)


def percent(f: Fraction) -> str:
    return f"{dec_str(f * 100)}%"


def inputs(st: State, land_price: Fraction | None, law: IdleLandLaw | None = None) -> IdleInputs:
    law = law or idle_land_law()
    p = st.progress
    if p is None:
        return IdleInputs(None, None, None, None, land_price)
    invested, total = terms.money(p.invested, "progress.invested"), terms.money(p.total_investment, "progress.total_investment")
    if p.land_price_included and law.invested_excludes_land_price:
        # 53号令's 25 % test excludes the land price (◐); firms often report gross figures.
        if land_price is None or invested is None or total is None:
            invested = total = None
        else:
            invested, total = invested - land_price, total - land_price
    return IdleInputs(terms.area(p.developed_area, "progress.developed_area"),
                      terms.area(p.area_to_develop, "progress.area_to_develop"), invested, total, land_price)


def _extended(st: State) -> bool:
    """A start date newly agreed after a government-caused delay (53号令 Art. 12(1)) is recorded."""
    return any(g.new_start_by for g in st.government_delays)


def tests(st: State, ins: IdleInputs, law: IdleLandLaw | None = None) -> list[Test]:
    law = law or idle_land_law()
    out: list[Test] = []
    orig, due = st.start_due_without_government, st.start_due
    if orig is not None:
        # Art. 2: idle land once one full year has passed since the agreed start date, whatever the cause.
        for key, years in (("idle.not_started_1y", law.idle_fee_after_years), ("idle.not_started_2y", law.reclaim_after_years)):
            out.append((key, Fraction((st.as_of - anniversary(orig, years)).days), ">", Fraction(0)))
    if due is not None and _extended(st):
        # The extension agreed under Art. 12(1): in force up to the new date; once it lapses without a
        # start, idle land again, now counted from the extended date (Art. 14).
        out.append(("idle.extension_lapsed", Fraction((st.as_of - due).days), ">", Fraction(0)))
        for key, years in (("idle.extended_1y", law.idle_fee_after_years), ("idle.extended_2y", law.reclaim_after_years)):
            out.append((key, Fraction((st.as_of - anniversary(due, years)).days), ">", Fraction(0)))
    since = st.construction_suspended_since
    if since is not None and st.completion is None:
        for key, years in (("idle.suspended_1y", law.stalled_suspended_years), ("idle.suspended_2y", law.reclaim_after_years)):
            out.append((key, Fraction((st.as_of - anniversary(since, years)).days), ">", Fraction(0)))
        dev = inv = None
        if ins.to_develop and ins.developed is not None:
            dev = ins.developed / (ins.to_develop * law.stalled_developed_share)
        if ins.total_net and ins.invested_net is not None:
            inv = ins.invested_net / (ins.total_net * law.stalled_invested_share)
        out.append(("idle.developed_short", dev, "<", Fraction(1)))
        out.append(("idle.invested_short", inv, "<", Fraction(1)))
    return out


def finding(st: State, ins: IdleInputs, holds: dict[str, bool | None], law: IdleLandLaw | None = None) -> dict:
    """``holds``: test key → True/False from the engine, None where data was missing."""
    law = law or idle_land_law()
    one, two_y = years_zh(law.idle_fee_after_years), years_zh(law.reclaim_after_years)
    stalled_y = years_zh(law.stalled_suspended_years)
    started = st.started_on is not None
    gov = [g for g in st.government_delays if g.on <= st.as_of]
    gov_open = [g for g in gov if g.new_start_by is None]
    base = {"kind": "idle_land", "amount": None, "formula": None, "proposals": []}
    inputs_out = {"start_due": st.start_due.isoformat() if st.start_due else None,
                  "started_on": st.started_on.isoformat() if started else None, "as_of": st.as_of.isoformat()}

    if not started:
        if st.start_due is None:
            return {**base, "status": "insufficient_data", "state": None, "inputs": inputs_out,
                    "message": "合同未约定开工日期，无法判定是否闲置", "missing": ["schedule.start_by"]}
        orig, due = st.start_due_without_government, st.start_due

        def anniversaries(d) -> None:
            inputs_out["anniversary_1y"] = anniversary(d, law.idle_fee_after_years).isoformat()
            inputs_out["anniversary_2y"] = anniversary(d, law.reclaim_after_years).isoformat()

        anniversaries(orig)
        if orig != due:
            inputs_out["original_start_due"] = orig.isoformat()
        disposal = st.government_disposal if gov else None
        if not holds.get("idle.not_started_1y"):
            return {**base, "status": "pass", "state": "not_idle", "inputs": inputs_out,
                    "message": f"未开工，但自开工期限 {orig} 起未满{one}年（满{one}年之日 {inputs_out['anniversary_1y']}）",
                    "cite": law.cite("第二条")}
        if disposal is not None and disposal.new_start_by is None:
            return _government(base, inputs_out, gov, law)
        if disposal is not None and not holds.get("idle.extension_lapsed"):
            return _government(base, inputs_out, gov, law, extended_to=due, agreement=disposal)
        if disposal is not None:
            # The extension lapsed without a start: enterprise-caused idle land, counted from the extended date.
            anniversaries(due)
            inputs_out["extension_lapsed_on"] = due.isoformat()
            if not holds.get("idle.extended_1y"):
                return {**base, "status": "pass", "state": "not_idle", "inputs": inputs_out, "cite": law.cite("第十四条"),
                        "message": f"政府原因延误后补充协议约定的开工日期 {due} 已过仍未开工（延期开工违约）；"
                                   f"闲置自该日起重新计算，未满{one}年（满{one}年之日 {inputs_out['anniversary_1y']}）"}
            two = bool(holds.get("idle.extended_2y"))
            return _enterprise(base, inputs_out, "idle_2y" if two else "idle_1y", ins.land_price, law,
                               f"补充协议延长的开工期限 {due} 届满后满{two_y if two else one}年未动工开发（企业原因）")
        two = bool(holds.get("idle.not_started_2y"))
        return _enterprise(base, inputs_out, "idle_2y" if two else "idle_1y", ins.land_price, law,
                           f"超过开工期限 {due} 满{two_y if two else one}年未动工开发")

    if st.completion is not None:
        # 53号令 concerns land not (fully) developed: a project accepted on completion is not idle land,
        # whatever happens to its production (停产 is a low-efficiency matter).
        inputs_out["completed_on"] = st.completion.on.isoformat()
        if st.production_stopped_since is not None:
            inputs_out["production_stopped_since"] = st.production_stopped_since.isoformat()
        return {**base, "status": "pass", "state": "not_idle", "inputs": inputs_out, "cite": law.cite("第二条"),
                "message": f"已于 {st.completion.on} 竣工验收，不属闲置土地认定范围"
                           + (f"（自 {st.production_stopped_since} 停产，按低效用地认定）"
                              if st.production_stopped_since else "")}
    since = st.construction_suspended_since
    if since is None:
        return {**base, "status": "pass", "state": "not_idle", "inputs": inputs_out,
                "message": "已动工，未报告停建", "cite": law.cite("第二条")}
    inputs_out.update(suspended_since=since.isoformat(), developed=dec_str(ins.developed),
                      area_to_develop=dec_str(ins.to_develop), invested_excluding_land_price=dec_str(ins.invested_net),
                      total_investment_excluding_land_price=dec_str(ins.total_net))
    if st.stop_read_from:
        inputs_out["stop_read_from"] = st.stop_read_from
    if not holds.get("idle.suspended_1y"):
        return {**base, "status": "pass", "state": "not_idle", "inputs": inputs_out,
                "message": f"自 {since} 停建未满{stalled_y}年", "cite": law.cite("第二条")}
    dev, inv = holds.get("idle.developed_short"), holds.get("idle.invested_short")
    if not (dev or inv) and (dev is None or inv is None):
        # Either test alone makes the land idle: one unknown and the other not short decides nothing.
        missing = [k for k, v in (("progress.developed_area / area_to_develop", dev),
                                  ("progress.invested / total_investment", inv)) if v is None]
        return {**base, "status": "insufficient_data", "state": None, "inputs": inputs_out, "missing": missing,
                "message": f"停建满{stalled_y}年，但缺少开发面积或投资额，无法判定是否闲置"}
    if not (dev or inv):
        return {**base, "status": "pass", "state": "not_idle", "inputs": inputs_out, "cite": law.cite("第二条"),
                "message": f"停建满{stalled_y}年，但已开发面积不少于{share_zh(law.stalled_developed_share)}且已投资不少于 "
                           f"{percent(law.stalled_invested_share)}（不足为严格小于）：不属闲置土地，按停建缓建类低效用地认定"}
    if [g for g in gov if g.on >= since] or gov_open:
        return _government(base, inputs_out, gov, law)
    why = "、".join(w for w, h in ((f"已开发面积不足{share_zh(law.stalled_developed_share)}", dev),
                                   (f"已投资额不足总投资 {percent(law.stalled_invested_share)}", inv)) if h)
    return _enterprise(base, inputs_out, "stalled", ins.land_price, law, f"已动工但停建满{stalled_y}年且{why}",
                       reclaim=bool(holds.get("idle.suspended_2y")))


def _government(base: dict, inputs_out: dict, gov: list, law: IdleLandLaw, *, extended_to=None, agreement=None) -> dict:
    """Idle land caused by the government or force majeure (Art. 2, Art. 8): no idle fee, no free
    reclaim; disposed of under Art. 12.  An agreed new start date is that disposal (Art. 12(1)),
    in force until that date, which is its deadline."""
    keys = sorted({g.cause for g in gov})
    causes = "、".join(keys)
    labels = [law.government_cause_labels.get(k, k) for k in keys]
    options = [{k: o[k] for k in ("measure", "label", "article")} for o in law.disposal_options]
    out = {**base, "status": "not_applicable", "state": "government_caused", "inputs": {**inputs_out, "causes": causes},
           "cause": {"type": "force_majeure" if keys == ["force_majeure"] else "government", "causes": keys,
                     "labels": labels},
           "fee": None, "cite": law.cite("第二条、第八条、第十二条"), "disposal_options": options,
           "proposals": [o["proposal"] for o in law.disposal_options]}
    why = f"闲置土地，由政府原因或不可抗力造成（{'；'.join(labels)}）：不征收闲置费、不无偿收回"
    if extended_to is None:
        return {**out, "disposal": None, "deadline": None,
                "message": f"{why}，应按第十二条协商处置（尚未约定处置方式）"}
    ext = law.disposal("extend_start")
    disposal = {"measure": "extend_start", "label": ext["label"], "article": ext["article"],
                "agreed_on": agreement.on.isoformat(), "document": agreement.document,
                "new_start_by": extended_to.isoformat(), "deadline": extended_to.isoformat(),
                "cite": law.cite(ext["article"])}
    doc = f"（{agreement.document}）" if agreement.document else ""
    return {**out, "disposal": disposal, "deadline": extended_to.isoformat(), "proposals": [ext["proposal"]],
            "message": f"{why}；处置：{agreement.on} 补充协议{doc}延长动工开发期限至 {extended_to}（{ext['article']}），"
                       f"须于该日前动工，逾期未动工的自该日起按企业原因闲置计算"}


def _enterprise(base: dict, inputs_out: dict, state: str, price: Fraction | None, law: IdleLandLaw, why: str,
                reclaim: bool | None = None) -> dict:
    reclaim = state == "idle_2y" if reclaim is None else reclaim
    share = law.idle_fee_share_of_price
    if state in ("idle_1y", "idle_2y"):
        # The full years the state stands for under this document (for labels: 闲置满一年 …).
        base = {**base, "idle_years": law.reclaim_after_years if state == "idle_2y" else law.idle_fee_after_years}
    if reclaim:
        return {**base, "status": "fail", "state": state, "inputs": inputs_out, "cite": law.cite("第十四条（二）"),
                "message": f"{why}：满{years_zh(law.reclaim_after_years)}年，报经批准后无偿收回国有建设用地使用权",
                "proposals": ["free_reclaim"]}
    if price is None:
        return {**base, "status": "fail", "state": state, "inputs": inputs_out, "cite": law.cite("第十四条（一）"),
                "message": f"{why}：应征收土地闲置费（出让价款的 {percent(share)}），但合同未载明出让价款，金额无法计算",
                "proposals": ["idle_fee"], "missing": ["land_price"]}
    fee = price * share
    return {**base, "status": "fail", "state": state, "amount": dec_str(fee, 2),
            "formula": f"土地闲置费 = 出让价款 P × {percent(share)}", "inputs": {**inputs_out, "P": dec_str(price),
                                                                              "share": dec_str(share)},
            "cite": law.cite("第十四条（一）"), "message": f"{why}：征收土地闲置费 {dec_str(fee, 2)} 万元",
            "proposals": ["idle_fee"]}
