"""The yearly park evaluation (GET /v1/parks/{id}/evaluation): land by category, the park's
亩均税收 with its tax and area bases, the target, the parcels pulling it down, the year before.
Fields that depend on the data (a withheld figure, no target, no tax basis) are optional."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.schemas.responses.common import CountArea, DecisionFields, LawPin, Out, Quantity, RuleSetInForce


class CategoryLand(Out):
    label: str
    code: str
    count: int
    area: Quantity
    parcels: list[str]


class ProblemLand(CountArea):
    note: str


class Land(Out):
    planned_area: Quantity | None
    registered: CountArea
    supplied: CountArea
    industrial_supplied: CountArea
    by_category: dict[str, CategoryLand]
    problem: ProblemLand
    without_category: CountArea
    insufficient_data: list[str]
    withheld: list[str]
    planned_not_registered: Quantity | None = None


class BasisSource(Out):
    """The rule-set layer that declares the tax basis."""
    kind: str | None = None
    id: str
    version: str | None = None
    digest: str | None = None
    status: str | None = None
    title: str | None = None
    jurisdiction: str | None = None
    layer_of: str | None = None
    example: bool | None = None


class TaxBasis(Out):
    """Which taxes count and over which period (from the park's tax rule set)."""
    status: str
    includes: list[str] | None = None
    refunds_added_back: bool | None = None
    period: str | None = None
    message: str | None = None
    from_: BasisSource | None = Field(None, alias="from")


class Labelled(Out):
    id: str
    label: str
    note: str | None = None
    rule: str | None = None


class SecondaryFigure(Out):
    label: str
    formula: str
    value: Quantity | None
    area: Quantity | None


class CountedParcel(Out):
    code: str
    area: Quantity
    tax_per_mu: Quantity
    allocated_tax: Quantity
    inputs: dict[str, Any] = Field(description="open: the tax row and the allocation behind the figure")


class ZeroParcel(Out):
    """A parcel counted with no tax (or missing data), and why."""
    code: str
    area: Quantity
    tax_per_mu: Quantity | None = None
    reason: str | None
    reason_label: str | None = None
    message: str | None = None
    tax_note: str | None = None
    transferee_uscc: str | None = None
    status: str | None = None


class TaxPerMu(Out):
    """The park's 亩均税收: Σ counted tax ÷ the area of all supplied industrial land."""
    year: int
    status: str
    value: Quantity | None
    formula: str | None = None
    message: str | None = None
    note: str | None = None
    tax_basis: TaxBasis
    area_basis: Labelled
    allocation: Labelled
    total_tax: Quantity | None = None
    area_counted: Quantity | None = None
    area_in_scope: Quantity | None = None
    area_with_data: Quantity | None = None
    coverage: Quantity | None = None
    over_land_with_data: SecondaryFigure | None = None
    parcels_counted: list[CountedParcel]
    parcels_zero: list[ZeroParcel] = []
    parcels_missing_data: list[ZeroParcel] = []
    parcels_withheld: list[ZeroParcel] = []


class Target(Out):
    value: Quantity | None
    source: str | None = None
    status: str | None = None
    distance: Quantity | None = None
    attainment: Quantity | None = None
    formula: str | None = None
    message: str | None = None


class Incomplete(Out):
    """Below the target with parcels missing data: the verdict waits for them."""
    parcels: list[str]
    area: Quantity
    withheld_parcels: bool
    gap_tax: Quantity | None = None
    required_tax_per_mu: Quantity | None = None
    message: str


class PullingDown(Out):
    code: str
    area: Quantity
    tax_per_mu: Quantity
    gap: Quantity
    shortfall_tax: Quantity
    categories: list[str]
    transferee_uscc: str | None
    reason: str | None
    reason_label: str | None = None


class PreviousArea(Out):
    counted: Quantity | None
    in_scope: Quantity | None


class YearOverYear(Out):
    previous_year: int
    previous: Quantity | None = None
    current: Quantity | None = None
    previous_tax_basis: TaxBasis | None = None
    previous_area: PreviousArea | None = None
    status: str
    message: str | None = None
    change: Quantity | None = None
    change_percent: Quantity | None = None
    direction: str | None = None
    parcels_added: list[str] = []
    parcels_dropped: list[str] = []
    same_tax_basis: bool | None = None


class TaxViewUsed(Out):
    """The tax rows the evaluation was computed with: those of this jurisdiction (null: all)."""
    jurisdiction: str | None


class EvaluationBody(Out):
    kind: Literal["park_evaluation"]
    verdict: str
    park: str
    park_name: str | None
    jurisdiction: str
    year: int
    as_of: str
    ruleset: RuleSetInForce | None
    example: bool
    law: list[LawPin] = Field(description="the law documents used: every low-efficiency version, the 53号令 version")
    tax_view: TaxViewUsed
    land: Land
    tax_per_mu: TaxPerMu
    target: Target
    incomplete: Incomplete | None = None
    pulling_down: list[PullingDown]
    year_over_year: YearOverYear
    known_at: str
    tax_regions: list[str]
    engine: str
    engine_version: str


class ParkEvaluation(DecisionFields, EvaluationBody):
    """GET /v1/parks/{id}/evaluation: the stored decision."""
