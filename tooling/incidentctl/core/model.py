"""The incident record and its parts, as pydantic models with closed vocabularies.

Every model forbids unknown keys: a typo such as `acknowleged_at` must be an error, not a
silently ignored field that makes a timer fire.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from incidentctl.core.timevalues import format_timestamp, parse_date, parse_timestamp

# An incident ID is a folder name: the one rule for IDs typed (declare --id), generated
# (INC-YYYYMMDD-XXXX) and read from files (`id:`), and what every refusal says.
ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
ID_RULE = (
    "a letter, then up to 63 letters, digits, '-' or '_' (no '/', '.', spaces or line "
    "breaks), e.g. INC-20261127-7K3Q"
)
_ID_RE = re.compile(ID_PATTERN)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, str | datetime):
        return parse_timestamp(value)
    raise ValueError(f"expected a timestamp such as 2026-11-27T14:05:00Z, got {value!r}")


def _date(value: Any) -> date:
    if isinstance(value, str | date):
        return parse_date(value)
    raise ValueError(f"expected a date such as 2026-11-27, got {value!r}")


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
Day = Annotated[date, BeforeValidator(_date)]


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 is the most severe."""
        return int(self.value[1])

    @property
    def label(self) -> str:
        """The severity word people use for it: Critical, High, Medium, Low."""
        return _PRIORITY_LABELS[self]


_PRIORITY_LABELS = {
    Priority.P0: "Critical",
    Priority.P1: "High",
    Priority.P2: "Medium",
    Priority.P3: "Low",
}


class Status(StrEnum):
    DETECTED = "detected"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    MITIGATING = "mitigating"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)


class Category(StrEnum):
    AVAILABILITY = "availability"
    PERFORMANCE = "performance"
    FUNCTIONALITY = "functionality"
    SECURITY = "security"
    DATA_INTEGRITY = "data-integrity"


class Detection(StrEnum):
    AUTOMATED_ALERT = "automated-alert"
    USER_REPORT = "user-report"
    MONITORING = "monitoring"
    MANUAL = "manual"


class Strategy(StrEnum):
    ROLLBACK = "rollback"
    HOTFIX = "hotfix"
    CONFIG_CHANGE = "config-change"
    WORKAROUND = "workaround"
    SCALING = "scaling"


class EscalationKind(StrEnum):
    """Functional tiers and hierarchical levels share one history."""

    TIER_2 = "tier-2"
    TIER_3 = "tier-3"
    MANAGEMENT = "management"
    EXECUTIVE = "executive"
    SECURITY = "security"


