"""Tax confidentiality: which tax rows a caller may see, and when an aggregate may be shown.

Each tax row carries ``region``: the division code of the tax authority that reported it
(主管税务机关所在行政区; the tax system sets it per record, default the registering authority in
characters 3–8 of the USCC).  A key sees a row, and every per-enterprise figure derived from it
(亩均税收, shortfalls and the penalties computed from them, scoring values), only where that
region is inside its scope — whatever object the row is reached through.  Linking never widens
what a key may see: the contract's, parcel's or park's jurisdiction does not matter for the rows.

The use-case functions take a ``TaxView`` and call ``screen`` on the records they load, *before*
any arithmetic: an invisible row becomes ``WITHHELD``, a marker that is no number, so nothing
downstream can compute with it or print it.  Findings built from it say ``withheld``
(不在本辖区权限内), never ``missing``.

Aggregates (a park's total tax and 亩均税收) are computed over every enterprise and shown to a key
whose scope covers the park when at least ``MIN_CONTRIBUTORS`` enterprises contribute and none
contributes more than ``MAX_SHARE`` of the total — and, because the key can subtract the figures
it does see, the same holds for the enterprises it cannot see (at least that many of them, none
more than that share of their sum).  Otherwise the aggregate is withheld, except for a key that
sees every contributor.  Both numbers come from the environment (``STANDARD_LAND_TAX_MIN_CONTRIBUTORS``,
default 3; ``STANDARD_LAND_TAX_MAX_SHARE_PERCENT``, default 85).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from app.core.config import settings
from indicators.identifiers import division_prefix as scope_prefix

WITHHELD_STATUS = "withheld"
WITHHELD_ZH = "不在本辖区权限内"


def _min_contributors() -> int:
    return settings().tax_min_contributors      # a whole number ≥ 1 (app.core.config)


def _max_share() -> Fraction:
    return Fraction(settings().tax_max_share_percent) / 100      # a percentage in (0, 100]


def disclosure_rule() -> tuple[int, Fraction]:
    """(minimum contributors, maximum share of one) — read on each use, so a test or an operator
    changing the environment needs no restart of the module."""
    return _min_contributors(), _max_share()




@dataclass(frozen=True)
class TaxView:
    """The tax rows a caller may see: those whose region falls under ``jurisdiction`` (every row
    when None: keys without a jurisdiction, open mode, the local CLI)."""

    jurisdiction: str | None

    @classmethod
    def of(cls, caller: Any) -> TaxView:
        """The view of an ``app.access.auth.Caller``."""
        return cls(getattr(caller, "jurisdiction", None))

    @property
    def unlimited(self) -> bool:
        return self.jurisdiction is None

    def sees(self, region: str | None) -> bool:
        """A row reported by ``region`` (None: unknown, inside no limited scope)."""
        if self.jurisdiction is None:
            return True
        return region is not None and region.startswith(scope_prefix(self.jurisdiction))

    def sees_all(self, regions: Iterable[str | None]) -> bool:
        return all(self.sees(r) for r in regions)


ALL = TaxView(None)


class _Withheld:
    """A tax record the caller may not see: no figure, no batch, no region."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WITHHELD"

    def __bool__(self) -> bool:        # never mistaken for a record by a truth test
        return False


WITHHELD = _Withheld()


def is_withheld(rec: Any) -> bool:
    return rec is WITHHELD


def screen(records: Mapping[str, Mapping[int, dict]], view: TaxView) -> dict[str, dict[int, Any]]:
    """``uscc → year → record`` with every record the view may not see replaced by ``WITHHELD``.
    A year with no record but an enterprise that has invisible records is ``WITHHELD`` as well
    (looked up with ``lookup``): "no record" would otherwise tell which years the other authority
    reported."""
    return {u: {y: (r if view.sees(r.get("region")) else WITHHELD) for y, r in years.items()}
            for u, years in records.items()}


def lookup(years: Mapping[int, Any] | None, year: int) -> Any:
    """The screened record of ``year``: the record, ``WITHHELD``, or None (no record, and no
    invisible record of the enterprise in any year)."""
    if not years:
        return None
    rec = years.get(year)
    if rec is None and any(r is WITHHELD for r in years.values()):
        return WITHHELD
    return rec


@dataclass(frozen=True)
class Disclosure:
    """Whether an aggregate over ``contributions`` (enterprise → its part, with its region) may
    be shown to a view, and why."""

    shown: bool
    rule_passed: bool           # the (n, k) rule over all contributors and over the invisible ones
    reason: str | None
    regions: frozenset          # the contributors' regions the shown figure depends on (empty when the rule passed)


def disclose(contributions: Mapping[str, tuple[Fraction, str | None]], view: TaxView) -> Disclosure:
    """The statistical-disclosure rule for one aggregate (see the module docstring)."""
    n_min, share = disclosure_rule()
    parts = list(contributions.values())
    regions = frozenset(r for _, r in parts)
    passed = _rule(parts, n_min, share)
    hidden = [(v, r) for v, r in parts if not view.sees(r)]
    if hidden and len(hidden) < len(parts):
        passed = passed and _rule(hidden, n_min, share)
    if passed:
        return Disclosure(True, True, None, frozenset())
    if view.sees_all(regions):
        return Disclosure(True, False, None, regions)
    pct = format(Decimal(share.numerator * 100) / Decimal(share.denominator), "f")
    return Disclosure(False, False, f"{WITHHELD_ZH}：计入企业不足 {n_min} 家或单一企业占比超过 {pct}%，"
                                    f"且本密钥不能查看全部计入企业的税收数据", regions)


def _rule(parts: list[tuple[Fraction, str | None]], n_min: int, share: Fraction) -> bool:
    if len(parts) < n_min:
        return False
    total = sum((v for v, _ in parts), Fraction(0))
    if total <= 0:
        # Zero in total reveals that each contributor paid nothing: never shown by the rule.
        return False
    return all(v <= share * total for v, _ in parts)


def withheld_quantity() -> dict:
    """How a withheld figure appears in JSON where a ``{"value", "unit"}`` would be."""
    return {"status": WITHHELD_STATUS, "value": None, "message": WITHHELD_ZH}
