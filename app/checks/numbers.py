"""Exact rounding and decimal display of rational values."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

DISPLAY_PLACES = 6


def round_half_up(x: Fraction, places: int) -> Fraction:
    q = x * 10**places
    n = math.floor(q + Fraction(1, 2)) if q >= 0 else -math.floor(-q + Fraction(1, 2))
    return Fraction(n, 10**places)


def to_decimal(x: Fraction, places: int | None = None) -> Decimal:
    """Decimal for display: exactly ``places`` decimals if given, else up to 6 (trailing zeros dropped)."""
    p = DISPLAY_PLACES if places is None else places
    n = round_half_up(x, p) * 10**p          # an integer by construction
    d = Decimal(int(n)).scaleb(-p)
    if places is None:
        d = d.normalize() if d != 0 else Decimal(0)
    return d


def dec_str(x: Fraction | None, places: int | None = None) -> str | None:
    if x is None:
        return None
    return format(to_decimal(x, places), "f")
