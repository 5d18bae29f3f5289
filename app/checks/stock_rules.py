"""The ``stock_land`` law document (rules/stock/, docs/stock-land.md §4): the 消化 priority age of
批而未供 batches, the 已批未供即用 rectification routes with their cut-off dates and deadlines, and
the 增存挂钩 ratios.  ``parse`` is the kind's parser (``app.checks.law.KINDS``): a strict model,
every problem with its path; a parameter whose confidence is ❓ or ⚙ must say ``example: true``
(an unconfirmed value is never presented as the law)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.errors import InputError, pydantic_problems

STEP_LABELS = {"determined": "认定", "accepted": "验收", "filed": "报省自然资源厅备案",
               "procedures_completed": "完善用地手续", "allocation_decision": "核发划拨决定书",
               "contract_signed": "直接签订出让合同"}
DISPOSAL_KINDS = ("supplied", "started", "reclaimed", "swapped")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    doc: str = Field(min_length=1, max_length=64)
    article: str | None = Field(default=None, max_length=500)
    confidence: Literal["✅", "◐", "❓", "⚙"]
    note: str | None = Field(default=None, max_length=1000)


class _Param(_Strict):
    source: Source
    example: bool

    @model_validator(mode="after")
    def _labelled(self) -> Any:
        if self.source.confidence in ("❓", "⚙") and not self.example:
            raise ValueError(f"置信度为 {self.source.confidence} 的参数须标注 example: true "
                             "(an unconfirmed value must be labelled as an example)")
        return self


class Priority(_Param):
    older_than_years: int = Field(ge=0, le=50)


class Route(_Param):
    label: str = Field(min_length=1, max_length=500)
    steps: list[Literal["determined", "accepted", "filed", "procedures_completed", "allocation_decision",
                        "contract_signed"]] = Field(min_length=1, max_length=10)
    deadline: dt.date
    used_on_or_before: dt.date | None = None
    expropriation_approved_before: dt.date | None = None


class Rectification(_Strict):
    industrial_pre_cutoff: Route
    public_allocation: Route
    township_collective: Route

    @model_validator(mode="after")
    def _cutoffs(self) -> Rectification:
        if self.industrial_pre_cutoff.used_on_or_before is None:
            raise ValueError("industrial_pre_cutoff 须有 used_on_or_before（使用截止日期）")
        if self.township_collective.expropriation_approved_before is None:
            raise ValueError("township_collective 须有 expropriation_approved_before（征收报批截止日期）")
        return self


Ratio = Decimal


class Linkage(_Param):
    ratios: dict[Literal["supplied", "started", "reclaimed", "swapped"], Ratio]

    @model_validator(mode="after")
    def _ratios(self) -> Linkage:
        for k in DISPOSAL_KINDS:
            if k not in self.ratios:
                raise ValueError(f"ratios 缺少 {k}")
            v = self.ratios[k]
            if not v.is_finite() or v < 0 or v > 10 or v.as_tuple().exponent < -6:
                raise ValueError(f"ratios.{k} 应为 0–10、至多 6 位小数")
        return self

    def ratio(self, kind: str) -> Fraction:
        return Fraction(self.ratios[kind])


class StockRules(BaseModel):
    model_config = ConfigDict(extra="ignore")     # the common fields (id, version …) are law.Meta's

    documents: dict[str, dict]
    priority: Priority
    rectification: Rectification
    linkage: Linkage

    @model_validator(mode="after")
    def _docs(self) -> StockRules:
        for where, p in (("priority", self.priority), ("linkage", self.linkage),
                         *((f"rectification.{k}", getattr(self.rectification, k)) for k in Rectification.model_fields)):
            if p.source.doc not in self.documents:
                raise ValueError(f"{where}.source.doc {p.source.doc!r} 不在 documents 中")
        return self

    def route(self, key: str) -> Route:
        return getattr(self.rectification, key)


def parse(raw: dict) -> StockRules:
    try:
        return StockRules.model_validate(raw)
    except ValidationError as e:
        raise InputError(pydantic_problems(e)) from None
