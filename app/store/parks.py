"""Parks (with dated names), parcels and the one-parcel-one-plan history.

Registrations are immutable: the same document again is a no-op, other content under the
same id or code is a Conflict (409).  A park's names are the exception by design: names
change (the 2021 reorganisation of 产业集聚区 into 开发区), so a new dated name may be added;
it closes the open-ended name it follows.  Plans are append-only versions: each change is
a new row, every version stays.

Validation against the request models lives in ``app.checks.parks``; this module writes
what it is given, in one transaction per call (``write_bundle``: a park and its parcels,
all or nothing).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.core import clock
from app.core.errors import Conflict, InputError, NotFound, Problem
from app.store.db import begin_write
from app.store.decisions import canonical
from app.store.models import Contract, ContractEvent, Parcel, ParcelPlan, Park, ParkName

SINCE_EVER = dt.date.min        # a name whose start is unknown: valid from the park's beginning


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _date(d: dt.date | None) -> str | None:
    return None if d is None or d == SINCE_EVER else d.isoformat()


# --------------------------------------------------------------------------- parks

@dataclass(frozen=True)
class NewPark:
    """A validated park: exact decimal text for the numbers, names as (name, from, to)."""

    id: str
    jurisdiction: str
    planned_area_mu: str
    target_tax_per_mu: str | None
    target_source: str | None
    ruleset: str | None
    names: list[tuple[str, dt.date, dt.date | None]]
    document: dict


@dataclass(frozen=True)
class NewParcel:
    code: str
    park_id: str
    area_mu: str
    use: str
    supply_status: str
    approval_doc: str | None
    approval_date: dt.date | None
    contract_no: str | None
    document: dict


def get_park(session: Session, park_id: str) -> Park:
    row = session.get(Park, park_id)
    if row is None:
        raise NotFound(f"park {park_id} not found")
    return row


def park_exists(session: Session, park_id: str) -> bool:
    return session.get(Park, park_id) is not None


def park_of_parcel(session: Session, code: str | None) -> str | None:
    """The park a registered parcel is in (None for an unknown or absent code)."""
    if not code or not code.strip():
        return None
    row = session.get(Parcel, code.strip().upper())
    return row.park_id if row is not None else None


def park_document(row: Park) -> dict:
    return json.loads(row.document)


def names(session: Session, park_id: str) -> list[ParkName]:
    return list(session.exec(select(ParkName).where(ParkName.park_id == park_id)
                             .order_by(col(ParkName.valid_from), col(ParkName.pk))).all())


def name_on(rows: Iterable[ParkName], on: dt.date) -> ParkName | None:
    """The name valid on ``on`` (valid_from ≤ on < valid_to), or None."""
    for r in rows:
        if r.valid_from <= on and (r.valid_to is None or on < r.valid_to):
            return r
    return None


def name_dict(r: ParkName) -> dict:
    return {"name": r.name, "valid_from": _date(r.valid_from), "valid_to": _date(r.valid_to)}


def park_summary(row: Park) -> dict:
    return {"id": row.id, "jurisdiction": row.jurisdiction,
            "planned_area": {"value": row.planned_area_mu, "unit": "亩"},
            "target_tax_per_mu": None if row.target_tax_per_mu is None else {"value": row.target_tax_per_mu, "unit": "万元/亩"},
            "target_source": row.target_source, "ruleset": row.ruleset,
            "created_at": _aware(row.created_at).isoformat()}


def _same_park(row: Park, p: NewPark) -> bool:
    return row.document == canonical(p.document)


def _add_park(session: Session, p: NewPark, now: dt.datetime) -> bool:
    """Stage a park and its names; False if the identical park exists; Conflict if another does."""
    existing = session.get(Park, p.id)
    if existing is not None:
        if _same_park(existing, p):
            return False
        raise Conflict(f"园区 {p.id} 已登记且内容不同；新增名称请用 POST /v1/parks/{p.id}/names "
                       f"(park {p.id} already registered with other content)")
    session.add(Park(id=p.id, jurisdiction=p.jurisdiction, planned_area_mu=p.planned_area_mu,
                     target_tax_per_mu=p.target_tax_per_mu, target_source=p.target_source, ruleset=p.ruleset,
                     created_at=now, document=canonical(p.document)))
    for name, start, end in p.names:
        session.add(ParkName(park_id=p.id, name=name, valid_from=start, valid_to=end))
    return True


def register_park(session: Session, p: NewPark) -> tuple[dict, bool]:
    out, _ = write_bundle(session, p, [])
    assert out is not None
    return out


def add_name(session: Session, park_id: str, name: str, valid_from: dt.date, valid_to: dt.date | None) -> tuple[list, bool]:
    """Add a dated name.  The same name with the same dates again is a no-op.  An open-ended
    name that began before ``valid_from`` is closed on ``valid_from``; any other overlap is
    refused (422).  Returns (all names, created)."""
    begin_write(session)
    try:
        # Lock the park row (PostgreSQL; SQLite holds its write lock already): one renaming at a time.
        if session.exec(select(Park).where(Park.id == park_id).with_for_update()).first() is None:
            raise NotFound(f"park {park_id} not found")
        rows = names(session, park_id)
        if any(r.name == name and r.valid_from == valid_from and r.valid_to == valid_to for r in rows):
            session.rollback()
            return rows, False
        to_close = None
        for r in rows:
            end = r.valid_to or dt.date.max
            new_end = valid_to or dt.date.max
            if r.valid_from < new_end and valid_from < end:       # the periods overlap
                if r.valid_to is None and r.valid_from < valid_from and valid_to is None:
                    to_close = r
                    continue
                raise InputError([Problem("valid_from", f"与已有名称“{r.name}”（{_date(r.valid_from) or '起始'} 至 "
                                                        f"{_date(r.valid_to) or '今'}）的有效期重叠 "
                                                        f"(overlaps an existing name)")])
        if to_close is not None:
            to_close.valid_to = valid_from
            session.add(to_close)
        session.add(ParkName(park_id=park_id, name=name, valid_from=valid_from, valid_to=valid_to))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return names(session, park_id), True


# --------------------------------------------------------------------------- parcels

def get_parcel(session: Session, code: str) -> Parcel:
    """By code (case and surrounding spaces ignored, as registered)."""
    row = session.get(Parcel, code.strip().upper())
    if row is None:
        raise NotFound(f"parcel {code} not found")
    return row


def parcel_document(row: Parcel) -> dict:
    return json.loads(row.document)


def parcel_summary(row: Parcel) -> dict:
    return {"code": row.code, "park": row.park_id, "area": {"value": row.area_mu, "unit": "亩"}, "use": row.use,
            "supply_status": row.supply_status, "approval_doc": row.approval_doc,
            "approval_date": row.approval_date.isoformat() if row.approval_date else None,
            "contract_no": row.contract_no, "created_at": _aware(row.created_at).isoformat()}


def _add_parcel(session: Session, p: NewParcel, now: dt.datetime) -> bool:
    existing = session.get(Parcel, p.code)
    if existing is not None:
        if existing.document == canonical(p.document):
            return False
        raise Conflict(f"宗地 {p.code} 已登记且内容不同 (parcel {p.code} already registered with other content)")
    session.add(Parcel(code=p.code, park_id=p.park_id, area_mu=p.area_mu, use=p.use, supply_status=p.supply_status,
                       approval_doc=p.approval_doc, approval_date=p.approval_date, contract_no=p.contract_no,
                       created_at=now, document=canonical(p.document)))
    return True


def register_parcel(session: Session, p: NewParcel) -> tuple[dict, bool]:
    return write_bundle(session, None, [p])[1][0]


def write_bundle(session: Session, park: NewPark | None, parcels: list[NewParcel], *,
                 _retry: bool = True) -> tuple[tuple[dict, bool] | None, list[tuple[dict, bool]]]:
    """A park (optional) and parcels in one transaction: all written, or none (a Conflict
    on any of them rolls back the lot).  A concurrent registration of the same id is
    compared with once it has committed."""
    begin_write(session)
    now = clock.utcnow()
    try:
        park_created = _add_park(session, park, now) if park is not None else None
        created = []
        seen: set[str] = set()
        for p in parcels:
            if p.code in seen:
                raise Conflict(f"宗地 {p.code} 在本批中重复 (parcel {p.code} twice in one request)")
            seen.add(p.code)
            session.flush()
            created.append(_add_parcel(session, p, now))
        session.commit()
    except IntegrityError:
        session.rollback()
        if not _retry:
            raise
        return write_bundle(session, park, parcels, _retry=False)
    except BaseException:
        session.rollback()
        raise
    park_out = (park_summary(get_park(session, park.id)), bool(park_created)) if park is not None else None
    return park_out, [(parcel_summary(get_parcel(session, p.code)), c) for p, c in zip(parcels, created, strict=True)]


def parcels_of_park(session: Session, park_id: str) -> list[Parcel]:
    return list(session.exec(select(Parcel).where(Parcel.park_id == park_id).order_by(col(Parcel.code))).all())


def all_parks(session: Session) -> list[Park]:
    """Every registered park, by id (the web pages' park list)."""
    return list(session.exec(select(Park).order_by(col(Park.id))).all())


def count_parcels(session: Session, park_id: str) -> int:
    return session.exec(select(func.count()).select_from(Parcel).where(Parcel.park_id == park_id)).one()


def contracts_by_no(session: Session, nos: Iterable[str]) -> dict[str, Contract]:
    nos = sorted(set(nos))
    if not nos:
        return {}
    return {r.contract_no: r for r in session.exec(select(Contract).where(col(Contract.contract_no).in_(nos))).all()}


def events_by_contract(session: Session, nos: Iterable[str]) -> dict[str, list[dict]]:
    """Each contract's stored events in append order (as ``app.store.contracts.events``)."""
    nos = sorted(set(nos))
    out: dict[str, list[dict]] = {n: [] for n in nos}
    if nos:
        for r in session.exec(select(ContractEvent).where(col(ContractEvent.contract_no).in_(nos))
                              .order_by(col(ContractEvent.seq))).all():
            out[r.contract_no].append(json.loads(r.body))
    return out


def holdings(session: Session, usccs: Iterable[str]) -> dict[str, list[tuple[Contract, list[Parcel]]]]:
    """Every registered contract whose transferee is one of ``usccs``, each with the parcels
    (any park) registered under it: the enterprise's land, which its tax is allocated over."""
    usccs = sorted(set(usccs))
    out: dict[str, list[tuple[Contract, list[Parcel]]]] = {u: [] for u in usccs}
    if usccs:
        q = (select(Contract, Parcel).join(Parcel, col(Contract.contract_no) == col(Parcel.contract_no), isouter=True)
             .where(col(Contract.transferee_uscc).in_(usccs)).order_by(col(Contract.contract_no), col(Parcel.code)))
        by_no: dict[str, tuple[Contract, list[Parcel]]] = {}
        for contract, parcel in session.exec(q).all():
            entry = by_no.get(contract.contract_no)
            if entry is None:
                entry = by_no[contract.contract_no] = (contract, [])
                out[contract.transferee_uscc].append(entry)
            if parcel is not None:
                entry[1].append(parcel)
    return out


# --------------------------------------------------------------------------- plans

def plan_dict(row: ParcelPlan) -> dict:
    return {"parcel": row.parcel_code, "version": row.version, "recorded_at": _aware(row.created_at).isoformat(),
            "plan": json.loads(row.document)}


def plans(session: Session, code: str) -> list[ParcelPlan]:
    return list(session.exec(select(ParcelPlan).where(ParcelPlan.parcel_code == code).order_by(col(ParcelPlan.version))).all())


def latest_plans(session: Session, codes: Iterable[str]) -> dict[str, tuple[ParcelPlan, int]]:
    """code → (latest version, number of versions)."""
    codes = sorted(set(codes))
    out: dict[str, tuple[ParcelPlan, int]] = {}
    if codes:
        for r in session.exec(select(ParcelPlan).where(col(ParcelPlan.parcel_code).in_(codes))
                              .order_by(col(ParcelPlan.parcel_code), col(ParcelPlan.version))).all():
            out[r.parcel_code] = (r, r.version)
    return out


def append_plan(session: Session, code: str, document: dict, expected_version: int | None = None, *,
                _retry: bool = True) -> tuple[dict, bool]:
    """A new version of the parcel's plan.  The same content as the latest version is a no-op
    (created False).  ``expected_version`` (the version the caller edited) guards against a
    lost update: another version recorded in between is a Conflict."""
    body = canonical(document)
    begin_write(session)
    try:
        get_parcel(session, code)
        last = session.exec(select(ParcelPlan).where(ParcelPlan.parcel_code == code)
                            .order_by(col(ParcelPlan.version).desc())).first()
        current = last.version if last else 0
        if last is not None and last.document == body:
            session.rollback()
            return plan_dict(last), False
        if expected_version is not None and expected_version != current:
            raise Conflict(f"宗地 {code} 的处置方案已是第 {current} 版，请求基于第 {expected_version} 版 "
                           f"(plan changed since version {expected_version}: now {current})")
        row = ParcelPlan(parcel_code=code, version=current + 1, created_at=clock.utcnow(), document=body)
        session.add(row)
        session.commit()
    except IntegrityError:               # a concurrent writer took this version number
        session.rollback()
        if expected_version is not None or not _retry:
            raise Conflict(f"宗地 {code} 的处置方案刚被修改 (plan changed concurrently)") from None
        return append_plan(session, code, document, _retry=False)
    except BaseException:
        session.rollback()
        raise
    session.refresh(row)
    return plan_dict(row), True
