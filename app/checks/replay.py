"""Replay a stored decision under its pinned rule-set digests (and pinned law documents) and compare."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from app.checks import proposal, scoring
from app.checks.scoring import published
from app.core.errors import InputError, Problem
from app.engine import Engine
from app.schemas.proposal import ProposalRequest
from app.store import decisions, rulesets


def _diff(a: Any, b: Any, path: str = "") -> list[dict]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff(x, y, f"{path}.{i}")
        return out
    return [] if a == b else [{"path": path, "stored": a, "replayed": b}]


# A scoring run's rule set by the digest its decision pinned (the law-document store).
ScoringRuleSetByDigest = Callable[[Session, str], scoring.ScoringRuleSet]


def replay_scoring(session: Session, stored: dict, engine: Engine,
                   by_digest: ScoringRuleSetByDigest = published.by_digest) -> dict:
    """Recompute a scoring run from its stored request under the rule set it pinned, and compare
    every figure of every enterprise (differences name the enterprise: ``results.<id>.…``)."""
    doc = json.loads(scoring.get_run(session, stored["run_id"]))
    pins = stored.get("law") or doc.get("law") or []
    digest = pins[0]["digest"] if pins else stored["ruleset"]["digest"]
    rs = by_digest(session, digest)
    again = scoring.evaluate(scoring.from_run(doc, rs), engine)
    differences = _diff({k: doc.get(k) for k in SCORING_COMPARED}, {k: again.get(k) for k in SCORING_COMPARED})
    was = {r["id"]: r for r in doc["results"]}
    now = {r["id"]: r for r in again["results"]}
    for eid in sorted(set(was) | set(now)):
        differences += [{**d, "enterprise": eid} for d in _diff(was.get(eid), now.get(eid), f"results.{eid}")]
    return {"decision_id": stored["decision_id"], "kind": "scoring", "run_id": stored["run_id"], "year": doc["year"],
            "identical": not differences, "differences": differences, "engine": engine.name,
            "stored_engine": stored.get("engine"), "law": pins, "ruleset": rs.summary(),
            "verdict": again["verdict"], "counts": again["counts"], "class_counts": again["class_counts"]}


# Everything of a run that its rule set and request decide (not its id, time or engine).
SCORING_COMPARED = ("verdict", "year", "ruleset", "request_digest", "counts", "class_counts", "notes")


def replay(session: Session, decision_id: str, engine: Engine,
           scoring_by_digest: ScoringRuleSetByDigest = published.by_digest) -> dict:
    stored = decisions.get(session, decision_id)
    if stored["kind"] == "scoring":
        return replay_scoring(session, {**stored, "decision_id": decision_id}, engine, scoring_by_digest)
    if stored["kind"] != "proposal":
        # Other kinds are recomputed from the stored events by their own GET (performance,
        # evaluation); proposal decisions and scoring runs carry everything a replay needs.
        raise InputError([Problem("decision_id", f"只能重放方案预审决定和评价 (replay supports proposal and scoring "
                                                 f"decisions only; "
                                                 f"this one is a {stored['kind']} decision)")])
    req = ProposalRequest.model_validate(stored["request"])
    again = proposal.evaluate(req, rulesets.registry(session), engine,
                              known_at=dt.datetime.fromisoformat(stored["known_at"]), pinned=stored["pinned"])
    differences = _diff({"verdict": stored["verdict"], "findings": stored["findings"]},
                        {"verdict": again["verdict"], "findings": again["findings"]})
    return {"decision_id": decision_id, "identical": not differences, "differences": differences,
            "engine": engine.name, "stored_engine": stored.get("engine"), "pinned": stored["pinned"],
            "verdict": again["verdict"], "findings": again["findings"]}
