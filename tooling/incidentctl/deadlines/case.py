"""One incident as it stood at `now`: the facts every timer rule reads, and how rules judge.

The boundary semantics are written down in timers.py, the public face of this package.
Pure: no files, no clock, no click.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, NamedTuple

from incidentctl.core.businessdays import advance
from incidentctl.core.lifecycle import tier_reached
from incidentctl.core.model import EscalationKind, EventKind, Incident, Priority, Status
from incidentctl.core.policy import FunctionalTimers, Policy, PrioritySla
from incidentctl.core.timevalues import Duration, TimeValueError, parse_date, parse_timestamp

MET, MISSED, PENDING, OVERDUE = "met", "missed", "pending", "overdue"
NOT_APPLICABLE = "not-applicable"
# "P0 notifies management within 30 min of detection, always"; for other priorities the
# management notification is owed only while unresolved.
UNCONDITIONAL_MANAGEMENT = frozenset({Priority.P0})
_PRIORITY_EVENTS = (EventKind.DECLARED, EventKind.TRIAGED, EventKind.RECLASSIFIED)


@dataclass(frozen=True)
class PirState:
    """What the timers need from a PIR document, read loosely (a draft may be incomplete)."""

    approved: bool = False
    approved_at: datetime | None = None
    actions: tuple[Mapping[str, Any], ...] = ()
    root_cause: str | None = None  # the key incidents share when they recur

    def approved_by(self, now: datetime) -> bool:
        """Approved as of `now`: an approval with a known time counts from that time."""
        return self.approved and (self.approved_at is None or self.approved_at <= now)


@dataclass(frozen=True)
class Subject:
    """One incident, the policy it was declared under, and its PIR if one exists."""

    incident: Incident
    policy: Policy
    pir: PirState | None = None


class Deadline(NamedTuple):
    """One deadline of one incident, as `deadlines` shows it (a named tuple: tens of
    thousands are made per `overdue`, at a third of a frozen dataclass's cost)."""

    rule: str
    state: str  # met | missed | pending | overdue | not-applicable
    due: datetime | None = None
    start: datetime | None = None
    done_at: datetime | None = None
    subject: str | None = None
    note: str = ""
    snoozed_until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "due": iso(self.due),
            "state": self.state,
            "start": iso(self.start),
            "done_at": iso(self.done_at),
            "snoozed_until": iso(self.snoozed_until),
            "note": self.note,
        }


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def loose_time(value: Any) -> datetime | None:
    """A timestamp, or a date meaning the end of that day (UTC); None if absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return end_of_day(value)
    if type(value) is str and len(value) == 10:  # a due date: no time, so no timestamp either
        try:
            return end_of_day(parse_date(value))
        except TimeValueError:
            pass
    try:
        return parse_timestamp(value if isinstance(value, datetime) else str(value))
    except TimeValueError:
        pass
    try:
        return end_of_day(parse_date(str(value)))
    except TimeValueError:
        return None


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


FINISHED_ACTION = frozenset({"done", "cancelled"})


def action_status(action: Mapping[str, Any], default: str = "") -> str:
    """A preventive action's status as the PIR writes it, read loosely (`Done` is done)."""
    return str(action.get("status") or default).strip().lower()


def action_id(index: int, action: Mapping[str, Any]) -> str:
    """An action's `id`, or `action-N` (1-based) when it has none."""
    return str(action.get("id") or f"action-{index}")


def first(times: Iterable[datetime | None]) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


class Case:
    """One incident as it stood at `now`: the facts every rule reads. The facts only some
    rules read (escalations, tiers, mitigation, updates) are worked out when first read, so
    a reader that judges a few rules (metrics) does not pay for the others."""

    def __init__(self, subject: Subject, now: datetime) -> None:
        self.subject = subject
        inc = self.inc = subject.incident
        self.policy, self.pir, self.now = subject.policy, subject.pir, now
        events = [e for e in inc.timeline if e.at <= now]
        self.events = events
        self.priority, self.anchor, self.since = _priority_view(inc, events)
        self.reclassified = self.since > inc.detected_at  # the priority changed since detection
        self.sla = subject.policy.sla.priorities.get(self.priority) or PrioritySla()
        self.resolved, self.reopened = _resolution(inc, events, now)
        self.closed = past(inc.closed_at, now)
        if self.closed is None and inc.status == Status.CLOSED and len(events) == len(inc.timeline):
            self.closed = self.resolved or inc.detected_at  # closed without closed_at
        self.restart = max(self.anchor, self.reopened) if self.reopened else self.anchor
        self.acknowledged = past(inc.acknowledged_at, now)
        self.triaged = past(inc.triaged_at, now)
        self.engaged = past(inc.engaged_at, now)
        self.stop = self.resolved or self.closed  # response timers end at resolution

    @cached_property
    def functional(self) -> FunctionalTimers:
        return self.policy.escalation.functional.get(self.priority) or FunctionalTimers()

    @cached_property
    def mitigated(self) -> datetime | None:
        """The first mitigation since the last reopen."""
        inc, reopened = self.inc, self.reopened
        mitigations = [e.at for e in self.events if e.kind == EventKind.MITIGATED] or [
            t for t in (past(inc.mitigated_at, self.now),) if t
        ]
        return first(t for t in mitigations if reopened is None or t >= reopened)

    @cached_property
    def escalated(self) -> dict[EscalationKind, datetime]:
        """Each kind of escalation's first time, as of now."""
        out: dict[EscalationKind, datetime] = {}
        for esc in sorted(self.inc.escalations, key=lambda e: e.at):
            if esc.at <= self.now:
                out.setdefault(esc.kind, esc.at)
        return out

    @cached_property
    def tier3(self) -> datetime | None:
        return self.escalated.get(EscalationKind.TIER_3)

    @cached_property
    def tier2(self) -> datetime | None:
        tier2 = first((self.escalated.get(EscalationKind.TIER_2), self.tier3))
        if tier2 is None and tier_reached(self.inc, self.now) >= 2:
            tier2 = self.inc.detected_at  # hand-written file without escalation records
        return tier2

    @cached_property
    def updates(self) -> list[datetime]:
        return [e.at for e in self.events if e.kind == EventKind.UPDATE]

    @cached_property
    def public_updates(self) -> list[datetime]:
        return [e.at for e in self.events if e.kind == EventKind.UPDATE and e.public]

    @cached_property
    def functional_stop(self) -> datetime | None:
        return first((self.mitigated, self.stop))

    @property
    def is_open(self) -> bool:
        return self.stop is None

    @property
    def finished(self) -> bool:
        """Resolved and closed as of now (not reopened since): every response timer has
        stopped, and only the rules that outlive an incident can still fall due."""
        return self.closed is not None and self.resolved is not None

    def as_of(self, when: datetime) -> Case:
        """The same incident as it stood at `when` (to judge what was done before a
        reclassification by the target in force then)."""
        return Case(self.subject, when)

    def after(self, start: datetime, duration: Duration) -> datetime:
        return advance(start, duration, self.policy.sla.business_days)

    def snoozed_until(self, rule: str) -> datetime | None:
        ends = [
            e.until
            for e in self.events
            if e.kind == EventKind.SNOOZED and e.rule == rule and e.until and self.now < e.until
        ]
        return max(ends, default=None)

    def flag_delay(self) -> Duration | None:
        """The executive/security clock for a security breach or data loss, if flagged."""
        executive = self.policy.escalation.hierarchical.executive
        delays = [
            executive.get(flag)
            for flag, on in (
                ("security_breach", self.inc.security_breach),
                ("data_loss", self.inc.data_loss),
            )
            if on
        ]
        found = [d for d in delays if d is not None]
        return min(found, key=lambda d: (d.business_days, d.seconds)) if found else None


