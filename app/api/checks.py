"""Checks: proposals, one or a batch."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.access import scope_writes
from app.access.auth import WRITE, allow
from app.access.deps import EngineDep, SessionDep
from app.access.scope_writes import WriteCaller
from app.checks import proposal, proposal_batch
from app.core.config import settings
from app.core.errors import InputError, Problem, TooLarge
from app.core.gc import gc_paused
from app.engine import Engine
from app.formats import excel, workbook
from app.observability import metrics
from app.schemas.proposal import ProposalRequest, proposal_problems
from app.schemas.responses.proposal import BatchResult, ProposalVerdict
from app.store.db import get_engine


class ValueProblems(RequestValidationError):
    """A request validation error with the value problems (units, bounds) of the fields that did
    parse: the 422 lists them together with pydantic's (``app.main``'s handler adds ``problems``)."""

    def __init__(self, exc: RequestValidationError, problems: list[Problem]):
        super().__init__(exc.errors(), body=exc.body)
        self.problems = problems


def _single_problems(body: Any) -> list[Problem]:
    return proposal_problems(body, ProposalRequest, proposal.normalise) if isinstance(body, dict) else []


def _batch_problems(body: Any) -> list[Problem]:
    if not (isinstance(body, dict) and isinstance(body.get("items"), list)):
        return []
    out = []
    for i, item in enumerate(body["items"][:MAX_BATCH]):
        if isinstance(item, dict):
            out += [Problem(f"items.{i}.{p.path}", p.msg) for p in proposal_problems(item, ProposalRequest, proposal.normalise)]
    return out


class _ProposalRoute(APIRoute):
    """The proposal routes: a body pydantic refuses is also checked for value problems."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                # Looked up here, not when the route is built: the endpoints are defined below.
                problems = _VALUE_PROBLEMS.get(self.endpoint)
                if problems is None or isinstance(exc, ValueProblems):
                    raise
                raise ValueProblems(exc, problems(exc.body)) from None

        return route


router = APIRouter(prefix="/v1/checks", tags=["checks"], dependencies=allow(*WRITE), route_class=_ProposalRoute)

MAX_BATCH = 10_000
T = TypeVar("T")


class ProposalBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
        description="makes the batch idempotent: a retry with the same id and body returns the stored "
                    "decisions (replayed: true) and stores nothing; the same id with another body is 409")
    items: list[ProposalRequest] = Field(min_length=1, max_length=MAX_BATCH)


@router.post("/proposal", response_model=ProposalVerdict)
async def check_proposal(req: ProposalRequest, engine: EngineDep, caller: WriteCaller) -> Response:
    scope_writes.proposal(caller, req.jurisdiction)
    # The whole check and its append in one thread-pool call: a sync endpoint with a session
    # dependency took three hand-offs (session, endpoint, session exit), the largest cost of a
    # single check.  The verdict is written as stored (orjson) instead of being validated
    # again against ProposalVerdict, which only documents it.
    result = await anyio.to_thread.run_sync(_check_one, req, engine, limiter=_CHECK_THREADS)
    return Response(orjson.dumps(result), media_type="application/json")


# Single checks running at once per worker.  They serialise on the engine lock and the
# decision chain anyway; more threads only contend for the GIL and the locks, while the
# waiting requests queue cheaply on the event loop.
_CHECK_THREADS = anyio.CapacityLimiter(settings().check_threads)


def _check_one(req: ProposalRequest, engine: Engine) -> dict:
    with Session(get_engine()) as session:
        return proposal.run(session, req, engine)


MAX_UPLOAD = workbook.LIMITS.file_bytes     # 50 MiB


async def read_upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise TooLarge([Problem("file", f"文件超过 {MAX_UPLOAD // 1024 // 1024} MiB (file too large)")])
    return data


# Uploaded workbooks read at once per server process (app.formats.workbook bounds its worker processes
# the same way); the uploads beyond wait on the event loop, not in threads.
_UPLOAD_THREADS = anyio.CapacityLimiter(workbook.LIMITS.parses)


async def parse_upload(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` — reading an uploaded workbook (``app.formats.excel``) and what goes with it — in a
    thread: the workbook is read in a worker process, and the event loop serves other requests
    (``/healthz`` among them) meanwhile."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=_UPLOAD_THREADS)


@router.post("/proposal:xlsx", response_model=BatchResult)
async def check_proposal_xlsx(session: SessionDep, engine: EngineDep, caller: WriteCaller,
                              file: UploadFile = File(...)) -> Response:
    """A batch of proposals from an .xlsx sheet (Chinese headers accepted, units in the headers).
    Every bad row is reported with its row number; nothing is stored from a sheet with a problem."""
    # the columns of published catalog documents too; each row against the catalog in force on its as_of
    requests, rows = await parse_upload(excel.proposal_requests, await read_upload(file), True, session)
    scope_writes.proposals(caller, (r.jurisdiction for r in requests))
    try:
        items = await run_in_threadpool(proposal.run_batch, session, requests, engine)
    except InputError as e:
        raise InputError([excel.by_row(p, rows, "items") for p in e.problems]) from None
    body = {"count": len(items), "items": [{k: v for k, v in item.items() if k != "request"} for item in items]}
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json")


async def _gc_off() -> AsyncIterator[None]:
    """No cyclic GC from the body's validation to the response: 10,000 items are ~10⁶
    acyclic objects, and the collections their allocation triggers rescanned them all
    (validation 97 → 18 µs per item).  FastAPI solves dependencies before the body."""
    with gc_paused():
        yield


@router.post("/proposal:batch", response_model=BatchResult, dependencies=[Depends(_gc_off)],
             responses={409: {"description": "the batch_id was already used for another body; nothing stored"}})
def check_proposal_batch(batch: ProposalBatch, session: SessionDep, engine: EngineDep, caller: WriteCaller) -> Response:
    """Up to 10,000 proposals, one transaction.  Each item's request is stored with its
    decision (GET /v1/decisions/{id}) and not echoed here, which keeps a full batch's
    response and the worker's memory small.  With a ``batch_id``, a retry (after a timeout,
    a dropped connection, a crashed worker) returns the decisions stored the first time."""
    scope_writes.proposals(caller, (i.jurisdiction for i in batch.items))
    items, replayed = proposal_batch.run_once(session, batch.items, engine, batch.batch_id)
    metrics.observe_batch("proposal", len(items))
    body = {"count": len(items), "items": [{k: v for k, v in item.items() if k != "request"} for item in items]}
    if batch.batch_id is not None:
        body |= {"batch_id": batch.batch_id, "replayed": replayed}
    # Built here rather than re-validated against the response model: 10,000 verdicts
    # (~7 KB each); orjson writes them several times faster than json.dumps.
    return Response(orjson.dumps(body), media_type="application/json")


_VALUE_PROBLEMS: dict[Callable, Callable[[Any], list[Problem]]] = {
    check_proposal: _single_problems, check_proposal_batch: _batch_problems}
