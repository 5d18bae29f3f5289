"""Replay a stored decision under its pinned documents and compare."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from app.checks import contract, performance, proposal
from app.core.errors import InputError, Problem
from app.engine import Engine
from app.schemas.contract import ContractRequest
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


REPLAYABLE = ("proposal", "contract", "performance")


def replay(session: Session, decision_id: str, engine: Engine) -> dict:
    """Recompute a stored decision with exactly the documents it pinned (rule-set layers, and the
    law documents under ``law``) and the inputs it was computed from, and compare verdict and
    findings.  Proposal and contract-check decisions carry their request; a performance decision
    is recomputed from the registered contract, the events recorded by its ``known_at`` and the tax
    figures and land it recorded."""
    stored = decisions.get(session, decision_id)
    kind = stored["kind"]
    if kind not in REPLAYABLE or (kind == "performance" and "inputs" not in stored):
        raise InputError([Problem("decision_id", f"只能重放方案预审、合同条款核查和履约核查决定 (replay supports "
                                                 f"{', '.join(REPLAYABLE)} decisions — a performance decision from "
                                                 f"before they recorded their inputs cannot be; this one is a {kind} "
                                                 "decision)")])
    known_at = dt.datetime.fromisoformat(stored["known_at"])
    if kind == "proposal":
        req = ProposalRequest.model_validate(stored["request"])
        again = proposal.evaluate(req, rulesets.registry(session), engine, known_at=known_at, pinned=stored["pinned"])
    elif kind == "contract":
        again = contract.evaluate(ContractRequest.model_validate(stored["request"]), session, engine, known_at=known_at,
                                  pinned=stored["pinned"], law_pins=stored.get("law", []))
    else:
        again = performance.replay(session, stored, engine)
    differences = _diff({"verdict": stored["verdict"], "findings": stored["findings"]},
                        {"verdict": again["verdict"], "findings": again["findings"]})
    return {"decision_id": decision_id, "kind": kind, "identical": not differences, "differences": differences,
            "engine": engine.name, "stored_engine": stored.get("engine"), "pinned": stored.get("pinned", []),
            "law": stored.get("law", []), "verdict": again["verdict"], "findings": again["findings"]}
