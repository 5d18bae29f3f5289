"""Registered contracts and their append-only lifecycle events."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from app.core import clock
from app.core.errors import Conflict, NotFound
from app.store.db import begin_write
from app.store.decisions import canonical
from app.store.models import Contract, ContractEvent, Decision


def document_digest(request: dict) -> str:
    return hashlib.sha256(canonical(request).encode("utf-8")).hexdigest()


def already_registered(session: Session, contract_no: str, request: dict) -> dict | None:
    """The stored summary if this exact contract is registered; Conflict if another one is."""
    existing = session.get(Contract, contract_no)
    if existing is None:
        return None
    if existing.digest == document_digest(request):
        return summary(existing)
    raise Conflict(f"合同 {contract_no} 已登记且内容不同；已登记合同不可修改（变更请以补充协议或事件记录） "
                   f"(contract already registered with other content: digest {existing.digest})")


def register(session: Session, request: dict, uscc: str, jurisdiction: str, signed_on: dt.date,
             contract_no: str, check_decision_id: str | None) -> tuple[dict, bool]:
    """Store a contract; the identical document again is a no-op, other content is a Conflict."""
    body = canonical(request)
    digest = document_digest(request)
    begin_write(session)
    found = already_registered(session, contract_no, request)
    if found is not None:
        session.rollback()
        return found, False
    row = Contract(contract_no=contract_no, jurisdiction=jurisdiction, transferee_uscc=uscc.strip().upper(),
                   signed_on=signed_on, registered_at=clock.utcnow(), digest=digest,
                   check_decision_id=check_decision_id, document=body)
    session.add(row)
    session.commit()
    return summary(row), True


def summary(row: Contract) -> dict:
    at = row.registered_at if row.registered_at.tzinfo else row.registered_at.replace(tzinfo=dt.UTC)
    return {"contract_no": row.contract_no, "digest": row.digest, "registered_at": at.isoformat(),
            "transferee_uscc": row.transferee_uscc, "check_decision_id": row.check_decision_id}


def get(session: Session, contract_no: str) -> tuple[Contract, dict]:
    row = session.get(Contract, contract_no)
    if row is None:
        raise NotFound(f"contract {contract_no} not found")
    return row, json.loads(row.document)


def append_events(session: Session, contract_no: str, events: list[dict]) -> list[dict]:
    """Append events in one transaction; each gets a server id.  Returns them as stored."""
    now = clock.utcnow()
    rows, out = [], []
    for ev in events:
        eid = str(uuid.uuid4())
        body = {**ev, "id": eid, "recorded_at": now.isoformat()}
        rows.append({"id": eid, "contract_no": contract_no, "type": ev["type"], "on": dt.date.fromisoformat(ev["on"]),
                     "corrects": ev.get("correct"), "recorded_at": now, "body": canonical(body)})
        out.append(body)
    begin_write(session)
    session.connection().execute(insert(ContractEvent.__table__), rows)
    session.commit()
    return out


def events(session: Session, contract_no: str) -> list[dict]:
    rows = session.exec(select(ContractEvent).where(ContractEvent.contract_no == contract_no)
                        .order_by(ContractEvent.seq)).all()
    return [json.loads(r.body) for r in rows]


def listing(session: Session, offset: int, limit: int) -> tuple[list[dict], int]:
    """One page of registered contracts (newest signing date first) and the total count."""
    total = session.exec(select(func.count()).select_from(Contract)).one()
    rows = session.exec(select(Contract).order_by(col(Contract.signed_on).desc(), col(Contract.contract_no))
                        .offset(offset).limit(limit)).all()
    return [{**summary(r), "signed_on": r.signed_on.isoformat(), "jurisdiction": r.jurisdiction} for r in rows], total


DECISION_KINDS = ("contract", "performance")


def decisions_about(session: Session, contract_no: str, limit: int = 20) -> list[dict]:
    """The newest stored decisions (clause checks, performance audits) naming this contract.
    Decisions have no contract column: the canonical payload is searched for its number."""
    needle = '"contract_no":' + json.dumps(contract_no, ensure_ascii=False)
    rows = session.exec(select(Decision).where(col(Decision.kind).in_(DECISION_KINDS),
                                               col(Decision.payload).contains(needle, autoescape=True))
                        .order_by(col(Decision.seq).desc()).limit(limit)).all()
    out = []
    for r in rows:
        body = json.loads(r.payload)
        out.append({"decision_id": r.id, "kind": r.kind, "verdict": r.verdict, "created_at": r.created_at,
                    "as_of": body.get("as_of"), "amount_total": body.get("amount_total"), "hash": r.hash,
                    "payload": body})
    return out
