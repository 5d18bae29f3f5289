"""Approval batches and their append-only parcel events (issue 14).

A batch registration is immutable (the same document again is a no-op, other content under the id
a Conflict).  Events are appended under the batch row's lock so that the check "no more supplied
than approved" (done by ``app.checks.stock`` inside ``append_events``' callback) sees every earlier
event."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core import clock
from app.core.errors import Conflict, NotFound
from app.store.db import begin_write
from app.store.decisions import canonical
from app.store.models import ApprovalBatch, StockEvent


@dataclass(frozen=True)
class NewBatch:
    id: str
    document_no: str
    approved_on: dt.date
    jurisdiction: str
    area_mu: str
    document: dict


def get_batch(session: Session, batch_id: str) -> ApprovalBatch:
    row = session.get(ApprovalBatch, batch_id)
    if row is None:
        raise NotFound(f"批次 {batch_id} 未登记 (batch {batch_id} not found)")
    return row


def batch_document(row: ApprovalBatch) -> dict:
    return json.loads(row.document)


def register_batch(session: Session, b: NewBatch) -> tuple[ApprovalBatch, bool]:
    body = canonical(b.document)
    begin_write(session)
    try:
        existing = session.get(ApprovalBatch, b.id)
        if existing is not None:
            session.rollback()
            if existing.document == body:
                return existing, False
            raise Conflict(f"批次 {b.id} 已登记且内容不同 (batch {b.id} already registered with other content)")
        session.add(ApprovalBatch(id=b.id, document_no=b.document_no, approved_on=b.approved_on,
                                  jurisdiction=b.jurisdiction, area_mu=b.area_mu, created_at=clock.utcnow(), document=body))
        session.commit()
    except IntegrityError:
        session.rollback()
        return register_batch(session, b)
    except BaseException:
        session.rollback()
        raise
    return get_batch(session, b.id), True


def batches(session: Session, prefix: str | None = None) -> list[ApprovalBatch]:
    q = select(ApprovalBatch).order_by(col(ApprovalBatch.approved_on), col(ApprovalBatch.id))
    if prefix:
        q = q.where(col(ApprovalBatch.jurisdiction).startswith(prefix))
    return list(session.exec(q).all())


def events(session: Session, batch_ids: list[str]) -> dict[str, list[dict]]:
    """Each batch's events in append order, each with its ``seq``."""
    out: dict[str, list[dict]] = {b: [] for b in batch_ids}
    if batch_ids:
        for r in session.exec(select(StockEvent).where(col(StockEvent.batch_id).in_(sorted(set(batch_ids))))
                              .order_by(col(StockEvent.batch_id), col(StockEvent.seq))).all():
            out[r.batch_id].append({**json.loads(r.body), "seq": r.seq})
    return out


def append_events(session: Session, batch_id: str, new: list[dict],
                  check: Callable[[ApprovalBatch, list[dict], list[dict]], None]) -> tuple[list[dict], list[dict]]:
    """Append ``new`` (plain dicts with type, parcel, on) after ``check(batch, stored, new)``
    passed, all or nothing, under the batch row's lock.  An event whose ``id`` is stored already
    with the same content is not stored again (returned second); with other content: Conflict."""
    begin_write(session)
    try:
        row = session.exec(select(ApprovalBatch).where(ApprovalBatch.id == batch_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"批次 {batch_id} 未登记 (batch {batch_id} not found)")
        stored = events(session, [batch_id])[batch_id]
        by_id = {e["id"]: e for e in stored if e.get("id")}
        fresh, repeated = [], []
        for e in new:
            old = by_id.get(e.get("id")) if e.get("id") else None
            if old is None:
                fresh.append(e)
            elif not set(old) - set(e) - {"seq", "area_mu"} and all(old.get(k) == v for k, v in e.items()):
                repeated.append(old)          # a retry of a stored event: not stored twice
            else:
                raise Conflict(f"事件 {e['id']} 已记录且内容不同 (event {e['id']} already recorded with other content)")
        if len({e["id"] for e in fresh if e.get("id")}) != sum(1 for e in fresh if e.get("id")):
            raise Conflict("同一请求中事件 id 重复 (an event id twice in one request)")
        check(row, stored, fresh)
        new = fresh
        seq = max((e["seq"] for e in stored), default=0)
        now = clock.utcnow()
        out = []
        for e in new:
            seq += 1
            session.add(StockEvent(batch_id=batch_id, seq=seq, parcel_code=e["parcel"], type=e["type"],
                                   on=dt.date.fromisoformat(e["on"]), created_at=now, body=canonical(e)))
            out.append({**e, "seq": seq})
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"批次 {batch_id} 的事件刚被修改，请重试 (events changed concurrently)") from None
    except BaseException:
        session.rollback()
        raise
    return out, repeated
