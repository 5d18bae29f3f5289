"""Use cases on registered contracts: registration (with its clause check) and lifecycle-event
appends.  One home for both, used by ``POST /v1/contracts``, ``POST /v1/contracts/{no}/events``
and the demo loader (``app.demo``), so that the demo stores exactly what the API would."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlmodel import Session

from app.checks import contract as contract_check
from app.core.errors import Conflict
from app.engine import Engine
from app.schemas.contract import ContractRequest, EventBatch
from app.store import contracts as store
from app.store import decisions
from app.store import parks as pstore

Progress = Callable[[str], None]
CHUNK = 500         # contracts whose clause checks are appended to the decision log in one transaction


def _document(req: ContractRequest) -> dict:
    return req.model_dump(mode="json", exclude_none=True)


def _store(session: Session, req: ContractRequest, document: dict, decision_id: str) -> tuple[dict, bool]:
    return store.register(session, document, req.transferee.uscc, req.jurisdiction, req.signed_on,
                          req.contract_no, decision_id)


def register(session: Session, req: ContractRequest, engine: Engine) -> tuple[dict, bool]:
    """Register one contract: the clause check runs and is stored as a decision, then the contract.
    Returns (the answer of ``POST /v1/contracts``, created).  An identical registered contract is
    returned as it is (no new check); another one under the same number is a Conflict."""
    document = _document(req)
    found = store.already_registered(session, req.contract_no, document)
    if found is not None:
        return {**found, "created": False, "check": None}, False
    decision = contract_check.run(session, req, engine)
    summary, created = _store(session, req, document, decision["decision_id"])
    return {**summary, "created": created, "check": decision if created else None}, created


def register_many(session: Session, reqs: Sequence[ContractRequest], engine: Engine,
                  say: Progress | None = None) -> dict:
    """Register many contracts as ``register`` does one, the clause checks of a chunk appended to the
    decision log in one transaction (the demo's thousands of contracts).  Registered identical
    contracts are skipped; one under a used number with other content refuses all (Conflict)
    before anything is stored.  Returns the counts created and of checks that did not pass."""
    say = say or (lambda _msg: None)
    stored = pstore.contracts_by_no(session, [r.contract_no for r in reqs])
    todo = []
    for req in reqs:
        document = _document(req)
        row = stored.get(req.contract_no)
        if row is not None:
            if row.digest != store.document_digest(document):
                raise Conflict(f"合同 {req.contract_no} 已登记且内容不同 (contract registered with other content)")
            continue
        todo.append((req, document))
    session.rollback()
    created, fails = 0, 0
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        results = [contract_check.evaluate(req, session, engine) for req, _ in chunk]
        fails += sum(1 for r in results if r["verdict"] != "pass")
        for (req, document), d in zip(chunk, decisions.append(session, results), strict=True):
            created += _store(session, req, document, d["decision_id"])[1]
        say(f"  合同 contracts: {start + len(chunk)}/{len(todo)} registered")
    return {"contracts": created, "contract_checks_not_pass": fails}


def append_events(session: Session, contract_no: str, batch: EventBatch) -> list[dict]:
    """Append lifecycle events to a registered contract (one transaction), validated against the
    contract and the events already stored (an event may correct an earlier one).  Returns them as
    stored, each with its server id.  NotFound for an unknown contract."""
    _, document = store.get(session, contract_no)
    contract = ContractRequest.model_validate(document)
    contract_check.validate_events(session, contract, store.events(session, contract_no), batch.events)
    return store.append_events(session, contract_no, [e.model_dump(mode="json", exclude_none=True) for e in batch.events])


def _strip(e: dict) -> dict:
    return {k: v for k, v in e.items() if k not in ("id", "recorded_at")}


def append_events_once(session: Session, batches: dict[str, EventBatch], say: Progress | None = None) -> int:
    """Each contract's events appended as ``append_events`` does, unless the contract already has
    events: then they must be exactly these (skipped), or it is a Conflict.  For loading a data set
    again (the demo).  Returns the number of events appended."""
    say = say or (lambda _msg: None)
    stored = pstore.events_by_contract(session, list(batches))
    session.rollback()
    created = 0
    for n, (no, batch) in enumerate(batches.items(), start=1):
        if not batch.events:
            continue
        wanted = [e.model_dump(mode="json", exclude_none=True) for e in batch.events]
        have = [_strip(e) for e in stored.get(no, [])]
        if have:
            if have != wanted:
                raise Conflict(f"合同 {no} 已有不同的事件记录 (contract has other events stored)")
            continue
        created += len(append_events(session, no, batch))
        if n % 1000 == 0:
            say(f"  事件 events: {n}/{len(batches)} contracts")
    return created