class PublicStatus(StrEnum):
    """Status-page vocabulary (Statuspage's incident statuses)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    DECLARED = "declared"
    TRIAGED = "triaged"
    RECLASSIFIED = "reclassified"
    ACKNOWLEDGED = "acknowledged"
    ENGAGED = "engaged"
    ESCALATED = "escalated"
    UPDATE = "update"
    NOTE = "note"
    HYPOTHESIS = "hypothesis"
    DECISION = "decision"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CAUSE = "cause"
    FIX = "fix"
    SNOOZED = "snoozed"
    CORRECTION = "correction"
    RELEASED = "released"
    ASSIGNED = "assigned"
    ALERT = "alert"  # an alert group's new alerts, recorded by `intake`
    ALERT_RESOLVED = "alert-resolved"  # alerts of the group ended (never resolves it)


class HypothesisResult(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    PENDING = "pending"


class Risk(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_default=False)


class AlertSource(StrEnum):
    """The alerting tools `incidentctl intake` reads."""

    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    SENTRY = "sentry"
    GENERIC = "generic"


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertGroup(_Model):
    """One alert group this incident was declared or updated from: what dedupes the next
    delivery of the same group onto this incident."""

    source: AlertSource = Field(description="The alerting tool that sent it")
    key: str = Field(min_length=1, description="The group's identity (groupKey, incident id)")
    fingerprints: list[str] = Field(
        default_factory=list, description="Every alert of the group seen so far"
    )
    resolved: list[str] = Field(
        default_factory=list, description="The fingerprints whose alert has ended"
    )
    first_seen: Timestamp = Field(description="When the group was first received")
    last_status: AlertState = Field(description="firing, or resolved once every alert ended")
    url: str | None = Field(None, description="Link back to the alert in its tool")
    follows: str | None = Field(
        None, description="The earlier incident of the same group (closed, or long resolved)"
    )


class BusinessImpact(_Model):
    revenue: str | None = Field(None, description="Revenue impact, e.g. '$12k/h' or 'none'")
    compliance_risk: bool | None = Field(None, description="A legal or regulatory duty may apply")
    reputation_risk: Risk | None = Field(None, description="How much trust is at stake")
    safety_risk: bool | None = Field(None, description="People's safety may be affected")


class Roles(_Model):
    incident_commander: str | None = Field(None, description="Who leads the response (@handle)")
    technical_lead: str | None = Field(None, description="Who leads the technical work")
    communications_lead: str | None = Field(
        None, description="Who writes the status page and stakeholder updates"
    )
    on_call: str | None = Field(None, description="The on-call engineer paged first")


class Escalation(_Model):
    at: Timestamp = Field(description="When it was escalated (UTC timestamp)")
    kind: EscalationKind = Field(description="A functional tier or a hierarchical level")
    to: str | None = Field(None, description="Who or which team it went to")
    by: str | None = Field(None, description="Who escalated")
    reason: str | None = Field(None, description="Why it was escalated")


class Mitigation(_Model):
    strategy: Strategy = Field(description="How the impact was stopped")
    description: str | None = Field(None, description="What was done")
    at: Timestamp | None = Field(None, description="When the mitigation took effect")


class PriorityOverride(_Model):
    """A priority that disagrees with the matrix, allowed only with a written reason."""

    priority: Priority = Field(description="The priority in force instead of the matrix's")
    reason: str = Field(min_length=1, description="Why the matrix is overridden (required)")
    by: str | None = Field(None, description="Who decided the override")


_CORRECTION_FIELDS = frozenset({"field", "event", "old", "new"})


class TimelineEvent(_Model):
    at: Timestamp = Field(description="When it happened (UTC timestamp)")
    kind: EventKind = Field(description="What kind of event")
    by: str | None = Field(None, description="Who recorded or did it (@handle)")
    text: str | None = Field(None, description="What happened, or the update's text (markdown)")
    public: bool = Field(False, description="Shown on the public status page (updates)")
    status: PublicStatus | None = Field(None, description="Status-page status of a public update")
    priority: Priority | None = Field(None, description="The new priority (triaged, reclassified)")
    tier: int | None = Field(None, ge=1, le=3, description="The support tier now engaged (1-3)")
    to: str | None = Field(None, description="Who it was escalated or handed to")
    rule: str | None = Field(None, description="The timer rule a snooze postpones")
    until: Timestamp | None = Field(None, description="When a snooze ends")
    reason: str | None = Field(None, description="Why (snooze, reclassification, correction)")
    strategy: Strategy | None = Field(None, description="The mitigation strategy (mitigated)")
    ref: str | None = Field(None, description="Commit SHA or PR of the cause or the fix")
    evidence: str | None = Field(None, description="What supports a hypothesis or a cause")
    test: str | None = Field(None, description="How a hypothesis is tested")
    result: HypothesisResult | None = Field(None, description="A hypothesis's outcome")
    # a correction: what it corrects (`field` of the incident, or of the timeline event
    # recorded at `event`), the value before and after (absent: null) and the `reason`
    field: str | None = Field(None, description="Corrected field: resolved_at, title, text, ...")
    event: Timestamp | None = Field(None, description="`at` of the corrected timeline event")
    old: Any = Field(None, description="The corrected field's value before (null: unset)")
    new: Any = Field(None, description="Its value after the correction (null: removed)")

    @model_validator(mode="after")
    def _correction_names_its_change(self) -> TimelineEvent:
        """A correction is only accepted by `validate --base` for the change it names, so it
        must name one; the naming fields mean nothing on any other event."""
        given = self.model_fields_set
        if self.kind != EventKind.CORRECTION:
            if given.isdisjoint(_CORRECTION_FIELDS):  # every other event: no set built
                return self
            named = _CORRECTION_FIELDS & given
            raise ValueError(f"{', '.join(sorted(named))}: only a correction event has these")
        missing = [] if self.field else ["field"]
        if self.old is None and self.new is None:  # an absent value is null: unset
            missing.append("old or new")
        if not self.reason:
            missing.append("reason")
        if missing:
            raise ValueError(
                "a correction names the field it corrects, its old and new value (null: "
                f"unset) and the reason; missing: {', '.join(missing)}"
            )
        return self


class Incident(_Model):
    id: str = Field(pattern=ID_PATTERN, description="The incident ID, also its folder's name")
    title: str = Field(min_length=1, description="One line: what is broken, for whom")
    summary: str | None = Field(None, description="A short description of the incident")
    status: Status = Field(Status.DETECTED, description="Where the incident is in its lifecycle")
    impact: Level = Field(description="How much of the service is affected")
    urgency: Level = Field(description="How fast the impact grows or must be stopped")
    priority: Priority = Field(description="From impact x urgency (the priority matrix)")
    priority_override: PriorityOverride | None = Field(
        None, description="A priority other than the matrix's, with its reason"
    )
    category: Category | None = Field(None, description="What kind of failure")
    detection: Detection | None = Field(None, description="How it was noticed")
    reporter: str | None = Field(None, description="Who reported it (@handle or a name)")
    user_impact: str | None = Field(None, description="What users notice")
    services: list[str] = Field(default_factory=list, description="Affected internal services")
    components: list[str] = Field(
        default_factory=list, description="Affected status-page components (policies)"
    )
    affected_users: int | None = Field(None, ge=0, description="Estimated number of users hit")
    business_impact: BusinessImpact | None = Field(
        None, description="Revenue, compliance, reputation and safety"
    )
    security_breach: bool = Field(False, description="Data or systems were accessed or exposed")
    data_loss: bool = Field(False, description="Data was lost or corrupted")
    public: bool = Field(True, description="May appear on the public status page")
    roles: Roles | None = Field(None, description="Who holds which incident role")
    tier: int = Field(1, ge=1, le=3, description="The support tier engaged (1-3)")
    started_at: Timestamp | None = Field(None, description="When the impact began")
    detected_at: Timestamp = Field(description="When it was noticed (starts the timers)")
    acknowledged_at: Timestamp | None = Field(None, description="When a responder took it")
    triaged_at: Timestamp | None = Field(None, description="When impact and urgency were set")
    engaged_at: Timestamp | None = Field(None, description="When the responders were engaged")
    mitigated_at: Timestamp | None = Field(None, description="When the impact stopped")
    resolved_at: Timestamp | None = Field(None, description="When the cause was fixed")
    closed_at: Timestamp | None = Field(None, description="When the incident was closed")
    escalations: list[Escalation] = Field(
        default_factory=list, description="Every escalation, oldest first"
    )
    mitigation: Mitigation | None = Field(None, description="How the impact was stopped")
    runbooks: list[str] = Field(default_factory=list, description="Runbooks used (names)")
    alerts: list[AlertGroup] = Field(
        default_factory=list, description="The alert groups behind it (incidentctl intake)"
    )
    policy: str | None = Field(None, description="Hash of the policy in force at declaration")
    timeline: list[TimelineEvent] = Field(
        default_factory=list, description="What happened, oldest first; never rewritten"
    )

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def alerts_cleared(self) -> bool:
        """Every alert behind the incident has ended (it was declared from alerts)."""
        return bool(self.alerts) and all(g.last_status == AlertState.RESOLVED for g in self.alerts)


class PirStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in-review"
    APPROVED = "approved"


class Horizon(StrEnum):
    """When a preventive action is due: the process's three horizons."""

    IMMEDIATE = "immediate"
    SHORT_TERM = "short-term"
    LONG_TERM = "long-term"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (ActionStatus.DONE, ActionStatus.CANCELLED)


ACTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
ACTION_ID_RULE = "a letter or digit, then up to 31 letters, digits, '.', '_' or '-', e.g. A1"
ROOT_CAUSE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


class Why(_Model):
    """One level of the 5 whys: the question and its answer."""

    why: str = Field(description="The question: why did this happen?")
    because: str | None = Field(None, description="Its answer (the next why asks about it)")


class ContributingFactors(_Model):
    """The four fishbone groups; an empty group has not been considered yet."""

    people: list[str] = Field(default_factory=list, description="Skills, staffing, fatigue")
    process: list[str] = Field(default_factory=list, description="Procedures, reviews, hand-offs")
    technology: list[str] = Field(default_factory=list, description="Code, tools, infrastructure")
    environment: list[str] = Field(
        default_factory=list, description="Vendors, traffic, outside events"
    )


FISHBONE_GROUPS = ("people", "process", "technology", "environment")


class PirImpact(_Model):
    """User, business and SLO impact figures (free text where the process allows ranges)."""

    affected_users: int | None = Field(None, ge=0, description="Number of users affected")
    affected_share: float | None = Field(None, ge=0, le=100, description="% of the user base")
    downtime_minutes: float | None = Field(None, ge=0, description="complete outage")
    degraded_minutes: float | None = Field(None, ge=0, description="degraded service")
    failed_transactions: int | None = Field(None, ge=0, description="Requests or orders lost")
    revenue: str | None = Field(None, description="e.g. '$18,400 estimated' or 'none'")
    reputation: Risk | None = Field(None, description="How much trust is at stake")
    compliance: str | None = Field(None, description="'none' or what applies")
    slo_availability: float | None = Field(None, ge=0, le=100, description="% in the SLO window")
    error_budget_consumed: float | None = Field(None, ge=0, description="% of the period's budget")
    sla_breached: bool | None = Field(None, description="A contractual SLA was missed")


