"""What may be said about a security or data-loss incident before someone releases it.

The process keeps such an incident off the public page unless it is explicitly released.
Until `incidentctl release` records a `released` event, the status page leaves it out whatever
`public:` says, and every text that travels further than the file (the tracking issue, the PR
comment, the notifications) names it only by a neutral title such as "Security incident
INC-20261126-H3ZD": never its title, summary or user impact.
"""

from __future__ import annotations

from incidentctl.core.model import EventKind, Incident, TimelineEvent

RESTRICTED = "restricted until released (incidentctl release)"


def sensitive(incident: Incident) -> bool:
    """A security breach or a data loss: private until released."""
    return incident.security_breach or incident.data_loss


def release_event(incident: Incident) -> TimelineEvent | None:
    """The latest `released` event, if any."""
    found = [e for e in incident.timeline if e.kind == EventKind.RELEASED]
    return found[-1] if found else None


def withheld(incident: Incident) -> bool:
    """Sensitive and never released: nothing of it may reach the public page."""
    return sensitive(incident) and release_event(incident) is None


def neutral_title(incident: Incident) -> str:
    kind = "Security incident" if incident.security_breach else "Data-loss incident"
    return f"{kind} {incident.id}"


def title_of(incident: Incident) -> str:
    """The title that may travel: the real one, or the neutral one while withheld."""
    return neutral_title(incident) if withheld(incident) else incident.title


def redacted(incident: Incident) -> Incident:
    """The incident as texts outside the file may show it: while withheld, a neutral title;
    its summary, user impact and mitigation description restricted; the title replaced
    wherever an event's text repeats it (the `declared` event does). A released or ordinary
    incident is returned unchanged."""
    if not withheld(incident):
        return incident
    title, neutral = incident.title, neutral_title(incident)
    timeline = [
        e.model_copy(update={"text": e.text.replace(title, neutral)})
        if e.text and title in e.text
        else e
        for e in incident.timeline
    ]
    mitigation = incident.mitigation
    if mitigation is not None and mitigation.description:
        mitigation = mitigation.model_copy(update={"description": RESTRICTED})
    return incident.model_copy(
        update={
            "title": neutral,
            "summary": RESTRICTED if incident.summary else None,
            "user_impact": RESTRICTED if incident.user_impact else None,
            "mitigation": mitigation,
            "timeline": timeline,
        }
    )
