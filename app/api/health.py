"""Liveness and readiness: /healthz checks the database too."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import __version__
from app.api.deps import EngineDep, SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep, engine: EngineDep) -> JSONResponse:
    try:
        session.exec(text("SELECT 1"))
        db = "ok"
    except Exception as e:   # noqa: BLE001 — report, never raise, from a health probe
        db = f"unavailable: {type(e).__name__}"
    body = {"status": "ok" if db == "ok" else "degraded", "database": db, "engine": engine.name,
            "version": __version__}
    return JSONResponse(body, status_code=200 if db == "ok" else 503,
                        headers={} if db == "ok" else {"Retry-After": "5"})
