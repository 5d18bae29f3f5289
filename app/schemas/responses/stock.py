"""Stock-land answers (issue 14; docs/stock-land.md): batches, their figures and events, the
已批未供即用 rectification ledger and 增存挂钩.  Fields in the order ``app.checks.stock`` writes them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas.responses.common import InOrder, Out, Quantity


class StockLaw(Out):
    """The ``stock_land`` document used (its pin) and which of its parameters are examples."""
    kind: str
    id: str
    version: str | None
    digest: str
    title: str
    status: str
    example_values: list[str]


class BatchRegistration(Out):
    id: str
    document: str
    approved_on: str
    jurisdiction: str
    area: Quantity
    parcels: int = Field(description="parcels carved out of the batch")
    created: bool


class IgnoredEvent(Out):
    type: str
    on: str
    reason: str


class BatchParcel(Out):
    code: str
    use: str | None
    area: Quantity
    supplied: Quantity
    cleared: Quantity
    unsupplied: Quantity
    disposed: bool
    disposed_area: Quantity
    disposed_on: str | None
    disposal: str = Field(description="the disposed rule's reason, in Chinese")
    ignored: list[IgnoredEvent] = Field(description="events that are no disposal (extension, temporary use …)")
    events: list[dict[str, Any]] = Field(description="the parcel's stored events up to as_of (with seq)")


class BatchFigures(Out):
    id: str
    document: str
    approved_on: str
    approver: str | None
    kind: str | None
    jurisdiction: str
    as_of: str
    approved_area: Quantity
    carved_out: Quantity
    not_carved_out: Quantity
    supplied: Quantity
    cleared: Quantity
    approved_unsupplied: Quantity = Field(description="批而未供 = approved − supplied − cleared")
    supply_rate: str
    formula: str
    age_years: int | None
    priority: bool | None
    older_than_years: int | None = None
    priority_from: str | None = None
    parameter_is_example: bool | None = None
    parcels: list[BatchParcel] | None = Field(default=None, description="absent in lists")
    law: StockLaw | None
    note: str | None


class BatchList(Out):
    as_of: str
    count: int
    approved_unsupplied: Quantity
    priority_area: Quantity
    batches: list[BatchFigures]


class EventsResult(Out):
    batch: str
    appended: list[dict[str, Any]] = Field(description="the stored events, with seq and the area in 亩 (area_mu)")
    unchanged: list[dict[str, Any]] = Field(description="retries of events already stored (same id and content)")


class DocRefOut(InOrder, Out):
    number: str
    date: str | None = None
    title: str | None = None


class RectStep(Out):
    step: str
    label: str
    done_on: str | None
    decision: DocRefOut | None


class Overdue(Out):
    batch: str
    parcel: str
    route_label: str
    deadline: str
    days_overdue: int | None
    next_step: str | None


class RectItem(Out):
    batch: str
    approval_document: str
    jurisdiction: str
    parcel: str
    use: str | None
    area: Quantity
    user: str | None
    used_since: str | None
    route: str
    route_label: str
    deadline: str
    status: str = Field(description="completed | completed_late | overdue | in_progress | open")
    status_label: str
    days_overdue: int | None
    steps: list[RectStep]
    next_step: str | None
    unsupplied: Quantity
    deadline_is_example: bool
    law: StockLaw


class Rectification(Out):
    as_of: str
    count: int
    overdue_count: int
    overdue: list[Overdue]
    items: list[RectItem]


class LinkageParcel(Out):
    batch: str
    parcel: str
    way: str
    way_label: str
    on: str
    area: Quantity
    ratio: str | None
    quota: Quantity | None


class LinkageCounty(Out):
    jurisdiction: str
    parcels: list[LinkageParcel]
    law: StockLaw | None
    missing_law: bool
    disposed_area: Quantity
    quota: Quantity | None = Field(description="null when no stock_land document was in force on 31 December")
    formula: str


class Linkage(Out):
    year: int
    counties: list[LinkageCounty]
