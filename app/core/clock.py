"""The one clock.  "Today" is the officers' calendar day in the configured zone
(``STANDARD_LAND_TIMEZONE``, default Asia/Shanghai): an officer in Beijing auditing at 07:30 audits
today, not yesterday (the machine's zone is usually UTC, eight hours behind).

- ``utcnow()``: the instant, timezone-aware UTC — what is stored (decision times, publish times,
  ``known_at`` defaults);
- ``now()`` / ``today()``: that instant in the configured zone, and its date — every default
  ``as_of`` and every "current year";
- ``local_text(t)``: a stored time as officers read it (pages, workbooks).

Tests fix the instant with ``fixed(at)``; nothing else in ``app`` reads the system clock for a
date or time (``time.monotonic``/``perf_counter`` measure durations and are not a date).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.core.config import settings

ZONE_LABELS = {"Asia/Shanghai": "北京时间"}


def _system_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Callable[[], dt.datetime] = _system_utc


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The configured zone (validated by ``app.core.config``)."""
    return _zone(settings().timezone)


def label() -> str:
    """How the pages and workbooks name the zone: 北京时间 for Asia/Shanghai, else the IANA name."""
    name = settings().timezone
    return ZONE_LABELS.get(name, name)


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC (what is stored)."""
    return _source()


def now() -> dt.datetime:
    """The current instant in the configured zone."""
    return _source().astimezone(zone())


def today() -> dt.date:
    """The officers' calendar day now."""
    return now().date()


def local_text(t: dt.datetime | str | None, timespec: str = "seconds") -> str:
    """A stored time (aware, or naive UTC, or ISO text) as ``YYYY-MM-DD HH:MM[:SS]`` in the configured
    zone; text that is not a time is returned unchanged."""
    if t is None or t == "":
        return ""
    if isinstance(t, str):
        try:
            t = dt.datetime.fromisoformat(t)
        except ValueError:
            return t
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(zone()).strftime("%Y-%m-%d %H:%M:%S" if timespec == "seconds" else "%Y-%m-%d %H:%M")


@contextlib.contextmanager
def fixed(at: dt.datetime) -> Iterator[dt.datetime]:
    """Freeze the clock at ``at`` (aware; a naive time is taken as UTC) inside the block, for
    every thread (an in-process test server included)."""
    global _source
    instant = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    previous = _source
    _source = lambda: instant  # noqa: E731
    try:
        yield instant
    finally:
        _source = previous
