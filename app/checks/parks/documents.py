"""The documents of law a park's classification, ledger and evaluation read, and what a decision
records of them (docs/law-documents.md):

- the park's low-efficiency rule set (``low_efficiency``, rules/parks/ or published through
  ``POST /v1/law/low_efficiency``): resolved through ``app.checks.law`` by the park's ``ruleset``
  id and the date (the version in force then);
- the 53号令 parameters (``idle_land``) the idle-land tests read (``app.lifecycle.idle``): the version in
  force on the date assessed, as a performance audit resolves it.

``ParkLaw`` remembers every version it handed out; ``pins()`` is the decision's ``law`` list.
Built from a stored decision's pins (replay), it resolves among exactly those versions, read back
by digest, and never sees a version published since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session

from app.checks import law
from app.checks.contract import resolve_idle_law
from app.checks.low_efficiency import LoadedRuleSet
from app.core.errors import NotFound
from app.lifecycle.law import IdleLandLaw

LOW_EFFICIENCY = "low_efficiency"
IDLE_LAND = "idle_land"


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
        self._pinned_idle: list[law.Law] | None = None
        if pinned is not None:
            self._pinned = [law.by_digest(session, p["kind"], p["digest"]) for p in pinned
                            if p.get("kind") == LOW_EFFICIENCY]
            self._pinned_idle = [law.by_digest(session, p["kind"], p["digest"]) for p in pinned
                                 if p.get("kind") == IDLE_LAND]
        self._idle: dict[dt.date, law.Law] = {}
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

    def idle_land(self, on: dt.date) -> IdleLandLaw:
        """The 53号令 parameters the idle-land tests of ``on`` read: the version in force that day
        (as a performance audit resolves it); in a replay, the pinned version (of several pinned,
        the one in force on ``on``, else the earliest)."""
        if on not in self._idle:
            if self._pinned_idle:
                live = [x for x in self._pinned_idle if x.in_force(on)] or \
                    [min(self._pinned_idle, key=lambda x: (x.effective_from, law.version_key(x.version)))]
                self._idle[on] = max(live, key=lambda x: (x.effective_from, law.version_key(x.version)))
            else:
                self._idle[on] = resolve_idle_law(self._session, on)
        found = self._idle[on]
        self._used.setdefault(found.digest, law.pin(found))
        return found.value

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
