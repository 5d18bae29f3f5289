"""The indicator catalog as documents: publish a catalog document, list what is in force on a date
with the document each indicator came from.  The lifecycle is that of every law document
(``app.checks.law``, kind ``indicator_catalog``); the union in force is ``app.checks.indicator_catalog``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel

from app.access import scope_writes
from app.access.auth import RULE_READ, allow
from app.access.deps import SessionDep
from app.access.scope_writes import PublishCaller
from app.checks import indicator_catalog
from app.core import clock
from app.schemas.responses.common import OUT
from app.schemas.responses.law import LawVersion

router = APIRouter(prefix="/v1/indicators", tags=["indicator catalog"])


class Source(BaseModel):
    kind: str | None = None
    id: str
    version: str
    digest: str | None = None


class IndicatorOut(BaseModel):
    key: str
    label: str
    label_en: str
    kind: str
    unit: str
    direction: str
    role: str
    formula: str | None
    builtin: str | None
    measures: list[str]
    example: bool
    source: Source | None


class MeasureOut(BaseModel):
    key: str
    label: str
    kind: str
    source: Source | None


class CatalogInForce(BaseModel):
    on: str
    documents: list[Source]
    indicators: list[IndicatorOut]
    measures: list[MeasureOut]


@router.post("", response_model=LawVersion, status_code=201, **OUT,
             responses={200: {"model": LawVersion, "description": "identical version already published"},
                        409: {"description": "same id and version, different content"},
                        422: {"description": "validation errors, each with a path (e.g. indicators.x.formula)"}})
def publish(session: SessionDep, response: Response, caller: PublishCaller, document: dict[str, Any] = Body(...)) -> dict:
    """Publish a version of an indicator-catalog document (docs/law-documents.md)."""
    scope_writes.law_document(caller, document)
    summary, created = indicator_catalog.publish(session, document)
    response.status_code = 201 if created else 200
    return summary


@router.get("", response_model=CatalogInForce, dependencies=allow(*RULE_READ))
def in_force(session: SessionDep, on: dt.date | None = Query(None, description="date (default today, Asia/Shanghai)")) -> dict:
    """The indicators and measures in force on ``on``: the union of the catalog documents in force."""
    return indicator_catalog.listing(session, on or clock.today())
