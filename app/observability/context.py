"""What the current request is, for the log line: its id and the decisions it stored.

The middleware sets a fresh holder per request; ``decisions_stored`` (called by the
decision log after a commit) adds to it.  Sync endpoints run in a worker thread with a
*copy* of the context: the copy shares the holder object, so the ids reach the
middleware, whereas setting a new value there would not.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from app.observability import metrics


@dataclass(slots=True)
class RequestContext:
    request_id: str
    decision_ids: list[str] = field(default_factory=list)
    decision_count: int = 0


CURRENT: ContextVar[RequestContext | None] = ContextVar("standard_land_request", default=None)

# The log line carries at most this many ids; a 10,000-item batch logs its count instead.
MAX_LOGGED_IDS = 20


def decisions_stored(stored: list[dict]) -> None:
    """Called once per committed append: counts the decisions and notes their ids."""
    metrics.count_decisions(stored)
    ctx = CURRENT.get()
    if ctx is not None:
        ctx.decision_count += len(stored)
        room = MAX_LOGGED_IDS - len(ctx.decision_ids)
        ctx.decision_ids.extend(d["decision_id"] for d in stored[:max(room, 0)])
