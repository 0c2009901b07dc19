"""The team's policy: priority matrix, SLAs, escalation timers, contacts, components, and
the status page's identity.

Numbers live in YAML under `policies/`; the defaults ship as package data (the same files
`init` writes), so no timer is a constant in code. A repository file is merged over the
default of the same name (mappings merge, lists replace); a missing file means the default.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from incidentctl.core.model import EscalationKind, Level, Priority
from incidentctl.core.oncall import Oncall, Rotation, Shift, rotation_named, shift_at
from incidentctl.core.people import People
from incidentctl.core.timevalues import Duration

# Which file under policies/ holds each section of the Policy: the whole file (None), or
# one key of it. Loading, `init`, and the line of a schema error all read this one map.
POLICY_SECTIONS: dict[str, tuple[str, str | None]] = {
    "matrix": ("priority", "matrix"),
    "sla": ("sla", None),
    "escalation": ("escalation", None),
    "components": ("components", "components"),
    "page": ("components", "page"),
    "review": ("review", None),
    "oncall": ("oncall", None),
    "people": ("people", None),
    "intake": ("intake", None),
}
POLICY_FILES = tuple(dict.fromkeys(file for file, _ in POLICY_SECTIONS.values()))


def _duration(value: Any) -> Duration | None:
    if value is None or isinstance(value, Duration):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return Duration.parse(value)
    raise ValueError(f"expected a duration such as 15m, 2h or 1bd, got {value!r}")


Dur = Annotated[
    Duration | None,
    BeforeValidator(_duration),
    PlainSerializer(lambda d: None if d is None else str(d), return_type=str | None),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class PrioritySla(_Strict):
    acknowledge: Dur = None
    engage: Dur = None
    resolve_target: Dur = None
    resolve_breach: Dur = None
    status_update_every: Dur = None
    stakeholder_update_every: Dur = None
    business_continuity_after: Dur = None


class BusinessDays(_Strict):
    weekdays: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    timezone: str = "UTC"
    holidays: list[date] = Field(default_factory=list)


class Sla(_Strict):
    detect: Dur = None
    triage: Dur = None
    due_soon: Dur = None
    priorities: dict[Priority, PrioritySla]
    business_days: BusinessDays = Field(default_factory=BusinessDays)
    major_incident: dict[Priority, int] = Field(default_factory=dict)
    regulatory: dict[str, Dur] = Field(default_factory=dict)
    snooze_max: dict[Priority, Dur] = Field(default_factory=dict)


class FunctionalTimers(_Strict):
    tier_2: Dur = Field(None, alias="tier-2")
    tier_3: Dur = Field(None, alias="tier-3")
    management: Dur = None


class Hierarchical(_Strict):
    management: dict[Priority, Dur] = Field(default_factory=dict)
    executive: dict[str, Dur] = Field(default_factory=dict)
    status_page: dict[Priority, Dur] = Field(default_factory=dict)


class Contact(_Strict):
    primary: str | None = None
    backup: str | None = None


class Contacts(_Strict):
    default: dict[str, Contact] = Field(default_factory=dict)
    services: dict[str, dict[str, Contact]] = Field(default_factory=dict)

    def for_service(self, service: str | None, level: str) -> Contact | None:
        """The contact for a tier or level (tier-1..3, management, executive, security)."""
        if service and level in self.services.get(service, {}):
            return self.services[service][level]
        return self.default.get(level)


class Escalation(_Strict):
    """The timers are the rules an incident was declared under (frozen in its snapshot);
    who is called (contacts, roles, the older rotations) is read live (`live`)."""

    functional: dict[Priority, FunctionalTimers]
    hierarchical: Hierarchical = Field(default_factory=Hierarchical)
    contacts: Contacts = Field(default_factory=Contacts, exclude=True)
    roles: dict[str, str | None] = Field(default_factory=dict, exclude=True)
    rotations: list[Rotation] = Field(default_factory=list, exclude=True)


class Component(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    group: str | None = None
    description: str | None = None
    services: list[str] = Field(default_factory=list)


class Components(_Strict):
    components: list[Component] = Field(default_factory=list)


PAGE_ID_RULE = r"^[a-z0-9][a-z0-9-]{0,63}$"


class PageSettings(_Strict):
    """The status page's identity (components.yaml `page:`). Statuspage clients and feed
    readers key on the id, so it is set once and never derived from the display name;
    `site build --name/--base-url` override the name and URL."""

    name: str | None = Field(None, min_length=1, description="The page's display name")
    id: str | None = Field(
        None,
        pattern=PAGE_ID_RULE,
        description="Stable page id: page, feed and entry ids derive from it; never change it",
    )
    url: str | None = Field(
        None, description="Absolute http(s) URL the site is served from (no trailing slash)"
    )
    time_zone: str = Field("Etc/UTC", description="IANA time zone the page states")

    @field_validator("url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        return None if value is None else absolute_url(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; e.g. Etc/UTC or Europe/Berlin"
            ) from None
        return value


def absolute_url(value: str) -> str:
    """An absolute http(s) URL without its trailing slash, or ValueError."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"expected an absolute https:// or http:// URL, got {value!r}")
    return value.strip().rstrip("/")


