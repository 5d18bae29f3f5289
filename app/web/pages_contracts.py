"""合同履约 pages: the contract list and lookup, a contract's timeline with its current
performance and idle-land status; the clause check before signing is ``pages_contract_check``
(its routes come first here).

Every figure comes from the functions behind the API (``app.checks.performance.run`` as
``GET /v1/contracts/{no}/performance``, ``app.checks.contract.run`` as ``POST /v1/checks/contract``,
``app.store.contracts`` and ``app.store.tax`` for events and tax records); this module only
arranges them and translates codes into Chinese labels.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.access import scope
from app.access.auth import Caller
from app.access.deps import EngineDep, SessionDep
from app.checks import performance as perf
from app.checks.parks.plans import PROPOSAL_MEASURES, measures
from app.checks.visibility import WITHHELD_ZH, TaxView
from app.core import clock
from app.core.errors import NotFound, Problem
from app.lifecycle.idle import years_zh
from app.lifecycle.law import contract_models
from app.lifecycle.state import effective_events
from app.schemas.contract import ContractRequest
from app.store import contracts as store
from app.store import tax
from app.web import pages_contract_check
from app.web.auth import PageRoute
from app.web.common import beijing, field_errors, fmt, fmt_exact, percent, render
from app.web.contracts_common import (
    AMOUNT_LABELS,
    EVENT_FIELDS,
    EVENT_LABELS,
    GOV_CAUSES,
    IDLE_STATES,
    KINDS,
    PERF_STATUS,
    PERF_VERDICT,
    READ,
    SECTION,
    TAX_OPTIONS,
    not_found,
)

router = APIRouter(route_class=PageRoute)
# The clause-check pages first: /contracts/check must not be taken for a contract number.
router.include_router(pages_contract_check.router)
PAGE_SIZE = 50


def _date(text: str | None, field: str, problems: list[Problem]) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(field, "请输入有效日期（YYYY-MM-DD）"))
        return None


# ---------------------------------------------------------------- list and lookup

@router.get("/contracts", response_class=HTMLResponse, dependencies=[READ])
def contracts_list(request: Request, session: SessionDep,
                   no: Annotated[str | None, Query(max_length=200)] = None,
                   page: Annotated[str | None, Query(max_length=12)] = None) -> Response:
    """A lookup form (contract number → its page) and the registered contracts, paged."""
    errors: dict[str, list[str]] = {}
    status = 200
    if no is not None and no.strip():
        wanted = no.strip()
        try:
            store.get(session, wanted)
        except NotFound:
            errors["no"] = [f"未找到合同 {wanted}（合同须先登记：POST /v1/contracts）"]
            status = 404
        else:
            return RedirectResponse(f"/contracts/{quote(wanted, safe='')}", status_code=303)
    n = int(page) if page and (page.isascii() and page.isdigit()) and int(page) >= 1 else 1
    rows, total = store.listing(session, (n - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "contracts/list.html",
                  {**SECTION, "rows": rows, "total": total, "page": n, "pages": pages, "no": no or "", "errors": errors},
                  status_code=status)


# ---------------------------------------------------------------- a contract's timeline and performance

def _show(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        return f"{fmt(v['value'])} {v.get('unit') or ''}".strip()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list):
        return f"{len(v)} 项"
    return str(v)


def timeline(events: list[dict]) -> list[dict]:
    """Every stored event in date order, each marked as in force, corrected or a correction."""
    in_force = {e["id"] for e in effective_events(events)}
    corrected_by = {e["correct"]: e["id"] for e in events if e.get("correct")}
    seq = {e["id"]: i for i, e in enumerate(events, start=1)}
    out = []
    for e in sorted(events, key=lambda e: (e["on"], seq[e["id"]])):
        details = [(EVENT_FIELDS.get(k, k), GOV_CAUSES.get(v, v) if k == "cause" else _show(v))
                   for k, v in e.items() if k not in ("id", "type", "on", "recorded_at", "correct")]
        out.append({"n": seq[e["id"]], "id": e["id"], "type": EVENT_LABELS.get(e["type"], e["type"]), "on": e["on"],
                    "recorded_at": beijing(e.get("recorded_at"), label=False), "details": details,
                    "corrects": seq.get(e.get("correct") or "", None) if e.get("correct") else None,
                    "corrected_by": seq.get(corrected_by.get(e["id"], ""), None),
                    "in_force": e["id"] in in_force})
    return out


def _yuan(amount: str | None) -> str | None:
    """万元 → 元 for display (exact: a decimal shift)."""
    if amount is None:
        return None
    try:
        return str((Decimal(amount) * 10000).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def _clause(contract: ContractRequest, kind: str, finding: dict) -> dict | None:
    if finding.get("cite"):
        return finding["cite"]
    field = KINDS.get(kind, (None, None, None))[2]
    model = contract_models().get(contract.model)
    if field and model and field in model.required:
        return model.cite(model.required[field])
    return None


def _measure(f: dict) -> str | None:
    inputs = f.get("inputs") or {}
    # Computed figures rounded for display (2 decimals; a ratio as a percentage); the agreed
    # values are contract text, shown as written.
    if "days" in inputs:
        return f"逾期 {inputs['days']} 天"
    if "ratio" in inputs:
        return f"不足（超出）比例 {percent(inputs['ratio'])}"
    if f.get("kind") == "tax_per_mu" and "actual_tax_per_mu" in inputs:
        return f"实际 {fmt(inputs['actual_tax_per_mu'])}，约定 {fmt_exact(inputs.get('committed'))} 万元/亩"
    if f.get("kind") == "investment" and "total_actual" in inputs:
        return f"实际 {fmt(inputs['total_actual'])}，约定 {fmt_exact(inputs['total_agreed'])} 万元"
    return None


def findings_view(contract: ContractRequest, result: dict) -> list[dict]:
    out = []
    for f in result["findings"]:
        kind = f["kind"]
        item, name, _ = KINDS.get(kind, (kind, kind, None))
        formula = f.get("formula") or ""
        m = re.match(r"^(F\d)\b", formula)
        if m:
            item = m.group(1)
        if f.get("year"):
            name = f"{name}（{f['year']} 年度）"
        status = "构成闲置" if kind == "idle_land" and f["status"] == "fail" else PERF_STATUS.get(f["status"], f["status"])
        out.append({**f, "item": item, "name": name, "status_label": status,
                    "measure": _measure(f), "amount_yuan": _yuan(f.get("amount")), "clause": _clause(contract, kind, f),
                    "party_label": "出让人" if f.get("party") == "transferor" else "受让人"})
    return out


def tax_years(session: Session, uscc: str, result: dict | None, view: TaxView) -> list[dict]:
    """The enterprise's tax rows by year (corrections and what they superseded), with the year's
    亩均税收 as the performance audit counted it (only the reviewed years have one).  A row reported
    by a region ``view`` may not see says only its year and 不在本辖区权限内."""
    reviewed = {f["year"]: f for f in (result or {}).get("findings", []) if f["kind"] == "tax_per_mu" and f.get("year")}
    out = []
    for r in tax.history(session, uscc):
        if not view.sees(r["tax_region"]):
            out.append({"year": r["year"], "current": r["current"], "withheld": True})
            continue
        f = reviewed.get(r["year"])
        inputs = (f or {}).get("inputs") or {}
        out.append({**r, "tax_per_mu": inputs.get("actual_tax_per_mu") if r["current"] else None,
                    "committed": inputs.get("committed") if r["current"] else None,
                    "status_label": PERF_STATUS.get(f["status"]) if f and r["current"] else None})
    return out


def _decisions(session: Session, caller: Caller, contract_no: str) -> list[dict]:
    """The stored decisions about the contract; the penalty total of one holding tax figures the
    caller may not see (stored by a broader key) is withheld, as GET /v1/decisions/{id} is."""
    out = []
    for d in store.decisions_about(session, contract_no):
        if d["kind"] == "performance" and not scope.sees_decision(session, caller, d["kind"], d["payload"]):
            d = {**d, "verdict": None, "amount_total": None, "withheld": True}
        out.append({k: v for k, v in d.items() if k != "payload"})
    return out


def idle_view(result: dict) -> dict | None:
    f = next((x for x in result["findings"] if x["kind"] == "idle_land"), None)
    if f is None:
        return None
    labels = measures()
    label = IDLE_STATES.get(f.get("state") or "", "无法判定")
    if f.get("idle_years"):
        # The years of the 53号令 version the audit applied (the labels above are the bundled version's).
        label = f"闲置满{years_zh(f['idle_years'])}年（企业原因）"
    return {**f, "state_label": label,
            "status_label": "构成闲置" if f["status"] == "fail" else PERF_STATUS.get(f["status"], f["status"]),
            "proposal_labels": [labels.get(PROPOSAL_MEASURES.get(p, p), p) for p in f.get("proposals") or []]}


@router.get("/contracts/{contract_no}", response_class=HTMLResponse)
def contract_page(request: Request, contract_no: str, session: SessionDep, engine: EngineDep,
                  caller: Annotated[Caller, READ],
                  as_of: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    """The contract, its events in date order, tax years, stored decisions and its performance
    on ``as_of`` (default today), stored as a decision exactly as the API's GET does."""
    try:
        row, document = store.get(session, contract_no)
    except NotFound:
        return not_found(request, f"未找到合同 {contract_no}")
    scope.contract(session, caller, contract_no)      # tax records inside: as the API's GET …/performance
    contract = ContractRequest.model_validate(document)
    problems: list[Problem] = []
    on = _date(as_of, "as_of", problems) if as_of else clock.today()
    view = TaxView.of(caller)
    result = perf.run(session, contract_no, on, engine, view=view) if on else None
    errors, _ = field_errors(problems, ["as_of"])
    return render(request, "contracts/timeline.html", {
        **SECTION, "no": contract_no, "c": contract, "row": row, "as_of": (on or clock.today()).isoformat(),
        "as_of_text": as_of if problems else (on.isoformat() if on else ""), "errors": errors,
        "events": timeline(store.events(session, contract_no)),
        "tax_rows": tax_years(session, row.transferee_uscc, result, view),
        "decisions": _decisions(session, caller, contract_no), "result": result, "withheld_label": WITHHELD_ZH,
        "findings": findings_view(contract, result) if result else [], "idle": idle_view(result) if result else None,
        "verdict": PERF_VERDICT.get(result["verdict"], result["verdict"]) if result else None,
        "amount_label": AMOUNT_LABELS.get(result["amount_label"], result["amount_label"]) if result else None,
        "tax_options": TAX_OPTIONS, "kind_labels": {"contract": "条款检查", "performance": "履约评估"},
        "verdict_labels": {"contract": {"pass": "通过", "fail": "不通过"},
                           "performance": {"pass": "履约正常", "fail": "存在违约", "incomplete": "数据不全"}},
    }, status_code=422 if problems else 200)
