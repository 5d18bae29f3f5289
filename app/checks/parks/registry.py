"""Parks and parcels registered: validation of a park (names, area, target, rule sets) and a
parcel (code, supply status, approval, contract), the plain-dict entry points an Excel import or
demo script calls (``register_park``, ``register_parcel``, ``register_park_with_parcels``,
``add_park_name``) and the park as shown (``park_view``).  The routers in ``app.api.parks`` call
the same functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from sqlmodel import Session

from app.checks.parks.common import parse_model, store_contract_document
from app.checks.parks.documents import low_efficiency_exists, low_efficiency_ids, low_efficiency_in_force
from app.core.errors import InputError, Problem
from app.core.numbers import dec_str
from app.schemas.contract import ContractRequest, Quantity
from app.schemas.parks import DatedName, ParcelIn, ParkIn
from app.store import parks as store
from app.store import rulesets
from app.store.models import Contract
from indicators import units
from indicators.identifiers import check_division, check_parcel_code, check_supervision_no

MAX_AREA_MU = Decimal("1e7")           # 1,000 万亩: a sanity bound, not a rule


def _canon(q: Quantity, kind: str, path: str, problems: list[Problem], *, positive: bool = False) -> Fraction | None:
    try:
        v = units.to_canonical(q.value, q.unit, kind)
    except units.UnitError as e:
        problems.append(Problem(f"{path}.unit", str(e)))
        return None
    if positive and v <= 0:
        problems.append(Problem(f"{path}.value", "必须大于 0 (must be > 0)"))
        return None
    return v


def _exact_text(v: Fraction, path: str, problems: list[Problem]) -> str | None:
    if (v * 10**12).denominator != 1:
        problems.append(Problem(path, "换算后超过 12 位小数，请改用标准单位 (not exact to 12 decimals in the canonical unit)"))
        return None
    return dec_str(v)


def _new_park(session: Session, req: ParkIn, prefix: str = "") -> store.NewPark:
    problems: list[Problem] = []
    for f in check_division(req.jurisdiction):
        if f.severity == "invalid":
            problems.append(Problem(f"{prefix}jurisdiction", f.message))
    area = _canon(req.planned_area, "area", f"{prefix}planned_area", problems, positive=True)
    area_text = _exact_text(area, f"{prefix}planned_area.value", problems) if area is not None else None
    target_text = None
    if req.target_tax_per_mu is not None:
        t = _canon(req.target_tax_per_mu, "money_per_area", f"{prefix}target_tax_per_mu", problems, positive=True)
        target_text = _exact_text(t, f"{prefix}target_tax_per_mu.value", problems) if t is not None else None
        if req.target_source is None:
            problems.append(Problem(f"{prefix}target_source", "目标亩均税收须注明来源 (a target needs its source)"))
    if req.ruleset is not None and not low_efficiency_exists(session, req.ruleset):
        problems.append(Problem(f"{prefix}ruleset", f"未知园区规则集 {req.ruleset!r} (unknown park rule set; published: "
                                                    f"{low_efficiency_ids(session)})"))
    if req.tax_ruleset is not None and req.tax_ruleset not in rulesets.registry(session).by_id:
        problems.append(Problem(f"{prefix}tax_ruleset", f"未知规则集 {req.tax_ruleset!r} (unknown standard-land rule set)"))
    dated = sorted(((n.valid_from or store.SINCE_EVER, n.valid_to, n.name, i) for i, n in enumerate(req.dated_names())),
                   key=lambda x: x[0])
    for (_, end, _, _), (start2, _, name2, i2) in zip(dated, dated[1:], strict=False):
        if end is None or start2 < end:
            path = f"{prefix}names.{i2}.valid_from" if req.names is not None else f"{prefix}name_valid_from"
            problems.append(Problem(path, f"名称“{name2}”的有效期与前一名称重叠 (name periods overlap)"))
    if problems:
        raise InputError(problems)
    doc = req.model_dump(mode="json", exclude_none=True)
    return store.NewPark(id=req.id, jurisdiction=req.jurisdiction, planned_area_mu=area_text,
                         target_tax_per_mu=target_text, target_source=req.target_source, ruleset=req.ruleset,
                         names=[(name, start, end) for start, end, name, _ in dated], document=doc)


def _new_parcel(session: Session, req: ParcelIn, prefix: str = "", pending_parks: frozenset[str] = frozenset()
                ) -> tuple[store.NewParcel, list[dict]]:
    problems: list[Problem] = []
    warnings: list[dict] = []
    code = req.code.strip().upper()
    for f in check_parcel_code(code):
        if f.severity == "invalid":
            problems.append(Problem(f"{prefix}code", f.message))
        else:
            warnings.append({"path": f"{prefix}code", "message": f.message})
    if req.park not in pending_parks and not store.park_exists(session, req.park):
        problems.append(Problem(f"{prefix}park", f"未知园区 {req.park!r} (unknown park: register it first)"))
    area = _canon(req.area, "area", f"{prefix}area", problems, positive=True)
    if area is not None and area > MAX_AREA_MU:
        problems.append(Problem(f"{prefix}area.value", f"面积过大 (above {MAX_AREA_MU} 亩)"))
    area_text = _exact_text(area, f"{prefix}area.value", problems) if area is not None else None
    status = req.supply_status
    supplied_on = req.supplied_on
    contract_row: Contract | None = None
    if status == "approved_unsupplied":
        if req.approval is None:
            problems.append(Problem(f"{prefix}approval", "批而未供土地须填写批准文号与批准日期 (approval required)"))
        if req.contract_no is not None:
            problems.append(Problem(f"{prefix}contract_no", "未供地宗地不应有出让合同 (an unsupplied parcel has no contract)"))
        if req.supplied_on is not None:
            problems.append(Problem(f"{prefix}supplied_on", "未供地宗地无供地日期 (an unsupplied parcel has no supply date)"))
    elif status == "transferred":
        if req.contract_no is None:
            problems.append(Problem(f"{prefix}contract_no",
                                    "已出让宗地须关联已登记的出让合同 (a transferred parcel needs its contract)"))
        else:
            contract_row = store.contracts_by_no(session, [req.contract_no]).get(req.contract_no)
            if contract_row is None:
                problems.append(Problem(f"{prefix}contract_no", f"合同 {req.contract_no} 未登记 (contract not registered)"))
    else:      # allocated
        if req.contract_no is not None:
            problems.append(Problem(f"{prefix}contract_no", "划拨土地无出让合同 (allocated land has no transfer contract)"))
        if req.supplied_on is None:
            problems.append(Problem(f"{prefix}supplied_on", "划拨土地须填写供地（划拨决定）日期 (supply date required)"))
    if req.approval is not None and supplied_on is not None and supplied_on < req.approval.date:
        problems.append(Problem(f"{prefix}supplied_on", "供地日期早于批准日期 (supplied before approved)"))
    if contract_row is not None:
        contract = ContractRequest.model_validate(store_contract_document(contract_row))
        if supplied_on is None:
            supplied_on = contract.signed_on
        elif supplied_on != contract.signed_on:
            warnings.append({"path": f"{prefix}supplied_on", "message": f"供地日期与合同签订日期 {contract.signed_on} 不同"})
        if req.approval is not None and contract.signed_on < req.approval.date:
            problems.append(Problem(f"{prefix}contract_no", "合同签订日期早于批准日期 (contract signed before approval)"))
        c_area = units.to_canonical(contract.land_area.value, contract.land_area.unit, "area")
        if area is not None and c_area != area:
            warnings.append({"path": f"{prefix}area",
                             "message": f"宗地面积 {dec_str(area)} 亩与合同出让面积 {dec_str(c_area)} 亩不同；"
                                        "亩均计算采用宗地登记面积"})
        if contract.parcel_code and contract.parcel_code.strip().upper() != code:
            warnings.append({"path": f"{prefix}code", "message": f"合同所载宗地代码为 {contract.parcel_code}"})
    if req.supervision_no is not None:
        warnings += [{"path": f"{prefix}supervision_no", "message": f.message} for f in check_supervision_no(req.supervision_no)]
    if problems:
        raise InputError(problems)
    doc = req.model_dump(mode="json", exclude_none=True)
    doc["code"] = code
    if supplied_on is not None:
        doc["supplied_on"] = supplied_on.isoformat()
    return store.NewParcel(code=code, park_id=req.park, area_mu=area_text, use=req.use, supply_status=status,
                           approval_doc=req.approval.document if req.approval else None,
                           approval_date=req.approval.date if req.approval else None,
                           contract_no=req.contract_no, document=doc), warnings


def register_park(session: Session, raw: dict | ParkIn) -> tuple[dict, bool]:
    """Register a park from a plain dict (or the model).  Returns (summary, created)."""
    req = parse_model(ParkIn, raw)
    summary, created = store.register_park(session, _new_park(session, req))
    return {**summary, "names": [store.name_dict(n) for n in store.names(session, req.id)]}, created


def register_parcel(session: Session, raw: dict | ParcelIn) -> tuple[dict, bool]:
    """Register a parcel from a plain dict (or the model).  Returns (summary with warnings, created)."""
    req = parse_model(ParcelIn, raw)
    new, warnings = _new_parcel(session, req)
    summary, created = store.register_parcel(session, new)
    return {**summary, "supplied_on": new.document.get("supplied_on"), "warnings": warnings}, created


def register_park_with_parcels(session: Session, park: dict | ParkIn, parcels: list[dict | ParcelIn]) -> dict:
    """A park and its parcels from plain dicts, validated together (every problem with its
    path: ``park.…``, ``parcels.N.…``) and written in one transaction, all or nothing.
    Identical re-registration is a no-op; other content under a used id is a Conflict.
    For the Excel import and demo data."""
    problems: list[Problem] = []
    new_park = None
    try:
        new_park = _new_park(session, parse_model(ParkIn, park, "park"), "park.")
    except InputError as e:
        problems += e.problems
    park_id = new_park.id if new_park else (park.get("id") if isinstance(park, dict) else getattr(park, "id", None))
    new_parcels, warnings = [], []
    for i, raw in enumerate(parcels):
        try:
            p, w = _new_parcel(session, parse_model(ParcelIn, raw, f"parcels.{i}"), f"parcels.{i}.",
                               frozenset([park_id]) if park_id else frozenset())
            new_parcels.append(p)
            warnings += w
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(problems)
    park_out, parcel_out = store.write_bundle(session, new_park, new_parcels)
    return {"park": {**park_out[0], "created": park_out[1]},
            "parcels": [{**s, "created": c} for s, c in parcel_out], "warnings": warnings}


def add_park_name(session: Session, park_id: str, raw: dict | DatedName) -> tuple[dict, bool]:
    req = parse_model(DatedName, raw)
    rows, created = store.add_name(session, park_id, req.name, req.valid_from or store.SINCE_EVER, req.valid_to)
    return {"park": park_id, "names": [store.name_dict(n) for n in rows]}, created


def park_view(session: Session, park_id: str, as_of: dt.date) -> dict:
    row = store.get_park(session, park_id)
    names = store.names(session, park_id)
    current = store.name_on(names, as_of)
    doc = store.park_document(row)
    rs = low_efficiency_in_force(session, row.ruleset, as_of) if row.ruleset else None
    return {**store.park_summary(row), "as_of": as_of.isoformat(), "name": current.name if current else None,
            "names": [store.name_dict(n) for n in names], "tax_ruleset": doc.get("tax_ruleset"),
            "ruleset_in_force": rs.ref() if rs else None, "parcels": store.count_parcels(session, park_id),
            "note": doc.get("note")}
