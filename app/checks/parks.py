"""Parks and parcels: registration, classification on a date, the 一宗一策 ledger and the
yearly park evaluation (docs/domain.md).

Classification of a parcel on a date (the contract field ``categories``), each category with
the predicate results that produced it:

- ``approved_unsupplied`` (批而未供, PIWG): approved on or before the date (approval document
  and date) and not supplied by then (no contract signed / allocation recorded by the date);
- ``idle`` (闲置土地, IDLE): the 53号令 idle-land state of the parcel's contract on the date
  (``app.lifecycle.idle``): idle_1y, idle_2y, stalled, or government_caused (still idle land;
  the cause decides the disposal route);
- ``low_efficiency`` (低效用地, LOW_EFF): any predicate of the park's rule set
  (rules/parks/*.yaml, ``app.checks.low_efficiency``) holds; idle land is excluded when the
  rule set says so.

Tax: a parcel's tax is its contract's transferee's current tax record for the year
(``Contract.transferee_uscc``), allocated over the enterprise's land by area
(``app.checks.tax_per_mu``: the one 亩均税收 function, also used by the contract audit).  The park
亩均税收 of a year = Σ counted tax ÷ Σ area (亩) of ALL its industrial parcels supplied by the
year's end (the plan's 工业用地亩均税收 is a figure over the industrial land): a parcel without a
record counts 0 and is listed with its reason (``ZERO_REASONS``: idle land, 停建, 停产, not started,
under construction — or missing data for a producing enterprise or a parcel with no taxpayer).
Below the target with missing data the verdict is ``incomplete`` (those parcels could lift it);
at or above it, missing data cannot change it.  The same tax over the land with data only is a
secondary line (``over_land_with_data``), and the figure the low-efficiency tax predicate compares
a parcel with.  The tax basis is the park rule set's, else the standard-land rule set's in force
on 31 December; the area basis is the contract/parcel area.

Every decisive comparison (approval and supply dates, the idle-land tests, the low-efficiency
predicates, the park figure against its target, each parcel against the park figure, the
year-over-year sign) runs through the rule engine; all arithmetic is exact (Fraction).

Tax confidentiality (``app.checks.visibility``): ``load`` takes the caller's ``TaxView`` and
screens the tax records before anything is computed.  A parcel whose transferee's record was
reported by a region the caller may not see is ``withheld`` (不在本辖区权限内): no USCC-linked tax,
no 亩均税收, no tax-based low-efficiency result.  The park aggregate (total tax, 亩均税收, its
target distance and year-over-year change) is computed over every enterprise from the unscreened
records kept for that purpose only (``ParkData.aggregate_tax``), and shown when the disclosure
rule allows it (``visibility.disclose``); otherwise it is withheld as well.  Results name the
regions of the tax figures they contain (``tax_regions``).  A parcel withheld from the caller is
neither zero nor missing for it: its area is in the denominator and its tax in the aggregate like
any other; the verdict is the aggregate's (an ``incomplete`` one names only the parcels the caller
sees, and says whether withheld parcels lack data too).

The functions taking plain dicts (``register_park``, ``register_parcel``,
``register_park_with_parcels``, ``put_plan``) are what an Excel import or a demo-data script
calls; the routers in ``app.api.parks`` call the same ones.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from app.checks import low_efficiency as lowe
from app.checks import tax_per_mu as tpm
from app.checks.performance import Audit
from app.checks.visibility import (
    WITHHELD_STATUS,
    WITHHELD_ZH,
    Disclosure,
    TaxView,
    disclose,
    is_withheld,
    lookup,
    screen,
)
from app.core import clock
from app.core.errors import InputError, NotFound, Problem, pydantic_problems
from app.core.numbers import dec_str
from app.engine import Engine
from app.lifecycle import idle
from app.lifecycle.law import contract_models, idle_land_law
from app.lifecycle.periods import add_months
from app.lifecycle.state import State, completion_site, effective_events, fold
from app.rulesets.resolve import Registry
from app.schemas.contract import ContractRequest, Quantity
from app.schemas.parks import DatedName, ParcelIn, ParkIn, PlanIn
from app.store import decisions, rulesets, tax
from app.store import parks as store
from app.store.models import Contract, Parcel, Park, ParkName
from indicators import units
from indicators.derive import derive
from indicators.identifiers import check_division, check_parcel_code, check_supervision_no

ZERO = Fraction(0)
MAX_AREA_MU = Decimal("1e7")           # 1,000 万亩: a sanity bound, not a rule

USES = {"industrial": "工业用地", "warehouse": "仓储用地", "other": "其他用地"}
SUPPLY_STATUSES = {"approved_unsupplied": "已批未供", "transferred": "已出让", "allocated": "已划拨"}
CATEGORIES = {"approved_unsupplied": ("PIWG", "批而未供"), "idle": ("IDLE", "闲置土地"),
              "low_efficiency": ("LOW_EFF", "低效用地")}

# 一宗一策 disposal measures: the closed list of docs/domain.md.
MEASURES = {
    "start_development": "督促动工开发",
    "extend_start": "延长动工开发期限（不超过一年）",
    "change_use_or_planning": "调整用途或规划条件",
    "temporary_use": "安排临时使用（不超过两年）",
    "negotiated_paid_reclaim": "协议有偿收回",
    "swap": "置换土地",
    "idle_fee": "征收土地闲置费（出让价款 20%）",
    "free_reclaim": "无偿收回",
    "re_tender": "重新招拍挂",
    "redevelop": "再开发",
    "enterprise_upgrade": "企业提质增效",
    "merger": "兼并重组",
    "complete_supply": "完善供地手续（批而未供）",
    "other": "其他",
}
# 53号令 Art. 12 ✅ (docs/domain.md): statutory caps, in years, and where they run from.
# Art. 12: (一) 延长动工开发期限 ≤ 1 year from the start date agreed in the supplementary agreement;
# (二) 调整土地用途、规划条件; (三) 由政府安排临时使用 ≤ 2 years from its first day; (四) 协议有偿收回;
# (五) 置换土地; (六) other ways the county sets.
STATUTORY_CAPS = {"extend_start": (1, "第十二条（一）", "自补充协议约定的动工开发日期起"),
                  "temporary_use": (2, "第十二条（三）", "自安排临时使用之日起")}
# Idle-land proposals (app.lifecycle.idle) → measures of the list above.
PROPOSAL_MEASURES = {"extend_start_by_max_1_year": "extend_start", "temporary_use_max_2_years": "temporary_use",
                     "change_use_or_planning": "change_use_or_planning", "negotiated_paid_reclaim": "negotiated_paid_reclaim",
                     "swap": "swap", "idle_fee": "idle_fee", "free_reclaim": "free_reclaim"}


def _parse(model: type[BaseModel], raw: Any, prefix: str = "") -> Any:
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise InputError(pydantic_problems(e, tuple(p for p in prefix.split(".") if p))) from None


def _q(x: Fraction | None, unit: str, places: int | None = None) -> dict | None:
    return None if x is None else {"value": dec_str(x, places), "unit": unit}


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


# =========================================================================== registration

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
    if req.ruleset is not None and not lowe.known(req.ruleset):
        problems.append(Problem(f"{prefix}ruleset", f"未知园区规则集 {req.ruleset!r} (unknown park rule set; bundled: "
                                                    f"{sorted(lowe.bundled())})"))
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


def store_contract_document(row: Contract) -> dict:
    return json.loads(row.document)


def register_park(session: Session, raw: dict | ParkIn) -> tuple[dict, bool]:
    """Register a park from a plain dict (or the model).  Returns (summary, created)."""
    req = _parse(ParkIn, raw)
    summary, created = store.register_park(session, _new_park(session, req))
    return {**summary, "names": [store.name_dict(n) for n in store.names(session, req.id)]}, created


def register_parcel(session: Session, raw: dict | ParcelIn) -> tuple[dict, bool]:
    """Register a parcel from a plain dict (or the model).  Returns (summary with warnings, created)."""
    req = _parse(ParcelIn, raw)
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
        new_park = _new_park(session, _parse(ParkIn, park, "park"), "park.")
    except InputError as e:
        problems += e.problems
    park_id = new_park.id if new_park else (park.get("id") if isinstance(park, dict) else getattr(park, "id", None))
    new_parcels, warnings = [], []
    for i, raw in enumerate(parcels):
        try:
            p, w = _new_parcel(session, _parse(ParcelIn, raw, f"parcels.{i}"), f"parcels.{i}.",
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
    req = _parse(DatedName, raw)
    rows, created = store.add_name(session, park_id, req.name, req.valid_from or store.SINCE_EVER, req.valid_to)
    return {"park": park_id, "names": [store.name_dict(n) for n in rows]}, created


def park_view(session: Session, park_id: str, as_of: dt.date) -> dict:
    row = store.get_park(session, park_id)
    names = store.names(session, park_id)
    current = store.name_on(names, as_of)
    doc = store.park_document(row)
    rs = lowe.in_force(row.ruleset, as_of) if row.ruleset else None
    return {**store.park_summary(row), "as_of": as_of.isoformat(), "name": current.name if current else None,
            "names": [store.name_dict(n) for n in names], "tax_ruleset": doc.get("tax_ruleset"),
            "ruleset_in_force": rs.ref() if rs else None, "parcels": store.count_parcels(session, park_id),
            "note": doc.get("note")}


# =========================================================================== loading

@dataclass
class ParcelRec:
    row: Parcel
    doc: dict
    area: Fraction                           # 亩, the registered (= contracted) area
    supplied_on: dt.date | None
    contract_row: Contract | None
    contract: ContractRequest | None
    events: list[dict]
    _states: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def industrial(self) -> bool:
        return self.row.use == "industrial"

    def supplied_by(self, on: dt.date) -> bool:
        return self.supplied_on is not None and self.supplied_on <= on

    def state(self, as_of: dt.date) -> State | None:
        if self.contract is None:
            return None
        if as_of not in self._states:
            self._states[as_of] = fold(self.contract, self.events, as_of)
        return self._states[as_of]


@dataclass
class ParkData:
    park: Park
    doc: dict
    names: list[ParkName]
    parcels: list[ParcelRec]
    tax: dict[str, dict[int, Any]]                                   # uscc → year → record or WITHHELD (screened)
    holdings: dict[str, list[tpm.Holding]]                           # uscc → its land (any park): the allocation
    registry: Registry
    known_at: dt.datetime
    view: TaxView
    # The unscreened records: read by ``park_tax`` for the park aggregate only, which is shown
    # or withheld by the disclosure rule.  Nothing per enterprise is ever taken from here.
    aggregate_tax: dict[str, dict[int, dict]] = field(default_factory=dict, repr=False)

    def name_on(self, on: dt.date) -> str | None:
        n = store.name_on(self.names, on)
        return n.name if n else None


def _supplied_on(doc: dict) -> dt.date | None:
    v = doc.get("supplied_on")
    return dt.date.fromisoformat(v) if v else None


def load(session: Session, park_id: str, view: TaxView) -> ParkData:
    """Everything the classification, ledger and evaluation of a park read, in a few queries;
    the tax records screened for ``view`` (the caller's)."""
    park = store.get_park(session, park_id)
    rows = store.parcels_of_park(session, park_id)
    nos = [r.contract_no for r in rows if r.contract_no]
    crow = store.contracts_by_no(session, nos)
    events = store.events_by_contract(session, nos)
    recs = []
    for r in rows:
        doc = store.parcel_document(r)
        c_row = crow.get(r.contract_no) if r.contract_no else None
        contract = ContractRequest.model_validate(store_contract_document(c_row)) if c_row else None
        recs.append(ParcelRec(r, doc, Fraction(r.area_mu), _supplied_on(doc), c_row, contract,
                              events.get(r.contract_no, []) if r.contract_no else []))
    usccs = sorted({c.transferee_uscc for c in crow.values()})
    tax_by_uscc = tax.current_records_many(session, usccs)
    held = tpm.enterprise_land(session, usccs)
    raw = {u: tax_by_uscc.get(u, {}) for u in usccs}
    return ParkData(park=park, doc=store.park_document(park), names=store.names(session, park_id), parcels=recs,
                    tax=screen(raw, view), holdings=held, registry=rulesets.registry(session),
                    known_at=clock.utcnow(), view=view, aggregate_tax=raw)


# =========================================================================== tax per mu

def tax_basis(data: ParkData, year: int) -> dict:
    """The tax basis for a year: the park rule set's if it declares one, else the innermost
    layer's of the standard-land rule set in force on 31 December (the park's ``tax_ruleset``,
    or the one resolved for its jurisdiction).  ``status`` unknown when neither applies."""
    end = dt.date(year, 12, 31)
    prs = lowe.in_force(data.park.ruleset, end) if data.park.ruleset else None
    if prs is not None and prs.doc.tax_basis is not None:
        b = prs.doc.tax_basis
        return {"status": "ok", "includes": b.includes, "refunds_added_back": b.refunds_added_back, "period": b.period,
                "from": {"kind": "park_ruleset", **prs.ref()}}
    rid = data.doc.get("tax_ruleset")
    try:
        rid = rid or data.registry.leaf_for(data.park.jurisdiction, end, data.known_at, park=data.park.id)
        layers = data.registry.chain(rid, end, data.known_at)
    except InputError as e:
        return {"status": "unknown", "message": f"{year} 年无可用的税收口径：{e}", "from": None}
    layer = next((la for la in reversed(layers) if la.doc.tax_basis), None)
    if layer is None:
        return {"status": "unknown", "message": f"规则集 {rid} 未声明税收口径 (tax_basis)", "from": None}
    b = layer.doc.tax_basis
    return {"status": "ok", "includes": b.includes, "refunds_added_back": b.refunds_added_back, "period": b.period,
            "from": {"kind": "standard_land", **layer.ref(), "layer_of": rid}}


AREA_BASIS = {"id": "contract", "label": "合同/宗地面积（宗地登记面积，即出让合同面积）",
              "note": "园区亩均税收 = Σ 计入税收 ÷ 年末全部已供工业用地面积（亩），无税收记录的宗地计为 0 并列明原因；"
                      "一家企业有多宗用地时，税收按面积分摊（各宗亩均税收相同）"}
# Why a parcel counts 0 in the park figure (no tax record for the year, as the caller may see it).
# Only ``data_missing`` is missing data: a producing enterprise (or a parcel with no taxpayer
# linked) whose tax is unknown — it may change the verdict; the others pay nothing because the
# land does not produce (the plan's point: such land lowers the park figure).
ZERO_REASONS = {"not_started": "未动工", "idle": "闲置土地", "construction_suspended": "停建（缓建）",
                "production_stopped": "停产", "under_construction": "在建未投产", "data_missing": "缺少税收数据"}


@dataclass
class ParcelTax:
    status: str                        # ok | insufficient_data | not_applicable | withheld
    reason: str | None = None
    tax_per_mu: Fraction | None = None
    allocated_tax: Fraction | None = None
    detail: dict = field(default_factory=dict)
    region: str | None = None          # of the record counted (ok only)
    uscc: str | None = None            # the enterprise counted (ok only; aggregates group by it)


def parcel_tax(data: ParkData, rec: ParcelRec, year: int, basis: dict) -> ParcelTax:
    """The parcel's counted tax in ``year``: its transferee's current record (tax paid, plus
    policy refunds where the basis adds them back), allocated over the enterprise's registered
    parcels supplied by the year's end, by area.  From the screened records: ``withheld`` when
    the caller may not see the record."""
    return _parcel_tax(data.tax, data, rec, year, basis)


def _parcel_tax(records: dict[str, dict[int, Any]], data: ParkData, rec: ParcelRec, year: int, basis: dict) -> ParcelTax:
    end = dt.date(year, 12, 31)
    if not rec.supplied_by(end):
        return ParcelTax("not_applicable", f"{year} 年末尚未供地")
    if rec.contract_row is None:
        return ParcelTax("insufficient_data", "宗地无出让合同，无纳税人税收记录（缺数据不视为零）")
    uscc = rec.contract_row.transferee_uscc
    r = lookup(records.get(uscc), year)
    if is_withheld(r):
        # Not even the USCC: the row would tie this parcel to another authority's taxpayer.
        return ParcelTax(WITHHELD_STATUS, f"{year} 年受让人税收数据{WITHHELD_ZH}")
    if r is None:
        return ParcelTax("insufficient_data", f"受让人 {uscc} 无 {year} 年税收记录（缺数据不视为零）", detail={"uscc": uscc})
    if basis["status"] != "ok":
        return ParcelTax("insufficient_data", basis["message"], detail={"uscc": uscc})
    paid = Fraction(r["tax_paid"])
    refunds = Fraction(r["policy_refunds"]) if r["policy_refunds"] is not None else ZERO
    counted = tpm.counted_tax(paid, refunds, basis["refunds_added_back"])
    land = data.holdings.get(uscc, [])
    own = next((h for h in land if h.parcel == rec.code), None) or \
        tpm.Holding(rec.contract_row.contract_no, rec.code, rec.area, rec.supplied_on)
    share = tpm.allocate(counted, land, year, own)
    return ParcelTax("ok", tax_per_mu=share.tax_per_mu, allocated_tax=share.allocated_tax, region=r.get("region"), uscc=uscc,
                     detail={"uscc": uscc, "year": year, "tax_paid": dec_str(paid), "policy_refunds": dec_str(refunds),
                             "refunds_added_back": basis["refunds_added_back"], "counted_tax": dec_str(counted),
                             **share.inputs(), "area_mu": dec_str(rec.area),
                             "shared_with": sorted(h.parcel or f"合同 {h.contract_no}" for h in share.shared_with),
                             "batch_id": r["batch_id"], "tax_per_mu": dec_str(share.tax_per_mu)})


@dataclass
class ParkTax:
    """The park 亩均税收 of a year.  ``value`` (the park figure) divides the counted tax by ALL
    industrial land supplied by 31 December (``scope_area``); a parcel with no record counts 0.
    ``with_data_value`` divides it by the land whose enterprise has a record only: shown as a
    secondary line, never the verdict's figure."""

    year: int
    basis: dict
    value: Fraction | None             # None: no data, or withheld (``status``)
    total_tax: Fraction | None
    counted_area: Fraction | None      # the denominator of ``value``: the supplied industrial land
    scope_area: Fraction
    counted: list[tuple[ParcelRec, ParcelTax]]     # the parcels the caller sees with their tax
    missing: list[tuple[ParcelRec, ParcelTax]]     # the parcels the caller sees with no tax: counted as 0
    withheld: list[tuple[ParcelRec, ParcelTax]] = field(default_factory=list)
    status: str = "ok"                 # ok | insufficient_data | withheld (the aggregate)
    disclosure: Disclosure | None = None
    regions: set = field(default_factory=set)      # of the tax figures shown (tax_regions)
    with_data_value: Fraction | None = None
    with_data_area: Fraction | None = None
    # Withheld parcels (for this caller) with no record in the full data: they count 0 in the
    # aggregate; they are never listed, only told to the verdict (``explain_zeros``).
    hidden_zero: list[ParcelRec] = field(default_factory=list)
    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)     # code → (reason, message)
    message: str | None = None

    def missing_data(self) -> list[tuple[ParcelRec, ParcelTax]]:
        return [(r, t) for r, t in self.missing if self.reasons.get(r.code, ("data_missing",))[0] == "data_missing"]

    def hidden_missing(self) -> list[ParcelRec]:
        return [r for r in self.hidden_zero if self.reasons.get(r.code, ("data_missing",))[0] == "data_missing"]

    def _zero(self, r: ParcelRec, t: ParcelTax) -> dict:
        reason, why = self.reasons.get(r.code, ("data_missing", t.reason or ""))
        return {"code": r.code, "area": _q(r.area, "亩"), "tax_per_mu": _q(ZERO, "万元/亩"), "reason": reason,
                "reason_label": ZERO_REASONS[reason], "message": why, "tax_note": t.reason,
                "transferee_uscc": t.detail.get("uscc")}

    def to_dict(self) -> dict:
        shown = self.status == "ok"
        secondary = {"label": "参考：仅计有税收数据的宗地（不作为园区结论）",
                     "formula": "Σ 计入税收 ÷ Σ 有税收数据的宗地面积",
                     "value": _q(self.with_data_value, "万元/亩") if shown else None,
                     "area": _q(self.with_data_area, "亩") if shown else None}
        out = {
            "year": self.year, "status": self.status,
            "value": _q(self.value, "万元/亩"),
            "formula": "Σ 计入税收 ÷ Σ 年末已供工业用地面积（无税收记录的宗地计为 0，列明原因）",
            "tax_basis": self.basis, "area_basis": AREA_BASIS, "allocation": tpm.ALLOCATION,
            "total_tax": _q(self.total_tax, "万元") if shown else None,
            "area_counted": _q(self.counted_area, "亩") if shown else None,
            "area_in_scope": _q(self.scope_area, "亩"),
            "area_with_data": _q(self.with_data_area, "亩") if shown else None,
            "coverage": _q(self.with_data_area / self.scope_area * 100, "%")
            if shown and self.scope_area and self.with_data_area is not None else None,
            "over_land_with_data": secondary,
            "parcels_counted": [{"code": r.code, "area": _q(r.area, "亩"), "tax_per_mu": _q(t.tax_per_mu, "万元/亩"),
                                 "allocated_tax": _q(t.allocated_tax, "万元"), "inputs": t.detail} for r, t in self.counted],
            "parcels_zero": [self._zero(r, t) for r, t in self.missing],
            "parcels_missing_data": [self._zero(r, t) for r, t in self.missing_data()],
            "parcels_withheld": [{"code": r.code, "area": _q(r.area, "亩"), "status": WITHHELD_STATUS, "reason": t.reason}
                                 for r, t in self.withheld],
        }
        if self.status == WITHHELD_STATUS:
            out["message"] = self.disclosure.reason if self.disclosure else WITHHELD_ZH
        elif self.message:
            out["message"] = self.message
        elif self.withheld:
            out["note"] = (f"园区合计按全部企业计算（计入企业不少于规定家数且无单一企业占比过高）；"
                           f"{len(self.withheld)} 宗宗地的税收{WITHHELD_ZH}，不逐宗显示，其面积与税收均已计入")
        return out


