"""The other legal documents (scoring and low-efficiency rule sets, contract models, 53号令
parameters): publish, list, read.  One lifecycle for all kinds: ``app.checks.law``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel

from app.access import scope_writes
from app.access.auth import RULE_READ, allow
from app.access.deps import SessionDep
from app.access.scope_writes import PublishCaller
from app.checks import law

router = APIRouter(prefix="/v1/law", tags=["law documents"])

KIND = Path(..., description="scoring | low_efficiency | contract_model | idle_land", max_length=32)


class LawVersion(BaseModel):
    kind: str
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str | None
    effective_from: str
    effective_to: str | None
    published_at: str
    source: str


class LawListed(LawVersion):
    kind_label: str
    in_force: bool | None


class LawDocumentOut(LawVersion):
    document: dict[str, Any]


@router.post("/{kind}", response_model=LawVersion, status_code=201,
             responses={200: {"description": "identical version already published"},
                        409: {"description": "same id and version, different content"},
                        422: {"description": "validation errors, each with a path"}})
def publish(session: SessionDep, response: Response, caller: PublishCaller, kind: str = KIND,
            document: dict[str, Any] = Body(...)) -> dict:
    """Publish a version of a law document.  A rule_admin key with a jurisdiction publishes only
    documents for jurisdictions inside it (a national document, without ``jurisdiction``, needs a key
    without one): 403."""
    law.kind(kind)
    scope_writes.law_document(caller, document)
    summary, created = law.publish(session, kind, document)
    response.status_code = 201 if created else 200
    return summary


@router.get("", response_model=list[LawListed], dependencies=allow(*RULE_READ))
def listing(session: SessionDep, kind: str | None = Query(None, max_length=32),
            on: dt.date | None = Query(None, description="only the versions in force on this date")) -> list[dict]:
    return law.listing(session, kind, on)


@router.get("/{kind}/{doc_id}/{version}", response_model=LawDocumentOut, dependencies=allow(*RULE_READ))
def read(session: SessionDep, kind: str = KIND, doc_id: str = Path(..., max_length=64),
         version: str = Path(..., max_length=32)) -> dict:
    return law.document(session, kind, doc_id, version)
