"""API keys: create, revoke, list, look up.  Only the key's SHA-256 is stored.

A key reads ``sl_<id>_<secret>``: ``id`` is the public prefix shown by ``keys list`` and used to
revoke, ``secret`` is 32 random bytes.  Such a key cannot be guessed, so a fast hash is enough
(a slow password hash protects low-entropy secrets, and would cost milliseconds per request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from app.core import clock
from app.core.errors import InputError, NotFound, Problem
from app.store.db import begin_write
from app.store.models import ApiKey

ROLES = ("rule_admin", "officer", "tax_system", "auditor")
PREFIX = "sl_"
JURISDICTION = re.compile(r"^\d{6}$")
MAX_LABEL = 200


@dataclass(frozen=True)
class KeyInfo:
    """A stored key without its hash."""

    id: str
    role: str
    jurisdiction: str | None
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    def as_dict(self) -> dict:
        return {"id": self.id, "role": self.role, "jurisdiction": self.jurisdiction, "label": self.label,
                "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_id(secret: str) -> str | None:
    """The id part of a presented key, or None if it is not shaped like one of ours."""
    if not secret.startswith(PREFIX):
        return None
    kid, sep, rest = secret[len(PREFIX):].partition("_")
    return kid if sep and rest and 0 < len(kid) <= 16 else None


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(row.id, row.role, row.jurisdiction, row.label, _aware(row.created_at), _aware(row.revoked_at))


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives naive datetimes back; every stored time is UTC.
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


def create(session: Session, role: str, jurisdiction: str | None = None, label: str = "") -> tuple[KeyInfo, str]:
    """Store a new key; returns it and the secret, which is shown this once and never stored."""
    problems = []
    if role not in ROLES:
        problems.append(Problem("role", f"未知角色 unknown role {role!r}; one of {', '.join(ROLES)}"))
    if jurisdiction is not None and not JURISDICTION.match(jurisdiction):
        problems.append(Problem("jurisdiction", "行政区划代码应为 6 位数字 (a 6-digit division code)"))
    if len(label) > MAX_LABEL:
        problems.append(Problem("label", f"at most {MAX_LABEL} characters"))
    if problems:
        raise InputError(problems)
    kid = secrets.token_hex(6)
    secret = f"{PREFIX}{kid}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=kid, key_hash=digest(secret), role=role, jurisdiction=jurisdiction, label=label,
                 created_at=clock.utcnow())
    session.add(row)
    session.commit()
    session.refresh(row)
    return _info(row), secret


def revoke(session: Session, kid: str) -> KeyInfo:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time)."""
    begin_write(session)     # read-then-write on SQLite: hold the write lock from the start
    row = session.get(ApiKey, kid)
    if row is None:
        session.rollback()
        raise NotFound(f"no API key with id {kid!r}")
    if row.revoked_at is None:
        row.revoked_at = clock.utcnow()
        session.add(row)
        session.commit()
        session.refresh(row)
    return _info(row)


def listing(session: Session) -> list[KeyInfo]:
    return [_info(r) for r in session.exec(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()]


def any_active(session: Session) -> bool:
    return session.exec(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)).first() is not None


def lookup(session: Session, secret: str) -> KeyInfo | None:
    """The active key this secret belongs to, or None (unknown, malformed or revoked)."""
    kid = key_id(secret)
    if kid is None:
        return None
    row = session.get(ApiKey, kid)
    if row is None or row.revoked_at is not None:
        return None
    return _info(row) if hmac.compare_digest(row.key_hash, digest(secret)) else None
