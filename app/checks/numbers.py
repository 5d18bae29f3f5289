"""Exact rounding and decimal display of rational values."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

DISPLAY_PLACES = 6
STRICT_PLACES = 12


def floor_to(x: Fraction, places: int) -> Fraction:
    scale = 10**places
    return Fraction(x.numerator * scale // x.denominator, scale)


def ceil_to(x: Fraction, places: int) -> Fraction:
    scale = 10**places
    return Fraction(-(-x.numerator * scale // x.denominator), scale)


def _half_up_int(x: Fraction, scale: int) -> int:
    """round_half_up(x × scale) as an integer, with integer arithmetic only."""
    n, d = x.numerator, x.denominator
    if n >= 0:
        return (2 * n * scale + d) // (2 * d)
    return -((-2 * n * scale + d) // (2 * d))


def round_half_up(x: Fraction, places: int) -> Fraction:
    scale = 10**places
    return Fraction(_half_up_int(x, scale), scale)


def to_decimal(x: Fraction, places: int | None = None) -> Decimal:
    """Decimal for display: exactly ``places`` decimals if given, else up to 6 (trailing zeros dropped)."""
    p = DISPLAY_PLACES if places is None else places
    d = Decimal(_half_up_int(x, 10**p)).scaleb(-p)
    if places is None:
        d = d.normalize() if d != 0 else Decimal(0)
    return d


def dec_str(x: Fraction | None, places: int | None = None) -> str | None:
    """Decimal text: ``places`` decimals if given; else exact up to 12 decimals, trailing zeros dropped."""
    if x is None:
        return None
    if places is None and (x * 10**STRICT_PLACES).denominator == 1:
        d = Decimal(int(x * 10**STRICT_PLACES)).scaleb(-STRICT_PLACES)
        return format(d.normalize() if d != 0 else Decimal(0), "f")
    return format(to_decimal(x, places), "f")
