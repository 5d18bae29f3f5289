"""Typed request models for quantities, measures and indicators.

The measure and indicator fields are generated from the catalog, so the OpenAPI
schema lists every id and an unknown one is refused (422) at its path.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model, field_validator, model_validator

from indicators import tables
from indicators.catalog import known_keys, load_catalog

MAX_ABS = Decimal("1e12")
EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_PLACES = 12


class Quantity(BaseModel):
    """A number with its unit: ``{"value": 90, "unit": "亩"}``.  Values may be JSON
    numbers or decimal strings; a unit is required wherever the quantity has one."""

    model_config = ConfigDict(extra="forbid")
    value: Decimal = Field(allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=32)

    @field_validator("value")
    @classmethod
    def _sane(cls, v: Decimal) -> Decimal:
        if v.copy_abs() > MAX_ABS:     # abs() rounds to the context and overflows on 1e999999999
            raise ValueError(f"数值过大 (absolute value above {MAX_ABS})")
        exp = v.as_tuple().exponent
        if isinstance(exp, int) and exp < -MAX_PLACES:
            raise ValueError(f"小数位过多 (more than {MAX_PLACES} decimal places)")
        return v


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: StrictBool       # true or false only: "yes" or 1 are refused


class Floor(BaseModel):
    """One line of storeys: ``area`` is one storey's floor area; ``count`` storeys of ``height``."""

    model_config = ConfigDict(extra="forbid")
    area: Quantity
    height: Quantity
    count: int = Field(default=1, ge=1, le=300)


class Industry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z_\-]+$",
                      description="GB/T 4754 大类 (e.g. 32; C32 is read as 32), or a 中类/小类 under it")
    classification: str = Field(default="GB/T 4754-2017", min_length=1, max_length=64)

    @model_validator(mode="after")
    def _normalise(self) -> Industry:
        # "C32" → "32" (the 门类 letter officials often write first); whether the code exists is
        # checked where a request is evaluated (``industry_problems``), so stored documents still load.
        self.code = tables.normalise_industry_code(self.code, self.classification)
        return self


def industry_problems(industry: Industry | None, path: str = "industry.code") -> list:
    """A code that does not exist in its stated classification (where the full list is shipped)."""
    from app.core.errors import Problem

    if industry is None:
        return []
    why = tables.industry_code_problem(industry.code, industry.classification)
    return [] if why is None else [Problem(path, f"无效行业代码 {industry.code!r}：{why}")]


class Waiver(BaseModel):
    """A documented case-by-case exemption (一事一议) from one rule."""

    model_config = ConfigDict(extra="forbid")
    rule: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=500)
    doc: str | None = Field(default=None, max_length=200)


MAX_EXTRA = 64     # measures or indicators of catalog additions in one request


