"""Validation rules over one incident and across the repository, each finding located.

Schema problems come from the model (store.load); this module adds the process rules
the schema cannot express: classification, chronology, status consistency, placement,
references, duplicate IDs, and, against a base revision, the append-only history.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from incidentctl.core.diagnostics import field_name
from incidentctl.core.disclosure import withheld
from incidentctl.core.documents import Document, Loaded
from incidentctl.core.errors import (
    MAX_FINDINGS_PER_FILE,
    DocumentError,
    DocumentErrors,
    more_findings,
)
from incidentctl.core.lifecycle import forbidden_times, required_times, tier_reached
from incidentctl.core.model import (
    LIFECYCLE_TIMESTAMPS,
    EventKind,
    Incident,
    TimelineEvent,
    is_handle,
)
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import format_timestamp

_ORDER = [
    "started_at",
    "detected_at",
    ("triaged_at", "acknowledged_at"),
    "engaged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
]
_STEPS = [step if isinstance(step, tuple) else (step,) for step in _ORDER]


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    rule: str
    message: str
    hint: str | None = None
    field: str | None = None
    severity: str = "error"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def at(
        cls,
        doc: Document,
        rule: str,
        loc: tuple[str | int, ...],
        message: str,
        hint: str | None = None,
        severity: str = "error",
    ) -> Finding:
        """A finding on the value at key path `loc` of a document: its line and field name."""
        line = doc.line_of(loc) if loc else None
        return cls(str(doc.path), line, rule, message, hint, field_name(loc) or None, severity)

    @classmethod
    def from_error(cls, error: DocumentError) -> Finding:
        return cls(
            path=error.path,
            line=error.line,
            rule=error.rule,
            message=error.message,
            hint=error.hint,
            field=error.field,
        )


TRUNCATED = "truncated"  # the rule of the line that stands for a file's findings not shown


def finding_order(finding: Finding) -> tuple[str, bool, int, str]:
    """File, then line, then rule; a file's "and N more" line last."""
    return (finding.path, finding.rule == TRUNCATED, finding.line or 0, finding.rule)


def capped(findings: Sequence[Finding]) -> list[Finding]:
    """At most MAX_FINDINGS_PER_FILE findings of each file (the first by line), then one
    that says how many more there are; the order is otherwise kept."""
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    dropped: set[int] = set()
    more: list[Finding] = []
    for path, group in by_path.items():
        if len(group) <= MAX_FINDINGS_PER_FILE:
            continue
        ranked = sorted(group, key=lambda f: (f.line is None, f.line or 0))
        rest = ranked[MAX_FINDINGS_PER_FILE:]
        dropped.update(id(f) for f in rest)
        worst = "error" if any(f.severity == "error" for f in rest) else "warning"
        more.append(
            Finding(
                path,
                None,
                TRUNCATED,
                more_findings(len(rest)),
                "fix the ones shown (often one mistake), then validate again",
                severity=worst,
            )
        )
    return [f for f in findings if id(f) not in dropped] + more


@dataclass
class Context:
    """What the rules need to know about the rest of the repository."""

    policy: Policy  # in force now: services, components
    runbooks: set[str]
    snapshot_exists: Callable[[str], bool] | None = None
    # the policy an incident was declared under (classification is judged by it)
    policy_for: Callable[[Incident], Policy] | None = None

    @cached_property
    def services(self) -> set[str]:
        """The services the current policy knows (the same for every incident checked)."""
        return self.policy.known_services()

    @cached_property
    def components(self) -> set[str]:
        return {c.id for c in self.policy.components}