def park_tax(data: ParkData, year: int) -> ParkTax:
    """The park 亩均税收 of ``year`` over ALL its industrial parcels supplied by 31 December (a
    parcel without a record counts 0).  Per parcel as the caller may see it; the aggregate over
    every enterprise, shown or withheld by the disclosure rule (``visibility.disclose``).  A
    parcel withheld from the caller is neither zero nor missing for it: its area and its tax
    (from the unscreened records) are in the aggregate like any other."""
    basis = tax_basis(data, year)
    end = dt.date(year, 12, 31)
    counted, zero, withheld, hidden_zero = [], [], [], []
    scope = ZERO
    with_data = total = ZERO
    contributions: dict[str, tuple[Fraction, str | None]] = {}
    for rec in data.parcels:
        if not (rec.industrial and rec.supplied_by(end)):
            continue
        scope += rec.area
        t = parcel_tax(data, rec, year, basis)
        (counted if t.status == "ok" else withheld if t.status == WITHHELD_STATUS else zero).append((rec, t))
        whole = t if t.status == "ok" else _parcel_tax(data.aggregate_tax, data, rec, year, basis)
        if whole.status == "ok":
            with_data += rec.area
            total += whole.allocated_tax
            part, _ = contributions.get(whole.uscc, (ZERO, None))
            contributions[whole.uscc] = (part + whole.allocated_tax, whole.region)
        elif t.status == WITHHELD_STATUS:
            hidden_zero.append(rec)
    regions = {t.region for _, t in counted}
    args = dict(counted=counted, missing=zero, withheld=withheld, hidden_zero=hidden_zero)
    if basis["status"] != "ok" or scope == 0:
        why = basis.get("message") if basis["status"] != "ok" else f"{year} 年末无已供工业用地"
        return ParkTax(year, basis, None, None, None, scope, status="insufficient_data", regions=regions, message=why,
                       **args)
    d = disclose(contributions, data.view)
    if not d.shown:
        return ParkTax(year, basis, None, None, None, scope, status=WITHHELD_STATUS, disclosure=d, regions=regions, **args)
    return ParkTax(year, basis, total / scope, total, scope, scope, status="ok", disclosure=d, regions=regions | set(d.regions),
                   with_data_value=total / with_data if with_data else None, with_data_area=with_data, **args)


