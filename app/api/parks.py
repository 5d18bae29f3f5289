"""Parks, parcels, the one-parcel-one-plan ledger and the yearly evaluation (thin routers over
``app.checks.parks``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.access import scope, scope_writes
from app.access.auth import READ, WRITE, ReadCaller, allow
from app.access.deps import EngineDep, SessionDep
from app.access.scope_writes import WriteCaller
from app.checks.parks import classify, plans, registry
from app.checks.parks.evaluation import run_evaluation
from app.checks.parks.ledger import ledger as park_ledger
from app.checks.visibility import TaxView
from app.core import clock
from app.core.errors import InputError
from app.formats import excel, parcel_sheets
from app.schemas.parks import DatedName, ParcelIn, ParkIn, PlanIn
from app.schemas.responses.common import OUT
from app.schemas.responses.park_evaluation import ParkEvaluation
from app.schemas.responses.parks import (
    Ledger,
    ParcelRegistration,
    ParcelsImported,
    ParcelView,
    Park,
    ParkImportResult,
    ParkNames,
    ParkRegistration,
    PlanHistory,
    PlanVersion,
    PlanWritten,
)
from app.store import parks as parks_store

router = APIRouter(tags=["parks"])

_CREATED = {200: {"description": "identical registration already stored: nothing changed"},
            409: {"description": "same id with other content"},
            422: {"description": "invalid input: every problem with its path"}}


def _created(model: type) -> dict:
    """``_CREATED`` with the 200 answer's model (the same shape as the 201 one)."""
    return {**_CREATED, 200: {**_CREATED[200], "model": model}}


def _as_of(as_of: dt.date | None) -> dt.date:
    return as_of or clock.today()


AS_OF = Query(None, description="the date to assess (the law date); default today")


@router.post("/v1/parks", status_code=201, response_model=ParkRegistration, responses=_created(ParkRegistration),
             dependencies=allow(*WRITE), **OUT)
def register_park(req: ParkIn, session: SessionDep, response: Response, caller: WriteCaller) -> dict:
    """Register a park: id, name(s) with validity dates, jurisdiction, planned area, the target
    亩均税收 with its source, its low-efficiency rule set (rules/parks).  A key with a jurisdiction
    registers parks inside it only (403)."""
    scope_writes.new_park(session, caller, req)
    summary, created = registry.register_park(session, req)
    response.status_code = 201 if created else 200
    return {**summary, "created": created}


class ParkImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    park: ParkIn
    parcels: list[ParcelIn] = Field(default_factory=list, max_length=10_000)


@router.post("/v1/parks:import", status_code=201, response_model=ParkImportResult, responses=_created(ParkImportResult),
             dependencies=allow(*WRITE), **OUT)
def import_park(req: ParkImport, session: SessionDep, response: Response, caller: WriteCaller) -> dict:
    """A park with its parcels in one transaction, all or nothing (for spreadsheet imports).
    The park, each parcel's park and each parcel's contract must be inside the key's jurisdiction (403)."""
    scope_writes.park_import(session, caller, req.park, req.parcels)
    out = registry.register_park_with_parcels(session, req.park, req.parcels)
    created = out["park"]["created"] or any(p["created"] for p in out["parcels"])
    response.status_code = 201 if created else 200
    return out


@router.get("/v1/parks/{park_id}", response_model=Park, dependencies=allow(*READ), **OUT)
def get_park(park_id: str, session: SessionDep, as_of: dt.date | None = AS_OF) -> dict:
    """The park with the name valid on ``as_of`` and every dated name."""
    return registry.park_view(session, park_id, _as_of(as_of))


@router.post("/v1/parks/{park_id}/names", status_code=201, response_model=ParkNames, dependencies=allow(*WRITE), **OUT,
             responses={200: {"model": ParkNames, "description": "this dated name was already recorded"},
                        422: {"description": "the period overlaps another name"}})
def add_name(park_id: str, req: DatedName, session: SessionDep, response: Response, caller: WriteCaller) -> dict:
    """Add a dated name (e.g. the 2021 renaming of an 产业集聚区 as a 开发区); the open-ended
    name it follows is closed on ``valid_from``."""
    scope_writes.park(session, caller, park_id)
    out, created = registry.add_park_name(session, park_id, req)
    response.status_code = 201 if created else 200
    return {**out, "created": created}


@router.get("/v1/parks/{park_id}/ledger", response_model=Ledger, **OUT)
def ledger(park_id: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
           as_of: dt.date | None = AS_OF) -> dict:
    """一宗一策 ledger: each problem parcel with basic data, categories and its latest plan.
    Its low-efficiency predicates hold 亩均税收: 403 for a park outside the key's jurisdiction."""
    scope.park(session, caller, park_id)
    return park_ledger(session, park_id, _as_of(as_of), engine, view=TaxView.of(caller))


