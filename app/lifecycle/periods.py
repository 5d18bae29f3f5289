"""Counting periods under the Civil Code (民法典 Art. 201–204), for lifecycle checks.

Pure functions on ``datetime.date`` (a ``datetime`` is refused: a period ends at 24:00 of its last day,
so a time of day would only blur the comparison).  See docs/domain.md.

- Art. 201 ✅: the starting day is not counted.
- Art. 202 ✅: a period in years or months ends on the matching day of the last month, or on that
  month's last day when there is no matching day (29 Feb + 1 year → 28 Feb).
- Art. 203 ✅: a period whose last day is a statutory holiday (法定休假日) ends on the next working day.
  Whether this roll-over applies to idle-land durations (53号令) is ❓ (docs/domain.md, open questions), and
  the recommendation is *no* roll-over.  So it is off by default and only switched on by passing an
  explicit ``holidays`` set; the service holds no holiday calendar of its own (China moves working
  days around each year by State Council notice, 调休), so the caller supplies the holiday dates and,
  if needed, the weekend days that are working days (``working_days``).
- Art. 204 ✅: a law or an agreement may set a different rule; callers wanting another convention can
  build it from ``add_years``/``add_months`` directly.
"""

from __future__ import annotations

import calendar
from collections.abc import Set
from datetime import date, datetime, timedelta

__all__ = [
    "add_years",
    "add_months",
    "anniversary",
    "elapsed_at_least",
    "days_late",
    "is_working_day",
    "roll_to_working_day",
]

# A roll-over longer than this means the holiday set is wrong (e.g. every day listed).
_MAX_ROLL_DAYS = 366


def _require_date(name: str, d: object) -> date:
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{name} must be a datetime.date (not a datetime), got {type(d).__name__}")
    return d


def _require_int(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    return n


def add_months(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar months (``n`` may be negative), clamped to the month's last day (Art. 202).

    2025-01-31 + 1 → 2025-02-28; 2028-01-31 + 1 → 2028-02-29; 2025-03-31 − 1 → 2025-02-28.
    """
    _require_date("d", d)
    _require_int("n", n)
    year, month0 = divmod(d.year * 12 + (d.month - 1) + n, 12)
    month = month0 + 1
    if not 1 <= year <= 9999:
        raise OverflowError(f"{d.isoformat()} + {n} months is outside the supported date range")
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar years, clamped to the month's last day (Art. 202): 2028-02-29 + 1 → 2029-02-28."""
    _require_int("n", n)
    return add_months(d, 12 * n)


def is_working_day(d: date, holidays: Set[date], *, weekends_off: bool = True, working_days: Set[date] = frozenset()) -> bool:
    """True unless ``d`` is in ``holidays`` or (with ``weekends_off``) a Saturday/Sunday not listed in ``working_days``.

    ``holidays`` wins over ``working_days`` if a date is in both.
    """
    _require_date("d", d)
    if d in holidays:
        return False
    if weekends_off and d.weekday() >= 5 and d not in working_days:
        return False
    return True


def roll_to_working_day(
    d: date, holidays: Set[date], *, weekends_off: bool = True, working_days: Set[date] = frozenset()
) -> date:
    """``d`` itself if it is a working day, else the next working day (Art. 203)."""
    out = _require_date("d", d)
    for _ in range(_MAX_ROLL_DAYS):
        if is_working_day(out, holidays, weekends_off=weekends_off, working_days=working_days):
            return out
        out += timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_ROLL_DAYS} days after {d.isoformat()}: check the holiday set")


def anniversary(
    deadline: date,
    n_years: int,
    *,
    holidays: Set[date] | None = None,
    weekends_off: bool = True,
    working_days: Set[date] = frozenset(),
) -> date:
    """Last day of the period of ``n_years`` years counted from ``deadline`` (the deadline day itself not counted).

    Default: ``add_years(deadline, n_years)`` (Art. 201–202), no holiday roll-over.
    Opt-in Art. 203 roll-over (❓ for idle land): pass ``holidays`` (a set of dates; an empty set means
    "weekends only" when ``weekends_off``); an end falling on a holiday or a non-working weekend day then
    moves to the next working day.
    """
    _require_date("deadline", deadline)
    if _require_int("n_years", n_years) < 0:
        raise ValueError("n_years must be >= 0")
    end = add_years(deadline, n_years)
    if holidays is None:
        return end
    return roll_to_working_day(end, holidays, weekends_off=weekends_off, working_days=working_days)


def elapsed_at_least(
    deadline: date,
    check: date,
    n_years: int,
    *,
    holidays: Set[date] | None = None,
    weekends_off: bool = True,
    working_days: Set[date] = frozenset(),
) -> bool:
    """True iff on ``check`` more than ``n_years`` full years have run since ``deadline``: ``check > anniversary``.

    The anniversary day itself is still inside the period (it ends at 24:00), so it returns False on that
    day and True from the next day: deadline 2028-02-29, n=1 → False on 2029-02-28, True on 2029-03-01.
    This is the ⚙ reading of 53号令 "满一年" in docs/domain.md; holiday keywords as in ``anniversary``.
    """
    _require_date("check", check)
    return check > anniversary(deadline, n_years, holidays=holidays, weekends_off=weekends_off, working_days=working_days)


def days_late(due: date, actual: date) -> int:
    """Calendar days after ``due`` (Art. 201: the due day is not counted): 0 on or before the due day, 1 the day after."""
    _require_date("due", due)
    _require_date("actual", actual)
    return max(0, (actual - due).days)