def explain_zeros(data: ParkData, ptax: ParkTax, cls: dict[str, dict], on: dt.date) -> None:
    """Why each parcel without a record counts 0 on ``on`` (31 December of the year), from its
    lifecycle and its 53号令 result in ``cls``: idle land, 停建, 停产, not started, under
    construction, or — for a producing enterprise, or land with no taxpayer linked — missing data."""
    for rec in [r for r, _ in ptax.missing] + ptax.hidden_zero:
        st = rec.state(on)
        if rec.contract is None or st is None:
            ptax.reasons[rec.code] = ("data_missing", "宗地无出让合同，未关联纳税人，无税收数据（缺数据，不代表无税收）")
            continue
        idle_ = cls.get(rec.code, {}).get("assessment", {}).get("idle", {})
        if idle_.get("status") == "yes":
            ptax.reasons[rec.code] = ("idle", f"闲置土地（{idle_.get('message')}）")
        elif st.completion is None and st.construction_suspended_since is not None:
            ptax.reasons[rec.code] = ("construction_suspended", f"自 {st.construction_suspended_since} 停建，尚未竣工验收")
        elif st.completion is None and st.started_on is None:
            ptax.reasons[rec.code] = ("not_started", f"截至 {on} 未动工（约定动工日期 {st.start_due}）")
        elif st.completion is None:
            ptax.reasons[rec.code] = ("under_construction", f"{st.started_on} 开工，截至 {on} 未竣工验收")
        elif st.production_stopped_since is not None:
            ptax.reasons[rec.code] = ("production_stopped", f"{st.completion.on} 竣工验收，自 {st.production_stopped_since} "
                                                            f"{'半停产' if st.production_stop_partial else '停产'}")
        else:
            ptax.reasons[rec.code] = ("data_missing", f"{st.completion.on} 竣工验收（投产），受让人无 {ptax.year} 年税收记录"
                                                      "（缺数据，不代表无税收）")


