"""Reading published rule sets (moved from the router ``app.api.rulesets`` so that the API and the
rule-set pages share them): the list grouped by rule set, one rule set, one version with its
document, the diff of two versions, the resolved rules; ``rules validate``'s check of files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from app.checks import indicator_catalog
from app.core import clock
from app.core.errors import InputError, NotFound, Problem
from app.core.numbers import dec_str
from app.core.safe_yaml import YamlRefused
from app.rulesets.diff import diff
from app.rulesets.document import RuleSetDoc, validate_document
from app.store import rulesets as store
from app.store.models import RuleSetVersion
from indicators.catalog import indicator


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
    rows = store.versions(session)
    if jurisdiction:
        rows = [r for r in rows if r.jurisdiction == jurisdiction]
    return _group(rows)


def get_ruleset(session, rid: str) -> dict:
    rows = store.versions(session, rid)
    if not rows:
        raise NotFound(f"rule set {rid} not found")
    return _group(rows)[0]


def _doc(session, rid: str, version: str) -> tuple[RuleSetVersion, RuleSetDoc]:
    row = store.find_version(session, rid, version)
    if row is None:
        raise NotFound(f"rule set {rid} version {version} not found")
    return row, RuleSetDoc.model_validate(json.loads(row.document))


def version_document(session, rid: str, version: str) -> RuleSetDoc:
    """A published version's document; NotFound if there is none."""
    return _doc(session, rid, version)[1]


def validate_files(paths: list[Path], session=None) -> list[tuple[Path, RuleSetDoc | None, Exception | None]]:
    """``rules validate``: each file as publishing would validate it (format, indicators, units,
    citations, the parent known and never loosened: ``store.check_parents``).  Per file: (path, the
    document or None, the error or None).

    ``session``: a database — the indicators checked against the catalog documents in force there on
    the file's ``effective_from`` and the parents taken from the published versions, as ``publish``
    does.  Without one: the bundled catalog documents and rule-set files."""
    known: dict[str, list[RuleSetDoc]] = {}
    if session is None:
        for p in store.bundled_files():
            try:
                d = validate_document(store.load_yaml(p))
                known.setdefault(d.id, []).append(d)
            except (InputError, YamlRefused):
                pass
    out: list[tuple[Path, RuleSetDoc | None, Exception | None]] = []
    for p in paths:
        try:
            raw = store.load_yaml(p)
            if session is None:
                doc = validate_document(raw)
                store.check_parents(doc, known)
            else:
                doc = validate_document(raw, _catalog_for(session, raw))
                store.check_against_parents(session, doc)
            out.append((p, doc, None))
        except Exception as e:  # noqa: BLE001 — every file is reported, none stops the others
            out.append((p, None, e))
    return out


def _catalog_for(session, raw: object):
    """The catalog in force in the database on a document's ``effective_from``; None when the date
    does not parse (the validation reports it)."""
    frm = raw.get("effective_from") if isinstance(raw, dict) else None
    try:
        on = frm if isinstance(frm, dt.date) else dt.date.fromisoformat(str(frm)) if frm is not None else None
    except ValueError:
        on = None
    return indicator_catalog.in_force(session, on)[0] if on is not None else None


def get_version(session, rid: str, version: str) -> dict:
    row, _ = _doc(session, rid, version)
    return {**_version_summary(row), "id": rid, "document": json.loads(row.document)}


def diff_versions(session, rid: str, from_: str, to: str) -> dict:
    if from_ == to:
        raise InputError([Problem("to", "from 与 to 相同 (from and to are the same version)")])
    _, a = _doc(session, rid, from_)
    _, b = _doc(session, rid, to)
    return diff(a, b)


def resolve(session, *, as_of: dt.date, known_at: dt.datetime | None = None, ruleset: str | None = None,
            jurisdiction: str | None = None, industry: str | None = None, classification: str = "GB/T 4754-2017",
            parcel: str | None = None, park: str | None = None) -> dict:
    """The effective layered rules (``GET /v1/rulesets/resolve``): for a rule set, or without one the
    most specific in force (parcel > park > county > city > province > national), for the industry
    and the law date, as known at ``known_at`` (default now; a naive time is UTC)."""
    known = known_at or clock.utcnow()
    if known.tzinfo is None:
        known = known.replace(tzinfo=dt.UTC)
    ind = {"code": industry, "classification": classification} if industry else None
    indicator_catalog.in_force(session, as_of)      # the catalog documents' units and labels known here
    res = store.registry(session).resolve(ruleset=ruleset, jurisdiction=jurisdiction, as_of=as_of, known_at=known,
                                          industry=ind, parcel=parcel, park=park)
    rules = []
    for er in res.rules:
        t = er.concrete.threshold
        rules.append({
            "rule": er.rule.id, "indicator": er.rule.indicator, "label": indicator(er.rule.indicator).label,
            "role": er.rule.role, "op": er.rule.op, "required": er.rule.required,
            "threshold": t if t is None or isinstance(t, bool) else
            [dec_str(x) for x in t] if isinstance(t, tuple) else dec_str(t),
            "unit": indicator(er.rule.indicator).unit or None,
            "status": er.concrete.status or "applies", "message": er.concrete.message,
            "layer": er.layer.id, "layer_version": er.layer.version, "cite": er.rule.cite.model_dump(),
            "supersedes": er.supersedes, "relaxation": er.note,
            "example": er.layer.doc.status == "example" or bool(er.rule.example)})
    return {"ruleset": res.ref(), "as_of": as_of.isoformat(), "known_at": known.isoformat(),
            "industry": ind, "rules": rules}


def publish(session, raw: dict, source: str = "api") -> tuple[dict, bool]:
    """Publish a rule-set version, its indicators checked against the catalog documents in force on
    its ``effective_from`` (a date that does not parse is reported by the validation itself)."""
    catalog = _catalog_for(session, raw)
    return store.publish(session, raw, source, catalog=catalog)
