"""Where an overdue finding goes: (finding, policies/notifications.yaml) -> deliveries.

One `Delivery` is one sink and the people the message is for. Today a route names sinks and
every delivery is for the people who must act (the finding's `who`). A route that targets
people per channel (an on-call rotation resolved to a person, a people directory mapping a
handle to each channel's address) extends `deliveries`: it may return several deliveries for
one sink, one per recipient address, and nothing else changes, because the delivery record
and the sender work per (breach, repeat, sink, recipients) key.

Pure: no files, no environment, no network.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidentctl.core.notifications import Notifications, Sink
from incidentctl.deadlines.timers import Reminder


@dataclass(frozen=True)
class Delivery:
    """One finding to one sink, for these people."""

    sink: Sink
    recipients: tuple[str, ...]
    address: str = ""  # the recipient's own address on the sink; "" for the sink's channel

    def key(self, breach: str) -> str:
        """The delivery's key in the record: the breach and repeat slot, then where to."""
        return f"{breach}|{self.sink.name}" + (f"|{self.address}" if self.address else "")


def deliveries(f: Reminder, notifications: Notifications) -> list[Delivery]:
    """The deliveries of one finding: each sink of the first matching route (every sink
    when there are no routes), for the people who must act."""
    return [Delivery(sink, tuple(f.who)) for sink in notifications.route(f.priority, f.rule)]
