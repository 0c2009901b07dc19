"""Pure lifecycle transitions: (incident, command, at, by) -> new incident, or a refusal.

DETECTED -> TRIAGED -> INVESTIGATING -> MITIGATING -> RESOLVED -> CLOSED. Skipping forward
is allowed (a responder may go straight to investigating); the only backward move is
reopen (RESOLVED -> INVESTIGATING). Every transition appends one timeline event.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from incidentctl.core.disclosure import release_event, sensitive, withheld
from incidentctl.core.documents import load_yaml
from incidentctl.core.errors import DocumentError, TransitionError
from incidentctl.core.model import (
    CHANGE_REF_RULE,
    Escalation,
    EscalationKind,
    EventKind,
    HypothesisResult,
    Incident,
    Level,
    Mitigation,
    Priority,
    PriorityOverride,
    PublicStatus,
    Roles,
    Status,
    Strategy,
    TimelineEvent,
    is_change_ref,
    is_handle,
)
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import format_timestamp, in_future

ORDER = list(Status)


def _stamp(value: datetime) -> str:
    return format_timestamp(value)


def classify(
    policy: Policy,
    impact: Level,
    urgency: Level,
    priority: Priority | None,
    reason: str | None,
    by: str | None,
) -> tuple[Priority, PriorityOverride | None]:
    """The matrix priority, or an explicit one that disagrees, if a reason is written."""
    computed = policy.priority_for(impact, urgency)
    if priority is None or priority == computed:
        return computed, None
    if not reason or not reason.strip():
        raise TransitionError(
            f"{impact} impact x {urgency} urgency is {computed} by the priority matrix, "
            f"not {priority}",
            hint=f"pass --reason 'why {priority} is right' to record an override, "
            "or drop --priority",
        )
    return priority, PriorityOverride(priority=priority, reason=reason.strip(), by=by)


def declare(
    *,
    policy: Policy,
    incident_id: str,
    title: str,
    impact: Level,
    urgency: Level,
    at: datetime,
    now: datetime,
    by: str | None,
    priority: Priority | None = None,
    reason: str | None = None,
    allow_unknown: bool = False,
    **fields: Any,
) -> Incident:
    """A new incident in DETECTED, classified, stamped with the policy in force. A security
    breach or data loss starts private (`public: false`) until it is released. Services and
    components must be the policy's unless `allow_unknown` (an alert is never refused)."""
    _not_future(at, now)
    if not allow_unknown:
        check_references(policy, fields.get("services", []), fields.get("components", []))
    started = fields.get("started_at")
    if started is not None and started > at:
        raise TransitionError(
            f"impact start {_stamp(started)} is after detection {_stamp(at)}",
            hint="--started-at is when users were first affected; it cannot follow detection",
        )
    final, override = classify(policy, impact, urgency, priority, reason, by)
    text = f"Declared {final}: {title}"
    roles = fields.get("roles")
    if isinstance(roles, Roles):  # named at declaration: the assignment is recorded here
        held = [(r, getattr(roles, r)) for r in ROLE_LABELS if getattr(roles, r)]
        if held:
            text += "; assigned " + ", ".join(f"{ROLE_LABELS[r]} {w}" for r, w in held)
    event = TimelineEvent(at=at, kind=EventKind.DECLARED, by=by, text=text, priority=final)
    if fields.get("security_breach") or fields.get("data_loss"):
        fields["public"] = False
    return Incident(
        id=incident_id,
        title=title,
        status=Status.DETECTED,
        impact=impact,
        urgency=urgency,
        priority=final,
        priority_override=override,
        detected_at=at,
        policy=policy.digest(),
        timeline=[event],
        **fields,
    )


def check_references(policy: Policy, services: list[str], components: list[str]) -> None:
    """Refuse a service or component the policy does not list (what `validate` would then
    fail on), with the closest known name. A policy that lists no services does not
    restrict them; components are always the policy's."""
    known_services = policy.known_services()
    known_components = {c.id for c in policy.components}
    for what, option, names, known in (
        ("service", "--services", services, known_services),
        ("component", "--components", components, known_components),
    ):
        if what == "service" and not known:
            continue
        for name in names:
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1)
            listed = ", ".join(sorted(known)[:8]) or "none"
            raise TransitionError(
                f"{option}: unknown {what} '{name}' (known: {listed})",
                hint=(f"did you mean '{close[0]}'? " if close else "")
                + f"{what}s are listed in policies/components.yaml (and services in "
                "policies/escalation.yaml contacts); --allow-unknown accepts it anyway",
            )