# =========================================================================== classification

def _contract_area(c: ContractRequest) -> Fraction:
    return units.to_canonical(c.land_area.value, c.land_area.unit, "area")


def plot_ratio_requirement(data: ParkData, rec: ParcelRec) -> lowe.Requirement | None:
    """The parcel's own plot-ratio minimum (the low-efficiency plot-ratio test compares with it):
    its contract's committed minimum; else the strictest minimum of the rule set in force for its
    industry on its signing date, resolved as the contract check resolves it (the contract's rule
    set, or by jurisdiction, parcel and park).  None without a contract."""
    c = rec.contract
    if c is None:
        return None
    iv = c.commitments.plot_ratio
    if iv is not None and iv.min is not None:
        return lowe.Requirement(units.to_canonical(iv.min, iv.unit, "ratio"), False, "contract", "ok",
                                f"合同 {c.contract_no} 约定容积率下限 {dec_str(units.to_canonical(iv.min, iv.unit, 'ratio'))}",
                                {"contract_no": c.contract_no, "clause": "commitments.plot_ratio.min"})
    try:
        res = data.registry.resolve(ruleset=c.ruleset, jurisdiction=c.jurisdiction, as_of=c.signed_on,
                                    known_at=data.known_at, industry=c.industry.model_dump(), parcel=c.parcel_code,
                                    park=data.park.id)
    except InputError as e:
        return lowe.Requirement(None, False, "ruleset", "not_covered",
                                f"签约日 {c.signed_on} 无可用规则集：{'；'.join(p.message for p in e.problems)}")
    mins = [er for er in res.rules if er.rule.indicator == "plot_ratio" and er.rule.op in (">=", ">", "between")
            and er.concrete.status != "not_required"]
    if not mins:
        return lowe.Requirement(None, False, "ruleset", "none",
                                f"合同未约定容积率下限，签约日 {c.signed_on} 适用的规则集 {res.leaf.id} 对行业 "
                                f"{c.industry.code} 无容积率下限")
    unknown = [er for er in mins if er.concrete.threshold is None]
    if unknown:
        er = unknown[0]
        return lowe.Requirement(None, False, "ruleset", "not_covered",
                                f"合同未约定容积率下限；规则 {er.layer.id}:{er.rule.id} 对行业 {c.industry.code}："
                                f"{er.concrete.message}")
    lows = []
    for er in mins:
        t = er.concrete.threshold
        lows.append((t[0] if isinstance(t, tuple) else t, er.rule.op == ">", er))
    value, strict, er = max(lows, key=lambda x: (x[0], x[1]))
    ref = er.layer.doc.documents.get(er.rule.cite.doc) if er.rule.cite else None
    cite = {"layer": er.layer.id, "layer_version": er.layer.version, "rule": er.rule.id,
            "number": ref.number if ref else None, "article": er.rule.cite.article if er.rule.cite else None,
            "as_of": c.signed_on.isoformat(), "industry": c.industry.code}
    return lowe.Requirement(value, strict, "ruleset", "ok",
                            f"合同未约定容积率下限；签约日 {c.signed_on} 适用 {er.layer.id} {er.rule.id}，行业 {c.industry.code} "
                            f"{'>' if strict else '≥'} {dec_str(value)}", cite)


def facts(rec: ParcelRec, as_of: dt.date, tax_year: int, t: ParcelTax | None, park_avg: Fraction | None,
          park_avg_status: str = "ok", far_requirement: lowe.Requirement | None = None) -> lowe.ParcelFacts:
    st = rec.state(as_of)
    far = intensity = agreed = None
    c_area = None
    if rec.contract is not None:
        c = rec.contract
        c_area = _contract_area(c)
        if c_area > 0:
            cm = c.commitments
            if cm.investment_intensity is not None:
                agreed = units.to_canonical(cm.investment_intensity.value, cm.investment_intensity.unit, "money_per_area")
            elif cm.fixed_asset_investment is not None:
                agreed = units.to_canonical(cm.fixed_asset_investment.value, cm.fixed_asset_investment.unit, "money") / c_area
            if st is not None and st.completion is not None:
                far = derive("plot_ratio", completion_site(st, c_area))
                inv = st.completion.fixed_asset_investment
                if inv is not None:
                    intensity = units.to_canonical(inv.value, inv.unit, "money") / c_area
    return lowe.ParcelFacts(state=st, contract_area=c_area, tax_per_mu=t.tax_per_mu if t else None,
                            tax_status=t.status if t else "insufficient_data", tax_note=t.reason if t else None,
                            park_average=park_avg, tax_year=tax_year,
                            plot_ratio=far, investment_intensity=intensity, contract_intensity=agreed,
                            park_average_status=park_avg_status, plot_ratio_requirement=far_requirement)


def _date_test(a: Audit, key: str, later: dt.date, earlier: dt.date) -> str:
    """``later`` on or after ``earlier``, as a day difference against 0."""
    return a.add(key, Fraction((later - earlier).days), ">=", ZERO)


