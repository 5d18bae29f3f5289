"""What was built, against what was agreed (from the completion acceptance): investment (F4),
plot ratio and building coefficient below a minimum (F5) or above a maximum (F6), green ratio
and admin shares above a maximum (F7)."""

from __future__ import annotations

from app.checks.performance.findings import Audit, blanks, finding, missing, penalty
from app.core.numbers import dec_str
from app.lifecycle import penalties, terms
from app.lifecycle.state import State, completion_site
from indicators.catalog import load_catalog
from indicators.derive import Site, counted_floor_area, derive
from indicators.units import M2_PER_MU

INTERVAL_KINDS = ("plot_ratio", "building_coefficient", "green_ratio", "admin_land_share", "admin_floor_share")


def completion_parts(st: State, a: Audit) -> list:
    c = st.terms
    due = st.complete_due
    agreed = c.commitments.intervals
    if st.completion is None:
        kinds = ["investment"] + [k for k in INTERVAL_KINDS if k in agreed]
        if due is not None and st.as_of > due:
            return [lambda h, k=k: missing(k, ["completion_accepted"], f"已过竣工期限 {due}，尚无竣工验收数据") for k in kinds]
        return [lambda h, k=k: finding(k, "not_applicable", "尚未竣工验收") for k in kinds]
    site = completion_site(st)
    out = [investment(st, a)]
    below, above, over = [], [], []
    for kind in INTERVAL_KINDS:
        if kind not in agreed:
            continue
        actual = derive(kind, site)
        if actual is None:
            out.append(lambda h, kind=kind: missing(kind, [f"completion_accepted 中计算{kind}所需的数据"],
                                                    "竣工验收数据不足，无法计算"))
            continue
        lo, hi = agreed[kind].min, agreed[kind].max
        keys = {}
        if lo is not None:
            keys["min"] = a.add(f"{kind}.min", actual - lo, ">=")
        if hi is not None:
            keys["max"] = a.add(f"{kind}.max", actual - hi, "<=")
        entry = (kind, actual, lo, hi, keys)
        (over if kind in ("green_ratio", "admin_land_share", "admin_floor_share") else below).append(entry)
        if kind in ("plot_ratio", "building_coefficient"):
            above.append(entry)
    out.append(shortfall_group(st, site, below, above))
    out.append(over_limit_group(st, over))
    return out


def investment(st: State, a: Audit):
    c, comp, area, price = st.terms, st.completion, st.terms.area_mu, st.terms.price_wan
    agreed_total, agreed_int = c.commitments.fixed_asset_investment, c.commitments.investment_intensity
    if agreed_int is None and agreed_total is not None:
        agreed_int = agreed_total / area
    if agreed_total is None and agreed_int is not None:
        agreed_total = agreed_int * area
    if agreed_total is None:
        return lambda h: finding("investment", "not_applicable", "合同未约定投资总额或投资强度")
    actual_total = terms.money(comp.fixed_asset_investment, "completion.fixed_asset_investment")
    if actual_total is None:
        return lambda h: missing("investment", ["completion_accepted.fixed_asset_investment"], "竣工验收未报固定资产投资总额")
    actual_int = actual_total / area
    k1 = a.add("investment.total", actual_total - agreed_total, ">=")
    k2 = a.add("investment.intensity", actual_int - agreed_int, ">=")

    def build(h: dict) -> dict:
        inputs = {"total_agreed": dec_str(agreed_total), "total_actual": dec_str(actual_total),
                  "intensity_agreed": dec_str(agreed_int), "intensity_actual": dec_str(actual_int)}
        if h[k1] and h[k2]:
            return finding("investment", "pass",
                           f"固定资产投资 {dec_str(actual_total)} 万元，达到约定 {dec_str(agreed_total)} 万元", inputs=inputs)
        agg = c.penalties.shortfall_aggregate
        if agg is None or price is None:
            return missing("investment", blanks(("penalties.shortfall_aggregate", agg), ("land_price", price)),
                           "投资不足，但合并方式或出让价款未约定，金额无法计算", inputs=inputs)
        p = penalties.f4_investment_shortfall(price, agreed_total, actual_total, agreed_int, actual_int, agg=agg)
        return penalty("investment", "fail",
                       f"投资不足：实际 {dec_str(actual_total, 2)} 万元，约定 {dec_str(agreed_total, 2)} 万元", p)
    return build


def shortfall_group(st: State, site: Site, below: list, above: list):
    """F5 (below a minimum) and F6 (above a maximum) for plot ratio and building coefficient.
    Several breached items combine by the contract's aggregate; the amount is carried by
    the first breached item, the others point to it."""
    c, price = st.terms, st.terms.price_wan

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
                out.append(finding(k, "pass", f"{label} {dec_str(act, 2)}，在约定范围内", inputs=inputs))
                continue
            pen, first = (f5, low[0][0]) if is_low else (f6, high[0][0])
            side = "低于约定下限" if is_low else "高于约定上限"
            if pen is None:
                out.append(missing(k, blanks(("penalties.shortfall_aggregate", agg), ("land_price", price)),
                                   f"{label} {dec_str(act, 2)} {side}，合并方式或出让价款未约定，金额无法计算", inputs=inputs))
            elif k == first:
                out.append(penalty(k, "fail", f"{label} {dec_str(act, 2)} {side}（{'F5' if is_low else 'F6'}）", pen))
            else:
                out.append(finding(k, "fail", f"{label} {dec_str(act, 2)} {side}；违约金已并入 {first} 一项（合并方式 {agg}）",
                                   inputs=inputs, counted_in=first))
        return out
    return build


def over_limit_group(st: State, over: list):
    """F7: green ratio, admin land or admin floor share above the agreed maximum: one-off ‰ of the price."""
    c, price = st.terms, st.terms.price_wan
    rate, mode = c.penalties.over_limit_permille, c.penalties.over_limit_mode

    def build(h: dict) -> list[dict]:
        out = []
        breached = [k for k, act, lo, hi, keys in over if "max" in keys and not h[keys["max"]]]
        pen = None
        if breached and rate is not None and price is not None:
            pen = penalties.f7_over_limit(price, rate, breached, mode=mode)
        for key, act, lo, hi, _keys in over:
            k, label = key, load_catalog().indicators[key].label
            inputs = {"actual": dec_str(act), "max": dec_str(hi), "min": dec_str(lo)}
            if k not in breached:
                out.append(finding(k, "pass", f"{label} {dec_str(act, 2)}% 未超过约定上限", inputs=inputs))
            elif pen is None:
                out.append(missing(k, blanks(("penalties.over_limit_permille", rate), ("land_price", price)),
                                   f"{label} {dec_str(act, 2)}% 超过约定上限 {dec_str(hi)}%，违约金比例或出让价款未约定",
                                   inputs=inputs))
            elif k == breached[0] or mode == "per_item":
                single = pen if mode == "once" else penalties.f7_over_limit(price, rate, [k], mode="once")
                out.append(penalty(k, "fail",
                                   f"{label} {dec_str(act, 2)}% 超过约定上限 {dec_str(hi)}%（F7，一次性；超出部分应拆除）",
                                   single))
            else:
                out.append(finding(k, "fail", f"{label} {dec_str(act, 2)}% 超过约定上限；一次性违约金已计入 {breached[0]}",
                                   inputs=inputs, counted_in=breached[0]))
        return out
    return build