def _not_future(at: datetime, now: datetime) -> None:
    if in_future(at, now):
        raise TransitionError(
            f"time {_stamp(at)} is in the future (now is {_stamp(now)})",
            hint="--at records when something happened; leave it out to use the current time",
        )


def check_time(incident: Incident, at: datetime, now: datetime) -> None:
    _not_future(at, now)
    if at < incident.detected_at:
        raise TransitionError(
            f"time {_stamp(at)} is before the incident was detected "
            f"({_stamp(incident.detected_at)})",
            hint="check --at; events cannot precede detection",
        )
    if incident.timeline and at < incident.timeline[-1].at:
        last = incident.timeline[-1]
        raise TransitionError(
            f"time {_stamp(at)} is before the last timeline event "
            f"({last.kind.value} at {_stamp(last.at)})",
            hint="the timeline is append-only and in order; use a later --at, "
            "or record a correction",
        )


def require_open(incident: Incident, command: str) -> None:
    if not incident.is_open:
        hint = (
            "reopen it first with `incidentctl reopen`"
            if incident.status == Status.RESOLVED
            else "a closed incident cannot change; declare a new one that refers to it"
        )
        raise TransitionError(
            f"cannot {command} {incident.id}: it is {incident.status.value.upper()}", hint=hint
        )


def _advance(current: Status, target: Status) -> Status:
    """Move forward only; never backwards (a later status is kept)."""
    return target if ORDER.index(target) > ORDER.index(current) else current


def with_event(incident: Incident, event: TimelineEvent, **changes: Any) -> Incident:
    return incident.model_copy(update={**changes, "timeline": [*incident.timeline, event]})


def triage(
    incident: Incident,
    *,
    policy: Policy,
    impact: Level,
    urgency: Level,
    at: datetime,
    now: datetime,
    by: str | None,
    priority: Priority | None = None,
    reason: str | None = None,
    security_breach: bool = False,
    data_loss: bool = False,
    services: list[str] | None = None,
    components: list[str] | None = None,
    allow_unknown: bool = False,
) -> Incident:
    """Assess impact and urgency; the first triage moves to TRIAGED, later ones reclassify.
    A security breach or data loss found now makes the incident private until released.
    Services and components, when given, replace the incident's (the policy's names unless
    `allow_unknown`)."""
    require_open(incident, "triage")
    check_time(incident, at, now)
    affected: dict[str, Any] = {
        name: value
        for name, value in (("services", services), ("components", components))
        if value is not None
    }
    if not allow_unknown:
        check_references(policy, services or [], components or [])
    final, override = classify(policy, impact, urgency, priority, reason, by)
    first = incident.triaged_at is None
    kind = EventKind.TRIAGED if first else EventKind.RECLASSIFIED
    text = f"Impact {impact.value}, urgency {urgency.value}: {final}"
    if final != incident.priority:
        text += f" (was {incident.priority})"
    flags: dict[str, Any] = {}
    found = [
        (name, label)
        for name, label, on in (
            ("security_breach", "security breach", security_breach),
            ("data_loss", "data loss", data_loss),
        )
        if on and not getattr(incident, name)
    ]
    if found:
        flags = {name: True for name, _ in found} | {"public": False}
        text += f"; {' and '.join(label for _, label in found)}: private until released"
    event = TimelineEvent(at=at, kind=kind, by=by, text=text, priority=final)
    return with_event(
        incident,
        event,
        **flags,
        **affected,
        impact=impact,
        urgency=urgency,
        priority=final,
        priority_override=override,
        triaged_at=incident.triaged_at or at,
        status=_advance(incident.status, Status.TRIAGED),
    )


def acknowledge(incident: Incident, *, at: datetime, now: datetime, by: str | None) -> Incident:
    require_open(incident, "acknowledge")
    if incident.acknowledged_at is not None:
        raise TransitionError(
            f"{incident.id} was already acknowledged at {_stamp(incident.acknowledged_at)}"
        )
    check_time(incident, at, now)
    event = TimelineEvent(at=at, kind=EventKind.ACKNOWLEDGED, by=by, text="Acknowledged")
    return with_event(incident, event, acknowledged_at=at)