class PirRule(_Strict):
    due: Dur = None
    required: bool = False


class Blameless(_Strict):
    """Blame language in a PIR's analysis: reported as warnings, never errors."""

    enabled: bool = True
    phrases: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    people: bool = True  # flag individuals named in the incident's roles and timeline


def _calendar_span(value: Any) -> Duration:
    span = _duration(value)
    if span is None or span.business_days:
        raise ValueError(f"expected a calendar duration such as 90d, got {value!r}")
    return span


CalendarSpan = Annotated[
    Duration, BeforeValidator(_calendar_span), PlainSerializer(str, return_type=str)
]


class RateTargets(_Strict):
    """The targets of the rate metrics (the time targets are the SLAs); the metrics read
    them from here. The defaults are those of the shipped review.yaml, for snapshots
    taken before the targets were policy."""

    tier_resolution: dict[int, tuple[float, float]] = Field(
        default_factory=lambda: {1: (0.60, 0.80), 2: (0.15, 0.30), 3: (0.05, 0.10)}
    )
    recurrence_max: float = Field(0.05, ge=0, le=1)
    recurrence_window: CalendarSpan = Duration(seconds=90 * 86400)
    pir_completion: float = Field(1.0, ge=0, le=1)
    action_on_time: float = Field(0.90, ge=0, le=1)

    @property
    def recurrence_days(self) -> int:
        """The recurrence window in whole days, as the reports count it."""
        return round(self.recurrence_window.seconds / 86400)


class Review(_Strict):
    pir: dict[Priority, PirRule]
    action_horizons: dict[str, Dur] = Field(default_factory=dict)
    runbook_max_untested: Dur = None
    pir_sections: list[str] = Field(default_factory=list)
    pir_min_whys: int = Field(5, ge=1, le=10)
    pir_impact: list[str] = Field(default_factory=list)
    blameless: Blameless = Field(default_factory=Blameless)
    targets: RateTargets = Field(default_factory=RateTargets)


class Classification(_Strict):
    impact: Level
    urgency: Level


class IntakeSource(_Strict):
    """How one alerting tool's alerts become incidents (policies/intake.yaml). Every name is
    a label, annotation or field of the alert as `intake` reads it, matched in any case."""

    level_from: list[str] = Field(default_factory=list)  # first present gives the level
    levels: dict[str, Classification] = Field(default_factory=dict)  # level -> classification
    default: Classification = Field(
        default_factory=lambda: Classification(impact=Level.MEDIUM, urgency=Level.MEDIUM)
    )
    services_from: list[str] = Field(default_factory=list)  # first present names the service
    title_from: list[str] = Field(default_factory=list)  # first present is the title
    ignore: list[dict[str, str | list[str]]] = Field(default_factory=list)  # all must match

    @field_validator("levels")
    @classmethod
    def _any_case(cls, value: dict[str, Classification]) -> dict[str, Classification]:
        return {k.lower(): v for k, v in value.items()}

    def classify(self, level: str | None) -> Classification:
        """The impact and urgency of an alert at `level` (the default when unknown)."""
        return self.levels.get((level or "").lower(), self.default)

    def ignores(self, fields: dict[str, str]) -> dict[str, str | list[str]] | None:
        """The first ignore rule every key of which the alert's fields match, if any."""
        lowered = {k.lower(): v.lower() for k, v in fields.items()}
        for rule in self.ignore:
            if rule and all(
                lowered.get(k.lower())
                in ([x.lower() for x in v] if isinstance(v, list) else [v.lower()])
                for k, v in rule.items()
            ):
                return rule
        return None


class Intake(_Strict):
    reopen_within: Dur = None
    sources: dict[str, IntakeSource] = Field(default_factory=dict)

    def source(self, name: str) -> IntakeSource:
        return self.sources.get(name) or IntakeSource()


