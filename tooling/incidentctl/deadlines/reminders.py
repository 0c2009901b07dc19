"""The words of a reminder: who must act, the message and what to do now, from the registry.

Contacts come from the escalation policy (per service and level, primary first) and from the
incident's roles, falling back to the policy's roles; a contact or role naming a rotation is
whoever is on call in it at `now`.
"""

from __future__ import annotations

from datetime import datetime

from incidentctl.core.model import Incident, Priority, Runbook
from incidentctl.core.policy import Policy, PrioritySla
from incidentctl.core.timevalues import Duration, format_timestamp
from incidentctl.deadlines.case import OVERDUE, Deadline
from incidentctl.deadlines.registry import BY_ID


def _person(incident: Incident, policy: Policy, role: str, now: datetime) -> str | None:
    if incident.roles is not None and getattr(incident.roles, role, None):
        return str(getattr(incident.roles, role))
    if role == "on_call":
        return policy.on_call(now)
    return policy.resolve(policy.escalation.roles.get(role), now)


def who(rule: str, incident: Incident, policy: Policy, now: datetime) -> list[str]:
    """The people and teams to notify for `rule` on `incident`, in order, without repeats."""
    found_rule = BY_ID.get(rule)
    roles, levels = (found_rule.roles, found_rule.levels) if found_rule else ((), ())
    found: list[str | None] = [_person(incident, policy, role, now) for role in roles]
    for level in levels:
        services: list[str | None] = [*incident.services] or [None]
        for service in services:
            contact = policy.contact(service, level)
            found.append(policy.resolve(contact.primary, now) if contact else None)
    out: list[str] = []
    for person in found:
        if person and person not in out:
            out.append(person)
    return out


def _dur(value: Duration | None) -> str:
    return str(value) if value is not None else "as needed"


def render(
    rule: str,
    incident: Incident,
    priority: Priority,
    deadline: Deadline,
    sla: PrioritySla,
    timing: str,
) -> tuple[str, str]:
    """(message, recommendation) for one finding about one incident."""
    flags = [
        name
        for name, on in (
            ("security breach", incident.security_breach),
            ("data loss", incident.data_loss),
        )
        if on
    ]
    values = {
        "id": incident.id,
        "subject": deadline.subject or "",
        "note": deadline.note,
        "start": deadline.start.strftime("%Y-%m-%d %H:%MZ") if deadline.start else "",
        "every": _dur(sla.status_update_every),
        "stakeholder": _dur(sla.stakeholder_update_every),
        "stakeholder_cadence": (
            f"; stakeholder updates every {sla.stakeholder_update_every}"
            if sla.stakeholder_update_every
            else ""
        ),
        "flag": " and ".join(flags) or "breach",
    }
    what = BY_ID[rule].what.format(**values)
    return f"{priority} {what}: {timing}", BY_ID[rule].do.format(**values)


def major(priority: Priority, ids: list[str], timing: str) -> tuple[str, str]:
    message = f"major incident: {len(ids)} {priority} incidents open at once ({', '.join(ids)}): "
    return message + timing, BY_ID["major-incident"].do


def runbook(name: str, book: Runbook, limit: Duration, timing: str) -> tuple[str, str]:
    if book.last_tested is None:
        message = f"runbook {name} has never been tested (limit {limit})"
    else:
        message = f"runbook {name} last tested {book.last_tested}, limit {limit}: {timing}"
    return message, BY_ID["runbook-untested"].do.format(name=name)


FOLLOW_UP = ("pir-due", "action-due")  # weeks-long: repeated at most daily
_DAY = 86_400


def breach_key(
    incident: str,
    rule: str,
    subject: str | None,
    due: datetime | None,
    state: str,
    now: datetime,
    repeat_seconds: int | None,
) -> str:
    """(incident, rule, subject, deadline, repeat slot): one reminder per breach and slot,
    on the tracking issue and on every sink alike.

    The slot is how many whole repeat intervals the breach is late, so it is computed from
    the deadline and `now`, never remembered; follow-up rules repeat at most once a day."""
    stamp = format_timestamp(due) if due else "never"
    slot = 0
    if repeat_seconds and state == OVERDUE and due is not None:
        every = max(repeat_seconds, _DAY) if rule in FOLLOW_UP else repeat_seconds
        slot = max(0, int((now - due).total_seconds()) // every)
    return f"{incident}|{rule}|{subject or ''}|{stamp}|{slot}"


_LEVELS = ("tier-1", "tier-2", "tier-3", "management", "executive", "security")


def backups(incident: Incident, policy: Policy, who: list[str], now: datetime) -> tuple[str, ...]:
    """The backups of the contacts reminded (`who`) at `now`, from the escalation policy:
    a rotation resolved to whoever is on call in it (`Policy.backup`). The tracking issue's
    comment and the sinks' messages name the same ones."""
    out: list[str] = []
    services: list[str | None] = [*incident.services] or [None]
    for service in services:
        for level in _LEVELS:
            contact = policy.contact(service, level)
            if contact is None or policy.resolve(contact.primary, now) not in who:
                continue
            backup = policy.backup(contact, now)
            if backup:
                out.append(backup)
    return tuple(dict.fromkeys(out))