def engage(incident: Incident, *, at: datetime, now: datetime, by: str | None) -> Incident:
    """A responder is working on it: investigation starts."""
    require_open(incident, "engage")
    if incident.engaged_at is not None:
        raise TransitionError(f"{incident.id} was already engaged at {_stamp(incident.engaged_at)}")
    check_time(incident, at, now)
    event = TimelineEvent(at=at, kind=EventKind.ENGAGED, by=by, text="Responder engaged")
    return with_event(
        incident,
        event,
        engaged_at=at,
        acknowledged_at=incident.acknowledged_at or at,
        status=_advance(incident.status, Status.INVESTIGATING),
    )


def escalate(
    incident: Incident,
    *,
    kind: EscalationKind,
    to: str | None,
    reason: str | None,
    at: datetime,
    now: datetime,
    by: str | None,
    policy: Policy | None = None,
) -> Incident:
    """Functional (tier 2/3) or hierarchical (management/executive/security) escalation.

    Without `to`, the policy's primary contact for the level and the first affected
    service is named (a rotation: whoever is on call in it at `at`).
    """
    require_open(incident, "escalate")
    check_time(incident, at, now)
    if to is None and policy is not None:
        service = incident.services[0] if incident.services else None
        contact = policy.contact(service, kind)
        to = policy.resolve(contact.primary, at) if contact else None
    changes: dict[str, Any] = {}
    tier: int | None = None
    if kind in TIER_OF:
        tier = TIER_OF[kind]
        if tier <= incident.tier:
            raise TransitionError(
                f"{incident.id} is already in tier {incident.tier}",
                hint="functional escalation only moves up: tier 1 -> 2 -> 3",
            )
        changes["tier"] = tier
    else:
        already = [e for e in incident.escalations if e.kind == kind]
        if already:
            raise TransitionError(
                f"{kind.value} was already notified at {_stamp(already[0].at)}",
                hint="post an update with `incidentctl update` to keep them informed",
            )
    record = Escalation(at=at, kind=kind, to=to, by=by, reason=reason)
    target = f" to {to}" if to else ""
    event = TimelineEvent(
        at=at,
        kind=EventKind.ESCALATED,
        by=by,
        text=f"Escalated ({kind.value}){target}" + (f": {reason}" if reason else ""),
        tier=tier,
        to=to,
    )
    return with_event(incident, event, escalations=[*incident.escalations, record], **changes)


def identified_at(incident: Incident) -> datetime | None:
    """When the cause was known: the first `cause` event or confirmed hypothesis."""
    return min(
        (
            e.at
            for e in incident.timeline
            if e.kind == EventKind.CAUSE
            or (e.kind == EventKind.HYPOTHESIS and e.result == HypothesisResult.CONFIRMED)
        ),
        default=None,
    )


def public_status(incident: Incident) -> PublicStatus:
    """The status-page state the lifecycle implies: resolved once no longer open, monitoring
    while mitigating (a reopened incident investigates again), identified once the cause is
    known (identified_at), else investigating."""
    if not incident.is_open:
        return PublicStatus.RESOLVED
    if incident.status == Status.MITIGATING:
        return PublicStatus.MONITORING
    if identified_at(incident) is not None:
        return PublicStatus.IDENTIFIED
    return PublicStatus.INVESTIGATING


def update(
    incident: Incident,
    *,
    message: str,
    public: bool,
    status: PublicStatus | None,
    at: datetime,
    now: datetime,
    by: str | None,
) -> Incident:
    """A status update: internal note, or (with public) a status-page update."""
    if incident.status == Status.CLOSED:
        require_open(incident, "update")
    if not message.strip():
        raise TransitionError("the update message is empty", hint="pass --message 'what changed'")
    check_time(incident, at, now)
    if status == PublicStatus.RESOLVED and incident.is_open:
        raise TransitionError(
            f"{incident.id} is still {incident.status.value.upper()}; "
            "a 'resolved' update needs the incident resolved",
            hint="run `incidentctl resolve` first, then post the resolved update",
        )
    if public and withheld(incident):
        raise TransitionError(
            f"{incident.id} is a {_sensitive_kind(incident)} that was not released: "
            "a public update would put it on the status page",
            hint=f"release it first with `incidentctl release {incident.id} --reason '...'`, "
            "or post the update without --public",
        )
    event = TimelineEvent(
        at=at,
        kind=EventKind.UPDATE,
        by=by,
        text=message,
        public=public,
        status=(status or public_status(incident)) if public else status,
    )
    return with_event(incident, event)


