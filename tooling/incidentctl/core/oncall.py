"""Who holds the pager: policies/oncall.yaml rotations (RFC 5545 hand-offs at a local
wall-clock time), their overrides, and the older fixed-shift rotations of escalation.yaml.

A rotation's `start` is the first hand-off; each occurrence of its rule after it is the
next one, and the members take turns, one a hand-off. `start` is converted into the
rotation's time zone before the rule is expanded: a fixed `+02:00` offset would move every
hand-off by an hour after the autumn change. An override hands the pager to someone else
for [from, to) and wins over the turn.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as rfc5545
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from incidentctl.core.model import Timestamp
from incidentctl.core.timevalues import Duration

ROTATION_PREFIX = "rotation:"  # a contact or role that names a rotation: rotation:primary
HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")  # a GitHub user
ROTATION_NAME = r"^[a-z0-9][a-z0-9-]*$"
PAGE_BACKUP_AFTER = 2  # unanswered reminders of a breach before its backups are paged
_SEARCH_YEARS = 5  # how far ahead a rule's next hand-off is looked for


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, populate_by_name=True)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; e.g. Europe/Berlin or Etc/UTC") from None
    return value


class OncallRotation(_Strict):
    """One rotation of oncall.yaml."""

    name: str = Field(pattern=ROTATION_NAME)
    timezone: str
    start: Timestamp
    rrule: str = Field(min_length=1)
    members: list[str] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("rrule")
    @classmethod
    def _rule(cls, value: str) -> str:
        text = value.strip()
        if re.search(r"(?i)\b(DTSTART|TZID)\b", text):
            raise ValueError("the rule takes no DTSTART or TZID: they are `start` and `timezone`")
        try:
            rfc5545.rrulestr(text, dtstart=datetime(2026, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"not an RFC 5545 rule ({exc}); e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
            ) from None
        return text

    def handoffs(self) -> rfc5545.rrule:
        """The hand-offs after `start`, in the rotation's time zone (wall clock kept)."""
        return _expand(self.rrule, self.start.astimezone(ZoneInfo(self.timezone)))


@lru_cache(maxsize=256)
def _expand(rule: str, start: datetime) -> rfc5545.rrule:
    expanded = rfc5545.rrulestr(rule, dtstart=start, cache=True)
    assert isinstance(expanded, rfc5545.rrule)
    return expanded


class Override(_Strict):
    """Someone else holds a rotation's pager for [from, to)."""

    rotation: str
    who: str
    start: Timestamp = Field(alias="from")
    end: Timestamp = Field(alias="to")
    reason: str | None = None

    @model_validator(mode="after")
    def _order(self) -> Override:
        if self.end <= self.start:
            raise ValueError("`to` must be later than `from` (the override is [from, to))")
        return self

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


