"""The park 亩均税收: the tax basis of a year, a parcel's counted tax allocated over its
enterprise's land by area (``parcel_tax``), the park figure over all supplied industrial land
(``park_tax`` → ``ParkTax``) and why a parcel counts 0 (``explain_zeros``, ``ZERO_REASONS``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from app.checks import tax_per_mu as tpm
from app.checks.parks.common import ZERO, q
from app.checks.parks.data import ParcelRec, ParkData
from app.checks.visibility import (
    WITHHELD_STATUS,
    WITHHELD_ZH,
    Disclosure,
    disclose,
    is_withheld,
    lookup,
)
from app.core.errors import InputError
from app.core.numbers import dec_str


def tax_basis(data: ParkData, year: int) -> dict:
    """The tax basis for a year: the park rule set's if it declares one, else the innermost
    layer's of the standard-land rule set in force on 31 December (the park's ``tax_ruleset``,
    or the one resolved for its jurisdiction).  ``status`` unknown when neither applies."""
    end = dt.date(year, 12, 31)
    prs = data.law.low_efficiency(data.park.ruleset, end) if data.park.ruleset else None
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

    def zero_row(self, r: ParcelRec, t: ParcelTax) -> dict:
        reason, why = self.reasons.get(r.code, ("data_missing", t.reason or ""))
        return {"code": r.code, "area": q(r.area, "亩"), "tax_per_mu": q(ZERO, "万元/亩"), "reason": reason,
                "reason_label": ZERO_REASONS[reason], "message": why, "tax_note": t.reason,
                "transferee_uscc": t.detail.get("uscc")}

    def to_dict(self) -> dict:
        shown = self.status == "ok"
        secondary = {"label": "参考：仅计有税收数据的宗地（不作为园区结论）",
                     "formula": "Σ 计入税收 ÷ Σ 有税收数据的宗地面积",
                     "value": q(self.with_data_value, "万元/亩") if shown else None,
                     "area": q(self.with_data_area, "亩") if shown else None}
        out = {
            "year": self.year, "status": self.status,
            "value": q(self.value, "万元/亩"),
            "formula": "Σ 计入税收 ÷ Σ 年末已供工业用地面积（无税收记录的宗地计为 0，列明原因）",
            "tax_basis": self.basis, "area_basis": AREA_BASIS, "allocation": tpm.ALLOCATION,
            "total_tax": q(self.total_tax, "万元") if shown else None,
            "area_counted": q(self.counted_area, "亩") if shown else None,
            "area_in_scope": q(self.scope_area, "亩"),
            "area_with_data": q(self.with_data_area, "亩") if shown else None,
            "coverage": q(self.with_data_area / self.scope_area * 100, "%")
            if shown and self.scope_area and self.with_data_area is not None else None,
            "over_land_with_data": secondary,
            "parcels_counted": [{"code": r.code, "area": q(r.area, "亩"), "tax_per_mu": q(t.tax_per_mu, "万元/亩"),
                                 "allocated_tax": q(t.allocated_tax, "万元"), "inputs": t.detail} for r, t in self.counted],
            "parcels_zero": [self.zero_row(r, t) for r, t in self.missing],
            "parcels_missing_data": [self.zero_row(r, t) for r, t in self.missing_data()],
            "parcels_withheld": [{"code": r.code, "area": q(r.area, "亩"), "status": WITHHELD_STATUS, "reason": t.reason}
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
