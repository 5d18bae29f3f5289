"""The park's yearly evaluation (``evaluate``): land totals by category on 31 December, the park
亩均税收 against its target, the parcels pulling it down, the change from the year before;
``run_evaluation`` stores it as a decision (kind park_evaluation)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks.parks.classify import classify
from app.checks.parks.common import CATEGORIES, ZERO, q
from app.checks.parks.data import load
from app.checks.parks.documents import ParkLaw
from app.checks.parks.tax import ParkTax, explain_zeros, park_tax
from app.checks.performance import Audit
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH, TaxView
from app.core.numbers import dec_str
from app.engine import Engine
from app.store import decisions


def evaluate(session: Session, park_id: str, year: int, engine: Engine, *, view: TaxView,
             known_at: dt.datetime | None = None, pinned: list[dict] | None = None) -> dict:
    """The park's yearly evaluation: land totals by category on 31 December, the park 亩均税收
    (tax basis and area basis stated), the distance to the target, the parcels that pull it
    down, and the change from the year before — as ``view`` (the caller's) may see them."""
    data = load(session, park_id, view, known_at=known_at,
                law=ParkLaw(session, pinned) if pinned is not None else None)
    end = dt.date(year, 12, 31)
    cur, prev = park_tax(data, year), park_tax(data, year - 1)
    cls = classify(data, end, engine, tax_year=year, ptax=cur)
    explain_zeros(data, cur, cls, end)
    target = Fraction(data.park.target_tax_per_mu) if data.park.target_tax_per_mu else None

    a = Audit()
    k_target = a.add("park.target", cur.value - target, ">=", ZERO) if cur.value is not None and target is not None else None
    change = cur.value - prev.value if cur.value is not None and prev.value is not None else None
    k_up = a.add("yoy.up", change, ">", ZERO) if change is not None else None
    k_down = a.add("yoy.down", change, "<", ZERO) if change is not None else None
    h = a.run(engine)
    # One small program per parcel (the same program every time, compiled once per process):
    # slot names with parcel codes would register a new durable ruleset per park, never unloaded.
    below: dict[str, bool] = {}
    if cur.value is not None:
        for r, t in cur.counted:
            pa = Audit()
            key = pa.add("pull", t.tax_per_mu - cur.value, "<", ZERO)
            below[r.code] = bool(pa.run(engine)[key])
        for r, _ in cur.missing:
            pa = Audit()
            key = pa.add("pull", ZERO - cur.value, "<", ZERO)
            below[r.code] = bool(pa.run(engine)[key])

    # land totals by category
    registered = list(data.parcels)
    supplied = [r for r in registered if r.supplied_by(end)]
    by_cat = {}
    for cat in CATEGORIES:
        members = [r for r in registered if any(c["category"] == cat for c in cls[r.code]["categories"])]
        by_cat[cat] = {"label": CATEGORIES[cat][1], "code": CATEGORIES[cat][0], "count": len(members),
                       "area": q(sum((r.area for r in members), ZERO), "亩"), "parcels": [r.code for r in members]}
    problem = [r for r in registered if cls[r.code]["categories"]]
    undecided = [r.code for r in registered
                 if any(x["status"] == "insufficient_data" for x in cls[r.code]["assessment"].values())]
    undisclosed = [r.code for r in registered
                   if any(x["status"] == WITHHELD_STATUS for x in cls[r.code]["assessment"].values())]
    planned = Fraction(data.park.planned_area_mu)
    reg_area = sum((r.area for r in registered), ZERO)
    land = {"planned_area": q(planned, "亩"),
            "registered": {"count": len(registered), "area": q(reg_area, "亩")},
            "supplied": {"count": len(supplied), "area": q(sum((r.area for r in supplied), ZERO), "亩")},
            "industrial_supplied": {"count": len([r for r in supplied if r.industrial]),
                                    "area": q(cur.scope_area, "亩")},
            "by_category": by_cat,
            "problem": {"count": len(problem), "area": q(sum((r.area for r in problem), ZERO), "亩"),
                        "note": "每宗只计一次（可同时属多类）"},
            "without_category": {"count": len(registered) - len(problem),
                                 "area": q(reg_area - sum((r.area for r in problem), ZERO), "亩")},
            "insufficient_data": undecided,
            "withheld": undisclosed,
            "planned_not_registered": q(planned - reg_area, "亩")}

    # target
    tgt = {"value": q(target, "万元/亩"), "source": data.park.target_source}
    if k_target is not None:
        tgt.update(status="meets" if h[k_target] else "below", distance=q(target - cur.value, "万元/亩"),
                   attainment=q(cur.value / target * 100, "%"), formula="distance = 目标 − 园区亩均税收")
    else:
        tgt.update(status="no_target" if target is None else WITHHELD_STATUS if cur.status == WITHHELD_STATUS
                   else "insufficient_data", distance=None, attainment=None)

    # the parcels that pull it down, lowest first
    pullers = []
    for r, t in cur.counted:
        if below.get(r.code):
            gap = cur.value - t.tax_per_mu
            pullers.append((t.tax_per_mu, r.code, {
                "code": r.code, "area": q(r.area, "亩"), "tax_per_mu": q(t.tax_per_mu, "万元/亩"),
                "gap": q(gap, "万元/亩"), "shortfall_tax": q(gap * r.area, "万元"),
                "categories": [c["code"] for c in cls[r.code]["categories"]],
                "transferee_uscc": t.detail.get("uscc"), "reason": None}))
    for r, t in cur.missing:
        if below.get(r.code):
            z = cur.zero_row(r, t)
            pullers.append((ZERO, r.code, {
                "code": r.code, "area": q(r.area, "亩"), "tax_per_mu": q(ZERO, "万元/亩"),
                "gap": q(cur.value, "万元/亩"), "shortfall_tax": q(cur.value * r.area, "万元"),
                "categories": [c["code"] for c in cls[r.code]["categories"]],
                "transferee_uscc": t.detail.get("uscc"), "reason": z["reason"], "reason_label": z["reason_label"]}))
    pullers.sort(key=lambda x: (x[0], x[1]))

    # year over year
    yoy: dict[str, Any] = {"previous_year": year - 1, "previous": q(prev.value, "万元/亩"), "current": q(cur.value, "万元/亩"),
                           "previous_tax_basis": prev.basis,
                           "previous_area": {"counted": q(prev.counted_area, "亩"), "in_scope": q(prev.scope_area, "亩")}}
    if change is not None:
        now_codes = {r.code for r, _ in cur.counted + cur.missing + cur.withheld}
        then_codes = {r.code for r, _ in prev.counted + prev.missing + prev.withheld}
        yoy.update(status="ok", change=q(change, "万元/亩"),
                   change_percent=q(change / prev.value * 100, "%") if prev.value else None,
                   direction="up" if h[k_up] else "down" if h[k_down] else "unchanged",
                   parcels_added=sorted(now_codes - then_codes), parcels_dropped=sorted(then_codes - now_codes),
                   same_tax_basis=_basis_key(cur.basis) == _basis_key(prev.basis))
    elif WITHHELD_STATUS in (cur.status, prev.status):
        yoy.update(status=WITHHELD_STATUS, change=None, change_percent=None, direction=None,
                   message=f"{year - 1} 年或 {year} 年园区亩均税收{WITHHELD_ZH}")
    else:
        yoy.update(status="insufficient_data", change=None, change_percent=None, direction=None,
                   message=f"{year - 1} 年或 {year} 年园区亩均税收无法计算")

    prs = data.law.low_efficiency(data.park.ruleset, end) if data.park.ruleset else None
    verdict = (WITHHELD_STATUS if cur.status == WITHHELD_STATUS else
               "insufficient_data" if cur.value is None else "no_target" if target is None
               else "meets_target" if tgt["status"] == "meets" else "below_target")
    incomplete = None
    if verdict == "below_target" and (cur.missing_data() or cur.hidden_missing()):
        # Missing data counted as 0 can only have lowered the figure: a park meeting its target
        # meets it whatever they paid, one below it might not be (no bound on an unknown tax).
        verdict = "incomplete"
        incomplete = _incomplete(cur, target)
    example = bool((prs and prs.doc.status == "example") or (cur.basis.get("from") or {}).get("status") == "example")
    return {"kind": "park_evaluation", "verdict": verdict, "park": data.park.id, "park_name": data.name_on(end),
            "jurisdiction": data.park.jurisdiction, "year": year, "as_of": end.isoformat(),
            "ruleset": prs.ref() if prs else None, "example": example, "law": data.law.pins(),
            "tax_view": {"jurisdiction": view.jurisdiction},
            "land": land, "tax_per_mu": cur.to_dict(), "target": tgt, "incomplete": incomplete,
            "pulling_down": [p for _, _, p in pullers],
            "year_over_year": yoy, "known_at": data.known_at.isoformat(),
            "tax_regions": sorted(cur.regions | prev.regions, key=lambda r: r or ""),
            "engine": engine.name, "engine_version": engine.version}


def _incomplete(cur: ParkTax, target: Fraction) -> dict:
    """Why the verdict is ``incomplete``: the missing-data parcels (named where the caller may see
    them) and the tax they would have to add for the park to reach its target."""
    shown = cur.missing_data()
    hidden = cur.hidden_missing()
    gap = target * cur.scope_area - cur.total_tax
    area = sum((r.area for r, _ in shown), ZERO)
    out = {"parcels": [r.code for r, _ in shown], "area": q(area, "亩"), "withheld_parcels": bool(hidden),
           "gap_tax": q(gap, "万元"),
           "required_tax_per_mu": q(gap / area, "万元/亩") if area and not hidden else None,
           "message": (f"园区亩均税收 {dec_str(cur.value, 2)} 万元/亩低于目标 {dec_str(target)} 万元/亩，但 {len(shown)} 宗"
                       f"宗地缺少税收数据（计为 0）" + (f"，另有{WITHHELD_ZH}的宗地缺少税收数据" if hidden else "")
                       + f"：补齐后合计须再计入 {dec_str(gap, 2)} 万元税收方能达到目标，结论待补充数据后确定")}
    if out["required_tax_per_mu"] is not None:
        out["message"] += f"（即缺数据宗地平均 {dec_str(gap / area, 2)} 万元/亩）"
    return out


def _basis_key(b: dict) -> tuple:
    f = b.get("from") or {}
    return (b.get("status"), b.get("refunds_added_back"), tuple(b.get("includes") or ()), f.get("id"), f.get("version"))


def run_evaluation(session: Session, park_id: str, year: int, engine: Engine, *, view: TaxView) -> dict:
    """The evaluation as ``view`` may see it, stored as a decision (kind park_evaluation) in the
    hash-chained log, with the regions of the tax figures it holds (``tax_regions``)."""
    return decisions.append(session, [evaluate(session, park_id, year, engine, view=view)])[0]


def reevaluate(session: Session, stored: dict, engine: Engine) -> dict:
    """A stored park evaluation computed again from its inputs (park, year, the tax view it was
    computed for, ``known_at``) under the law documents it pinned (``law``, read back by digest):
    what ``POST /v1/decisions/{id}/replay`` compares with the stored one.  The registered parcels,
    contracts, events and tax records are read as they are now."""
    return evaluate(session, stored["park"], int(stored["year"]), engine,
                    view=TaxView(stored["tax_view"]["jurisdiction"]),
                    known_at=dt.datetime.fromisoformat(stored["known_at"]), pinned=stored["law"])
