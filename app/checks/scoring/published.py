"""Scoring rule sets as law documents (kind ``scoring``, ``app.checks.law``): what a run reads.

A run names a rule-set id and optionally a version; without a version it gets the version in
force on the run's date (``app.core.clock``: Asia/Shanghai by default).  The run and its decision
record ``law.pin`` of the document, and a replay reads exactly that document back by its digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session

from app.checks import law
from app.core.errors import InputError, NotFound, Problem

from .library import version_key
from .request import Resolver
from .ruleset import ScoringRuleSet

KIND = "scoring"


def _ruleset(doc: law.Law) -> ScoringRuleSet:
    # The parser hashed the same canonical text the store did; the store's digest is the one pinned.
    return dataclasses.replace(doc.value, digest=doc.digest, source="law")


def resolver(session: Session, on: dt.date) -> Resolver:
    """Resolve a run's rule set in the law-document store (``ruleset_version``, else the version in
    force on ``on``); a rule set or version that is not there is a 422 at its field."""
    def resolve(rid: str, version: str | None) -> tuple[ScoringRuleSet, dict]:
        if not law.exists(session, KIND, rid):
            known = ", ".join(sorted({x["id"] for x in law.listing(session, KIND)})) or "none"
            raise InputError([Problem("ruleset", f"未知的评价规则集 (unknown scoring rule set {rid!r}; known: {known})")])
        try:
            doc = law.by_version(session, KIND, rid, version) if version is not None else law.resolve(session, KIND, rid, on)
        except NotFound as e:
            known = ", ".join(sorted((x["version"] for x in law.listing(session, KIND) if x["id"] == rid), key=version_key))
            raise InputError([Problem("ruleset_version", f"{e} (known versions: {known})")]) from None
        return _ruleset(doc), law.pin(doc)
    return resolve


def by_digest(session: Session, digest: str) -> ScoringRuleSet:
    """The rule set a run pinned (for replay); 422 when the store does not hold it."""
    try:
        return _ruleset(law.by_digest(session, KIND, digest))
    except NotFound as e:
        raise InputError([Problem("decision_id", f"找不到该评价所用的规则集 ({e})")]) from None


def get(session: Session, rid: str, version: str | None, on: dt.date) -> ScoringRuleSet:
    """One rule set (pages and GET /v1/scoring/rulesets/{id}); InputError when there is none."""
    return resolver(session, on)(rid, version)[0]


def every(session: Session) -> list[ScoringRuleSet]:
    """Every published version, in id and version order."""
    rows = sorted(law.listing(session, KIND), key=lambda x: (x["id"], version_key(x["version"])))
    return [_ruleset(law.by_version(session, KIND, x["id"], x["version"])) for x in rows]
