"""The values a communication template sees, built from an incident and its surroundings.

Pure: takes the incident, the policy it was declared under, `now`, its PIR, its deadlines,
runbooks and related incidents; returns a mapping. `public_context` is the subset public
templates get: nothing internal (notes, roles, impact figures, root-cause analysis) is in it.
A security or data-loss incident that was not released is seen redacted (core.disclosure):
a neutral title, its summary and user impact restricted; only `reveal` (`notify --reveal`,
internal templates) shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from incidentctl.core.disclosure import redacted
from incidentctl.core.lifecycle import (
    assigned_at,
    duration_seconds,
    hypotheses,
    identified_at,
    public_status,
)
from incidentctl.core.markdown import has_placeholder
from incidentctl.core.model import LIFECYCLE_TIMESTAMPS as _TIMES
from incidentctl.core.model import (
    EventKind,
    HypothesisResult,
    Incident,
    Pir,
    Runbook,
    TimelineEvent,
)
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import Duration, format_duration
from incidentctl.deadlines.timers import MISSED, OVERDUE, PENDING, Deadline
from incidentctl.render.context import plain_context

PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved")
# fmt: off
ROLE_KEYS = (
    "incident_commander", "technical_lead", "communications_lead", "on_call", "component_owner",
    "architect", "deployment_manager", "reliability_engineer", "security_gatekeeper",
    "support_lead", "engineering_manager", "executive_sponsor",
)
# fmt: on
# What public templates may see; everything else in the context is internal.
# fmt: off
PUBLIC_KEYS = (
    "template", "now", "id", "title", "affected", "symptoms", "public_status", "status_at",
    "update_every", "public_updates", "latest_public_update", "public_cause", "started_at",
    "detected_at", "resolved_at", "is_resolved", "eta", "pir_within",
)
# fmt: on


def _human(duration: Duration | None) -> str | None:
    """30 minutes, 1 hour, 48 hours, 1 week, 2 business days."""
    if duration is None:
        return None
    if duration.business_days:
        n = duration.business_days
        return f"{n} business day{'s' if n != 1 else ''}"
    s = round(duration.seconds)
    for unit, size, least in (("week", 604800, 0), ("day", 86400, 172801), ("hour", 3600, 0)):
        if s >= least and s and s % size == 0:
            return f"{s // size} {unit}{'s' if s != size else ''}"
    if s and s % 60 == 0:
        return f"{s // 60} minute{'s' if s != 60 else ''}"
    return format_duration(s)


def _hours_minutes(seconds: float) -> str:
    minutes = max(0, round(seconds / 60))
    return f"{minutes // 60}:{minutes % 60:02d}"


# -- the context ---------------------------------------------------------------------------
def _fields(obj: Any, *names: str) -> dict[str, Any]:
    """The named attributes of `obj`, all None without one: templates never miss a key.
    Enums are StrEnums: they render as their value and compare equal to strings."""
    return {name: getattr(obj, name) if obj is not None else None for name in names}


def _last(events: Iterable[TimelineEvent], kind: EventKind, **match: Any) -> TimelineEvent | None:
    found = None
    for e in events:
        if e.kind == kind and all(getattr(e, k) == v for k, v in match.items()):
            found = e
    return found


def _root_cause(incident: Incident, pir: Pir | None) -> tuple[str | None, str | None, str | None]:
    """(text, status, ref): the PIR's last why, a cause event, or the best hypothesis."""
    cause = _last(incident.timeline, EventKind.CAUSE)
    ref = cause.ref if cause else None
    if pir is not None:
        answered = [w.because for w in pir.whys if w.because and not has_placeholder(w.because)]
        if answered:
            return answered[-1], "confirmed", ref
    if cause is not None and cause.text:
        return cause.text, "confirmed", ref
    for result, label in (
        (HypothesisResult.CONFIRMED, "confirmed"),
        (HypothesisResult.PENDING, "hypothesis, not yet confirmed"),
    ):
        found = _last(hypotheses(incident.timeline), EventKind.HYPOTHESIS, result=result)
        if found is not None and found.text:
            return found.text, label, ref
    return None, None, ref


def _status_at(
    incident: Incident, current: str, entered: Mapping[str, datetime | None], now: datetime
) -> dict[str, datetime]:
    """When each status-page update is stamped: now for the current (open) state's next
    update, else when that update was posted or the state was entered, else now (a draft)."""
    out: dict[str, datetime] = {}
    for status in PUBLIC_STATUSES:
        posted = next(
            (e.at for e in incident.timeline if e.public and e.status and e.status == status),
            None,
        )
        if status == current and status != "resolved":
            out[status] = now
        else:
            out[status] = posted or entered.get(status) or now
    return out


