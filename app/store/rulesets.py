"""Published rule-set versions: publish (immutable), load into the registry, bundled files."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from pathlib import Path

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core import clock, safe_yaml
from app.core.config import settings
from app.core.errors import Conflict, InputError, Problem
from app.rulesets.document import RuleSetDoc, canonical_json, digest, validate_document
from app.rulesets.layering import ancestry_problems
from app.rulesets.resolve import LEVEL_ZH, Published, Registry, conflicts, level
from app.store.db import begin_write, is_sqlite
from app.store.models import RuleSetVersion
from rules import RULES_DIR

log = logging.getLogger("standard_land.rulesets")

_REGISTRY = Registry()
_REG_LOCK = threading.Lock()
_REFUSED: set[str] = set()          # digests of stored versions whose text no longer matches
# How stale the registry may be: a version published by another process (worker, CLI) is
# seen by this one at most this many seconds later; one published by this process at once.
# The count query it saves was 5 % of a single check's CPU (a round trip on PostgreSQL).
REFRESH_SECONDS = settings().registry_refresh_seconds
_LOADED: dict = {"count": -1, "checked": float("-inf"), "bind": None}


def registry(session: Session) -> Registry:
    """The process registry, refreshed when another process has published (checked at most
    every REFRESH_SECONDS, and at once after a publish here or on another database)."""
    bind = session.get_bind()
    if bind is _LOADED["bind"] and time.monotonic() - _LOADED["checked"] < REFRESH_SECONDS:
        return _REGISTRY
    checked = time.monotonic()      # before the query: a publish during it is not skipped
    count = session.exec(select(func.count()).select_from(RuleSetVersion)).one()
    if count != _LOADED["count"] or bind is not _LOADED["bind"]:
        with _REG_LOCK:
            for row in session.exec(select(RuleSetVersion)).all():
                if row.digest not in _REGISTRY.by_digest and row.digest not in _REFUSED:
                    doc = RuleSetDoc.model_validate(json.loads(row.document))
                    if digest(doc) != row.digest:
                        # Altered in the database after publication: never used, never resolved.
                        _REFUSED.add(row.digest)
                        log.error("rule set %s@%s refused: its stored text does not match its digest %s",
                                  row.ruleset_id, row.version, row.digest)
                        continue
                    _REGISTRY.add(Published(doc, row.digest, _aware(row.published_at)))
            _LOADED["count"] = count
    _LOADED["bind"], _LOADED["checked"] = bind, checked
    return _REGISTRY


def _stale() -> None:
    """This process published: the next registry() call reloads."""
    _LOADED["checked"] = float("-inf")


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def check_against_parents(session: Session, doc: RuleSetDoc) -> None:
    """A child may only tighten every layer above it, not just its parent.  An
    indicator that an intermediate layer relaxed (with a documented relaxation) is
    compared only up to that layer."""
    if doc.parent is None:
        return
    reg = registry(session)
    if doc.parent not in reg.by_id:
        raise InputError([Problem("parent", f"上级规则集 {doc.parent!r} 尚未发布 (parent rule set not published)")])
    problems = ancestry_problems(doc, {rid: [p.doc for p in ps] for rid, ps in reg.by_id.items()})
    if problems:
        raise InputError(problems)


# Publishers of rule sets queue on this lock (PostgreSQL; SQLite's write lock does the same), so
# that two competing sets published at once cannot both pass the check against each other.
_PUBLISH_LOCK = 0x5EA1_0010


def check_competitors(session: Session, doc: RuleSetDoc) -> None:
    """Refuse (409, naming it) a set that would compete with another rule set published for the
    same jurisdiction at the same level, for the same parcels or parks, industries and dates:
    a request naming no rule set could not tell them apart (``app.rulesets.resolve``)."""
    rows = session.exec(select(RuleSetVersion).where(RuleSetVersion.jurisdiction == doc.jurisdiction,
                                                     RuleSetVersion.ruleset_id != doc.id)).all()
    if not rows:
        return
    others = [RuleSetDoc.model_validate(json.loads(r.document)) for r in rows]
    reg = registry(session)
    ancestors = {rid: reg.ancestors(rid) for rid in {doc.id, *(o.id for o in others)}}
    if doc.parent:
        ancestors[doc.id] |= {doc.parent} | reg.ancestors(doc.parent)
    found = conflicts(doc, others, ancestors)
    if found:
        o = found[0]
        until = o.effective_to.isoformat() if o.effective_to else "无终止日期"
        inds = "、".join(o.applies_to.industries) if o.applies_to and o.applies_to.industries else "全部行业"
        raise Conflict(
            f"规则集 {o.id} 版本 {o.version} 已在同一层级（{LEVEL_ZH[level(o)]}）适用于行政区 {o.jurisdiction}、"
            f"{inds}、{o.effective_from.isoformat()} 至 {until}，与本规则集重叠：未指定规则集的审查将无法确定适用哪一个。"
            f"请发布为 {o.id} 的新版本，或给出不重叠的生效期间、行业（applies_to.industries）或适用宗地/园区 "
            f"(conflicts with rule set {o.id} version {o.version}: same level ({level(o)}), jurisdiction "
            f"{o.jurisdiction}, industries and overlapping dates; publish a new version of {o.id}, or give "
            f"another effective period, industries or applies_to)")


def publish(session: Session, raw: dict, source: str = "api") -> tuple[dict, bool]:
    """Validate and store a version.  Returns (summary, created).  Identical
    re-publication is a no-op; the same id+version with other content is a Conflict, and
    so is a set competing with another for the same jurisdiction, level, industries and dates."""
    doc = validate_document(raw)
    dig = digest(doc)
    begin_write(session)
    if not is_sqlite(session.get_bind()):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISH_LOCK})
    existing = session.exec(select(RuleSetVersion).where(RuleSetVersion.ruleset_id == doc.id,
                                                         RuleSetVersion.version == doc.version)).first()
    if existing is not None:
        if existing.digest == dig:
            _stale()        # perhaps published by another process moments ago
            return _summary(existing), False
        raise Conflict(f"规则集 {doc.id} 版本 {doc.version} 已发布且内容不同；已发布版本不可修改，请使用新版本号 "
                       f"(published versions are immutable: publish a new version) — published digest "
                       f"{existing.digest}, yours {dig}")
    check_against_parents(session, doc)
    check_competitors(session, doc)
    row = RuleSetVersion(
        ruleset_id=doc.id, version=doc.version, digest=dig, status=doc.status, jurisdiction=doc.jurisdiction,
        parent=doc.parent, effective_from=doc.effective_from, effective_to=doc.effective_to,
        published_at=clock.utcnow(), source=source, document=canonical_json(doc))
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return publish(session, raw, source)     # a concurrent publisher won the race: re-check
    _stale()
    session.refresh(row)
    return _summary(row), True


def _summary(row: RuleSetVersion) -> dict:
    return {"id": row.ruleset_id, "version": row.version, "digest": row.digest,
            "published_at": _aware(row.published_at).isoformat(), "status": row.status}


# Folders of rules/ that hold other legal data than indicator rule sets.
NOT_RULESETS = {"tests", "contract-models", "lifecycle", "scoring", "parks"}


def bundled_files(root: Path = RULES_DIR) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if not NOT_RULESETS & set(p.relative_to(root).parts))


def load_yaml(path: Path) -> dict:
    """A rule-set file, through the one loader for user-given YAML (no aliases, bounded nesting):
    ``app.core.safe_yaml.YamlRefused`` for a file it refuses."""
    return safe_yaml.load(path.read_text(encoding="utf-8"))


def _depth(raw: dict, by_id: dict[str, dict]) -> int:
    d, seen = 0, set()
    while raw.get("parent") and raw["parent"] in by_id and raw["parent"] not in seen:
        seen.add(raw["parent"])
        raw = by_id[raw["parent"]]
        d += 1
    return d


def load_bundled(session: Session, root: Path = RULES_DIR) -> list[str]:
    """Publish every bundled rule-set file (parents first).  Returns problems, logged, not raised:
    a bad file must not stop the service from serving the others."""
    docs = [(p, load_yaml(p)) for p in bundled_files(root)]
    by_id = {raw.get("id"): raw for _, raw in docs if isinstance(raw, dict)}
    errors = []
    for path, raw in sorted(docs, key=lambda pr: _depth(pr[1], by_id) if isinstance(pr[1], dict) else 0):
        try:
            publish(session, raw, source="bundled")
        except (InputError, Conflict) as e:
            msg = f"{path}: {e}"
            log.error("bundled rule set not loaded: %s", msg)
            errors.append(msg)
    return errors
