"""What a new post-incident review starts from: everything the incident file already knows.

Pure: takes the incident, its deadlines and runbooks, returns the template context for
`templates/pir.md.j2`. The reviewer should find the timeline, the key times against their
targets, the hypotheses, the cause and fix references and the impact figures filled in, and
spend the meeting on the analysis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from incidentctl.core import lifecycle
from incidentctl.core.model import (
    Category,
    EventKind,
    HypothesisResult,
    Incident,
    Runbook,
    TimelineEvent,
)
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import format_duration, format_timestamp
from incidentctl.deadlines.case import MET, MISSED, NOT_APPLICABLE, Deadline
from incidentctl.deadlines.registry import RULES, verdict
from incidentctl.render.context import plain_context

# milestone, incident field; the registry says which timers judge each field
_MILESTONES = (
    ("Impact started", "started_at"),
    ("Detected", "detected_at"),
    ("Acknowledged", "acknowledged_at"),
    ("Triaged", "triaged_at"),
    ("Engaged", "engaged_at"),
    ("Mitigated", "mitigated_at"),
    ("Resolved", "resolved_at"),
    ("Closed", "closed_at"),
)
_QUALIFIER = {"resolve-target": "target", "resolve-sla": "SLA"}
_SKIPPED = {EventKind.SNOOZED}


@dataclass(frozen=True)
class LinkedRunbook:
    name: str
    runbook: Runbook | None  # None: the incident names a runbook that does not exist


def since(start: datetime | None, at: datetime | None) -> str | None:
    """'+1h5m' after `start` ('-3m' before it); None when either is unknown."""
    if start is None or at is None:
        return None
    seconds = (at - start).total_seconds()
    return ("+" if seconds >= 0 else "") + format_duration(seconds)


def describe(event: TimelineEvent) -> str:
    """A timeline event as a PIR table's 'Event' column."""
    kind = event.kind
    if kind == EventKind.DECLARED:
        return f"Incident declared ({event.priority.value})" if event.priority else "Declared"
    if kind in (EventKind.TRIAGED, EventKind.RECLASSIFIED):
        what = "Triage complete" if kind == EventKind.TRIAGED else "Reclassified"
        return f"{what}, priority {event.priority.value}" if event.priority else what
    if kind == EventKind.ESCALATED:
        target = f" to {event.to}" if event.to else ""
        if event.tier:
            return f"Escalated to tier {event.tier}" + (f" ({event.to})" if event.to else "")
        return f"Escalated{target}"
    if kind == EventKind.UPDATE:
        if event.public:
            return f"Status page updated ({event.status.value if event.status else 'update'})"
        return "Internal update"
    if kind == EventKind.HYPOTHESIS:
        result = event.result.value if event.result else "pending"
        return f"Hypothesis {result}"
    if kind == EventKind.DECISION:
        return "Mitigation decision" + (f": {event.strategy.value}" if event.strategy else "")
    if kind == EventKind.MITIGATED:
        return "Mitigation deployed" + (f" ({event.strategy.value})" if event.strategy else "")
    if kind == EventKind.CAUSE:
        return "Root cause identified"
    if kind == EventKind.FIX:
        return "Fix deployed"
    return {
        EventKind.ACKNOWLEDGED: "Engineer acknowledged",
        EventKind.ENGAGED: "Responders engaged",
        EventKind.RESOLVED: "Incident resolved",
        EventKind.CLOSED: "Incident closed",
        EventKind.REOPENED: "Incident reopened",
        EventKind.NOTE: "Note",
        EventKind.CORRECTION: "Correction",
        EventKind.ALERT: "Alert fired",
        EventKind.ALERT_RESOLVED: "Alert resolved",
    }.get(kind, kind.value.capitalize())


def _notes(event: TimelineEvent) -> str:
    parts = [event.text or ""]
    if event.kind == EventKind.HYPOTHESIS and event.evidence:
        parts.append(f"evidence: {event.evidence}")
    if event.reason and event.kind == EventKind.DECISION:
        parts.append(f"why: {event.reason}")
    if event.ref:
        sha = re.fullmatch(r"[0-9a-f]{13,40}", event.ref)
        parts.append(f"ref {event.ref[:12] if sha else event.ref}")
    return "; ".join(p for p in parts if p)


def timeline_rows(incident: Incident) -> list[dict[str, str | None]]:
    """The PIR timeline: impact start, then every event in time order, with elapsed times."""
    rows: list[dict[str, str | None]] = []
    start = incident.detected_at
    if incident.started_at is not None and incident.started_at < incident.detected_at:
        rows.append(
            {
                "time": format_timestamp(incident.started_at),
                "since": since(start, incident.started_at),
                "event": "Impact started",
                "actor": None,
                "notes": f"detected {format_duration((start - incident.started_at).seconds)} later",
            }
        )
    for event in sorted(incident.timeline, key=lambda e: e.at):
        if event.kind in _SKIPPED:
            continue
        rows.append(
            {
                "time": format_timestamp(event.at),
                "since": since(start, event.at),
                "event": describe(event),
                "actor": event.by,
                "notes": _notes(event),
            }
        )
    return rows


