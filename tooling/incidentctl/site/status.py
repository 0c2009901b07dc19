"""What the status page may say, computed from the repository's data and `now`. Pure.

Everything published goes through `publish()`: it turns an incident into a `PublicIncident`
that holds only public values (title, affected components, status times, the `public: true`
updates and, once approved and marked public, the PIR's public summary). Pages, JSON, feeds
and badges are built from these projections only, so an internal field cannot leak by
accident: it is never in reach of a renderer.

Rules (the README states them too):
- an incident is published when it is `public: true` and has at least one `public: true`
  timeline event: nothing reaches customers until someone posts a public update;
- a security or data-loss incident is published only once released (a `released` event,
  `incidentctl release`), whatever `public:` says: before that nothing of it, not its title,
  text, ID, components' state or uptime, reaches any output;
- its public status is `resolved` once resolved or closed (`postmortem` once its PIR is
  approved and public), else the status of its latest public update, else the lifecycle's;
- impact (Statuspage's vocabulary): P0 critical, P1 major, P2 and P3 minor;
- a component's state during an incident: impact high -> major_outage, medium ->
  partial_outage, low -> degraded_performance (performance incidents one step milder, never
  below degraded_performance); from mitigation until resolution, degraded_performance;
- uptime over the window counts major_outage time fully and partial_outage time at 30%
  (Statuspage's weighting); degraded performance and maintenance are not downtime;
- the page's top-level status comes from its components, as Statuspage computes it
  (`page_status`): the worst component wins; a page without components shows its open
  incidents' impact;
- a maintenance's updates each keep the status they were posted in (scheduled, in_progress,
  verifying, completed); the first is posted when it is scheduled, and its start and end
  post one each when no update announced them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from incidentctl.core.disclosure import withheld
from incidentctl.core.model import (
    Category,
    Incident,
    Level,
    Maintenance,
    MaintenanceUpdate,
    Pir,
    PirStatus,
    Status,
)
from incidentctl.core.policy import Component

OPERATIONAL = "operational"
UNDER_MAINTENANCE = "under_maintenance"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
RANK = {OPERATIONAL: 0, UNDER_MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR: 4}
LABELS = {
    OPERATIONAL: "Operational",
    UNDER_MAINTENANCE: "Under maintenance",
    DEGRADED: "Degraded performance",
    PARTIAL: "Partial outage",
    MAJOR: "Major outage",
}
IMPACT_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
INDICATOR_TEXT = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
_IMPACT = {"P0": "critical", "P1": "major", "P2": "minor", "P3": "minor"}
_WEIGHT = {MAJOR: 1.0, PARTIAL: 0.3}
UPTIME_DAYS = 90


@dataclass(frozen=True)
class PublicUpdate:
    id: str
    at: datetime
    status: str
    text: str


@dataclass(frozen=True)
class PublicIncident:
    """The public face of an incident: nothing else of it is ever rendered."""

    id: str
    title: str
    status: str  # investigating | identified | monitoring | resolved | postmortem
    impact: str  # none | minor | major | critical
    level: str  # the component state while unmitigated
    components: tuple[str, ...]
    started_at: datetime
    created_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    updates: tuple[PublicUpdate, ...]  # newest first
    postmortem: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def updated_at(self) -> datetime:
        return max((u.at for u in self.updates), default=self.created_at)

    @property
    def mitigated_level(self) -> str:
        """The state from mitigation until resolution: at worst degraded performance."""
        return DEGRADED if RANK[self.level] > RANK[DEGRADED] else self.level

    def segments(self, now: datetime) -> list[tuple[datetime, datetime, str]]:
        """(start, end, state) windows of its effect on its components, up to `now`."""
        end = self.resolved_at or now
        turn = min(self.monitoring_at or end, end)
        out = []
        if turn > self.started_at:
            out.append((self.started_at, turn, self.level))
        if end > turn:
            out.append((turn, end, self.mitigated_level))
        return out

    def state_now(self) -> str:
        if not self.is_open:
            return OPERATIONAL
        return self.level if self.monitoring_at is None else self.mitigated_level


@dataclass(frozen=True)
class PublicMaintenance:
    """The public face of a maintenance; `updates` is never empty."""

    id: str
    title: str
    description: str | None
    components: tuple[str, ...]
    scheduled_for: datetime
    scheduled_until: datetime
    ends_at: datetime
    status: str  # scheduled | in_progress | verifying | completed
    created_at: datetime
    updates: tuple[PublicUpdate, ...]  # newest first; the oldest is the "scheduled" one


@dataclass
class Day:
    day: date
    state: str = OPERATIONAL
    incidents: list[str] = field(default_factory=list)  # titles, for the tooltip
    maintenances: list[str] = field(default_factory=list)


@dataclass
class ComponentView:
    id: str
    name: str
    group: str | None
    description: str | None
    position: int
    status: str
    uptime: float  # percent over the window
    days: list[Day]
    updated_at: datetime | None


def published(incident: Incident) -> bool:
    return incident.public and not withheld(incident) and any(e.public for e in incident.timeline)


def maybe_public(front: Mapping[str, Any]) -> bool:
    """`maybe_published` of the `public` field alone: False only for `public: false` (a
    site build's first glance, before the file is parsed)."""
    return front.get("public", True) is not False


def maybe_published(front: Mapping[str, Any]) -> bool:
    """`published` of an incident's front-matter as parsed, before its model is built: False
    only when `published` surely is (`public: false`, or a timeline none of whose events
    sets `public` to anything but false), so a site build builds no model of the incidents
    that never reach the site. Anything it cannot read exactly is "maybe"."""
    if not maybe_public(front):
        return False
    timeline = front.get("timeline", [])
    if not isinstance(timeline, list):
        return True
    return any(not isinstance(e, Mapping) or e.get("public", False) is not False for e in timeline)


def components_of(incident: Incident, components: Sequence[Component]) -> tuple[str, ...]:
    """The incident's status-page components: named ones, else those its services map to."""
    known = [c.id for c in components]
    if incident.components:
        return tuple(c for c in known if c in incident.components)
    services = set(incident.services)
    return tuple(c.id for c in components if services & set(c.services))


def _level(incident: Incident) -> str:
    steps = {Level.HIGH: 2, Level.MEDIUM: 1, Level.LOW: 0}[incident.impact]
    if incident.category == Category.PERFORMANCE:
        steps = max(0, steps - 1)
    return (DEGRADED, PARTIAL, MAJOR)[steps]


def publish(
    incident: Incident, pir: Pir | None, components: Sequence[Component]
) -> PublicIncident | None:
    """The public projection of an incident, or None when it must not be published."""
    if not published(incident):
        return None
    # each public update with the status it was posted in, else the one before it (the state
    # at its time); `latest` is the last one an update stated
    updates: list[PublicUpdate] = []
    latest: str | None = None
    current = "investigating"
    for index, event in enumerate(e for e in incident.timeline if e.public and e.text):
        if event.status:
            latest = current = event.status.value
        updates.append(
            PublicUpdate(f"{incident.id}-{index + 1}", event.at, current, event.text or "")
        )
    resolved_at = None if incident.status.is_open else incident.resolved_at
    if not incident.status.is_open and resolved_at is None:
        resolved_at = incident.closed_at or incident.detected_at
    postmortem = None
    if (
        pir is not None
        and pir.status == PirStatus.APPROVED
        and pir.public
        and pir.public_summary
        and pir.public_summary.strip()
    ):
        postmortem = pir.public_summary
    if resolved_at is not None:
        status = "postmortem" if postmortem else "resolved"
    else:
        status = latest or (
            "monitoring"
            if incident.status == Status.MITIGATING or incident.mitigated_at
            else "investigating"
        )
    return PublicIncident(
        id=incident.id,
        title=incident.title,
        status=status,
        impact=_IMPACT[incident.priority.value],
        level=_level(incident),
        components=components_of(incident, components),
        started_at=incident.started_at or incident.detected_at,
        created_at=incident.detected_at,
        monitoring_at=incident.mitigated_at,
        resolved_at=resolved_at,
        updates=tuple(sorted(updates, key=lambda u: u.at, reverse=True)),
        postmortem=postmortem,
    )


def update_status(item: Maintenance, update: MaintenanceUpdate) -> str:
    """The status an update was posted in: as recorded, else from its time (files written
    before updates recorded it)."""
    if update.status is not None:
        return update.status.value
    if update.at < item.scheduled_for:
        return "scheduled"
    end = item.completed_at or item.scheduled_until
    return "completed" if update.at >= end else "in_progress"


def maintenance_status(item: Maintenance, now: datetime) -> str:
    """scheduled, in_progress (from its start, until its end; verifying once an update says
    so) or completed; or cancelled."""
    if item.cancelled:
        return "cancelled"
    if now < item.scheduled_for:
        return "scheduled"
    if now >= (item.completed_at or item.scheduled_until):
        return "completed"
    posted = [update_status(item, u) for u in item.updates if u.at <= now]
    return "verifying" if posted and posted[-1] == "verifying" else "in_progress"


STARTED_TEXT = (
    "Scheduled maintenance is currently in progress. We will provide updates as necessary."
)
COMPLETED_TEXT = "The scheduled maintenance has been completed."


def _scheduled_text(item: Maintenance) -> str:
    window = f"{item.scheduled_for.astimezone(UTC):%Y-%m-%d %H:%M} to "
    window += f"{item.scheduled_until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"{item.title}: scheduled from {window}."


def publish_maintenance(item: Maintenance, now: datetime) -> PublicMaintenance | None:
    """The public projection of a maintenance as known at `now`, or None (private,
    cancelled, or not yet scheduled at `now`)."""
    created = item.created_at or item.scheduled_for
    if not item.public or item.cancelled or created > now:
        return None
    status = maintenance_status(item, now)
    ends_at = item.completed_at or item.scheduled_until
    text = item.description or _scheduled_text(item)
    timeline = [PublicUpdate(f"{item.id}-0", created, "scheduled", text)]
    posted = [
        PublicUpdate(f"{item.id}-{i + 1}", u.at, update_status(item, u), u.text)
        for i, u in enumerate(item.updates)
        if u.at <= now
    ]
    timeline += posted
    said = {u.status for u in posted}
    if status != "scheduled" and "in_progress" not in said:
        timeline.append(PublicUpdate(f"{item.id}-start", item.scheduled_for, "in_progress",
                                     STARTED_TEXT))  # fmt: skip
    if status == "completed" and "completed" not in said:
        timeline.append(PublicUpdate(f"{item.id}-end", ends_at, "completed", COMPLETED_TEXT))
    order = {"scheduled": 0, "in_progress": 1, "verifying": 2, "completed": 3}
    timeline.sort(key=lambda u: (u.at, order[u.status]), reverse=True)
    return PublicMaintenance(
        id=item.id,
        title=item.title,
        description=item.description,
        components=tuple(item.components),
        scheduled_for=item.scheduled_for,
        scheduled_until=item.scheduled_until,
        ends_at=ends_at,
        status=status,
        created_at=created,
        updates=tuple(timeline),
    )


# Statuspage's top-level status by the worst component state: (indicator, description) when
# only some components are in it, and when all of them are.
_TOP_LEVEL = {
    UNDER_MAINTENANCE: (("maintenance", "Service Under Maintenance"),) * 2,
    DEGRADED: (("minor", "Partially Degraded Service"), ("minor", "Degraded System Service")),
    PARTIAL: (("minor", "Minor Service Outage"), ("major", "Partial System Outage")),
    MAJOR: (("major", "Partial System Outage"), ("critical", "Major System Outage")),
}


def page_status(
    views: Sequence[ComponentView],
    incidents: Iterable[PublicIncident],
    maintenances: Iterable[PublicMaintenance],
) -> tuple[str, str]:
    """The page's (indicator, description), computed from the components as Statuspage
    does: the worst state wins, worded by whether every component is in it. Without
    components, the open incidents' worst impact, else maintenance while one runs."""
    if views:
        states = [v.status for v in views]
        worst = max(states, key=lambda state: RANK[state])
        if worst == OPERATIONAL:
            return "none", INDICATOR_TEXT["none"]
        return _TOP_LEVEL[worst][all(state == worst for state in states)]
    level = "none"
    for inc in incidents:
        if inc.is_open and IMPACT_RANK[inc.impact] > IMPACT_RANK[level]:
            level = inc.impact
    if level == "none" and any(m.status in ("in_progress", "verifying") for m in maintenances):
        level = "maintenance"
    return level, INDICATOR_TEXT[level]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def component_views(
    components: Sequence[Component],
    incidents: Sequence[PublicIncident],
    maintenances: Sequence[PublicMaintenance],
    now: datetime,
    *,
    days: int = UPTIME_DAYS,
) -> list[ComponentView]:
    """Each component's current status, its days (oldest first) and its uptime."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    window_start = _day_start(first)
    spans: dict[str, list[tuple[datetime, datetime, str, str, bool]]] = {
        c.id: [] for c in components
    }
    current: dict[str, str] = dict.fromkeys(spans, OPERATIONAL)
    changed: dict[str, datetime] = {}
    for inc in incidents:
        if inc.started_at > now:
            continue
        touched = inc.components
        for cid in touched:
            if RANK[inc.state_now()] > RANK[current[cid]]:
                current[cid] = inc.state_now()
            changed[cid] = max(changed.get(cid, inc.updated_at), inc.updated_at)
        if (inc.resolved_at or now) < window_start:
            continue
        for start, end, state in inc.segments(now):
            for cid in touched:
                spans[cid].append((start, min(end, now), state, inc.title, False))
    for m in maintenances:
        for cid in m.components:
            if cid not in spans:
                continue
            running = m.status in ("in_progress", "verifying")
            if running and RANK[UNDER_MAINTENANCE] > RANK[current[cid]]:
                current[cid] = UNDER_MAINTENANCE
            end = min(m.ends_at, now)
            if m.scheduled_for < end:
                spans[cid].append((m.scheduled_for, end, UNDER_MAINTENANCE, m.title, True))
    views = []
    total = (now - window_start).total_seconds()
    for position, comp in enumerate(components, start=1):
        day_list = [Day(first + timedelta(days=i)) for i in range(days)]
        for start, end, state, title, is_maintenance in spans[comp.id]:
            lo = max(start, window_start)
            if end <= lo:
                continue
            last = (end - timedelta(microseconds=1)).date()  # an end at midnight: day before
            for i in range((lo.date() - first).days, min((last - first).days, days - 1) + 1):
                entry = day_list[i]
                if RANK[state] > RANK[entry.state]:
                    entry.state = state
                names = entry.maintenances if is_maintenance else entry.incidents
                if title not in names:
                    names.append(title)
        down = _downtime(spans[comp.id], window_start, now)
        uptime = 100.0 if total <= 0 else max(0.0, 100.0 * (1 - down / total))
        views.append(
            ComponentView(
                id=comp.id,
                name=comp.name,
                group=comp.group,
                description=comp.description,
                position=position,
                status=current[comp.id],
                uptime=uptime,
                days=day_list,
                updated_at=changed.get(comp.id),
            )
        )
    return views


def _downtime(
    spans: Sequence[tuple[datetime, datetime, str, str, bool]], start: datetime, end: datetime
) -> float:
    """Weighted outage seconds in [start, end]: overlapping incidents count once, worst first."""
    points: set[datetime] = {start, end}
    clipped = []
    for lo, hi, state, _, _ in spans:
        if state not in _WEIGHT:
            continue
        lo, hi = max(lo, start), min(hi, end)
        if hi > lo:
            clipped.append((lo, hi, state))
            points.update((lo, hi))
    if not clipped:
        return 0.0
    ordered = sorted(points)
    seconds = 0.0
    for a, b in pairwise(ordered):
        weight = max(
            (_WEIGHT[state] for lo, hi, state in clipped if lo <= a and hi >= b), default=0.0
        )
        seconds += weight * (b - a).total_seconds()
    return seconds


def format_uptime(value: float) -> str:
    """Two decimals, never rounding a partial outage up to 100.00%."""
    shown = int(value * 100) / 100
    return f"{shown:.2f}%"