class Rotation(_Strict):
    """escalation.yaml's older form: fixed-length shifts from `start` (UTC arithmetic, no
    local hand-off time). Still read; oncall.yaml's rotations replace it."""

    name: str
    start: datetime
    shift: Duration | None = None
    people: list[str] = Field(min_length=1)

    @field_validator("shift", mode="before")
    @classmethod
    def _shift(cls, value: object) -> Duration | None:
        if value is None or isinstance(value, Duration):
            return value
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return Duration.parse(value)
        raise ValueError(f"expected a duration such as 1w, got {value!r}")

    def on_call(self, at: datetime) -> str | None:
        """Who holds the pager at `at` (None before the rotation starts)."""
        turn = self._turn(at)
        return None if turn is None else self.people[turn % len(self.people)]

    def _turn(self, at: datetime) -> int | None:
        if at < self.start or self.shift is None or not self.shift.seconds:
            return None
        return int((at - self.start).total_seconds() // self.shift.seconds)


@dataclass(frozen=True)
class Shift:
    """Who is on call for one rotation at a moment, since when, until when, who is next."""

    rotation: str
    on_call: str | None
    since: datetime | None
    until: datetime | None
    next: str | None
    override: bool = False


def _turns(rotation: OncallRotation, at: datetime) -> tuple[int, datetime, datetime | None]:
    """(turn number, its hand-off, the next hand-off) of the turn holding `at` >= start."""
    return _handoffs(rotation.rrule, rotation.start, rotation.timezone).turn(at)


class _Handoffs:
    """A rule's hand-offs after `start` in UTC, expanded lazily as far as asked and kept:
    a moment's turn is then a binary search (many incidents, many moments, one rule)."""

    def __init__(self, rule: str, start: datetime, zone: str) -> None:
        self.start = start
        self._pending = iter(_expand(rule, start.astimezone(ZoneInfo(zone))))
        self._times: list[datetime] = []
        self._ended = False
        self._lock = threading.Lock()  # a server's threads may share one rule

    def _reach(self, at: datetime) -> None:
        while not self._ended and (not self._times or self._times[-1] <= at):
            handoff = next(self._pending, None)
            if handoff is None:
                self._ended = True
            elif handoff > self.start:
                self._times.append(handoff.astimezone(UTC))

    def turn(self, at: datetime) -> tuple[int, datetime, datetime | None]:
        with self._lock:
            self._reach(at)
        index = bisect_right(self._times, at)
        since = self._times[index - 1] if index else self.start
        until = self._times[index] if index < len(self._times) else None
        return index, since, until


@lru_cache(maxsize=256)
def _handoffs(rule: str, start: datetime, zone: str) -> _Handoffs:
    return _Handoffs(rule, start, zone)


def _turn_shift(rotation: OncallRotation | Rotation, at: datetime) -> Shift:
    """The shift by turn alone, overrides left out."""
    if isinstance(rotation, Rotation):
        turn = rotation._turn(at)
        if turn is None or rotation.shift is None:
            return Shift(rotation.name, None, None, rotation.start, rotation.people[0])
        step = timedelta(seconds=rotation.shift.seconds)
        since = rotation.start + step * turn
        people = rotation.people
        return Shift(
            rotation.name,
            people[turn % len(people)],
            since,
            since + step,
            people[(turn + 1) % len(people)],
        )
    if at < rotation.start:
        return Shift(rotation.name, None, None, rotation.start, rotation.members[0])
    members = rotation.members
    turn, since, until = _turns(rotation, at)
    following = members[(turn + 1) % len(members)] if until is not None else None
    return Shift(rotation.name, members[turn % len(members)], since, until, following)


def shift_at(rotation: OncallRotation | Rotation, overrides: list[Override], at: datetime) -> Shift:
    """Who holds `rotation`'s pager at `at`, overrides included; since and until are the
    nearest changes of hands (a hand-off or an override's edge)."""
    mine = sorted((o for o in overrides if o.rotation == rotation.name), key=lambda o: o.start)
    current = next((o for o in mine if o.covers(at)), None)
    if current is not None:
        return Shift(
            rotation.name, current.who, current.start, current.end,
            holder(rotation, mine, current.end), override=True,
        )  # fmt: skip
    base = _turn_shift(rotation, at)
    since, until = base.since, base.until
    ended = [o.end for o in mine if o.end <= at and (since is None or o.end > since)]
    if ended:
        since = max(ended)
    begins = [o.start for o in mine if o.start > at and (until is None or o.start < until)]
    if begins:
        until = min(begins)
    following = base.next if until == base.until else holder(rotation, mine, until)
    return Shift(rotation.name, base.on_call, since, until, following)


def holder(
    rotation: OncallRotation | Rotation, overrides: list[Override], at: datetime | None
) -> str | None:
    """Who holds the pager at `at`: an override covering it, else the turn."""
    if at is None:
        return None
    for override in overrides:
        if override.rotation == rotation.name and override.covers(at):
            return override.who
    return _turn_shift(rotation, at).on_call


def fires(rotation: OncallRotation) -> bool:
    """Whether the rule hands the pager on at least once within a few years of `start`."""
    horizon = rotation.start + timedelta(days=366 * _SEARCH_YEARS)
    for handoff in rotation.handoffs():
        if handoff > horizon:
            return False
        if handoff > rotation.start:
            return True
    return False


class Oncall(_Strict):
    """oncall.yaml: the rotations, their overrides, and when a backup is paged."""

    rotations: list[OncallRotation] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    page_backup_after: int = Field(
        PAGE_BACKUP_AFTER,
        ge=1,
        le=20,
        description="Unanswered reminders of a breach before its backup is paged",
    )


def rotation_named(value: str | None) -> str | None:
    """The rotation a contact or role names (`rotation:primary` -> primary), else None."""
    if value and value.startswith(ROTATION_PREFIX):
        return value.removeprefix(ROTATION_PREFIX).strip()
    return None
