"""`snooze`: quiet one reminder rule of one incident for a while, recorded in its timeline.

Which rules may be snoozed is the registry's; how long, the policy's sla.snooze_max.
"""

from __future__ import annotations

import difflib
from datetime import datetime

from incidentctl.core.businessdays import advance
from incidentctl.core.errors import TransitionError
from incidentctl.core.lifecycle import check_time, require_open, with_event
from incidentctl.core.model import EventKind, Incident, Status, TimelineEvent
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import Duration, TimeValueError, format_timestamp
from incidentctl.deadlines.registry import BY_ID, SNOOZABLE


def snooze(
    incident: Incident,
    *,
    policy: Policy,
    rule: str,
    duration: str,
    reason: str | None,
    at: datetime,
    now: datetime,
    by: str | None,
) -> Incident:
    """Quiet one reminder rule until at + duration (30m, 2h, 1bd), capped per priority by
    the policy's sla.snooze_max; snoozes do not stack."""
    if incident.status == Status.CLOSED:
        require_open(incident, "snooze")
    if rule not in SNOOZABLE:
        known = BY_ID.get(rule)
        close_match = difflib.get_close_matches(rule, SNOOZABLE, n=1)
        raise TransitionError(
            "runbook-untested is about a runbook, not an incident: test the runbook"
            if known is not None and not known.per_incident
            else f"{rule} cannot be snoozed"
            if known is not None
            else f"unknown rule {rule!r}",
            hint=f"did you mean {close_match[0]}?"
            if close_match and known is None
            else "rules: " + ", ".join(SNOOZABLE),
        )
    check_time(incident, at, now)
    try:
        length = Duration.parse(duration)
    except TimeValueError as exc:
        raise TransitionError(str(exc), hint="e.g. --for 15m, 2h or 1bd") from None
    until = advance(at, length, policy.sla.business_days)
    if until <= at:
        raise TransitionError("a snooze must last longer than zero", hint="e.g. --for 15m")
    cap = policy.sla.snooze_max.get(incident.priority)
    if cap is None:
        raise TransitionError(
            f"the policy allows no snooze for {incident.priority}",
            hint=f"set sla.snooze_max.{incident.priority} in policies/sla.yaml",
        )
    if until > advance(at, cap, policy.sla.business_days):
        raise TransitionError(
            f"{incident.priority} reminders can be snoozed for at most {cap}, not {length}",
            hint=f"the cap is policies/sla.yaml snooze_max.{incident.priority}; "
            "snooze again when this one ends if you must",
        )
    active = [
        e
        for e in incident.timeline
        if e.kind == EventKind.SNOOZED and e.rule == rule and e.until and e.at <= at < e.until
    ]
    if active:
        raise TransitionError(
            f"{rule} is already snoozed until {format_timestamp(active[-1].until or at)}",
            hint="snoozes do not stack; snooze again when this one ends",
        )
    text = f"Snoozed {rule} for {length} until {format_timestamp(until)}"
    text += f": {reason}" if reason else ""
    event = TimelineEvent(
        at=at, kind=EventKind.SNOOZED, by=by, text=text, rule=rule, until=until, reason=reason
    )
    return with_event(incident, event)
