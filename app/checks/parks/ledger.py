"""The 一宗一策 ledger on a date (``ledger``) and its flat spreadsheet form with Chinese
column names (``flat_ledger``, ``LEDGER_COLUMNS``)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from app.checks.parks.classify import classify, parcel_basics
from app.checks.parks.common import CATEGORIES, ZERO, q
from app.checks.parks.data import load
from app.checks.parks.plans import PROPOSAL_MEASURES, measures
from app.checks.visibility import (
    WITHHELD_STATUS,
    TaxView,
)
from app.engine import Engine
from app.lifecycle.disposal import disposal
from app.store import parks as store

# A completed plan measure as a disposal fact (``app.lifecycle.disposal``): reclaims and swaps
# need a decision or agreement document; an extension or a temporary use never disposes.
_PLAN_FACTS = {"extend_start": "extension", "temporary_use": "temporary_use", "negotiated_paid_reclaim": "reclaimed",
               "free_reclaim": "reclaimed", "swap": "swapped", "complete_supply": "supplied"}
_NEEDS_DOCUMENT = {"reclaimed", "swapped"}


def parcel_disposal(rec, plan: dict | None, as_of: dt.date) -> dict:
    """Whether the ledger parcel is disposed on ``as_of`` — the one rule (``app.lifecycle.disposal``)
    over its contract's facts (started, approved extensions) and its completed plan measures."""
    facts: list[dict] = []
    st = rec.state(as_of)
    if st is not None:
        if st.started_on is not None:
            facts.append({"type": "started", "on": st.started_on})
        facts += [{"type": "extension", "on": e.on} for e in st.extensions]
    if plan is not None and plan["progress"]["status"] == "completed":
        fact = _PLAN_FACTS.get(plan["measure"])
        on = dt.date.fromisoformat(plan["progress"].get("updated_on") or plan["as_of"])
        has_doc = any(d["kind"] in ("decision", "agreement") for d in plan.get("documents") or [])
        if fact is not None and (fact not in _NEEDS_DOCUMENT or has_doc):
            facts.append({"type": fact, "on": on, "area": rec.area})
    d = disposal(facts, rec.area, as_of, approved_unsupplied=rec.row.supply_status == "approved_unsupplied")
    return {"disposed": d.disposed, "on": d.on.isoformat() if d.on else None, "reason": d.reason,
            "by": [e["type"] for e in d.by], "ignored": [e["type"] for e in d.ignored]}


def _suggested(cats: list[dict]) -> list[str]:
    out: list[str] = []
    for c in cats:
        if c["category"] == "approved_unsupplied":
            out.append("complete_supply")
        elif c["category"] == "idle":
            out += [PROPOSAL_MEASURES[p] for p in c.get("finding", {}).get("proposals", []) if p in PROPOSAL_MEASURES]
        else:
            out += ["enterprise_upgrade", "redevelop", "merger", "negotiated_paid_reclaim"]
    return list(dict.fromkeys(out))


def ledger(session: Session, park_id: str, as_of: dt.date, engine: Engine, *, view: TaxView) -> dict:
    """一宗一策 ledger on ``as_of``: every problem parcel (a category on that date) and every
    parcel with a recorded plan, with basic data, categories and the latest plan version — the
    categories as ``view`` may see them (``withheld``: parcels whose low-efficiency result hangs on
    tax figures withheld from it)."""
    data = load(session, park_id, view)
    cls = classify(data, as_of, engine)
    plans = store.latest_plans(session, [r.code for r in data.parcels])
    rows = []
    totals = {cat: {"count": 0, "area": ZERO} for cat in CATEGORIES}
    without_plan = 0
    for rec in data.parcels:
        c = cls[rec.code]
        plan = plans.get(rec.code)
        if not c["categories"] and plan is None:
            continue
        for cat in c["categories"]:
            totals[cat["category"]]["count"] += 1
            totals[cat["category"]]["area"] += rec.area
        p = store.plan_dict(plan[0]) if plan else None
        if p is None:
            plan_status = "missing"
            without_plan += 1
        elif p["plan"]["progress"]["status"] == "completed":
            plan_status = "completed"
        elif not c["categories"]:
            plan_status = "no_current_category"
        elif dt.date.fromisoformat(p["plan"]["deadline"]) < as_of and p["plan"]["progress"]["status"] != "cancelled":
            plan_status = "overdue"
        else:
            plan_status = "open"
        rows.append({"ledger_id": f"{data.park.id}/{rec.code}", "parcel": parcel_basics(data, rec, as_of),
                     "categories": c["categories"], "category_codes": [x["code"] for x in c["categories"]],
                     "cause": p["plan"]["cause"] if p else None, "measure": p["plan"]["measure"] if p else None,
                     "deadline": p["plan"]["deadline"] if p else None, "plan": p, "plan_status": plan_status,
                     "plan_versions": plan[1] if plan else 0, "suggested_measures": _suggested(c["categories"]),
                     "disposal": parcel_disposal(rec, p["plan"] if p else None, as_of),
                     "history": f"/v1/parcels/{rec.code}/plan/history"})
    return {"park": data.park.id, "park_name": data.name_on(as_of), "as_of": as_of.isoformat(),
            "count": len(rows), "without_plan": without_plan,
            "withheld": sorted(code for code, c in cls.items()
                               if any(x["status"] == WITHHELD_STATUS for x in c["assessment"].values())),
            "totals": {k: {"count": v["count"], "area": q(v["area"], "亩")} for k, v in totals.items()},
            "measures": measures(), "rows": rows, "law": data.law.pins(), "engine": engine.name, "engine_version": engine.version}


LEDGER_COLUMNS = ["台账编号", "宗地代码", "园区名称", "面积（亩）", "用途", "供地状态", "批准文号", "批准日期", "合同编号",
                  "受让人", "统一社会信用代码", "类型", "形成原因", "政府原因", "处置措施", "完成时限", "法定上限",
                  "牵头单位", "配合单位", "责任人", "进度", "决定文书", "方案版本", "方案状态", "处置认定"]


def flat_ledger(led: dict) -> list[dict]:
    """The ledger as flat rows with Chinese column names (``LEDGER_COLUMNS``), for a spreadsheet."""
    cause_labels = {"enterprise": "企业原因", "government": "政府原因", "force_majeure": "不可抗力", "other": "其他"}
    out = []
    for row in led["rows"]:
        b, plan = row["parcel"], (row["plan"] or {}).get("plan") or {}
        c = b.get("contract") or {}
        resp = plan.get("responsible") or {}
        cap = plan.get("statutory_cap") or {}
        out.append(dict(zip(LEDGER_COLUMNS, [
            row["ledger_id"], b["code"], b["park_name"], b["area"]["value"], b["use_label"], b["supply_status_label"],
            (b.get("approval") or {}).get("document"), (b.get("approval") or {}).get("date"), c.get("contract_no"),
            (c.get("transferee") or {}).get("name"), (c.get("transferee") or {}).get("uscc"),
            "、".join(x["label"] for x in row["categories"]),
            cause_labels.get((plan.get("cause") or {}).get("type")), (plan.get("cause") or {}).get("government_cause"),
            plan.get("measure_label"), plan.get("deadline"), cap.get("limit"), resp.get("lead_unit"),
            "、".join(resp.get("cooperating_units") or []), resp.get("person"), (plan.get("progress") or {}).get("status"),
            "；".join(d["number"] for d in plan.get("documents") or []), row["plan_versions"], row["plan_status"],
            row["disposal"]["reason"]],
            strict=True)))
    return out
