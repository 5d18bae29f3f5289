"""Stock land (issue 14): approval batches, their parcel events, the 已批未供即用 rectification
ledger and 增存挂钩 (thin routers over ``app.checks.stock``).

Access: writes need an officer key whose jurisdiction covers the batch's county (403); reads need
an officer or auditor key, a single batch outside the key's jurisdiction is refused (403), lists
hold only the batches inside it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, HTTPException, Query, Response

from app.access import scope_writes
from app.access.auth import READ, WRITE, ReadCaller, allow, scope_prefix
from app.access.deps import SessionDep
from app.access.scope_writes import WriteCaller
from app.checks import stock
from app.core import clock
from app.formats import excel
from app.schemas.responses.common import OUT
from app.schemas.responses.stock import BatchFigures, BatchList, BatchRegistration, EventsResult, Linkage, Rectification
from app.schemas.stock import BatchIn, EventsIn
from app.store import stock as store

router = APIRouter(tags=["stock land"])

AS_OF = Query(None, description="the date of the figures; default today")
JUR = Query(None, pattern=r"^\d{6}$", description="only batches of this division (GB/T 2260 code prefix)")


def _prefix(caller, jurisdiction: str | None) -> str | None:
    """The narrower of the key's scope and the requested division."""
    mine = scope_prefix(caller.jurisdiction) if caller.jurisdiction else None
    asked = scope_prefix(jurisdiction) if jurisdiction else None
    if mine and asked and not (asked.startswith(mine) or mine.startswith(asked)):
        raise HTTPException(403, f"jurisdiction {jurisdiction} is outside this key's jurisdiction {caller.jurisdiction} "
                                 f"(只能查看本辖区)")
    if mine and asked:
        return asked if len(asked) > len(mine) else mine
    return asked or mine


@router.post("/v1/stock/batches", status_code=201, dependencies=allow(*WRITE), response_model=BatchRegistration, **OUT,
             responses={200: {"model": BatchRegistration, "description": "identical batch already registered"},
                        409: {"description": "same id with other content"},
                        422: {"description": "invalid input: every problem with its path"}})
def register_batch(req: BatchIn, session: SessionDep, response: Response, caller: WriteCaller) -> dict:
    """Register an approval batch (批准文号, date, area, county) and the parcels carved out of it."""
    scope_writes.land(caller, req.jurisdiction, f"batch {req.id}")
    existing = session.get(store.ApprovalBatch, req.id)
    if existing is not None:
        scope_writes.land(caller, existing.jurisdiction, f"batch {req.id}")
    out, created = stock.register_batch(session, req)
    response.status_code = 201 if created else 200
    return {**out, "created": created}


@router.get("/v1/stock/batches", dependencies=allow(*READ), response_model=BatchList, **OUT)
def list_batches(session: SessionDep, caller: ReadCaller, as_of: dt.date | None = AS_OF,
                 jurisdiction: str | None = JUR) -> dict:
    """Every batch in scope with its 批而未供 area, age and 消化 priority on ``as_of``."""
    return stock.batch_list(session, as_of or clock.today(), _prefix(caller, jurisdiction))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX = {200: {"content": {XLSX: {}}, "description": "the .xlsx file"}}
_AREA_COLUMNS = ("面积", "批准面积", "已供面积", "批文清理面积", "批而未供面积", "未供面积")


def _sheet(title: str, sheet: str, columns: list[str], flat: list[dict], notes: list[str], filename: str) -> Response:
    cols = [excel.split_header(h) for h in columns]
    area = [i for i, (h, u) in enumerate(cols) if u == "亩" and h in _AREA_COLUMNS]
    rows = [[Decimal(r[h]) if i in area and r[h] is not None else r[h] for i, h in enumerate(columns)] for r in flat]
    totals: dict[int, object] = {1: f"共 {len(rows)} 项"}
    for i in area:
        totals[i] = sum((r[i] for r in rows if r[i] is not None), Decimal(0))
    data = excel.write_table(title, cols, rows, totals=totals, sheet=sheet, notes=notes)
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/v1/stock/batches.xlsx", dependencies=allow(*READ), response_class=Response, responses=_XLSX)
def batches_xlsx(session: SessionDep, caller: ReadCaller, as_of: dt.date | None = AS_OF,
                 jurisdiction: str | None = JUR) -> Response:
    """The batch list as a printable sheet (the same figures as ``GET /v1/stock/batches``)."""
    on = as_of or clock.today()
    listing = stock.batch_list(session, on, _prefix(caller, jurisdiction))
    notes = ["批而未供 = 批准面积 − 已供面积 − 批文清理面积（未划分地块的面积计入批而未供）；批准年限按民法典期间规则计整年。",
             "消化优先的年限取自存量土地参数文件（示例值时已在文件中标注）。"]
    return _sheet(f"批而未供批次台账（截至 {on}）", "批次台账", stock.BATCH_COLUMNS, stock.flat_batches(listing), notes,
                  f"stock-batches-{on}.xlsx")


