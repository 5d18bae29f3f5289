"""亩均税收: the one home of the formula and of the allocation of an enterprise's tax to its land.

Used by the contract audit (``app.checks.performance``), the parcel and the park figures
(``app.checks.parks``) and the scoring input the demo computes (``app.demo``), so that one
enterprise's tax is never counted twice nor divided by a different area in two places.

**Counted tax** (the rule set's ``tax_basis``): the tax paid in the year, plus the policy refunds
where the basis adds them back.

**Allocation rule** (``ALLOCATION``, stated in every output that holds a 亩均税收): the tax is
reported per enterprise (统一社会信用代码), the land is held per contract / parcel.  An
enterprise's counted tax of a year is allocated to its land in proportion to area under the
area basis (the contracted transferred area, which is the parcel's registered area), over every
holding supplied (contract signed, or the parcel's supply date) by 31 December of that year.
So every holding of the enterprise gets the same 亩均税收 = counted tax ÷ the enterprise's land,
and the allocated amounts add up to the enterprise's tax exactly once.  Why by area: the tax
system reports per enterprise, not per parcel; the county 亩均 schemes use the enterprise's
land (owned and leased) as the denominator, and where one taxpayer holds several parcels an
allocation by area is the rule the notes name (docs/domain.md: "A firm with several parcels
needs an allocation rule, e.g. by area"; contract performance uses the contracted area, GF-2008-2601
Art. 4).  Another split (by output, by floor area) would need data the service does not hold.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from sqlmodel import Session

from app.core.numbers import dec_str
from indicators import units

ZERO = Fraction(0)

ALLOCATION = {
    "id": "by_area",
    "label": "按用地面积分摊",
    "rule": "企业当年计入税收按其年末已供各宗用地（出让合同 / 宗地登记面积）的面积比例分摊；"
            "各宗亩均税收相同 = 企业计入税收 ÷ 企业年末已供用地面积合计，分摊额之和等于企业税收，不重复计算",
}


@dataclass(frozen=True)
class Holding:
    """One piece of an enterprise's land: a registered parcel, or a registered contract with no
    parcel registered for it (its contracted area)."""

    contract_no: str
    parcel: str | None
    area: Fraction                      # 亩, under the area basis
    supplied_on: dt.date | None

    def supplied_by(self, on: dt.date) -> bool:
        return self.supplied_on is not None and self.supplied_on <= on


@dataclass(frozen=True)
class Share:
    """The allocation of one enterprise-year to one holding."""

    counted_tax: Fraction               # the enterprise's counted tax of the year
    enterprise_area: Fraction           # Σ area of its holdings supplied by 31 December
    tax_per_mu: Fraction                # counted_tax ÷ enterprise_area
    allocated_tax: Fraction             # tax_per_mu × the holding's area
    shared_with: list[Holding] = field(default_factory=list)

    def inputs(self) -> dict:
        return {"allocation": ALLOCATION["id"], "enterprise_area_mu": dec_str(self.enterprise_area),
                "allocated_tax": dec_str(self.allocated_tax)}


def counted_tax(tax_paid: Fraction, policy_refunds: Fraction | None, refunds_added_back: bool) -> Fraction:
    """Tax counted for 亩均税收 under a tax basis."""
    return tax_paid + ((policy_refunds or ZERO) if refunds_added_back else ZERO)


def allocate(counted: Fraction, holdings: list[Holding], year: int, own: Holding) -> Share:
    """``own``'s share of the enterprise's ``counted`` tax of ``year`` (``ALLOCATION``).  ``own`` is
    always in the group, whatever its supply date: a holding is asked about only for a year it
    is evaluated in."""
    end = dt.date(year, 12, 31)
    group = [h for h in holdings if h.supplied_by(end) and h != own]
    area = own.area + sum((h.area for h in group), ZERO)
    tpm = counted / area
    return Share(counted, area, tpm, tpm * own.area, group)


def enterprise_tax_per_mu(counted: Fraction, holdings: list[Holding], year: int) -> Fraction | None:
    """The enterprise's 亩均税收 of ``year`` (what every holding of it gets): None without land."""
    end = dt.date(year, 12, 31)
    area = sum((h.area for h in holdings if h.supplied_by(end)), ZERO)
    return counted / area if area > 0 else None


def enterprise_land(session: Session, usccs: Iterable[str]) -> dict[str, list[Holding]]:
    """Each enterprise's land, which its tax is allocated over: every parcel (any park) registered
    under one of its contracts (registered area, supply date), and each of its contracts with no
    parcel registered (contracted area, signing date)."""
    from app.store import parks as store

    out: dict[str, list[Holding]] = {}
    for u, rows in store.holdings(session, usccs).items():
        land = out.setdefault(u, [])
        for contract, parcels in rows:
            if parcels:
                for p in parcels:
                    on = json.loads(p.document).get("supplied_on")
                    land.append(Holding(contract.contract_no, p.code, Fraction(p.area_mu),
                                        dt.date.fromisoformat(on) if on else None))
            else:
                area = json.loads(contract.document)["land_area"]
                land.append(Holding(contract.contract_no, None, units.to_canonical(area["value"], area["unit"], "area"),
                                    contract.signed_on))
    return out
