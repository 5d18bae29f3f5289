"""Tax records posted by the tax system (lifecycle.md §9): batches in, history out."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from app import excel
from app.api import scope
from app.api.auth import READ, TAX_POST, ReadCaller, allow
from app.api.deps import SessionDep, inline_defs
from app.errors import InputError, Problem
from app.observability import metrics
from app.store import tax

router = APIRouter(prefix="/v1/tax-records", tags=["tax"])


async def _raw_body(request: Request) -> bytes:
    return await request.body()


_BODY_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": inline_defs(tax.BATCH.json_schema())}}}}


def _json(body: dict, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json")


@router.post("", status_code=201, openapi_extra=_BODY_SCHEMA, dependencies=allow(*TAX_POST),
             responses={200: {"description": "the same batch was stored before: its stored summary"},
                        409: {"description": "the batch id was used for other content"},
                        422: {"description": "invalid records: every problem with its path; nothing stored"}})
def post_batch(session: SessionDep, body: Annotated[bytes, Depends(_raw_body)]) -> Response:
    """One posting of the tax system: up to 100,000 records, one transaction, idempotent on
    ``batch_id``.  The body is validated here rather than by FastAPI, so that a duplicate
    (uscc, year) is reported together with the field problems."""
    summary, created = tax.post_batch(session, body)
    metrics.observe_batch("tax_records", summary["count"])
    return _json(summary, 201 if created else 200)


@router.post(":xlsx", status_code=201, dependencies=allow(*TAX_POST),
             responses={200: {"description": "the same batch was stored before"}, 409: {"description": "batch id reused"},
                        422: {"description": "bad rows, each with its row number; nothing stored"}})
async def post_batch_xlsx(session: SessionDep,
                          batch_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")],
                          file: UploadFile = File(...)) -> Response:
    """Tax records from an .xlsx sheet (统一社会信用代码, 年度, 实缴税额（万元）, 政策性退税（万元）);
    the same rules as the JSON batch, with problems reported by sheet row."""
    from app.api.checks import parse_upload, read_upload

    parsed = await parse_upload(_sheet_records, await read_upload(file), batch_id)
    summary, created = await run_in_threadpool(tax.ingest, session, parsed)
    metrics.observe_batch("tax_records", summary["count"])
    return _json(summary, 201 if created else 200)


def _sheet_records(data: bytes, batch_id: str) -> dict:
    # The worker's answer — 100,000 validated records — is unpickled without cyclic collections
    # (each would rescan the whole heap while holding the GIL).
    with tax.gc_paused():
        return excel.tax_records(data, batch_id)


@router.get("/batches/{batch_id}", dependencies=allow(*READ))
def get_batch(batch_id: str, session: SessionDep) -> dict:
    """A batch's summary: counts and the codes it could not match, no amounts (so no
    jurisdiction filter).  The tax system posts and cannot read, not even its own batches."""
    return tax.batch_summary(session, batch_id)


@router.get("")
def get_history(session: SessionDep, caller: ReadCaller,
                uscc: Annotated[str, Query(min_length=1, max_length=64, description="统一社会信用代码")],
                year: Annotated[int | None, Query(ge=tax.MIN_YEAR, le=tax.MAX_YEAR)] = None) -> dict:
    """An enterprise's tax records, every row (corrections and the rows they superseded),
    by year and in the order stored.  A key with a jurisdiction gets 403 for an enterprise whose
    code was issued elsewhere (``app.api.scope``)."""
    code = tax.normalise_uscc(uscc)
    if not tax.uscc_well_formed(code):
        raise InputError([Problem("uscc", "统一社会信用代码格式无效 (18 characters from 0-9 and A-Z without I, O, S, V, Z)")])
    scope.enterprise(caller, code)
    rows = tax.history(session, code, year)
    return {"uscc": code, "year": year, "count": len(rows), "records": rows}
