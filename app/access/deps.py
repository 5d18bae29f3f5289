"""Dependencies injected into the routers."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Annotated, Any

from fastapi import Depends
from sqlmodel import Session

from app.engine import Engine, selected
from app.observability.metrics import timed_evaluate
from app.store.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]


async def get_rule_engine() -> Engine:
    # Async (no I/O): a sync dependency would cost a thread-pool hand-off per request.
    return _timed(selected())


@cache
def _timed(engine: Engine) -> Engine:
    """The engine with each evaluation observed in the engine-time histogram (/metrics);
    the same name and version, so verdicts record the same engine."""
    return replace(engine, evaluate=timed_evaluate(engine.evaluate))


EngineDep = Annotated[Engine, Depends(get_rule_engine)]


def inline_defs(schema: dict) -> dict:
    """A request schema with its $defs inlined, for endpoints that read their body themselves
    (an operation's schema has no $defs of its own)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk({**defs[ref.split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}})
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)
