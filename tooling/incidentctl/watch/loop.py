"""`watch`'s loop: a turn, then sleep until the earlier of the next deadline and the interval.

The clock is injected (`Clock`): the tests drive the loop without sleeping, the command passes
the wall clock, whose sleep ends early when SIGTERM asks the watcher to stop. A stop is only
seen between turns, so a turn's claims and sends are never cut in half.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from incidentctl.core.errors import IncidentctlError
from incidentctl.core.timevalues import format_timestamp

BOUNDARY = timedelta(seconds=1)  # overdue means one second past due (timers' semantics)


@dataclass(frozen=True)
class Turn:
    """What a turn found: a P0 or P1 is open before RESOLVED; the next deadline, if any."""

    active: bool
    next_due: datetime | None


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> bool:
        """Wait; False when a stop was asked for (at once if it already was)."""
        ...


def wake_at(started: datetime, next_due: datetime | None, interval: float) -> datetime:
    """When the next turn starts: the interval after this one started, or the second a
    deadline becomes overdue, whichever is first."""
    wake = started + timedelta(seconds=interval)
    if next_due is not None:
        wake = min(wake, next_due + BOUNDARY)
    return wake


def run(
    turn: Callable[[datetime], Turn],
    clock: Clock,
    *,
    interval: float,
    until_idle: bool = False,
    once: bool = False,
    say: Callable[[str], None],
) -> int:
    """Turns until stopped (or idle with `until_idle`, or after one with `once`); how many.

    A turn that fails with a user error is said and retried after the interval: a watcher
    that stops on one bad push or one unreadable file would leave every timer unwatched."""
    turns = 0
    while True:
        started = clock.now()
        result: Turn | None
        try:
            result = turn(started.replace(microsecond=0))
        except IncidentctlError as exc:
            say(f"turn at {format_timestamp(started.replace(microsecond=0))} failed: "
                f"{exc.render()}")  # fmt: skip
            result = None
        turns += 1
        if once:
            return turns
        if until_idle and result is not None and not result.active:
            say("no P0 or P1 incident is open: the watcher stops (the scheduled job covers "
                "the rest)")  # fmt: skip
            return turns
        wake = wake_at(started, result.next_due if result else None, interval)
        if not clock.sleep(max(0.0, (wake - clock.now()).total_seconds())):
            return turns
