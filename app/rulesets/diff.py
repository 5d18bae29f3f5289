"""Differences between two rule-set versions, rule by rule."""

from __future__ import annotations

from typing import Any

from app.rulesets.document import RuleSetDoc, _canon

_TOP = ("title", "status", "jurisdiction", "parent", "effective_from", "effective_to", "classification",
        "precision", "tax_basis", "documents", "industry_map", "industries", "notes")


def diff(a: RuleSetDoc, b: RuleSetDoc) -> dict:
    da, db = _canon(a.model_dump(by_alias=True)), _canon(b.model_dump(by_alias=True))
    fields = {k: {"from": da[k], "to": db[k]} for k in _TOP if da[k] != db[k]}
    ra = {r["id"]: r for r in da["rules"]}
    rb = {r["id"]: r for r in db["rules"]}
    changed: list[dict[str, Any]] = []
    for rid in ra.keys() & rb.keys():
        if ra[rid] != rb[rid]:
            changes = {k: {"from": ra[rid].get(k), "to": rb[rid].get(k)}
                       for k in sorted(set(ra[rid]) | set(rb[rid])) if ra[rid].get(k) != rb[rid].get(k)}
            changed.append({"rule": rid, "indicator": rb[rid]["indicator"], "changes": changes})
    return {
        "id": b.id, "from": a.version, "to": b.version,
        "fields": fields,
        "added": [rb[r] for r in rb if r not in ra],
        "removed": [ra[r] for r in ra if r not in rb],
        "changed": sorted(changed, key=lambda c: c["rule"]),
    }
