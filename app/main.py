"""The ASGI app: ``app.main:app``."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session

from app import __version__, web
from app.access.auth import check_startup as check_keys
from app.api import checks, contracts, decisions, exports, health, limits, metrics, parks, rulesets, scoring, tax
from app.api import law as law_api
from app.api.checks import MAX_BATCH
from app.checks import law
from app.checks.proposal import normalise
from app.core.errors import Conflict, InputError, NotFound, Problem, TooLarge, clip
from app.engine import selected
from app.engine.durable import EngineError
from app.observability import logging as obs_logging
from app.observability import metrics as obs_metrics
from app.observability.middleware import ObservabilityMiddleware
from app.schemas.contract import EVENT_TYPES
from app.schemas.proposal import ProposalRequest, proposal_problems
from app.store import rulesets as ruleset_store
from app.store.db import database_url, get_engine
from app.store.db import error_types as db_error_types
from app.store.db import unavailable as db_unavailable
from app.store.migrate import startup_lock
from app.web import security as web_security

log = logging.getLogger("standard_land")
# Here rather than in the CLI, so that `uvicorn app.main:app` logs the same way.
obs_logging.configure()


def startup() -> None:
    engine = get_engine()
    obs_metrics.watch_pool()
    obs_metrics.forget_dead_workers()
    with startup_lock(engine), Session(engine) as session:
        errors = ruleset_store.load_bundled(session)
        errors += law.load_bundled(session)
        ruleset_store.registry(session)
    log.info("standard-land %s: database %s, engine %s, %d bundled rule-set problems", __version__,
             database_url().split("@")[-1], selected().name, len(errors))
    check_keys()    # open mode: a loud warning, or a refusal in production


@asynccontextmanager
async def lifespan(_app: FastAPI):
    startup()
    yield


app = FastAPI(
    title="standard-land",
    version=__version__,
    summary="工业用地“标准地”控制指标规则服务 — rule sets, proposal checks and decisions",
    lifespan=lifespan,
)
app.add_middleware(ObservabilityMiddleware)


def _loc_path(loc) -> str:
    parts = [str(x) for x in loc]
    if parts and parts[0] in ("body", "query", "path"):
        parts = parts[1:]
    # pydantic puts the discriminator of a tagged union into the location
    # (events.0.payment.amount); the request itself has no such level.
    parts = [p for i, p in enumerate(parts) if not (i and parts[i - 1].isdigit() and p in EVENT_TYPES)]
    return ".".join(parts)


@app.exception_handler(RequestValidationError)
async def _validation(req: Request, exc: RequestValidationError) -> JSONResponse:
    detail = []
    for e in exc.errors():
        loc = [clip(x) if isinstance(x, str) else x for x in e.get("loc", ())]
        detail.append({"loc": loc, "path": _loc_path(loc), "msg": e.get("msg"), "type": e.get("type")})
    detail += [p.as_dict() for p in _value_problems(req, exc) if p.path not in {d["path"] for d in detail}]
    return JSONResponse({"detail": detail}, status_code=422)


def _value_problems(req: Request, exc: RequestValidationError) -> list:
    """For proposals, also the value problems (units, bounds) of the fields that did parse."""
    body = exc.body
    if req.url.path == "/v1/checks/proposal" and isinstance(body, dict):
        return proposal_problems(body, ProposalRequest, normalise)
    if req.url.path == "/v1/checks/proposal:batch" and isinstance(body, dict) and isinstance(body.get("items"), list):
        out = []
        for i, item in enumerate(body["items"][:MAX_BATCH]):
            if isinstance(item, dict):
                out += [Problem(f"items.{i}.{p.path}", p.msg) for p in proposal_problems(item, ProposalRequest, normalise)]
        return out
    return []


@app.exception_handler(InputError)
async def _input(_req: Request, exc: InputError) -> JSONResponse:
    return JSONResponse({"detail": [p.as_dict() for p in exc.problems]}, status_code=422)


@app.exception_handler(TooLarge)
async def _too_large(_req: Request, exc: TooLarge) -> JSONResponse:
    return JSONResponse({"detail": [p.as_dict() | {"type": "too_large"} for p in exc.problems]}, status_code=413)


@app.exception_handler(EngineError)
async def _engine(_req: Request, exc: EngineError) -> JSONResponse:
    log.error("rule engine fault: %s", exc)
    return JSONResponse({"detail": f"rule engine fault; nothing was stored: {exc}"}, status_code=500)


@app.exception_handler(NotFound)
async def _not_found(_req: Request, exc: NotFound) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


@app.exception_handler(Conflict)
async def _conflict(_req: Request, exc: Conflict) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _db_unavailable(_req: Request, exc: Exception) -> JSONResponse:
    """The database went away (or is locked) mid-request: the transaction was rolled back, so
    the client may simply retry; other database errors stay 500s (bugs)."""
    if not db_unavailable(exc):
        raise exc
    log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    return JSONResponse({"detail": "数据库暂时不可用，请稍后重试 (database unavailable; nothing was stored, retry later)"},
                        status_code=503, headers={"Retry-After": str(DB_RETRY_AFTER)})


DB_RETRY_AFTER = 2      # seconds: pooled connections are re-established on the next checkout
for _cls in db_error_types():
    app.add_exception_handler(_cls, _db_unavailable)


app.include_router(health.router)
app.include_router(metrics.router)
app.include_router(rulesets.router)
app.include_router(checks.router)
app.include_router(decisions.router)
app.include_router(contracts.router)
app.include_router(tax.router)
app.include_router(parks.router)
app.include_router(exports.router)         # before scoring: /v1/scoring/runs/{id}.xlsx
app.include_router(scoring.router)
app.include_router(law_api.router)
app.include_router(web.router)
app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
web_security.install(app)  # headers on every response; cross-site posts refused (before the limits read the body)
limits.install(app, page=web_security.refused_page)       # after every router: it documents 404/413/415/422 on each operation
