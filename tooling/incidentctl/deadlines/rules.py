"""Per-incident deadline rules: one incident as it stood at `now` -> its deadlines.

Each rule follows the process of DESIGN.md section 3 from the right starting point and
stops when the thing is done or no longer makes sense. The boundary semantics are written
down in timers.py, the public face of this module. Pure: no files, no clock, no click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from incidentctl.core.businessdays import advance
from incidentctl.core.model import EscalationKind, EventKind, Incident, Priority, Status
from incidentctl.core.policy import FunctionalTimers, Policy, PrioritySla
from incidentctl.core.timevalues import Duration, TimeValueError, parse_date, parse_timestamp

MET, MISSED, PENDING, OVERDUE = "met", "missed", "pending", "overdue"
NOT_APPLICABLE = "not-applicable"
# "P0 notifies management within 30 min of detection, always" (DESIGN.md section 3);
# for other priorities the management notification is owed only while unresolved.
_UNCONDITIONAL_MANAGEMENT = frozenset({Priority.P0})
_PRIORITY_EVENTS = (EventKind.DECLARED, EventKind.TRIAGED, EventKind.RECLASSIFIED)


@dataclass(frozen=True)
class Pir:
    """What the timers need from a PIR document (read loosely: PIRs are not modelled yet)."""

    approved: bool = False
    approved_at: datetime | None = None
    actions: tuple[Mapping[str, Any], ...] = ()
    root_cause: str | None = None  # the key incidents share when they recur


@dataclass(frozen=True)
class Subject:
    """One incident, the policy it was declared under, and its PIR if one exists."""

    incident: Incident
    policy: Policy
    pir: Pir | None = None


@dataclass(frozen=True)
class Deadline:
    """One deadline of one incident, as `deadlines` shows it."""

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


def action_id(index: int, action: Mapping[str, Any]) -> str:
    """An action's `id`, or `action-N` (1-based) when it has none."""
    return str(action.get("id") or f"action-{index}")


def _first(times: Iterable[datetime | None]) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


class Case:
    """One incident as it stood at `now`: the facts every rule reads."""

    def __init__(self, subject: Subject, now: datetime) -> None:
        inc = self.inc = subject.incident
        self.policy, self.pir, self.now = subject.policy, subject.pir, now
        events = [e for e in inc.timeline if e.at <= now]
        self.events = events
        self.priority, self.anchor, self.since = _priority_view(inc, events)
        self.sla = subject.policy.sla.priorities.get(self.priority) or PrioritySla()
        self.functional = (
            subject.policy.escalation.functional.get(self.priority) or FunctionalTimers()
        )
        self.resolved, reopened = _resolution(inc, events, now)
        self.closed = _past(inc.closed_at, now)
        if self.closed is None and inc.status == Status.CLOSED and len(events) == len(inc.timeline):
            self.closed = self.resolved or inc.detected_at  # closed without closed_at
        self.restart = max(self.anchor, reopened) if reopened else self.anchor
        self.acknowledged = _past(inc.acknowledged_at, now)
        self.triaged = _past(inc.triaged_at, now)
        self.engaged = _past(inc.engaged_at, now)
        mitigations = [e.at for e in events if e.kind == EventKind.MITIGATED] or [
            t for t in (_past(inc.mitigated_at, now),) if t
        ]
        self.mitigated = _first(t for t in mitigations if reopened is None or t >= reopened)
        self.escalated: dict[EscalationKind, datetime] = {}
        for esc in sorted(inc.escalations, key=lambda e: e.at):
            if esc.at <= now:
                self.escalated.setdefault(esc.kind, esc.at)
        tier3 = self.escalated.get(EscalationKind.TIER_3)
        self.tier2 = _first((self.escalated.get(EscalationKind.TIER_2), tier3))
        self.tier3 = tier3
        if self.tier2 is None and inc.tier >= 2 and not inc.escalations:
            self.tier2 = inc.detected_at  # hand-written file without escalation records
        self.updates = [e.at for e in events if e.kind == EventKind.UPDATE]
        self.public_updates = [e.at for e in events if e.kind == EventKind.UPDATE and e.public]
        self.stop = self.resolved or self.closed  # response timers end at resolution
        self.functional_stop = _first((self.mitigated, self.stop))

    @property
    def is_open(self) -> bool:
        return self.stop is None

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


def _past(value: datetime | None, now: datetime) -> datetime | None:
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
    field_value = _past(inc.resolved_at, now)
    if resolved is None and field_value and (reopened is None or field_value > reopened):
        resolved = field_value
    if resolved is None and not inc.is_open and len(events) == len(inc.timeline):
        resolved = _past(inc.closed_at, now)
    return resolved, reopened


