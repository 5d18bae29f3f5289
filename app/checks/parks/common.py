"""Shared by the parks modules: the category, use and supply-status labels, exact zero, and the
small helpers for request parsing and quantities in answers."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.errors import InputError, pydantic_problems
from app.core.numbers import dec_str
from app.store.models import Contract

ZERO = Fraction(0)

USES = {"industrial": "工业用地", "warehouse": "仓储用地", "other": "其他用地"}
SUPPLY_STATUSES = {"approved_unsupplied": "已批未供", "transferred": "已出让", "allocated": "已划拨"}
CATEGORIES = {"approved_unsupplied": ("PIWG", "批而未供"), "idle": ("IDLE", "闲置土地"),
              "low_efficiency": ("LOW_EFF", "低效用地")}


def parse_model(model: type[BaseModel], raw: Any, prefix: str = "") -> Any:
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise InputError(pydantic_problems(e, tuple(p for p in prefix.split(".") if p))) from None


def q(x: Fraction | None, unit: str, places: int | None = None) -> dict | None:
    return None if x is None else {"value": dec_str(x, places), "unit": unit}


def store_contract_document(row: Contract) -> dict:
    return json.loads(row.document)
