"""What one delivery does to the incidents: declare one, add to the one its alert group is
on, reopen it, record an acknowledgement, or nothing (and why).

Pure: the delivery, the incidents that already carry its alert group, the policy and the
times in; a new incident or a changed one out. The store runs it under the intake lock, so
the incidents it is shown are all there are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from incidentctl.core import lifecycle
from incidentctl.core.errors import TransitionError
from incidentctl.core.model import (
    AlertGroup,
    AlertState,
    Detection,
    EventKind,
    Incident,
    Status,
    TimelineEvent,
)
from incidentctl.core.policy import Classification, Policy
from incidentctl.core.timevalues import format_timestamp
from incidentctl.intake.payloads import Alert, Delivery, Happened

MAX_TITLE = 200
MAX_LISTED = 10  # alerts named in one timeline event; the rest are counted


class Action(StrEnum):
    DECLARED = "declared"
    UPDATED = "updated"
    RESOLVED_ALERT = "resolved-alert"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Outcome:
    action: Action
    incident: str | None
    reason: str

    def as_dict(self) -> dict[str, str | None]:
        return {"action": self.action.value, "incident": self.incident, "reason": self.reason}


@dataclass(frozen=True)
class Route:
    """Where a delivery goes: a new incident (following an earlier one of the group), the
    incident its group is on, or nowhere (the outcome says why)."""

    declare: bool = False
    follows: str | None = None
    incident: str | None = None
    ignored: Outcome | None = None


def carries(incident: Incident, delivery: Delivery) -> bool:
    return group_of(incident, delivery) is not None


def group_of(incident: Incident, delivery: Delivery) -> AlertGroup | None:
    for group in incident.alerts:
        if group.source == delivery.source and group.key == delivery.key:
            return group
    return None


def kept(delivery: Delivery, policy: Policy) -> tuple[list[Alert], str | None]:
    """The delivery's alerts that policies/intake.yaml does not ignore, and why the others
    were ignored."""
    rules = policy.intake.source(delivery.source.value)
    out, why = [], None
    for alert in delivery.alerts:
        rule = rules.ignores(alert.fields)
        if rule is None:
            out.append(alert)
        elif why is None:
            shown = ", ".join(f"{k}={v}" for k, v in rule.items())
            why = f"ignored by policies/intake.yaml ({shown})"
    return out, why


def route(delivery: Delivery, incidents: list[Incident], policy: Policy, at: datetime) -> Route:
    """The incident a delivery belongs to: the latest that carries its group, unless that
    one is CLOSED or was resolved longer than intake.reopen_within ago and the group fires
    again (then a new incident, which refers to it)."""
    if delivery.happened == Happened.OTHER:
        what = delivery.event or "this event"
        return Route(ignored=_ignored(None, f"{delivery.source.value} {what} is not acted on"))
    alerts, why = kept(delivery, policy)
    if not alerts:
        return Route(ignored=_ignored(None, why or "the payload has no alerts"))
    firing = delivery.happened == Happened.FIRING and any(
        a.state == AlertState.FIRING for a in alerts
    )
    mine = sorted(
        (i for i in incidents if carries(i, delivery)), key=lambda i: (i.detected_at, i.id)
    )
    if not mine:
        if firing:
            return Route(declare=True)
        return Route(ignored=_ignored(None, f"no incident carries alert group {delivery.key}"))
    latest = mine[-1]
    if latest.status == Status.CLOSED:
        if firing:
            return Route(declare=True, follows=latest.id)
        return Route(ignored=_ignored(latest.id, f"{latest.id} is closed"))
    group = group_of(latest, delivery)
    if latest.status == Status.RESOLVED and group is not None and fresh(group, alerts):
        window = policy.intake.reopen_within
        resolved = latest.resolved_at or latest.detected_at
        if window is None or (at - resolved).total_seconds() > window.seconds:
            return Route(declare=True, follows=latest.id)
    return Route(incident=latest.id)


def fresh(group: AlertGroup, alerts: list[Alert]) -> list[Alert]:
    """The firing alerts the group has not recorded as firing: new ones, or ones that had
    ended and fire again (a repeated notification of a firing alert is not fresh)."""
    seen, ended = set(group.fingerprints), set(group.resolved)
    return [
        a
        for a in alerts
        if a.state == AlertState.FIRING and (a.fingerprint not in seen or a.fingerprint in ended)
    ]


def _ignored(incident: str | None, reason: str) -> Outcome:
    return Outcome(Action.IGNORED, incident, reason)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1] + "…"


def _first(fields: dict[str, str], names: list[str]) -> str | None:
    lowered = {k.lower(): v for k, v in fields.items()}
    for name in names:
        value = lowered.get(name.lower(), "").strip()
        if value:
            return value
    return None


def _listed(alerts: list[Alert], ended: bool = False) -> str:
    names = []
    for alert in alerts[:MAX_LISTED]:
        text = f"{_one_line(alert.name)} ({alert.fingerprint})"
        if ended and alert.ends_at is not None:
            text += f" ended {format_timestamp(alert.ends_at)}"
        names.append(text)
    if len(alerts) > MAX_LISTED:
        names.append(f"and {len(alerts) - MAX_LISTED} more")
    return "; ".join(names)


def declare(
    delivery: Delivery,
    policy: Policy,
    *,
    incident_id: str,
    at: datetime,
    now: datetime,
    by: str,
    follows: str | None = None,
) -> tuple[Incident, str, Outcome]:
    """A new incident from a firing group: the most severe alert's classification, the
    services the alerts name, impact from the earliest alert's start, detected at `at`."""
    rules = policy.intake.source(delivery.source.value)
    alerts = [a for a in kept(delivery, policy)[0] if a.state == AlertState.FIRING]
    first = alerts[0]
    chosen = min(
        (rules.classify(_first(a.fields, rules.level_from)) for a in alerts), key=_rank(policy)
    )
    title = _one_line(_first(first.fields, rules.title_from) or first.name)
    services = list(
        dict.fromkeys(s for a in alerts if (s := _first(a.fields, rules.services_from)))
    )
    starts = [a.starts_at for a in alerts if a.starts_at is not None]
    started = min(min(starts), at) if starts else None
    group = AlertGroup(
        source=delivery.source,
        key=delivery.key,
        fingerprints=list(dict.fromkeys(a.fingerprint for a in alerts)),
        first_seen=at,
        last_status=AlertState.FIRING,
        url=delivery.url or first.url,
        follows=follows,
    )
    incident = lifecycle.declare(
        policy=policy,
        incident_id=incident_id,
        title=title,
        impact=chosen.impact,
        urgency=chosen.urgency,
        at=at,
        now=now,
        by=by,
        allow_unknown=True,  # an alert is never refused; validate reports an unknown service
        services=services,
        detection=Detection.AUTOMATED_ALERT,
        reporter=delivery.source.value,
        started_at=started,
        alerts=[group],
    )
    text = f"{len(alerts)} alert(s) firing in {delivery.source.value} group {delivery.key}: "
    text += _listed(alerts) + _truncated(delivery)
    if follows:
        text += f" (the group was on {follows} before)"
    event = TimelineEvent(at=at, kind=EventKind.ALERT, by=by, text=text)
    incident = lifecycle.with_event(incident, event)
    link = f"\n\nAlert: <{group.url}>" if group.url and group.url.startswith("http") else ""
    body = (
        f"# {incident.title}\n\nDeclared from {delivery.source.value} alert group `{delivery.key}`."
    )
    body += link + (f"\n\nFollows {follows}." if follows else "") + "\n\n## Notes\n\n"
    reason = f"{incident.priority.value} from {len(alerts)} firing alert(s)"
    return incident, body, Outcome(Action.DECLARED, incident.id, reason)