def _deadline(deadlines: Sequence[Deadline], *rules: str) -> Deadline | None:
    live = [d for d in deadlines if d.rule in rules and d.state in (PENDING, OVERDUE) and d.due]
    return min(live, key=lambda d: d.due or datetime.max.replace(tzinfo=UTC), default=None)


UNASSIGNED = "unassigned"


def _roles(incident: Incident, policy: Policy, now: datetime) -> dict[str, str | None]:
    """Who holds each role. The incident commander is the incident's own, `unassigned`
    when it names none: the policy's incident-commander team is who to page for one
    (`commander_pool`), never presented as the assigned commander."""
    roles: dict[str, str | None] = dict.fromkeys(ROLE_KEYS)
    roles.update({k: v for k, v in policy.escalation.roles.items() if k in roles})
    roles["incident_commander"] = UNASSIGNED
    if incident.roles is not None:
        roles.update({k: v for k, v in incident.roles.model_dump().items() if v})
    service = incident.services[0] if incident.services else None
    for key, level in (("component_owner", "tier-2"), ("architect", "tier-3")):
        contact = policy.contact(service, level)
        roles[key] = roles[key] or (contact.primary if contact else None)
    # a role naming a rotation is whoever is on call in it now (the message goes out now)
    for key, value in roles.items():
        if key != "incident_commander":
            roles[key] = policy.resolve(value, now)
    if not roles["on_call"]:
        roles["on_call"] = policy.on_call(now)
    return roles


def _phrase(text: str | None, *, lower: bool = True) -> str | None:
    """Text to go inside a sentence: no final period; 'Tracking ...' -> 'tracking ...'."""
    if not text:
        return None
    text = text.strip().rstrip(".")
    if lower and len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("YES" if value else "NO")


def _component_names(incident: Incident, policy: Policy) -> list[str]:
    by_id = {c.id: c.name for c in policy.components}
    if incident.components:
        return [by_id.get(c, c) for c in incident.components]
    names = [c.name for c in policy.components if set(c.services) & set(incident.services)]
    return names or list(incident.services)


