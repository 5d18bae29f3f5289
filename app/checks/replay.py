"""Replay a stored decision under its pinned rule-set and law-document digests and compare."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from app.checks import proposal
from app.checks.parks.evaluation import reevaluate
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


def replay(session: Session, decision_id: str, engine: Engine, view: TaxView = ALL) -> dict:
    """The decision computed again under what it pinned; ``view``: the tax rows the caller may see
    (a park evaluation is recomputed for the view it was stored with, which must be within it)."""
    stored = decisions.get(session, decision_id)
    if stored["kind"] == "park_evaluation":
        return _replay_park_evaluation(session, decision_id, stored, engine, view)
    if stored["kind"] != "proposal":
        # Other kinds are recomputed from the stored events by their own GET (performance);
        # proposal and park evaluation decisions carry everything a replay needs.
        raise InputError([Problem("decision_id", f"只能重放方案预审与园区评价决定 (replay supports proposal and park "
                                                 f"evaluation decisions only; "
                                                 f"this one is a {stored['kind']} decision)")])
    req = ProposalRequest.model_validate(stored["request"])
    again = proposal.evaluate(req, rulesets.registry(session), engine,
                              known_at=dt.datetime.fromisoformat(stored["known_at"]), pinned=stored["pinned"])
    differences = _diff({"verdict": stored["verdict"], "findings": stored["findings"]},
                        {"verdict": again["verdict"], "findings": again["findings"]})
    return {"decision_id": decision_id, "identical": not differences, "differences": differences,
            "engine": engine.name, "stored_engine": stored.get("engine"), "pinned": stored["pinned"],
            "verdict": again["verdict"], "findings": again["findings"]}
