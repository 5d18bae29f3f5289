"""Parks and parcels: registration, the park, the parcel view, plans, the 一宗一策 ledger."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas.responses.common import CountArea, InOrder, LawPin, Out, Quantity, RuleSetInForce
from app.schemas.responses.contracts import IdleLandFinding
from app.schemas.responses.park_assessment import Category, ParcelBasics, PlanCause, PlanVersion, Predicate


class DatedName(Out):
    name: str
    valid_from: str | None = Field(description="null: since the park's beginning")
    valid_to: str | None = Field(description="exclusive; null: still valid")


class ParkSummary(Out):
    id: str
    jurisdiction: str
    planned_area: Quantity | None
    target_tax_per_mu: Quantity | None
    target_source: str | None
    ruleset: str | None
    tax_ruleset: str | None = None
    note: str | None = None
    created_at: str


class ParkRegistration(ParkSummary):
    """POST /v1/parks."""
    names: list[DatedName] | None = None
    created: bool


class Park(ParkSummary):
    """GET /v1/parks/{id}: the name valid on ``as_of`` and every dated name."""
    as_of: str
    name: str | None
    names: list[DatedName]
    ruleset_in_force: RuleSetInForce | None
    parcels: int


class Warning(Out):
    path: str
    message: str


class ParcelSummary(Out):
    code: str
    park: str
    area: Quantity
    use: str
    supply_status: str
    approval_doc: str | None
    approval_date: str | None
    contract_no: str | None
    created_at: str
    supplied_on: str | None = None


class ParcelRegistration(ParcelSummary):
    """POST /v1/parcels."""
    warnings: list[Warning] | None = None
    created: bool


class ImportedPark(ParkSummary):
    names: list[DatedName] | None = None
    created: bool


class ParkImportResult(Out):
    """POST /v1/parks:import."""
    park: ImportedPark
    parcels: list[ParcelRegistration]
    warnings: list[Warning]


class ParcelsImported(Out):
    """POST /v1/parks/{id}/parcels:xlsx."""
    park: str
    count: int
    created: int
    unchanged: int
    warnings: list[Warning]


class ParkNames(Out):
    """POST /v1/parks/{id}/names."""
    park: str
    names: list[DatedName]
    created: bool


class PlanWritten(PlanVersion):
    """PUT /v1/parcels/{code}/plan."""
    created: bool


class PlanHistoryVersion(PlanVersion):
    changed: list[str] = Field(description="the fields changed from the version before")


class PlanHistory(Out):
    """GET /v1/parcels/{code}/plan/history: oldest first."""
    parcel: str
    count: int
    versions: list[PlanHistoryVersion]


# ------------------------------------------------------------------ the parcel view


class Registration(InOrder, Out):
    """The parcel as registered (the ParcelIn schema, as stored)."""
    code: str
    park: str
    location: str | None = None
    area: dict[str, str] = Field(description="value and unit as submitted (stored with sorted keys)")
    use: str
    supply_status: str
    supplied_on: str | None = None
    approval: dict[str, str | None] | None = None
    contract_no: str | None = None
    supervision_no: str | None = None
    note: str | None = None


class Assessment(Out):
    """Each category with its status, whether the parcel is in it or not."""
    approved_unsupplied: CategoryStatus
    idle: CategoryStatus
    low_efficiency: CategoryStatus


class RuleSetId(Out):
    """A rule set named by the park but not in force on the date."""
    id: str


class CategoryStatus(InOrder, Out):
    """A category's assessment: ``status`` in / not in / not decidable, with the predicates (keys in
    the order each category writes them)."""
    status: str
    state: str | None = None
    predicates: list[Predicate]
    finding: IdleLandFinding | None = None
    ruleset: RuleSetInForce | RuleSetId | None = None
    tax_year: int | None = None
    message: str
    cause: str | None = None
    days_since_approval: int | None = None
    excluded_because: str | None = None
    excludes_idle_source: dict[str, str | None] | None = None


class ParcelTax(Out):
    """The parcel's 亩均税收 for the low-efficiency test."""
    status: str
    reason: str | None
    tax_per_mu: Quantity | None
    park_average: Quantity | None
    park_average_status: str
    park_average_basis: str | None
    inputs: dict[str, Any] = Field(description="open: the tax rows and areas the figure was computed from")


class ParcelView(ParcelSummary):
    """GET /v1/parcels/{code}: basic data, categories on ``as_of``, the latest plan."""
    registration: Registration
    basics: ParcelBasics
    as_of: str
    tax_year: int
    categories: list[Category]
    assessment: Assessment
    tax: ParcelTax
    plan: PlanVersion | None
    law: list[LawPin]
    engine: str
    engine_version: str


# ------------------------------------------------------------------ the ledger


class LedgerDisposal(Out):
    """Whether the parcel is disposed (the one rule, ``app.lifecycle.disposal``; docs/stock-land.md §3)."""
    disposed: bool
    on: str | None
    reason: str
    by: list[str]
    ignored: list[str] = Field(description="facts that are no disposal: extension, temporary use …")


class LedgerRow(Out):
    ledger_id: str
    parcel: ParcelBasics
    categories: list[Category]
    category_codes: list[str]
    cause: PlanCause | None
    measure: str | None
    deadline: str | None
    plan: PlanVersion | None
    plan_status: str
    plan_versions: int
    suggested_measures: list[str]
    disposal: LedgerDisposal
    history: str = Field(description="the path of the parcel's plan history")


class Ledger(Out):
    """GET /v1/parks/{id}/ledger: each problem parcel with its categories and latest plan."""
    park: str
    park_name: str | None
    as_of: str
    count: int
    without_plan: int
    withheld: list[str] = Field(description="parcels whose category depends on tax rows the key may not see")
    totals: dict[str, CountArea] = Field(description="per category code: parcels and area")
    measures: dict[str, str] = Field(description="disposal measure code → label")
    rows: list[LedgerRow]
    law: list[LawPin]
    engine: str
    engine_version: str

