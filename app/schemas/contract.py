"""Request models for contracts (with the supervision agreement) and lifecycle events.

Identifiers (USCC, parcel code, supervision number) are free text here: a malformed one
is a clause finding (``invalid`` or ``warning``), not a rejected request.  Structure,
dates and numbers are validated here (HTTP 422).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from app.schemas.proposal import Floor, Industry
from app.schemas.proposal import Quantity as _Quantity


class Quantity(_Quantity):
    """A non-negative quantity: areas, money and rates in contracts and events are never negative."""

    @field_validator("value")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("不能为负数 (must not be negative)")
        return v


Amount = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=Decimal("1e12"))]
Rate = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Transferee(_Strict):
    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field(min_length=1, max_length=64)


class Interval(_Strict):
    """A committed limit: ``min``, ``max`` or both, in ``unit`` (none for the plot ratio)."""

    min: Amount | None = None
    max: Amount | None = None
    unit: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _order(self) -> Interval:
        if self.min is None and self.max is None:
            raise ValueError("min 或 max 至少给出一个 (give min, max or both)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 大于 max (min above max)")
        return self


class TaxCommitment(Quantity):
    from_year: int | None = Field(default=None, ge=1990, le=2100, description="first year reviewed")


class Commitments(_Strict):
    fixed_asset_investment: Quantity | None = None
    investment_intensity: Quantity | None = None
    plot_ratio: Interval | None = None
    building_coefficient: Interval | None = None
    admin_land_share: Interval | None = None
    admin_floor_share: Interval | None = None
    green_ratio: Interval | None = None
    tax_per_mu: TaxCommitment | None = None
    output_per_mu: Quantity | None = None


class Schedule(_Strict):
    delivery_on: dt.date | None = None
    start_by: dt.date | None = None
    complete_by: dt.date | None = None


class Penalties(_Strict):
    late_payment_permille: Rate | None = None
    late_start_permille: Rate | None = None
    late_completion_permille: Rate | None = None
    over_limit_permille: Rate | None = None
    late_delivery_permille: Rate | None = Field(default=None, description="the transferor's late delivery (F8)")
    shortfall_aggregate: Literal["max", "mean", "sum"] | None = None
    tax_shortfall: Literal["pay_difference", "proportional", "none"] | None = None
    over_limit_mode: Literal["once", "per_item"] = "once"


class Clauses(_Strict):
    extension_notice_days: int | None = Field(default=None, ge=0, le=3650)
    extension_max_years: Decimal | None = Field(default=None, ge=0, le=50, allow_inf_nan=False)


class ContractRequest(_Strict):
    contract_no: str = Field(min_length=1, max_length=64, pattern=r"^[^\s/?#]+$")
    model: str = Field(min_length=1, max_length=32)
    supervision_no: str | None = Field(default=None, max_length=64)
    parcel_code: str | None = Field(default=None, max_length=64)
    transferee: Transferee
    jurisdiction: str = Field(pattern=r"^\d{6}$")
    industry: Industry
    ruleset: str | None = Field(default=None, max_length=64)
    signed_on: dt.date
    land_area: Quantity
    land_price: Quantity | None = None
    commitments: Commitments = Field(default_factory=Commitments)
    schedule: Schedule = Field(default_factory=Schedule)
    penalties: Penalties = Field(default_factory=Penalties)
    clauses: Clauses = Field(default_factory=Clauses)


# ---------------------------------------------------------------- lifecycle events

GovernmentCause = Literal["late_delivery", "plan_change", "policy_change", "petition", "military_or_heritage",
                          "other_government_act", "force_majeure"]


class _Event(_Strict):
    on: dt.date
    correct: str | None = Field(default=None, max_length=36, description="id of an earlier event this one corrects")
    note: str | None = Field(default=None, max_length=500)


class Delivered(_Event):
    type: Literal["delivered"]


class ExtensionApproved(_Event):
    type: Literal["extension_approved"]
    new_start_by: dt.date
    document: str | None = Field(default=None, max_length=200)


class Started(_Event):
    type: Literal["started"]


class _Ratios(_Event):
    developed_area: Quantity | None = None
    area_to_develop: Quantity | None = None
    invested: Quantity | None = None
    total_investment: Quantity | None = None
    land_price_included: StrictBool = False

    def has_ratios(self) -> bool:
        return any(getattr(self, k) is not None for k in ("developed_area", "area_to_develop", "invested",
                                                          "total_investment"))


class Progress(_Ratios):
    """A progress report.  ``suspended_since`` is the old single stop field: read as a construction
    suspension (停建), or as a production stop (停产) when completion was accepted on or before it."""

    type: Literal["progress"]
    suspended_since: dt.date | None = Field(default=None, description="deprecated: use construction_suspended "
                                            "or production_stopped")


class ConstructionSuspended(_Ratios):
    """停建: construction halted before completion acceptance, from ``on`` (53号令's stalled test and the
    停建缓建 low-efficiency class).  May carry the progress figures at the halt."""

    type: Literal["construction_suspended"]


class ConstructionResumed(_Event):
    type: Literal["construction_resumed"]


class ProductionStopped(_Event):
    """停产 (or 半停产 with ``partial``): production stopped after completion acceptance, from ``on``
    (the 停产 low-efficiency class only: 53号令 does not apply to completed projects)."""

    type: Literal["production_stopped"]
    partial: StrictBool = False


class ProductionResumed(_Event):
    type: Literal["production_resumed"]


class GovernmentDelay(_Event):
    type: Literal["government_delay"]
    cause: GovernmentCause
    new_start_by: dt.date | None = None
    document: str | None = Field(default=None, max_length=200)


class CompletionAccepted(_Event):
    type: Literal["completion_accepted"]
    fixed_asset_investment: Quantity | None = None
    total_floor_area: Quantity | None = None
    floors: list[Floor] | None = Field(default=None, max_length=200)
    building_footprint: Quantity | None = None
    structure_footprint: Quantity | None = None
    yard_area: Quantity | None = None
    admin_land_area: Quantity | None = None
    admin_floor_area: Quantity | None = None
    green_area: Quantity | None = None


class Payment(_Event):
    """A payment of the land price: ``on`` is the day it was paid."""

    type: Literal["payment"]
    due_on: dt.date
    amount: Quantity
    demanded: StrictBool = False


Event = Annotated[Delivered | ExtensionApproved | Started | Progress | ConstructionSuspended | ConstructionResumed
                  | ProductionStopped | ProductionResumed | GovernmentDelay | CompletionAccepted | Payment,
                  Field(discriminator="type")]


EVENT_TYPES = frozenset(m.model_fields["type"].annotation.__args__[0] for m in
                        (Delivered, ExtensionApproved, Started, Progress, ConstructionSuspended, ConstructionResumed,
                         ProductionStopped, ProductionResumed, GovernmentDelay, CompletionAccepted, Payment))


class EventBatch(_Strict):
    events: list[Event] = Field(min_length=1, max_length=1000)
