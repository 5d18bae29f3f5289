"""Stock-land requests (issue 14): an approval batch (批次) with the parcels carved out of it, and
the events recorded against a batch parcel — supply (full or partial), 批文清理, the disposal
measures, and the 已批未供即用 rectification.  Figures are computed in ``app.checks.stock``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.contract import Quantity

BATCH_ID = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"

EventType = Literal["supplied", "cleared", "started", "reclaimed", "swapped", "extension", "temporary_use",
                    "used_before_supply", "rectification_step"]
Route = Literal["industrial_pre_cutoff", "public_allocation", "township_collective"]
Step = Literal["determined", "accepted", "filed", "procedures_completed", "allocation_decision", "contract_signed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BatchParcelIn(_Strict):
    code: str = Field(min_length=1, max_length=64, description="宗地代码 / 地块编号 within the batch")
    area: Quantity = Field(description="area carved out of the batch (an area unit)")
    use: Literal["industrial", "public_service", "infrastructure", "commercial", "residential", "other"] = "industrial"
    location: str | None = Field(default=None, max_length=500)


class BatchIn(_Strict):
    """An approval batch: 批准文号, approval date, approved area, the county that holds it, the
    parcels carved out of it so far (their areas may not exceed the batch's)."""

    id: str = Field(pattern=BATCH_ID, description="the service's id of the batch")
    document: str = Field(min_length=1, max_length=200, description="批准文号")
    approved_on: dt.date
    approver: Literal["state_council", "province", "other"] = "province"
    kind: Literal["urban_batch", "single_site"] = "urban_batch"
    jurisdiction: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code of the county (city district) holding the batch")
    area: Quantity = Field(description="approved construction-land area of the batch")
    parcels: list[BatchParcelIn] = Field(default_factory=list, max_length=5000)
    note: str | None = Field(default=None, max_length=1000)


class DocRef(_Strict):
    number: str = Field(min_length=1, max_length=200)
    date: dt.date | None = None
    title: str | None = Field(default=None, max_length=500)


class EventIn(_Strict):
    """One event of a batch parcel.  ``area`` (supply, clearing) defaults to all the parcel's
    remaining 批而未供 area; partial supply gives it."""

    id: str | None = Field(default=None, pattern=BATCH_ID,
                           description="the client's id of the event: a retry with the same id and content is not stored twice")
    type: EventType
    parcel: str = Field(min_length=1, max_length=64)
    on: dt.date
    area: Quantity | None = None
    method: Literal["transfer", "allocation"] | None = Field(default=None, description="supplied: 出让 or 划拨")
    contract_no: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, min_length=1, max_length=2000, description="cleared: why the approval is not used")
    decision: DocRef | None = Field(default=None, description="决定书/协议/批准文件 (cleared, reclaimed, swapped, a step)")
    until: dt.date | None = Field(default=None, description="extension / temporary_use: the end")
    route: Route | None = Field(default=None, description="used_before_supply: the plan's rectification route")
    user: str | None = Field(default=None, max_length=200, description="used_before_supply: who uses the land")
    used_since: dt.date | None = Field(default=None, description="used_before_supply: since when the land is used")
    expropriation_approved_on: dt.date | None = Field(default=None,
                                                      description="township_collective: 征收报批/用地批准 date")
    step: Step | None = Field(default=None, description="rectification_step: which step was done")


class EventsIn(_Strict):
    events: list[EventIn] = Field(min_length=1, max_length=500)