def check_incident(loaded: Loaded, ctx: Context) -> list[Finding]:
    inc, doc = loaded.incident, loaded.doc
    out: list[Finding] = []

    def add(
        rule: str,
        loc: tuple[str | int, ...],
        message: str,
        hint: str | None = None,
        severity: str = "error",
    ) -> None:
        out.append(Finding.at(doc, rule, loc, message, hint, severity))

    _classification(inc, ctx.policy_for(inc) if ctx.policy_for else ctx.policy, add)
    _chronology(inc, add)
    _status(inc, add)
    _disclosure(inc, add)
    _placement(inc, doc.path, add)
    _references(inc, ctx, add)
    _corrections(inc, add)
    if inc.policy and ctx.snapshot_exists is not None and not ctx.snapshot_exists(inc.policy):
        add(
            "policy",
            ("policy",),
            f"policy {inc.policy} is unknown: no snapshot in policies/snapshots/",
            "timers use the current policy; restore the snapshot file from git history",
            "warning",
        )
    return out


def _classification(inc: Incident, policy: Policy, add: Any) -> None:
    computed = policy.priority_for(inc.impact, inc.urgency)
    override = inc.priority_override
    if override is not None and override.priority != inc.priority:
        add(
            "classification",
            ("priority_override", "priority"),
            f"priority_override says {override.priority} but priority is {inc.priority}",
            "make them agree, or remove the override",
        )
    elif inc.priority != computed and override is None:
        add(
            "classification",
            ("priority",),
            f"{inc.impact.value} impact x {inc.urgency.value} urgency is {computed} by the "
            f"priority matrix, not {inc.priority}",
            f"set priority: {computed}, or record priority_override with a reason",
        )


def _chronology(inc: Incident, add: Any) -> None:
    previous: tuple[str, Any] | None = None
    for names in _STEPS:
        present = [(n, value) for n in names if (value := getattr(inc, n)) is not None]
        for name, value in present:
            if previous is not None and value < previous[1]:
                add(
                    "chronology",
                    (name,),
                    f"{name} {format_timestamp(value)} is before {previous[0]} "
                    f"{format_timestamp(previous[1])}",
                    "lifecycle times run: started, detected, triaged/acknowledged, engaged, "
                    "mitigated, resolved, closed",
                )
        if len(present) == 1:
            previous = present[0]
        elif present:
            previous = max(present, key=lambda item: item[1])
    last = None
    detected = inc.detected_at
    for index, event in enumerate(inc.timeline):
        if event.at < detected:
            add(
                "timeline-order",
                ("timeline", index, "at"),
                f"event {event.kind.value} at {format_timestamp(event.at)} is before detection "
                f"({format_timestamp(inc.detected_at)})",
            )
        if last is not None and event.at < last:
            add(
                "timeline-order",
                ("timeline", index, "at"),
                f"event {event.kind.value} at {format_timestamp(event.at)} is earlier than the "
                f"event before it ({format_timestamp(last)})",
                "the timeline is append-only and in time order; fix the time or record a "
                "correction event",
            )
        if last is None or event.at > last:  # the latest so far (the earlier on a tie)
            last = event.at


def _status(inc: Incident, add: Any) -> None:
    status = inc.status
    for name in required_times(status):
        if getattr(inc, name) is None:
            add(
                "status",
                ("status",),
                f"status is {status.value} but {name} is not set",
                f"set {name}, or use the lifecycle command (incidentctl) that sets both",
            )
    for name in forbidden_times(status):
        if getattr(inc, name) is not None:
            add(
                "status",
                (name,),
                f"{name} is set but status is {status.value}",
                "an open incident has no resolution time; reopen clears it"
                if status.is_open
                else "set status: closed, or remove closed_at",
            )
    reached = tier_reached(inc)
    if inc.tier != reached:
        add(
            "status",
            ("tier",),
            f"tier is {inc.tier} but the escalation history reaches tier {reached}",
            "use `incidentctl escalate --tier N`, which records both",
        )
    for index, event in enumerate(inc.timeline):
        if event.public and event.status is None:
            add(
                "status",
                ("timeline", index, "status"),
                "a public update needs a status-page status",
                "add status: investigating, identified, monitoring or resolved",
            )
        if event.kind == EventKind.SNOOZED and (event.rule is None or event.until is None):
            add("status", ("timeline", index), "a snooze needs rule and until")