def _sensitive_kind(incident: Incident) -> str:
    return "security breach" if incident.security_breach else "data loss"


def release(
    incident: Incident, *, reason: str, at: datetime, now: datetime, by: str | None
) -> Incident:
    """Release a security or data-loss incident for the status page: a `released` event and
    `public: true`. Nothing else makes such an incident public."""
    if not sensitive(incident):
        hint = (
            "it is public already: a public update (`incidentctl update "
            f"{incident.id} -m '...' --public`) puts it on the status page"
            if incident.public
            else "it is private by choice: set `public: true` in its file, then post a "
            f"public update with `incidentctl update {incident.id} -m '...' --public`"
        )
        raise TransitionError(
            f"{incident.id} is neither a security breach nor a data loss: "
            "there is nothing to release",
            hint=hint,
        )
    earlier = release_event(incident)
    if earlier is not None and incident.public:
        who = f" by {earlier.by}" if earlier.by else ""
        raise TransitionError(
            f"{incident.id} was already released at {_stamp(earlier.at)}{who}",
            hint=f"post a public update with `incidentctl update {incident.id} -m '...' --public`",
        )
    if not reason.strip():
        raise TransitionError(
            "say why it may be published", hint="--reason 'Approved by legal and security'"
        )
    check_time(incident, at, now)
    event = TimelineEvent(
        at=at,
        kind=EventKind.RELEASED,
        by=by,
        text=f"Released for the public status page: {reason.strip()}",
        reason=reason.strip(),
    )
    return with_event(incident, event, public=True)


def regulatory_notice(
    incident: Incident,
    *,
    regime: str,
    message: str,
    ref: str | None,
    at: datetime,
    now: datetime,
    by: str | None,
    policy: Policy,
) -> Incident:
    """Record that a regulator was notified: stops that regime's regulatory clock."""
    clocks = policy.sla.regulatory
    if regime not in clocks:
        known = ", ".join(sorted(clocks)) or "none"
        raise TransitionError(
            f"no regulatory clock '{regime}' in the policy {incident.id} was declared under "
            f"(configured: {known})",
            hint="regulatory clocks are set in policies/sla.yaml under `regulatory:`",
        )
    if not message.strip():
        raise TransitionError("say what was filed", hint="--message 'Notified the DPA, ref ...'")
    check_time(incident, at, now)
    event = TimelineEvent(
        at=at,
        kind=EventKind.NOTE,
        by=by,
        text=message,
        rule=f"regulatory-deadline:{regime}",
        ref=ref,
    )
    return with_event(incident, event)


def mitigate(
    incident: Incident,
    *,
    strategy: Strategy,
    note: str | None,
    at: datetime,
    now: datetime,
    by: str | None,
) -> Incident:
    require_open(incident, "mitigate")
    check_time(incident, at, now)
    event = TimelineEvent(
        at=at,
        kind=EventKind.MITIGATED,
        by=by,
        text=f"Mitigation deployed ({strategy.value})" + (f": {note}" if note else ""),
        strategy=strategy,
    )
    return with_event(
        incident,
        event,
        mitigation=Mitigation(strategy=strategy, description=note, at=at),
        mitigated_at=incident.mitigated_at or at,
        status=_advance(incident.status, Status.MITIGATING),
    )


def resolve(
    incident: Incident, *, at: datetime, now: datetime, by: str | None, note: str | None = None
) -> Incident:
    require_open(incident, "resolve")
    check_time(incident, at, now)
    event = TimelineEvent(at=at, kind=EventKind.RESOLVED, by=by, text=note or "Resolved")
    return with_event(incident, event, resolved_at=at, status=Status.RESOLVED)