class ActionItem(_Model):
    """A preventive action: tracked until done, reminded when overdue."""

    id: str = Field(pattern=ACTION_ID_PATTERN, description="Unique within the PIR, e.g. A1")
    title: str = Field(min_length=1, description="What will be done")
    owner: str | None = Field(None, description="Who does it (@handle)")
    horizon: Horizon | None = Field(None, description="Immediate, short- or long-term")
    due: Day | None = Field(None, description="Due day (reminders start after it)")
    status: ActionStatus = Field(ActionStatus.OPEN, description="Where the action stands")
    issue: str | None = Field(None, description="Tracking issue: URL or #number")
    done_at: Day | None = Field(None, description="Day it was done or cancelled")
    reason: str | None = Field(None, description="Why it was cancelled, or how it was done")
    by: str | None = Field(None, description="Who marked it done or cancelled")


class Pir(_Model):
    """The front-matter of a post-incident review (pir.md beside incident.md)."""

    incident: str = Field(pattern=ID_PATTERN, description="The reviewed incident's ID")
    status: PirStatus = Field(PirStatus.DRAFT, description="draft, in-review or approved")
    facilitator: str | None = Field(None, description="Who runs the review (@handle)")
    date: Day | None = Field(None, description="Day of the review meeting")
    attendees: list[str] = Field(default_factory=list, description="Who took part")
    approvers: list[str] = Field(default_factory=list, description="Who must approve it")
    approved_at: Timestamp | None = Field(
        None, description="Only for imported reviews: otherwise the approving commit's time"
    )
    root_cause: str | None = Field(
        None, pattern=ROOT_CAUSE_PATTERN, description="Root-cause key, for recurrence"
    )
    whys: list[Why] = Field(default_factory=list, description="The 5 whys, first to last")
    contributing_factors: ContributingFactors = Field(
        default_factory=ContributingFactors, description="The fishbone: four groups of factors"
    )
    impact: PirImpact = Field(default_factory=PirImpact, description="Measured impact")
    actions: list[ActionItem] = Field(
        default_factory=list, description="Preventive actions, tracked until done"
    )
    public: bool = Field(False, description="Publish public_summary on the status page")
    public_summary: str | None = Field(
        None, description="Customer-facing summary (markdown), shown once approved and public"
    )


class Runbook(_Model):
    """A runbook's front-matter. Its body's sections are checked by runbooks.py."""

    title: str = Field(min_length=1, description="What the runbook is for")
    owner: str = Field(min_length=1, description="GitHub user or team, e.g. @org/team")
    services: list[str] = Field(min_length=1, description="Services it applies to (one or more)")
    last_tested: Day | None = Field(None, description="Day of the last drill that passed")
    symptoms: list[str] = Field(default_factory=list, description="Alerts and reports, one each")
    drills: list[Drill] = Field(default_factory=list, description="Exercises, oldest first")

    @staticmethod
    def valid_name(name: str) -> bool:
        """Names are file names and link targets: lowercase slugs, never a path."""
        return re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", name) is not None


