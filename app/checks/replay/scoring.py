"""Replay of a scoring run: recomputed from its stored request under the rule set it pinned."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlmodel import Session

from app.checks import scoring
from app.checks.replay.compare import differences
from app.checks.scoring import published
from app.engine import Engine

# A scoring run's rule set by the digest its decision pinned (the law-document store).
ScoringRuleSetByDigest = Callable[[Session, str], scoring.ScoringRuleSet]


def replay(session: Session, stored: dict, engine: Engine,
           by_digest: ScoringRuleSetByDigest = published.by_digest) -> dict:
    """Recompute a scoring run from its stored request under the rule set it pinned, and compare
    every figure of every enterprise (differences name the enterprise: ``results.<id>.…``)."""
    doc = json.loads(scoring.get_run(session, stored["run_id"]))
    pins = stored.get("law") or doc.get("law") or []
    digest = pins[0]["digest"] if pins else stored["ruleset"]["digest"]
    rs = by_digest(session, digest)
    again = scoring.evaluate(scoring.from_run(doc, rs), engine)
    diffs = differences({k: doc.get(k) for k in SCORING_COMPARED}, {k: again.get(k) for k in SCORING_COMPARED})
    was = {r["id"]: r for r in doc["results"]}
    now = {r["id"]: r for r in again["results"]}
    for eid in sorted(set(was) | set(now)):
        diffs += [{**d, "enterprise": eid} for d in differences(was.get(eid), now.get(eid), f"results.{eid}")]
    return {"decision_id": stored["decision_id"], "kind": "scoring", "run_id": stored["run_id"], "year": doc["year"],
            "identical": not diffs, "differences": diffs, "engine": engine.name,
            "stored_engine": stored.get("engine"), "law": pins, "ruleset": rs.summary(),
            "verdict": again["verdict"], "counts": again["counts"], "class_counts": again["class_counts"]}


# Everything of a run that its rule set and request decide (not its id, time or engine).
SCORING_COMPARED = ("verdict", "year", "ruleset", "request_digest", "counts", "class_counts", "notes")