def close(
    incident: Incident, *, at: datetime, now: datetime, by: str | None, note: str | None = None
) -> Incident:
    if incident.status != Status.RESOLVED:
        raise TransitionError(
            f"cannot close {incident.id}: it is {incident.status.value.upper()}, not RESOLVED",
            hint="resolve it first with `incidentctl resolve`"
            if incident.is_open
            else "it is already closed",
        )
    check_time(incident, at, now)
    event = TimelineEvent(at=at, kind=EventKind.CLOSED, by=by, text=note or "Closed")
    return with_event(incident, event, closed_at=at, status=Status.CLOSED)


def reopen(
    incident: Incident, *, at: datetime, now: datetime, by: str | None, reason: str | None = None
) -> Incident:
    """RESOLVED -> INVESTIGATING; the resolution clock restarts (resolved_at is cleared,
    the earlier resolution stays in the timeline)."""
    if incident.status != Status.RESOLVED:
        extra = "; declare a new incident that refers to it" if not incident.is_open else ""
        raise TransitionError(
            f"cannot reopen {incident.id}: it is {incident.status.value.upper()}",
            hint="only a RESOLVED incident can be reopened" + extra,
        )
    check_time(incident, at, now)
    event = TimelineEvent(
        at=at,
        kind=EventKind.REOPENED,
        by=by,
        text="Reopened" + (f": {reason}" if reason else ""),
        reason=reason,
    )
    return with_event(incident, event, resolved_at=None, status=Status.INVESTIGATING)


# The incident roles `assign` sets, with the words its event uses for them.
ROLE_LABELS = {
    "incident_commander": "incident commander",
    "technical_lead": "technical lead",
    "communications_lead": "communications lead",
    "on_call": "on-call engineer",
}


def _not_closed(incident: Incident, command: str) -> None:
    """A closed incident cannot change; a resolved one can still be documented."""
    if incident.status == Status.CLOSED:
        require_open(incident, command)


def duration_seconds(incident: Incident, now: datetime) -> float:
    """How long the incident lasted, the one definition every message and the PIR use: from
    the start of impact (`started_at`, else `detected_at`) to resolution, or to `now` while
    unresolved."""
    start = incident.started_at or incident.detected_at
    return ((incident.resolved_at or now) - start).total_seconds()


def assigned_at(incident: Incident, role: str) -> datetime | None:
    """When the role's current holder was assigned: the latest `assigned` event that names
    them for it (`incident commander @mchen`), or the declaration that named them. None when
    nothing recorded it (a role written into the file by hand), so no other time is ever
    presented as the assignment."""
    who = getattr(incident.roles, role, None) if incident.roles else None
    if not who:
        return None
    named = re.compile(re.escape(f"{ROLE_LABELS[role]} {who}") + r"(?![\w/-])")
    for event in reversed(incident.timeline):
        recorded = event.kind in (EventKind.ASSIGNED, EventKind.DECLARED)
        if recorded and event.text and named.search(event.text):
            return event.at
    return None


def assign(
    incident: Incident, *, roles: dict[str, str], at: datetime, now: datetime, by: str | None
) -> Incident:
    """Who holds which incident role from now on (the reminders name them): the roles set,
    one `assigned` event naming each change and whom it replaced."""
    _not_closed(incident, "assign roles of")
    if not roles:
        raise TransitionError(
            "name at least one role", hint="--commander, --tech-lead, --comms-lead or --on-call"
        )
    for role, who in roles.items():
        if role not in ROLE_LABELS:
            raise ValueError(f"unknown role {role!r}")  # a bug: the CLI names the roles
        if not is_handle(who):
            raise TransitionError(
                f"{ROLE_LABELS[role]} {who!r} is not a GitHub handle",
                hint="name a @user or an @org/team, so reminders can mention them",
            )
    check_time(incident, at, now)
    current = incident.roles or Roles()
    changes = {r: w for r, w in roles.items() if getattr(current, r) != w}
    if not changes:
        held = ", ".join(f"{ROLE_LABELS[r]} {w}" for r, w in roles.items())
        raise TransitionError(f"{incident.id} already has {held}: nothing to assign")
    parts = []
    for role, who in changes.items():
        was = getattr(current, role)
        parts.append(f"{ROLE_LABELS[role]} {who}" + (f" (was {was})" if was else ""))
    event = TimelineEvent(
        at=at, kind=EventKind.ASSIGNED, by=by, text="Assigned " + "; ".join(parts)
    )
    return with_event(incident, event, roles=current.model_copy(update=changes))


