"""A parcel's categories on a date (批而未供, 闲置 under 53号令, 低效 under a low-efficiency rule set)
with the predicates behind them, and its disposal plan (一宗一策): shared by the ledger and the
parcel view."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from app.schemas.responses.common import Industry as IndustryRef
from app.schemas.responses.common import Open, Out, Quantity, RuleSetInForce, Transferee
from app.schemas.responses.contracts import IdleLandFinding


class Source(Out):
    """Where a predicate's parameter comes from, and how sure the rule set is of it."""
    doc: str
    article: str | None
    title: str | None
    number: str | None
    url: str | None
    confidence: str
    note: str | None


class Gate(Out):
    """When a low-efficiency predicate starts to apply (years after completion)."""
    after_completion_years: int
    completed_on: str | None
    from_: str | None = Field(None, alias="from")


# The tests behind a category, one shape per kind (each written in its own fixed key order).
# ``holds`` null: not decidable, e.g. missing data — missing is never zero.


class LowEfficiencyPredicate(Out):
    """A predicate of the park's low-efficiency rule set (rules/parks)."""
    predicate: str
    label: str
    measure: str
    op: str
    parameter: Quantity
    status: str
    holds: bool | None
    value: str | None
    threshold: str | None
    formula: str | None
    inputs: dict[str, Any] = Field(description="open: per predicate, the figures it was computed from")
    source: Source
    confidence: str
    set_by: str | None
    example: bool
    message: str
    missing: list[str] | None = None
    gate: Gate | None = None


class DatePredicate(Out):
    """An idle-land (53号令) date test: days past a deadline against 0."""
    predicate: str
    value: str | None
    op: str
    threshold: str | None
    holds: bool | None
    status: str


class ApprovalPredicate(Out):
    """批而未供: approved by the date, not supplied by then."""
    predicate: str
    holds: bool | None
    status: str
    value: str | None
    op: str
    threshold: str | None
    document: str | None = None
    message: str


class UndecidedPredicate(Out):
    """A predicate that cannot be assessed (no data)."""
    predicate: str
    status: str
    holds: bool | None
    message: str


Predicate = Annotated[LowEfficiencyPredicate | DatePredicate | ApprovalPredicate | UndecidedPredicate,
                      Field(union_mode="left_to_right")]


class Category(Out):
    """A category the parcel is in on ``as_of``."""
    category: str
    code: str
    label: str
    as_of: str
    state: str | None = None
    predicates: list[Predicate]
    finding: IdleLandFinding | None = None
    ruleset: RuleSetInForce | None = None
    tax_year: int | None = None
    message: str
    cause: str | None = None
    days_since_approval: int | None = None


class Approval(Out):
    date: str | None
    document: str | None


class ParcelContract(Out):
    contract_no: str
    signed_on: str
    transferee: Transferee
    industry: IndustryRef
    land_price: Quantity
    land_area: Quantity
    ruleset: str
    model: str
    start_by: str | None
    complete_by: str | None
    start_due: str | None
    complete_due: str | None
    started_on: str | None
    completed_on: str | None


class ParcelBasics(Out):
    """The parcel's basic data as the ledger prints it."""
    code: str
    code_kind: str
    county: str
    park: str
    park_name: str | None
    location: str | None
    area: Quantity
    area_m2: Quantity
    use: str
    use_label: str
    supply_status: str
    supply_status_label: str
    supplied_on: str | None
    approval: Approval | None
    supervision_no: str | None
    contract: ParcelContract | None


class PlanDocument(Open):
    """A recorded disposal plan as stored (the PlanIn schema of PUT …/plan, plus ``measure_label``
    and, for a measure with a statutory deadline, ``statutory_cap``).  Open: it is the stored
    document, written by the version that recorded it."""
    as_of: str
    measure: str
    deadline: str | None = None


class PlanVersion(Out):
    """GET /v1/parcels/{code}/plan: the latest version."""
    parcel: str
    version: int
    recorded_at: str
    plan: PlanDocument


class PlanCause(Open):
    """Why the parcel is a problem parcel, as the latest plan records it (open: as stored with
    the plan)."""
    type: str
