"""Deadlines and overdue findings: (incidents with their policies, runbooks, now) -> findings.

Pure: no files, no clock, no click. Every number comes from the policy passed with each
incident (the one in force when it was declared); the rules, their texts and who must act
live in `registry.py`.

Boundary semantics (tested in tests/test_timers.py):

* A deadline exactly at `now` is due, not overdue: `overdue` means now > due, so one second
  after the deadline. `overdue_seconds` is the whole seconds past due (0 while due-soon).
* `due-soon` is due - policy.sla.due_soon <= now <= due, both ends included.
* Done exactly at the deadline is met; one second later is missed.
* A rule that stops applying (resolved, mitigated, closed) at or before its deadline is
  not-applicable; stopping after the deadline leaves it missed.
* Everything is judged as of `now`: timeline events, escalations and lifecycle timestamps
  after `now` have not happened yet, and an incident detected after `now` does not exist.
* Reclassified to a higher priority: the stricter timers count from the reclassification
  event. Reclassified to a lower priority: the laxer timers keep counting from detection.
  Something done before the reclassification (an acknowledgement at 03:02 of a P1 raised to
  P0 at 03:06) is judged by the target in force when it was done (the P1's).
* Closed: closing an incident stops nothing that is still owed. The PIR clock runs until the
  review is approved, preventive actions until done or cancelled, regulatory clocks until
  the notification is recorded.
* Reopened: the resolution clock (resolve-target, resolve-sla, stakeholder-update,
  business-continuity, P0's executive notification, functional tiers) restarts at the
  `reopened` event.
* Snoozed: a timeline event kind `snoozed` with `rule` and `until` hides that rule's
  findings of that incident for at <= now < until; at `until` it is reported again.
* A date without a time (an action's due date, a runbook's last_tested) means the end of
  that day in UTC.
* Business days (`1bd`): see businessdays.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentctl.core.businessdays import advance
from incidentctl.core.model import ROOT_CAUSE_PATTERN, Incident, Priority, Runbook
from incidentctl.core.policy import PirRule, Policy
from incidentctl.core.timevalues import Duration, format_duration
from incidentctl.deadlines import reminders
from incidentctl.deadlines.case import (
    FINISHED_ACTION,
    MET,
    MISSED,
    NOT_APPLICABLE,
    OVERDUE,
    PENDING,
    Case,
    Deadline,
    PirState,
    Subject,
    action_id,
    action_status,
    end_of_day,
    iso,
    loose_time,
)
from incidentctl.deadlines.registry import (
    AFTER_CLOSING,
    BY_ID,
    INCIDENT_RULES,
    RANK,
    SNOOZABLE,
    Rule,
)

__all__ = [
    "DUE_SOON",
    "MET",
    "MISSED",
    "NOT_APPLICABLE",
    "OVERDUE",
    "PENDING",
    "SETTLING_FIELDS",
    "SNOOZABLE",
    "Deadline",
    "PirState",
    "Reminder",
    "Subject",
    "findings",
    "next_due",
    "pir_from_front",
    "reminder_key",
    "schedule",
    "settled_as_written",
    "settled_since",
    "urgency",
]

_ROOT_CAUSE = re.compile(ROOT_CAUSE_PATTERN)
DUE_SOON = "due-soon"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = datetime.max.replace(tzinfo=UTC)  # sorts a deadline without a due time last


@dataclass(frozen=True)
class Reminder:
    """Something due soon or overdue, who must act, and what the process says to do."""

    incident: str  # the incident ID; the runbook name for runbook-untested
    rule: str
    due: datetime | None  # None only for a runbook that was never tested
    state: str  # due-soon | overdue
    overdue_seconds: int
    who: list[str]
    message: str
    recommendation: str
    priority: Priority | None = None
    subject: str | None = None  # action ID, regulatory regime or runbook name
    related: list[str] = field(default_factory=list)  # the incidents of a major incident

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "rule": self.rule,
            "due": iso(self.due),
            "state": self.state,
            "overdue_seconds": self.overdue_seconds,
            "who": list(self.who),
            "message": self.message,
            "recommendation": self.recommendation,
            "priority": self.priority.value if self.priority else None,
            "subject": self.subject,
            "related": list(self.related),
        }


def reminder_key(f: Reminder, now: datetime, repeat_seconds: int | None) -> str:
    """The finding's breach and repeat slot: the key a reminder is posted and delivered once
    under, on the tracking issue and on every sink (reminders.breach_key)."""
    return reminders.breach_key(f.incident, f.rule, f.subject, f.due, f.state, now, repeat_seconds)


def pir_from_front(data: Mapping[str, Any]) -> PirState:
    """Read a PIR's front-matter loosely: status, approved_at, actions (a list of mappings),
    root_cause (a key, or None when it is not one)."""
    raw = data.get("actions")
    actions = tuple(a for a in raw if isinstance(a, Mapping)) if isinstance(raw, list) else ()
    key = data.get("root_cause")
    return PirState(
        approved=str(data.get("status") or "").strip().lower() == "approved",
        approved_at=loose_time(data.get("approved_at")),
        actions=actions,
        root_cause=key if isinstance(key, str) and _ROOT_CAUSE.match(key) else None,
    )


def schedule(
    incident: Incident,
    policy: Policy,
    now: datetime,
    *,
    pir: PirState | None = None,
    rules: Sequence[Rule] = INCIDENT_RULES,
) -> list[Deadline]:
    """Every deadline of one incident, past and future, as of `now`; only those of `rules`
    (from `registry.incident_rules`) when a reader needs just a few timers."""
    if incident.detected_at > now:
        return []
    case = Case(Subject(incident, policy, pir), now)
    out: list[Deadline] = []
    for rule in rules:
        for d in rule.deadlines(case):
            live = d.state in (PENDING, OVERDUE)
            until = case.snoozed_until(d.rule) if live else None
            out.append(d if until is None else d._replace(snoozed_until=until))
    return sorted(out, key=_order)


def _order(d: Deadline) -> tuple[datetime, int]:
    """Earliest due first (none last), then the registry's order."""
    return (d.due or _NEVER, RANK[d.rule])