def _judge(
    due: datetime, done_at: datetime | None, stop: datetime | None, now: datetime, done: bool
) -> str:
    if done or done_at is not None:
        return MET if done_at is None or done_at <= due else MISSED
    if stop is not None:
        return NOT_APPLICABLE if stop <= due else MISSED
    return PENDING if now <= due else OVERDUE


def _timer(
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
    state = _judge(due, done_at, stop, c.now, done)
    return [Deadline(rule, state, due, start, done_at, subject, note)]


def _cadence(
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
    state = _judge(due, None, stop, c.now, False)
    if state != NOT_APPLICABLE or not out:
        out.append(Deadline(rule, state, due, base, note=note))
    return out


def _hierarchical(c: Case) -> list[Deadline]:
    h = c.policy.escalation.hierarchical
    p = c.priority
    stop = c.closed if p in _UNCONDITIONAL_MANAGEMENT else c.stop
    executive = c.escalated.get(EscalationKind.EXECUTIVE)
    flagged = c.flag_delay()
    out = _timer(
        c,
        "notify-management",
        h.management.get(p),
        c.anchor,
        c.escalated.get(EscalationKind.MANAGEMENT),
        stop,
        none=f"no management notification timer for {p}",
    )
    if flagged is not None:  # a breach or data loss: executives at once, resolved or not
        out += _timer(
            c,
            "notify-executive",
            flagged,
            c.inc.detected_at,
            executive,
            c.closed,
            none="",
            note="security breach or data loss",
        )
    else:
        out += _timer(
            c,
            "notify-executive",
            h.executive.get(p.value),
            c.restart,
            executive,
            c.stop,
            none=f"no executive timer for {p} (no breach or data loss)",
        )
    out += _timer(
        c,
        "notify-security",
        flagged,
        c.inc.detected_at,
        c.escalated.get(EscalationKind.SECURITY),
        c.closed,
        none="no security breach or data loss flagged",
    )
    if not c.inc.public:
        out.append(
            Deadline(
                "status-page-first-update",
                NOT_APPLICABLE,
                note="not public: never on the status page unless released",
            )
        )
    else:
        out += _timer(
            c,
            "status-page-first-update",
            h.status_page.get(p),
            c.anchor,
            _first(c.public_updates),
            c.stop,
            none=f"no status-page timer for {p}",
        )
    return out


def _functional(c: Case) -> list[Deadline]:
    f, stop = c.functional, c.functional_stop
    out = _timer(
        c,
        "escalate-tier-2",
        f.tier_2,
        c.restart,
        c.tier2,
        stop,
        none=f"no functional escalation for {c.priority}",
    )
    if f.tier_3 is None or c.tier2 is None:
        note = "starts when tier 2 is engaged" if f.tier_3 else f"no tier 3 timer for {c.priority}"
        out.append(Deadline("escalate-tier-3", NOT_APPLICABLE, note=note))
    else:
        out += _timer(
            c, "escalate-tier-3", f.tier_3, max(c.tier2, c.restart), c.tier3, stop, none=""
        )
    if f.management is None or c.tier3 is None:
        note = "starts when tier 3 is engaged" if f.management else "no tier 3 -> management timer"
        out.append(Deadline("escalate-management", NOT_APPLICABLE, note=note))
    else:
        out += _timer(
            c,
            "escalate-management",
            f.management,
            max(c.tier3, c.restart),
            c.escalated.get(EscalationKind.MANAGEMENT),
            stop,
            none="",
        )
    return out


def _response(c: Case) -> list[Deadline]:
    p, sla, detected = c.priority, c.sla, c.inc.detected_at
    out = _timer(
        c,
        "acknowledge",
        sla.acknowledge,
        c.anchor,
        c.acknowledged,
        c.stop,
        none=f"no acknowledgement timer for {p}",
    )
    out += _timer(
        c, "triage", c.policy.sla.triage, detected, c.triaged, c.stop, none="no triage SLA"
    )
    out += _timer(
        c, "engage", sla.engage, c.anchor, c.engaged, c.stop, none=f"no engagement timer for {p}"
    )
    return out


def _resolution_rules(c: Case) -> list[Deadline]:
    sla, p = c.sla, c.priority
    out = _cadence(
        c,
        "status-update",
        sla.status_update_every,
        c.restart,
        c.updates,
        c.stop,
        none=f"status updates as needed for {p}",
    )
    if sla.resolve_target is None or (
        sla.resolve_breach is not None
        and c.after(c.restart, sla.resolve_target) >= c.after(c.restart, sla.resolve_breach)
    ):
        note = "same as the SLA (resolve-sla)" if sla.resolve_target else f"no target for {p}"
        out.append(Deadline("resolve-target", NOT_APPLICABLE, note=note))
    else:
        out += _timer(c, "resolve-target", sla.resolve_target, c.restart, c.resolved, None, none="")
    out += _timer(
        c,
        "resolve-sla",
        sla.resolve_breach,
        c.restart,
        c.resolved,
        None,
        none=f"no resolution SLA for {p} (backlog)",
    )
    if sla.resolve_breach is None or sla.stakeholder_update_every is None:
        out.append(
            Deadline("stakeholder-update", NOT_APPLICABLE, note=f"no stakeholder cadence for {p}")
        )
    else:
        breach = c.after(c.restart, sla.resolve_breach)
        out += _cadence(
            c,
            "stakeholder-update",
            sla.stakeholder_update_every,
            breach,
            c.updates,
            c.stop,
            none="",
            note="from the SLA breach while unresolved",
        )
    out += _timer(
        c,
        "business-continuity",
        sla.business_continuity_after,
        c.restart,
        None,
        c.stop,
        none=f"no business-continuity trigger for {p}",
    )
    return out


def _regulatory(c: Case) -> list[Deadline]:
    clocks = c.policy.sla.regulatory
    if not clocks or not (c.inc.security_breach or c.inc.data_loss):
        why = "no regulatory clock configured" if not clocks else "no breach or loss flagged"
        return [Deadline("regulatory-deadline", NOT_APPLICABLE, note=why)]
    out: list[Deadline] = []
    for name, duration in sorted(clocks.items()):
        marks = ("regulatory-deadline", f"regulatory-deadline:{name}")
        done = _first(e.at for e in c.events if e.rule in marks and e.kind != EventKind.SNOOZED)
        out += _timer(
            c,
            "regulatory-deadline",
            duration,
            c.inc.detected_at,
            done,
            None,
            none=f"{name}: no duration",
            subject=name,
        )
    return out


def _pir(c: Case) -> list[Deadline]:
    rule = c.policy.review.pir.get(c.priority)
    if rule is None or rule.due is None:
        return [Deadline("pir-due", NOT_APPLICABLE, note=f"no PIR for {c.priority}")]
    if not rule.required and c.pir is None:
        return [Deadline("pir-due", NOT_APPLICABLE, note=f"optional for {c.priority}")]
    if c.resolved is None:
        return [Deadline("pir-due", NOT_APPLICABLE, note=f"due {rule.due} after resolution")]
    pir = c.pir or Pir()
    done_at = _past(pir.approved_at, c.now)
    done = pir.approved and (pir.approved_at is None or done_at is not None)
    return _timer(c, "pir-due", rule.due, c.resolved, done_at, c.closed, none="", done=done)


def _actions(c: Case) -> list[Deadline]:
    if c.pir is None or not c.pir.actions:
        return [Deadline("action-due", NOT_APPLICABLE, note="no preventive actions recorded")]
    out: list[Deadline] = []
    for index, action in enumerate(c.pir.actions, start=1):
        name = action_id(index, action)
        title = str(action.get("title") or "")
        status = str(action.get("status") or "").strip().lower()
        if status == "cancelled":
            out.append(Deadline("action-due", NOT_APPLICABLE, subject=name, note="cancelled"))
            continue
        done = status == "done"
        done_at = loose_time(action.get("done_at")) if done else None
        due = loose_time(action.get("due"))
        horizon = c.policy.review.action_horizons.get(str(action.get("horizon") or ""))
        if due is None and horizon is not None and c.pir.approved_at is not None:
            due = c.after(c.pir.approved_at, horizon)
        if due is None:
            out.append(Deadline("action-due", NOT_APPLICABLE, subject=name, note="no due date"))
            continue
        state = _judge(due, done_at, None, c.now, done)
        out.append(Deadline("action-due", state, due, None, done_at, name, title))
    return out


_Rule = Callable[[Case], list[Deadline]]
INCIDENT_RULES: tuple[_Rule, ...] = (
    _response,
    _functional,
    _hierarchical,
    _resolution_rules,
    _regulatory,
    _pir,
    _actions,
)
AFTER_CLOSE: tuple[_Rule, ...] = (_regulatory, _actions)  # they outlive the incident
