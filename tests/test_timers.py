"""The timer engine, called directly on Incident objects: every rule on both sides of its
deadline, reclassification, reopen, snooze, business days, major incidents, old policies,
and a minute-by-minute replay of the sample P0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentctl.core.businessdays import add_business_days
from incidentctl.core.documents import load_yaml
from incidentctl.core.errors import IncidentctlError, TransitionError
from incidentctl.core.model import (
    Escalation,
    EscalationKind,
    EventKind,
    Incident,
    Level,
    Priority,
    Roles,
    Runbook,
    Status,
    TimelineEvent,
)
from incidentctl.core.policy import POLICY_FILES, BusinessDays, Policy, assemble, default_text
from incidentctl.core.timevalues import Duration, parse_date, parse_timestamp
from incidentctl.deadlines import registry, snoozes, timers
from incidentctl.deadlines.case import OVERDUE, PENDING, Case

T = parse_timestamp
D = T("2026-11-25T10:00:00Z")  # a Wednesday
S = timedelta(seconds=1)
P0, P1, P2, P3 = Priority.P0, Priority.P1, Priority.P2, Priority.P3


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def default_policy() -> Policy:
    sections = {n: load_yaml(Path(f"{n}.yaml"), default_text(n)) or {} for n in POLICY_FILES}
    return Policy.model_validate(assemble(sections))


POLICY = default_policy()


def with_changes(change: Callable[[Policy], None]) -> Policy:
    policy = POLICY.model_copy(deep=True)
    change(policy)
    return policy


def event(at: datetime, kind: EventKind, **fields: Any) -> TimelineEvent:
    return TimelineEvent(at=at, kind=kind, text=kind.value, **fields)


def incident(declared: Priority, *events: TimelineEvent, **fields: Any) -> Incident:
    """An incident declared at D with priority `declared`, plus events and fields."""
    timeline = [event(D, EventKind.DECLARED, priority=declared), *events]
    data: dict[str, Any] = {
        "id": fields.pop("id", "INC-20261125-TEST"),
        "title": "Checkout returns 502",
        "impact": Level.HIGH,
        "urgency": Level.HIGH,
        "priority": fields.pop("priority", declared),
        "detected_at": D,
        "services": ["checkout-api"],
        "timeline": timeline,
        **fields,
    }
    return Incident(**data)


def found(
    subject: Incident | timers.Subject,
    now: datetime,
    rule: str | None = None,
    *,
    policy: Policy = POLICY,
    pir: timers.PirState | None = None,
) -> list[timers.Reminder]:
    if isinstance(subject, Incident):
        subject = timers.Subject(subject, policy, pir)
    out = timers.findings([subject], [], policy, now)
    return [f for f in out if rule is None or f.rule == rule]


def state(
    inc: Incident, now: datetime, rule: str, *, policy: Policy = POLICY, pir: Any = None
) -> str | None:
    hits = found(inc, now, rule, policy=policy, pir=pir)
    assert len(hits) <= 1, hits
    return hits[0].state if hits else None


# -- every rule, every priority, both sides of the deadline ---------------------------------

R = D + m(30)  # resolution time used by the PIR cases
GDPR = with_changes(lambda p: p.sla.regulatory.update({"gdpr": Duration.parse("72h")}))
ACTIONS = timers.PirState(
    actions=({"id": "A-1", "title": "Canary", "owner": "@o", "due": "2026-12-01"},)
)
ESC2 = Escalation(at=D + m(10), kind=EscalationKind.TIER_2)
ESC3 = Escalation(at=D + m(20), kind=EscalationKind.TIER_3)


def fresh(p: Priority) -> Incident:
    return incident(p)


def in_tier_2(p: Priority) -> Incident:
    return incident(p, event(ESC2.at, EventKind.ESCALATED, tier=2), tier=2, escalations=[ESC2])


def in_tier_3(p: Priority) -> Incident:
    events = (
        event(ESC2.at, EventKind.ESCALATED, tier=2),
        event(ESC3.at, EventKind.ESCALATED, tier=3),
    )
    return incident(p, *events, tier=3, escalations=[ESC2, ESC3])


def breached(p: Priority) -> Incident:
    return incident(p, security_breach=True, category="security", public=False)


def lost_data(p: Priority) -> Incident:
    return incident(p, data_loss=True, category="data-integrity")


def updated(p: Priority) -> Incident:
    return incident(p, event(D + m(5), EventKind.UPDATE))


def resolved(p: Priority) -> Incident:
    return incident(p, event(R, EventKind.RESOLVED), status=Status.RESOLVED, resolved_at=R)


def closed(p: Priority) -> Incident:
    events = (event(R, EventKind.RESOLVED), event(R + m(5), EventKind.CLOSED))
    return incident(p, *events, status=Status.CLOSED, resolved_at=R, closed_at=R + m(5))


Build = Callable[[Priority], Incident]
DAY2 = T("2026-11-26T10:00:00Z")  # 1 business day after Wednesday 10:00
EOD = T("2026-12-02T00:00:00Z")  # end of the action's due day
# rule, builder, due per priority (None: the rule does not apply), policy, PIR
CASES: list[tuple[str, Build, dict[Priority, datetime | None], Policy, timers.PirState | None]] = [
    ("acknowledge", fresh, {P0: D + m(1), P1: D + m(5), P2: D + m(30), P3: DAY2}, POLICY, None),
    ("triage", fresh, dict.fromkeys((P0, P1, P2, P3), D + m(15)), POLICY, None),
    ("engage", fresh, {P0: D + m(15), P1: D + m(30), P2: D + h(4), P3: None}, POLICY, None),
    (
        "escalate-tier-2",
        fresh,
        {P0: D + m(15), P1: D + m(30), P2: D + h(2), P3: None},
        POLICY,
        None,
    ),
    (
        "escalate-tier-3",
        in_tier_2,
        {P0: ESC2.at + m(30), P1: ESC2.at + h(1), P2: ESC2.at + h(8), P3: None},
        POLICY,
        None,
    ),
    (
        "escalate-management",
        in_tier_3,
        {P0: ESC3.at + h(1), P1: ESC3.at + h(2), P2: None, P3: None},
        POLICY,
        None,
    ),
    ("notify-management", fresh, {P0: D + m(30), P1: D + h(2), P2: None, P3: None}, POLICY, None),
    ("notify-executive", fresh, {P0: D + h(2), P1: None, P2: None, P3: None}, POLICY, None),
    ("notify-executive", breached, dict.fromkeys((P0, P1, P2, P3), D), POLICY, None),
    ("notify-security", lost_data, dict.fromkeys((P0, P1, P2, P3), D), POLICY, None),
    ("notify-security", fresh, dict.fromkeys((P0, P1, P2, P3)), POLICY, None),
    (
        "status-page-first-update",
        fresh,
        {P0: D + m(30), P1: D + h(1), P2: None, P3: None},
        POLICY,
        None,
    ),
    ("status-page-first-update", breached, dict.fromkeys((P0, P1, P2, P3)), POLICY, None),
    (
        "status-update",
        updated,
        {P0: D + m(20), P1: D + m(35), P2: D + m(5) + h(24), P3: None},
        POLICY,
        None,
    ),
    (
        "stakeholder-update",
        fresh,
        {P0: D + h(2.5), P1: D + h(5), P2: None, P3: None},
        POLICY,
        None,
    ),
    ("resolve-target", fresh, {P0: D + h(1), P1: None, P2: None, P3: None}, POLICY, None),
    ("resolve-sla", fresh, {P0: D + h(2), P1: D + h(4), P2: D + h(24), P3: None}, POLICY, None),
    ("business-continuity", fresh, {P0: D + h(4), P1: D + h(8), P2: None, P3: None}, POLICY, None),
    ("regulatory-deadline", breached, dict.fromkeys((P0, P1, P2, P3), D + h(72)), GDPR, None),
    ("regulatory-deadline", fresh, dict.fromkeys((P0, P1, P2, P3)), GDPR, None),
    ("pir-due", resolved, {P0: R + h(24), P1: R + h(48), P2: None, P3: None}, POLICY, None),
    (
        "pir-due",
        resolved,
        {P0: R + h(24), P1: R + h(48), P2: R + h(168), P3: None},
        POLICY,
        timers.PirState(),
    ),
    ("action-due", closed, dict.fromkeys((P0, P1, P2, P3), EOD), POLICY, ACTIONS),
]
TABLE = [
    pytest.param(rule, build, p, due, policy, pir, id=f"{rule}-{build.__name__}-{p}")
    for rule, build, dues, policy, pir in CASES
    for p, due in dues.items()
]


@pytest.mark.parametrize(("rule", "build", "priority", "due", "policy", "pir"), TABLE)
def test_every_rule_at_its_boundary(
    rule: str,
    build: Build,
    priority: Priority,
    due: datetime | None,
    policy: Policy,
    pir: timers.PirState | None,
) -> None:
    inc = build(priority)
    if due is None:
        for later in (D, D + m(1), D + h(1), D + h(9), D + timedelta(days=10)):
            assert state(inc, later, rule, policy=policy, pir=pir) is None, later
        return
    before = None if due - S < D else "due-soon"  # a 0m timer: before detection, no incident
    assert state(inc, due - S, rule, policy=policy, pir=pir) == before
    assert state(inc, due, rule, policy=policy, pir=pir) == "due-soon"  # due, not overdue
    assert state(inc, due + S, rule, policy=policy, pir=pir) == "overdue"
    (late,) = found(inc, due + S, rule, policy=policy, pir=pir)
    assert late.overdue_seconds == 1
    assert late.due == due
    assert late.as_dict()["due"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert late.priority == priority
    assert late.who, "someone must act"
    assert late.message
    assert late.recommendation


def test_due_soon_starts_at_the_policy_lead_time() -> None:
    lead10 = with_changes(lambda p: setattr(p.sla, "due_soon", Duration.parse("10m")))
    inc = incident(P2)  # acknowledge due D+30m
    assert state(inc, D + m(20) - S, "acknowledge", policy=lead10) is None
    assert state(inc, D + m(20), "acknowledge", policy=lead10) == "due-soon"
    assert state(inc, D + m(25) - S, "acknowledge") is None
    assert state(inc, D + m(25), "acknowledge") == "due-soon"


def test_done_stops_the_timer_and_exactly_on_time_is_met() -> None:
    inc = incident(P1, event(D + m(5), EventKind.ACKNOWLEDGED), acknowledged_at=D + m(5))
    assert state(inc, D + h(1), "acknowledge") is None
    ack = [d for d in timers.schedule(inc, POLICY, D + h(1)) if d.rule == "acknowledge"]
    assert [(d.state, d.done_at) for d in ack] == [("met", D + m(5))]
    late = incident(P1, event(D + m(5) + S, EventKind.ACKNOWLEDGED), acknowledged_at=D + m(6))
    assert [
        d.state for d in timers.schedule(late, POLICY, D + h(1)) if d.rule == "acknowledge"
    ] == ["missed"]
    # facts after `now` have not happened yet
    assert state(inc, D + m(5) - S, "acknowledge") == "due-soon"


def test_resolution_stops_response_timers_but_not_actions() -> None:
    inc = closed(P0)
    later = R + timedelta(days=30)
    approved = replace(ACTIONS, approved=True, approved_at=R + timedelta(hours=2))
    assert {f.rule for f in found(inc, later, pir=approved)} == {"action-due"}
    done = replace(approved, actions=({**ACTIONS.actions[0], "status": "done"},))
    assert found(inc, later, pir=done) == []
    # a draft review is still owed after the incident is closed
    assert {f.rule for f in found(inc, later, pir=ACTIONS)} == {"action-due", "pir-due"}
    (hit,) = found(inc, later, pir=approved)
    assert (hit.subject, hit.who) == ("A-1", ["@o"])
    action = {"owner": "@x", "due": "2026-12-01", "done_at": "2026-11-30"}
    unnamed = replace(approved, actions=(action,))
    (hit,) = found(inc, later, pir=unnamed)  # done_at without status done is not done
    assert (hit.subject, hit.who) == ("action-1", ["@x"])


def test_closing_an_incident_does_not_silence_its_pir() -> None:
    """A P0 resolved and closed with no PIR: not due yet for 24 h, then overdue."""
    inc = closed(P0)
    assert inc.resolved_at is not None
    due = inc.resolved_at + timedelta(hours=24)
    (entry,) = [d for d in timers.schedule(inc, POLICY, due) if d.rule == "pir-due"]
    assert (entry.state, entry.due) == ("pending", due)
    assert found(inc, due - timedelta(hours=1)) == []
    (late,) = found(inc, due + timedelta(hours=1))
    assert (late.rule, late.state, late.overdue_seconds) == ("pir-due", "overdue", 3600)


def test_pir_approved_stops_the_clock() -> None:
    inc = resolved(P0)
    approved = timers.pir_from_front({"status": "approved", "approved_at": "2026-11-26T09:00:00Z"})
    assert state(inc, R + h(30), "pir-due", pir=approved) is None
    (d,) = [d for d in timers.schedule(inc, POLICY, R + h(30), pir=approved) if d.rule == "pir-due"]
    assert d.state == "met"
    draft = timers.pir_from_front({"status": "draft", "actions": "not a list"})
    assert draft == timers.PirState()
    assert state(inc, R + h(30), "pir-due", pir=draft) == "overdue"


# -- reclassification, reopen, snooze -------------------------------------------------------


def test_reclassified_upwards_gets_the_stricter_timers_from_then() -> None:
    at = D + m(20)
    inc = incident(P2, event(at, EventKind.RECLASSIFIED, priority=P0), priority=P0)
    assert state(inc, at - S, "acknowledge") is None  # still P2 then: due D+30m, not soon
    assert state(inc, at + m(1), "acknowledge") == "due-soon"
    assert state(inc, at + m(1) + S, "acknowledge") == "overdue"
    assert found(inc, at + m(1) + S, "acknowledge")[0].priority == P0
    assert state(inc, at + h(2), "resolve-sla") == "due-soon"
    assert state(inc, at + h(2) + S, "resolve-sla") == "overdue"
    assert state(inc, D + m(15) + S, "triage") == "overdue"  # triage does not move


def test_reclassified_downwards_keeps_counting_from_detection() -> None:
    inc = incident(P0, event(D + m(10), EventKind.TRIAGED, priority=P2), priority=P2)
    assert state(inc, D + m(5), "acknowledge") == "overdue"  # still P0 then: due D+1m
    assert state(inc, D + m(10), "acknowledge") is None  # P2: due D+30m, from detection
    assert state(inc, D + m(30), "acknowledge") == "due-soon"
    assert state(inc, D + m(30) + S, "acknowledge") == "overdue"


def test_reopen_restarts_the_resolution_clock() -> None:
    reopened = D + h(3)
    inc = incident(
        P0,
        event(D + m(1), EventKind.ACKNOWLEDGED),
        event(D + m(50), EventKind.RESOLVED),
        event(reopened, EventKind.REOPENED),
        acknowledged_at=D + m(1),
        status=Status.INVESTIGATING,
    )
    assert state(inc, reopened - S, "resolve-sla") is None  # resolved at that time
    assert state(inc, reopened + h(2), "resolve-sla") == "due-soon"
    assert state(inc, reopened + h(2) + S, "resolve-sla") == "overdue"
    assert state(inc, reopened + h(1) + S, "resolve-target") == "overdue"
    assert state(inc, reopened + h(1) + S, "pir-due") is None  # open again: no PIR clock
    assert state(inc, reopened + m(15), "status-update") == "due-soon"  # cadence restarts too
    assert state(inc, reopened + m(15) + S, "status-update") == "overdue"


def acknowledgement_snoozed() -> Incident:
    """A fresh P0 whose acknowledgement is snoozed at D+2m for 15 minutes, on the bridge."""
    return snoozes.snooze(
        incident(P0),
        policy=POLICY,
        rule="acknowledge",
        duration="15m",
        reason="on the bridge",
        at=D + m(2),
        now=D + m(2),
        by="@a",
    )


def test_snooze_hides_a_rule_until_it_ends() -> None:
    snoozed = acknowledgement_snoozed()
    until = D + m(17)
    assert snoozed.timeline[-1].kind == EventKind.SNOOZED
    assert (snoozed.timeline[-1].rule, snoozed.timeline[-1].until) == ("acknowledge", until)
    assert state(snoozed, D + m(2) - S, "acknowledge") == "overdue"  # before the snooze
    assert state(snoozed, until - S, "acknowledge") is None
    assert state(snoozed, until, "acknowledge") == "overdue"
    assert state(snoozed, until - S, "triage") == "overdue"  # other rules still report
    (d,) = [d for d in timers.schedule(snoozed, POLICY, until - S) if d.rule == "acknowledge"]
    assert d.snoozed_until == until


@pytest.mark.parametrize(
    ("rule", "duration", "message"),
    [
        ("acknowledge", "16m", "P0 reminders can be snoozed for at most 15m, not 16m"),
        ("acknowlege", "5m", "unknown rule 'acknowlege'"),
        ("runbook-untested", "5m", "runbook-untested is about a runbook"),
        ("acknowledge", "0m", "a snooze must last longer than zero"),
        ("acknowledge", "soon", "'soon' is not a duration"),
    ],
)
def test_snooze_refusals(rule: str, duration: str, message: str) -> None:
    with pytest.raises(TransitionError) as err:
        snoozes.snooze(
            incident(P0),
            policy=POLICY,
            rule=rule,
            duration=duration,
            reason=None,
            at=D + m(1),
            now=D + m(1),
            by=None,
        )
    assert err.value.message.startswith(message)
    if rule == "acknowlege":
        assert err.value.hint == "did you mean acknowledge?"


def test_snoozes_do_not_stack_and_closed_incidents_cannot_be_snoozed() -> None:
    once = snoozes.snooze(
        incident(P0),
        policy=POLICY,
        rule="engage",
        duration="15m",
        reason=None,
        at=D + m(1),
        now=D + m(1),
        by=None,
    )
    with pytest.raises(TransitionError, match="already snoozed until 2026-11-25T10:16:00Z"):
        snoozes.snooze(
            once,
            policy=POLICY,
            rule="engage",
            duration="5m",
            reason=None,
            at=D + m(2),
            now=D + m(2),
            by=None,
        )
    with pytest.raises(TransitionError, match="cannot snooze"):
        snoozes.snooze(
            closed(P0),
            policy=POLICY,
            rule="action-due",
            duration="5m",
            reason=None,
            at=R + h(1),
            now=R + h(1),
            by=None,
        )


# -- business days ---------------------------------------------------------------------------

WEEK = BusinessDays()


@pytest.mark.parametrize(
    ("start", "days", "expected", "config"),
    [
        ("2026-11-27T16:00:00Z", 1, "2026-11-30T16:00:00Z", WEEK),  # Fri -> Mon
        ("2026-11-28T10:00:00Z", 1, "2026-12-01T00:00:00Z", WEEK),  # Sat: end of Monday
        ("2026-11-29T23:59:59Z", 1, "2026-12-01T00:00:00Z", WEEK),  # Sun
        ("2026-11-25T10:00:00Z", 3, "2026-11-30T10:00:00Z", WEEK),  # Wed + 3 = Mon
        (
            "2026-11-27T16:00:00Z",
            1,
            "2026-12-01T16:00:00Z",
            BusinessDays(holidays=[parse_date("2026-11-30")]),
        ),
        (  # counted in Berlin: Friday 23:30 there is Friday 22:30Z
            "2026-11-27T22:30:00Z",
            1,
            "2026-11-30T22:30:00Z",
            BusinessDays(timezone="Europe/Berlin"),
        ),
        (  # Saturday 00:30 in Berlin: Tuesday 00:00 Berlin = Monday 23:00Z
            "2026-11-27T23:30:00Z",
            1,
            "2026-11-30T23:00:00Z",
            BusinessDays(timezone="Europe/Berlin"),
        ),
    ],
)
def test_business_days(start: str, days: int, expected: str, config: BusinessDays) -> None:
    assert add_business_days(T(start), days, config) == T(expected)


def test_p3_acknowledgement_across_a_weekend() -> None:
    friday = T("2026-11-27T16:00:00Z")
    inc = incident(
        P3, detected_at=friday, timeline=[event(friday, EventKind.DECLARED, priority=P3)]
    )
    monday = T("2026-11-30T16:00:00Z")
    assert state(inc, monday - m(5) - S, "acknowledge") is None
    assert state(inc, monday - S, "acknowledge") == "due-soon"
    assert state(inc, monday, "acknowledge") == "due-soon"
    assert state(inc, monday + S, "acknowledge") == "overdue"


def test_bad_business_day_policy_is_a_user_error() -> None:
    with pytest.raises(IncidentctlError, match="unknown timezone 'Mars/Base'"):
        add_business_days(D, 1, BusinessDays(timezone="Mars/Base"))
    with pytest.raises(IncidentctlError, match="'someday' is not a weekday"):
        add_business_days(D, 1, BusinessDays(weekdays=["mon", "someday"]))


# -- across incidents ------------------------------------------------------------------------


def _open(priority: Priority, minute: int, suffix: str) -> timers.Subject:
    at = D + m(minute)
    inc = incident(
        priority,
        id=f"INC-20261125-{suffix}",
        detected_at=at,
        timeline=[event(at, EventKind.DECLARED, priority=priority)],
    )
    return timers.Subject(inc, POLICY)


def _major(subjects: list[timers.Subject], now: datetime) -> list[timers.Reminder]:
    return [f for f in timers.findings(subjects, [], POLICY, now) if f.rule == "major-incident"]


def test_major_incident_two_p0_or_three_p1() -> None:
    a, b = _open(P0, 0, "AAAA"), _open(P0, 30, "BBBB")
    assert _major([a], D + h(1)) == []
    assert _major([a, b], D + m(30) - S) == []  # the second did not exist yet
    (hit,) = _major([a, b], D + m(30))
    assert (hit.state, hit.incident, hit.related) == (
        "due-soon",
        "INC-20261125-BBBB",
        ["INC-20261125-AAAA", "INC-20261125-BBBB"],
    )
    assert _major([a, b], D + m(30) + S)[0].state == "overdue"
    assert "change" in _major([a, b], D + h(1))[0].recommendation
    p1s = [_open(P1, i, f"P1X{i}") for i in range(3)]
    assert _major(p1s[:2], D + h(1)) == []
    assert [f.related for f in _major(p1s, D + h(1))] == [[s.incident.id for s in p1s]]
    assert _major([a, _open(P1, 1, "CCCC")], D + h(1)) == []  # mixed priorities
    gone = timers.Subject(resolved(P0).model_copy(update={"id": "INC-20261125-DDDD"}), POLICY)
    assert _major([a, gone], R + m(1)) == []


def test_major_incident_snoozed_by_one_member() -> None:
    a, b = _open(P0, 0, "AAAA"), _open(P0, 1, "BBBB")
    quiet = snoozes.snooze(
        b.incident,
        policy=POLICY,
        rule="major-incident",
        duration="15m",
        reason=None,
        at=D + m(2),
        now=D + m(2),
        by=None,
    )
    assert _major([a, timers.Subject(quiet, POLICY)], D + m(10)) == []
    assert len(_major([a, timers.Subject(quiet, POLICY)], D + m(17))) == 1


def test_runbook_untested() -> None:
    book = Runbook(title="x", owner="@team", services=["a"], last_tested=parse_date("2026-08-01"))
    due = T("2026-10-31T00:00:00Z")  # end of 2026-08-01 + 90 days

    def runbook_state(now: datetime) -> str | None:
        hits = timers.findings([], [("x", book)], POLICY, now)
        return hits[0].state if hits else None

    assert [runbook_state(due - m(5) - S), runbook_state(due - S)] == [None, "due-soon"]
    assert [runbook_state(due), runbook_state(due + S)] == ["due-soon", "overdue"]
    never = Runbook(title="y", owner="@team", services=["a"])
    (hit,) = timers.findings([], [("y", never)], POLICY, D)
    assert (hit.state, hit.due, hit.who, hit.incident) == ("overdue", None, ["@team"], "y")
    assert hit.as_dict()["due"] is None


# -- the policy in force at declaration ------------------------------------------------------


def test_policy_changed_after_declaration_judges_by_the_old_one() -> None:
    old = with_changes(
        lambda p: setattr(p.sla.priorities[P0], "acknowledge", Duration.parse("10m"))
    )
    inc = incident(P0)
    at = D + m(5)
    (ack,) = found(timers.Subject(inc, old), at, "acknowledge")  # today's POLICY is current
    assert (ack.state, ack.due) == ("due-soon", D + m(10))  # 10m then, not 1m
    assert state(inc, at, "acknowledge") == "overdue"  # under today's policy: 1m


# -- who must act ----------------------------------------------------------------------------


def test_who_comes_from_roles_and_service_contacts() -> None:
    roles = Roles(incident_commander="@ic", on_call="@oncall")
    inc = incident(P0, roles=roles)
    policy = with_changes(
        lambda p: p.escalation.contacts.services.update(
            {"checkout-api": {"tier-2": p.escalation.contacts.default["security"]}}
        )
    )
    (ack,) = found(inc, D + m(2), "acknowledge", policy=policy)
    assert ack.who == ["@oncall", "@example-org/oncall"]
    (tier2,) = found(inc, D + m(16), "escalate-tier-2", policy=policy)
    assert tier2.who == ["@ic", "@example-org/security"]
    anonymous = incident(P0)
    (mgmt,) = found(anonymous, D + m(31), "notify-management")
    assert mgmt.who == ["@example-org/incident-commanders", "@example-org/engineering-managers"]


def test_most_urgent_first() -> None:
    p0 = _open(P0, 0, "AAAA")
    p2 = _open(P2, 0, "BBBB")
    out = timers.findings([p2, p0], [], POLICY, D + h(3))
    assert out[0].priority == P0
    overdue = [f.state for f in out]
    assert overdue == sorted(overdue, key=lambda s: s != "overdue")


# -- a replay of the sample P0, minute by minute ---------------------------------------------


def sample_p0() -> Incident:
    """INC-20261103-4K7Q as in incidents/: the facts the timers read."""
    t = lambda hhmm: T(f"2026-11-03T{hhmm}:00Z")  # noqa: E731
    esc2 = Escalation(at=t("14:08"), kind=EscalationKind.TIER_2, to="@parcelly/payments")
    mgmt = Escalation(at=t("14:15"), kind=EscalationKind.MANAGEMENT)
    timeline = [
        event(t("13:55"), EventKind.DECLARED, priority=P0),
        event(T("2026-11-03T13:55:40Z"), EventKind.ACKNOWLEDGED),
        event(t("13:58"), EventKind.TRIAGED, priority=P0),
        event(t("14:00"), EventKind.ENGAGED),
        event(t("14:02"), EventKind.UPDATE),
        event(t("14:04"), EventKind.UPDATE, public=True, status="investigating"),
        event(t("14:08"), EventKind.ESCALATED, tier=2),
        event(t("14:15"), EventKind.ESCALATED),
        event(t("14:19"), EventKind.UPDATE, public=True, status="identified"),
        event(t("14:33"), EventKind.MITIGATED, strategy="rollback"),
        event(t("14:34"), EventKind.UPDATE, public=True, status="monitoring"),
        event(t("14:49"), EventKind.UPDATE, public=True, status="monitoring"),
        event(t("14:52"), EventKind.RESOLVED),
        event(t("14:53"), EventKind.UPDATE, public=True, status="resolved"),
        event(T("2026-11-05T16:10:00Z"), EventKind.CLOSED),
    ]
    return Incident(
        id="INC-20261103-4K7Q",
        title="Checkout down",
        status=Status.CLOSED,
        impact=Level.HIGH,
        urgency=Level.HIGH,
        priority=P0,
        services=["checkout-api", "payments-worker"],
        tier=2,
        detected_at=t("13:55"),
        acknowledged_at=T("2026-11-03T13:55:40Z"),
        triaged_at=t("13:58"),
        engaged_at=t("14:00"),
        mitigated_at=t("14:33"),
        resolved_at=t("14:52"),
        closed_at=T("2026-11-05T16:10:00Z"),
        escalations=[esc2, mgmt],
        timeline=timeline,
    )


def test_replay_sample_p0_minute_by_minute() -> None:
    inc = sample_p0()
    start = T("2026-11-03T13:50:00Z")
    seen: list[tuple[str, str]] = []
    previous: str | None = None
    for minute in range(0, 75):
        now = start + m(minute)
        current = ",".join(f"{f.rule}:{f.state}" for f in found(inc, now)) or "-"
        if current != previous:
            seen.append((f"{now:%H:%M}", current))
            previous = current
    assert seen == [
        ("13:50", "-"),  # not detected yet
        ("13:55", "acknowledge:due-soon"),  # P0: acknowledge within 1 minute
        ("13:56", "-"),  # acknowledged at 13:55:40
        ("14:05", "escalate-tier-2:due-soon"),  # tier 1 -> 2 within 15 minutes
        ("14:08", "-"),  # escalated to payments
        ("14:14", "status-update:due-soon"),  # every 15 minutes, last at 14:04
        ("14:19", "-"),  # updated exactly on time
        ("14:29", "status-update:due-soon"),
        ("14:34", "-"),
        ("14:44", "status-update:due-soon"),
        ("14:49", "-"),
        ("14:50", "resolve-target:due-soon"),  # the 1 h target at 14:55
        ("14:52", "-"),  # resolved: the PIR clock starts (24 h)
    ]
    assert [f.rule for f in found(inc, T("2026-11-04T14:52:01Z"))] == ["pir-due"]
    # closed, but closing does not excuse the review: it stays overdue until approved
    assert [f.rule for f in found(inc, T("2026-11-05T16:10:00Z"))] == ["pir-due"]
    states = {d.rule: d.state for d in timers.schedule(inc, POLICY, T("2026-11-27T16:00:00Z"))}
    assert states["acknowledge"] == states["resolve-sla"] == "met"
    assert states["escalate-tier-3"] == "not-applicable"  # mitigated before it was due
    assert states["pir-due"] == "overdue"  # closed without an approved PIR: still owed


def test_next_due_is_the_first_deadline_a_watcher_must_wake_for() -> None:
    subject = _open(Priority.P0, 0, "WAKE")
    first = min(f.due for f in timers.findings([subject], [], POLICY, D + m(60)) if f.due)
    assert first > D
    assert timers.next_due([subject], POLICY, D, first - m(0.5)) is None  # not due by then
    assert timers.next_due([subject], POLICY, D, first + m(0.5)) == first
    # due exactly at the turn's now: not overdue yet, so still the one to wake for
    assert timers.next_due([subject], POLICY, first, first + m(0.5)) == first
    assert timers.next_due([subject], POLICY, first + m(0.1), first + m(0.5)) != first


# -- only some timers ------------------------------------------------------------------------


def test_a_schedule_of_some_rules_is_the_full_schedule_of_those_rules() -> None:
    """What metrics asks for: the same deadlines, states, snoozes and order as the full
    schedule keeps of those rules, reclassified, snoozed, reopened or with actions alike."""
    ids = ("acknowledge", "resolve-sla", "pir-due", "action-due", "status-page-first-update")
    rules = registry.incident_rules(reversed(ids))
    assert [r.id for r in rules] == [r.id for r in registry.INCIDENT_RULES if r.id in ids]
    raised = incident(P2, event(D + m(20), EventKind.RECLASSIFIED, priority=P0), priority=P0)
    acked = incident(P1, event(D + m(2), EventKind.ACKNOWLEDGED), acknowledged_at=D + m(2))
    snoozed = acknowledgement_snoozed()
    two = ({"id": "B", "due": "2026-11-30"}, {"id": "A", "due": "2026-11-30", "status": "done"})
    cases = [
        (raised, None),
        (acked, None),
        (snoozed, None),
        (resolved(P0), ACTIONS),
        (closed(P1), timers.PirState(actions=two)),
    ]
    for inc, pir in cases:
        for now in (D + m(3), D + h(30), EOD + h(1)):
            every = timers.schedule(inc, POLICY, now, pir=pir)
            some = timers.schedule(inc, POLICY, now, pir=pir, rules=rules)
            assert some == [d for d in every if d.rule in ids]
            assert some
    with pytest.raises(ValueError, match="runbook-untested"):
        registry.incident_rules(("acknowledge", "runbook-untested"))
    with pytest.raises(ValueError, match="acknowlege"):
        registry.incident_rules(("acknowlege",))


# -- settled as written: the pre-scan of `overdue` and `watch` ----------------------------------


def _front(inc: Incident) -> dict[str, Any]:
    """The incident's front-matter as the YAML parser hands it over (strings, no models)."""
    data: dict[str, Any] = inc.model_dump(mode="json", exclude_none=True)
    return data


