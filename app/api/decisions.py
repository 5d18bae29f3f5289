"""Decisions: read, replay, verify the chain."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import EngineDep, SessionDep
from app.api.schemas import ChainReport, Replay
from app.checks.replay import replay
from app.store import decisions

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])


@router.get("/verify", response_model=ChainReport)
def verify(session: SessionDep) -> dict:
    return decisions.verify(session)


@router.get("/{decision_id}")
def get_decision(decision_id: str, session: SessionDep) -> dict:
    return decisions.get(session, decision_id)


@router.post("/{decision_id}/replay", response_model=Replay)
def replay_decision(decision_id: str, session: SessionDep, engine: EngineDep) -> dict:
    return replay(session, decision_id, engine)
