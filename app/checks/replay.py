"""Replay a stored decision under its pinned rule-set and law-document digests and compare."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from app.checks import indicator_catalog, proposal, scoring
from app.checks.parks.evaluation import reevaluate
from app.checks.scoring import published
from app.checks.visibility import ALL, TaxView
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


# Not part of what a park evaluation decided: the log's own fields and the engine that computed it.
_EVALUATION_NOT_COMPARED = {"decision_id", "seq", "created_at", "prev_hash", "hash", "engine", "engine_version"}


def _replay_park_evaluation(session: Session, decision_id: str, stored: dict, engine: Engine, view: TaxView) -> dict:
    if not isinstance(stored.get("law"), list) or not isinstance(stored.get("tax_view"), dict):
        raise InputError([Problem("decision_id", "该园区评价未记录所用法规文件版本与税收查看范围，无法重放 "
                                                 "(stored before evaluations pinned their law documents)")])
    stored_view = stored["tax_view"].get("jurisdiction")
    if not (view.unlimited or (stored_view is not None and view.sees(stored_view))):
        # The replay computes with the stored view: a narrower key may not recompute what it could not see.
        raise InputError([Problem("decision_id", f"该评价按 {stored_view or '全部辖区'} 的税收查看范围计算，超出本密钥辖区 "
                                                 f"{view.jurisdiction}，不能重放 (the evaluation was computed for a "
                                                 f"broader tax view than this key's)")])
    again = reevaluate(session, stored, engine)
    keys = (set(stored) | set(again)) - _EVALUATION_NOT_COMPARED
    differences = _diff({k: stored.get(k) for k in keys}, {k: again.get(k) for k in keys})
    return {"decision_id": decision_id, "identical": not differences, "differences": differences,
            "engine": engine.name, "stored_engine": stored.get("engine"), "law": stored["law"],
            "verdict": again["verdict"], "evaluation": again}


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


def replay(session: Session, decision_id: str, engine: Engine, view: TaxView = ALL,
           scoring_by_digest: ScoringRuleSetByDigest = published.by_digest) -> dict:
    """The decision computed again under what it pinned; ``view``: the tax rows the caller may see
    (a park evaluation is recomputed for the view it was stored with, which must be within it)."""
    stored = decisions.get(session, decision_id)
    if stored["kind"] == "park_evaluation":
        return _replay_park_evaluation(session, decision_id, stored, engine, view)
    if stored["kind"] == "scoring":
        return replay_scoring(session, {**stored, "decision_id": decision_id}, engine, scoring_by_digest)
    if stored["kind"] != "proposal":
        raise InputError([Problem("decision_id", f"不能重放此类决定：{stored['kind']} (replay does not support "
                                                 f"{stored['kind']} decisions)")])
    req = ProposalRequest.model_validate(stored["request"])
    # The indicator catalog the decision pinned (decisions stored before catalogs were documents
    # pinned none: the base catalog, which is what they used).
    law_pins = stored.get("law") or []
    catalog = (indicator_catalog.pinned(session, law_pins), law_pins or [indicator_catalog.base_pin()])
    again = proposal.evaluate(req, rulesets.registry(session), engine,
                              known_at=dt.datetime.fromisoformat(stored["known_at"]), pinned=stored["pinned"],
                              catalog=catalog)
    differences = _diff({"verdict": stored["verdict"], "findings": stored["findings"]},
                        {"verdict": again["verdict"], "findings": again["findings"]})
    return {"decision_id": decision_id, "identical": not differences, "differences": differences,
            "engine": engine.name, "stored_engine": stored.get("engine"), "pinned": stored["pinned"],
            "law": law_pins, "verdict": again["verdict"], "findings": again["findings"]}
