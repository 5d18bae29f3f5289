"""Idempotent proposal batches: a ``batch_id`` names one stored batch of decisions.

The batch row is written by ``decisions.append``'s ``also`` hook, in the transaction that
stores the decisions and while the chain lock is held, so a batch is stored with its
decisions or not at all, and two requests with the same id cannot both store it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.core import clock
from app.core.errors import Conflict
from app.store.decisions import canonical
from app.store.models import Decision, ProposalBatchRecord

_PB = ProposalBatchRecord.__table__
_D = Decision.__table__
READ_CHUNK = 1000          # ids per IN (...): well under SQLite's parameter limit


class AlreadyStored(Exception):
    """Raised inside the append transaction when another request stored the batch first:
    the transaction is rolled back and the caller answers from the stored batch."""


def request_digest(items: list[dict]) -> str:
    """SHA-256 of the canonical JSON of the validated items (key order, spacing and number
    spelling of the posted body do not matter)."""
    return hashlib.sha256(canonical(items).encode("utf-8")).hexdigest()


def _stored(conn: Connection, batch_id: str) -> Any:
    return conn.execute(select(_PB.c.request_digest, _PB.c.decision_ids).where(_PB.c.batch_id == batch_id)).first()


def _check(row: Any, batch_id: str, digest: str) -> list[str]:
    if row.request_digest != digest:
        raise Conflict(f"batch {batch_id!r} was already stored with other content (digest {row.request_digest}); "
                       f"a different batch needs its own batch_id")
    return json.loads(row.decision_ids)


def find(session: Session, batch_id: str, digest: str) -> list[dict] | None:
    """The stored decisions of this batch, in item order, or None if it was never stored.
    Conflict if the id was used for another body."""
    row = _stored(session.connection(), batch_id)
    if row is None:
        return None
    return load(session, _check(row, batch_id, digest))


def load(session: Session, ids: list[str]) -> list[dict]:
    """Decision payloads (as ``decisions.append`` returned them) for these ids, in order."""
    conn = session.connection()
    found: dict[str, dict] = {}
    for i in range(0, len(ids), READ_CHUNK):
        chunk = ids[i:i + READ_CHUNK]
        for did, payload, h in conn.execute(select(_D.c.id, _D.c.payload, _D.c.hash).where(_D.c.id.in_(chunk))):
            found[did] = {**orjson.loads(payload), "hash": h}     # 10,000 payloads: ~5× json.loads
    missing = [d for d in ids if d not in found]
    if missing:
        # The batch row and its decisions are written in one transaction; only tampering gets here.
        raise RuntimeError(f"proposal batch refers to {len(missing)} decisions that are not stored, e.g. {missing[0]}")
    return [found[d] for d in ids]


def writer(batch_id: str, digest: str) -> Callable[[Connection, list[dict]], None]:
    """The ``also`` hook for ``decisions.append``: records the batch next to its decisions."""

    def write(conn: Connection, stored: list[dict]) -> None:
        if _stored(conn, batch_id) is not None:      # under the chain lock: no race with other writers
            raise AlreadyStored(batch_id)
        conn.execute(insert(_PB).values(batch_id=batch_id, request_digest=digest, count=len(stored),
                                        created_at=clock.utcnow(),
                                        decision_ids=json.dumps([s["decision_id"] for s in stored])))
    return write
