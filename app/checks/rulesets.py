"""Reading published rule sets (moved from the router ``app.api.rulesets`` so that the API and the
rule-set pages share them): the list grouped by rule set, one rule set, one version with its
document, and the diff of two versions."""

from __future__ import annotations

import json

from sqlmodel import select

from app.core.errors import InputError, NotFound, Problem
from app.rulesets.diff import diff
from app.rulesets.document import RuleSetDoc
from app.store import rulesets as store
from app.store.models import RuleSetVersion


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


def list_rulesets(session, jurisdiction: str | None = None) -> list[dict]:
    rows = _versions(session)
    if jurisdiction:
        rows = [r for r in rows if r.jurisdiction == jurisdiction]
    return _group(rows)


def get_ruleset(session, rid: str) -> dict:
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


def get_version(session, rid: str, version: str) -> dict:
    row, _ = _doc(session, rid, version)
    return {**_version_summary(row), "id": rid, "document": json.loads(row.document)}


def diff_versions(session, rid: str, from_: str, to: str) -> dict:
    if from_ == to:
        raise InputError([Problem("to", "from 与 to 相同 (from and to are the same version)")])
    _, a = _doc(session, rid, from_)
    _, b = _doc(session, rid, to)
    return diff(a, b)
