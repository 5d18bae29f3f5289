"""The indicator catalog as published documents (kind ``indicator_catalog``): parse, the union in
force on a date, the catalog a decision pinned.

Several catalog documents may be in force together (the bundled base and, say, a Zhejiang addition):
the catalog on a date is their union, and a key declared by two of them is refused.  Each union is
built once per set of digests (formulas are parsed once per document digest by the law cache), so
the proposal check path costs a dictionary lookup once the documents in force are known.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import replace
from functools import cache

from sqlmodel import Session

from app.checks import law
from app.core import safe_yaml
from app.core.errors import InputError, Problem
from app.store import law as law_store
from app.store.rulesets import REFRESH_SECONDS
from indicators import catalog as cat_mod
from indicators.catalog import Catalog, CatalogError, Part

KIND = "indicator_catalog"
log = logging.getLogger("standard_land.indicators")


def parse(raw: dict) -> Part:
    """The kind's parser: a catalog document, or InputError with every problem's path."""
    source = f"{raw.get('id')}@{raw.get('version')}"
    base = None if "land_area" in raw else cat_mod.load_catalog()
    try:
        return cat_mod.parse_document(raw, source, base)
    except CatalogError as e:
        raise InputError([Problem(p, m) for p, m in e.problems]) from None
    except (AttributeError, TypeError) as e:
        raise InputError([Problem("", f"目录格式错误 (malformed catalog document): {e}")]) from None


@cache
def base_pin() -> dict:
    raw = safe_yaml.load(cat_mod.BASE_FILE.read_text(encoding="utf-8"))
    return {"kind": KIND, "id": raw["id"], "version": raw["version"], "digest": law._digest(law.canonical(raw))}


_MERGED: dict[tuple[str, ...], Catalog] = {}
_LOCK = threading.Lock()
# The documents of this kind as last read, per database: (bind, read at, rows).  Refreshed after
# REFRESH_SECONDS, like the rule-set registry, and at once after a publish in this process.
_ROWS: dict[str, object] = {"bind": None, "at": 0.0, "gen": -1, "rows": []}


def _rows(session: Session) -> list[law.Law]:
    bind = session.get_bind()
    gen = law.PUBLISHED.get(KIND, 0)
    if (_ROWS["bind"] is not bind or _ROWS["gen"] != gen
            or time.monotonic() - float(_ROWS["at"]) >= REFRESH_SECONDS):  # type: ignore[arg-type]
        at = time.monotonic()
        rows = []
        for r in law_store.versions(session, KIND):
            try:
                x = law._law(r)               # parsed once per digest (law's cache)
                cat_mod.remember_part(x.value)
                rows.append(x)
            except RuntimeError as e:         # altered in the database: never used
                log.error("indicator catalog refused: %s", e)
        _ROWS.update(bind=bind, at=at, gen=gen, rows=rows)
    return _ROWS["rows"]  # type: ignore[return-value]


def union(laws: list[law.Law]) -> Catalog:
    """The union of these parsed documents (the bundled base added if none of them is a base)."""
    key = tuple(sorted(x.digest for x in laws))
    hit = _MERGED.get(key)
    if hit is not None:
        return hit
    parts: list[Part] = [x.value for x in laws]
    if not any(p.land_area is not None for p in parts):
        parts.insert(0, cat_mod.base_part())
    try:
        merged = cat_mod.merge(parts)
    except CatalogError as e:
        raise InputError([Problem(f"indicator_catalog.{p}", m) for p, m in e.problems]) from None
    cat_mod.remember(merged)
    with _LOCK:
        if len(_MERGED) > 256:
            _MERGED.clear()
        _MERGED[key] = merged
    return merged


def in_force(session: Session, on: dt.date) -> tuple[Catalog, list[dict]]:
    """The catalog in force on ``on`` and the pins of the documents it is made of."""
    laws = _in_force_laws(session, on)
    pins = [law.pin(x) for x in laws] if laws else [base_pin()]
    return union(laws), pins


def pinned(session: Session, pins: list[dict] | None) -> Catalog:
    """The catalog a decision used, from its pins (none pinned: the base, as before catalogs were
    documents)."""
    mine = [p for p in (pins or []) if p.get("kind") == KIND]
    if not mine:
        return cat_mod.load_catalog()
    return union([law.by_digest(session, KIND, p["digest"]) for p in mine])


def declared(session: Session) -> Catalog:
    """Every measure and indicator the base or any stored catalog document declares, whatever its
    dates (a sheet's headers are read before its rows' dates are known; each row is then checked
    against the catalog in force on its own date).  Not a catalog in force: never used to check."""
    base = cat_mod.load_catalog()
    measures, indicators = dict(base.measures), dict(base.indicators)
    for x in _rows(session):
        part: Part = x.value
        for k, m in part.measures.items():
            measures.setdefault(k, m)
        for k, i in part.indicators.items():
            indicators.setdefault(k, i)
    return replace(base, measures=measures, indicators=indicators)


def listing(session: Session, on: dt.date) -> dict:
    """``GET /v1/indicators``: what is in force on ``on``, each indicator with its source document."""
    cat, pins = in_force(session, on)
    by_source = {f"{p['id']}@{p['version']}": p for p in pins}
    def src(s: str | None) -> dict | None:
        return by_source.get(s or "") or ({"id": s.split("@")[0], "version": s.split("@")[1]} if s else None)
    return {
        "on": on.isoformat(),
        "documents": pins,
        "indicators": [{"key": k, "label": i.label, "label_en": i.label_en, "kind": i.kind, "unit": i.unit,
                        "direction": i.direction, "role": i.role,
                        "formula": i.formula if i.expr is not None else None,
                        "builtin": i.builtin, "measures": list(i.measures), "example": i.example,
                        "source": src(i.source)} for k, i in cat.indicators.items()],
        "measures": [{"key": k, "label": m.label, "kind": m.kind, "source": src(m.source)}
                     for k, m in cat.measures.items()],
    }


def publish(session: Session, raw: object, source: str = "api") -> tuple[dict, bool]:
    """Validate and store a catalog document (201/200/409/422 as every law document), refusing one
    that declares a key another document in force on its ``effective_from`` already declares."""
    meta, part, _text = law.validate(KIND, raw)
    # Every day on which the set of documents in force with this one changes: its first day and each
    # later effective_from of another document within its period.
    days = {meta.effective_from} | {x.effective_from for x in _rows(session)
                                    if x.effective_from > meta.effective_from
                                    and (meta.effective_to is None or x.effective_from < meta.effective_to)}
    for day in sorted(days):
        others = [x for x in _in_force_laws(session, day) if x.id != meta.id]
        parts = [x.value for x in others] + [part]
        if not any(p.land_area is not None for p in parts):
            parts.insert(0, cat_mod.base_part())
        try:
            cat_mod.merge(parts)
        except CatalogError as e:
            raise InputError([Problem(p, f"{m}（{day.isoformat()} 起 from {day.isoformat()}）") for p, m in e.problems]) from None
    return law.publish(session, KIND, raw, source)


def _in_force_laws(session: Session, on: dt.date) -> list[law.Law]:
    groups: dict[str, list] = {}
    for x in _rows(session):
        groups.setdefault(x.id, []).append(x)
    return sorted((w for g in groups.values() if (w := law._in_force(g, on)) is not None), key=lambda x: x.id)