def _disclosure(inc: Incident, add: Any) -> None:
    """A security or data-loss incident is public only once released."""
    if not inc.public or not withheld(inc):
        return
    flag = "security_breach" if inc.security_breach else "data_loss"
    stated = "public" in inc.model_fields_set
    add(
        "disclosure",
        ("public",) if stated else (flag,),
        f"{flag} is true and public is {'true' if stated else 'true by default'}, but the "
        "incident was never released: it must stay off the public status page",
        f"set `public: false`, or release it: incidentctl release {inc.id} --reason '...'",
    )


def _corrections(inc: Incident, add: Any) -> None:
    """A correction names a real field and gives values of its type (what `validate --base`
    accepts is decided against the base: `_append_only`)."""
    for index, event in enumerate(inc.timeline):
        if event.kind != EventKind.CORRECTION or not event.field:
            continue
        model: type[BaseModel] = Incident if event.event is None else TimelineEvent
        what = "an incident field" if event.event is None else "a timeline event field"
        if event.field not in model.model_fields or event.field == "timeline":
            close = difflib.get_close_matches(event.field, list(model.model_fields), n=1)
            add(
                "correction",
                ("timeline", index, "field"),
                f"the correction names '{event.field}', which is not {what}",
                f"did you mean '{close[0]}'?"
                if close
                else "name a field of the incident, or give `event:` (the corrected event's "
                "at) and a field of that event",
            )
            continue
        for name in ("old", "new"):
            try:
                _as_field(model, event.field, getattr(event, name))
            except ValueError as exc:
                add(
                    "correction",
                    ("timeline", index, name),
                    f"{name} is not a valid {event.field}: {exc}",
                )


def _placement(inc: Incident, path: Path, add: Any) -> None:
    parts = path.parts
    folder = parts[-2] if len(parts) > 2 else path.parent.name  # parts[0] may be the root
    if folder != inc.id:
        add(
            "id-path",
            ("id",),
            f"id {inc.id} does not match its folder {folder}/",
            f"rename the folder to {inc.id}/ or fix the id",
        )
        return
    if len(parts) < 4 or parts[0] != "incidents":
        return
    detected = inc.detected_at
    if detected.year >= 1000 and parts[1:3] == (str(detected.year), f"{detected.month:02d}"):
        return  # filed under its year and month (a four-digit year is what %Y writes)
    expected = (f"{detected:%Y}", f"{detected:%m}")
    if tuple(parts[1:3]) != expected:
        add(
            "id-path",
            ("detected_at",),
            f"incident is filed under incidents/{parts[1]}/{parts[2]}/ but was detected in "
            f"{expected[0]}-{expected[1]}",
            f"git mv it to incidents/{expected[0]}/{expected[1]}/{inc.id}/",
            "warning",
        )


def _references(inc: Incident, ctx: Context, add: Any) -> None:
    services = ctx.services
    components = ctx.components
    references = [
        # (field, names used, names known, what, hint when nothing is close)
        ("services", inc.services, services, "service",
         "add it to a component in policies/components.yaml"),
        ("components", inc.components, components, "component",
         "components are listed in policies/components.yaml"),
        ("runbooks", inc.runbooks, ctx.runbooks, "runbook",
         "create it with `incidentctl runbook new`"),
    ]  # fmt: skip
    for field, used, known, what, fallback in references:
        if field == "services" and not known:
            continue  # a policy that lists no services does not restrict them
        for index, name in enumerate(used):
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1)
            suffix = f" (no runbooks/{name}.md)" if field == "runbooks" else ""
            add(
                "reference",
                (field, index),
                f"unknown {what} '{name}'{suffix}",
                f"did you mean '{close[0]}'?" if close else fallback,
            )
    contacts: list[tuple[tuple[str | int, ...], str | None]] = []
    if inc.roles is not None:
        contacts += [(("roles", k), v) for k, v in inc.roles.model_dump().items()]
    contacts += [(("escalations", i, "to"), e.to) for i, e in enumerate(inc.escalations)]
    for loc, handle in contacts:
        if handle and not is_handle(handle):
            add(
                "reference",
                loc,
                f"'{handle}' is not a GitHub user or team",
                "write @user or @org/team so reminders can mention them",
                "warning",
            )


