"""Parsing and formatting of timestamps and durations, shared by the model, policy and CLI.

Timestamps must carry a timezone: an incident timeline that mixes local and UTC times is
worse than no timeline, so naive values are refused rather than guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w|bd)\s*$")
# 1h30m, 2d4h, 1h 30m: what format_duration writes reads back
_COMPOUND = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:min|s|m|h|d|w)\s*)+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|s|m|h|d|w)")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AGO = re.compile(r"^(.*?)\s*\bago$", re.IGNORECASE)
_AHEAD = re.compile(r"^in\s+(.*)$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class TimeValueError(ValueError):
    """A timestamp or duration that cannot be understood."""


def parse_timestamp(value: str | datetime) -> datetime:
    """Parse ISO-8601 with an explicit offset (or Z) into an aware UTC datetime."""
    if type(value) is str and value[-1:] == "Z":  # the stored form: UTC as it is written
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # worded below
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise TimeValueError(f"{value!r} is not a valid ISO-8601 timestamp ({exc})") from None
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise TimeValueError(
            f"{value!s} has no timezone; write it in UTC with a Z suffix, e.g. 2026-11-27T14:05:00Z"
        )
    return dt.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """UTC ISO-8601 with a Z suffix, to the second: the one form stored in files."""
    value = value.astimezone(UTC).replace(microsecond=0)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# How far ahead of `now` a recorded time (an --at, a drill) may be: clocks drift, intentions
# do not count.
FUTURE_TOLERANCE = timedelta(minutes=5)


def in_future(at: datetime, now: datetime) -> bool:
    """Whether `at` is later than `now` by more than clock drift explains."""
    return at > now + FUTURE_TOLERANCE


def parse_date(value: str | date) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise TimeValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Duration:
    """A span of time, either wall-clock seconds or whole business days."""

    __slots__ = ("_delta", "business_days", "seconds")

    def __init__(self, seconds: float = 0.0, business_days: int = 0) -> None:
        self.seconds = seconds
        self.business_days = business_days
        self._delta = timedelta(seconds=seconds)  # read for every deadline of every incident

    @classmethod
    def parse(cls, value: str | int | float) -> Duration:
        if isinstance(value, bool):
            raise TimeValueError(f"{value!r} is not a duration")
        if isinstance(value, int | float):
            return cls(seconds=float(value) * 60)
        match = _DURATION.match(value)
        if not match and _COMPOUND.match(value):
            return cls(seconds=sum(float(n) * _UNITS[u] for n, u in _PART.findall(value)))
        if not match:
            raise TimeValueError(
                f"{value!r} is not a duration; use a number with a unit: "
                "30s, 15m, 2h, 1h30m, 1d, 1w, or 1bd for business days"
            )
        amount, unit = float(match.group(1)), match.group(2)
        if unit == "bd":
            if amount != int(amount):
                raise TimeValueError(f"{value!r}: business days must be whole")
            return cls(business_days=int(amount))
        return cls(seconds=amount * _UNITS[unit])

    @property
    def timedelta(self) -> timedelta:
        return self._delta

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Duration)
            and other.seconds == self.seconds
            and other.business_days == self.business_days
        )

    def __hash__(self) -> int:
        return hash((self.seconds, self.business_days))

    def __repr__(self) -> str:
        return f"Duration({self})"

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days}bd"
        return format_duration(self.seconds)


def format_duration(seconds: float) -> str:
    """Compact human form: 45s, 15m, 1h30m, 2d4h."""
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs and not days:
        parts.append(f"{secs}s")
    return sign + ("".join(parts) or "0s")


Day = Literal["start", "end"]


def time_forms(*, future: bool, day: Day | None) -> str:
    """The forms a time option accepts, for its help and for every error it gives."""
    forms = ["an ISO-8601 time with a zone (2026-11-27T14:05:00Z)", "now", "-10m", "-1h30m"]
    forms.append("10m ago")
    if future:
        forms += ["+10m", "in 10m"]
    if day:
        forms.append(f"a date (2026-11-27: the {day} of that UTC day)")
    return ", ".join(forms)


def is_day(text: str) -> bool:
    """Whether `text` is written as a date (YYYY-MM-DD) rather than a time."""
    return bool(_DAY.match(text.strip()))


def parse_moment(
    text: str, now: datetime, *, future: bool = False, day: Day | None = None
) -> datetime:
    """The one reading of a time a person types: ISO-8601 with a zone, `now`, a time
    before `now` (-10m, -1h30m, 10m ago) and, where `future` is allowed, after it (+10m,
    in 10m); with `day`, a date stands for the start or the end (the next midnight) of that
    UTC day. A bare duration (10m) is refused: ago or ahead is not ours to guess. Every
    refusal names the accepted forms."""
    value = text.strip()
    forms = time_forms(future=future, day=day)
    lowered = value.lower()
    if lowered == "now":
        return now
    ahead = None
    span = None
    if value.startswith(("-", "+")):
        ahead, span = value[0] == "+", value[1:]
    elif (ago := _AGO.match(value)) is not None:
        ahead, span = False, ago.group(1)
    elif (inside := _AHEAD.match(value)) is not None:
        ahead, span = True, inside.group(1)
    if span is not None:
        try:
            length = Duration.parse(span)
        except TimeValueError:
            raise TimeValueError(f"{text!r} is not a time; accepted: {forms}") from None
        if length.business_days:
            raise TimeValueError(f"{text!r}: business days cannot place a time; accepted: {forms}")
        if ahead and not future:
            raise TimeValueError(
                f"{text!r} is in the future, and this records what happened; accepted: {forms}"
            )
        return now + length.timedelta if ahead else now - length.timedelta
    if is_day(value):
        if day is None:
            raise TimeValueError(f"{text!r} is a date, not a time; accepted: {forms}")
        start = datetime.combine(parse_date(value), time(0), tzinfo=UTC)
        return start + timedelta(days=1) if day == "end" else start
    if _COMPOUND.match(value) or _DURATION.match(value):
        before = f"-{value} or '{value} ago' for the past"
        raise TimeValueError(
            f"{text!r} is a duration, not a time: write {before}"
            + (f", +{value} for the future" if future else "")
            + f"; accepted: {forms}"
        )
    try:
        return parse_timestamp(value)
    except TimeValueError as exc:
        if "no timezone" in str(exc):
            raise TimeValueError(f"{exc}; accepted: {forms}") from None
        raise TimeValueError(f"{text!r} is not a time; accepted: {forms}") from None
