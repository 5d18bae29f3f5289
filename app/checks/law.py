"""The one loader and lifecycle of the legal documents other than standard-land rule sets.

Four kinds, each a folder of bundled files and a parser that turns a document into what the
checks use (and refuses a bad one with every problem's path):

=================  =====================================  ================================
kind               document                               bundled in
=================  =====================================  ================================
scoring            亩均效益综合评价规则 (scoring rule set)  rules/scoring/
low_efficiency     低效工业用地认定条件                     rules/parks/
contract_model     出让合同示范文本                         rules/contract-models/
idle_land          闲置土地处置办法（53号令）参数            rules/lifecycle/
=================  =====================================  ================================

Every document carries ``id``, ``version``, ``title``, ``status`` (example | official),
``effective_from``, optionally ``effective_to`` and ``jurisdiction`` (absent: national).  A version is
content addressed (SHA-256 of its canonical JSON) and immutable; the version in force on a date is
the one with the latest ``effective_from`` not after it and not ended (of two from the same day, the
higher version, which corrects the earlier).  Decisions record ``pin(law)`` for every document they
used, and replay reads exactly those back (``by_digest``), checking the stored text against its digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session

from app.core import safe_yaml
from app.core.errors import Conflict, InputError, NotFound, Problem, pydantic_problems
from app.store import law as store
from app.store.models import LawDocument
from rules import RULES_DIR

log = logging.getLogger("standard_land.law")


@dataclass(frozen=True)
class Kind:
    key: str
    label: str              # Chinese name, shown on pages
    folder: Path            # bundled files
    parser: str             # "module:function" — imported when first used (parsers live above and beside us)

    def parse(self, raw: dict) -> Any:
        module, func = self.parser.split(":")
        fn: Callable[[dict], Any] = getattr(importlib.import_module(module), func)
        return fn(raw)


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("scoring", "亩均效益综合评价规则", RULES_DIR / "scoring", "app.checks.scoring:validate"),
    Kind("low_efficiency", "低效工业用地认定条件", RULES_DIR / "parks", "app.checks.low_efficiency:parse"),
    Kind("contract_model", "出让合同示范文本", RULES_DIR / "contract-models", "app.lifecycle.law:parse_contract_model"),
    Kind("idle_land", "闲置土地处置办法参数", RULES_DIR / "lifecycle", "app.lifecycle.law:parse_idle_land_law"),
)}


class Meta(BaseModel):
    """The fields every law document has; the kind's parser checks the rest."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,31}$")
    title: str = Field(min_length=1, max_length=200)
    status: Literal["example", "official"]
    effective_from: dt.date
    effective_to: dt.date | None = None
    jurisdiction: str | None = Field(None, pattern=r"^\d{6}$")

    @model_validator(mode="after")
    def _period(self) -> Meta:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to 必须晚于 effective_from (effective_to must be after effective_from)")
        return self


@dataclass(frozen=True)
class Law:
    kind: str
    id: str
    version: str
    digest: str
    status: str
    title: str
    jurisdiction: str | None
    effective_from: dt.date
    effective_to: dt.date | None
    value: Any              # what the kind's parser returned

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


def pin(law: Law) -> dict:
    """What a decision records for a document it used."""
    return {"kind": law.kind, "id": law.id, "version": law.version, "digest": law.digest}


def kind(key: str) -> Kind:
    if key not in KINDS:
        raise InputError([Problem("kind", f"未知的法规文件类别 {key!r}，可用：{'、'.join(KINDS)} (unknown document kind)")])
    return KINDS[key]


def _plain(x: Any, path: str) -> Any:
    """The JSON form of a parsed YAML/JSON document: dates as ISO strings; refuses what JSON cannot say."""
    if isinstance(x, dict):
        return {str(k): _plain(v, f"{path}.{k}" if path else str(k)) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v, f"{path}.{i}") for i, v in enumerate(x)]
    if isinstance(x, dt.datetime):
        raise InputError([Problem(path, "应为日期，不应包含时刻 (a date, not a date-time)")])
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        raise InputError([Problem(path, "不是有效数值 (not a finite number)")])
    if x is None or isinstance(x, str | int | float | bool):
        return x
    raise InputError([Problem(path, f"不支持的值类型 {type(x).__name__} (unsupported value)")])