@router.get("/v1/parks/{park_id}/evaluation", response_model=ParkEvaluation, **OUT)
def evaluation(park_id: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
               year: int = Query(..., ge=1990, le=2100, description="the evaluated (calendar) year")) -> dict:
    """Yearly evaluation: land by category, park 亩均税收 (tax and area basis stated), distance to
    the target, the parcels pulling it down, year-over-year change.  Stored as a decision.
    Tax records throughout: 403 for a park outside the key's jurisdiction."""
    scope.park(session, caller, park_id)
    return run_evaluation(session, park_id, year, engine, view=TaxView.of(caller))


@router.post("/v1/parcels", status_code=201, response_model=ParcelRegistration, responses=_created(ParcelRegistration),
             dependencies=allow(*WRITE), **OUT)
def register_parcel(req: ParcelIn, session: SessionDep, response: Response, caller: WriteCaller) -> dict:
    """Register a parcel (宗地代码 / 不动产单元代码) in a park.  Its park and its contract must be
    inside the key's jurisdiction (403)."""
    scope_writes.parcels(session, caller, [req])
    summary, created = registry.register_parcel(session, req)
    response.status_code = 201 if created else 200
    return {**summary, "created": created}


@router.get("/v1/parcels/{code}", response_model=ParcelView, **OUT)
def get_parcel(code: str, session: SessionDep, engine: EngineDep, caller: ReadCaller,
               as_of: dt.date | None = AS_OF) -> dict:
    """The parcel, its basic data and its ``categories`` on ``as_of`` with the predicate results
    (亩均税收 among them: 403 for a parcel whose park is outside the key's jurisdiction)."""
    scope.parcel(session, caller, code)
    return classify.parcel_view(session, code, _as_of(as_of), engine, view=TaxView.of(caller))


@router.put("/v1/parcels/{code}/plan", status_code=201, response_model=PlanWritten, dependencies=allow(*WRITE), **OUT,
            responses={200: {"model": PlanWritten, "description": "same content as the latest version: no new version"},
                       409: {"description": "expected_version is not the latest version"},
                       422: {"description": "invalid plan (measure outside the list, deadline beyond a statutory cap …)"}})
def put_plan(code: str, req: PlanIn, session: SessionDep, response: Response, caller: WriteCaller) -> dict:
    """Record a new version of the parcel's disposal plan (一宗一策); earlier versions are kept."""
    scope_writes.parcel(session, caller, code)
    out, created = plans.put_plan(session, code, req)
    response.status_code = 201 if created else 200
    return {**out, "created": created}


@router.get("/v1/parcels/{code}/plan", response_model=PlanVersion, dependencies=allow(*READ), **OUT)
def get_plan(code: str, session: SessionDep) -> dict:
    return plans.latest_plan(session, code)


@router.get("/v1/parcels/{code}/plan/history", response_model=PlanHistory, dependencies=allow(*READ), **OUT)
def plan_history(code: str, session: SessionDep) -> dict:
    """Every version of the plan, oldest first, with the fields each one changed."""
    return plans.plan_history(session, code)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/v1/parks/{park_id}/parcels:xlsx", status_code=201, response_model=ParcelsImported,
             responses=_created(ParcelsImported), dependencies=allow(*WRITE), **OUT)
async def import_parcels_xlsx(park_id: str, session: SessionDep, response: Response, caller: WriteCaller,
                              file: UploadFile = File(...)) -> dict:
    """Parcels of a registered park from an .xlsx sheet (宗地代码, 面积（亩）, 用途, 供应状态, 批准文号 …).
    Every bad row is reported with its row number; nothing is stored from a sheet with a problem.
    Parcels already registered with the same content are left as they are."""
    from app.api.checks import parse_upload, read_upload

    data = await read_upload(file)
    park_doc = parks_store.park_document(parks_store.get_park(session, park_id))
    rows, numbers = await parse_upload(parcel_sheets.parcel_rows, data, park_id)
    await run_in_threadpool(scope_writes.park_import, session, caller, park_doc, rows)
    try:
        out = await run_in_threadpool(registry.register_park_with_parcels, session, park_doc, rows)
    except InputError as e:
        raise InputError([excel.by_row(p, numbers, "parcels") for p in e.problems]) from None
    created = any(p["created"] for p in out["parcels"])
    response.status_code = 201 if created else 200
    return {"park": park_id, "count": len(out["parcels"]), "created": sum(p["created"] for p in out["parcels"]),
            "unchanged": sum(not p["created"] for p in out["parcels"]), "warnings": out["warnings"]}


@router.get("/v1/parks/{park_id}/parcels.xlsx", response_class=Response, dependencies=allow(*READ),
            responses={200: {"content": {XLSX: {}}, "description": "the .xlsx file"}})
def export_parcels_xlsx(park_id: str, session: SessionDep) -> Response:
    """The park's registered parcels as a sheet that the import reads back unchanged."""
    row = parks_store.get_park(session, park_id)
    docs = [parks_store.parcel_document(p) for p in parks_store.parcels_of_park(session, park_id)]
    data = parcel_sheets.parcels_sheet(docs, f"{park_id} 宗地清单（{clock.today().isoformat()}）")
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{row.id}-parcels.xlsx"})
