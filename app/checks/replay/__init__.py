"""Replay a stored decision under what it pinned and compare (``POST /v1/decisions/{id}/replay``).

Every decision kind replays, each from the inputs it recorded and exactly the documents it pinned
(rule-set layers under ``pinned``, law documents under ``law``), never a version published since:

- proposal and contract check: from the stored request (here);
- performance audit: from the registered contract, the events recorded by its ``known_at`` and the
  tax figures and land it recorded (``app.checks.performance.replay``);
- park evaluation: for the tax view it was stored with (``park_evaluation``);
- scoring run: from its stored request (``scoring``).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from app.checks import contract, indicator_catalog, performance, proposal
from app.checks.replay import park_evaluation, scoring
from app.checks.replay.compare import differences
from app.checks.visibility import ALL, TaxView
from app.core.errors import InputError, Problem
from app.engine import Engine
from app.schemas.contract import ContractRequest
from app.schemas.proposal import ProposalRequest
from app.store import decisions, rulesets

REPLAYABLE = ("proposal", "contract", "performance", "park_evaluation", "scoring")


def _proposal(session: Session, stored: dict, engine: Engine, known_at: dt.datetime) -> dict:
    # The indicator catalog the decision pinned (decisions stored before catalogs were documents
    # pinned none: the base catalog, which is what they used).
    law_pins = stored.get("law") or []
    catalog = (indicator_catalog.pinned(session, law_pins), law_pins or [indicator_catalog.base_pin()])
    return proposal.evaluate(ProposalRequest.model_validate(stored["request"]), rulesets.registry(session), engine,
                             known_at=known_at, pinned=stored["pinned"], catalog=catalog)


def replay(session: Session, decision_id: str, engine: Engine, view: TaxView = ALL,
           scoring_by_digest: scoring.ScoringRuleSetByDigest = scoring.published.by_digest) -> dict:
    """The decision computed again under what it pinned; ``view``: the tax rows the caller may see
    (a park evaluation is recomputed for the view it was stored with, which must be within it)."""
    stored = decisions.get(session, decision_id)
    kind = stored["kind"]
    if kind == "park_evaluation":
        return park_evaluation.replay(session, decision_id, stored, engine, view)
    if kind == "scoring":
        return scoring.replay(session, {**stored, "decision_id": decision_id}, engine, scoring_by_digest)
    if kind not in REPLAYABLE or (kind == "performance" and "inputs" not in stored):
        raise InputError([Problem("decision_id", f"不能重放此决定：{kind} 类决定不可重放，或履约核查决定早于记录其输入的版本 "
                                                 f"(replay supports {', '.join(REPLAYABLE)} decisions — a performance "
                                                 f"decision from before they recorded their inputs cannot be; this one is "
                                                 f"a {kind} decision)")])
    known_at = dt.datetime.fromisoformat(stored["known_at"])
    if kind == "proposal":
        again = _proposal(session, stored, engine, known_at)
    elif kind == "contract":
        again = contract.evaluate(ContractRequest.model_validate(stored["request"]), session, engine, known_at=known_at,
                                  pinned=stored["pinned"], law_pins=stored.get("law", []))
    else:
        again = performance.replay(session, stored, engine)
    diffs = differences({"verdict": stored["verdict"], "findings": stored["findings"]},
                        {"verdict": again["verdict"], "findings": again["findings"]})
    return {"decision_id": decision_id, "kind": kind, "identical": not diffs, "differences": diffs,
            "engine": engine.name, "stored_engine": stored.get("engine"), "pinned": stored.get("pinned", []),
            "law": stored.get("law", []), "verdict": again["verdict"], "findings": again["findings"]}