APPROVED_AT = R + h(30)
REVIEWS: list[timers.PirState | None] = [
    None,
    timers.PirState(),  # a draft
    timers.PirState(approved=True),  # approved by a merged PR: no time in the file
    timers.PirState(approved=True, approved_at=APPROVED_AT),
    timers.PirState(approved=True, approved_at=R, actions=({"status": "open"},)),
    timers.PirState(approved=True, approved_at=R, actions=({"status": "Done"},)),
    timers.PirState(approved=True, actions=({"status": "cancelled"}, {"status": "done"})),
]


@pytest.mark.parametrize("builder", [fresh, resolved, closed, breached, lost_data])
@pytest.mark.parametrize("priority", [P0, P1, P2, P3])
@pytest.mark.parametrize("pir", REVIEWS)
def test_settled_as_written_is_never_earlier_than_the_full_rule(
    builder: Build, priority: Priority, pir: timers.PirState | None
) -> None:
    """The pre-scan may only answer when the full rule agrees: settled no earlier than
    `settled_since` says. Whatever it passes over is judged in full."""
    inc = builder(priority)
    if builder in (breached, lost_data):
        inc = inc.model_copy(update={"closed_at": R + m(5), "resolved_at": R})
    full = timers.settled_since(timers.Subject(inc, POLICY, pir))
    early = timers.settled_as_written(_front(inc), pir, POLICY)
    if early is not None:
        assert full is not None
        assert early >= full
    flagged = inc.security_breach or inc.data_loss  # a regulatory clock maybe: judged in full
    if full is not None and not flagged:
        assert early == full  # the settled ones it is for: no model needed