@router.get("/v1/stock/rectification.xlsx", dependencies=allow(*READ), response_class=Response, responses=_XLSX)
def rectification_xlsx(session: SessionDep, caller: ReadCaller, as_of: dt.date | None = AS_OF,
                       jurisdiction: str | None = JUR) -> Response:
    """The 已批未供即用 rectification ledger as a printable sheet (as ``GET /v1/stock/rectification``)."""
    on = as_of or clock.today()
    led = stock.rectification(session, on, _prefix(caller, jurisdiction))
    notes = [f"逾期未完成 {led['overdue_count']} 宗；完成时限取自各宗地列入台账时生效的存量土地参数文件。"]
    return _sheet(f"已批未供即用整改台账（截至 {on}）", "整改台账", stock.RECT_COLUMNS, stock.flat_rectification(led), notes,
                  f"stock-rectification-{on}.xlsx")


@router.get("/v1/stock/batches/{batch_id}", dependencies=allow(*READ), response_model=BatchFigures, **OUT)
def get_batch(batch_id: str, session: SessionDep, caller: ReadCaller, as_of: dt.date | None = AS_OF) -> dict:
    """One batch: supply parcel by parcel (partial supply included), 批文清理, 批而未供 and its age."""
    row = store.get_batch(session, batch_id)
    if not caller.sees_jurisdiction(row.jurisdiction):
        raise HTTPException(403, f"batch {batch_id} is in jurisdiction {row.jurisdiction}, outside this key's "
                                 f"jurisdiction {caller.jurisdiction} (只能查看本辖区)")
    return stock.batch_view(session, batch_id, as_of or clock.today())


@router.post("/v1/stock/batches/{batch_id}/events", status_code=201, dependencies=allow(*WRITE),
             response_model=EventsResult, **OUT,
             responses={422: {"description": "invalid events (more supplied than approved, a step out of order …)"}})
def post_events(batch_id: str, req: EventsIn, session: SessionDep, caller: WriteCaller) -> dict:
    """Append events of the batch's parcels: supplied (出让/划拨, full or partial), cleared (批文清理,
    with the reason), started / extension / temporary_use, used_before_supply (已批未供即用, with the
    route) and rectification_step.  All or nothing."""
    row = session.get(store.ApprovalBatch, batch_id)
    if row is not None:
        scope_writes.land(caller, row.jurisdiction, f"batch {batch_id}")
    return stock.append_events(session, batch_id, req)


@router.get("/v1/stock/rectification", dependencies=allow(*READ), response_model=Rectification, **OUT)
def rectification(session: SessionDep, caller: ReadCaller, as_of: dt.date | None = AS_OF,
                  jurisdiction: str | None = JUR) -> dict:
    """已批未供即用 rectification ledger: route, deadline, steps and status per parcel; overdue items."""
    return stock.rectification(session, as_of or clock.today(), _prefix(caller, jurisdiction))


@router.get("/v1/stock/linkage", dependencies=allow(*READ), response_model=Linkage, **OUT)
def linkage(session: SessionDep, caller: ReadCaller, year: int = Query(..., ge=1990, le=2100),
            jurisdiction: str | None = JUR) -> dict:
    """增存挂钩: per county, the quota earned by the stock disposed of in ``year``, with the parcels."""
    return stock.linkage(session, year, _prefix(caller, jurisdiction))