def _rank(policy: Policy) -> Callable[[Classification], int]:
    def rank(c: Classification) -> int:
        return policy.priority_for(c.impact, c.urgency).rank

    return rank


def _truncated(delivery: Delivery) -> str:
    if not delivery.truncated:
        return ""
    return f" (and {delivery.truncated} more the sender truncated)"


def update(
    incident: Incident,
    delivery: Delivery,
    policy: Policy,
    *,
    at: datetime,
    now: datetime,
    by: str,
) -> tuple[Incident, Outcome]:
    """The incident as this delivery leaves it (unchanged when it brings nothing new): an
    acknowledgement, the group's new alerts, the alerts that ended; a RESOLVED incident
    whose group fires again is reopened first."""
    if delivery.happened == Happened.ACKNOWLEDGED:
        return _acknowledge(incident, delivery, at=at, now=now, by=by)
    group = group_of(incident, delivery)
    if group is None:  # routed by its group: it carries it
        raise TransitionError(f"{incident.id} does not carry alert group {delivery.key}")
    alerts, _ = kept(delivery, policy)
    ended_before = set(group.resolved)
    firing = fresh(group, alerts)
    ended = [
        a for a in alerts if a.state == AlertState.RESOLVED and a.fingerprint not in ended_before
    ]
    if not firing and not ended:
        return incident, _ignored(
            incident.id, f"nothing new for {incident.id}: every alert is recorded"
        )
    if not incident.is_open and firing:
        if incident.status == Status.CLOSED:
            raise TransitionError(f"{incident.id} is closed", hint="deliver the alert again")
        incident = lifecycle.reopen(
            incident, at=at, now=now, by=by, reason=f"alert group {delivery.key} fires again"
        )
    lifecycle.check_time(incident, at, now)
    events = []
    if firing:
        text = f"{len(firing)} alert(s) firing in {delivery.source.value} group {delivery.key}: "
        events.append(
            TimelineEvent(
                at=at,
                kind=EventKind.ALERT,
                by=by,
                text=text + _listed(firing) + _truncated(delivery),
            )
        )
    if ended:
        text = f"{len(ended)} alert(s) resolved in {delivery.source.value} group {delivery.key}: "
        events.append(
            TimelineEvent(
                at=at, kind=EventKind.ALERT_RESOLVED, by=by, text=text + _listed(ended, True)
            )
        )
    fingerprints = list(
        dict.fromkeys([*group.fingerprints, *(a.fingerprint for a in firing + ended)])
    )
    fired = {a.fingerprint for a in firing}
    resolved = [f for f in group.resolved if f not in fired]
    resolved += [a.fingerprint for a in ended if a.fingerprint not in resolved]
    cleared = set(fingerprints) <= set(resolved)
    changed = group.model_copy(
        update={
            "fingerprints": fingerprints,
            "resolved": resolved,
            "last_status": AlertState.RESOLVED if cleared else AlertState.FIRING,
        }
    )
    groups = [changed if g is group else g for g in incident.alerts]
    reopened = incident.timeline[-1].kind == EventKind.REOPENED and firing
    incident = incident.model_copy(
        update={"alerts": groups, "timeline": [*incident.timeline, *events]}
    )
    if firing:
        reason = f"{len(firing)} alert(s) firing" + (" again: reopened" if reopened else "")
        return incident, Outcome(Action.UPDATED, incident.id, reason)
    reason = f"{len(ended)} alert(s) resolved" + (
        "; every alert of the incident has cleared" if incident.alerts_cleared else ""
    )
    return incident, Outcome(Action.RESOLVED_ALERT, incident.id, reason)