def test_settled_as_written_answers_only_when_sure() -> None:
    """What it cannot read exactly as the model would counts against "settled"."""
    front = _front(closed(P3))
    approved = timers.PirState(approved=True, approved_at=APPROVED_AT)
    assert timers.settled_as_written(front, None, POLICY) == front_closed(front)
    assert timers.settled_as_written({**front, "priority": "p3"}, None, POLICY) is None
    assert timers.settled_as_written({**front, "priority": "p3"}, approved, POLICY) == APPROVED_AT
    assert timers.settled_as_written(front, None, None) is None  # no policy: a review owed
    for flag in ("security_breach", "data_loss"):
        for value in (True, "yes", "false", 0, None):
            assert timers.settled_as_written({**front, flag: value}, approved, POLICY) is None
        assert timers.settled_as_written({**front, flag: False}, approved, POLICY) is not None
    for closing in (None, "yesterday", "2026-11-25T10:00:00"):  # naive: not a timestamp
        assert timers.settled_as_written({**front, "closed_at": closing}, approved, POLICY) is None


def front_closed(front: dict[str, Any]) -> datetime:
    return T(front["closed_at"])


def _loose_time_reference(value: Any) -> datetime | None:
    """loose_time without its due-date shortcut: a timestamp first, then a date."""
    from incidentctl.core.timevalues import TimeValueError

    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_timestamp(value if isinstance(value, datetime) else str(value))
    except TimeValueError:
        pass
    try:
        return timers.end_of_day(parse_date(str(value)))
    except TimeValueError:
        return None


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-15",
        "2026-02-30",
        "2026-W47-1",
        "2026-11-1Z",
        " 2026-11-1",
        "20261115  ",
        "2026-11-15T10:00:00Z",
        "2026-11-15T10:00:00+02:00",
        "2026-11-15T10:00:00",
        "not a date",
        "",
        20261115,
    ],
)
def test_a_due_date_reads_as_the_end_of_its_day_by_either_path(value: Any) -> None:
    from incidentctl.deadlines.case import loose_time

    assert loose_time(value) == _loose_time_reference(value)


