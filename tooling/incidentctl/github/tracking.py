"""What incidentctl wants to see on GitHub: pure texts, markers and specs (no I/O).

Every object incidentctl creates on GitHub carries a hidden HTML-comment marker on its first
line, and is found again by that marker (never by title, never by search, whose index lags):

    <!-- incidentctl:incident id=INC-20261127-7K3Q -->          a tracking issue
    <!-- incidentctl:reminder key=INC-...|acknowledge||2026-11-27T15:01:00Z|0 -->   a reminder
    <!-- incidentctl:action key=INC-...#A1 -->                  a preventive-action issue
    <!-- incidentctl:pr-summary -->                             the sticky PR comment

The reminder key (timers.reminder_key) is the same one the notification sinks are delivered
under.

Only the first line counts, so text copied from an incident into a body cannot forge one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from incidentctl.core.disclosure import RESTRICTED, title_of, withheld
from incidentctl.core.model import ActionItem, Incident, Priority, Status
from incidentctl.core.oncall import PAGE_BACKUP_AFTER
from incidentctl.core.timevalues import format_timestamp
from incidentctl.deadlines.timers import Reminder
from incidentctl.deadlines.timers import reminder_key as reminder_key  # the comments' key

INCIDENT_LABEL = "incident"
ACTION_LABEL = "preventive-action"
STATUS_PREFIX = "status:"
HORIZON_PREFIX = "horizon:"
PRIORITY_LABELS = tuple(p.value for p in Priority)
LABEL_COLORS = {
    INCIDENT_LABEL: "b60205",
    ACTION_LABEL: "0e8a16",
    "P0": "b60205",
    "P1": "d93f0b",
    "P2": "fbca04",
    "P3": "c5def5",
}
_MARKER = re.compile(r"^<!-- incidentctl:([a-z-]+)(?: (?:id|key)=(\S+))? -->")
PR_MARKER = "<!-- incidentctl:pr-summary -->"


def marker(kind: str, value: str | None = None) -> str:
    if value is None:
        return f"<!-- incidentctl:{kind} -->"
    name = "id" if kind == INCIDENT_LABEL else "key"
    return f"<!-- incidentctl:{kind} {name}={value} -->"


def marker_of(body: str | None) -> tuple[str, str | None] | None:
    """(kind, value) of the marker on the body's first line, or None."""
    first = (body or "").lstrip("\ufeff").split("\n", 1)[0].strip()
    found = _MARKER.match(first)
    return (found.group(1), found.group(2)) if found else None


def mention(who: str) -> str:
    """`@user` or `@org/team` for GitHub; anything else (an e-mail, a name) as it is."""
    who = who.strip()
    if re.fullmatch(r"@?[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?", who):
        return who if who.startswith("@") else "@" + who
    return who


def assignee(owner: str | None) -> str | None:
    """A GitHub login that can be assigned (a user, not a team), from an action's owner."""
    if not owner:
        return None
    login = owner.strip().removeprefix("@")
    return login if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}", login) else None


@dataclass(frozen=True)
class IssueSpec:
    """An issue as incidentctl wants it: title, body, the labels it manages, open or closed."""

    key: str
    title: str
    body: str
    labels: tuple[str, ...]
    closed: bool
    assignees: tuple[str, ...] = ()

    def managed(self, label: str) -> bool:
        """Labels incidentctl sets and removes; any other label on the issue is left alone."""
        return (
            label in (INCIDENT_LABEL, ACTION_LABEL, *PRIORITY_LABELS)
            or label.startswith((STATUS_PREFIX, HORIZON_PREFIX))
            or label in self.labels
        )

    def labels_for(self, current: tuple[str, ...]) -> list[str]:
        kept = [name for name in current if not self.managed(name)]
        return [*self.labels, *kept]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def incident_issue(incident: Incident, file_url: str, rel: str) -> IssueSpec:
    """The tracking issue of one incident. A security or data-loss incident that was not
    released is named by a neutral title, without its summary: issues are seen more widely
    than the file."""
    p = incident.priority.value
    title = title_of(incident)
    status = incident.status.value
    rows = [
        ("Priority", f"{p} (impact {incident.impact.value}, urgency {incident.urgency.value})"),
        ("Status", status.upper()),
        ("Services", ", ".join(incident.services) or "-"),
        ("Detected", format_timestamp(incident.detected_at)),
    ]
    for label, at in (
        ("Acknowledged", incident.acknowledged_at),
        ("Mitigated", incident.mitigated_at),
        ("Resolved", incident.resolved_at),
        ("Closed", incident.closed_at),
    ):
        if at is not None:
            rows.append((label, format_timestamp(at)))
    table = "\n".join(f"| {k} | {_cell(v)} |" for k, v in rows)
    summary = f"Details are {RESTRICTED}." if withheld(incident) else (incident.summary or "")
    summary = summary.strip()
    body = (
        f"{marker(INCIDENT_LABEL, incident.id)}\n"
        f"**{incident.id}**: {_cell(title)}\n\n"
        f"| | |\n|---|---|\n{table}\n\n"
        + (f"{summary}\n\n" if summary else "")
        + f"Record: [`{rel}`]({file_url})\n\n"
        "This issue is kept in step with the file by `incidentctl github sync`: change the file, "
        "not this issue. Overdue reminders are posted here as comments.\n"
    )
    return IssueSpec(
        key=incident.id,
        title=f"{incident.id} [{p}] {title}"[:250],
        body=body,
        labels=(INCIDENT_LABEL, p, STATUS_PREFIX + status),
        closed=incident.status == Status.CLOSED,
    )


