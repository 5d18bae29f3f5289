"""Rule sets: publish, list, read, diff, resolve."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Body, Query, Response
from sqlmodel import select

from app.access import scope_writes
from app.access.auth import PUBLISH, RULE_READ, allow
from app.access.deps import SessionDep
from app.access.scope_writes import PublishCaller
from app.api.schemas import Published
from app.core.errors import InputError, NotFound, Problem
from app.core.numbers import dec_str
from app.rulesets.diff import diff
from app.rulesets.document import RuleSetDoc
from app.store import rulesets as store
from app.store.models import RuleSetVersion
from indicators.catalog import load_catalog

router = APIRouter(prefix="/v1/rulesets", tags=["rulesets"])


@router.post("", response_model=Published, status_code=201, dependencies=allow(*PUBLISH),
             responses={200: {"description": "identical version already published"},
                        409: {"description": "same id and version, different content"},
                        422: {"description": "validation errors, each with a path"}})
def publish(session: SessionDep, response: Response, caller: PublishCaller,
            document: dict[str, Any] = Body(...)) -> dict:
    """Publish a rule-set version.  A rule_admin key with a jurisdiction publishes only rule sets
    for jurisdictions inside it (403)."""
    scope_writes.ruleset(caller, document)
    summary, created = store.publish(session, document)
    response.status_code = 201 if created else 200
    return summary


def _versions(session, rid: str | None = None) -> list[RuleSetVersion]:
    q = select(RuleSetVersion).order_by(RuleSetVersion.ruleset_id, RuleSetVersion.effective_from,
                                        RuleSetVersion.published_at)
    if rid is not None:
        q = q.where(RuleSetVersion.ruleset_id == rid)
    return list(session.exec(q).all())


def _version_summary(row: RuleSetVersion) -> dict:
    return {"version": row.version, "digest": row.digest, "status": row.status,
            "effective_from": row.effective_from.isoformat(),
            "effective_to": row.effective_to.isoformat() if row.effective_to else None,
            "published_at": store._aware(row.published_at).isoformat(), "source": row.source}


def _group(rows: list[RuleSetVersion]) -> list[dict]:
    out: dict[str, dict] = {}
    for row in rows:
        doc = json.loads(row.document)
        entry = out.setdefault(row.ruleset_id, {"id": row.ruleset_id, "versions": []})
        entry.update(title=doc["title"], jurisdiction=row.jurisdiction, parent=row.parent, status=row.status)
        entry["versions"].append(_version_summary(row))
    return list(out.values())


@router.get("", dependencies=allow(*RULE_READ))
def list_rulesets(session: SessionDep, jurisdiction: str | None = Query(None, pattern=r"^\d{6}$")) -> list[dict]:
    rows = _versions(session)
    if jurisdiction:
        rows = [r for r in rows if r.jurisdiction == jurisdiction]
    return _group(rows)


@router.get("/resolve", dependencies=allow(*RULE_READ))
def resolve(session: SessionDep,
            as_of: dt.date = Query(..., description="law date (proposal date, signing date …)"),
            jurisdiction: str | None = Query(None, pattern=r"^\d{6}$"),
            ruleset: str | None = Query(None, max_length=64),
            industry: str | None = Query(None, max_length=16, pattern=r"^[0-9A-Za-z_\-]+$"),
            classification: str = Query("GB/T 4754-2017", max_length=64),
            parcel: str | None = Query(None, max_length=64, pattern=r"^\S+$",
                                       description="a parcel: its own rule set (applies_to.parcels) comes first"),
            park: str | None = Query(None, max_length=64, pattern=r"^\S+$",
                                     description="a park: its own rule set (applies_to.parks) comes before the county's"),
            known_at: dt.datetime | None = None) -> dict:
    """The effective layered rules for a jurisdiction (or rule set), industry and date; without a
    rule set, the most specific one in force: parcel > park > county > city > province > national."""
    known = known_at or dt.datetime.now(dt.UTC)
    if known.tzinfo is None:
        known = known.replace(tzinfo=dt.UTC)
    reg = store.registry(session)
    ind = {"code": industry, "classification": classification} if industry else None
    res = reg.resolve(ruleset=ruleset, jurisdiction=jurisdiction, as_of=as_of, known_at=known, industry=ind,
                      parcel=parcel, park=park)
    cat = load_catalog()
    rules = []
    for er in res.rules:
        t = er.concrete.threshold
        rules.append({
            "rule": er.rule.id, "indicator": er.rule.indicator, "label": cat.indicators[er.rule.indicator].label,
            "role": er.rule.role, "op": er.rule.op, "required": er.rule.required,
            "threshold": t if t is None or isinstance(t, bool) else
            [dec_str(x) for x in t] if isinstance(t, tuple) else dec_str(t),
            "unit": cat.indicators[er.rule.indicator].unit or None,
            "status": er.concrete.status or "applies", "message": er.concrete.message,
            "layer": er.layer.id, "layer_version": er.layer.version, "cite": er.rule.cite.model_dump(),
            "supersedes": er.supersedes, "relaxation": er.note,
            "example": er.layer.doc.status == "example" or bool(er.rule.example)})
    return {"ruleset": res.ref(), "as_of": as_of.isoformat(), "known_at": known.isoformat(),
            "industry": ind, "rules": rules}


@router.get("/{rid}", dependencies=allow(*RULE_READ))
def get_ruleset(session: SessionDep, rid: str) -> dict:
    rows = _versions(session, rid)
    if not rows:
        raise NotFound(f"rule set {rid} not found")
    return _group(rows)[0]


def _doc(session, rid: str, version: str) -> tuple[RuleSetVersion, RuleSetDoc]:
    row = session.exec(select(RuleSetVersion).where(RuleSetVersion.ruleset_id == rid,
                                                    RuleSetVersion.version == version)).first()
    if row is None:
        raise NotFound(f"rule set {rid} version {version} not found")
    return row, RuleSetDoc.model_validate(json.loads(row.document))


@router.get("/{rid}/versions/{version}", dependencies=allow(*RULE_READ))
def get_version(session: SessionDep, rid: str, version: str) -> dict:
    row, _ = _doc(session, rid, version)
    return {**_version_summary(row), "id": rid, "document": json.loads(row.document)}


@router.get("/{rid}/diff", dependencies=allow(*RULE_READ))
def diff_versions(session: SessionDep, rid: str,
                  from_: str = Query(..., alias="from", max_length=32),
                  to: str = Query(..., max_length=32)) -> dict:
    if from_ == to:
        raise InputError([Problem("to", "from 与 to 相同 (from and to are the same version)")])
    _, a = _doc(session, rid, from_)
    _, b = _doc(session, rid, to)
    return diff(a, b)