class _Extensible(BaseModel):
    """Fields of catalog documents beyond the base: ``{"average_employees": {"value": 120, "unit": "人"}}``.
    Their names are checked against the catalog in force on the proposal's date when it is evaluated
    (an unknown one is refused there, at its path)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Flag | Quantity] = Field(init=False)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _few(self) -> _Extensible:
        extra = self.__pydantic_extra__ or {}
        if len(extra) > MAX_EXTRA:
            raise ValueError(f"附加项过多 (more than {MAX_EXTRA} fields beyond the base catalog)")
        for k in extra:
            if not EXTRA_KEY.match(k):
                raise ValueError(f"无效名称 {k[:64]!r} (names are lower-case letters, digits and _)")
        return self


def unknown_field(name: str, key: str) -> str:
    what = "计量项 (measure)" if name == "measures" else "指标 (indicator)"
    return f"未知{what} {key[:64]}：不在生效的指标目录中 (not in the indicator catalog in force on as_of)"


def _measures_model() -> type[BaseModel]:
    cat = load_catalog()
    fields: dict[str, Any] = {m: (Quantity | None, Field(default=None, description=f"{d.label} ({d.kind})"))
                              for m, d in cat.measures.items()}
    fields["floors"] = (list[Floor] | None, Field(default=None, max_length=200,
                                                 description="层高与层数；层高超过 8 米的楼层按两倍计容"))
    fields["admitted_industries"] = (list[str] | None, Field(default=None, max_length=200,
                                                            description="宗地公布的准入产业代码（GB/T 4754）"))
    return create_model("Measures", __base__=_Extensible, **fields)


def _indicators_model() -> type[BaseModel]:
    cat = load_catalog()
    fields: dict[str, Any] = {}
    for iid, ind in cat.indicators.items():
        typ = Flag if ind.is_boolean else Quantity
        desc = f"{ind.label} ({ind.unit or ('boolean' if ind.is_boolean else 'dimensionless')})"
        fields[iid] = (typ | None, Field(default=None, description=desc))
    return create_model("Indicators", __base__=_Extensible, **fields)


Measures = _measures_model()
Indicators = _indicators_model()


class ProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ruleset: str | None = Field(default=None, max_length=64, description="rule-set id; otherwise resolved from jurisdiction")
    as_of: dt.date
    known_at: dt.datetime | None = None
    jurisdiction: str | None = Field(default=None, pattern=r"^\d{6}$")
    parcel: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S+$",
                               description="宗地代码 / 地块编号: without 'ruleset', a rule set written for this parcel "
                                           "(applies_to.parcels) comes before the park's and the county's")
    park: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S+$",
                             description="park id: without 'ruleset', a rule set written for this park "
                                         "(applies_to.parks) comes before the county's")
    industry: Industry | None = None
    land_area: Quantity
    measures: Measures = Field(default_factory=Measures)  # type: ignore[valid-type]
    indicators: Indicators = Field(default_factory=Indicators)  # type: ignore[valid-type]
    waivers: list[Waiver] = Field(default_factory=list, max_length=50)
    reference: str | None = Field(default=None, max_length=200, description="the caller's own id for this proposal")

    @field_validator("known_at")
    @classmethod
    def _utc(cls, v: dt.datetime | None) -> dt.datetime | None:
        """A time without a zone is taken as UTC."""
        return v.replace(tzinfo=dt.UTC) if v is not None and v.tzinfo is None else v


def _drop(obj: Any, loc: tuple) -> bool:
    """Remove the quantity (or field) at ``loc`` from a raw request; False if it cannot go."""
    parts = [p for p in loc if p not in ("body",)]
    # A bad value or unit inside a quantity drops the whole quantity.
    if parts and parts[-1] in ("value", "unit"):
        parts = parts[:-1]
    if len(parts) < 2:               # a required top-level field: nothing to prune
        return False
    parent = obj
    for p in parts[:-1]:
        try:
            parent = parent[p]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del parent[parts[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def proposal_problems(raw: Any, model: type[BaseModel], normalise) -> list:
    """Every problem of an invalid request: the format errors, then — on what remains
    once the offending fields are pruned — the value errors (units, bounds), so one 422
    lists them all."""
    import copy

    from pydantic import ValidationError

    from app.core.errors import InputError, Problem, pydantic_problems

    problems: list = []
    # Fields beyond the base catalog are allowed by the model and checked against the catalog in
    # force when the request is evaluated; here (no database) against every catalog this process knows.
    known_m, known_i = known_keys()
    for name, known, fields in (("measures", known_m, Measures.model_fields),
                                ("indicators", known_i, Indicators.model_fields)):
        part = raw.get(name) if isinstance(raw, dict) else None
        if isinstance(part, dict):
            problems += [Problem(f"{name}.{k}", unknown_field(name, k)) for k in part
                         if k not in fields and k not in known]
    body = copy.deepcopy(raw)
    for _ in range(3):
        try:
            req = model.model_validate(body)
        except ValidationError as e:
            problems += [p for p in pydantic_problems(e) if p not in problems]
            if not all(_drop(body, tuple(err["loc"])) for err in e.errors()):
                return problems
            continue
        try:
            normalise(req)
        except InputError as e:
            problems += [p for p in e.problems if p not in problems]
        return problems
    return problems
