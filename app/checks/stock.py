"""Stock land (issue 14; docs/stock-land.md): approval batches (批次) and the 批而未供 figure per
batch, 批文清理, the 已批未供即用 rectification ledger and 增存挂钩 per county and year.

Areas are exact (Fraction, in 亩; 1 亩 = 10000/15 m²).  Whether land is disposed is decided only by
``app.lifecycle.disposal.disposal``.  The parameters (the 消化 priority age, the rectification
routes' cut-offs and deadlines, the 增存挂钩 ratios) come from the ``stock_land`` law document in
force for the batch's county on the date (the most specific jurisdiction covering it); every answer
names it (``law``) and says which of its values are examples.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks import law
from app.checks.stock_rules import STEP_LABELS, StockRules
from app.core.errors import InputError, Problem
from app.core.numbers import dec_str
from app.lifecycle.disposal import DISPOSING, disposal
from app.lifecycle.periods import add_years
from app.schemas.stock import BatchIn, EventIn, EventsIn
from app.store import stock as store
from app.store.models import ApprovalBatch
from indicators import units
from indicators.identifiers import check_division, division_prefix

KIND = "stock_land"
ZERO = Fraction(0)
MAX_AREA_MU = Fraction(10**7)
USE_LABELS = {"industrial": "工业", "public_service": "公共服务", "infrastructure": "基础设施", "commercial": "商业",
              "residential": "住宅", "other": "其他"}
EVENT_LABELS = {**DISPOSING, "cleared": "批文清理", "extension": "延期开工", "temporary_use": "临时使用",
                "used_before_supply": "已批未供即用", "rectification_step": "整改步骤"}
ROUTE_USES = {"industrial_pre_cutoff": {"industrial"}, "public_allocation": {"public_service", "infrastructure"},
              "township_collective": {"industrial", "commercial", "other"}}


def mu(x: Fraction | None) -> dict | None:
    return None if x is None else {"value": dec_str(x), "unit": "亩"}


def _area(q: Any, path: str, problems: list[Problem]) -> Fraction | None:
    try:
        v = units.to_canonical(q.value, q.unit, "area")
    except units.UnitError as e:
        problems.append(Problem(f"{path}.unit", str(e)))
        return None
    if v <= 0:
        problems.append(Problem(f"{path}.value", "必须大于 0 (must be > 0)"))
        return None
    if v > MAX_AREA_MU or (v * 10**12).denominator != 1:
        problems.append(Problem(f"{path}.value", "面积过大或换算后超过 12 位小数 (too large, or not exact to 12 decimals in 亩)"))
        return None
    return v


# ------------------------------------------------------------------ the law document

def rules_for(session: Session, jurisdiction: str, on: dt.date) -> law.Law | None:
    """The ``stock_land`` document in force on ``on`` whose jurisdiction covers ``jurisdiction``
    (the most specific one; a national document covers every county)."""
    best: tuple[int, law.Law] | None = None
    for s in law.listing(session, KIND, on):
        j = s.get("jurisdiction")
        prefix = division_prefix(j) if j else ""
        if not jurisdiction.startswith(prefix):
            continue
        found = law.by_version(session, KIND, s["id"], s["version"])
        if best is None or len(prefix) > best[0] or (len(prefix) == best[0] and found.id < best[1].id):
            best = (len(prefix), found)
    return best[1] if best else None


def _rules_or_422(session: Session, jurisdiction: str, on: dt.date, path: str) -> law.Law:
    found = rules_for(session, jurisdiction, on)
    if found is None:
        raise InputError([Problem(path, f"{on.isoformat()} 没有适用于 {jurisdiction} 的存量土地参数文件（stock_land）"
                                        "(no stock_land document in force)")])
    return found


def law_ref(found: law.Law) -> dict:
    r: StockRules = found.value
    examples = [k for k, p in (("priority", r.priority), ("linkage", r.linkage),
                               *((f"rectification.{k}", r.route(k)) for k in
                                 ("industrial_pre_cutoff", "public_allocation", "township_collective"))) if p.example]
    return {**law.pin(found), "title": found.title, "status": found.status, "example_values": examples}


# ------------------------------------------------------------------ batches

def register_batch(session: Session, req: BatchIn) -> tuple[dict, bool]:
    problems: list[Problem] = []
    for f in check_division(req.jurisdiction):
        if f.severity == "invalid":
            problems.append(Problem("jurisdiction", f.message))
    area = _area(req.area, "area", problems)
    parcels, seen, carved = [], set(), ZERO
    for i, p in enumerate(req.parcels):
        code = p.code.strip().upper()
        if code in seen:
            problems.append(Problem(f"parcels.{i}.code", f"地块 {code} 在本批次中重复 (duplicate parcel)"))
        seen.add(code)
        a = _area(p.area, f"parcels.{i}.area", problems)
        if a is not None:
            carved += a
            parcels.append({**p.model_dump(mode="json", exclude_none=True), "code": code, "area_mu": dec_str(a)})
    if area is not None and carved > area:
        problems.append(Problem("parcels", f"地块面积合计 {dec_str(carved)} 亩超过批准面积 {dec_str(area)} 亩 "
                                           "(parcels exceed the approved area)"))
    if problems:
        raise InputError(problems)
    assert area is not None
    doc = {**req.model_dump(mode="json", exclude_none=True), "area_mu": dec_str(area), "parcels": parcels}
    row, created = store.register_batch(session, store.NewBatch(
        id=req.id, document_no=req.document, approved_on=req.approved_on, jurisdiction=req.jurisdiction,
        area_mu=dec_str(area) or "0", document=doc))
    return {"id": row.id, "document": row.document_no, "approved_on": row.approved_on.isoformat(),
            "jurisdiction": row.jurisdiction, "area": mu(area), "parcels": len(parcels)}, created


def _event_facts(e: dict) -> dict:
    out = {"type": e["type"], "on": dt.date.fromisoformat(e["on"])}
    if "area_mu" in e:
        out["area"] = Fraction(e["area_mu"])
    return out


def _parcel_state(p: dict, evs: list[dict], on: dt.date) -> dict:
    area = Fraction(p["area_mu"])
    mine = [e for e in evs if e["parcel"] == p["code"] and dt.date.fromisoformat(e["on"]) <= on]
    supplied = sum((Fraction(e["area_mu"]) for e in mine if e["type"] == "supplied"), ZERO)
    cleared = sum((Fraction(e["area_mu"]) for e in mine if e["type"] == "cleared"), ZERO)
    d = disposal([_event_facts(e) for e in mine], area, on, approved_unsupplied=True)
    return {"code": p["code"], "use": p.get("use"), "area": mu(area), "supplied": mu(supplied), "cleared": mu(cleared),
            "unsupplied": mu(area - supplied - cleared), "disposed": d.disposed, "disposed_area": mu(d.area),
            "disposed_on": d.on.isoformat() if d.on else None, "disposal": d.reason,
            "ignored": [{"type": e["type"], "on": e["on"].isoformat(), "reason": e["reason"]} for e in d.ignored],
            "events": [{k: v for k, v in e.items()} for e in mine],
            "_num": {"area": area, "supplied": supplied, "cleared": cleared}}


def _age(approved: dt.date, on: dt.date) -> int:
    """Full years since approval by ``on`` (民法典第二百零一条: counted from the next day; n years
    are complete once ``on`` is after the n-th anniversary)."""
    n = 0
    while add_years(approved, n + 1) < on:
        n += 1
    return n


def batch_figures(row: ApprovalBatch, evs: list[dict], on: dt.date, found: law.Law | None) -> dict:
    doc = store.batch_document(row)
    area = Fraction(row.area_mu)
    states = [_parcel_state(p, evs, on) for p in doc.get("parcels", [])]
    carved = sum((s["_num"]["area"] for s in states), ZERO)
    supplied = sum((s["_num"]["supplied"] for s in states), ZERO)
    cleared = sum((s["_num"]["cleared"] for s in states), ZERO)
    remaining = area - supplied - cleared
    age = _age(row.approved_on, on) if on >= row.approved_on else None
    prio: dict[str, Any] = {"priority": None}
    if found is not None and age is not None:
        rules: StockRules = found.value
        n = rules.priority.older_than_years
        prio = {"priority": remaining > 0 and age >= n, "older_than_years": n,
                "priority_from": (add_years(row.approved_on, n) + dt.timedelta(days=1)).isoformat(),
                "parameter_is_example": rules.priority.example}
    for s in states:
        s.pop("_num")
    return {"id": row.id, "document": row.document_no, "approved_on": row.approved_on.isoformat(),
            "approver": doc.get("approver"), "kind": doc.get("kind"), "jurisdiction": row.jurisdiction, "as_of": on.isoformat(),
            "approved_area": mu(area), "carved_out": mu(carved), "not_carved_out": mu(area - carved),
            "supplied": mu(supplied), "cleared": mu(cleared), "approved_unsupplied": mu(remaining),
            "supply_rate": dec_str((supplied / area) * 100, 2) + "%",
            "formula": "批而未供 = 批准面积 − 已供面积 − 批文清理面积（未划分地块的面积计入批而未供）",
            "age_years": age, **prio, "parcels": states,
            "law": law_ref(found) if found is not None else None, "note": doc.get("note")}


def batch_view(session: Session, batch_id: str, on: dt.date) -> dict:
    row = store.get_batch(session, batch_id)
    evs = store.events(session, [row.id])[row.id]
    return batch_figures(row, evs, on, rules_for(session, row.jurisdiction, on))


def batch_list(session: Session, on: dt.date, prefix: str | None) -> dict:
    rows = store.batches(session, prefix)
    evs = store.events(session, [r.id for r in rows])
    items = []
    for r in rows:
        f = batch_figures(r, evs[r.id], on, rules_for(session, r.jurisdiction, on))
        f.pop("parcels")
        items.append(f)
    total = sum((Fraction(i["approved_unsupplied"]["value"]) for i in items), ZERO)
    prio = sum((Fraction(i["approved_unsupplied"]["value"]) for i in items if i["priority"]), ZERO)
    return {"as_of": on.isoformat(), "count": len(items), "approved_unsupplied": mu(total),
            "priority_area": mu(prio), "batches": items}


# ------------------------------------------------------------------ events

_NEED = {"supplied": ("method",), "cleared": ("reason",), "reclaimed": ("decision",), "swapped": ("decision",),
         "extension": ("until",), "temporary_use": ("until",),
         "used_before_supply": ("route", "used_since", "user"), "rectification_step": ("step",)}


def _check(session: Session, row: ApprovalBatch, stored: list[dict], new: list[dict], reqs: list[EventIn],
           index: list[int]) -> None:
    """Every problem of the new events with its path (``index``: their places in the request);
    fills in the default areas of ``new``."""
    doc = store.batch_document(row)
    parcels = {p["code"]: p for p in doc.get("parcels", [])}
    problems: list[Problem] = []
    seen = list(stored)
    for i, e, req in zip(index, new, reqs, strict=True):
        path = f"events.{i}"
        code = e["parcel"]
        before = len(problems)
        if code not in parcels:
            problems.append(Problem(f"{path}.parcel", f"地块 {code} 不属于批次 {row.id} (not a parcel of this batch)"))
            continue
        for f in _NEED.get(req.type, ()):
            if getattr(req, f) is None:
                problems.append(Problem(f"{path}.{f}", f"{EVENT_LABELS[req.type]}须填写 {f} (required for {req.type})"))
        if req.on < row.approved_on:
            problems.append(Problem(f"{path}.on", f"早于批准日期 {row.approved_on.isoformat()} (before the approval)"))
        mine = [x for x in seen if x["parcel"] == code]
        p_area = Fraction(parcels[code]["area_mu"])
        used = sum((Fraction(x["area_mu"]) for x in mine if x["type"] in ("supplied", "cleared")), ZERO)
        left = p_area - used
        if req.type in ("supplied", "cleared"):
            a = _area(req.area, f"{path}.area", problems) if req.area is not None else left
            if a is not None:
                if left <= 0:
                    problems.append(Problem(f"{path}.area", f"地块 {code} 已无批而未供面积 (nothing left unsupplied)"))
                elif a > left:
                    problems.append(Problem(f"{path}.area", f"{dec_str(a)} 亩超过地块剩余批而未供面积 {dec_str(left)} 亩 "
                                                            "(more than the parcel's remaining unsupplied area)"))
                e["area_mu"] = dec_str(a)
            if req.type == "supplied" and req.method == "transfer" and req.contract_no is None:
                problems.append(Problem(f"{path}.contract_no", "出让供地须填写出让合同编号 (a transfer needs its contract)"))
        elif req.area is not None:
            problems.append(Problem(f"{path}.area", f"{EVENT_LABELS[req.type]}不填写面积 (no area for {req.type})"))
        if req.type == "used_before_supply" and req.route is not None:
            if any(x["type"] == "used_before_supply" for x in mine):
                problems.append(Problem(f"{path}.type", f"地块 {code} 已列入整改台账 (already on the ledger)"))
            if left <= 0:
                problems.append(Problem(f"{path}.parcel",
                                        f"地块 {code} 已无未供面积，不属已批未供即用 (nothing left unsupplied)"))
            found = rules_for(session, row.jurisdiction, req.on)
            if found is None:
                problems.append(Problem(f"{path}.on",
                                        f"{req.on.isoformat()} 没有适用的存量土地参数文件 (no stock_land document)"))
            else:
                route = found.value.route(req.route)
                use = parcels[code].get("use", "industrial")
                if use not in ROUTE_USES[req.route]:
                    problems.append(Problem(f"{path}.route", f"地块用途为{USE_LABELS.get(use, use)}，不适用该整改路径 "
                                                             f"(route does not fit the parcel's use)"))
                if route.used_on_or_before and req.used_since and req.used_since > route.used_on_or_before:
                    problems.append(Problem(f"{path}.used_since", f"使用始于 {req.used_since.isoformat()}，晚于 "
                                                                  f"{route.used_on_or_before.isoformat()}，不属于该整改路径"))
                if route.expropriation_approved_before:
                    if req.expropriation_approved_on is None:
                        problems.append(Problem(f"{path}.expropriation_approved_on", "须填写征收报批日期 (required)"))
                    elif req.expropriation_approved_on >= route.expropriation_approved_before:
                        problems.append(Problem(f"{path}.expropriation_approved_on",
                                                f"须早于 {route.expropriation_approved_before.isoformat()} 报批征收"))
        if req.type == "rectification_step" and req.step is not None:
            reg = next((x for x in mine if x["type"] == "used_before_supply"), None)
            if reg is None:
                problems.append(Problem(f"{path}.step",
                                        f"地块 {code} 未列入已批未供即用整改台账 (register used_before_supply first)"))
            else:
                found = rules_for(session, row.jurisdiction, dt.date.fromisoformat(reg["on"]))
                steps = found.value.route(reg["route"]).steps if found else []
                done = [x["step"] for x in mine if x["type"] == "rectification_step"]
                if req.step in ("allocation_decision", "contract_signed") and req.decision is None:
                    problems.append(Problem(f"{path}.decision", f"{STEP_LABELS[req.step]}须填写文书编号 "
                                                                f"(the allocation decision or contract number)"))
                if req.step not in steps:
                    problems.append(Problem(f"{path}.step", f"该整改路径的步骤为 {'、'.join(steps)} (not a step of the route)"))
                elif req.step in done:
                    problems.append(Problem(f"{path}.step", f"步骤 {STEP_LABELS[req.step]} 已记录 (already recorded)"))
                elif steps.index(req.step) != len(done):
                    problems.append(Problem(f"{path}.step", f"应先完成 {STEP_LABELS[steps[len(done)]]} (steps in order)"))
        if len(problems) == before:        # a refused event does not count against the next ones
            seen.append(e)
    if problems:
        raise InputError(problems)


def append_events(session: Session, batch_id: str, req: EventsIn) -> dict:
    new = []
    for r in req.events:
        e = r.model_dump(mode="json", exclude_none=True)
        e.pop("area", None)
        e["parcel"] = r.parcel.strip().upper()
        if r.area is not None:          # the requested area, exact in 亩 (a bad one is reported by _check)
            a = _area(r.area, "", [])
            if a is not None:
                e["area_mu"] = dec_str(a)
        new.append(e)
    pos = {id(e): (i, r) for i, (e, r) in enumerate(zip(new, req.events, strict=True))}
    out, repeated = store.append_events(session, batch_id, new, lambda row, stored, n: _check(
        session, row, stored, n, [pos[id(e)][1] for e in n], [pos[id(e)][0] for e in n]))
    return {"batch": batch_id, "appended": out, "unchanged": repeated}


# ------------------------------------------------------------------ 已批未供即用 rectification ledger

def rectification(session: Session, on: dt.date, prefix: str | None) -> dict:
    rows = store.batches(session, prefix)
    evs = store.events(session, [r.id for r in rows])
    items, overdue = [], []
    for row in rows:
        doc = store.batch_document(row)
        for p in doc.get("parcels", []):
            mine = [e for e in evs[row.id] if e["parcel"] == p["code"] and dt.date.fromisoformat(e["on"]) <= on]
            reg = next((e for e in mine if e["type"] == "used_before_supply"), None)
            if reg is None:
                continue
            found = rules_for(session, row.jurisdiction, dt.date.fromisoformat(reg["on"]))
            if found is None:
                continue
            route = found.value.route(reg["route"])
            done = {e["step"]: e for e in mine if e["type"] == "rectification_step"}
            last = route.steps[-1]
            completed_on = dt.date.fromisoformat(done[last]["on"]) if last in done else None
            if completed_on is not None:
                status = "completed" if completed_on <= route.deadline else "completed_late"
            elif on > route.deadline:
                status = "overdue"
            else:
                status = "in_progress" if done else "open"
            state = _parcel_state(p, evs[row.id], on)
            item = {"batch": row.id, "approval_document": row.document_no, "jurisdiction": row.jurisdiction,
                    "parcel": p["code"], "use": p.get("use"), "area": mu(Fraction(p["area_mu"])),
                    "user": reg.get("user"), "used_since": reg.get("used_since"), "route": reg["route"],
                    "route_label": route.label, "deadline": route.deadline.isoformat(), "status": status,
                    "status_label": {"completed": "已完成", "completed_late": "逾期完成", "overdue": "逾期未完成",
                                     "in_progress": "整改中", "open": "未开始"}[status],
                    "days_overdue": (on - route.deadline).days if status == "overdue" else None,
                    "steps": [{"step": s, "label": STEP_LABELS[s], "done_on": done[s]["on"] if s in done else None,
                               "decision": done[s].get("decision") if s in done else None} for s in route.steps],
                    "next_step": next((STEP_LABELS[s] for s in route.steps if s not in done), None),
                    "unsupplied": state["unsupplied"], "deadline_is_example": route.example,
                    "law": law_ref(found)}
            items.append(item)
            if status == "overdue":
                overdue.append({k: item[k] for k in ("batch", "parcel", "route_label", "deadline", "days_overdue",
                                                     "next_step")})
    return {"as_of": on.isoformat(), "count": len(items), "overdue_count": len(overdue), "overdue": overdue,
            "items": items}


# ------------------------------------------------------------------ 增存挂钩

def linkage(session: Session, year: int, prefix: str | None) -> dict:
    """Per county, the new construction-land quota earned by the stock disposed of in ``year``:
    Σ over the disposing events dated in the year of (area × the document's ratio for that way of
    disposal), the document being the one in force on 31 December for the county."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = store.batches(session, prefix)
    evs = store.events(session, [r.id for r in rows])
    counties: dict[str, dict] = {}
    for row in rows:
        found = rules_for(session, row.jurisdiction, end)
        c = counties.setdefault(row.jurisdiction, {"jurisdiction": row.jurisdiction, "_quota": ZERO, "_area": ZERO,
                                                   "parcels": [], "law": law_ref(found) if found else None,
                                                   "missing_law": found is None})
        for p in store.batch_document(row).get("parcels", []):
            mine = [_event_facts(e) for e in evs[row.id] if e["parcel"] == p["code"]]
            d = disposal(mine, Fraction(p["area_mu"]), end, approved_unsupplied=True)
            for e in d.by:
                if not start <= e["on"] <= end:
                    continue
                a = e.get("area", Fraction(p["area_mu"]))
                ratio = found.value.linkage.ratio(e["type"]) if found else None
                q = a * ratio if ratio is not None else None
                c["_area"] += a
                if q is not None:
                    c["_quota"] += q
                c["parcels"].append({"batch": row.id, "parcel": p["code"], "way": e["type"], "way_label": DISPOSING[e["type"]],
                                     "on": e["on"].isoformat(), "area": mu(a),
                                     "ratio": dec_str(ratio) if ratio is not None else None, "quota": mu(q)})
    out = []
    for c in sorted(counties.values(), key=lambda c: c["jurisdiction"]):
        area, quota = c.pop("_area"), c.pop("_quota")
        out.append({**c, "disposed_area": mu(area), "quota": None if c["missing_law"] else mu(quota),
                    "formula": "新增建设用地计划指标 = Σ（当年处置面积 × 该处置方式的挂钩比例）"})
    return {"year": year, "counties": out}


