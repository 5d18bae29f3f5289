"""Tax records posted by the tax system (docs/domain.md): batches in, history out.

Each record carries the region of the tax authority that reported it (``tax_region``; default:
characters 3–8 of the USCC).  A tax_system key with a jurisdiction may post only records whose
region is inside it: any other record refuses the whole batch with 403, each such record named
by its path (``records.N.tax_region``; by sheet row for the .xlsx), nothing stored.  Reads show a
key only the rows whose region it sees (``app.checks.visibility``)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from app.access.auth import TAX_POST, Caller, ReadCaller, require
from app.access.deps import SessionDep, inline_defs
from app.checks import tax_records
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH, TaxView
from app.core.errors import InputError, Problem
from app.core.gc import gc_paused
from app.formats import excel
from app.observability import metrics
from app.schemas import tax as tax_in
from app.schemas.responses.common import OUT
from app.schemas.responses.tax import TaxBatchSummary, TaxHistory
from app.store import tax

router = APIRouter(prefix="/v1/tax-records", tags=["tax"])


async def _raw_body(request: Request) -> bytes:
    return await request.body()


_BODY_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": inline_defs(tax_in.BATCH.json_schema())}}}}


def _json(body: dict, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json")


PosterCaller = Annotated[Caller, Depends(require(*TAX_POST))]


def _refuse_outside(problems: list[Problem]) -> None:
    if problems:
        raise HTTPException(403, [p.as_dict() for p in problems])


@router.post("", status_code=201, openapi_extra=_BODY_SCHEMA, response_model=TaxBatchSummary,
             responses={200: {"model": TaxBatchSummary, "description": "the same batch was stored before: its stored summary"},
                        403: {"description": "records whose tax_region is outside the key's jurisdiction, each "
                                             "with its path; nothing stored"},
                        409: {"description": "the batch id was used for other content"},
                        422: {"description": "invalid records: every problem with its path; nothing stored"}})
def post_batch(session: SessionDep, caller: PosterCaller, body: Annotated[bytes, Depends(_raw_body)]) -> Response:
    """One posting of the tax system: up to 100,000 records, one transaction, idempotent on
    ``batch_id``.  The body is validated here rather than by FastAPI, so that a duplicate
    (uscc, year) is reported together with the field problems.  ``tax_region`` (optional, per
    record): the reporting tax authority's division code; a key with a jurisdiction may post
    only records inside it (403 naming the others)."""
    view = TaxView.of(caller)
    with gc_paused():
        parsed = tax_in.parse_batch(body)
        _refuse_outside(tax_records.outside(parsed, view))
        summary, created = tax_records.post(session, parsed)
    if not view.unlimited:
        summary = {**summary, **_scoped(tax.batch_summary(session, summary["batch_id"], view.sees))}
    metrics.observe_batch("tax_records", summary["count"])
    return _json(summary, 201 if created else 200)


@router.post(":xlsx", status_code=201, response_model=TaxBatchSummary,
             responses={200: {"model": TaxBatchSummary, "description": "the same batch was stored before"},
                        409: {"description": "batch id reused"},
                        403: {"description": "rows whose region is outside the key's jurisdiction; nothing stored"},
                        422: {"description": "bad rows, each with its row number; nothing stored"}})
async def post_batch_xlsx(session: SessionDep, caller: PosterCaller,
                          batch_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")],
                          file: UploadFile = File(...)) -> Response:
    """Tax records from an .xlsx sheet (统一社会信用代码, 年度, 实缴税额（万元）, 政策性退税（万元）,
    主管税务机关行政区划代码 optional); the same rules as the JSON batch, with problems reported by sheet row."""
    from app.api.checks import parse_upload, read_upload

    parsed, row_numbers = await parse_upload(_sheet_records, await read_upload(file), batch_id)
    view = TaxView.of(caller)
    _refuse_outside([excel.by_row(p, row_numbers, "records") for p in tax_records.outside(parsed, view)])
    summary, created = await run_in_threadpool(tax_records.post, session, parsed)
    if not view.unlimited:
        summary = {**summary, **_scoped(tax.batch_summary(session, summary["batch_id"], view.sees))}
    metrics.observe_batch("tax_records", summary["count"])
    return _json(summary, 201 if created else 200)


def _sheet_records(data: bytes, batch_id: str) -> tuple[dict, list[int]]:
    # The worker's answer — 100,000 validated records — is unpickled without cyclic collections
    # (each would rescan the whole heap while holding the GIL).
    with gc_paused():
        return excel.tax_records(data, batch_id)


def _scoped(summary: dict) -> dict:
    return {k: summary[k] for k in ("unknown_enterprises", "invalid_check_characters")}


@router.get("/batches/{batch_id}", response_model=TaxBatchSummary, **OUT)
def get_batch(batch_id: str, session: SessionDep, caller: ReadCaller) -> dict:
    """A batch's summary: counts and the codes it could not match, no amounts.  A key with a
    jurisdiction sees in each list only the USCCs with a row reported by a region inside it, and
    ``withheld``: how many others there are.  The tax system posts and cannot read, not even its
    own batches."""
    view = TaxView.of(caller)
    return tax.batch_summary(session, batch_id, None if view.unlimited else view.sees)


@router.get("", response_model=TaxHistory, **OUT)
def get_history(session: SessionDep, caller: ReadCaller,
                uscc: Annotated[str, Query(min_length=1, max_length=64, description="统一社会信用代码")],
                year: Annotated[int | None, Query(ge=tax_in.MIN_YEAR, le=tax_in.MAX_YEAR)] = None) -> dict:
    """An enterprise's tax records, every row (corrections and the rows they superseded),
    by year and in the order stored.  A key with a jurisdiction sees the rows reported by a
    region inside it (``tax_region``); each other row says only its year and ``withheld``
    (不在本辖区权限内), and ``withheld`` counts them."""
    code = tax_in.normalise_uscc(uscc)
    if not tax_in.uscc_well_formed(code):
        raise InputError([Problem("uscc", "统一社会信用代码格式无效 (18 characters from 0-9 and A-Z without I, O, S, V, Z)")])
    view = TaxView.of(caller)
    rows = [r if view.sees(r["tax_region"]) else
            {"year": r["year"], "current": r["current"], "status": WITHHELD_STATUS, "withheld": True,
             "message": WITHHELD_ZH}
            for r in tax.history(session, code, year)]
    withheld = sum(1 for r in rows if r.get("withheld"))
    return {"uscc": code, "year": year, "count": len(rows) - withheld, "withheld": withheld, "records": rows}
