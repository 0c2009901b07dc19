"""The words of a reminder: rule identifiers, who must act, the message and what to do now.

Pure and separate from the timer arithmetic in timers.py, so the texts can be read (and
later templated) in one place. Contacts come from the escalation policy (per service and
level, primary first) and from the incident's roles, falling back to the policy's roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from incidentctl.core.model import Incident, Priority, Runbook
from incidentctl.core.policy import Policy, PrioritySla
from incidentctl.core.timevalues import Duration

if TYPE_CHECKING:
    from incidentctl.deadlines.timers import Deadline

RULES = (
    "acknowledge",
    "triage",
    "engage",
    "escalate-tier-2",
    "escalate-tier-3",
    "escalate-management",
    "notify-management",
    "notify-executive",
    "notify-security",
    "status-page-first-update",
    "status-update",
    "stakeholder-update",
    "resolve-target",
    "resolve-sla",
    "major-incident",
    "business-continuity",
    "regulatory-deadline",
    "pir-due",
    "action-due",
    "runbook-untested",
)

# rule -> (roles of the incident, escalation-policy levels) whose people must act
_WHO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "acknowledge": (("on_call",), ("tier-1",)),
    "triage": (("on_call", "incident_commander"), ("tier-1",)),
    "engage": (("on_call", "incident_commander"), ("tier-1",)),
    "escalate-tier-2": (("incident_commander",), ("tier-2",)),
    "escalate-tier-3": (("incident_commander",), ("tier-3",)),
    "escalate-management": (("incident_commander",), ("management",)),
    "notify-management": (("incident_commander",), ("management",)),
    "notify-executive": (("incident_commander",), ("executive",)),
    "notify-security": (("incident_commander", "security_gatekeeper"), ("security",)),
    "status-page-first-update": (("communications_lead", "incident_commander"), ()),
    "status-update": (("communications_lead", "incident_commander"), ()),
    "stakeholder-update": (("incident_commander", "communications_lead"), ("management",)),
    "resolve-target": (("incident_commander", "technical_lead"), ()),
    "resolve-sla": (("incident_commander", "technical_lead"), ("management",)),
    "major-incident": (("incident_commander",), ("management", "executive")),
    "business-continuity": (("incident_commander",), ("management", "executive")),
    "regulatory-deadline": (("security_gatekeeper", "incident_commander"), ("security",)),
    "pir-due": (("incident_commander", "technical_lead", "engineering_manager"), ()),
    "action-due": (("incident_commander",), ()),
}

_WHAT = {
    "acknowledge": "not acknowledged",
    "triage": "not triaged (impact and urgency not assessed)",
    "engage": "no responder engaged",
    "escalate-tier-2": "still in tier 1: escalate to tier 2",
    "escalate-tier-3": "still in tier 2: escalate to tier 3",
    "escalate-management": "still in tier 3: escalate to management",
    "notify-management": "management not notified",
    "notify-executive": "executives not notified",
    "notify-security": "security team not notified of a {flag}",
    "status-page-first-update": "no public status-page update yet",
    "status-update": "no status update since {start}",
    "stakeholder-update": "resolution SLA missed; no stakeholder update since {start}",
    "resolve-target": "not resolved within the target",
    "resolve-sla": "not resolved within the SLA",
    "business-continuity": "still unresolved: declare a major incident",
    "regulatory-deadline": "{subject} regulatory notification not recorded",
    "pir-due": "post-incident review not approved",
    "action-due": "preventive action {subject} ({note}) not done",
}

_DO = {
    "acknowledge": "Acknowledge now: incidentctl ack {id}; if the on-call does not answer, "
    "page the backup.",
    "triage": "Assess impact and urgency: incidentctl triage {id} --impact ... --urgency ...",
    "engage": "Engage a responder and open a bridge: incidentctl engage {id}",
    "escalate-tier-2": "Escalate to the component owners: incidentctl escalate {id} --tier 2",
    "escalate-tier-3": "Escalate to senior engineers and architects: "
    "incidentctl escalate {id} --tier 3",
    "escalate-management": "Escalate to management: incidentctl escalate {id} --management",
    "notify-management": "Notify management: incidentctl escalate {id} --management",
    "notify-executive": "Notify executives: incidentctl escalate {id} --executive",
    "notify-security": "Notify security and executives now, preserve evidence, keep it off the "
    "public status page: incidentctl escalate {id} --security",
    "status-page-first-update": "Post the first public update: "
    "incidentctl update {id} --public --message ...",
    "status-update": "Post a status update (every {every}): incidentctl update {id} --message ...",
    "stakeholder-update": "Escalate to the incident commander and update stakeholders every "
    "{stakeholder}: incidentctl update {id} --message ...",
    "resolve-target": "Prefer a fast mitigation (rollback, workaround) over a root-cause fix: "
    "incidentctl mitigate {id} --strategy ...",
    "resolve-sla": "SLA breached: escalate to the incident commander{stakeholder_cadence}.",
    "business-continuity": "Declare a major incident and activate business continuity; "
    "notify executives.",
    "regulatory-deadline": "Notify the regulator ({subject}) and record it: "
    "incidentctl regulatory {id} --regime {subject} --message '...'",
    "pir-due": "Write the blameless PIR and get it approved: incidentctl pir new {id}",
    "action-due": "Finish it, or agree a new due date with its owner in the PIR.",
}


def _person(incident: Incident, policy: Policy, role: str, now: datetime) -> str | None:
    if incident.roles is not None and getattr(incident.roles, role, None):
        return str(getattr(incident.roles, role))
    if role == "on_call":
        for rotation in policy.escalation.rotations:
            person = rotation.on_call(now)
            if person:
                return person
    return policy.escalation.roles.get(role)


def who(rule: str, incident: Incident, policy: Policy, now: datetime) -> list[str]:
    """The people and teams to notify for `rule` on `incident`, in order, without repeats."""
    roles, levels = _WHO.get(rule, ((), ()))
    found: list[str | None] = [_person(incident, policy, role, now) for role in roles]
    for level in levels:
        services: list[str | None] = [*incident.services] or [None]
        for service in services:
            contact = policy.contact(service, level)
            found.append(contact.primary if contact else None)
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
    what = _WHAT[rule].format(**values)
    return f"{priority} {what}: {timing}", _DO[rule].format(**values)


def major(priority: Priority, ids: list[str], timing: str) -> tuple[str, str]:
    message = f"major incident: {len(ids)} {priority} incidents open at once ({', '.join(ids)}): "
    advice = (
        "Declare a major incident: one incident commander across them, notify management and "
        "executives, and freeze changes until they are resolved."
    )
    return message + timing, advice


def runbook(name: str, book: Runbook, limit: Duration, timing: str) -> tuple[str, str]:
    if book.last_tested is None:
        message = f"runbook {name} has never been tested (limit {limit})"
    else:
        message = f"runbook {name} last tested {book.last_tested}, limit {limit}: {timing}"
    advice = f"Exercise the runbook, then record it: incidentctl runbook tested {name}"
    return message, advice
