"""Use case: a scoring run (``POST /v1/scoring/runs``), and the same run only once when a data set
is loaded again (the demo): an earlier run over exactly these enterprises and values for the year
is reused."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlmodel import Session

from app.checks import scoring
from app.checks.scoring import published
from app.core import clock
from app.engine import Engine
from app.store import scoring_runs


def run_text(session: Session, body: bytes | str | dict, engine: Engine) -> str:
    """Validate, score and store a run (with its decision) under the scoring rule set the body names,
    as published (its ``ruleset_version``, else the version in force today); the stored document's JSON."""
    req = scoring.parse_request(body, resolve=published.resolver(session, clock.today()))
    return scoring.run(session, req, engine)


def post(session: Session, body: bytes | str | dict, engine: Engine) -> dict:
    """``run_text`` as a dict."""
    return json.loads(run_text(session, body, engine))


def _same_values(result: dict, values: dict) -> bool:
    subs = result.get("sub_scores") or {}
    for key, want in values.items():
        got = (subs.get(key) or {}).get("value")
        if (got is None) != (want is None) or (got is not None and Decimal(str(got)) != Decimal(want)):
            return False
    return True


def find_identical(session: Session, body: dict) -> dict | None:
    """An earlier stored run over exactly these enterprises and values for the year (found by the
    stored run's year and first enterprise id), or None."""
    want = {e["id"]: e["values"] for e in body["enterprises"]}
    candidates = scoring_runs.run_ids_for(session, body["year"], body["enterprises"][0]["id"])
    session.rollback()
    for run_id in candidates:
        doc = json.loads(scoring.get_run(session, run_id))
        results = doc.get("results") or []
        if len(results) == len(want) and all(x["id"] in want and _same_values(x, want[x["id"]]) for x in results):
            return doc
    return None


def post_once(session: Session, body: dict, engine: Engine) -> tuple[dict, bool]:
    """``post``, unless ``find_identical`` finds the run: (the stored document, created)."""
    found = find_identical(session, body)
    if found is not None:
        return found, False
    return post(session, body, engine), True