def reminder_body(
    f: Reminder,
    key: str,
    now: datetime,
    *,
    earlier: int = 0,
    backups: tuple[str, ...] = (),
    blocked_after: int = PAGE_BACKUP_AFTER,
) -> str:
    """The comment: what is overdue, who must act (mentioned), and what to do now.

    `earlier`: how many reminders of the same breach are on the issue already. From the
    `blocked_after`-th repeat on (oncall.yaml page_backup_after), the escalation path counts
    as blocked and the backups of the people reminded are mentioned too."""
    people = " ".join(mention(w) for w in f.who) or "Incident commander"
    head = "Overdue" if not earlier else f"Still overdue (reminder {earlier + 1})"
    related = f"\n\nIncidents: {', '.join(f.related)}" if f.related else ""
    extra = [b for b in backups if b not in f.who]
    if earlier >= blocked_after and extra:
        related += (
            f"\n\nEscalation path blocked: no answer after {earlier} reminders. Backup: "
            + " ".join(mention(b) for b in extra)
            + ", please take over."
        )
    due = format_timestamp(f.due) if f.due else "never"
    return (
        f"{marker('reminder', key)}\n"
        f"**{head}: {f.message}**\n\n"
        f"{people}: {f.recommendation}{related}\n\n"
        f"<sub>rule `{f.rule}`{f' ({f.subject})' if f.subject else ''}, due {due}; "
        f"posted by `incidentctl overdue --post` at {format_timestamp(now)}</sub>\n"
    )


def action_key(incident_id: str, action_id: str) -> str:
    return f"{incident_id}#{action_id}"


def action_issue(incident_id: str, action: ActionItem, pir_url: str, rel: str) -> IssueSpec:
    """The issue of one preventive action of a PIR."""
    rows = [
        ("Action", action.id),
        ("Owner", action.owner or "-"),
        ("Horizon", action.horizon.value if action.horizon else "-"),
        ("Due", str(action.due) if action.due else "-"),
        ("Incident", incident_id),
    ]
    table = "\n".join(f"| {k} | {_cell(v)} |" for k, v in rows)
    labels = [ACTION_LABEL, incident_id]
    if action.horizon:
        labels.append(HORIZON_PREFIX + action.horizon.value)
    login = assignee(action.owner)
    return IssueSpec(
        key=action_key(incident_id, action.id),
        title=f"{action.title} ({incident_id} {action.id})"[:250],
        body=(
            f"{marker('action', action_key(incident_id, action.id))}\n"
            f"Preventive action from the post-incident review of {incident_id}.\n\n"
            f"| | |\n|---|---|\n{table}\n\n"
            f"Review: [`{rel}`]({pir_url})\n\n"
            "Close this issue when the action is done: `incidentctl actions sync --write-back` "
            "then records it in the review (status done, done_at), and it counts as done in "
            "`overdue` and the metrics.\n"
        ),
        labels=tuple(labels),
        closed=action.status.value in ("done", "cancelled"),
        assignees=(login,) if login else (),
    )