def milestones(incident: Incident, deadlines: Iterable[Deadline]) -> list[dict[str, str | None]]:
    """Detection, acknowledgement, mitigation, resolution: when, after how long, on time?

    Target and verdict come from the timers that judge the milestone (the same deadlines as
    `incidentctl deadlines`); the target is shown as the due time after detection, like the
    time itself. A milestone two timers judge (resolved: target and SLA) gets a row each.
    """
    by_rule = {d.rule: d for d in deadlines if d.subject is None}
    out: list[dict[str, str | None]] = []
    for label, name in _MILESTONES:
        at: datetime | None = getattr(incident, name)
        judged: list[Deadline | None] = [
            by_rule[r.id]
            for r in RULES
            if r.milestone == name and r.id in by_rule and by_rule[r.id].state != NOT_APPLICABLE
        ]
        for deadline in judged or [None]:
            shown = label
            if deadline is not None and len(judged) > 1:
                shown = f"{label} ({_QUALIFIER.get(deadline.rule, deadline.rule)})"
            out.append(
                {
                    "milestone": shown,
                    "time": format_timestamp(at) if at else None,
                    "since": since(incident.detected_at, at) if name != "started_at" else None,
                    "target": since(incident.detected_at, deadline.due) if deadline else None,
                    "verdict": verdict(deadline.state) if deadline else None,
                }
            )
    return out


def _events(incident: Incident, kind: EventKind) -> list[TimelineEvent]:
    return [e for e in incident.timeline if e.kind == kind]


def _downtime(incident: Incident) -> float | int | None:
    end = incident.mitigated_at or incident.resolved_at
    begin = incident.started_at or incident.detected_at
    if end is None:
        return None
    minutes = round((end - begin).total_seconds() / 60, 1)
    return int(minutes) if minutes.is_integer() else minutes


def pir_context(
    incident: Incident,
    *,
    policy: Policy,
    deadlines: list[Deadline],
    runbooks: list[LinkedRunbook],
    facilitator: str | None,
    today: date,
    incident_path: str,
) -> dict[str, Any]:
    """Everything `templates/pir.md.j2` may use (each name documented in the README)."""
    hypotheses = lifecycle.hypotheses(incident.timeline)
    confirmed = [h for h in hypotheses if h.result == HypothesisResult.CONFIRMED]
    causes = _events(incident, EventKind.CAUSE)
    resolution = None
    if incident.mitigation is not None:
        resolution = incident.mitigation.description or incident.mitigation.strategy.value
    deadline_by_rule = {d.rule: d for d in deadlines if d.subject is None}
    sla = deadline_by_rule.get("resolve-sla")
    sla_breached = {MET: False, MISSED: True}.get(sla.state) if sla else None
    outage = incident.category == Category.AVAILABILITY
    minutes = _downtime(incident)
    duration = None
    if incident.resolved_at is not None:
        duration = format_duration(lifecycle.duration_seconds(incident, incident.resolved_at))
    rule = policy.review.pir.get(incident.priority)
    roles = incident.roles.model_dump() if incident.roles else {}
    values: dict[str, Any] = {
        "incident": incident,
        "incident_path": incident_path,
        "priority_name": incident.priority.label,
        "duration": duration,
        "today": today.isoformat(),
        "facilitator": facilitator,
        "attendees": sorted({v for v in roles.values() if v}),
        "rows": timeline_rows(incident),
        "milestones": milestones(incident, deadlines),
        "hypotheses": hypotheses,
        "confirmed": confirmed,
        "causes": causes,
        "fixes": _events(incident, EventKind.FIX),
        "decisions": _events(incident, EventKind.DECISION),
        "resolution": resolution,
        "downtime_minutes": minutes if outage else None,
        "degraded_minutes": None if outage else minutes,
        "sla_breached": sla_breached,
        "runbooks": runbooks,
        "runbook_suggestion": runbook_suggestion(incident, runbooks),
        "pir_due": (
            format_timestamp(incident.resolved_at + rule.due.timedelta)
            if rule and rule.due and incident.resolved_at and not rule.due.business_days
            else None
        ),
        "min_whys": policy.review.pir_min_whys,
    }
    return plain_context(values)


def runbook_suggestion(incident: Incident, runbooks: list[LinkedRunbook]) -> str | None:
    """What to do about runbooks after this incident, or None when they look fine."""
    existing = [r for r in runbooks if r.runbook is not None]
    services = ", ".join(incident.services) or "the affected services"
    if not existing:
        name = incident.services[0] if incident.services else "new-runbook"
        return (
            f"No runbook covered this incident. Write one for {services}: "
            f"incidentctl runbook new {name} --from-incident {incident.id}"
        )
    missing = [r.name for r in runbooks if r.runbook is None]
    if missing:
        return f"The incident links runbooks that do not exist: {', '.join(missing)}."
    return (
        "Update "
        + ", ".join(r.name for r in existing)
        + " with what this incident taught (incidentctl notify "
        + f"{incident.id} --template runbook-update), then record a drill "
        "(incidentctl runbook tested NAME)."
    )


def default_due(horizon: timedelta, today: date) -> date:
    """A preventive action's due date from its horizon, counted from today."""
    return today + timedelta(days=max(1, round(horizon.total_seconds() / 86400)))
