"""Checks: proposals, one or a batch."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response
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
def check_proposal_batch(batch: ProposalBatch, session: SessionDep, engine: EngineDep) -> Response:
    """Up to 10,000 proposals, one transaction.  Each item's request is stored with its
    decision (GET /v1/decisions/{id}) and not echoed here, which keeps a full batch's
    response and the worker's memory small."""
    items = proposal.run_batch(session, batch.items, engine)
    body = {"count": len(items), "items": [{k: v for k, v in item.items() if k != "request"} for item in items]}
    # Built here rather than re-validated against the response model: 10,000 verdicts.
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json")
