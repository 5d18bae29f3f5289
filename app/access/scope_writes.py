"""Writes stay inside the key's jurisdiction (issue 10, item 4).

A key created with ``--jurisdiction`` writes only about land inside its scope (province 41 /
city 4112 / the county itself, ``Caller.sees_jurisdiction``), judged by the jurisdiction of the
land: the object written and every land object it links to —

- a park: its own jurisdiction (the body's, and the stored park's when the id exists);
- a parcel: its park's, and its transfer contract's (``contract_no``); an existing parcel
  re-registered: its current park's;
- a contract: its own (body or stored), and the registered parcel it names (``parcel_code``);
- a proposal or contract check: the body's jurisdiction (they store a decision about that land);
- a rule set (``rule_admin``): the rule set's jurisdiction.

The transferee enterprise (its USCC region) is not a scope check: contracts with outside
investors (招商引资) stay allowed.  Every function is a no-op for a key without a jurisdiction
(and in open mode), so unscoped callers pay no query.  The API routers and the web pages call
the same functions, before anything is stored; a refusal is 403 naming the object and the
key's jurisdiction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from sqlmodel import Session, select

from app.access.auth import PUBLISH, WRITE, Caller, require, scope_prefix
from app.store.models import Contract, Parcel, Park

WriteCaller = Annotated[Caller, Depends(require(*WRITE))]
PublishCaller = Annotated[Caller, Depends(require(*PUBLISH))]

_CHUNK = 1000      # IN (…) lists stay far below SQLite's and PostgreSQL's parameter limits


def refusal(caller: Caller, what: str, code: str | None) -> HTTPException:
    where = f"jurisdiction {code}" if code else "an unknown jurisdiction"
    return HTTPException(
        403, f"{what} is in {where}, outside this key's jurisdiction {caller.jurisdiction} "
             f"(code prefix {scope_prefix(caller.jurisdiction or '')}): a key writes only inside its jurisdiction "
             f"(只能写入本辖区：{what} 属于 {code or '未知辖区'}，本密钥辖区为 {caller.jurisdiction})")


def land(caller: Caller, code: str | None, what: str) -> None:
    """403 unless division ``code`` is inside the caller's scope."""
    if caller.jurisdiction is not None and not caller.sees_jurisdiction(code):
        raise refusal(caller, what, code)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _rows(session: Session, model: Any, column: Any, keys: Iterable[str]) -> list:
    keys = sorted({k for k in keys if isinstance(k, str)})
    out: list = []
    for i in range(0, len(keys), _CHUNK):
        out += session.exec(select(model).where(column.in_(keys[i:i + _CHUNK]))).all()
    return out


# ---------------------------------------------------------------- stored objects

def park(session: Session, caller: Caller, park_id: str) -> None:
    """A write to a stored park (a name, its parcels); an unknown park is left to the endpoint."""
    if caller.jurisdiction is None:
        return
    row = session.get(Park, park_id)
    if row is not None:
        land(caller, row.jurisdiction, f"park {park_id}")


def contract(session: Session, caller: Caller, contract_no: str) -> None:
    """A write to a stored contract (its lifecycle events)."""
    if caller.jurisdiction is None:
        return
    row = session.get(Contract, contract_no)
    if row is not None:
        land(caller, row.jurisdiction, f"contract {contract_no}")


def parcel(session: Session, caller: Caller, code: str) -> None:
    """A write to a stored parcel (its plan): its park and its contract."""
    if caller.jurisdiction is None:
        return
    row = session.get(Parcel, code.strip().upper())
    if row is None:
        return
    p = session.get(Park, row.park_id)
    land(caller, p.jurisdiction if p else None, f"parcel {row.code} (park {row.park_id})")
    if row.contract_no:
        c = session.get(Contract, row.contract_no)
        if c is not None:
            land(caller, c.jurisdiction, f"contract {row.contract_no} of parcel {row.code}")


# ---------------------------------------------------------------- bodies about to be stored

def new_park(session: Session, caller: Caller, body: Any) -> None:
    """A park registration: the body's jurisdiction and, for an id already used, the stored park's."""
    if caller.jurisdiction is None:
        return
    pid = _get(body, "id")
    land(caller, _get(body, "jurisdiction"), f"park {pid}")
    if isinstance(pid, str):
        park(session, caller, pid)


