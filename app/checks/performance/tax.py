"""亩均税收 per reviewed year against the contract's commitment.

Tax records reach the audit screened by the caller's ``TaxView`` (``app.checks.visibility``): a
year whose record was reported by a region the caller may not see is ``withheld`` — no figure,
no penalty.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from app.checks import tax_per_mu as tpm
from app.checks.performance.findings import ZERO, Audit, finding, missing, penalty
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH, is_withheld, lookup
from app.core.numbers import dec_str
from app.lifecycle import penalties
from app.lifecycle.state import State
from app.rulesets.resolve import Registry


def tax_years(records: dict[int, dict], registry: Registry, st: State, a: Audit, known_at: dt.datetime,
              park: str | None = None, regions: set[str | None] | None = None,
              land: list[tpm.Holding] | None = None) -> list:
    """One finding per reviewed year.  ``records`` are screened (``visibility.screen``): a
    withheld year has no figure to compute with.  The region of each record used is added to
    ``regions``.  The enterprise's tax is allocated over its ``land`` (``tax_per_mu.ALLOCATION``,
    as for parcels and parks): an enterprise with two contracts is not credited twice."""
    c = st.terms
    area, price = c.area_mu, c.price_wan
    land = land or []
    # The contract's land under the area basis: its registered parcels' area (as the park counts it),
    # else the contracted area.
    own_area = sum((h.area for h in land if h.contract_no == c.contract_no), ZERO) or area
    committed = c.commitments.tax_per_mu
    if committed is None:
        return []
    first = c.commitments.tax_from_year
    if first is None:
        return [lambda h: missing("tax_per_mu", ["commitments.tax_per_mu.from_year"], "未约定起始考核年度")]
    last = st.as_of.year - 1          # a year is reviewed once it has ended
    if last < first:
        return [lambda h: finding("tax_per_mu", "not_applicable", f"起始考核年度 {first} 尚未结束", year=first)]
    out = []
    for year in range(first, last + 1):
        res = registry.resolve(ruleset=c.ruleset, jurisdiction=c.jurisdiction, as_of=dt.date(year, 12, 31),
                               known_at=known_at, industry=c.industry, parcel=c.parcel_code, park=park)
        basis = next((layer.doc.tax_basis for layer in reversed(res.layers) if layer.doc.tax_basis), None)
        add_back = bool(basis and basis.refunds_added_back)
        rec = lookup(records, year)
        if is_withheld(rec):
            out.append(lambda h, year=year: finding(
                "tax_per_mu", WITHHELD_STATUS, f"{year} 年税收数据{WITHHELD_ZH}（由其他辖区税务机关报送），不显示亦不计算",
                year=year, withheld=True))
            continue
        if rec is None:
            out.append(lambda h, year=year: missing("tax_per_mu", [f"tax_records {year}"],
                                                     f"{year} 年度无税收记录（缺数据不视为零）", year=year))
            continue
        if regions is not None:
            regions.add(rec.get("region"))
        paid = Fraction(rec["tax_paid"])
        refunds = Fraction(rec["policy_refunds"]) if rec["policy_refunds"] is not None else ZERO
        counted = tpm.counted_tax(paid, refunds, add_back)
        # The contract's parcels (or the contract itself) as one holding of its area; the rest of the
        # enterprise's land supplied by the year's end shares the tax by area.
        others = [h for h in land if h.contract_no != c.contract_no]
        share = tpm.allocate(counted, others, year, tpm.Holding(c.contract_no, None, own_area, c.signed_on))
        actual = share.tax_per_mu
        key = a.add(f"tax_per_mu.{year}", actual - committed, ">=")
        inputs = {"tax_paid": dec_str(paid), "policy_refunds": dec_str(refunds), "refunds_added_back": add_back,
                  "tax_basis_layer": res.leaf.id, "counted_tax": dec_str(counted), "area_mu": dec_str(own_area),
                  **share.inputs(), "shared_with": sorted(h.parcel or h.contract_no for h in share.shared_with),
                  "shared_with_contracts": sorted({h.contract_no for h in share.shared_with}),
                  "actual_tax_per_mu": dec_str(actual), "committed": dec_str(committed), "batch_id": rec["batch_id"]}

        def build(h: dict, year=year, key=key, actual=actual, inputs=inputs) -> dict:
            if h[key]:
                return finding("tax_per_mu", "pass",
                                f"{year} 年亩均税收 {dec_str(actual, 2)} 万元/亩，达到约定 {dec_str(committed)}",
                                inputs=inputs, year=year)
            option = c.penalties.tax_shortfall
            if option is None:
                return missing("tax_per_mu", ["penalties.tax_shortfall"], f"{year} 年亩均税收未达标，但处理方式未约定",
                                inputs=inputs, year=year)
            try:
                p = penalties.tax_per_mu_shortfall(option, committed_tpm=committed, actual_tpm=actual, area_mu=area, P=price)
            except (penalties.InsufficientDataError, ValueError) as e:
                return missing("tax_per_mu", ["land_price"], f"{year} 年亩均税收未达标：{e}", inputs=inputs, year=year)
            res = penalty("tax_per_mu", "fail",
                           f"{year} 年亩均税收 {dec_str(actual, 2)} 万元/亩，低于约定 {dec_str(committed)}（{option}）",
                           p, year=year)
            res["inputs"] = {**inputs, **res["inputs"]}
            return res
        out.append(build)
    return out

