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
    """Decimal text: ``places`` decimals if given; else exact up to 12 decimals, trailing zeros dropped
    (values off the 10⁻¹² grid: rounded half up to 6 decimals, trailing zeros dropped)."""
    if x is None:
        return None
    # Integer arithmetic and string slicing: the same text as formatting a Decimal, several
    # times faster, and findings show a dozen of these per check.
    if places is None:
        d = x.denominator
        if _GRID % d == 0:
            return _trimmed(x.numerator * (_GRID // d), STRICT_PLACES)
        return _trimmed(_half_up_int(x, 10**DISPLAY_PLACES), DISPLAY_PLACES)
    return fixed(_half_up_int(x, 10**places), places)


_GRID = 10**STRICT_PLACES


def fixed(n: int, places: int) -> str:
    """``n × 10^-places`` with exactly ``places`` decimals (``places`` ≥ 0)."""
    if places == 0:
        return str(n)
    s = str(-n if n < 0 else n).rjust(places + 1, "0")
    return f"{'-' if n < 0 else ''}{s[:-places]}.{s[-places:]}"


def _trimmed(n: int, places: int) -> str:
    return fixed(n, places).rstrip("0").rstrip(".") if n else "0"
