"""Is anyone watching? The watcher's heartbeat judged against the open P0/P1 incidents, and
the 60 days after which GitHub stops a public repository's scheduled workflows.

Pure: the heartbeat, the incidents and `now` in, a sentence (or None) out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from incidentctl.core.model import Priority
from incidentctl.core.timevalues import format_duration, format_timestamp
from incidentctl.deadlines.timers import Subject
from incidentctl.store.deliveries import Heartbeat

WATCHED = (Priority.P0, Priority.P1)
STALE_INTERVALS = 3  # a watcher missing this many turns is not seen
STALE_FLOOR = 120  # seconds: never less (a successor job takes a minute to start)
INACTIVE_DAYS = 60  # GitHub disables scheduled workflows after this long without a commit
WARN_DAYS = 50


def watched(subjects: Iterable[Subject], now: datetime) -> list[str]:
    """The P0 and P1 incidents open (before RESOLVED) at `now`: what a watcher must watch."""
    return [
        s.incident.id
        for s in subjects
        if s.incident.priority in WATCHED
        and s.incident.status.is_open
        and s.incident.detected_at <= now
    ]


def watcher_note(heartbeat: Heartbeat | None, open_ids: list[str], now: datetime) -> str | None:
    """ "no watcher seen for X" while a P0/P1 is open and the last heartbeat is stale."""
    if not open_ids:
        return None
    shown = ", ".join(open_ids[:3]) + (f" +{len(open_ids) - 3}" if len(open_ids) > 3 else "")
    hint = "start `incidentctl watch` (or the watch workflow) so reminders go out on time"
    if heartbeat is None:
        return f"no watcher seen while {shown} is open: {hint}"
    stale = max(STALE_INTERVALS * heartbeat.interval, STALE_FLOOR)
    age = (now - heartbeat.at).total_seconds()
    if age <= stale:
        return None
    return (
        f"no watcher seen for {format_duration(age)} (last turn "
        f"{format_timestamp(heartbeat.at)} by {heartbeat.by}) while {shown} is open: {hint}"
    )


def schedule_note(last_commit: datetime | None, now: datetime) -> str | None:
    """Said loudly from WARN_DAYS on: GitHub disables the scheduled reminders of a public
    repository INACTIVE_DAYS after its last commit, without telling anyone."""
    if last_commit is None:
        return None
    idle = now - last_commit
    if idle < timedelta(days=WARN_DAYS):
        return None
    stops = last_commit + timedelta(days=INACTIVE_DAYS)
    when = "stopped" if stops <= now else "stops"
    return (
        f"no commit since {format_timestamp(last_commit)}: GitHub disables the scheduled "
        f"workflows of a public repository after {INACTIVE_DAYS} days without one, so the "
        f"reminders schedule {when} at {format_timestamp(stops)}; commit something (or "
        "re-enable the workflow in the Actions tab) to keep it running"
    )
