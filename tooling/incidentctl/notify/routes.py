"""Where an overdue finding goes: (finding, policies/notifications.yaml) -> deliveries.

One `Delivery` is one sink and the people the message is for. A route's `sinks` get one
delivery each, for the people who must act (the finding's `who`, a rotation already resolved
to whoever is on call); on a sink with a `channel`, each of them is named by their address
there (people.yaml; a Slack member ID as a mention). A route's `people` (person sinks, with
{address} in the URL) get one delivery per person who must act and has an address on the
sink's channel, keyed by the person's handle: never by the address, which may be personal
data from the environment and the delivery record is pushed to the remote.

Pure: no files, no environment, no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from incidentctl.core.notifications import ADDRESS, Notifications, Sink
from incidentctl.deadlines.timers import Reminder

# (handle, channel) -> the person's address on the channel (people.yaml, ${VAR}s filled in)
Reach = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Delivery:
    """One finding to one sink, for these people."""

    sink: Sink
    recipients: tuple[str, ...]  # as the message names them
    person: str = ""  # a person sink's recipient (their handle); "" for the sink's channel
    address: str = ""  # and their address on it, which fills the URL's {address}

    def key(self, breach: str) -> str:
        """The delivery's key in the record: the breach and repeat slot, then where to."""
        return f"{breach}|{self.sink.name}" + (f"|{self.person}" if self.person else "")

    def url(self) -> str:
        """The sink's URL, a person sink's {address} filled in (its ${VAR}s still to fill)."""
        return self.sink.url.replace(ADDRESS, self.address) if self.person else self.sink.url


def named(who: str, channel: str | None, reach: Reach | None) -> str:
    """A person as a message on `channel` names them: a Slack member ID as a mention, an
    other channel's address beside the handle, else the handle."""
    address = reach(who, channel) if channel and reach else None
    if not address:
        return who
    if channel == "slack":
        return f"<@{address}>" if address[:1] in "UW" and address.isalnum() else address
    return f"{who} ({address})"


def deliveries(
    f: Reminder, notifications: Notifications, reach: Reach | None = None
) -> list[Delivery]:
    """The deliveries of one finding: each sink of the first matching route (every sink
    when there are no routes), for the people who must act; and, through the route's person
    sinks, each person who must act at their own address (`reach`), those without one left
    out."""
    out = [
        Delivery(sink, tuple(named(w, sink.channel, reach) for w in f.who))
        for sink in notifications.route(f.priority, f.rule)
    ]
    for sink in notifications.person_sinks(f.priority, f.rule):
        for who in dict.fromkeys(f.who):
            address = reach(who, sink.channel) if reach and sink.channel else None
            if address:
                out.append(Delivery(sink, (who,), who, address))
    return out
