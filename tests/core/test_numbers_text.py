"""Decimal text of exact values: the integer formatter gives what formatting a Decimal gives."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.numbers import STRICT_PLACES, dec_str, to_decimal


def via_decimal(x: Fraction, places: int | None) -> str:
    """The Decimal formulation (the definition the fast one must match)."""
    if places is None and (x * 10**STRICT_PLACES).denominator == 1:
        d = Decimal(int(x * 10**STRICT_PLACES)).scaleb(-STRICT_PLACES)
        return format(d.normalize() if d != 0 else Decimal(0), "f")
    return format(to_decimal(x, places), "f")


denominators = st.sampled_from([1, 2, 3, 7, 10, 15, 100, 2**12, 10**6, 10**12, 3 * 10**12, 10**13, 999_983])
# Up to 10^12 (MAX_ABS): past ~10^14, Decimal's 28-digit context rounds the "exact" text (inputs are
# refused above 10^12 long before; the integer formatter stays exact there).
fractions = st.builds(Fraction, st.integers(-10**20, 10**20), denominators).filter(lambda x: abs(x) <= 10**12)


@settings(max_examples=2000, deadline=None)
@given(fractions, st.none() | st.integers(0, 14))
def test_dec_str_equals_the_decimal_text(x, places):
    assert dec_str(x, places) == via_decimal(x, places)


def test_edges():
    assert dec_str(None) is None
    assert dec_str(Fraction(0), 2) == "0.00"
    assert dec_str(Fraction(-1, 200), 2) == "-0.01"       # half up away from zero
    assert dec_str(Fraction(-1, 201), 2) == "0.00"
    assert dec_str(Fraction(1500)) == "1500"
    assert dec_str(Fraction(1, 3)) == "0.333333"
    assert dec_str(Fraction(7, 2), 0) == "4"
    assert dec_str(3) == "3"