def _piwg(rec: ParcelRec, as_of: dt.date, a: Audit):
    """批而未供: approved on or before ``as_of`` and not supplied by then."""
    approval = rec.row.approval_date
    if approval is None:
        return lambda h: {"status": "no", "message": "无新增建设用地批准记录（存量用地或未登记批准文件），不属批而未供",
                          "predicates": [{"predicate": "approved", "status": "insufficient_data", "holds": None,
                                          "message": "未登记批准文号与日期"}]}
    k_app = _date_test(a, "piwg.approved", as_of, approval)
    k_sup = _date_test(a, "piwg.supplied", as_of, rec.supplied_on) if rec.supplied_on else None

    def build(h: dict) -> dict:
        approved = bool(h[k_app])
        supplied = bool(k_sup and h[k_sup])
        preds = [
            {"predicate": "approved", "holds": approved, "status": "holds" if approved else "not_met",
             "value": approval.isoformat(), "op": "<=", "threshold": as_of.isoformat(), "document": rec.row.approval_doc,
             "message": f"{approval} 经 {rec.row.approval_doc} 批准" if approved else f"批准日期 {approval} 晚于 {as_of}"},
            {"predicate": "unsupplied", "holds": not supplied, "status": "not_met" if supplied else "holds",
             "value": rec.supplied_on.isoformat() if rec.supplied_on else None, "op": ">", "threshold": as_of.isoformat(),
             "message": f"已于 {rec.supplied_on} 供地" if supplied else
             (f"至 {as_of} 未供地（{rec.supplied_on} 供地）" if rec.supplied_on else f"至 {as_of} 未办理供地手续")},
        ]
        yes = approved and not supplied
        out = {"status": "yes" if yes else "no", "predicates": preds,
               "message": f"批而未供：{approval} 批准，至 {as_of} 未供地" if yes else "不属批而未供"}
        if yes:
            out["days_since_approval"] = (as_of - approval).days
        return out
    return build


def _idle(rec: ParcelRec, as_of: dt.date, a: Audit):
    st = rec.state(as_of)
    if st is None:
        return lambda h: {"status": "not_applicable", "predicates": [],
                          "message": "无出让合同：闲置土地认定（53号令）以有偿使用合同或划拨决定约定的动工日期为准，"
                                     "划拨土地的动工日期未登记"}
    if not rec.supplied_by(as_of):
        return lambda h: {"status": "not_applicable", "predicates": [], "message": f"至 {as_of} 尚未供地"}
    c = st.contract
    price = None if c.land_price is None else units.to_canonical(c.land_price.value, c.land_price.unit, "money")
    ins = idle.inputs(st, price)
    tests = idle.tests(st, ins)
    for key, value, op, threshold in tests:
        a.add(key, value, op, threshold)

    def build(h: dict) -> dict:
        finding = idle.finding(st, ins, h)
        preds = [{"predicate": key, "value": dec_str(value), "op": op, "threshold": dec_str(threshold),
                  "holds": h.get(key), "status": "holds" if h.get(key) else "not_met" if h.get(key) is False else
                  "insufficient_data"} for key, value, op, threshold in tests]
        state = finding.get("state")
        if finding["status"] == "insufficient_data":
            status = "insufficient_data"
        else:
            status = "yes" if state in ("idle_1y", "idle_2y", "stalled", "government_caused") else "no"
        out = {"status": status, "state": state, "predicates": preds, "finding": finding, "message": finding["message"]}
        if status == "yes":
            out["cause"] = "government" if state == "government_caused" else "enterprise"
        return out
    return build


def _low(data: ParkData, rec: ParcelRec, as_of: dt.date, tax_year: int, t: ParcelTax | None, ptax: ParkTax, a: Audit):
    rid = data.park.ruleset
    if rid is None:
        return lambda h, idle_yes: {"status": "not_assessed", "predicates": [], "ruleset": None,
                                    "message": "园区未指定低效用地认定规则集 (the park names no rule set)"}
    rs = lowe.in_force(rid, as_of)
    if rs is None:
        return lambda h, idle_yes: {"status": "not_assessed", "predicates": [], "ruleset": {"id": rid},
                                    "message": f"规则集 {rid} 在 {as_of} 无生效版本"}
    if not rec.industrial:
        return lambda h, idle_yes: {"status": "not_applicable", "predicates": [], "ruleset": rs.ref(),
                                    "message": f"非工业用地（{USES.get(rec.row.use, rec.row.use)}）"}
    if not rec.supplied_by(as_of):
        return lambda h, idle_yes: {"status": "not_applicable", "predicates": [], "ruleset": rs.ref(),
                                    "message": f"至 {as_of} 尚未供地"}
    # The tax predicate compares a parcel with the park's producing land (the figure over land with
    # data): idle and unbuilt land counted as 0 would lower the bar exactly where it abounds.
    builders = lowe.predicates(rs.doc, facts(rec, as_of, tax_year, t, ptax.with_data_value, ptax.status,
                                             plot_ratio_requirement(data, rec)), as_of, a)

    def build(h: dict, idle_yes: bool) -> dict:
        preds = [b(h) for b in builders]
        st = {p["status"] for p in preds}
        # A withheld tax predicate could hold: without another predicate holding, the result is
        # withheld too (neither "yes", which would reveal it, nor "no").
        status = ("yes" if "holds" in st else WITHHELD_STATUS if WITHHELD_STATUS in st
                  else "insufficient_data" if "insufficient_data" in st else "no")
        out = {"status": status, "predicates": preds, "ruleset": rs.ref(), "tax_year": tax_year,
               "message": "、".join(p["label"] for p in preds if p["status"] == "holds") if status == "yes" else
               f"亩均税收条件{WITHHELD_ZH}，无法判定" if status == WITHHELD_STATUS else
               "有认定条件缺少数据" if status == "insufficient_data" else "不符合低效用地认定条件"}
        if idle_yes and rs.doc.excludes_idle and status != "no":
            out.update(status="excluded", excluded_because="idle",
                       excludes_idle_source=rs.doc.cite(rs.doc.excludes_idle_source),
                       message=f"已认定为闲置土地，按规则集不再认定为低效用地（{out['message']}）")
        return out
    return build


def classify(data: ParkData, as_of: dt.date, engine: Engine, *, tax_year: int | None = None,
             ptax: ParkTax | None = None, only: str | None = None) -> dict[str, dict]:
    """Every parcel of the park (or ``only`` one) on ``as_of``: ``categories`` (the assigned
    ones, each with its predicate results) and ``assessment`` (all three, with status yes, no,
    insufficient_data, not_applicable, not_assessed or excluded).  Tax predicates read
    ``tax_year`` (default: the last year ended by ``as_of``)."""
    tax_year = as_of.year - 1 if tax_year is None else tax_year
    ptax = ptax or park_tax(data, tax_year)
    by_code = {r.code: t for r, t in ptax.counted + ptax.missing + ptax.withheld}
    basis = ptax.basis
    out = {}
    for rec in data.parcels:
        if only is not None and rec.code != only:
            continue
        t = by_code.get(rec.code) or parcel_tax(data, rec, tax_year, basis)
        a = Audit()
        b_piwg, b_idle = _piwg(rec, as_of, a), _idle(rec, as_of, a)
        b_low = _low(data, rec, as_of, tax_year, t, ptax, a)
        holds = a.run(engine)
        piwg, idle_ = b_piwg(holds), b_idle(holds)
        low = b_low(holds, idle_["status"] == "yes")
        assessment = {"approved_unsupplied": piwg, "idle": idle_, "low_efficiency": low}
        categories = []
        for cat, res in assessment.items():
            if res["status"] == "yes":
                code, label = CATEGORIES[cat]
                categories.append({"category": cat, "code": code, "label": label, "as_of": as_of.isoformat(),
                                   **{k: v for k, v in res.items() if k != "status"}})
        out[rec.code] = {"code": rec.code, "as_of": as_of.isoformat(), "tax_year": tax_year,
                         "categories": categories, "assessment": assessment,
                         "tax": {"status": t.status, "reason": t.reason, "tax_per_mu": _q(t.tax_per_mu, "万元/亩"),
                                 "park_average": _q(ptax.with_data_value, "万元/亩"), "park_average_status": ptax.status,
                                 "park_average_basis": "land_with_data",
                                 "inputs": t.detail}}
    return out


