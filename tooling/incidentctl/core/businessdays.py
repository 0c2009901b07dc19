"""Business-day arithmetic for timers written in business days (`1bd`, P3's "1 business day").

Days are counted in the calendar of `policy.sla.business_days.timezone`; weekends are the days
missing from `weekdays`, and `holidays` are skipped too. From a business day, N business days
later is the same local clock time N business days on (Friday 16:00 + 1bd = Monday 16:00).
From a weekend or holiday, counting starts at 00:00 of the next business day, so Saturday
10:00 + 1bd = Tuesday 00:00, the end of Monday. Pure: no clock, no files.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from incidentctl.core.errors import IncidentctlError
from incidentctl.core.policy import BusinessDays
from incidentctl.core.timevalues import Duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3660  # a calendar with no business day for ten years is a broken policy


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise IncidentctlError(
            f"policy sla.business_days.timezone: unknown timezone {name!r}",
            hint="use an IANA name such as UTC, Europe/Berlin or America/New_York",
        ) from None


def _weekdays(config: BusinessDays) -> frozenset[int]:
    days: set[int] = set()
    for name in config.weekdays:
        key = str(name).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise IncidentctlError(
                f"policy sla.business_days.weekdays: {name!r} is not a weekday",
                hint="use mon, tue, wed, thu, fri, sat, sun",
            )
        days.add(WEEKDAYS.index(key))
    if not days:
        raise IncidentctlError(
            "policy sla.business_days.weekdays is empty: no day is a business day",
            hint="list the working days, e.g. [mon, tue, wed, thu, fri]",
        )
    return frozenset(days)


def is_business_day(day: date, config: BusinessDays) -> bool:
    return day.weekday() in _weekdays(config) and day not in set(config.holidays)


def _next_business_day(day: date, weekdays: frozenset[int], holidays: set[date]) -> date:
    for _ in range(_MAX_DAYS):
        day += timedelta(days=1)
        if day.weekday() in weekdays and day not in holidays:
            return day
    raise IncidentctlError(
        "policy sla.business_days: no business day within ten years",
        hint="check weekdays and holidays",
    )


def add_business_days(start: datetime, days: int, config: BusinessDays) -> datetime:
    """`days` business days after `start` (an aware datetime), returned in UTC."""
    zone = _zone(config.timezone)
    weekdays = _weekdays(config)
    holidays = set(config.holidays)
    local = start.astimezone(zone)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if day.weekday() not in weekdays or day in holidays:
        day, clock = _next_business_day(day, weekdays, holidays), time(0)
    for _ in range(days):
        day = _next_business_day(day, weekdays, holidays)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def advance(start: datetime, duration: Duration, config: BusinessDays) -> datetime:
    """`start` plus a policy duration: wall-clock seconds, or business days."""
    if duration.business_days:
        return add_business_days(start, duration.business_days, config)
    return start + duration.timedelta
