"""Contract penalty formulas F1–F8 and the 亩均税收 shortfall options (docs/domain.md).

Modules: ``numbers`` (exact inputs, text and rounding), ``base`` (``Penalty``, ratios, aggregation,
rescission), ``dated`` (F1, F2, F3, F8), ``shortfall`` (F4–F7, 亩均税收).

Pure functions, exact arithmetic (``fractions.Fraction``); round only at output (``to_output``).

Conventions
- Money is in the unit the caller passes; this service passes 万元 throughout, and every formula is
  linear in its money input, so the amount comes back in the same unit.
- Numbers may be ``int``, ``str`` ("1200", "0.5", "1/3"), ``Decimal`` or ``Fraction``.  ``float`` and
  ``bool`` are refused: a float such as 0.1 has no exact value, and the results must be exact.
- Every ‰ rate comes from the contract blank (``r_permille`` = the number written before "‰", per day
  unless the formula says one-off).  There are no default rates: ``None`` (a blank) raises
  ``MissingRateError`` because the penalty cannot be computed.
- Choices that are ❓ in the domain notes are parameters: how several ratios combine (``agg``), F7's
  ``mode``, the F3 contract ``version`` (no default: which version Sanmenxia uses is ❓), the
  rescission threshold and its counting start, the 亩均税收 ``option`` (no default), output rounding.
- Amounts are the *contractual* amounts; a court may reduce an excessive agreed penalty
  (民法典 Art. 585, ❓ not re-verified), so outputs carry ``AMOUNT_LABEL``.
"""

from app.lifecycle.penalties.base import AMOUNT_LABEL, Agg, Penalty, aggregate, e, permille, s
from app.lifecycle.penalties.dated import f1_late_payment, f2_late_start, f3_late_completion, f8_late_delivery
from app.lifecycle.penalties.numbers import InsufficientDataError, MissingRateError, Num, to_output, to_output_str
from app.lifecycle.penalties.shortfall import (
    InvestmentConsistency,
    f4_investment_shortfall,
    f5_below_minimum,
    f6_above_maximum,
    f7_over_limit,
    intensity_to_yuan_per_m2,
    investment_terms_consistency,
    m2_to_mu,
    over_limit_items,
    tax_per_mu_shortfall,
)

__all__ = [
    "AMOUNT_LABEL",
    "Num",
    "Agg",
    "Penalty",
    "MissingRateError",
    "InsufficientDataError",
    "InvestmentConsistency",
    "permille",
    "s",
    "e",
    "aggregate",
    "f1_late_payment",
    "f2_late_start",
    "f3_late_completion",
    "f4_investment_shortfall",
    "investment_terms_consistency",
    "intensity_to_yuan_per_m2",
    "f5_below_minimum",
    "f6_above_maximum",
    "f7_over_limit",
    "over_limit_items",
    "f8_late_delivery",
    "tax_per_mu_shortfall",
    "m2_to_mu",
    "to_output",
    "to_output_str",
]
