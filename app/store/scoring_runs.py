"""Stored scoring runs, looked up by year and population (the rows are written by
``app.checks.scoring.run`` with their decision)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.store.models import ScoringRun


def run_ids_for(session: Session, year: int, enterprise_id: str) -> list[str]:
    """The runs for ``year`` whose stored document names ``enterprise_id``, oldest first."""
    q = (select(ScoringRun.id).where(ScoringRun.year == year, ScoringRun.document.contains(enterprise_id))
         .order_by(ScoringRun.created_at))
    return list(session.execute(q).scalars())