class Policy(_Strict):
    matrix: dict[Level, dict[Level, Priority]]
    sla: Sla
    escalation: Escalation
    components: list[Component] = Field(default_factory=list)
    review: Review
    # The page's identity is not a rule an incident was declared under: not in the digest or
    # the snapshots, so renaming the page changes no incident's policy.
    page: PageSettings = Field(default_factory=PageSettings, exclude=True)
    # How alerts become incidents is not a rule an incident is judged under (the incident
    # records the classification it got), so it is left out of the digest too.
    intake: Intake = Field(default_factory=Intake, exclude=True)
    # Who is on call and how to reach them are read live, like the contacts: an override or
    # a new phone number made during an incident applies to it at once.
    oncall: Oncall = Field(default_factory=Oncall, exclude=True)
    people: People = Field(default_factory=People, exclude=True)

    def priority_for(self, impact: Level, urgency: Level) -> Priority:
        return self.matrix[impact][urgency]

    def known_services(self) -> set[str]:
        services = set(self.escalation.contacts.services)
        for component in self.components:
            services.update(component.services)
        return services

    def contact(self, service: str | None, kind: EscalationKind | str) -> Contact | None:
        return self.escalation.contacts.for_service(service, str(kind))

    def live(self, current: Policy) -> Policy:
        """This policy (an incident's snapshot) with what is read live taken from `current`:
        contacts, roles, rotations, overrides, the people directory, the intake mapping and the
        page identity.
        The matrix, the timers and the targets stay as they were at declaration."""
        escalation = self.escalation.model_copy(
            update={name: getattr(current.escalation, name) for name in LIVE_ESCALATION}
        )
        return self.model_copy(
            update={"escalation": escalation, **{name: getattr(current, name) for name in LIVE}}
        )

    def rotations(self) -> list[str]:
        """Every rotation's name: oncall.yaml's, then escalation.yaml's older ones."""
        names = [r.name for r in self.oncall.rotations]
        return names + [r.name for r in self.escalation.rotations if r.name not in names]

    def shift(self, name: str, at: datetime) -> Shift | None:
        """Who holds rotation `name`'s pager at `at` (None: no such rotation)."""
        found: Any = next((r for r in self.oncall.rotations if r.name == name), None)
        if found is None:
            found = next((r for r in self.escalation.rotations if r.name == name), None)
        return None if found is None else shift_at(found, self.oncall.overrides, at)

    def resolve(self, who: str | None, at: datetime) -> str | None:
        """A contact or role as a person at `at`: `rotation:NAME` is whoever is on call in
        it then (None if nobody is); anything else is itself."""
        name = rotation_named(who)
        if name is None:
            return who
        shift = self.shift(name, at)
        return shift.on_call if shift else None

    def on_call(self, at: datetime) -> str | None:
        """The on-call engineer at `at`: the `on_call` role (which may name a rotation),
        else whoever holds the first rotation that has someone on call."""
        role = self.escalation.roles.get("on_call")
        if role:
            return self.resolve(role, at)
        for name in self.rotations():
            shift = self.shift(name, at)
            if shift and shift.on_call:
                return shift.on_call
        return None

    def backup(self, contact: Contact, at: datetime) -> str | None:
        """A contact's backup at `at`: its own (a rotation resolved), else, for a contact
        that names a rotation, whoever is on call next in it."""
        if contact.backup:
            return self.resolve(contact.backup, at)
        name = rotation_named(contact.primary)
        shift = self.shift(name, at) if name else None
        return shift.next if shift else None

    def digest(self) -> str:
        """A short content hash identifying this policy (recorded at declaration)."""
        return "sha256:" + hashlib.sha256(self.canonical().encode()).hexdigest()[:16]

    def canonical(self) -> str:
        return json.dumps(
            self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
        )


# What an incident reads live rather than from its snapshot (see Policy.live).
LIVE = ("page", "intake", "oncall", "people")
LIVE_ESCALATION = ("contacts", "roles", "rotations")


def default_text(name: str) -> str:
    """The shipped default policy file `name`.yaml, comments and all."""
    return (resources.files("incidentctl") / "defaults" / "policies" / f"{name}.yaml").read_text(
        encoding="utf-8"
    )


def merge(base: Any, override: Any) -> Any:
    """Mappings merge key by key; anything else in the override replaces the base."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value) if key in base else value
        return merged
    return override


def assemble(files: dict[str, Any]) -> dict[str, Any]:
    """Turn per-file data (file name -> its mapping) into the Policy's shape; a key that is
    absent or null leaves its section to the model (no components: none)."""
    out: dict[str, Any] = {}
    for section, (file, key) in POLICY_SECTIONS.items():
        value = files[file] if key is None else files[file].get(key)
        if value is not None:
            out[section] = value
    return out


def locate(loc: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...]]:
    """(file, key path inside it) of the value at `loc`, a key path in the Policy: where a
    schema error is reported. An error about the whole policy is put on sla.yaml."""
    section = str(loc[0]) if loc else "sla"
    file, key = POLICY_SECTIONS.get(section, (section, None))
    return file, (loc[1:] if key is None else (key, *loc[1:]))


def source_path(policies_dir: Path | None, name: str) -> Path:
    if policies_dir is not None and (policies_dir / f"{name}.yaml").is_file():
        return policies_dir / f"{name}.yaml"
    return Path(f"<default policies/{name}.yaml>")
