"""The documents of law a park's classification, ledger and evaluation read, and what a decision
records of them (docs/law-documents.md):

- the park's low-efficiency rule set (``low_efficiency``, rules/parks/ or published through
  ``POST /v1/law/low_efficiency``): resolved through ``app.checks.law`` by the park's ``ruleset``
  id and the date (the version in force then);
- the 53号令 parameters (``idle_land``) the idle-land tests read (``app.lifecycle.idle``).

``ParkLaw`` remembers every version it handed out; ``pins()`` is the decision's ``law`` list.
Built from a stored decision's pins (replay), it resolves among exactly those versions, read back
by digest, and never sees a version published since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from functools import cache

from sqlmodel import Session

from app.checks import law
from app.checks.low_efficiency import LoadedRuleSet
from app.core import safe_yaml
from app.core.errors import NotFound
from rules import RULES_DIR

LOW_EFFICIENCY = "low_efficiency"
IDLE_LAND = "idle_land"
IDLE_LAND_FILE = RULES_DIR / "lifecycle" / "idle-land-53.yaml"


@cache
def _idle_land_file_pin() -> dict:
    """The pin of the 53号令 file the idle-land tests read (``app.lifecycle.law.idle_land_law``):
    its id, version and content digest, computed as the law store computes it."""
    raw = safe_yaml.load(IDLE_LAND_FILE.read_text(encoding="utf-8"))
    digest = hashlib.sha256(law.canonical(raw).encode("utf-8")).hexdigest()
    return {"kind": IDLE_LAND, "id": raw.get("id"), "version": raw.get("version"), "digest": digest}


def idle_land_pin(session: Session) -> dict:
    """The pin of the 53号令 document the idle-land tests use: the stored version with that digest
    (``law.pin``) — or, while the file is not in the law store, the same fields computed from it."""
    file_pin = _idle_land_file_pin()
    try:
        return law.pin(law.by_digest(session, IDLE_LAND, file_pin["digest"]))
    except NotFound:
        return dict(file_pin)


def _with_store_digest(found: law.Law) -> LoadedRuleSet:
    # One digest per document: the rule set's references (``ref()``) carry the store's digest,
    # the one its pin records and replay reads back.
    rs: LoadedRuleSet = found.value
    return rs if rs.digest == found.digest else dataclasses.replace(rs, digest=found.digest)


class ParkLaw:
    """The law documents of one classification/ledger/evaluation run (see the module docstring)."""

    def __init__(self, session: Session, pinned: list[dict] | None = None) -> None:
        self._session = session
        self._pinned: list[law.Law] | None = None
        if pinned is not None:
            self._pinned = [law.by_digest(session, p["kind"], p["digest"]) for p in pinned
                            if p.get("kind") == LOW_EFFICIENCY]
        self._resolved: dict[tuple[str, dt.date], law.Law | None] = {}
        self._sets: dict[str, LoadedRuleSet] = {}
        self._used: dict[str, dict] = {}

    def _resolve(self, doc_id: str, on: dt.date) -> law.Law | None:
        if self._pinned is not None:
            # The version the run resolved on ``on`` is the one in force then among those it pinned.
            live = [x for x in self._pinned if x.id == doc_id and x.in_force(on)]
            return max(live, key=lambda x: (x.effective_from, law.version_key(x.version))) if live else None
        try:
            return law.resolve(self._session, LOW_EFFICIENCY, doc_id, on)
        except NotFound:
            return None

    def low_efficiency(self, doc_id: str, on: dt.date) -> LoadedRuleSet | None:
        """The version of the low-efficiency rule set ``doc_id`` in force on ``on``, or None."""
        key = (doc_id, on)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(doc_id, on)
        found = self._resolved[key]
        if found is None:
            return None
        self._used.setdefault(found.digest, law.pin(found))
        if found.digest not in self._sets:
            self._sets[found.digest] = _with_store_digest(found)
        return self._sets[found.digest]

    def idle_land_used(self) -> None:
        """Record that the idle-land tests ran (they read the 53号令 document)."""
        if not any(p["kind"] == IDLE_LAND for p in self._used.values()):
            pin = idle_land_pin(self._session)
            self._used[pin["digest"]] = pin

    def pins(self) -> list[dict]:
        """What the decision records under ``law``: every document used, in a stable order."""
        return sorted(self._used.values(), key=lambda p: (p["kind"], p["id"] or "", p["version"] or "", p["digest"]))


def low_efficiency_in_force(session: Session, doc_id: str, on: dt.date) -> LoadedRuleSet | None:
    """The version of a low-efficiency rule set in force on ``on`` (None: none is)."""
    return ParkLaw(session).low_efficiency(doc_id, on)


def low_efficiency_exists(session: Session, doc_id: str) -> bool:
    return law.exists(session, LOW_EFFICIENCY, doc_id)


def low_efficiency_ids(session: Session) -> list[str]:
    return sorted({r["id"] for r in law.listing(session, LOW_EFFICIENCY)})
