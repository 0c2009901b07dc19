"""One message to one sink through apprise, retried with backoff.

apprise is imported here only, and only when something is sent, so the commands that never
deliver start as fast as before. A failure is retried after 1, 2, 4... seconds
(INCIDENTCTL_SINK_BACKOFF scales them, INCIDENTCTL_SINK_ATTEMPTS counts the tries, 4 by
default). A refusal (an HTTP error status, a refused connection) means the sink does not
have the message, so it is simply sent again. A timeout is ambiguous: the sink may have it.
Every later attempt is then the one marked repeat, and a second timeout ends the tries: at
most one duplicate, marked, ever reaches a sink.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from incidentctl.core.errors import IncidentctlError

ATTEMPTS_VARIABLE = "INCIDENTCTL_SINK_ATTEMPTS"
BACKOFF_VARIABLE = "INCIDENTCTL_SINK_BACKOFF"
SENT, REFUSED, TIMED_OUT = "sent", "refused", "timed out"


@dataclass(frozen=True)
class Outcome:
    sent: bool
    attempts: int
    repeated: bool  # what arrived is the marked repeat (the first attempt timed out)
    ambiguous: bool  # an attempt timed out: the sink may have an unmarked copy
    error: str = ""  # the last failure, in apprise's words (never the URL)


def _number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 3600:
        raise IncidentctlError(f"{name}={text!r} is not a number of seconds or tries")
    return value


def warm() -> None:
    """Import apprise and load its plugins now (about 0.3 s), so that a watcher's first
    delivery does not pay for it after its deadline."""
    import apprise

    apprise.Apprise.instantiate("json://127.0.0.1/")


def attempt(url: str, title: str, body: str) -> tuple[str, str]:
    """One try: (SENT | REFUSED | TIMED_OUT, what apprise said)."""
    import apprise  # only when delivering: apprise loads its plugins on import

    service = apprise.Apprise.instantiate(url)
    if service is None:
        raise IncidentctlError(
            "not a URL apprise knows",
            hint="see the apprise wiki for the URL of each service (slack://, msteams://, "
            "mailto://, ntfy://, json://...)",
        )
    notifier = apprise.Apprise()
    notifier.add(service)
    started = time.monotonic()
    result = notifier.notify(title=title, body=body)
    took = time.monotonic() - started
    if result:
        return SENT, ""
    logs = getattr(result, "logs", None)
    said = [str(entry.message) for entry in logs()] if callable(logs) else []
    text = "; ".join(said) or "apprise reported a failure"
    if any("error=" in line for line in said):
        return REFUSED, text  # the sink answered with an error status: it does not have it
    read_timeout = float(getattr(service, "socket_read_timeout", 4.0) or 4.0)
    if took >= 0.8 * read_timeout:
        return TIMED_OUT, f"{text} (no answer within {read_timeout:g} s)"
    return REFUSED, text


Attempt = Callable[[str, str, str], tuple[str, str]]


def send(
    url: str,
    message: tuple[str, str],
    repeat: tuple[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    once: Attempt = attempt,
    repeat_first: bool = False,
) -> Outcome:
    """Deliver `message` (title, body) to `url`; after a timeout, `repeat` instead.
    `repeat_first`: the message may have arrived already (a claim taken over from a
    deliverer that died), so only the marked repeat is sent, and a timeout ends the tries."""
    tries = max(1, int(_number(ATTEMPTS_VARIABLE, 4)))
    backoff = _number(BACKOFF_VARIABLE, 1.0)
    ambiguous = repeat_first
    error = ""
    for n in range(tries):
        if n:
            sleep(backoff * 2 ** (n - 1))
        title, body = repeat if ambiguous else message
        state, error = once(url, title, body)
        if state == SENT:
            return Outcome(True, n + 1, ambiguous, ambiguous)
        if state == TIMED_OUT:
            if ambiguous:
                return Outcome(False, n + 1, False, True, error)
            ambiguous = True
    return Outcome(False, tries, False, ambiguous, error)
