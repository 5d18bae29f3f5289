"""Use case: a batch of proposal checks, idempotent on its ``batch_id`` (``POST
/v1/checks/proposal:batch``).  A retry after a timeout, a dropped connection or a crashed
worker returns the decisions stored the first time; the same id with another body is a
Conflict (``app.store.proposal_batches``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from app.checks import proposal
from app.engine import Engine
from app.schemas.proposal import ProposalRequest
from app.store import proposal_batches


def run_once(session: Session, items: Sequence[ProposalRequest], engine: Engine,
             batch_id: str | None) -> tuple[list[dict], bool]:
    """The batch's decisions and whether they were stored by an earlier request (``replayed``).
    Without a ``batch_id`` every call checks and stores anew."""
    if batch_id is None:
        return proposal.run_batch(session, items, engine), False
    digest = proposal_batches.request_digest([i.model_dump(mode="json", exclude_none=True) for i in items])
    stored = proposal_batches.find(session, batch_id, digest)
    if stored is not None:
        return stored, True
    try:
        return proposal.run_batch(session, items, engine, also=proposal_batches.writer(batch_id, digest)), False
    except proposal_batches.AlreadyStored:
        # A concurrent request with the same id committed first; ours was rolled back.
        stored = proposal_batches.find(session, batch_id, digest)
        if stored is None:
            raise RuntimeError(f"batch {batch_id!r} reported stored but not found") from None
        return stored, True
