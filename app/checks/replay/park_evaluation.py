"""Replay of a park evaluation: recomputed for the tax view it was stored with, under the law
documents it pinned (every low-efficiency version, the 53号令 version)."""

from __future__ import annotations

from sqlmodel import Session

from app.checks.parks.evaluation import reevaluate
from app.checks.replay.compare import differences
from app.checks.visibility import TaxView
from app.core.errors import InputError, Problem
from app.engine import Engine

# Not part of what a park evaluation decided: the log's own fields and the engine that computed it.
_EVALUATION_NOT_COMPARED = {"decision_id", "seq", "created_at", "prev_hash", "hash", "engine", "engine_version"}


def replay(session: Session, decision_id: str, stored: dict, engine: Engine, view: TaxView) -> dict:
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
    diffs = differences({k: stored.get(k) for k in keys}, {k: again.get(k) for k in keys})
    return {"decision_id": decision_id, "identical": not diffs, "differences": diffs,
            "engine": engine.name, "stored_engine": stored.get("engine"), "law": stored["law"],
            "verdict": again["verdict"], "evaluation": again}