def next_due(
    subjects: Iterable[Subject], policy: Policy, now: datetime, horizon: datetime
) -> datetime | None:
    """The earliest deadline from `now` on that is overdue by `horizon`: when a watcher must
    wake. One due exactly at `now` counts (it is overdue one second later)."""
    ahead = findings(subjects, [], policy, horizon, include_due_soon=False)
    return min((f.due for f in ahead if f.due is not None and f.due >= now), default=None)


def findings(
    subjects: Iterable[Subject],
    runbooks: Iterable[tuple[str, Runbook]],
    policy: Policy,
    now: datetime,
    *,
    include_due_soon: bool = True,
) -> list[Reminder]:
    """Everything overdue (and due soon) across the repository, most urgent first.

    `policy` is the current one: it judges runbooks and the major-incident count; each
    incident's own timers come from the policy in its Subject.
    """
    out: list[Reminder] = []
    open_cases: list[Case] = []
    for subject in subjects:
        if subject.incident.detected_at > now or _settled(subject, now):
            continue
        case = Case(subject, now)
        for rule in AFTER_CLOSING if case.finished else INCIDENT_RULES:
            for d in rule.deadlines(case):
                found = _finding(case, d)
                if found and case.snoozed_until(d.rule) is None:
                    out.append(found)
        if case.is_open:
            open_cases.append(case)
    out += _major(open_cases, policy, now)
    for name, runbook in runbooks:
        out += _runbook(name, runbook, policy, now)
    if not include_due_soon:
        out = [f for f in out if f.state == OVERDUE]
    return sorted(out, key=urgency)


def _settled(subject: Subject, now: datetime) -> bool:
    since = settled_since(subject)
    return since is not None and since <= now


def settled_since(subject: Subject) -> datetime | None:
    """From when no rule of the incident can fall due any more, at any later `now`: closed,
    its review approved or not owed, every preventive action finished and no regulatory
    clock. A cheap test that only answers when it is sure (None: judge it in full). What
    time can no longer change, so the results cache may keep it (`overdue`, `watch`)."""
    inc, pir = subject.incident, subject.pir
    owed = _owes_review(subject.policy.review.pir.get(inc.priority), pir)
    clocks = (inc.security_breach or inc.data_loss) and bool(subject.policy.sla.regulatory)
    return _settled_from(inc.closed_at, pir, owed=owed, clocks=clocks)


def settled_as_written(
    front: Mapping[str, Any], pir: PirState | None, policy: Policy | None
) -> datetime | None:
    """`settled_since` from the incident's front-matter as parsed, before (and without) its
    model is built, under the `policy` its `policy` field names (None: unknown): the
    pre-scan that spares `overdue` and `watch` validating the settled majority. It answers
    only when sure, never earlier than `settled_since` would: a priority that is not
    exactly one of P0-P3, or an unknown policy, counts as owing a review, and a breach or
    data-loss flag that is anything but absent or false as a regulatory clock. None: maybe
    open, judge it in full."""
    value = front.get("priority")
    priority = Priority(value) if isinstance(value, str) and value in _PRIORITIES else None
    owed = _owes_review(policy.review.pir.get(priority) if policy and priority else None, pir)
    flagged = any(front.get(flag, False) is not False for flag in ("security_breach", "data_loss"))
    return _settled_from(
        loose_time(front.get("closed_at")),
        pir,
        owed=owed or policy is None or priority is None,
        clocks=flagged,
    )