@dataclass(frozen=True)
class Identity:
    """An incident's ID and file: what the rules across files read. `line` gives the line
    of its `id:` (the file is read again only for a finding)."""

    incident_id: str
    path: str
    line: Callable[[], int | None]

    @classmethod
    def of(cls, loaded: Loaded) -> Identity:
        return cls(loaded.incident.id, str(loaded.doc.path), lambda: loaded.doc.line_of(("id",)))


def check_repository(
    identities: Iterable[Identity], others: dict[str, str] | None = None
) -> list[Finding]:
    """Rules across files: every ID appears once. `others` maps the IDs of files that
    were not loaded (validate PATHS) to their paths."""
    seen: dict[str, list[str]] = defaultdict(list)
    items = list(identities)
    for item in items:
        seen[item.incident_id].append(item.path)
    for incident_id, path in (others or {}).items():
        seen[incident_id].append(path)
    out: list[Finding] = []
    for item in items:
        paths = seen[item.incident_id]
        if len(paths) > 1:
            out.append(
                Finding(
                    item.path,
                    item.line(),
                    "duplicate-id",
                    f"incident ID {item.incident_id} is also used by "
                    + ", ".join(p for p in paths if p != item.path),
                    "give one of them a new ID (and rename its folder)",
                    "id",
                )
            )
    return out


def findings_from(errors: DocumentErrors) -> list[Finding]:
    return [Finding.from_error(e) for e in errors.errors]


def check_against_base(
    current: dict[str, Loaded],
    base: dict[str, Incident],
    base_ids: dict[str, str],
    current_ids: set[str] | None = None,
) -> list[Finding]:
    """Append-only history and ID collisions, comparing with the base revision.

    `current` and `base` map repository-relative paths to incidents; `base_ids` maps each
    base incident ID to its path; `current_ids`, every ID of the files now (default: those
    of `current`; validate leaves out of both maps the files identical to the base).
    """
    out: list[Finding] = []
    for path, loaded in sorted(current.items()):
        inc, doc = loaded.incident, loaded.doc
        before = base.get(path)
        if before is None:
            other = base_ids.get(inc.id)
            if other is not None and other != path:
                out.append(
                    Finding(
                        path,
                        doc.line_of(("id",)),
                        "id-collision",
                        f"incident ID {inc.id} already exists on the base branch at {other}",
                        "two incidents were declared with the same ID; give this one a new ID",
                        "id",
                    )
                )
            continue
        out += _append_only(path, loaded, before)
    if current_ids is None:
        current_ids = {c.incident.id for c in current.values()}
    for path, old_inc in sorted(base.items()):
        if path not in current and old_inc.id not in current_ids:
            out.append(
                Finding(
                    path,
                    None,
                    "append-only",
                    f"incident {old_inc.id} was deleted",
                    "incident records are kept; close it instead of deleting it",
                )
            )
    return out


def _event_key(event: TimelineEvent) -> str:
    """Events are the same when their content is: wherever they sit in the list."""
    return event.model_dump_json()


def _as_field(model: type[BaseModel], name: str, value: Any) -> Any:
    """`value` read as `model`'s field `name` reads it (a timestamp in any offset, ...);
    ValueError when it is not a valid value of the field."""
    info = model.model_fields[name]
    kind: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, datetime):
        return format_timestamp(value)
    return repr(value.value if isinstance(value, StrEnum) else value)