# ------------------------------------------------------------------ flat rows (workbooks)

BATCH_COLUMNS = ["批次", "批准文号", "批准日期", "县（市、区）", "批准面积（亩）", "已供面积（亩）", "批文清理面积（亩）",
                 "批而未供面积（亩）", "供地率", "批准年限（年）", "消化优先", "参数文件"]
RECT_COLUMNS = ["批次", "批准文号", "地块", "用途", "面积（亩）", "使用单位", "使用起始", "整改路径", "完成时限",
                "已完成步骤", "下一步骤", "状态", "逾期天数", "未供面积（亩）"]


def flat_batches(listing: dict) -> list[dict]:
    """The batch list as flat rows with Chinese column names (``BATCH_COLUMNS``)."""
    out = []
    for b in listing["batches"]:
        law_ = b.get("law") or {}
        prio = None if b["priority"] is None else ("是" if b["priority"] else "否")
        out.append(dict(zip(BATCH_COLUMNS, [
            b["id"], b["document"], b["approved_on"], b["jurisdiction"], b["approved_area"]["value"],
            b["supplied"]["value"], b["cleared"]["value"], b["approved_unsupplied"]["value"], b["supply_rate"],
            b["age_years"], prio, f"{law_.get('id')} {law_.get('version')}" if law_ else None], strict=True)))
    return out


def flat_rectification(ledger_: dict) -> list[dict]:
    """The rectification ledger as flat rows with Chinese column names (``RECT_COLUMNS``)."""
    out = []
    for i in ledger_["items"]:
        done = "、".join(f"{s['label']}（{s['done_on']}）" for s in i["steps"] if s["done_on"])
        out.append(dict(zip(RECT_COLUMNS, [
            i["batch"], i["approval_document"], i["parcel"], USE_LABELS.get(i["use"], i["use"]), i["area"]["value"],
            i["user"], i["used_since"], i["route_label"], i["deadline"], done or None, i["next_step"], i["status_label"],
            i["days_overdue"], i["unsupplied"]["value"]], strict=True)))
    return out