def canonical(raw: dict) -> str:
    return json.dumps(_plain(raw, ""), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate(key: str, raw: Any) -> tuple[Meta, Any, str]:
    """(meta, parsed value, canonical text) of a document, or InputError with every problem's path."""
    k = kind(key)
    if not isinstance(raw, dict):
        raise InputError([Problem("", "法规文件必须是对象 (a document is a mapping)")])
    text = canonical(raw)
    plain = json.loads(text)
    problems: list[Problem] = []
    meta = None
    try:
        meta = Meta.model_validate(plain)
    except ValidationError as e:
        problems += pydantic_problems(e)
    value = None
    try:
        value = k.parse(plain)
    except InputError as e:
        seen = {(p.path, p.msg) for p in problems}
        problems += [p for p in e.problems if (p.path, p.msg) not in seen]
    if problems or meta is None:
        raise InputError(problems)
    return meta, value, text


_CACHE: dict[tuple[str, str], Law] = {}
_CACHE_LOCK = threading.Lock()


def _law(row: LawDocument) -> Law:
    """A stored version, parsed once per process; its text is checked against its digest first."""
    key = (row.kind, row.digest)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    if _digest(row.document) != row.digest:
        raise RuntimeError(f"law_document {row.kind}/{row.doc_id}@{row.version}: stored text does not match its "
                           f"digest {row.digest} (altered in the database)")
    value = KINDS[row.kind].parse(json.loads(row.document))
    law = Law(row.kind, row.doc_id, row.version, row.digest, row.status, row.title, row.jurisdiction,
              row.effective_from, row.effective_to, value)
    with _CACHE_LOCK:
        _CACHE[key] = law
    return law


def publish(session: Session, key: str, raw: Any, source: str = "api") -> tuple[dict, bool]:
    """Validate and store a version: (summary, created).  InputError (422) / Conflict (409)."""
    meta, _value, text = validate(key, raw)
    new = store.NewVersion(kind=key, doc_id=meta.id, version=meta.version, digest=_digest(text), status=meta.status,
                           title=meta.title, jurisdiction=meta.jurisdiction, effective_from=meta.effective_from,
                           effective_to=meta.effective_to, document=text)
    row, created = store.publish(session, new, source)
    return store.summary(row), created


def version_key(v: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in v.split("."))


def _in_force(rows: list[LawDocument], on: dt.date) -> LawDocument | None:
    """Of the versions of one document, the one in force on ``on``: the latest effective_from not
    after it, not ended; of two from the same day the higher version (it corrects the other)."""
    live = [r for r in rows if r.effective_from <= on and (r.effective_to is None or on < r.effective_to)]
    return max(live, key=lambda r: (r.effective_from, version_key(r.version))) if live else None


def resolve(session: Session, key: str, doc_id: str, on: dt.date) -> Law:
    """The version of ``doc_id`` in force on ``on``; NotFound when none is."""
    row = _in_force(store.versions(session, kind(key).key, doc_id), on)
    if row is None:
        raise NotFound(f"{KINDS[key].label} {doc_id} 在 {on.isoformat()} 没有生效的版本 "
                       f"(no version of {key} document {doc_id} in force on {on.isoformat()})")
    return _law(row)


def latest(session: Session, key: str, doc_id: str) -> Law:
    rows = store.versions(session, kind(key).key, doc_id)
    if not rows:
        raise NotFound(f"{KINDS[key].label} {doc_id} 未发布 (no {key} document {doc_id})")
    return _law(max(rows, key=lambda r: version_key(r.version)))


def by_version(session: Session, key: str, doc_id: str, ver: str) -> Law:
    row = store.version(session, kind(key).key, doc_id, ver)
    if row is None:
        raise NotFound(f"{KINDS[key].label} {doc_id} 版本 {ver} 未发布 (no version {ver} of {key} document {doc_id})")
    return _law(row)


def by_digest(session: Session, key: str, digest: str) -> Law:
    row = store.by_digest(session, kind(key).key, digest)
    if row is None:
        raise NotFound(f"没有摘要为 {digest} 的{KINDS[key].label} (no {key} document with digest {digest})")
    return _law(row)


def exists(session: Session, key: str, doc_id: str) -> bool:
    return bool(store.versions(session, kind(key).key, doc_id))


def listing(session: Session, key: str | None = None, on: dt.date | None = None) -> list[dict]:
    """Every published version, with its kind's Chinese name; with ``on``, only the version of each
    document that is in force on that date (the one ``resolve`` gives)."""
    rows = store.versions(session, kind(key).key if key else None)
    if on is not None:
        groups: dict[tuple[str, str], list[LawDocument]] = {}
        for r in rows:
            groups.setdefault((r.kind, r.doc_id), []).append(r)
        rows = [w for g in groups.values() if (w := _in_force(g, on)) is not None]
    return [store.summary(r) | {"kind_label": KINDS[r.kind].label if r.kind in KINDS else r.kind,
                                "in_force": True if on is not None else None} for r in rows]


def document(session: Session, key: str, doc_id: str, ver: str) -> dict:
    row = store.version(session, kind(key).key, doc_id, ver)
    if row is None:
        raise NotFound(f"{KINDS[key].label} {doc_id} 版本 {ver} 未发布 (no version {ver} of {key} document {doc_id})")
    return store.summary(row) | {"document": json.loads(row.document)}


def bundled_files(key: str) -> list[Path]:
    return sorted(KINDS[key].folder.glob("*.yaml"))


def load_bundled(session: Session) -> list[str]:
    """Publish every bundled file of every kind (start-up).  Problems are logged and returned, not
    raised: one bad file must not stop the service from serving the others."""
    errors = []
    for key in KINDS:
        for path in bundled_files(key):
            try:
                publish(session, key, safe_yaml.load(path.read_text(encoding="utf-8")), source="bundled")
            except (InputError, Conflict, safe_yaml.YamlRefused, ImportError, AttributeError) as e:
                msg = f"{path.relative_to(RULES_DIR.parent)}: {e}"
                log.error("bundled law document not loaded: %s", msg)
                errors.append(msg)
    return errors
