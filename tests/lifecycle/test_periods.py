"""Civil Code period counting (app.lifecycle.periods): docs/domain.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.lifecycle.periods import (
    add_months,
    add_years,
    anniversary,
    days_late,
    elapsed_at_least,
    is_working_day,
    roll_to_working_day,
)

DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


# ------------------------------------------------------------------------------------------ add_years


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2028, 2, 29), 1, date(2029, 2, 28)),  # Art. 202: no 29 Feb in 2029 → last day of February
        (date(2028, 2, 29), 4, date(2032, 2, 29)),  # leap year to leap year keeps the 29th
        (date(2028, 2, 29), -1, date(2027, 2, 28)),
        (date(2027, 2, 28), 1, date(2028, 2, 28)),  # into a leap year: the matching day exists, no move to the 29th
        (date(2025, 3, 15), 2, date(2027, 3, 15)),
        (date(2025, 12, 31), 1, date(2026, 12, 31)),
        (date(2025, 3, 15), 0, date(2025, 3, 15)),
    ],
)
def test_add_years(d, n, expected):
    assert add_years(d, n) == expected


# ------------------------------------------------------------------------------------------ add_months


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # Jan 31 + 1 month, common year → Feb 28
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year → Feb 29
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 5, 31), 1, date(2025, 6, 30)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),  # across the year end
        (date(2025, 1, 31), 13, date(2026, 2, 28)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
        (date(2025, 2, 28), 1, date(2025, 3, 28)),  # no snapping to month end when the day exists
        (date(2025, 6, 30), 0, date(2025, 6, 30)),
    ],
)
def test_add_months(d, n, expected):
    assert add_months(d, n) == expected


def test_type_guards():
    with pytest.raises(TypeError):
        add_years(datetime(2025, 1, 1, 12, 0), 1)
    with pytest.raises(TypeError):
        add_months(date(2025, 1, 1), 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_years(date(2025, 1, 1), True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        days_late("2025-01-01", date(2025, 1, 2))  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        add_years(date(9999, 1, 1), 1)


# ------------------------------------------------------------------------------------------ anniversary / elapsed


def test_anniversary_is_add_years_by_default():
    assert anniversary(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert anniversary(date(2025, 6, 1), 2) == date(2027, 6, 1)
    assert anniversary(date(2025, 6, 1), 0) == date(2025, 6, 1)
    with pytest.raises(ValueError):
        anniversary(date(2025, 6, 1), -1)


def test_leap_day_deadline():
    deadline = date(2028, 2, 29)
    assert not elapsed_at_least(deadline, date(2029, 2, 27), 1)
    assert not elapsed_at_least(deadline, date(2029, 2, 28), 1)  # the anniversary day is still inside the year
    assert elapsed_at_least(deadline, date(2029, 3, 1), 1)


def test_deadline_into_leap_year():
    deadline = date(2027, 2, 28)
    assert anniversary(deadline, 1) == date(2028, 2, 28)
    assert not elapsed_at_least(deadline, date(2028, 2, 28), 1)
    assert elapsed_at_least(deadline, date(2028, 2, 29), 1)  # the leap day is already past the year


def test_elapsed_one_and_two_years():
    deadline = date(2025, 3, 15)  # agreed (or extended) start date
    assert not elapsed_at_least(deadline, date(2026, 3, 15), 1)
    assert elapsed_at_least(deadline, date(2026, 3, 16), 1)
    assert not elapsed_at_least(deadline, date(2027, 3, 15), 2)
    assert elapsed_at_least(deadline, date(2027, 3, 16), 2)
    assert not elapsed_at_least(deadline, date(2025, 3, 15), 0)
    assert elapsed_at_least(deadline, date(2025, 3, 16), 0)
    assert not elapsed_at_least(deadline, date(2020, 1, 1), 1)  # check before the deadline


# ------------------------------------------------------------------------------------------ holiday roll-over (Art. 203, opt-in)

NATIONAL_DAY_2026 = frozenset(date(2026, 10, d) for d in range(1, 8))  # caller-supplied calendar (illustrative)


def test_roll_over_is_off_by_default():
    deadline = date(2025, 10, 1)
    assert date(2026, 10, 1).weekday() == 3  # a Thursday, inside the holiday week
    assert anniversary(deadline, 1) == date(2026, 10, 1)
    assert elapsed_at_least(deadline, date(2026, 10, 2), 1)


def test_roll_over_when_holidays_given():
    deadline = date(2025, 10, 1)
    # 2026-10-01..07 are holidays; 2026-10-08 is a Thursday → the period ends on 2026-10-08
    assert date(2026, 10, 8).weekday() == 3
    assert anniversary(deadline, 1, holidays=NATIONAL_DAY_2026) == date(2026, 10, 8)
    assert not elapsed_at_least(deadline, date(2026, 10, 8), 1, holidays=NATIONAL_DAY_2026)
    assert elapsed_at_least(deadline, date(2026, 10, 9), 1, holidays=NATIONAL_DAY_2026)


def test_roll_over_weekends_and_working_days():
    saturday = date(2026, 3, 14)
    assert saturday.weekday() == 5
    # an empty holiday set still switches the roll-over on: weekends only
    assert anniversary(date(2025, 3, 14), 1, holidays=frozenset()) == date(2026, 3, 16)  # Monday
    assert anniversary(date(2025, 3, 14), 1, holidays=frozenset(), weekends_off=False) == saturday
    # a Saturday declared a working day (调休) does not roll
    assert anniversary(date(2025, 3, 14), 1, holidays=frozenset(), working_days={saturday}) == saturday
    assert is_working_day(saturday, frozenset(), working_days={saturday})
    assert not is_working_day(saturday, {saturday}, working_days={saturday})  # holidays win
    assert roll_to_working_day(date(2026, 3, 16), frozenset()) == date(2026, 3, 16)


def test_roll_over_refuses_an_all_holiday_calendar():
    start = date(2026, 1, 1)
    everything = {start + timedelta(days=i) for i in range(400)}
    with pytest.raises(ValueError):
        roll_to_working_day(start, everything)


# ------------------------------------------------------------------------------------------ days_late


def test_days_late_boundaries():
    due = date(2025, 6, 30)
    assert days_late(due, date(2025, 6, 30)) == 0  # on the due day: not late
    assert days_late(due, date(2025, 7, 1)) == 1  # the day after: 1 day
    assert days_late(due, date(2025, 6, 1)) == 0  # early
    assert days_late(due, date(2025, 8, 14)) == 45  # 31 (to 7-31) + 14
    assert days_late(date(2027, 12, 31), date(2028, 3, 1)) == 61  # 31 + 29 (leap February) + 1


# ------------------------------------------------------------------------------------------ properties


@given(DATES, DATES)
def test_days_late_nonnegative(due, actual):
    assert days_late(due, actual) >= 0
    assert days_late(due, actual) == max(0, (actual - due).days)


@given(DATES, st.integers(min_value=0, max_value=3000))
def test_days_late_counts_days_after_due(due, k):
    assert days_late(due, due + timedelta(days=k)) == k


@given(DATES, DATES, DATES, st.integers(min_value=0, max_value=5))
def test_elapsed_is_monotone_in_check(deadline, c1, c2, n):
    lo, hi = sorted((c1, c2))
    if elapsed_at_least(deadline, lo, n):
        assert elapsed_at_least(deadline, hi, n)


@given(DATES, DATES, st.integers(min_value=0, max_value=5))
def test_elapsed_matches_definition(deadline, check, n):
    assert elapsed_at_least(deadline, check, n) == (check > add_years(deadline, n))


@given(DATES, st.integers(min_value=0, max_value=5))
def test_elapsed_switches_the_day_after_the_anniversary(deadline, n):
    anniv = anniversary(deadline, n)
    assert not elapsed_at_least(deadline, anniv, n)
    assert elapsed_at_least(deadline, anniv + timedelta(days=1), n)


@given(DATES, st.integers(min_value=-600, max_value=600))
def test_add_months_lands_in_the_right_month(d, n):
    out = add_months(d, n)
    assert (out.year * 12 + out.month) - (d.year * 12 + d.month) == n
    assert out.day <= d.day
    assert out.day == d.day or (out + timedelta(days=1)).day == 1  # either the same day or clamped to month end


@given(DATES, st.integers(min_value=-50, max_value=50))
def test_add_years_keeps_month_and_day_except_leap_day(d, n):
    out = add_years(d, n)
    assert out.year == d.year + n and out.month == d.month
    if (d.month, d.day) != (2, 29):
        assert out.day == d.day
    else:
        assert out.day in (28, 29)


@given(DATES, st.integers(min_value=0, max_value=3), st.sets(st.dates(min_value=date(1900, 1, 1), max_value=date(2204, 12, 31))))
def test_roll_over_never_ends_earlier(deadline, n, holidays):
    assert anniversary(deadline, n, holidays=holidays) >= anniversary(deadline, n)