def parcel_basics(data: ParkData, rec: ParcelRec, as_of: dt.date) -> dict:
    """地块基本信息 of the ledger (docs/domain.md)."""
    code = rec.code
    out = {"code": code, "code_kind": "不动产单元代码" if len(code) == 28 else "宗地代码", "county": code[:6],
           "park": data.park.id, "park_name": data.name_on(as_of), "location": rec.doc.get("location"),
           "area": _q(rec.area, "亩"), "area_m2": _q(rec.area * units.M2_PER_MU, "m2", 2),
           "use": rec.row.use, "use_label": USES.get(rec.row.use), "supply_status": rec.row.supply_status,
           "supply_status_label": SUPPLY_STATUSES.get(rec.row.supply_status),
           "supplied_on": rec.supplied_on.isoformat() if rec.supplied_on else None,
           "approval": rec.doc.get("approval"), "supervision_no": rec.doc.get("supervision_no"),
           "contract": None}
    if rec.contract is not None:
        c, st = rec.contract, rec.state(as_of)
        out["contract"] = {
            "contract_no": c.contract_no, "signed_on": c.signed_on.isoformat(), "transferee": c.transferee.model_dump(),
            "industry": c.industry.model_dump(), "land_price": c.land_price.model_dump(mode="json") if c.land_price else None,
            "land_area": c.land_area.model_dump(mode="json"), "ruleset": c.ruleset, "model": c.model,
            "start_by": c.schedule.start_by.isoformat() if c.schedule.start_by else None,
            "complete_by": c.schedule.complete_by.isoformat() if c.schedule.complete_by else None,
            "start_due": st.start_due.isoformat() if st and st.start_due else None,
            "complete_due": st.complete_due.isoformat() if st and st.complete_due else None,
            "started_on": st.started_on.isoformat() if st and st.started_on else None,
            "completed_on": st.completion.on.isoformat() if st and st.completion else None}
    return out


def parcel_view(session: Session, code: str, as_of: dt.date, engine: Engine, *, view: TaxView) -> dict:
    """GET /v1/parcels/{code}: the registration, the basic data and the classification on ``as_of``
    (tax figures as ``view`` may see them)."""
    row = store.get_parcel(session, code)
    data = load(session, row.park_id, view)
    rec = next(r for r in data.parcels if r.code == row.code)
    cls = classify(data, as_of, engine, only=row.code)[row.code]
    latest = store.latest_plans(session, [row.code]).get(row.code)
    return {**store.parcel_summary(row), "registration": rec.doc, "basics": parcel_basics(data, rec, as_of), **cls,
            "plan": store.plan_dict(latest[0]) if latest else None, "engine": engine.name, "engine_version": engine.version}


# =========================================================================== plans (一宗一策)

def _extension_base(contract: ContractRequest, events: list[dict], as_of: dt.date) -> dt.date | None:
    """The start date an extension runs from: the contract's, or one newly agreed after a
    government-caused delay (as ``app.lifecycle.state.validate_new_events``)."""
    base = contract.schedule.start_by
    for e in effective_events(events):
        if e["type"] == "government_delay" and e.get("new_start_by") and dt.date.fromisoformat(e["on"]) <= as_of and base:
            base = max(base, dt.date.fromisoformat(e["new_start_by"]))
    return base


def _extension_cap_months(contract: ContractRequest | None) -> tuple[int, str]:
    years = Decimal(STATUTORY_CAPS["extend_start"][0])
    why = "出让合同（示范文本第十六条）：延期开工不超过一年"
    if contract is not None:
        model = contract_models().get(contract.model)
        if model is not None:
            m = Decimal(str(model.limits.get("clauses.extension_max_years", {}).get("value", years)))
            if m < years:
                years, why = m, f"合同示范文本 {contract.model} 上限 {m} 年"
        agreed = contract.clauses.extension_max_years
        if agreed is not None and agreed < years:
            years, why = agreed, f"合同约定延期上限 {agreed} 年"
    return int(round(years * 12)), why


def check_plan(req: PlanIn, parcel: Parcel, contract: ContractRequest | None, events: list[dict]) -> dict:
    """Refuse what the law or the ledger forbids (InputError with paths); return the cap check."""
    problems: list[Problem] = []
    m, cause = req.measure, req.cause.type
    if m in ("idle_fee", "free_reclaim") and cause in ("government", "force_majeure"):
        problems.append(Problem("measure", "政府原因或不可抗力造成的闲置，不得征收闲置费或无偿收回，应按53号令第十二条协商处置 "
                                           "(government-caused delay: no idle fee or free reclaim)"))
    if m == "complete_supply" and parcel.supply_status != "approved_unsupplied":
        problems.append(Problem("measure", "完善供地手续仅适用于批而未供土地 (complete_supply is for approved-unsupplied land)"))
    cap = None
    model = clause = None
    if m in STATUTORY_CAPS:
        years, article, runs = STATUTORY_CAPS[m]
        law = idle_land_law()
        if m == "extend_start" and cause in ("government", "force_majeure"):
            # Art. 12(1): at most one year from the start date agreed in the supplementary agreement —
            # ``cap_from`` when the agreement is not recorded as an event yet, else the newly agreed date
            # of the recorded government delay, else the contract's.
            base = _extension_base(contract, events, req.as_of) if contract is not None else None
            start_by = contract.schedule.start_by if contract is not None else None
            if req.cap_from is not None and start_by is not None and req.cap_from < start_by:
                problems.append(Problem("cap_from", f"补充协议约定的动工日期不能早于合同约定的 {start_by} "
                                                    f"(the agreed start date cannot precede the contract's {start_by})"))
            elif req.cap_from is not None:
                base = req.cap_from
            months, why, runs = years * 12, f"53号令{article}：自补充协议约定的动工开发日期起延长不超过{years}年", runs
            if base is None:
                problems.append(Problem("cap_from", "请填写 cap_from（补充协议约定的动工开发日期）"))
        elif m == "extend_start":
            # Not a delay of Art. 8: the contract's own extension clause (GF-2008-2601 Art. 16), from its date.
            base = _extension_base(contract, events, req.as_of) if contract is not None else None
            months, why = _extension_cap_months(contract)
            runs = "自合同约定的动工开发日期起（合同约定的延期）"
            model = contract_models().get(contract.model) if contract is not None else None
            clause = model.limits.get("clauses.extension_max_years") if model is not None else None
            if base is not None and req.cap_from is not None and req.cap_from != base:
                problems.append(Problem("cap_from", f"延期自合同约定的动工日期 {base} 起算，不能另行指定 "
                                                    f"(the cap runs from the contract's start date {base})"))
            base = base or req.cap_from
            if base is None:
                problems.append(Problem("cap_from", "无合同约定的动工日期：请填写 cap_from（现行约定的动工日期）"))
        else:
            base, months, why = req.cap_from, years * 12, f"53号令{article}：临时使用不超过{years}年"
            if base is None:
                problems.append(Problem("cap_from", "临时使用须填写开始日期 cap_from (first day of the temporary use)"))
        if base is not None:
            limit = add_months(base, months)
            cite = model.cite(clause) if m == "extend_start" and cause not in ("government", "force_majeure") \
                and clause is not None else law.cite(article)
            cap = {"measure": m, "from": base.isoformat(), "months": months, "limit": limit.isoformat(),
                   "deadline": req.deadline.isoformat(), "why": why, "runs": runs, "cite": cite}
            # Starting by the date agreed in the supplementary agreement is itself a valid deadline.
            agreed = m == "extend_start" and cause in ("government", "force_majeure")
            if req.deadline < base or (req.deadline == base and not agreed):
                problems.append(Problem("deadline", f"期限应晚于起算日 {base} (deadline must be after {base})"))
            elif req.deadline > limit:
                problems.append(Problem("deadline", f"超过法定上限：{why}，自 {base} 起最迟 {limit} "
                                                    f"(beyond the statutory cap: at most {months} months from {base}, "
                                                    f"i.e. {limit})"))
    if problems:
        raise InputError(problems)
    return cap or {}


def put_plan(session: Session, code: str, raw: dict | PlanIn) -> tuple[dict, bool]:
    """Record a new version of a parcel's plan (PUT /v1/parcels/{code}/plan).  Returns
    (the stored version, created); the same content as the latest version is a no-op."""
    req = _parse(PlanIn, raw)
    parcel = store.get_parcel(session, code)
    contract, events = None, []
    if parcel.contract_no:
        crow = store.contracts_by_no(session, [parcel.contract_no]).get(parcel.contract_no)
        if crow is not None:
            contract = ContractRequest.model_validate(store_contract_document(crow))
            events = store.events_by_contract(session, [parcel.contract_no])[parcel.contract_no]
    cap = check_plan(req, parcel, contract, events)
    doc = req.model_dump(mode="json", exclude_none=True, exclude={"expected_version"})
    doc["measure_label"] = MEASURES[req.measure]
    if cap:
        doc["statutory_cap"] = cap
    return store.append_plan(session, parcel.code, doc, req.expected_version)


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    return [] if a == b else [path]


