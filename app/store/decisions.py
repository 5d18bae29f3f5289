"""The decision log: append-only, hash-chained (docs/decision-log.md).

Each decision's payload is canonical JSON; ``hash = sha256(prev_hash + payload)``.
Appends lock the chain head row, so concurrent writers (threads, workers,
processes on one PostgreSQL) build one consistent chain.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core import clock
from app.core.errors import NotFound
from app.observability.context import decisions_stored
from app.store.models import ChainHead, Decision

GENESIS = "0" * 64
CHAIN = "decisions"
_LOCAL = threading.Lock()      # one appender per process; the DB lock handles other processes


def canonical(obj: Any) -> str:
    """Sorted-key compact JSON, byte for byte what ``json.dumps(obj, ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))`` gives: auditors recompute it that way.

    orjson writes the same bytes 3–8× faster for plain JSON values; it writes some floats
    differently (``0.00001`` for ``1e-05``) and serialises types the standard library
    refuses, so anything but str, int, bool, None, dict, list and tuple goes the slow way."""
    fast = _by_orjson(obj)
    if fast is not None:
        return fast.decode()
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_bytes(obj: Any) -> bytes:
    """``canonical(obj)`` encoded as UTF-8, what the hash covers."""
    fast = _by_orjson(obj)
    if fast is not None:
        return fast
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _by_orjson(obj: Any) -> bytes | None:
    if _plain(obj):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except TypeError:       # a non-str key or an int beyond 64 bits: the stdlib's rules
            pass
    return None


_LEAF = (str, int, bool, type(None))
_NODE = (dict, list, tuple)


def _plain(obj: Any) -> bool:
    t = type(obj)
    if t in _LEAF:
        return True
    if t not in _NODE:
        return False
    for v in (obj.values() if t is dict else obj):
        tv = type(v)
        if tv not in _LEAF and not (tv in _NODE and _plain(v)):
            return False
    return True


def link_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def ensure_chain_head(engine) -> None:
    """Create the chain head row once (racing processes: the loser's insert is a no-op)."""
    with Session(engine) as session:
        if session.get(ChainHead, CHAIN) is None:
            session.add(ChainHead(name=CHAIN, seq=0, hash=GENESIS))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()


def _sqlite_file_lock(session: Session):
    """On SQLite, writers of the chain queue on an OS file lock (blocking, wakes at once)
    instead of SQLite's busy handler, which sleeps in growing steps under contention."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not bind.url.database or bind.url.database == ":memory:":
        return contextlib.nullcontext()
    return _FileLock(bind.url.database + ".chain-lock")


class _FileLock:
    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


# Built once: SQLAlchemy memoises a statement's cache key on the object, and building and
# keying these four anew cost more than the single check's own evaluation.
_HEAD = ChainHead.__table__
_LOCK_HEAD = update(_HEAD).where(_HEAD.c.name == CHAIN).values(seq=_HEAD.c.seq)
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.name == CHAIN)
_INSERT = insert(Decision.__table__)
_D = Decision.__table__
_SET_HEAD = update(_HEAD).where(_HEAD.c.name == CHAIN).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def append(session: Session, records: list[dict], also: Callable[[Connection, list[dict]], None] | None = None) -> list[dict]:
    """Append decisions (each a dict with kind, verdict and the body) in one transaction.

    ``also(connection, stored)`` writes rows that belong with these decisions (a scoring
    run …) in the same transaction, so both are stored or neither.
    Returns the stored payloads with ``decision_id``, ``hash``, ``prev_hash``, ``seq``."""
    out, rows = [], []
    with _LOCAL, _sqlite_file_lock(session):
        # End any read transaction first: on SQLite a read transaction cannot be upgraded
        # to a write once another process has written (SQLITE_BUSY_SNAPSHOT).
        session.rollback()
        try:
            conn = session.connection()
            # The first statement writes, so the transaction holds the write lock (SQLite)
            # or the row lock (PostgreSQL) before it reads the head: one appender at a time.
            conn.execute(_LOCK_HEAD)
            seq, prev = conn.execute(_READ_HEAD).one()
            now = clock.utcnow().isoformat(timespec="microseconds")
            for rec in records:
                seq += 1
                did = str(uuid.uuid4())
                payload_obj = {**rec, "decision_id": did, "seq": seq, "created_at": now, "prev_hash": prev}
                # Hashed as the encoder's bytes: link_hash would encode the decoded text again.
                payload_b = canonical_bytes(payload_obj)
                payload = payload_b.decode()
                h = hashlib.sha256(prev.encode() + payload_b).hexdigest()
                rows.append({"seq": seq, "id": did, "kind": rec["kind"], "verdict": rec["verdict"],
                             "created_at": now, "prev_hash": prev, "hash": h, "payload": payload})
                payload_obj["hash"] = h
                out.append(payload_obj)
                prev = h
            conn.execute(_INSERT, rows)
            conn.execute(_SET_HEAD, {"new_seq": seq, "new_hash": prev})
            if also is not None:
                also(conn, out)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    decisions_stored(out)      # metrics and the request's log line: committed decisions only
    return out


def get(session: Session, decision_id: str) -> dict:
    row = session.exec(select(Decision).where(Decision.id == decision_id)).first()
    if row is None:
        raise NotFound(f"decision {decision_id} not found")
    return {**json.loads(row.payload), "hash": row.hash}


def verify(session: Session, batch: int = 5000) -> dict:
    """Walk the chain in order; report the first broken link, if any."""
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    while True:
        # Plain rows, not ORM objects, and orjson below: an audit walks millions of links.
        q = (select(_D.c.seq, _D.c.id, _D.c.kind, _D.c.verdict, _D.c.prev_hash, _D.c.hash, _D.c.payload)
             .where(_D.c.seq > last_seq).order_by(_D.c.seq).limit(batch))
        rows = session.connection().execute(q).all()
        if not rows:
            break
        for row in rows:
            problem = None
            if row.seq != expected_seq:
                problem = (f"sequence gap: expected {expected_seq}, found {row.seq} "
                           f"(a decision was deleted or reordered)")
            elif row.prev_hash != prev:
                problem = "prev_hash does not match the previous decision's hash"
            elif link_hash(prev, row.payload) != row.hash:
                problem = "hash does not match the stored content (the decision was edited)"
            else:
                body = orjson.loads(row.payload)
                if (body.get("decision_id"), body.get("kind"), body.get("verdict"), body.get("seq")) != (
                        row.id, row.kind, row.verdict, row.seq):
                    problem = "indexed columns differ from the hashed content"
            if problem:
                return {"ok": False, "checked": count, "first_broken": {"seq": row.seq, "decision_id": row.id,
                                                                         "problem": problem}}
            prev, expected_seq, count, last_seq = row.hash, expected_seq + 1, count + 1, row.seq
    head = session.exec(select(ChainHead).where(ChainHead.name == CHAIN)).first()
    if head is not None and (head.seq != count or head.hash != prev):
        return _head_mismatch(session, head, count)
    return {"ok": True, "checked": count, "head": prev}


def _head_mismatch(session: Session, head: ChainHead, count: int) -> dict:
    """The chain links up but disagrees with its head: which end was changed."""
    said = f"chain head says {head.seq} decisions ending in {head.hash[:12]}…, found {count}"
    if count > head.seq:
        # Appends move the head in the same transaction, so these rows bypassed the log.
        first = session.exec(select(Decision.id).where(Decision.seq == head.seq + 1)).first()
        seq, did, checked, why = head.seq + 1, first, head.seq, "decisions after the chain head (inserted, forged)"
    elif count < head.seq:
        seq, did, checked, why = count + 1, None, count, "the newest decisions were deleted"
    else:
        last = session.exec(select(Decision.id).where(Decision.seq == count)).first()
        seq, did, checked, why = count, last, count - 1, "the newest decision was replaced, or the head edited"
    return {"ok": False, "checked": checked,
            "first_broken": {"seq": seq, "decision_id": did, "problem": f"{said} ({why})"}}