def _when(value: Any) -> datetime | date:
    """A drill's time: a timestamp, or a bare date for drills recorded by hand."""
    if isinstance(value, str) and len(value.strip()) == len("2026-11-27"):
        return _date(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _timestamp(value)


def _when_text(value: datetime | date) -> str:
    return format_timestamp(value) if isinstance(value, datetime) else value.isoformat()


DrillTime = Annotated[
    datetime | date,
    BeforeValidator(_when),
    PlainSerializer(_when_text, return_type=str, when_used="json"),
]


class DrillResult(StrEnum):
    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"


class Drill(_Model):
    """One exercise of a runbook (game day, staging failover, real incident)."""

    at: DrillTime = Field(description="When: a timestamp, or a day for drills noted by hand")
    by: str | None = Field(None, description="Who ran it")
    result: DrillResult = Field(DrillResult.PASSED, description="passed, partial or failed")
    note: str | None = Field(None, description="What was learned")


Runbook.model_rebuild()  # Drill is defined after the class that uses it


LIFECYCLE_TIMESTAMPS = (  # in lifecycle order, as `show` lists them
    "started_at",
    "detected_at",
    "acknowledged_at",
    "triaged_at",
    "engaged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


def valid_id(value: str) -> bool:
    """IDs become folder names: ID_RULE, never a path (fullmatch: `$` alone would let a
    trailing line break through)."""
    return _ID_RE.fullmatch(value) is not None


# -- scheduled maintenance -------------------------------------------------------------------
MAINTENANCE_ID_PATTERN = r"^MNT-[A-Za-z0-9_-]{1,60}$"
MAINTENANCE_ID_RULE = "MNT- and up to 60 letters, digits, '-' or '_', e.g. MNT-20261201-7K3Q"


class MaintenancePhase(StrEnum):
    """Statuspage's maintenance statuses, as an update records the one it was posted in."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


class MaintenanceUpdate(_Model):
    """A public note on a maintenance (started early, extended, done)."""

    at: Timestamp = Field(description="When it was posted (UTC timestamp)")
    text: str = Field(min_length=1, description="Public text (markdown)")
    by: str | None = Field(None, description="Who posted it")
    status: MaintenancePhase | None = Field(
        None,
        description="The status it was posted in (scheduled, in_progress, verifying, "
        "completed); without it, from its time",
    )


class Maintenance(_Model):
    """A scheduled maintenance window (maintenances/<ID>.md), shown on the status page.

    Its status is computed from `now`: scheduled before `scheduled_for`, in progress until
    `scheduled_until` (or `completed_at` when it ended early), completed after.
    """

    id: str = Field(pattern=MAINTENANCE_ID_PATTERN, description="MNT-..., also the file's name")
    title: str = Field(min_length=1, description="What is being maintained")
    description: str | None = Field(None, description="Public text (markdown)")
    components: list[str] = Field(min_length=1, description="Status-page components affected")
    scheduled_for: Timestamp = Field(description="When the window starts")
    scheduled_until: Timestamp = Field(description="When the window ends")
    completed_at: Timestamp | None = Field(None, description="When it ended (early or late)")
    cancelled: bool = Field(False, description="Called off; takes no further update")
    public: bool = Field(True, description="Shown on the public status page")
    created_at: Timestamp | None = Field(None, description="When it was scheduled")
    by: str | None = Field(None, description="Who scheduled it")
    updates: list[MaintenanceUpdate] = Field(
        default_factory=list, description="Public notes, oldest first"
    )


HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9._-]+)?$")


def is_handle(value: str) -> bool:
    """@user or @org/team: what reminders can mention."""
    return bool(HANDLE.match(value))


# A change that caused or fixed an incident: a commit SHA, `#123`, `owner/repo#123`, or the
# URL of a pull request, merge request, issue or commit.
CHANGE_REF = re.compile(
    r"[0-9a-fA-F]{7,40}"
    r"|(?:[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+)?#[1-9][0-9]{0,9}"
    r"|https?://[^\s/]+(?:/[^\s/]+)+/(?:pull|pulls|issues|merge_requests|commit|commits)"
    r"/[0-9A-Za-z]+/?"
)
CHANGE_REF_RULE = (
    "a commit SHA (7 to 40 hex digits), #123, owner/repo#123, or the URL of a pull request, "
    "issue or commit (https://github.com/org/repo/pull/123)"
)


def is_change_ref(value: str) -> bool:
    """Whether `value` names one change: what `link --cause/--fix` records as `ref`."""
    return CHANGE_REF.fullmatch(value) is not None