def plan_history(session: Session, code: str) -> dict:
    """Every version, oldest first, each with the fields changed from the one before."""
    parcel = store.get_parcel(session, code)
    out, prev = [], None
    for row in store.plans(session, parcel.code):
        d = store.plan_dict(row)
        d["changed"] = _diff(prev, d["plan"]) if prev is not None else []
        prev = d["plan"]
        out.append(d)
    return {"parcel": parcel.code, "count": len(out), "versions": out}


def latest_plan(session: Session, code: str) -> dict:
    parcel = store.get_parcel(session, code)
    latest = store.latest_plans(session, [parcel.code]).get(parcel.code)
    if latest is None:
        raise NotFound(f"parcel {parcel.code} has no plan")
    return store.plan_dict(latest[0])


# =========================================================================== the ledger

def _suggested(cats: list[dict]) -> list[str]:
    out: list[str] = []
    for c in cats:
        if c["category"] == "approved_unsupplied":
            out.append("complete_supply")
        elif c["category"] == "idle":
            out += [PROPOSAL_MEASURES[p] for p in c.get("finding", {}).get("proposals", []) if p in PROPOSAL_MEASURES]
        else:
            out += ["enterprise_upgrade", "redevelop", "merger", "negotiated_paid_reclaim"]
    return list(dict.fromkeys(out))


def ledger(session: Session, park_id: str, as_of: dt.date, engine: Engine, *, view: TaxView) -> dict:
    """一宗一策 ledger on ``as_of``: every problem parcel (a category on that date) and every
    parcel with a recorded plan, with basic data, categories and the latest plan version — the
    categories as ``view`` may see them (``withheld``: parcels whose low-efficiency result hangs on
    tax figures withheld from it)."""
    data = load(session, park_id, view)
    cls = classify(data, as_of, engine)
    plans = store.latest_plans(session, [r.code for r in data.parcels])
    rows = []
    totals = {cat: {"count": 0, "area": ZERO} for cat in CATEGORIES}
    without_plan = 0
    for rec in data.parcels:
        c = cls[rec.code]
        plan = plans.get(rec.code)
        if not c["categories"] and plan is None:
            continue
        for cat in c["categories"]:
            totals[cat["category"]]["count"] += 1
            totals[cat["category"]]["area"] += rec.area
        p = store.plan_dict(plan[0]) if plan else None
        if p is None:
            plan_status = "missing"
            without_plan += 1
        elif p["plan"]["progress"]["status"] == "completed":
            plan_status = "completed"
        elif not c["categories"]:
            plan_status = "no_current_category"
        elif dt.date.fromisoformat(p["plan"]["deadline"]) < as_of and p["plan"]["progress"]["status"] != "cancelled":
            plan_status = "overdue"
        else:
            plan_status = "open"
        rows.append({"ledger_id": f"{data.park.id}/{rec.code}", "parcel": parcel_basics(data, rec, as_of),
                     "categories": c["categories"], "category_codes": [x["code"] for x in c["categories"]],
                     "cause": p["plan"]["cause"] if p else None, "measure": p["plan"]["measure"] if p else None,
                     "deadline": p["plan"]["deadline"] if p else None, "plan": p, "plan_status": plan_status,
                     "plan_versions": plan[1] if plan else 0, "suggested_measures": _suggested(c["categories"]),
                     "history": f"/v1/parcels/{rec.code}/plan/history"})
    return {"park": data.park.id, "park_name": data.name_on(as_of), "as_of": as_of.isoformat(),
            "count": len(rows), "without_plan": without_plan,
            "withheld": sorted(code for code, c in cls.items()
                               if any(x["status"] == WITHHELD_STATUS for x in c["assessment"].values())),
            "totals": {k: {"count": v["count"], "area": _q(v["area"], "亩")} for k, v in totals.items()},
            "measures": MEASURES, "rows": rows, "engine": engine.name, "engine_version": engine.version}


LEDGER_COLUMNS = ["台账编号", "宗地代码", "园区名称", "面积（亩）", "用途", "供地状态", "批准文号", "批准日期", "合同编号",
                  "受让人", "统一社会信用代码", "类型", "形成原因", "政府原因", "处置措施", "完成时限", "法定上限",
                  "牵头单位", "配合单位", "责任人", "进度", "决定文书", "方案版本", "方案状态"]


def flat_ledger(led: dict) -> list[dict]:
    """The ledger as flat rows with Chinese column names (``LEDGER_COLUMNS``), for a spreadsheet."""
    cause_labels = {"enterprise": "企业原因", "government": "政府原因", "force_majeure": "不可抗力", "other": "其他"}
    out = []
    for row in led["rows"]:
        b, plan = row["parcel"], (row["plan"] or {}).get("plan") or {}
        c = b.get("contract") or {}
        resp = plan.get("responsible") or {}
        cap = plan.get("statutory_cap") or {}
        out.append(dict(zip(LEDGER_COLUMNS, [
            row["ledger_id"], b["code"], b["park_name"], b["area"]["value"], b["use_label"], b["supply_status_label"],
            (b.get("approval") or {}).get("document"), (b.get("approval") or {}).get("date"), c.get("contract_no"),
            (c.get("transferee") or {}).get("name"), (c.get("transferee") or {}).get("uscc"),
            "、".join(x["label"] for x in row["categories"]),
            cause_labels.get((plan.get("cause") or {}).get("type")), (plan.get("cause") or {}).get("government_cause"),
            plan.get("measure_label"), plan.get("deadline"), cap.get("limit"), resp.get("lead_unit"),
            "、".join(resp.get("cooperating_units") or []), resp.get("person"), (plan.get("progress") or {}).get("status"),
            "；".join(d["number"] for d in plan.get("documents") or []), row["plan_versions"], row["plan_status"]],
            strict=True)))
    return out


# =========================================================================== yearly evaluation

