"""Park, parcel and plan requests (moved from ``app.checks.parks``): a park with its dated names,
a parcel, and one version of a parcel's disposal plan (一宗一策).  The checks in ``app.checks.parks``
take these objects; the labels of the closed lists (``USES``, ``MEASURES`` …) stay there."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.contract import Quantity

PARK_ID = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"

Measure = Literal["start_development", "extend_start", "change_use_or_planning", "temporary_use",
                  "negotiated_paid_reclaim", "swap", "idle_fee", "free_reclaim", "re_tender", "redevelop",
                  "enterprise_upgrade", "merger", "complete_supply", "other"]
GovCause = Literal["late_delivery", "plan_change", "policy_change", "petition", "military_or_heritage", "other_government_act"]


# =========================================================================== request models

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatedName(_Strict):
    name: str = Field(min_length=1, max_length=200)
    valid_from: dt.date | None = Field(default=None, description="first day; null: since the park's beginning")
    valid_to: dt.date | None = Field(default=None, description="first day no longer valid (exclusive); null: still valid")

    @model_validator(mode="after")
    def _order(self) -> DatedName:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to 应晚于 valid_from (valid_to must be after valid_from)")
        return self


class ParkIn(_Strict):
    """A park (产业集聚区 / 开发区).  Give ``name`` (with ``name_valid_from``) or the dated ``names``."""

    id: str = Field(pattern=PARK_ID)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_valid_from: dt.date | None = None
    names: list[DatedName] | None = Field(default=None, min_length=1, max_length=50)
    jurisdiction: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code of the administering division")
    planned_area: Quantity = Field(description="planned area (规划面积), an area unit")
    target_tax_per_mu: Quantity | None = Field(default=None,
                                               description="target 亩均税收 (park average), 万元/亩 or another unit")
    target_source: str | None = Field(default=None, min_length=1, max_length=500, description="where the target comes from")
    ruleset: str | None = Field(default=None, max_length=64, description="the park's low-efficiency rule set (rules/parks)")
    tax_ruleset: str | None = Field(default=None, max_length=64,
                                    description="standard-land rule set whose tax basis applies; "
                                                "default: resolved by jurisdiction")
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _names(self) -> ParkIn:
        if (self.name is None) == (self.names is None):
            raise ValueError("给出 name 或 names 之一 (give either name or names)")
        if self.names is not None and self.name_valid_from is not None:
            raise ValueError("name_valid_from goes with name, not names")
        return self

    def dated_names(self) -> list[DatedName]:
        return self.names if self.names is not None else [DatedName(name=self.name, valid_from=self.name_valid_from)]


class Approval(_Strict):
    document: str = Field(min_length=1, max_length=200, description="approval document number (批准文号)")
    date: dt.date


class ParcelIn(_Strict):
    """A parcel: 宗地代码 (19) or 不动产单元代码 (28)."""

    code: str = Field(min_length=1, max_length=64)
    park: str = Field(min_length=1, max_length=64)
    area: Quantity
    use: Literal["industrial", "warehouse", "other"] = "industrial"
    supply_status: Literal["approved_unsupplied", "transferred", "allocated"]
    approval: Approval | None = Field(default=None, description="required for approved land not yet supplied")
    contract_no: str | None = Field(default=None, max_length=64, description="the registered transfer contract (transferred)")
    supplied_on: dt.date | None = Field(default=None, description="supply date; default for transferred: the contract's signing")
    supervision_no: str | None = Field(default=None, max_length=64, description="电子监管号 (format unconfirmed: warnings only)")
    location: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=1000)


class Cause(_Strict):
    type: Literal["enterprise", "government", "force_majeure", "other"]
    government_cause: GovCause | None = Field(default=None,
                                              description="53号令 Art. 8 cause (docs/domain.md), when government")
    detail: str | None = Field(default=None, max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _gov(self) -> Cause:
        if self.type == "government" and self.government_cause is None:
            raise ValueError("政府原因须注明 government_cause（53号令第八条所列情形）")
        if self.type != "government" and self.government_cause is not None:
            raise ValueError("government_cause 仅用于 type=government")
        return self


class Responsible(_Strict):
    lead_unit: str = Field(min_length=1, max_length=200)
    cooperating_units: list[str] = Field(default_factory=list, max_length=20)
    person: str | None = Field(default=None, max_length=100)


class DecisionDocument(_Strict):
    kind: Literal["investigation_notice", "determination", "decision", "agreement", "approval", "other"]
    number: str = Field(min_length=1, max_length=200)
    date: dt.date | None = None
    title: str | None = Field(default=None, max_length=500)


class PlanProgress(_Strict):
    status: Literal["planned", "in_progress", "completed", "suspended", "cancelled"]
    note: str | None = Field(default=None, max_length=2000)
    updated_on: dt.date | None = None
    fee_assessed: Quantity | None = None
    fee_paid: Quantity | None = None


class PlanIn(_Strict):
    """One version of a parcel's disposal plan (一宗一策)."""

    as_of: dt.date = Field(description="the date of this version (the law date: caps are checked against the contract then)")
    categories: list[Literal["approved_unsupplied", "idle", "low_efficiency"]] | None = Field(default=None, max_length=3)
    cause: Cause
    measure: Measure
    measure_detail: str | None = Field(default=None, max_length=2000)
    cap_from: dt.date | None = Field(default=None, description="the date a statutory cap runs from: for extend_start the "
                                     "start date in force (taken from the contract when there is one), for temporary_use "
                                     "the first day of the temporary use")
    deadline: dt.date
    responsible: Responsible
    progress: PlanProgress
    documents: list[DecisionDocument] = Field(default_factory=list, max_length=100)
    expected_version: int | None = Field(default=None, ge=0, description="the version this one replaces (409 if another "
                                         "version was recorded since); not stored")