def _acknowledge(
    incident: Incident, delivery: Delivery, *, at: datetime, now: datetime, by: str
) -> tuple[Incident, Outcome]:
    """The paging tool's acknowledgement counts: recorded as `ack` by whoever took it."""
    who = delivery.agent or by
    if not incident.is_open:
        return incident, _ignored(incident.id, f"{incident.id} is {incident.status.value}")
    if incident.acknowledged_at is not None:
        return incident, _ignored(incident.id, f"{incident.id} was already acknowledged")
    acked = lifecycle.acknowledge(incident, at=at, now=now, by=who)
    event = acked.timeline[-1].model_copy(
        update={"text": f"Acknowledged in {delivery.source.value} by {who}"}
    )
    acked = acked.model_copy(update={"timeline": [*acked.timeline[:-1], event]})
    return acked, Outcome(Action.UPDATED, incident.id, f"acknowledged by {who}")


def cleared_note(incident: Incident) -> str | None:
    """What `overdue` and `deadlines` say of an open incident whose alerts have all ended:
    the alerts do not resolve it (a person decides), but whoever is reminded should know."""
    if not incident.is_open or not incident.alerts_cleared:
        return None
    ended = [e.at for e in incident.timeline if e.kind == EventKind.ALERT_RESOLVED]
    since = f" at {format_timestamp(ended[-1])}" if ended else ""
    return (
        f"every alert of {incident.id} has cleared{since}: resolve it once the cause is "
        f"fixed (incidentctl resolve {incident.id})"
    )
