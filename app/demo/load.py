"""Loading the demo data set through the use-case functions the API uses (``app.checks``), and
nothing else: contracts with their clause checks (``contracts_register``), lifecycle events, the
park and its parcels, tax batches (``tax_records``), 一宗一策 plans, the scoring run
(``scoring_runs``).  Every step is idempotent: loading the same data again changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from app.checks import contracts_register, scoring_runs, tax_records
from app.checks.parks import plans, registry
from app.demo.spec import DEMO_NAME, Demo
from app.engine import Engine
from app.schemas.contract import ContractRequest, EventBatch

Progress = Callable[[str], None]


def load_contracts(session: Session, demo: Demo, engine: Engine, say: Progress) -> dict:
    """The contracts as ``POST /v1/contracts`` registers them (clause check stored as a decision,
    then the contract), the checks of a chunk appended in one transaction; an identical registered
    contract is skipped, another one under the number refused."""
    reqs = [ContractRequest.model_validate(raw) for raw in demo.contracts]
    return contracts_register.register_many(session, reqs, engine, say)


def load_events(session: Session, demo: Demo, say: Progress) -> int:
    """Lifecycle events as ``POST /v1/contracts/{no}/events`` appends them (validated against the
    contract, one transaction per contract); a contract whose stored events are these is skipped."""
    batches = {no: EventBatch.model_validate({"events": evs}) for no, evs in demo.events.items() if evs}
    return contracts_register.append_events_once(session, batches, say)


def load_plans(session: Session, demo: Demo) -> int:
    """Plan versions as ``PUT /v1/parcels/{code}/plan`` records them; versions already stored are skipped."""
    created = 0
    for code, versions in demo.plans.items():
        have = plans.plan_history(session, code)["count"]
        for k, v in enumerate(versions[have:], start=have):
            _, was_created = plans.put_plan(session, code, {**v, "expected_version": k})
            created += was_created
    return created


def load_scoring(session: Session, demo: Demo, engine: Engine) -> dict:
    """A scoring run as ``POST /v1/scoring/runs`` stores it (default rule set); an identical
    earlier run is reused."""
    if not demo.scoring:
        return {"status": "skipped", "reason": "no completed enterprises"}
    session.rollback()
    doc, created = scoring_runs.post_once(session, demo.scoring, engine)
    return {"status": "ok", "run_id": doc["run_id"], "created": created, "year": doc["year"],
            "ruleset": {k: doc["ruleset"].get(k) for k in ("id", "version", "status")},
            "counts": doc["counts"], "class_counts": doc["class_counts"], "verdict": doc.get("verdict")}


def load(session: Session, demo: Demo, engine: Engine, *, say: Progress | None = None) -> dict:
    """Load ``demo`` through the use-case functions the API uses; idempotent.  Returns a summary:
    the park id, the counts of the data set and of what this call created."""
    say = say or (lambda _msg: None)
    spec = demo.spec
    say(f"示例园区 {spec.park_id}: {len(demo.parcels)} 宗, {len(demo.contracts)} 份合同, 税收 {spec.first_year}–{spec.last_year}")
    created: dict[str, Any] = load_contracts(session, demo, engine, say)
    created["events"] = load_events(session, demo, say)
    say(f"  事件 events: {created['events']} appended")
    out = registry.register_park_with_parcels(session, demo.park, demo.parcels)
    created["park"] = out["park"]["created"]
    created["parcels"] = sum(1 for p in out["parcels"] if p["created"])
    say(f"  园区与宗地 park and parcels: {created['parcels']} new")
    created["tax_batches"] = created["tax_records"] = 0
    for b in demo.tax_batches:
        summary, was_created = tax_records.post_json(session, json.dumps(b, ensure_ascii=False).encode("utf-8"))
        if was_created:
            created["tax_batches"] += 1
            created["tax_records"] += summary["new_records"] + summary["corrections"]
    say(f"  税收 tax: {created['tax_batches']} new batches, {created['tax_records']} records")
    created["plan_versions"] = load_plans(session, demo)
    session.rollback()
    scoring = load_scoring(session, demo, engine)
    created["scoring_run"] = bool(scoring.get("created"))
    say(f"  评价 scoring: {scoring.get('status')} {scoring.get('run_id') or scoring.get('reason')}")
    return {"park": spec.park_id, "name": DEMO_NAME, "synthetic": True, "as_of": spec.as_of.isoformat(),
            "years": spec.tax_years, "spec": {"parcels": spec.parcels, "years": spec.years, "seed": spec.seed,
                                              "last_year": spec.last_year},
            "counts": demo.counts(), "created": created, "scoring": scoring}
