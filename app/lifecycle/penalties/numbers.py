"""Exact numbers for the penalty formulas: what they accept, how they print, how they round.

Numbers may be ``int``, ``str`` ("1200", "0.5", "1/3"), ``Decimal`` or ``Fraction``; ``float`` and
``bool`` are refused (a float such as 0.1 has no exact value).  Rounding happens only at output.
"""

from __future__ import annotations

from datetime import date
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from fractions import Fraction

Num = int | str | Decimal | Fraction

_ROUNDINGS = (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_UP, ROUND_DOWN, ROUND_CEILING, ROUND_FLOOR)
_HALF = Fraction(1, 2)


class MissingRateError(ValueError):
    """A ‰ rate is blank (None) in the contract: the penalty cannot be computed."""


class InsufficientDataError(ValueError):
    """A required figure is missing (e.g. no tax record): never read as zero; raise a data request instead."""


# ---------------------------------------------------------------------------------------------- helpers


def _num(name: str, value: object) -> Fraction:
    """An exact Fraction from int / str / Decimal / Fraction; floats, bools and None are refused."""
    if value is None:
        raise InsufficientDataError(f"{name} is missing (None)")
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{name} must be int, str, Decimal or Fraction (got {type(value).__name__}); floats are not exact")
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value}")
        return Fraction(value)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"{name} is not a number: {value!r}") from exc
    raise TypeError(f"{name} must be int, str, Decimal or Fraction, got {type(value).__name__}")


def _nonneg(name: str, value: object) -> Fraction:
    x = _num(name, value)
    if x < 0:
        raise ValueError(f"{name} must be >= 0, got {_fmt(x)}")
    return x


def _pos(name: str, value: object) -> Fraction:
    x = _num(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {_fmt(x)}")
    return x


def _rate(name: str, value: object) -> Fraction:
    if value is None:
        raise MissingRateError(
            f"{name} is blank (None): the contract's ‰ rate was not filled in, so this penalty cannot be computed; "
            "read the rate from the contract or the rule set (there is no default rate)"
        )
    return _nonneg(name, value)


def _fmt(x: Fraction) -> str:
    """Exact text: a terminating decimal ("1200", "0.25", "-3.5") or "n/d" ("1/3")."""
    d = x.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    places = max(twos, fives)
    scaled = x.numerator * 10**places // x.denominator  # exact: 10**places is a multiple of the denominator
    return format(Decimal(f"{scaled}E-{places}"), "f")


def _date_str(d: date | None) -> str:
    return "" if d is None else d.isoformat()


# ---------------------------------------------------------------------------------------------- output


def _round_scaled(x: Fraction, places: int, rounding: str) -> int:
    """round(x × 10**places) to an integer under a ``decimal`` rounding mode, with exact integer arithmetic."""
    y = x * 10**places
    fl = y.numerator // y.denominator
    frac = y - fl  # in [0, 1)
    if frac == 0:
        return fl
    positive = y > 0
    if rounding == ROUND_FLOOR:
        return fl
    if rounding == ROUND_CEILING:
        return fl + 1
    if rounding == ROUND_DOWN:  # toward zero
        return fl if positive else fl + 1
    if rounding == ROUND_UP:  # away from zero
        return fl + 1 if positive else fl
    if frac != _HALF:
        return fl + 1 if frac > _HALF else fl
    if rounding == ROUND_HALF_UP:  # ties away from zero
        return fl + 1 if positive else fl
    if rounding == ROUND_HALF_DOWN:  # ties toward zero
        return fl if positive else fl + 1
    return fl if fl % 2 == 0 else fl + 1  # ROUND_HALF_EVEN


def to_output(x: Fraction, places: int = 2, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``x`` as a Decimal with exactly ``places`` decimals.  Half-up is suggested but the rule is ❓, so both are parameters.

    Exact: no intermediate float or limited-precision division.  ``rounding`` is a ``decimal`` module constant
    (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_UP, ROUND_DOWN, ROUND_CEILING, ROUND_FLOOR).
    """
    if isinstance(places, bool) or not isinstance(places, int) or places < 0:
        raise ValueError(f"places must be an int >= 0, got {places!r}")
    if rounding not in _ROUNDINGS:
        raise ValueError(f"unsupported rounding {rounding!r}")
    n = _round_scaled(_num("x", x), places, rounding)
    return Decimal(f"{n}E-{places}")


def to_output_str(x: Fraction, places: int = 2, rounding: str = ROUND_HALF_UP) -> str:
    """``to_output`` as plain text for JSON, never in exponent form: Fraction(12345, 100) → "123.45"."""
    return format(to_output(x, places, rounding), "f")

