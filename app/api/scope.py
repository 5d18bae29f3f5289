"""Tax confidentiality: tax amounts only for the caller's jurisdiction (issue 6, item 1).

A key with a jurisdiction (``keys create --jurisdiction 411200``) sees tax amounts of parks and
contracts whose division code falls under it (4112xx) and of enterprises whose 统一社会信用代码
was issued there (characters 3–8 of the code are the registering authority's division code).
A key without one, and open mode, see everything.

Endpoints about one park, contract or enterprise refuse (403) rather than hide: an empty answer
would read as "no tax data" to an auditor.  Lists of many enterprises (scoring runs) are filtered
to the enterprises in scope, with a note saying how many were left out, so that a county auditor
can still see their enterprises' places in a city-wide run.
"""

from __future__ import annotations

import json
import re

from fastapi import HTTPException
from sqlmodel import Session, select

from app.api.auth import Caller, scope_prefix
from app.store.models import Contract, Decision, Parcel, Park

_USCC_REGION = re.compile(r"^\d{6}$")


def enterprise_region(uscc: str | None) -> str | None:
    """The division code inside a 统一社会信用代码 (None if it has none)."""
    region = uscc[2:8] if isinstance(uscc, str) and len(uscc) == 18 else ""
    return region if _USCC_REGION.match(region) else None


def _refuse(caller: Caller, what: str) -> HTTPException:
    return HTTPException(403, f"{what} is outside this key's jurisdiction {caller.jurisdiction} "
                              f"(code prefix {scope_prefix(caller.jurisdiction or '')}); tax data is confidential "
                              f"(税收数据仅限本辖区)")


def enterprise(caller: Caller, uscc: str) -> None:
    if not caller.sees_jurisdiction(enterprise_region(uscc)):
        raise _refuse(caller, f"enterprise {uscc}")


def park(session: Session, caller: Caller, park_id: str) -> None:
    """403 for a park outside the scope; an unknown park is left to the endpoint (404)."""
    if caller.jurisdiction is None:
        return
    row = session.get(Park, park_id)
    if row is not None and not caller.sees_jurisdiction(row.jurisdiction):
        raise _refuse(caller, f"park {park_id}")


def parcel(session: Session, caller: Caller, code: str) -> None:
    if caller.jurisdiction is None:
        return
    row = session.get(Parcel, code.strip().upper())
    if row is not None:
        park(session, caller, row.park_id)


def contract(session: Session, caller: Caller, contract_no: str) -> None:
    if caller.jurisdiction is None:
        return
    row = session.get(Contract, contract_no)
    if row is not None and not caller.sees_jurisdiction(row.jurisdiction):
        raise _refuse(caller, f"contract {contract_no}")


def decision(session: Session, caller: Caller, decision_id: str) -> None:
    """Decisions that store tax records (a contract's performance, a park's yearly evaluation)
    follow their contract's or park's scope.  Proposal and contract checks hold the applicant's
    own planned figures and scoring decisions hold only counts and digests: readable by all."""
    if caller.jurisdiction is None:
        return
    row = session.exec(select(Decision).where(Decision.id == decision_id)).first()
    if row is None or row.kind not in ("performance", "park_evaluation"):
        return
    payload = json.loads(row.payload)
    if row.kind == "performance":
        contract(session, caller, str(payload.get("contract_no")))
    else:
        park(session, caller, str(payload.get("park")))


def scoring_run(doc: dict, caller: Caller) -> dict:
    """A stored scoring run with only the enterprises in scope (ranks as in the whole run)."""
    if caller.jurisdiction is None:
        return doc
    kept = [r for r in doc.get("results", []) if caller.sees_jurisdiction(enterprise_region(r.get("id")))]
    hidden = len(doc.get("results", [])) - len(kept)
    return {**doc, "results": kept,
            "scope": {"jurisdiction": caller.jurisdiction, "hidden": hidden,
                      "note": f"{hidden} 家辖区外（或无法识别统一社会信用代码）的企业未显示；排名为全体排名"}}
