"""Published versions of the other legal documents (table ``law_document``): store, find, list.

What a document means is not known here: ``app.checks.law`` validates it through its kind's parser
and hands over the canonical text and its digest.  Versions are immutable: publishing the same
(kind, id, version) again with the same digest is a no-op, with another digest a Conflict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core import clock
from app.core.errors import Conflict
from app.store.db import begin_write, is_sqlite
from app.store.models import LawDocument

_PUBLISH_LOCK = 0x5354_4C57     # "STLW": one law-document publisher at a time on PostgreSQL


@dataclass(frozen=True)
class NewVersion:
    kind: str
    doc_id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str | None
    effective_from: dt.date
    effective_to: dt.date | None
    document: str           # canonical JSON


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def summary(row: LawDocument) -> dict:
    return {"kind": row.kind, "id": row.doc_id, "version": row.version, "digest": row.digest,
            "status": row.status, "title": row.title, "jurisdiction": row.jurisdiction,
            "effective_from": row.effective_from.isoformat(),
            "effective_to": row.effective_to.isoformat() if row.effective_to else None,
            "published_at": _aware(row.published_at).isoformat(), "source": row.source}


def publish(session: Session, new: NewVersion, source: str) -> tuple[LawDocument, bool]:
    """Store a version.  Returns (row, created)."""
    begin_write(session)
    if not is_sqlite(session.get_bind()):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISH_LOCK})
    existing = version(session, new.kind, new.doc_id, new.version)
    if existing is not None:
        session.rollback()
        if existing.digest == new.digest:
            return existing, False
        raise Conflict(f"{new.kind} 文件 {new.doc_id} 版本 {new.version} 已发布且内容不同；已发布版本不可修改，"
                       f"请使用新版本号 (published versions are immutable: publish a new version) — published digest "
                       f"{existing.digest}, yours {new.digest}")
    same = by_digest(session, new.kind, new.digest)
    if same is not None:
        session.rollback()
        raise Conflict(f"相同内容已作为 {same.doc_id} 版本 {same.version} 发布 (the same content is already published "
                       f"as {same.doc_id} version {same.version})")
    row = LawDocument(kind=new.kind, doc_id=new.doc_id, version=new.version, digest=new.digest, status=new.status,
                      title=new.title, jurisdiction=new.jurisdiction, effective_from=new.effective_from,
                      effective_to=new.effective_to, published_at=clock.utcnow(), source=source,
                      document=new.document)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return publish(session, new, source)     # a concurrent publisher won the race: re-check
    session.refresh(row)
    return row, True


def version(session: Session, kind: str, doc_id: str, ver: str) -> LawDocument | None:
    return session.exec(select(LawDocument).where(LawDocument.kind == kind, LawDocument.doc_id == doc_id,
                                                  LawDocument.version == ver)).first()


def by_digest(session: Session, kind: str, digest: str) -> LawDocument | None:
    return session.exec(select(LawDocument).where(LawDocument.kind == kind, LawDocument.digest == digest)).first()


def versions(session: Session, kind: str | None = None, doc_id: str | None = None) -> list[LawDocument]:
    q = select(LawDocument)
    if kind is not None:
        q = q.where(LawDocument.kind == kind)
    if doc_id is not None:
        q = q.where(LawDocument.doc_id == doc_id)
    return list(session.exec(q.order_by(LawDocument.kind, LawDocument.doc_id, LawDocument.effective_from,
                                        LawDocument.pk)).all())
