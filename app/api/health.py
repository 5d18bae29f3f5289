"""Liveness and readiness: /healthz checks the database too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import __version__
from app.access.deps import EngineDep
from app.store.db import get_engine

router = APIRouter(tags=["health"])

# A load balancer's probe must get an answer even when the database hangs (a dead host
# drops packets: the TCP connect alone can take minutes).  The probe runs on its own
# two threads and is abandoned after PROBE_TIMEOUT; a stuck probe occupies a thread of
# this pool, never one of the request pool, and later probes queue behind it and time out.
PROBE_TIMEOUT = 2.0
_PROBES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


@cache
def migration_head() -> str | None:
    """The newest migration this build knows (what start-up upgrades to)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.store.migrate import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def _probe() -> str | None:
    """The database's migration revision; raises if the database does not answer."""
    engine = get_engine()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # A server that accepts the connection but stalls (locks, overload) ends here.
            conn.execute(text(f"SET LOCAL statement_timeout = {int(PROBE_TIMEOUT * 1000)}"))
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@router.get("/healthz", responses={503: {"description": "the database does not answer (Retry-After: 5)"}})
def healthz(engine: EngineDep) -> JSONResponse:
    revision = None
    try:
        revision = _PROBES.submit(_probe).result(timeout=PROBE_TIMEOUT)
        db = "ok"
    except FutureTimeout:
        db = f"unavailable: no answer within {PROBE_TIMEOUT:g} s"
    except Exception as e:   # noqa: BLE001 — report, never raise, from a health probe
        db = f"unavailable: {type(e).__name__}"
    head = migration_head()
    body = {"status": "ok" if db == "ok" else "degraded", "database": db, "engine": engine.name,
            "version": __version__,
            # revision ≠ head: another build migrated this database further (or not yet).
            "migration": {"revision": revision, "head": head, "current": revision == head}}
    return JSONResponse(body, status_code=200 if db == "ok" else 503,
                        headers={} if db == "ok" else {"Retry-After": "5"})
