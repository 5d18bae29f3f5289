"""Decisions: read, replay, verify the chain."""

from __future__ import annotations

from fastapi import APIRouter

from app.access import scope
from app.access.auth import READ, ReadCaller, allow
from app.access.deps import EngineDep, SessionDep
from app.checks.replay import replay
from app.checks.visibility import TaxView
from app.schemas.responses.common import OUT
from app.schemas.responses.proposal import ChainReport, Decision, Replay
from app.store import decisions

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.get("/verify", response_model=ChainReport, dependencies=allow(*READ), **OUT)
def verify(session: SessionDep) -> dict:
    return decisions.verify(session)


@router.get("/{decision_id}", response_model=Decision, **OUT)
def get_decision(decision_id: str, session: SessionDep, caller: ReadCaller) -> dict:
    """A stored decision.  A key with a jurisdiction gets 403 for a performance or park evaluation
    decision outside it: those hold tax records (``app.access.scope.decision``)."""
    scope.decision(session, caller, decision_id)
    return decisions.get(session, decision_id)


@router.post("/{decision_id}/replay", response_model=Replay, **OUT)
def replay_decision(decision_id: str, session: SessionDep, engine: EngineDep, caller: ReadCaller) -> dict:
    """Re-run a stored decision with the rules and law documents pinned then; the same jurisdiction
    rule as GET.  A park evaluation is recomputed for the tax view it was stored with (which must be
    within the key's); a key with a jurisdiction sees only the differences of the enterprises of a
    scoring run in it (as GET /v1/scoring/runs/{id})."""
    scope.decision(session, caller, decision_id)
    return scope.scoring_replay(session, replay(session, decision_id, engine, TaxView.of(caller)), caller)