def past(value: datetime | None, now: datetime) -> datetime | None:
    return value if value is not None and value <= now else None


def _priority_view(inc: Incident, events: list[Any]) -> tuple[Priority, datetime, datetime]:
    """(priority at now, when its timers start, when this exact priority began).

    The timers start at the beginning of the latest run of entries at least as severe as the
    current priority: detection unless the incident was reclassified upwards.
    """
    history = [(e.at, e.priority) for e in events if e.kind in _PRIORITY_EVENTS and e.priority]
    if not history:
        history = [(inc.detected_at, inc.priority)]
    if len(events) == len(inc.timeline) and history[-1][1] != inc.priority:
        history.append((history[-1][0], inc.priority))  # the file's priority is the truth
    current = history[-1][1]
    anchor = since = inc.detected_at
    for at, priority in reversed(history):
        if priority.rank > current.rank:
            break
        anchor = at
    else:
        anchor = inc.detected_at
    for at, priority in reversed(history):
        if priority != current:
            break
        since = at
    else:
        since = inc.detected_at
    return current, max(anchor, inc.detected_at), max(since, inc.detected_at)


def _resolution(
    inc: Incident, events: list[Any], now: datetime
) -> tuple[datetime | None, datetime | None]:
    """(the current resolution, the last reopen), both as of now."""
    resolved: datetime | None = None
    reopened: datetime | None = None
    for event in events:
        if event.kind == EventKind.RESOLVED:
            resolved = event.at
        elif event.kind == EventKind.REOPENED:
            resolved, reopened = None, event.at
    field_value = past(inc.resolved_at, now)
    if resolved is None and field_value and (reopened is None or field_value > reopened):
        resolved = field_value
    if resolved is None and not inc.is_open and len(events) == len(inc.timeline):
        resolved = past(inc.closed_at, now)
    return resolved, reopened


def judge(
    due: datetime, done_at: datetime | None, stop: datetime | None, now: datetime, done: bool
) -> str:
    if done or done_at is not None:
        return MET if done_at is None or done_at <= due else MISSED
    if stop is not None:
        return NOT_APPLICABLE if stop <= due else MISSED
    return PENDING if now <= due else OVERDUE


def timer(
    c: Case,
    rule: str,
    duration: Duration | None,
    start: datetime,
    done_at: datetime | None,
    stop: datetime | None,
    *,
    none: str,
    done: bool = False,
    subject: str | None = None,
    note: str = "",
) -> list[Deadline]:
    if duration is None:
        return [Deadline(rule, NOT_APPLICABLE, subject=subject, note=none)]
    due = c.after(start, duration)
    state = judge(due, done_at, stop, c.now, done)
    return [Deadline(rule, state, due, start, done_at, subject, note)]


def cadence(
    c: Case,
    rule: str,
    every: Duration | None,
    start: datetime,
    times: list[datetime],
    stop: datetime | None,
    *,
    none: str,
    note: str = "",
) -> list[Deadline]:
    """A repeating deadline: each update restarts the clock; one entry per interval."""
    if every is None:
        return [Deadline(rule, NOT_APPLICABLE, note=none)]
    out: list[Deadline] = []
    base = start
    for at in sorted(times):
        if at <= base or (stop is not None and at > stop):
            continue
        due = c.after(base, every)
        out.append(Deadline(rule, MET if at <= due else MISSED, due, base, at))
        base = at
    due = c.after(base, every)
    state = judge(due, None, stop, c.now, False)
    if state != NOT_APPLICABLE or not out:
        out.append(Deadline(rule, state, due, base, note=note))
    return out