# -- finished incidents: only the rules that outlive them ------------------------------------


def closed_breached(p: Priority) -> Incident:
    return closed(p).model_copy(update={"security_breach": True, "category": "security"})


def closed_then_reopened(p: Priority) -> Incident:
    """Closed, then reopened (its closed_at left behind, as a hand edit may leave it)."""
    events = (
        event(R, EventKind.RESOLVED),
        event(R + m(5), EventKind.CLOSED),
        event(R + h(1), EventKind.REOPENED),
    )
    return incident(p, *events, status=Status.INVESTIGATING, resolved_at=R, closed_at=R + m(5))


def closed_without_a_time(p: Priority) -> Incident:
    events = (event(R, EventKind.RESOLVED), event(R + m(5), EventKind.CLOSED))
    return incident(p, *events, status=Status.CLOSED, resolved_at=R)


FINISHED_NOWS = [R - m(1), R + m(5), R + h(2), D + h(30), EOD - S, EOD + h(1), EOD + h(24 * 40)]


@pytest.mark.parametrize(
    "builder",
    [fresh, in_tier_2, in_tier_3, updated, breached, resolved, closed, closed_breached,
     closed_then_reopened, closed_without_a_time],
)  # fmt: skip
@pytest.mark.parametrize("policy", [POLICY, GDPR], ids=["default", "gdpr"])
def test_a_finished_incident_falls_due_only_on_the_rules_that_outlive_it(
    builder: Build, policy: Policy
) -> None:
    """`findings` judges an incident resolved and closed by `AFTER_CLOSING` alone: every
    other rule must be decided by then, whatever the priority, the review or the time, or
    a finding would be lost."""
    outliving = {r.id for r in registry.AFTER_CLOSING}
    assert outliving == {"pir-due", "action-due", "regulatory-deadline"}
    finished = 0
    for priority in (P0, P1, P2, P3):
        inc = builder(priority)
        for pir in [*REVIEWS, ACTIONS]:
            for now in FINISHED_NOWS:
                if not Case(timers.Subject(inc, policy, pir), now).finished:
                    continue
                finished += 1
                schedule = timers.schedule(inc, policy, now, pir=pir)
                live = {d.rule for d in schedule if d.state in (PENDING, OVERDUE)}
                assert live <= outliving, (priority, pir, now)
    closes = builder in (closed, closed_breached, closed_without_a_time, closed_then_reopened)
    assert (finished > 0) == closes  # exercised where it applies, and only there
    if builder is closed_then_reopened:  # finished until the reopen, judged in full after
        assert not Case(timers.Subject(builder(P1), policy, None), R + h(2)).finished