def _statement_key(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def hypotheses(timeline: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """Each hypothesis of the timeline once, in the order first stated, as it stands: a later
    event on the same statement (its outcome) wins, keeping the evidence and test stated
    earlier."""
    found: dict[str, TimelineEvent] = {}
    for event in timeline:
        if event.kind != EventKind.HYPOTHESIS:
            continue
        key = _statement_key(event.text)
        earlier = found.get(key)
        if earlier is None:
            found[key] = event
            continue
        kept = {
            name: getattr(earlier, name)
            for name in ("evidence", "test")
            if getattr(event, name) is None
        }
        found[key] = event.model_copy(update=kept)
    return list(found.values())


def hypothesis(
    incident: Incident,
    *,
    statement: str,
    evidence: str | None,
    test: str | None,
    result: HypothesisResult | None,
    at: datetime,
    now: datetime,
    by: str | None,
) -> Incident:
    """A hypothesis stated (pending) or judged. A later call on the same statement with a
    result records the outcome as a new event carrying the same statement."""
    _not_closed(incident, "record a hypothesis for")
    statement = " ".join(statement.split())
    if not statement:
        raise TransitionError("the hypothesis is empty", hint="--statement 'what might cause it'")
    check_time(incident, at, now)
    stated = next(
        (
            h
            for h in hypotheses(incident.timeline)
            if _statement_key(h.text) == _statement_key(statement)
        ),
        None,
    )
    if stated is not None:
        judged = stated.result not in (None, HypothesisResult.PENDING)
        if judged:
            raise TransitionError(
                f"the hypothesis was already {stated.result} at {_stamp(stated.at)}",
                hint="to set a recorded result right, use `incidentctl correct "
                f"{incident.id} --event N --field result --value ...`",
            )
        if result in (None, HypothesisResult.PENDING):
            raise TransitionError(
                f"the hypothesis was already stated at {_stamp(stated.at)}",
                hint="give --result confirmed or --result rejected to record its outcome",
            )
    event = TimelineEvent(
        at=at,
        kind=EventKind.HYPOTHESIS,
        by=by,
        text=statement,
        evidence=evidence.strip() if evidence and evidence.strip() else None,
        test=test.strip() if test and test.strip() else None,
        result=result or HypothesisResult.PENDING,
    )
    return with_event(incident, event)


def link(
    incident: Incident,
    *,
    kind: EventKind,
    ref: str,
    note: str | None,
    at: datetime,
    now: datetime,
    by: str | None,
) -> Incident:
    """The change that caused the incident (`cause`) or fixed it (`fix`), by its ref: the
    PIR lists them and the recurrence metric groups incidents by their cause."""
    if kind not in (EventKind.CAUSE, EventKind.FIX):
        raise ValueError(f"link records a cause or a fix, not {kind}")  # a bug
    _not_closed(incident, "link a change to")
    ref = ref.strip()
    if not is_change_ref(ref):
        raise TransitionError(f"{ref!r} does not name a change", hint=f"a ref is {CHANGE_REF_RULE}")
    check_time(incident, at, now)
    same = [e for e in incident.timeline if e.kind == kind and e.ref == ref]
    if same:
        raise TransitionError(
            f"{ref} was already linked as the {kind.value} at {_stamp(same[0].at)}"
        )
    default = "Caused by" if kind == EventKind.CAUSE else "Fixed by"
    text = note.strip() if note and note.strip() else f"{default} {ref}"
    event = TimelineEvent(at=at, kind=kind, by=by, text=text, ref=ref)
    return with_event(incident, event)


# The lifecycle time that records reaching each status after DETECTED, in lifecycle order.
REACHED_AT = {
    Status.TRIAGED: "triaged_at",
    Status.INVESTIGATING: "engaged_at",
    Status.MITIGATING: "mitigated_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
}
_FINISHED = (Status.RESOLVED, Status.CLOSED)
# What moves the status on the timeline: the commands' events, reopen included.
_MOVES = {
    EventKind.TRIAGED: Status.TRIAGED,
    EventKind.ENGAGED: Status.INVESTIGATING,
    EventKind.MITIGATED: Status.MITIGATING,
    EventKind.RESOLVED: Status.RESOLVED,
    EventKind.CLOSED: Status.CLOSED,
    EventKind.REOPENED: Status.INVESTIGATING,
}
TIER_OF = {EscalationKind.TIER_2: 2, EscalationKind.TIER_3: 3}


def required_times(status: Status) -> list[str]:
    """The lifecycle times an incident in `status` has recorded: the one that marks reaching
    it, and a closed incident's resolution. INVESTIGATING needs none: reopening returns there
    without a new engagement."""
    if status in (Status.DETECTED, Status.INVESTIGATING):
        return []
    earlier = [REACHED_AT[s] for s in _FINISHED if ORDER.index(s) < ORDER.index(status)]
    return [REACHED_AT[status], *earlier]


def forbidden_times(status: Status) -> list[str]:
    """The lifecycle times an incident in `status` cannot have: an open one has no resolution
    (reopening clears it), a resolved one is not closed. Earlier times stay: a reopened
    incident keeps its mitigated_at."""
    return [REACHED_AT[s] for s in _FINISHED if ORDER.index(s) > ORDER.index(status)]


def status_at(incident: Incident, now: datetime) -> Status:
    """The status the incident had at `now`.

    When nothing that moves the status (a lifecycle time, a lifecycle event) is after `now`,
    the stated status holds. Otherwise the lifecycle times and events up to `now` are replayed
    in time order: each moves the status forward, a reopen back to INVESTIGATING."""
    marks = [(getattr(incident, name), target) for target, name in REACHED_AT.items()]
    marks += [(e.at, _MOVES[e.kind]) for e in incident.timeline if e.kind in _MOVES]
    known = [(at, target) for at, target in marks if at is not None]
    if all(at <= now for at, _ in known):
        return incident.status
    status = Status.DETECTED
    for _, target in sorted((m for m in known if m[0] <= now), key=lambda m: m[0]):
        reopen = target == Status.INVESTIGATING and status in _FINISHED
        status = target if reopen else _advance(status, target)
    return status


def tier_reached(incident: Incident, by: datetime | None = None) -> int:
    """The functional tier the incident had reached by `by` (default: ever): the highest its
    escalation history records, 1 when it records none. A hand-written file without any
    escalation records keeps its stated tier."""
    if not incident.escalations:
        return incident.tier
    reached = (
        TIER_OF[e.kind]
        for e in incident.escalations
        if e.kind in TIER_OF and (by is None or e.at <= by)
    )
    return max(reached, default=1)


def as_of(incident: Incident, now: datetime) -> Incident:
    """The incident as it stood at `now`: what happened later is not known yet.

    For replays (`site build --now` in the past): events, escalations and lifecycle times after
    `now` are dropped and status, tier, priority and mitigation follow (status_at,
    tier_reached)."""
    changes: dict[str, Any] = {}
    for name in ("triaged_at", "acknowledged_at", "engaged_at", "mitigated_at", "resolved_at",
                 "closed_at"):  # fmt: skip
        value = getattr(incident, name)
        if value is not None and value > now:
            changes[name] = None
    if not changes and all(e.at <= now for e in incident.timeline):
        return incident
    kept = incident.model_copy(update=changes)
    timeline = [e for e in incident.timeline if e.at <= now]
    escalations = [e for e in incident.escalations if e.at <= now]
    status = status_at(incident, now)
    if status in _FINISHED and kept.resolved_at is None:
        # a resolution that a later reopen cleared from the file: the timeline still has it
        resolved = [e.at for e in timeline if e.kind == EventKind.RESOLVED]
        kept = kept.model_copy(update={"resolved_at": resolved[-1] if resolved else None})
    tier = tier_reached(incident, now)
    priority = incident.priority
    stated = [e.priority for e in timeline if e.priority is not None and e.kind in (
        EventKind.DECLARED, EventKind.TRIAGED, EventKind.RECLASSIFIED)]  # fmt: skip
    if stated and stated[-1] is not None:
        priority = stated[-1]
    mitigation = incident.mitigation
    if mitigation is not None and (
        kept.mitigated_at is None or (mitigation.at and mitigation.at > now)
    ):
        mitigation = None
    return kept.model_copy(
        update={
            "timeline": timeline,
            "escalations": escalations,
            "status": status,
            "tier": tier,
            "priority": priority,
            "mitigation": mitigation,
        }
    )


# Fields a correction cannot name: the identity, and the histories it is itself part of.
UNCORRECTABLE = ("id", "timeline", "escalations")


def correct(
    incident: Incident,
    *,
    at: datetime,
    now: datetime,
    by: str | None,
    field: str,
    value: Any,
    reason: str,
    event: datetime | int | None = None,
) -> Incident:
    """A recorded value set right, with a correction event that names the field (or the
    event, given by its `at` or its number N, 1 the first), the old and the new value and the
    reason: `validate --base` accepts exactly it."""
    check_time(incident, at, now)
    if not reason.strip():
        raise TransitionError("a correction needs a reason", hint="--reason 'why it was wrong'")
    if isinstance(event, int):
        event = _event_at(incident, event)
    if event is None:
        if field not in Incident.model_fields or field in UNCORRECTABLE:
            raise TransitionError(
                f"'{field}' is not a field a correction can set",
                hint="name an incident field (acknowledged_at, title, ...), or give --event "
                "and a field of that timeline event",
            )
        data = incident.model_dump(mode="json", exclude_none=True)
        old = data.get(field)
        checked = _validated(Incident, {**data, field: value}, field)
        updated = incident.model_copy(update={field: getattr(checked, field)})
        new = checked.model_dump(mode="json").get(field)
    else:
        matches = [i for i, e in enumerate(incident.timeline) if e.at == event]
        if len(matches) != 1:
            raise TransitionError(
                f"{len(matches) or 'no'} timeline events at {_stamp(event)}",
                hint="--event is the `at` of the one event to correct",
            )
        if field not in TimelineEvent.model_fields or field == "kind":
            raise TransitionError(f"'{field}' is not a field of a timeline event a correction sets")
        index = matches[0]
        data = incident.timeline[index].model_dump(mode="json", exclude_none=True)
        old = data.get(field)
        fixed = _validated(TimelineEvent, {**data, field: value}, field)
        new = fixed.model_dump(mode="json").get(field)
        timeline = list(incident.timeline)
        timeline[index] = fixed
        updated = incident.model_copy(update={"timeline": timeline})
    if old == new:
        raise TransitionError(f"{field} is already {new!r}: nothing to correct")
    note = TimelineEvent(
        at=at,
        kind=EventKind.CORRECTION,
        by=by,
        text=f"Corrected {field}" + (f" of the event at {_stamp(event)}" if event else ""),
        field=field,
        event=event,
        old=old,
        new=new,
        reason=reason,
    )
    return with_event(updated, note)


def _event_at(incident: Incident, number: int) -> datetime:
    """The `at` of timeline event N (1 the first), which is how a correction names it."""
    count = len(incident.timeline)
    if not 1 <= number <= count:
        raise TransitionError(
            f"{incident.id} has no timeline event {number}",
            hint=f"events are numbered 1 to {count} in file order (`incidentctl show "
            f"{incident.id}`)",
        )
    at = incident.timeline[number - 1].at
    if sum(1 for e in incident.timeline if e.at == at) > 1:
        raise TransitionError(
            f"timeline event {number} shares its time {_stamp(at)} with another event",
            hint="a correction names an event by its time: correct the other one's time first",
        )
    return at


def _validated(model: type[Any], data: dict[str, Any], field: str) -> Any:
    """The document with `field` set from what was typed: `null` unsets it; other text is
    taken as it is (a title with a colon stays text), else read as YAML (`[a, b]`)."""
    value = data[field]
    tries = [value]
    if isinstance(value, str) and value.strip() in ("null", "~"):
        tries = [None]
    elif isinstance(value, str):
        with contextlib.suppress(DocumentError):
            tries.append(load_yaml(Path("--value"), value))
    problem = ""
    for candidate in tries:
        try:
            return model.model_validate({**data, field: candidate})
        except ValidationError as exc:
            problem = problem or exc.errors()[0]["msg"].removeprefix("Value error, ")
    raise TransitionError(f"{field}: {problem}", hint="give a valid value")