def _append_only(path: str, loaded: Loaded, before: Incident) -> list[Finding]:
    """Every base event still there unchanged (anywhere in the list: a merge interleaves),
    no base lifecycle time moved or removed, except what a correction added here names."""
    inc, doc = loaded.incident, loaded.doc
    out: list[Finding] = []
    unmatched = Counter(_event_key(e) for e in before.timeline)
    added: dict[int, TimelineEvent] = {}  # current index -> event not in the base
    for index, event in enumerate(inc.timeline):
        key = _event_key(event)
        if unmatched[key] > 0:
            unmatched[key] -= 1
        else:
            added[index] = event
    missing: list[tuple[int, TimelineEvent]] = []  # base index, event
    for index, event in enumerate(before.timeline):
        key = _event_key(event)
        if unmatched[key] > 0:
            unmatched[key] -= 1
            missing.append((index, event))

    def finding(loc: tuple[str | int, ...], message: str, hint: str, rule: str) -> None:
        out.append(Finding(path, doc.line_of(loc), rule, message, hint, field_name(loc)))

    corrected: set[str] = set()
    replacements = {i: e for i, e in added.items() if e.kind != EventKind.CORRECTION}
    for index, fix in added.items():
        if fix.kind != EventKind.CORRECTION or not fix.field:
            continue
        loc: tuple[str | int, ...] = ("timeline", index)
        if fix.event is None:
            if fix.field not in Incident.model_fields or fix.field == "timeline":
                continue  # reported by check_incident
            try:
                old, new = (_as_field(Incident, fix.field, v) for v in (fix.old, fix.new))
            except ValueError:
                continue  # reported by check_incident
            was, now = getattr(before, fix.field), getattr(inc, fix.field)
            if old != was or new != now:
                finding(
                    loc,
                    f"the correction of {fix.field} says {_shown(old)} -> {_shown(new)}, but it "
                    f"went from {_shown(was)} (base) to {_shown(now)} (this change)",
                    "a correction names exactly the change it makes: fix its old or new value",
                    "correction",
                )
                continue
            corrected.add(fix.field)
            continue
        if fix.field not in TimelineEvent.model_fields:
            continue  # reported by check_incident
        try:
            old, new = (_as_field(TimelineEvent, fix.field, v) for v in (fix.old, fix.new))
        except ValueError:
            continue
        target = next(
            ((i, e) for i, e in missing if e.at == fix.event and getattr(e, fix.field) == old),
            None,
        )
        replaced = None
        if target is not None:
            data = target[1].model_dump(exclude_none=True)
            data[fix.field] = new
            try:
                want = _event_key(TimelineEvent.model_validate(data))
            except ValidationError:
                want = None
            replaced = next((i for i, e in replacements.items() if _event_key(e) == want), None)
        if target is None or replaced is None:
            finding(
                loc,
                f"the correction of event {format_timestamp(fix.event)} says its {fix.field} "
                f"went from {_shown(old)} to {_shown(new)}, but no base event "
                + ("has that value" if target is None else "was changed that way"),
                "name the corrected event by its `at` in the base, and exactly the change made",
                "correction",
            )
            continue
        missing.remove(target)
        del replacements[replaced]
    for index, old_event in missing:
        similar = next(
            (
                i
                for i, e in replacements.items()
                if (e.at, e.kind) == (old_event.at, old_event.kind)
            ),
            None,
        )
        what = "deleted" if similar is None else "edited"
        finding(
            ("timeline",) if similar is None else ("timeline", similar),
            f"timeline event #{index + 1} ({old_event.kind.value} at "
            f"{format_timestamp(old_event.at)}) was {what}",
            "the timeline is append-only: restore it, or add a correction event that names it "
            "(kind: correction, event: its at, field, old, new, reason)",
            "append-only",
        )
    news = added.values()
    reopened = any(e.kind == EventKind.REOPENED for e in news)
    resolved_again = reopened and any(e.kind == EventKind.RESOLVED for e in news)
    for name in LIFECYCLE_TIMESTAMPS:
        old_at, new_at = getattr(before, name), getattr(inc, name)
        if old_at is None or old_at == new_at or name in corrected:
            continue
        if name == "resolved_at" and ((new_at is None and reopened) or resolved_again):
            continue  # reopened in this change: the resolution clock restarted
        what = "removed" if new_at is None else ("backdated" if new_at < old_at else "changed")
        finding(
            (name,),
            f"{name} was {what} (base has {format_timestamp(old_at)})",
            "recorded lifecycle times do not move; add a correction event that names it "
            f"(kind: correction, field: {name}, old, new, reason)",
            "append-only",
        )
    return out