def parcels(session: Session, caller: Caller, bodies: list[Any], pending: dict[str, str] | None = None) -> None:
    """Parcel registrations (one, an import, a sheet): each parcel's park (a stored one, or
    ``pending`` {park id: jurisdiction} registered in the same request), its contract and, for a
    code already registered, the park it is in now.  Unknown references are left to validation."""
    if caller.jurisdiction is None or not bodies:
        return
    pending = pending or {}
    codes = [c.strip().upper() for b in bodies if isinstance(c := _get(b, "code"), str)]
    existing = _rows(session, Parcel, Parcel.code, codes)
    park_ids = {_get(b, "park") for b in bodies} | {r.park_id for r in existing}
    parks_by_id = {p.id: p.jurisdiction for p in _rows(session, Park, Park.id, park_ids - pending.keys())}
    parks_by_id |= pending
    contracts = {c.contract_no: c.jurisdiction
                 for c in _rows(session, Contract, Contract.contract_no, (_get(b, "contract_no") for b in bodies))}
    for b in bodies:
        code, pid, no = _get(b, "code"), _get(b, "park"), _get(b, "contract_no")
        if pid in parks_by_id:
            land(caller, parks_by_id[pid], f"park {pid} of parcel {code}")
        if no in contracts:
            land(caller, contracts[no], f"contract {no} linked to parcel {code}")
    for row in existing:
        if row.park_id in parks_by_id:
            land(caller, parks_by_id[row.park_id], f"parcel {row.code} (registered in park {row.park_id})")


def park_import(session: Session, caller: Caller, park_body: Any, parcel_bodies: list[Any]) -> None:
    """``POST /v1/parks:import``: the park and every parcel with its links."""
    if caller.jurisdiction is None:
        return
    new_park(session, caller, park_body)
    pid = _get(park_body, "id")
    pending = {pid: _get(park_body, "jurisdiction")} if isinstance(pid, str) else {}
    parcels(session, caller, parcel_bodies, pending)


def contract_body(session: Session, caller: Caller, req: Any) -> None:
    """A contract registration or clause check: its jurisdiction, the stored contract of the same
    number, and the registered parcel it names.  Not the transferee's region (招商引资)."""
    if caller.jurisdiction is None:
        return
    no = _get(req, "contract_no")
    land(caller, _get(req, "jurisdiction"), f"contract {no}")
    if isinstance(no, str):
        contract(session, caller, no)
    code = _get(req, "parcel_code")
    if isinstance(code, str) and code.strip():
        row = session.get(Parcel, code.strip().upper())
        if row is not None:
            p = session.get(Park, row.park_id)
            land(caller, p.jurisdiction if p else None, f"parcel {row.code} named by contract {no}")


def proposal(caller: Caller, jurisdiction: Any, what: str = "the proposal") -> None:
    """A proposal check stores a decision about the land in ``jurisdiction``.  A proposal that
    names no jurisdiction (only a rule set) names no land; a malformed code is left to validation."""
    if caller.jurisdiction is None or not isinstance(jurisdiction, str):
        return
    if len(jurisdiction) == 6 and jurisdiction.isascii() and jurisdiction.isdigit():
        land(caller, jurisdiction, f"{what} (jurisdiction {jurisdiction})")


def proposals(caller: Caller, jurisdictions: Iterable[Any]) -> None:
    if caller.jurisdiction is None:
        return
    for i, j in enumerate(jurisdictions):
        proposal(caller, j, f"proposal {i}")


def ruleset(caller: Caller, raw: Any) -> None:
    """A rule_admin key with a jurisdiction publishes rule sets for its scope only (a national
    or provincial set needs a key whose scope covers it).  A document without a usable
    jurisdiction is left to validation (422)."""
    if caller.jurisdiction is None or not isinstance(raw, dict):
        return
    code = raw.get("jurisdiction")
    if isinstance(code, int):
        code = str(code)
    if isinstance(code, str):
        land(caller, code, f"rule set {raw.get('id')}")


def law_document(caller: Caller, raw: Any) -> None:
    """Like ``ruleset``; a document without a jurisdiction is national: only a key without one
    (or covering the whole country) publishes it."""
    if caller.jurisdiction is None or not isinstance(raw, dict):
        return
    code = raw.get("jurisdiction")
    land(caller, str(code) if isinstance(code, int | str) else None, f"law document {raw.get('id')}")
