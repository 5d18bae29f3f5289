"""Contracts: registration, clause checks, lifecycle events, performance."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Response

from app.access import scope, scope_writes
from app.access.auth import READ, WRITE, ReadCaller, allow
from app.access.deps import EngineDep, SessionDep
from app.access.scope_writes import WriteCaller
from app.checks import contract as contract_check
from app.checks.visibility import TaxView
from app.core import clock
from app.schemas.contract import ContractRequest, EventBatch
from app.store import contracts as store

router = APIRouter(tags=["contracts"])


@router.post("/v1/checks/contract", dependencies=allow(*WRITE))
def check_contract(req: ContractRequest, session: SessionDep, engine: EngineDep, caller: WriteCaller) -> dict:
    """Clause-by-clause check before signing; the decision is stored, the contract is not."""
    scope_writes.contract_body(session, caller, req)
    return contract_check.run(session, req, engine)


@router.post("/v1/contracts", status_code=201, dependencies=allow(*WRITE),
             responses={200: {"description": "identical contract already registered"},
                        409: {"description": "same contract number, different content"}})
def register_contract(req: ContractRequest, session: SessionDep, engine: EngineDep, response: Response,
                      caller: WriteCaller) -> dict:
    """Register a contract (and its supervision agreement); the clause check runs and is stored too.
    The contract (and the registered parcel it names) must be inside the key's jurisdiction (403);
    the transferee may come from anywhere (招商引资)."""
    scope_writes.contract_body(session, caller, req)
    document = req.model_dump(mode="json", exclude_none=True)
    found = store.already_registered(session, req.contract_no, document)
    if found is not None:
        response.status_code = 200
        return {**found, "created": False, "check": None}
    decision = contract_check.run(session, req, engine)
    summary, created = store.register(session, document, req.transferee.uscc, req.jurisdiction, req.signed_on,
                                      req.contract_no, decision["decision_id"])
    response.status_code = 201 if created else 200
    return {**summary, "created": created, "check": decision if created else None}


@router.get("/v1/contracts/{contract_no}", dependencies=allow(*READ))
def get_contract(contract_no: str, session: SessionDep) -> dict:
    row, document = store.get(session, contract_no)
    return {**store.summary(row), "contract": document, "events": store.events(session, contract_no)}


@router.post("/v1/contracts/{contract_no}/events", status_code=201, dependencies=allow(*WRITE))
def post_events(contract_no: str, batch: EventBatch, session: SessionDep, caller: WriteCaller) -> dict:
    """Append lifecycle events (one or many, one transaction).  An event may correct an earlier one."""
    scope_writes.contract(session, caller, contract_no)
    _, document = store.get(session, contract_no)
    contract = ContractRequest.model_validate(document)
    contract_check.validate_events(session, contract, store.events(session, contract_no), batch.events)
    stored = store.append_events(session, contract_no, [e.model_dump(mode="json", exclude_none=True) for e in batch.events])
    return {"contract_no": contract_no, "count": len(stored), "events": stored}


@router.get("/v1/contracts/{contract_no}/events", dependencies=allow(*READ))
def get_events(contract_no: str, session: SessionDep) -> dict:
    store.get(session, contract_no)
    return {"contract_no": contract_no, "events": store.events(session, contract_no)}


def _as_of(as_of: dt.date | None) -> dt.date:
    return as_of or clock.today()


@router.get("/v1/contracts/{contract_no}/performance")
def performance(contract_no: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
                as_of: dt.date | None = Query(None, description="the date to assess; default today")) -> dict:
    """Where the contract stands on ``as_of``.  It holds the transferee's tax records (亩均税收
    per year), so a key with a jurisdiction gets 403 for a contract outside it; inside it, a year
    whose record was reported by a region outside the key's scope is ``withheld``."""
    from app.checks import performance as perf

    scope.contract(session, caller, contract_no)
    return perf.run(session, contract_no, _as_of(as_of), engine, view=TaxView.of(caller))
