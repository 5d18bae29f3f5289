"""Checks: proposals, one or a batch."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EngineDep, SessionDep
from app.api.schemas import BatchResult, ProposalVerdict
from app.checks import proposal
from app.checks.inputs import ProposalRequest

router = APIRouter(prefix="/v1/checks", tags=["checks"])

MAX_BATCH = 10_000


class ProposalBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ProposalRequest] = Field(min_length=1, max_length=MAX_BATCH)


@router.post("/proposal", response_model=ProposalVerdict)
def check_proposal(req: ProposalRequest, session: SessionDep, engine: EngineDep) -> dict:
    return proposal.run(session, req, engine)


@router.post("/proposal:batch", response_model=BatchResult)
def check_proposal_batch(batch: ProposalBatch, session: SessionDep, engine: EngineDep) -> dict:
    items = proposal.run_batch(session, batch.items, engine)
    return {"count": len(items), "items": items}