def context(
    incident: Incident,
    policy: Policy,
    now: datetime,
    *,
    pir: Pir | None = None,
    deadlines: Sequence[Deadline] = (),
    runbooks: Mapping[str, Runbook | None] | None = None,
    related: Sequence[Incident] = (),
    template: str = "",
    reveal: bool = False,
) -> dict[str, Any]:
    """Every value the templates may use (the README lists them)."""
    if not reveal:
        incident = redacted(incident)
    tl = incident.timeline
    start = incident.started_at or incident.detected_at
    sla = policy.sla.priorities.get(incident.priority)
    every = _human(sla.status_update_every) if sla else None
    root_cause, root_cause_status, cause_ref = _root_cause(incident, pir)
    users = incident.affected_users
    if users is None and pir is not None:
        users = pir.impact.affected_users
    identified = identified_at(incident)
    current = public_status(incident).value
    entered = {
        "investigating": incident.engaged_at or incident.detected_at,
        "identified": identified,
        "monitoring": incident.mitigated_at,
        "resolved": incident.resolved_at,
    }
    public_updates = [
        _fields(e, "at", "status", "text") for e in tl if e.public and e.kind == EventKind.UPDATE
    ]
    public_cause = _last((e for e in tl if e.public), EventKind.CAUSE)
    fix = _last(tl, EventKind.FIX)
    decision = _last(tl, EventKind.DECISION)
    resolved_event = _last(tl, EventKind.RESOLVED)
    mitigation = incident.mitigation
    next_update = _deadline(deadlines, "status-update", "stakeholder-update")
    target = _deadline(deadlines, "resolve-target") or _deadline(deadlines, "resolve-sla")
    pir_due = next((d for d in deadlines if d.rule == "pir-due" and d.due), None)
    pir_rule = policy.review.pir.get(incident.priority)
    roles = _roles(incident, policy, now)
    commander_at = assigned_at(incident, "incident_commander")
    duration = duration_seconds(incident, now)
    bi = incident.business_impact
    overdue = [d.rule for d in deadlines if d.state == OVERDUE]
    if not incident.is_open:
        action = "NONE"
    elif incident.security_breach or incident.data_loss or "business-continuity" in overdue:
        action = "DECISION REQUIRED"
    else:
        action = "AWARENESS ONLY"
    keywords = [*incident.services, *incident.components, incident.category, pir and pir.root_cause]
    id_match = re.match(r"^INC-\d{8}-(\w+)$", incident.id)
    short = id_match.group(1) if id_match else incident.id
    values: dict[str, Any] = {
        "template": template,
        "now": now,
        "incident": incident,
        "id": incident.id,
        "title": incident.title,
        "summary": incident.summary,
        "status": incident.status.value.upper(),
        "is_resolved": not incident.is_open,
        "priority": incident.priority.value,
        "priority_label": f"{incident.priority} ({incident.priority.label})",
        "impact": incident.impact.value.upper(),
        "urgency": incident.urgency.value.upper(),
        "category": incident.category.value if incident.category else None,
        "detection": incident.detection.value if incident.detection else None,
        "reporter": incident.reporter,
        "user_impact": incident.user_impact,
        "services": list(incident.services),
        "components": list(incident.components),
        "affected": _component_names(incident, policy),
        "affected_users": f"{users:,}" if users is not None else None,
        "affected_share": (
            f"{pir.impact.affected_share:g}%"
            if pir is not None and pir.impact.affected_share is not None
            else None
        ),
        "security_breach": incident.security_breach,
        "data_loss": incident.data_loss,
        "public": incident.public,
        **{f: getattr(incident, f) for f in _TIMES},
        "start_at": start,
        "duration": format_duration(duration),
        "duration_hm": _hours_minutes(duration),
        "elapsed": format_duration(duration),  # the same duration, by its earlier name
        "channel": f"#incident-{incident.detected_at:%Y-%m-%d}-{short.lower()}",
        "roles": roles,
        "commander": roles["incident_commander"],
        "commander_assigned_at": commander_at,
        "commander_pool": policy.escalation.roles.get("incident_commander"),
        "ic_assigned_at": commander_at,  # the same time, by its earlier name
        "business_impact": {
            "revenue": bi.revenue if bi else None,
            "compliance_risk": _yes_no(bi.compliance_risk) if bi else None,
            "reputation_risk": bi.reputation_risk.value.upper()
            if bi and bi.reputation_risk
            else None,
            "safety_risk": _yes_no(bi.safety_risk) if bi else None,
        },
        "root_cause": _phrase(root_cause, lower=False),
        "root_cause_status": root_cause_status,
        "cause_ref": cause_ref,
        "fix": fix.text if fix else None,
        "fix_ref": fix.ref if fix else None,
        "mitigation": {
            **_fields(mitigation, "strategy", "description"),
            "at": (mitigation.at if mitigation else None) or incident.mitigated_at,
        },
        "decision": _fields(decision, "text", "reason", "strategy"),
        "resolution_summary": (mitigation.description if mitigation else None)
        or (fix.text if fix else None)
        or (resolved_event.text if resolved_event else None),
        "hypotheses": [e.model_dump() for e in hypotheses(tl)],
        "escalations": [
            {
                **e.model_dump(),
                "after": format_duration((e.at - incident.detected_at).total_seconds()),
            }
            for e in incident.escalations
        ],
        "timeline": [e.model_dump() for e in tl],
        "public_status": current,
        "status_at": _status_at(incident, current, entered, now),
        "update_every": f"every {every}".replace("every 1 ", "every ") if every else "as needed",
        "public_updates": public_updates,
        "latest_public_update": public_updates[-1] if public_updates else None,
        "public_cause": _phrase(public_cause.text, lower=False) if public_cause else None,
        "symptoms": _phrase(incident.title),
        "keywords": list(dict.fromkeys(k for k in keywords if k)),
        "next_update": next_update.due if next_update else None,
        "next_update_overdue": bool(next_update and next_update.state == OVERDUE),
        "eta": target.due if target and incident.is_open else None,
        "eta_overdue": bool(target and incident.is_open and target.state == OVERDUE),
        "deadlines": [d.as_dict() for d in deadlines],
        "overdue": overdue,
        "missed": [d.rule for d in deadlines if d.state == MISSED],
        "executive_action": action,
        "pir": _pir(pir),
        "pir_due": pir_due.due if pir_due else None,
        "pir_within": _human(pir_rule.due) if pir_rule else None,
        "runbooks": [_runbook(n, (runbooks or {}).get(n)) for n in incident.runbooks],
        "related": [
            _fields(redacted(r), "id", "title", "priority", "status", "detected_at")
            for r in related
            if r.id != incident.id
        ],
    }
    return plain_context(values)


def _pir(pir: Pir | None) -> dict[str, Any]:
    return {
        "exists": pir is not None,
        **_fields(pir, "status", "date", "facilitator", "attendees", "root_cause"),
        "whys": [w.model_dump() for w in pir.whys] if pir else [],
        "contributing_factors": pir.contributing_factors.model_dump() if pir else {},
        "impact": pir.impact.model_dump() if pir else {},
        "actions": [a.model_dump() for a in pir.actions] if pir else [],
    }


def _runbook(name: str, runbook: Runbook | None) -> dict[str, Any]:
    return {
        "name": name,
        "path": f"runbooks/{name}.md",
        **_fields(runbook, "title", "owner", "last_tested", "symptoms"),
    }


def public_context(full: Mapping[str, Any]) -> dict[str, Any]:
    """Only what may appear on the public status page."""
    return {key: full[key] for key in PUBLIC_KEYS}
