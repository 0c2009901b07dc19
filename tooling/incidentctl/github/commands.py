"""`github command`, what needs no GitHub: a comment's command, the `issue_comment` event,
whether to answer it at all, and the change each command makes (github/answer.py applies it).

A comment event is ignored, before GitHub is asked anything, when it is not a new comment,
is on a pull request, is by a bot (our own replies among them), gives no command on its first
line, or is not on a tracking issue (the `incident` label and the tool's marker). The comment
text is data here, never a shell word: the workflow passes only the event file's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incidentctl.core import lifecycle
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import EscalationKind, Incident, Strategy
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.github.tracking import INCIDENT_LABEL, marker_of
from incidentctl.store.repo import Repo

ESCALATIONS = ("tier-2", "tier-3", "management", "executive")
USAGE = (
    ("/ack", "acknowledge the incident"),
    ("/escalate tier-2|tier-3|management|executive [reason]", "escalate it"),
    ("/update TEXT", "an internal status update"),
    ("/update --public TEXT", "a status-page update"),
    ("/mitigate " + "|".join(s.value for s in Strategy) + " [note]", "a mitigation is deployed"),
    ("/resolve", "the incident is resolved"),
)
NAMES = ("ack", "escalate", "update", "mitigate", "resolve")


@dataclass(frozen=True)
class Command:
    """A comment's command: its word (`ack`, or what was typed), the rest of its first
    line, and everything after the word (an update's text may run over several lines)."""

    name: str
    argument: str
    text: str


def parse(body: str) -> Command | None:
    """The command on a comment's first non-blank line (`/word ...`); None without one."""
    stripped = body.lstrip("\ufeff").strip()
    if not stripped.startswith("/"):
        return None
    found = re.match(r"/([A-Za-z][A-Za-z0-9-]*)", stripped)
    if found is None:
        return None
    rest = stripped[found.end() :]
    if rest and not rest[0].isspace():
        return None  # "/ack/" or "/path/to/file": not a command
    first = rest.split("\n", 1)[0].strip()
    return Command(found.group(1).lower(), first, rest.strip())


@dataclass(frozen=True)
class CommentEvent:
    """What an `issue_comment` event says about the comment and its issue."""

    action: str
    number: int
    pull_request: bool
    labels: tuple[str, ...]
    issue_author: str | None
    issue_body: str
    comment_id: int
    author: str
    author_type: str
    body: str
    created_at: datetime | None


def read_event(data: Any, where: str) -> CommentEvent:
    """The comment event in `data` (GITHUB_EVENT_PATH's JSON); an error naming the file."""
    try:
        issue, comment = data["issue"], data["comment"]
        user = comment.get("user") or {}
        created = comment.get("created_at")
        return CommentEvent(
            action=str(data.get("action", "")),
            number=int(issue["number"]),
            pull_request=bool(issue.get("pull_request")),
            labels=tuple(str(label.get("name", "")) for label in issue.get("labels") or []),
            issue_author=(issue.get("user") or {}).get("login"),
            issue_body=str(issue.get("body") or ""),
            comment_id=int(comment["id"]),
            author=str(user.get("login") or ""),
            author_type=str(user.get("type") or ""),
            body=str(comment.get("body") or ""),
            created_at=parse_timestamp(created) if created else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IncidentctlError(
            f"{where}: not an issue_comment event ({type(exc).__name__}: {exc})",
            hint="run it from a workflow `on: issue_comment`, or pass --event FILE",
        ) from None


def ignored(event: CommentEvent) -> str | None:
    """Why the event needs no answer, judged from the event alone; None when it may."""
    if event.action != "created":
        return f"comment {event.action}, not created"
    if event.pull_request:
        return "a comment on a pull request"
    if event.author_type == "Bot" or event.author.endswith("[bot]"):
        return f"a comment by {event.author}"
    if parse(event.body) is None:
        return "no command"
    if INCIDENT_LABEL not in event.labels or incident_of(event) is None:
        return f"#{event.number} is not an incident's tracking issue"
    return None


def incident_of(event: CommentEvent) -> str | None:
    found = marker_of(event.issue_body)
    return found[1] if found and found[0] == INCIDENT_LABEL else None


def usage() -> str:
    return "\n".join(f"- `{form}`: {what}" for form, what in USAGE)


Change = Callable[[Incident], Incident]


def change_for(
    command: Command, repo: Repo, *, at: datetime, now: datetime, by: str
) -> tuple[Change, str]:
    """The transition a command asks for and the words of its commit; IncidentctlError when
    its argument is wrong."""
    when: dict[str, Any] = {"at": at, "now": now, "by": by}
    if command.name == "ack":
        return (lambda i: lifecycle.acknowledge(i, **when)), "acknowledge"
    if command.name == "resolve":
        return (lambda i: lifecycle.resolve(i, **when)), "resolve"
    if command.name == "escalate":
        kind, _, reason = command.argument.partition(" ")
        if kind.lower() not in ESCALATIONS:
            raise IncidentctlError(
                f"escalate to what? `/escalate {'|'.join(ESCALATIONS)} [reason]`"
            )
        escalation = EscalationKind(kind.lower())

        def escalate(i: Incident) -> Incident:
            return lifecycle.escalate(
                i, kind=escalation, to=None, reason=reason.strip() or None,
                policy=repo.policy_for(i), **when,
            )  # fmt: skip

        return escalate, f"escalate ({escalation.value})"
    if command.name == "mitigate":
        word, _, note = command.argument.partition(" ")
        try:
            strategy = Strategy(word.lower())
        except ValueError:
            raise IncidentctlError(
                f"mitigate how? `/mitigate {'|'.join(s.value for s in Strategy)} [note]`"
            ) from None
        return (
            lambda i: lifecycle.mitigate(i, strategy=strategy, note=note.strip() or None, **when)
        ), f"mitigate ({strategy.value})"
    if command.name == "update":
        public = command.text.startswith("--public")
        message = command.text.removeprefix("--public").strip()
        if not message:
            raise IncidentctlError("update with what? `/update TEXT` or `/update --public TEXT`")
        return (
            lambda i: lifecycle.update(i, message=message, public=public, status=None, **when)
        ), ("public update" if public else "update")
    raise AssertionError(command.name)
