"""亩均效益 scoring runs (亩均论英雄): POST a population, read a stored run, or its flat table."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.access import scope
from app.access.auth import RULE_READ, WRITE, Caller, ReadCaller, allow, require
from app.access.deps import EngineDep, SessionDep, inline_defs
from app.checks import scoring, scoring_runs
from app.checks.scoring import published
from app.core import clock
from app.core.errors import InputError, NotFound
from app.core.gc import gc_paused
from app.schemas.responses.common import OUT
from app.schemas.responses.scoring import ScoringRuleSet, ScoringRuleSets, ScoringRun, ScoringTable

router = APIRouter(prefix="/v1/scoring", tags=["scoring"])


class Value(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float | str | None = Field(description="the value; a JSON number or a decimal string")
    unit: str | None = Field(default=None, description="converted to the rule set's unit (e.g. % → fraction)")


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=scoring.MAX_ID, description="统一社会信用代码 or name; unique in the run")
    name: str | None = Field(default=None, max_length=scoring.MAX_NAME)
    values: dict[str, float | str | Value | None] = Field(
        description="indicator → value in the rule set's unit (or {value, unit}); null or absent = no data",
        examples=[{"tax_per_mu": 30.5, "va_per_mu": 150, "energy_efficiency": 3.1, "emission_efficiency": None,
                   "labour_productivity": 20, "rd_share": 0.035}])


class RunIn(BaseModel):
    """Documentation of the request body; the body is validated exactly (decimal, not float) by
    ``app.checks.scoring.parse_request``, which reports every problem with its path."""
    model_config = ConfigDict(extra="forbid")
    ruleset: str = Field(default=scoring.DEFAULT_RULESET,
                         description="scoring rule-set id: a law document of kind scoring (GET /v1/law?kind=scoring)")
    ruleset_version: str | None = Field(default=None, description="default: the version in force today")
    year: int = Field(ge=scoring.MIN_YEAR, le=scoring.MAX_YEAR, description="evaluation year")
    enterprises: list[EnterpriseIn] = Field(min_length=1, max_length=scoring.MAX_ENTERPRISES)


_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": inline_defs(RunIn.model_json_schema())}}}}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def _json(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


@router.post("/runs", status_code=201, openapi_extra=_BODY, response_model=ScoringRun,
             responses={201: {"description": "the stored run: every enterprise with every sub-score, rank, "
                                             "percentile and class; the decision id"},
                        422: {"description": "invalid input: every problem with its path; nothing stored"}})
def post_run(session: SessionDep, engine: EngineDep, caller: Annotated[Caller, Depends(require(*WRITE))],
             body: Annotated[bytes, Depends(_raw_body)]) -> Response:
    """Score a population of enterprises for a year: score = Σ value ÷ benchmark × weight, ranked and
    classed (A/B/C/D by rank percentile) as the scoring rule set declares (the published version
    named, else the one in force today); stored with a decision that pins the rule set's digest.
    The answer is filtered by jurisdiction as GET /runs/{id}."""
    with gc_paused():       # shared with tax batches: no cyclic GC rescanning a large population
        text = scoring_runs.run_text(session, body, engine)
    if caller.jurisdiction is None:
        return _json(text, 201)
    return _json(json.dumps(scope.scoring_run(session, json.loads(text), caller), ensure_ascii=False), 201)


@router.get("/runs/{run_id}", response_model=ScoringRun)
def get_run(run_id: str, session: SessionDep, caller: ReadCaller) -> Response:
    """A stored run.  A key with a jurisdiction sees only the enterprises whose region is under it
    (the reporting authority of their tax rows, default the USCC's registering authority; ranks stay
    those of the whole run; ``scope`` says how many were left out)."""
    text = scoring.get_run(session, run_id)
    if caller.jurisdiction is None:
        return _json(text)
    return _json(json.dumps(scope.scoring_run(session, json.loads(text), caller), ensure_ascii=False))


@router.get("/runs/{run_id}/table", response_model=ScoringTable, **OUT)
def get_table(run_id: str, session: SessionDep, caller: ReadCaller) -> dict:
    """The run as one flat table (columns, rows in rank order), for spreadsheets; filtered by
    jurisdiction as GET /runs/{id}."""
    return scoring.table(scope.scoring_run(session, json.loads(scoring.get_run(session, run_id)), caller))


@router.get("/rulesets", response_model=ScoringRuleSets, dependencies=allow(*RULE_READ), **OUT)
def list_rulesets(session: SessionDep) -> dict:
    """Every published version (law kind ``scoring``; publish with POST /v1/law/scoring), and the
    bundled files that are invalid (not published)."""
    _by_id, errors = scoring.bundled()
    return {"rulesets": [rs.summary() for rs in published.every(session)], "invalid_files": errors}


@router.get("/rulesets/{ruleset_id}", response_model=ScoringRuleSet, dependencies=allow(*RULE_READ), **OUT)
def get_ruleset(ruleset_id: str, session: SessionDep, version: str | None = None) -> dict:
    """One rule set: the version named, else the one in force today."""
    try:
        rs = published.get(session, ruleset_id, version, clock.today())
    except InputError as e:
        raise NotFound(str(e)) from None
    return {**rs.describe(), "documents": rs.documents, "notes": rs.notes}
