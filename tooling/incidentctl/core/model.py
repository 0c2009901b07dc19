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


class BusinessImpact(_Model):
    revenue: str | None = Field(None, description="Revenue impact, e.g. '$12k/h' or 'none'")
    compliance_risk: bool | None = None
    reputation_risk: Risk | None = None
    safety_risk: bool | None = None


class Roles(_Model):
    incident_commander: str | None = None
    technical_lead: str | None = None
    communications_lead: str | None = None
    on_call: str | None = None


class Escalation(_Model):
    at: Timestamp
    kind: EscalationKind
    to: str | None = None
    by: str | None = None
    reason: str | None = None


class Mitigation(_Model):
    strategy: Strategy
    description: str | None = None
    at: Timestamp | None = None


class PriorityOverride(_Model):
    """A priority that disagrees with the matrix, allowed only with a written reason."""

    priority: Priority
    reason: str = Field(min_length=1)
    by: str | None = None


class TimelineEvent(_Model):
    at: Timestamp
    kind: EventKind
    by: str | None = None
    text: str | None = None
    public: bool = False
    status: PublicStatus | None = Field(None, description="Status-page status of a public update")
    priority: Priority | None = None
    tier: int | None = Field(None, ge=1, le=3)
    to: str | None = None
    rule: str | None = None
    until: Timestamp | None = None
    reason: str | None = None
    strategy: Strategy | None = None
    ref: str | None = Field(None, description="Commit SHA or PR of the cause or the fix")
    evidence: str | None = None
    test: str | None = None
    result: HypothesisResult | None = None
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
        named = {"field", "event", "old", "new"} & self.model_fields_set
        if self.kind != EventKind.CORRECTION:
            if named:
                raise ValueError(f"{', '.join(sorted(named))}: only a correction event has these")
            return self
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
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    summary: str | None = None
    status: Status = Status.DETECTED
    impact: Level
    urgency: Level
    priority: Priority
    priority_override: PriorityOverride | None = None
    category: Category | None = None
    detection: Detection | None = None
    reporter: str | None = None
    user_impact: str | None = None
    services: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    affected_users: int | None = Field(None, ge=0)
    business_impact: BusinessImpact | None = None
    security_breach: bool = False
    data_loss: bool = False
    public: bool = Field(True, description="May appear on the public status page")
    roles: Roles | None = None
    tier: int = Field(1, ge=1, le=3)
    started_at: Timestamp | None = None
    detected_at: Timestamp
    acknowledged_at: Timestamp | None = None
    triaged_at: Timestamp | None = None
    engaged_at: Timestamp | None = None
    mitigated_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    escalations: list[Escalation] = Field(default_factory=list)
    mitigation: Mitigation | None = None
    runbooks: list[str] = Field(default_factory=list)
    policy: str | None = Field(None, description="Hash of the policy in force at declaration")
    timeline: list[TimelineEvent] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status.is_open


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

    why: str
    because: str | None = None


class ContributingFactors(_Model):
    """The four fishbone groups; an empty group has not been considered yet."""

    people: list[str] = Field(default_factory=list)
    process: list[str] = Field(default_factory=list)
    technology: list[str] = Field(default_factory=list)
    environment: list[str] = Field(default_factory=list)


FISHBONE_GROUPS = ("people", "process", "technology", "environment")


class PirImpact(_Model):
    """User, business and SLO impact figures (free text where the process allows ranges)."""

    affected_users: int | None = Field(None, ge=0)
    affected_share: float | None = Field(None, ge=0, le=100, description="% of the user base")
    downtime_minutes: float | None = Field(None, ge=0, description="complete outage")
    degraded_minutes: float | None = Field(None, ge=0, description="degraded service")
    failed_transactions: int | None = Field(None, ge=0)
    revenue: str | None = Field(None, description="e.g. '$18,400 estimated' or 'none'")
    reputation: Risk | None = None
    compliance: str | None = Field(None, description="'none' or what applies")
    slo_availability: float | None = Field(None, ge=0, le=100, description="% in the SLO window")
    error_budget_consumed: float | None = Field(None, ge=0, description="% of the period's budget")
    sla_breached: bool | None = None


class ActionItem(_Model):
    """A preventive action: tracked until done, reminded when overdue."""

    id: str = Field(pattern=ACTION_ID_PATTERN)
    title: str = Field(min_length=1)
    owner: str | None = None
    horizon: Horizon | None = None
    due: Day | None = None
    status: ActionStatus = ActionStatus.OPEN
    issue: str | None = Field(None, description="Tracking issue: URL or #number")
    done_at: Day | None = None


class Pir(_Model):
    """The front-matter of a post-incident review (pir.md beside incident.md)."""

    incident: str = Field(pattern=ID_PATTERN)
    status: PirStatus = PirStatus.DRAFT
    facilitator: str | None = None
    date: Day | None = Field(None, description="Day of the review meeting")
    attendees: list[str] = Field(default_factory=list)
    approvers: list[str] = Field(default_factory=list)
    approved_at: Timestamp | None = Field(
        None, description="Only for imported reviews: otherwise the approving commit's time"
    )
    root_cause: str | None = Field(
        None, pattern=ROOT_CAUSE_PATTERN, description="Root-cause key, for recurrence"
    )
    whys: list[Why] = Field(default_factory=list)
    contributing_factors: ContributingFactors = Field(default_factory=ContributingFactors)
    impact: PirImpact = Field(default_factory=PirImpact)
    actions: list[ActionItem] = Field(default_factory=list)
    public: bool = Field(False, description="Publish public_summary on the status page")
    public_summary: str | None = Field(
        None, description="Customer-facing summary (markdown), shown once approved and public"
    )


class Runbook(_Model):
    """A runbook's front-matter. Its body's sections are checked by runbooks.py."""

    title: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="GitHub user or team, e.g. @org/team")
    services: list[str] = Field(min_length=1)
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

    at: DrillTime
    by: str | None = None
    result: DrillResult = DrillResult.PASSED
    note: str | None = None


Runbook.model_rebuild()  # Drill is defined after the class that uses it


LIFECYCLE_TIMESTAMPS = (
    "started_at",
    "detected_at",
    "triaged_at",
    "acknowledged_at",
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


class MaintenanceUpdate(_Model):
    """A public note on a maintenance (started early, extended, done)."""

    at: Timestamp
    text: str = Field(min_length=1)
    by: str | None = None


class Maintenance(_Model):
    """A scheduled maintenance window (maintenances/<ID>.md), shown on the status page.

    Its status is computed from `now`: scheduled before `scheduled_for`, in progress until
    `scheduled_until` (or `completed_at` when it ended early), completed after.
    """

    id: str = Field(pattern=MAINTENANCE_ID_PATTERN)
    title: str = Field(min_length=1)
    description: str | None = Field(None, description="Public text (markdown)")
    components: list[str] = Field(min_length=1)
    scheduled_for: Timestamp
    scheduled_until: Timestamp
    completed_at: Timestamp | None = None
    cancelled: bool = False
    public: bool = True
    created_at: Timestamp | None = None
    by: str | None = None
    updates: list[MaintenanceUpdate] = Field(default_factory=list)


HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9._-]+)?$")


def is_handle(value: str) -> bool:
    """@user or @org/team: what reminders can mention."""
    return bool(HANDLE.match(value))