_PRIORITIES = frozenset(p.value for p in Priority)
# What `settled_as_written` reads of an incident, and the `policy` it is judged under: the
# front-matter fields a pre-scan must read (`documents.top_level`).
SETTLING_FIELDS = frozenset({"closed_at", "priority", "security_breach", "data_loss", "policy"})


def _owes_review(review: PirRule | None, pir: PirState | None) -> bool:
    """Whether a review is owed under the priority's PIR rule: a due time, and required
    or written anyway (the `pir-due` rule's own conditions)."""
    return review is not None and review.due is not None and bool(review.required or pir)


def _settled_from(
    closed_at: datetime | None, pir: PirState | None, *, owed: bool, clocks: bool
) -> datetime | None:
    """The one rule of "settled": closed, the review approved if `owed`, every preventive
    action finished, no regulatory clock (`clocks`) left; since the latest of the closing
    and the approval."""
    if closed_at is None or clocks:
        return None
    since = closed_at
    if owed:
        if not (pir and pir.approved):
            return None
        if pir.approved_at is not None:
            since = max(since, pir.approved_at)
    for action in pir.actions if pir else ():
        if action_status(action) not in FINISHED_ACTION:
            return None
    return since


def urgency(f: Reminder) -> tuple[int, int, int, datetime, str, str, str]:
    """Sort key: overdue first, live response before follow-up, P0 first, longest late first."""
    group = BY_ID[f.rule].group if f.rule in BY_ID else 0
    rank = f.priority.rank if f.priority else 9
    return (f.state != OVERDUE, group, rank, f.due or _EPOCH, f.incident, f.rule, f.subject or "")


def _state(due: datetime, lead: Duration | None, now: datetime) -> str | None:
    if now > due:
        return OVERDUE
    if due - (lead.timedelta if lead else timedelta(0)) <= now:
        return DUE_SOON
    return None


def _finding(c: Case, d: Deadline) -> Reminder | None:
    if d.due is None or d.state not in (PENDING, OVERDUE):
        return None
    state = _state(d.due, c.policy.sla.due_soon, c.now)
    if state is None:
        return None
    late = max(0, int((c.now - d.due).total_seconds()))
    text = reminders.render(d.rule, c.inc, c.priority, d, c.sla, _timing(d.due, c.now))
    who = reminders.who(d.rule, c.inc, c.policy, c.now)
    if d.rule == "action-due" and c.pir:
        owners = [
            a.get("owner")
            for i, a in enumerate(c.pir.actions, start=1)
            if action_id(i, a) == d.subject and a.get("owner")
        ]
        who = [str(owners[0])] if owners else who
    return Reminder(
        c.inc.id, d.rule, d.due, state, late, who, text[0], text[1], c.priority, d.subject
    )


def _timing(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "never done"
    seconds = (now - due).total_seconds()
    if seconds > 0:
        return f"overdue by {format_duration(seconds)} (due {iso(due)})"
    if seconds == 0:
        return f"due now ({iso(due)})"
    return f"due in {format_duration(-seconds)} ({iso(due)})"


def _major(cases: list[Case], policy: Policy, now: datetime) -> list[Reminder]:
    """Two or more P0, or three or more P1, open at once (thresholds from the policy)."""
    out: list[Reminder] = []
    for priority, threshold in sorted(policy.sla.major_incident.items()):
        members = sorted(
            (c for c in cases if c.priority == priority), key=lambda c: (c.since, c.inc.id)
        )
        if threshold < 1 or len(members) < threshold:
            continue
        if any(m.snoozed_until("major-incident") for m in members):
            continue
        tipping = members[threshold - 1]
        due = tipping.since
        ids = [m.inc.id for m in members]
        state = OVERDUE if now > due else DUE_SOON
        message, advice = reminders.major(priority, ids, _timing(due, now))
        who = reminders.who("major-incident", tipping.inc, policy, now)
        for member in members:
            who += [
                p for p in reminders.who("major-incident", member.inc, policy, now) if p not in who
            ]
        late = max(0, int((now - due).total_seconds()))
        out.append(
            Reminder(
                tipping.inc.id,
                "major-incident",
                due,
                state,
                late,
                who,
                message,
                advice,
                priority,
                None,
                ids,
            )
        )
    return out


def _runbook(name: str, runbook: Runbook, policy: Policy, now: datetime) -> list[Reminder]:
    limit = policy.review.runbook_max_untested
    if limit is None:
        return []
    due = (
        advance(end_of_day(runbook.last_tested), limit, policy.sla.business_days)
        if runbook.last_tested
        else None
    )
    state = OVERDUE if due is None else _state(due, policy.sla.due_soon, now)
    if state is None:
        return []
    late = 0 if due is None else max(0, int((now - due).total_seconds()))
    message, advice = reminders.runbook(name, runbook, limit, _timing(due, now))
    return [
        Reminder(
            name, "runbook-untested", due, state, late, [runbook.owner], message, advice, None, name
        )
    ]
