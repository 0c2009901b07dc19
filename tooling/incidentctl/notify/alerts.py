"""The message a sink receives for an overdue finding, in the reminder comment's words.

It names the incident (by its neutral title while a security or data-loss incident is not
released), the rule by its id, how late, who must act and what to do, and links the
incident's file when a base URL is known. A message sent again after a timeout, when the
first may or may not have arrived, is marked as a repeat and carries the same key.

Pure: no files, no environment, no network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from incidentctl.core.disclosure import title_of
from incidentctl.core.model import Incident
from incidentctl.core.notifications import Notifications
from incidentctl.core.oncall import PAGE_BACKUP_AFTER
from incidentctl.core.timevalues import format_timestamp
from incidentctl.deadlines.timers import OVERDUE, Reminder, reminder_key
from incidentctl.notify.routes import Delivery, Reach, deliveries

REPEAT_MARK = "[repeat]"


@dataclass(frozen=True)
class Alert:
    """One message for one delivery, under the key the delivery record claims."""

    key: str  # breach|repeat slot|sink[|person]
    breach: str  # the reminder key: the same on the tracking issue
    delivery: Delivery
    title: str
    body: str

    @property
    def sink(self) -> str:
        return self.delivery.sink.name

    @property
    def where(self) -> str:
        """The sink, and for a person sink whose address (`sms-page (@alice)`)."""
        person = self.delivery.person
        return f"{self.sink} ({person})" if person else self.sink

    def repeated(self) -> tuple[str, str]:
        """(title, body) of the one repeat allowed after an ambiguous timeout."""
        note = (
            f"{REPEAT_MARK} Sent again: the first attempt timed out and may have arrived "
            f"(key {self.breach})."
        )
        return f"{REPEAT_MARK} {self.title}", f"{note}\n\n{self.body}"


def text(
    f: Reminder,
    incident: Incident | None,
    breach: str,
    recipients: tuple[str, ...],
    *,
    link: str | None,
    backups: tuple[str, ...] = (),
    blocked_after: int = PAGE_BACKUP_AFTER,
) -> tuple[str, str]:
    """(title, body) of the message for one finding."""
    head = f"{f.incident} {f.rule}"
    title = f"Overdue: {head}" + (f" ({f.priority})" if f.priority else "")
    lines = [f.message]
    if incident is not None:
        lines.append(f"Incident: {incident.id} {title_of(incident)}")
    if f.related:
        lines.append(f"Incidents: {', '.join(f.related)}")
    lines.append(f"Who must act: {', '.join(recipients) or 'the incident commander'}")
    lines.append(f"Do: {f.recommendation}")
    slot = int(breach.rsplit("|", 1)[1]) if breach.rsplit("|", 1)[-1].isdigit() else 0
    extra = [b for b in backups if b not in recipients]
    if slot >= blocked_after and extra:
        lines.append(
            f"Escalation path blocked: no answer after {slot} reminders. Backup: "
            + ", ".join(extra)
            + ", please take over."
        )
    due = format_timestamp(f.due) if f.due else "never"
    subject = f" ({f.subject})" if f.subject and f.subject != f.incident else ""
    lines.append(f"Rule: {f.rule}{subject}, due {due}")
    if link:
        lines.append(link)
    return title, "\n".join(lines)


def alerts(
    found: list[Reminder],
    incidents: Mapping[str, tuple[Incident, str]],
    notifications: Notifications,
    now: datetime,
    *,
    repeat_seconds: int | None,
    link: Callable[[str], str | None],
    backups: Callable[[Reminder], tuple[str, ...]],
    blocked_after: int = PAGE_BACKUP_AFTER,
    reach: Reach | None = None,
) -> list[Alert]:
    """One alert per overdue finding and delivery. `incidents`: ID -> (incident, path) of
    the incidents with something overdue; `link`: a file's URL from its path, if known;
    `reach`: a person's address on a channel (people.yaml), for person sinks and mentions."""
    out: list[Alert] = []
    for f in found:
        if f.state != OVERDUE:
            continue
        incident, rel = incidents.get(f.incident, (None, None))
        breach = reminder_key(f, now, repeat_seconds)
        for delivery in deliveries(f, notifications, reach):
            title, body = text(
                f,
                incident,
                breach,
                delivery.recipients,
                link=link(rel) if rel else None,
                backups=backups(f) if incident is not None else (),
                blocked_after=blocked_after,
            )
            out.append(Alert(delivery.key(breach), breach, delivery, title, body))
    return out
