"""Replay a stored decision under its pinned rule-set digests and compare."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from app.checks import proposal
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


def replay(session: Session, decision_id: str, engine: Engine) -> dict:
    stored = decisions.get(session, decision_id)
    if stored["kind"] != "proposal":
        # Other kinds are recomputed from the stored events by their own GET (performance,
        # evaluation); only proposal decisions carry everything a replay needs.
        raise InputError([Problem("decision_id", f"只能重放方案预审决定 (replay supports proposal decisions only; "
                                                 f"this one is a {stored['kind']} decision)")])
    req = ProposalRequest.model_validate(stored["request"])
    again = proposal.evaluate(req, rulesets.registry(session), engine,
                              known_at=dt.datetime.fromisoformat(stored["known_at"]), pinned=stored["pinned"])
    differences = _diff({"verdict": stored["verdict"], "findings": stored["findings"]},
                        {"verdict": again["verdict"], "findings": again["findings"]})
    return {"decision_id": decision_id, "identical": not differences, "differences": differences,
            "engine": engine.name, "stored_engine": stored.get("engine"), "pinned": stored["pinned"],
            "verdict": again["verdict"], "findings": again["findings"]}
