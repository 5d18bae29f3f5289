"""一宗一策 disposal plans: the closed list of measures, the checks a plan must pass (53号令
Art. 12 statutory caps, contract extension caps, government-caused delays), and the versioned
plan (``put_plan``, ``plan_history``, ``latest_plan``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks.contract import resolve_idle_law
from app.checks.parks.common import parse_model, store_contract_document
from app.core import clock
from app.core.errors import InputError, NotFound, Problem
from app.core.numbers import dec_str
from app.lifecycle.law import IdleLandLaw, contract_models, idle_land_law
from app.lifecycle.periods import add_months
from app.lifecycle.state import effective_events
from app.schemas.contract import ContractRequest
from app.schemas.parks import PlanIn
from app.store import parks as store
from app.store.models import Parcel

# 一宗一策 disposal measures: the closed list of docs/domain.md.  The labels that state a statutory
# number (the Art. 12 caps, the idle fee's share) take it from the 53号令 document (``measures``).
_MEASURES = {
    "start_development": "督促动工开发",
    "extend_start": "延长动工开发期限（不超过{extend_start}）",
    "change_use_or_planning": "调整用途或规划条件",
    "temporary_use": "安排临时使用（不超过{temporary_use}）",
    "negotiated_paid_reclaim": "协议有偿收回",
    "swap": "置换土地",
    "idle_fee": "征收土地闲置费（出让价款 {idle_fee}%）",
    "free_reclaim": "无偿收回",
    "re_tender": "重新招拍挂",
    "redevelop": "再开发",
    "enterprise_upgrade": "企业提质增效",
    "merger": "兼并重组",
    "complete_supply": "完善供地手续（批而未供）",
    "other": "其他",
}
_ZH_DIGITS = "零一两三四五六七八九十"


@dataclass(frozen=True)
class StatutoryCap:
    """A 53号令 Art. 12 cap (rules/lifecycle/idle-land-53.yaml ``disposal_options``): at most
    ``years`` (``cap_years``) from the day ``runs_from`` says, under ``article``."""

    measure: str
    years: Fraction
    article: str
    runs_from: str

    @property
    def months(self) -> int:
        return int(self.years * 12)


def years_zh(years: Fraction) -> str:
    """一年, 两年 … for whole years up to ten (as the law writes them), else "1.5 年"."""
    if years.denominator == 1 and 0 < years <= 10:
        return f"{_ZH_DIGITS[int(years)]}年"
    return f"{dec_str(years)} 年"


def statutory_caps(law: IdleLandLaw) -> dict[str, StatutoryCap]:
    """The Art. 12 disposal options of the 53号令 document that carry a cap (``cap_years``)."""
    return {o["measure"]: StatutoryCap(o["measure"], Fraction(str(o["cap_years"])), o["article"], o["runs_from"])
            for o in law.disposal_options if o.get("cap_years") is not None}


def measures(law: IdleLandLaw | None = None) -> dict[str, str]:
    """measure → label, the numbers of the labels from the 53号令 document (``law``; default: the
    bundled one)."""
    law = law or idle_land_law()
    caps = statutory_caps(law)
    numbers = {m: years_zh(c.years) for m, c in caps.items()}
    numbers["idle_fee"] = dec_str(law.idle_fee_share_of_price * 100)
    return {k: v.format(**numbers) for k, v in _MEASURES.items()}


# Idle-land proposals (app.lifecycle.idle) → measures of the list above.
PROPOSAL_MEASURES = {"extend_start_by_max_1_year": "extend_start", "temporary_use_max_2_years": "temporary_use",
                     "change_use_or_planning": "change_use_or_planning", "negotiated_paid_reclaim": "negotiated_paid_reclaim",
                     "swap": "swap", "idle_fee": "idle_fee", "free_reclaim": "free_reclaim"}


def _extension_base(contract: ContractRequest, events: list[dict], as_of: dt.date) -> dt.date | None:
    """The start date an extension runs from: the contract's, or one newly agreed after a
    government-caused delay (as ``app.lifecycle.state.validate_new_events``)."""
    base = contract.schedule.start_by
    for e in effective_events(events):
        if e["type"] == "government_delay" and e.get("new_start_by") and dt.date.fromisoformat(e["on"]) <= as_of and base:
            base = max(base, dt.date.fromisoformat(e["new_start_by"]))
    return base


def _extension_cap_months(contract: ContractRequest | None, statutory: StatutoryCap) -> tuple[int, str]:
    years = statutory.years
    why = f"出让合同（示范文本第十六条）：延期开工不超过{years_zh(years)}"
    if contract is not None:
        model = contract_models().get(contract.model)
        if model is not None:
            v = model.limits.get("clauses.extension_max_years", {}).get("value")
            m = Decimal(str(v)) if v is not None else None
            if m is not None and m < years:
                years, why = m, f"合同示范文本 {contract.model} 上限 {m} 年"
        agreed = contract.clauses.extension_max_years
        if agreed is not None and agreed < years:
            years, why = agreed, f"合同约定延期上限 {agreed} 年"
    return int(round(years * 12)), why


def check_plan(req: PlanIn, parcel: Parcel, contract: ContractRequest | None, events: list[dict],
               law: IdleLandLaw | None = None) -> dict:
    """Refuse what the law or the ledger forbids (InputError with paths); return the cap check.
    The statutory caps are those of the 53号令 document ``law`` (default: the bundled one)."""
    law = law or idle_land_law()
    caps = statutory_caps(law)
    problems: list[Problem] = []
    m, cause = req.measure, req.cause.type
    if m in ("idle_fee", "free_reclaim") and cause in ("government", "force_majeure"):
        problems.append(Problem("measure", "政府原因或不可抗力造成的闲置，不得征收闲置费或无偿收回，应按53号令第十二条协商处置 "
                                           "(government-caused delay: no idle fee or free reclaim)"))
    if m == "complete_supply" and parcel.supply_status != "approved_unsupplied":
        problems.append(Problem("measure", "完善供地手续仅适用于批而未供土地 (complete_supply is for approved-unsupplied land)"))
    cap = None
    model = clause = None
    if m in caps:
        years, article, runs = caps[m].years, caps[m].article, caps[m].runs_from
        if m == "extend_start" and cause in ("government", "force_majeure"):
            # Art. 12(1): at most one year from the start date agreed in the supplementary agreement —
            # ``cap_from`` when the agreement is not recorded as an event yet, else the newly agreed date
            # of the recorded government delay, else the contract's.
            base = _extension_base(contract, events, req.as_of) if contract is not None else None
            start_by = contract.schedule.start_by if contract is not None else None
            if req.cap_from is not None and start_by is not None and req.cap_from < start_by:
                problems.append(Problem("cap_from", f"补充协议约定的动工日期不能早于合同约定的 {start_by} "
                                                    f"(the agreed start date cannot precede the contract's {start_by})"))
            elif req.cap_from is not None:
                base = req.cap_from
            months, why = caps[m].months, f"53号令{article}：{runs}延长不超过{dec_str(years)}年"
            if base is None:
                problems.append(Problem("cap_from", "请填写 cap_from（补充协议约定的动工开发日期）"))
        elif m == "extend_start":
            # Not a delay of Art. 8: the contract's own extension clause (GF-2008-2601 Art. 16), from its date.
            base = _extension_base(contract, events, req.as_of) if contract is not None else None
            months, why = _extension_cap_months(contract, caps[m])
            runs = "自合同约定的动工开发日期起（合同约定的延期）"
            model = contract_models().get(contract.model) if contract is not None else None
            clause = model.limits.get("clauses.extension_max_years") if model is not None else None
            if base is not None and req.cap_from is not None and req.cap_from != base:
                problems.append(Problem("cap_from", f"延期自合同约定的动工日期 {base} 起算，不能另行指定 "
                                                    f"(the cap runs from the contract's start date {base})"))
            base = base or req.cap_from
            if base is None:
                problems.append(Problem("cap_from", "无合同约定的动工日期：请填写 cap_from（现行约定的动工日期）"))
        else:
            base, months, why = req.cap_from, caps[m].months, f"53号令{article}：临时使用不超过{dec_str(years)}年"
            if base is None:
                problems.append(Problem("cap_from", "临时使用须填写开始日期 cap_from (first day of the temporary use)"))
        if base is not None:
            limit = add_months(base, months)
            cite = model.cite(clause) if m == "extend_start" and cause not in ("government", "force_majeure") \
                and clause is not None else law.cite(article)
            cap = {"measure": m, "from": base.isoformat(), "months": months, "limit": limit.isoformat(),
                   "deadline": req.deadline.isoformat(), "why": why, "runs": runs, "cite": cite}
            # Starting by the date agreed in the supplementary agreement is itself a valid deadline.
            agreed = m == "extend_start" and cause in ("government", "force_majeure")
            if req.deadline < base or (req.deadline == base and not agreed):
                problems.append(Problem("deadline", f"期限应晚于起算日 {base} (deadline must be after {base})"))
            elif req.deadline > limit:
                problems.append(Problem("deadline", f"超过法定上限：{why}，自 {base} 起最迟 {limit} "
                                                    f"(beyond the statutory cap: at most {months} months from {base}, "
                                                    f"i.e. {limit})"))
    if problems:
        raise InputError(problems)
    return cap or {}


def put_plan(session: Session, code: str, raw: dict | PlanIn) -> tuple[dict, bool]:
    """Record a new version of a parcel's plan (PUT /v1/parcels/{code}/plan).  Returns
    (the stored version, created); the same content as the latest version is a no-op."""
    req = parse_model(PlanIn, raw)
    parcel = store.get_parcel(session, code)
    contract, events = None, []
    if parcel.contract_no:
        crow = store.contracts_by_no(session, [parcel.contract_no]).get(parcel.contract_no)
        if crow is not None:
            contract = ContractRequest.model_validate(store_contract_document(crow))
            events = store.events_by_contract(session, [parcel.contract_no])[parcel.contract_no]
    # The 53号令 version in force today caps the measure being planned now.
    law = resolve_idle_law(session, clock.today()).value
    cap = check_plan(req, parcel, contract, events, law)
    doc = req.model_dump(mode="json", exclude_none=True, exclude={"expected_version"})
    doc["measure_label"] = measures(law)[req.measure]
    if cap:
        doc["statutory_cap"] = cap
    return store.append_plan(session, parcel.code, doc, req.expected_version)


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    return [] if a == b else [path]


def plan_history(session: Session, code: str) -> dict:
    """Every version, oldest first, each with the fields changed from the one before."""
    parcel = store.get_parcel(session, code)
    out, prev = [], None
    for row in store.plans(session, parcel.code):
        d = store.plan_dict(row)
        d["changed"] = _diff(prev, d["plan"]) if prev is not None else []
        prev = d["plan"]
        out.append(d)
    return {"parcel": parcel.code, "count": len(out), "versions": out}


def latest_plan(session: Session, code: str) -> dict:
    parcel = store.get_parcel(session, code)
    latest = store.latest_plans(session, [parcel.code]).get(parcel.code)
    if latest is None:
        raise NotFound(f"parcel {parcel.code} has no plan")
    return store.plan_dict(latest[0])