def evaluate(session: Session, park_id: str, year: int, engine: Engine, *, view: TaxView) -> dict:
    """The park's yearly evaluation: land totals by category on 31 December, the park 亩均税收
    (tax basis and area basis stated), the distance to the target, the parcels that pull it
    down, and the change from the year before — as ``view`` (the caller's) may see them."""
    data = load(session, park_id, view)
    end = dt.date(year, 12, 31)
    cur, prev = park_tax(data, year), park_tax(data, year - 1)
    cls = classify(data, end, engine, tax_year=year, ptax=cur)
    explain_zeros(data, cur, cls, end)
    target = Fraction(data.park.target_tax_per_mu) if data.park.target_tax_per_mu else None

    a = Audit()
    k_target = a.add("park.target", cur.value - target, ">=", ZERO) if cur.value is not None and target is not None else None
    change = cur.value - prev.value if cur.value is not None and prev.value is not None else None
    k_up = a.add("yoy.up", change, ">", ZERO) if change is not None else None
    k_down = a.add("yoy.down", change, "<", ZERO) if change is not None else None
    h = a.run(engine)
    # One small program per parcel (the same program every time, compiled once per process):
    # slot names with parcel codes would register a new durable ruleset per park, never unloaded.
    below: dict[str, bool] = {}
    if cur.value is not None:
        for r, t in cur.counted:
            pa = Audit()
            key = pa.add("pull", t.tax_per_mu - cur.value, "<", ZERO)
            below[r.code] = bool(pa.run(engine)[key])
        for r, _ in cur.missing:
            pa = Audit()
            key = pa.add("pull", ZERO - cur.value, "<", ZERO)
            below[r.code] = bool(pa.run(engine)[key])

    # land totals by category
    registered = list(data.parcels)
    supplied = [r for r in registered if r.supplied_by(end)]
    by_cat = {}
    for cat in CATEGORIES:
        members = [r for r in registered if any(c["category"] == cat for c in cls[r.code]["categories"])]
        by_cat[cat] = {"label": CATEGORIES[cat][1], "code": CATEGORIES[cat][0], "count": len(members),
                       "area": _q(sum((r.area for r in members), ZERO), "亩"), "parcels": [r.code for r in members]}
    problem = [r for r in registered if cls[r.code]["categories"]]
    undecided = [r.code for r in registered
                 if any(x["status"] == "insufficient_data" for x in cls[r.code]["assessment"].values())]
    undisclosed = [r.code for r in registered
                   if any(x["status"] == WITHHELD_STATUS for x in cls[r.code]["assessment"].values())]
    planned = Fraction(data.park.planned_area_mu)
    reg_area = sum((r.area for r in registered), ZERO)
    land = {"planned_area": _q(planned, "亩"),
            "registered": {"count": len(registered), "area": _q(reg_area, "亩")},
            "supplied": {"count": len(supplied), "area": _q(sum((r.area for r in supplied), ZERO), "亩")},
            "industrial_supplied": {"count": len([r for r in supplied if r.industrial]),
                                    "area": _q(cur.scope_area, "亩")},
            "by_category": by_cat,
            "problem": {"count": len(problem), "area": _q(sum((r.area for r in problem), ZERO), "亩"),
                        "note": "每宗只计一次（可同时属多类）"},
            "without_category": {"count": len(registered) - len(problem),
                                 "area": _q(reg_area - sum((r.area for r in problem), ZERO), "亩")},
            "insufficient_data": undecided,
            "withheld": undisclosed,
            "planned_not_registered": _q(planned - reg_area, "亩")}

    # target
    tgt = {"value": _q(target, "万元/亩"), "source": data.park.target_source}
    if k_target is not None:
        tgt.update(status="meets" if h[k_target] else "below", distance=_q(target - cur.value, "万元/亩"),
                   attainment=_q(cur.value / target * 100, "%"), formula="distance = 目标 − 园区亩均税收")
    else:
        tgt.update(status="no_target" if target is None else WITHHELD_STATUS if cur.status == WITHHELD_STATUS
                   else "insufficient_data", distance=None, attainment=None)

    # the parcels that pull it down, lowest first
    pullers = []
    for r, t in cur.counted:
        if below.get(r.code):
            gap = cur.value - t.tax_per_mu
            pullers.append((t.tax_per_mu, r.code, {
                "code": r.code, "area": _q(r.area, "亩"), "tax_per_mu": _q(t.tax_per_mu, "万元/亩"),
                "gap": _q(gap, "万元/亩"), "shortfall_tax": _q(gap * r.area, "万元"),
                "categories": [c["code"] for c in cls[r.code]["categories"]],
                "transferee_uscc": t.detail.get("uscc"), "reason": None}))
    for r, t in cur.missing:
        if below.get(r.code):
            z = cur._zero(r, t)
            pullers.append((ZERO, r.code, {
                "code": r.code, "area": _q(r.area, "亩"), "tax_per_mu": _q(ZERO, "万元/亩"),
                "gap": _q(cur.value, "万元/亩"), "shortfall_tax": _q(cur.value * r.area, "万元"),
                "categories": [c["code"] for c in cls[r.code]["categories"]],
                "transferee_uscc": t.detail.get("uscc"), "reason": z["reason"], "reason_label": z["reason_label"]}))
    pullers.sort(key=lambda x: (x[0], x[1]))

    # year over year
    yoy: dict[str, Any] = {"previous_year": year - 1, "previous": _q(prev.value, "万元/亩"), "current": _q(cur.value, "万元/亩"),
                           "previous_tax_basis": prev.basis,
                           "previous_area": {"counted": _q(prev.counted_area, "亩"), "in_scope": _q(prev.scope_area, "亩")}}
    if change is not None:
        now_codes = {r.code for r, _ in cur.counted + cur.missing + cur.withheld}
        then_codes = {r.code for r, _ in prev.counted + prev.missing + prev.withheld}
        yoy.update(status="ok", change=_q(change, "万元/亩"),
                   change_percent=_q(change / prev.value * 100, "%") if prev.value else None,
                   direction="up" if h[k_up] else "down" if h[k_down] else "unchanged",
                   parcels_added=sorted(now_codes - then_codes), parcels_dropped=sorted(then_codes - now_codes),
                   same_tax_basis=_basis_key(cur.basis) == _basis_key(prev.basis))
    elif WITHHELD_STATUS in (cur.status, prev.status):
        yoy.update(status=WITHHELD_STATUS, change=None, change_percent=None, direction=None,
                   message=f"{year - 1} 年或 {year} 年园区亩均税收{WITHHELD_ZH}")
    else:
        yoy.update(status="insufficient_data", change=None, change_percent=None, direction=None,
                   message=f"{year - 1} 年或 {year} 年园区亩均税收无法计算")

    prs = lowe.in_force(data.park.ruleset, end) if data.park.ruleset else None
    verdict = (WITHHELD_STATUS if cur.status == WITHHELD_STATUS else
               "insufficient_data" if cur.value is None else "no_target" if target is None
               else "meets_target" if tgt["status"] == "meets" else "below_target")
    incomplete = None
    if verdict == "below_target" and (cur.missing_data() or cur.hidden_missing()):
        # Missing data counted as 0 can only have lowered the figure: a park meeting its target
        # meets it whatever they paid, one below it might not be (no bound on an unknown tax).
        verdict = "incomplete"
        incomplete = _incomplete(cur, target)
    example = bool((prs and prs.doc.status == "example") or (cur.basis.get("from") or {}).get("status") == "example")
    return {"kind": "park_evaluation", "verdict": verdict, "park": data.park.id, "park_name": data.name_on(end),
            "jurisdiction": data.park.jurisdiction, "year": year, "as_of": end.isoformat(),
            "ruleset": prs.ref() if prs else None, "example": example,
            "land": land, "tax_per_mu": cur.to_dict(), "target": tgt, "incomplete": incomplete,
            "pulling_down": [p for _, _, p in pullers],
            "year_over_year": yoy, "known_at": data.known_at.isoformat(),
            "tax_regions": sorted(cur.regions | prev.regions, key=lambda r: r or ""),
            "engine": engine.name, "engine_version": engine.version}


def _incomplete(cur: ParkTax, target: Fraction) -> dict:
    """Why the verdict is ``incomplete``: the missing-data parcels (named where the caller may see
    them) and the tax they would have to add for the park to reach its target."""
    shown = cur.missing_data()
    hidden = cur.hidden_missing()
    gap = target * cur.scope_area - cur.total_tax
    area = sum((r.area for r, _ in shown), ZERO)
    out = {"parcels": [r.code for r, _ in shown], "area": _q(area, "亩"), "withheld_parcels": bool(hidden),
           "gap_tax": _q(gap, "万元"),
           "required_tax_per_mu": _q(gap / area, "万元/亩") if area and not hidden else None,
           "message": (f"园区亩均税收 {dec_str(cur.value, 2)} 万元/亩低于目标 {dec_str(target)} 万元/亩，但 {len(shown)} 宗"
                       f"宗地缺少税收数据（计为 0）" + (f"，另有{WITHHELD_ZH}的宗地缺少税收数据" if hidden else "")
                       + f"：补齐后合计须再计入 {dec_str(gap, 2)} 万元税收方能达到目标，结论待补充数据后确定")}
    if out["required_tax_per_mu"] is not None:
        out["message"] += f"（即缺数据宗地平均 {dec_str(gap / area, 2)} 万元/亩）"
    return out


def _basis_key(b: dict) -> tuple:
    f = b.get("from") or {}
    return (b.get("status"), b.get("refunds_added_back"), tuple(b.get("includes") or ()), f.get("id"), f.get("version"))


def run_evaluation(session: Session, park_id: str, year: int, engine: Engine, *, view: TaxView) -> dict:
    """The evaluation as ``view`` may see it, stored as a decision (kind park_evaluation) in the
    hash-chained log, with the regions of the tax figures it holds (``tax_regions``)."""
    return decisions.append(session, [evaluate(session, park_id, year, engine, view=view)])[0]
