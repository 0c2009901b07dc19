"""Pure transitions, tested by calling the core directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from incidentctl.core import lifecycle
from incidentctl.core.errors import TransitionError
from incidentctl.core.model import (
    EscalationKind,
    EventKind,
    Incident,
    Level,
    Priority,
    PublicStatus,
    Status,
    Strategy,
)
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.store.repo import Repo

T = parse_timestamp
NOW = T("2026-11-27T16:00:00Z")


@pytest.fixture
def policy(tmp_path: object) -> Policy:
    from pathlib import Path

    return Repo(Path(str(tmp_path))).policy()  # no policies/: the shipped defaults


def _declare(policy: Policy, impact: Level = Level.HIGH, urgency: Level = Level.HIGH) -> Incident:
    return lifecycle.declare(
        policy=policy,
        incident_id="INC-20261127-AAAA",
        title="Checkout down",
        impact=impact,
        urgency=urgency,
        at=T("2026-11-27T15:00:00Z"),
        now=NOW,
        by="@a",
    )


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (Level.HIGH, Level.HIGH, Priority.P0),
        (Level.HIGH, Level.MEDIUM, Priority.P1),
        (Level.HIGH, Level.LOW, Priority.P2),
        (Level.MEDIUM, Level.HIGH, Priority.P1),
        (Level.MEDIUM, Level.MEDIUM, Priority.P2),
        (Level.MEDIUM, Level.LOW, Priority.P3),
        (Level.LOW, Level.HIGH, Priority.P2),
        (Level.LOW, Level.MEDIUM, Priority.P3),
        (Level.LOW, Level.LOW, Priority.P3),
    ],
)
def test_priority_matrix(policy: Policy, impact: Level, urgency: Level, expected: Priority) -> None:
    incident = _declare(policy, impact, urgency)
    assert incident.priority == expected
    assert incident.priority_override is None
    assert incident.policy == policy.digest()
    assert incident.status == Status.DETECTED
    assert [e.kind for e in incident.timeline] == [EventKind.DECLARED]


def test_override_is_recorded_with_reason(policy: Policy) -> None:
    incident = lifecycle.declare(
        policy=policy,
        incident_id="INC-20261127-AAAA",
        title="x",
        impact=Level.LOW,
        urgency=Level.LOW,
        priority=Priority.P1,
        reason="Regulator is watching",
        at=T("2026-11-27T15:00:00Z"),
        now=NOW,
        by="@a",
    )
    assert incident.priority == Priority.P1
    assert incident.priority_override is not None
    assert incident.priority_override.reason == "Regulator is watching"


def test_started_after_detection_is_refused(policy: Policy) -> None:
    with pytest.raises(TransitionError, match=r"impact start .* is after detection"):
        lifecycle.declare(
            policy=policy,
            incident_id="INC-20261127-AAAA",
            title="x",
            impact=Level.LOW,
            urgency=Level.LOW,
            at=T("2026-11-27T15:00:00Z"),
            now=NOW,
            by=None,
            started_at=T("2026-11-27T15:30:00Z"),
        )


def test_reclassification_records_old_priority(policy: Policy) -> None:
    incident = _declare(policy, Level.MEDIUM, Level.MEDIUM)
    first = lifecycle.triage(
        incident,
        policy=policy,
        impact=Level.MEDIUM,
        urgency=Level.MEDIUM,
        at=T("2026-11-27T15:05:00Z"),
        now=NOW,
        by="@a",
    )
    second = lifecycle.triage(
        first,
        policy=policy,
        impact=Level.HIGH,
        urgency=Level.HIGH,
        at=T("2026-11-27T15:20:00Z"),
        now=NOW,
        by="@a",
    )
    assert first.status == Status.TRIAGED
    assert first.timeline[-1].kind == EventKind.TRIAGED
    assert second.timeline[-1].kind == EventKind.RECLASSIFIED
    assert second.timeline[-1].text == "Impact high, urgency high: P0 (was P2)"
    assert second.priority == Priority.P0
    assert second.triaged_at == T("2026-11-27T15:05:00Z")


def test_status_never_moves_backwards(policy: Policy) -> None:
    incident = _declare(policy)
    mitigated = lifecycle.mitigate(
        incident,
        strategy=Strategy.HOTFIX,
        note=None,
        at=T("2026-11-27T15:10:00Z"),
        now=NOW,
        by=None,
    )
    triaged = lifecycle.triage(
        mitigated,
        policy=policy,
        impact=Level.HIGH,
        urgency=Level.HIGH,
        at=T("2026-11-27T15:11:00Z"),
        now=NOW,
        by=None,
    )
    assert triaged.status == Status.MITIGATING


def test_engage_implies_acknowledgement(policy: Policy) -> None:
    engaged = lifecycle.engage(_declare(policy), at=T("2026-11-27T15:04:00Z"), now=NOW, by=None)
    assert engaged.acknowledged_at == T("2026-11-27T15:04:00Z")
    assert engaged.status == Status.INVESTIGATING


def test_reopen_restarts_the_resolution_clock(policy: Policy) -> None:
    resolved = lifecycle.resolve(_declare(policy), at=T("2026-11-27T15:30:00Z"), now=NOW, by=None)
    reopened = lifecycle.reopen(
        resolved, at=T("2026-11-27T15:45:00Z"), now=NOW, by=None, reason="Errors are back"
    )
    assert reopened.status == Status.INVESTIGATING
    assert reopened.resolved_at is None
    assert [e.kind for e in reopened.timeline][-2:] == [EventKind.RESOLVED, EventKind.REOPENED]
    again = lifecycle.resolve(reopened, at=T("2026-11-27T15:50:00Z"), now=NOW, by=None)
    assert again.resolved_at == T("2026-11-27T15:50:00Z")


def test_hierarchical_escalation_only_once(policy: Policy) -> None:
    once = lifecycle.escalate(
        _declare(policy),
        kind=EscalationKind.MANAGEMENT,
        to="@mgmt",
        reason=None,
        at=T("2026-11-27T15:20:00Z"),
        now=NOW,
        by=None,
    )
    assert once.tier == 1
    with pytest.raises(TransitionError, match="management was already notified"):
        lifecycle.escalate(
            once,
            kind=EscalationKind.MANAGEMENT,
            to=None,
            reason=None,
            at=T("2026-11-27T15:25:00Z"),
            now=NOW,
            by=None,
        )


def test_public_status_follows_the_lifecycle(policy: Policy) -> None:
    incident = _declare(policy)
    assert lifecycle.public_status(incident) == PublicStatus.INVESTIGATING
    cause = incident.timeline[-1].model_copy(
        update={"kind": EventKind.CAUSE, "at": T("2026-11-27T15:05:00Z")}
    )
    identified = incident.model_copy(update={"timeline": [*incident.timeline, cause]})
    assert lifecycle.public_status(identified) == PublicStatus.IDENTIFIED
    mitigating = lifecycle.mitigate(
        identified,
        strategy=Strategy.ROLLBACK,
        note=None,
        at=T("2026-11-27T15:10:00Z"),
        now=NOW,
        by=None,
    )
    assert lifecycle.public_status(mitigating) == PublicStatus.MONITORING
    resolved = lifecycle.resolve(mitigating, at=T("2026-11-27T15:20:00Z"), now=NOW, by=None)
    assert lifecycle.public_status(resolved) == PublicStatus.RESOLVED


def test_every_transition_appends_exactly_one_event(policy: Policy) -> None:
    incident = _declare(policy)
    at = iter(T(f"2026-11-27T15:{m:02d}:00Z") for m in range(1, 60))
    steps = [
        lambda i: lifecycle.triage(
            i, policy=policy, impact=Level.HIGH, urgency=Level.HIGH, at=next(at), now=NOW, by=None
        ),
        lambda i: lifecycle.acknowledge(i, at=next(at), now=NOW, by=None),
        lambda i: lifecycle.engage(i, at=next(at), now=NOW, by=None),
        lambda i: lifecycle.escalate(
            i, kind=EscalationKind.TIER_2, to=None, reason=None, at=next(at), now=NOW, by=None
        ),
        lambda i: lifecycle.update(
            i, message="m", public=True, status=None, at=next(at), now=NOW, by=None
        ),
        lambda i: lifecycle.mitigate(
            i, strategy=Strategy.SCALING, note=None, at=next(at), now=NOW, by=None
        ),
        lambda i: lifecycle.resolve(i, at=next(at), now=NOW, by=None),
        lambda i: lifecycle.close(i, at=next(at), now=NOW, by=None),
    ]
    for step in steps:
        before = len(incident.timeline)
        incident = step(incident)
        assert len(incident.timeline) == before + 1
    assert incident.status == Status.CLOSED
    assert isinstance(incident.closed_at, datetime)


def test_as_of_rewinds_an_incident_to_what_was_known_then(policy: Policy) -> None:
    from datetime import timedelta

    t0 = T("2026-11-27T15:00:00Z")

    def at(minutes: int) -> dict[str, Any]:
        return {"at": t0 + timedelta(minutes=minutes), "now": NOW, "by": "@a"}

    inc = _declare(policy)
    inc = lifecycle.acknowledge(inc, **at(1))
    inc = lifecycle.engage(inc, **at(5))
    inc = lifecycle.escalate(
        inc,
        kind=EscalationKind.TIER_2,
        to="@team",
        reason=None,
        **at(20),
    )
    inc = lifecycle.mitigate(inc, strategy=Strategy.ROLLBACK, note="back", **at(40))
    inc = lifecycle.resolve(inc, **at(60))
    then = lifecycle.as_of(inc, t0 + timedelta(minutes=10))
    assert then.status == Status.INVESTIGATING
    assert (then.acknowledged_at, then.engaged_at) == (inc.acknowledged_at, inc.engaged_at)
    assert (then.mitigated_at, then.resolved_at, then.mitigation) == (None, None, None)
    assert (then.tier, then.escalations) == (1, [])
    kinds = [e.kind for e in then.timeline]
    assert kinds == [EventKind.DECLARED, EventKind.ACKNOWLEDGED, EventKind.ENGAGED]
    later = lifecycle.as_of(inc, t0 + timedelta(minutes=45))
    assert (later.status, later.tier) == (Status.MITIGATING, 2)
    assert later.mitigation is not None
    assert lifecycle.as_of(inc, NOW) is inc  # nothing after now: unchanged
