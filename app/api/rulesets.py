"""Rule sets: publish, list, read, diff, resolve."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Query, Response

from app.access import scope_writes
from app.access.auth import PUBLISH, RULE_READ, allow
from app.access.deps import SessionDep
from app.access.scope_writes import PublishCaller
from app.checks import rulesets as reading
from app.schemas.responses.common import OUT
from app.schemas.responses.rulesets import Published, Resolved, RuleSetDiff, RuleSetSummary, RuleSetVersion

router = APIRouter(prefix="/v1/rulesets", tags=["rulesets"])


@router.post("", response_model=Published, status_code=201, dependencies=allow(*PUBLISH), **OUT,
             responses={200: {"model": Published, "description": "identical version already published"},
                        409: {"description": "same id and version, different content"},
                        422: {"description": "validation errors, each with a path"}})
def publish(session: SessionDep, response: Response, caller: PublishCaller,
            document: dict[str, Any] = Body(...)) -> dict:
    """Publish a rule-set version.  A rule_admin key with a jurisdiction publishes only rule sets
    for jurisdictions inside it (403)."""
    scope_writes.ruleset(caller, document)
    summary, created = reading.publish(session, document)
    response.status_code = 201 if created else 200
    return summary


@router.get("", response_model=list[RuleSetSummary], dependencies=allow(*RULE_READ), **OUT)
def list_rulesets(session: SessionDep, jurisdiction: str | None = Query(None, pattern=r"^\d{6}$")) -> list[dict]:
    return reading.list_rulesets(session, jurisdiction)


@router.get("/resolve", response_model=Resolved, dependencies=allow(*RULE_READ), **OUT)
def resolve(session: SessionDep,
            as_of: dt.date = Query(..., description="law date (proposal date, signing date …)"),
            jurisdiction: str | None = Query(None, pattern=r"^\d{6}$"),
            ruleset: str | None = Query(None, max_length=64),
            industry: str | None = Query(None, max_length=16, pattern=r"^[0-9A-Za-z_\-]+$"),
            classification: str = Query("GB/T 4754-2017", max_length=64),
            parcel: str | None = Query(None, max_length=64, pattern=r"^\S+$",
                                       description="a parcel: its own rule set (applies_to.parcels) comes first"),
            park: str | None = Query(None, max_length=64, pattern=r"^\S+$",
                                     description="a park: its own rule set (applies_to.parks) comes before the county's"),
            known_at: dt.datetime | None = None) -> dict:
    """The effective layered rules for a jurisdiction (or rule set), industry and date; without a
    rule set, the most specific one in force: parcel > park > county > city > province > national."""
    return reading.resolve(session, as_of=as_of, known_at=known_at, ruleset=ruleset, jurisdiction=jurisdiction,
                           industry=industry, classification=classification, parcel=parcel, park=park)


@router.get("/{rid}", response_model=RuleSetSummary, dependencies=allow(*RULE_READ), **OUT)
def get_ruleset(session: SessionDep, rid: str) -> dict:
    return reading.get_ruleset(session, rid)


@router.get("/{rid}/versions/{version}", response_model=RuleSetVersion, dependencies=allow(*RULE_READ), **OUT)
def get_version(session: SessionDep, rid: str, version: str) -> dict:
    return reading.get_version(session, rid, version)


@router.get("/{rid}/diff", response_model=RuleSetDiff, dependencies=allow(*RULE_READ), **OUT)
def diff_versions(session: SessionDep, rid: str,
                  from_: str = Query(..., alias="from", max_length=32),
                  to: str = Query(..., max_length=32)) -> dict:
    return reading.diff_versions(session, rid, from_, to)
