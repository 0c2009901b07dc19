"""`github command`: an incident changed from a comment on its tracking issue (`/ack` from
GitHub's mobile app at 3 a.m.) by someone with write access, through the normal locked
write, committed and pushed; the comment gets a reply saying what was done, or why not, and
a reaction. A comment is answered once: a re-run finds the reply by its marker."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from incidentctl.core.errors import IncidentctlError
from incidentctl.core.timevalues import format_timestamp
from incidentctl.github.client import GitHub, Note, Say, Ticket, connect
from incidentctl.github.commands import (
    NAMES,
    Command,
    CommentEvent,
    change_for,
    ignored,
    incident_of,
    parse,
    usage,
)
from incidentctl.github.tracking import marker, marker_of
from incidentctl.store.git import commit_and_push
from incidentctl.store.repo import Repo

WRITERS = ("admin", "maintain", "write")  # who may change an incident from a comment
REPLY = "command-reply"  # the marker of our answer to one comment: key=<comment id>


@dataclass(frozen=True)
class Outcome:
    """What became of one comment: said on stderr, replied on the issue (when `reply`)."""

    summary: str
    reply: str | None = None
    reaction: str | None = None
    changed: bool = False
    # a dry run's change, not written: (repository path, text before, text after)
    preview: tuple[str, str, str] | None = None


def answer(
    repo: Repo,
    event: CommentEvent,
    now: datetime,
    *,
    say: Say,
    remote: str,
    branch: str,
    env: Mapping[str, str],
    dry_run: bool = False,
) -> Outcome:
    """Apply the comment's command and answer it on the issue (once per comment). A
    `dry_run` reads what it would (the issue, its replies, the commenter's permission) and
    works the change out, but writes, commits, pushes, replies and reacts nothing."""
    why = ignored(event)
    if why is not None:
        return Outcome(f"ignored: {why}")
    command = parse(event.body)
    incident_id = incident_of(event)
    assert command is not None
    assert incident_id is not None
    gh = connect(dry_run=dry_run, say=say, env=env)
    if not gh.trusts(event.issue_author):
        return Outcome(f"ignored: #{event.number} was not opened by incidentctl")
    ticket = gh.issue(event.number)
    key = str(event.comment_id)
    notes = gh.comments(ticket)
    if any(gh.trusts(n.author) and marker_of(n.body) == (REPLY, key) for n in notes):
        return Outcome(f"comment {key} on #{event.number} was answered before")
    outcome = _decide(repo, gh, event, command, incident_id, now, remote, branch, env, dry_run)
    if outcome.reply is not None:
        body = f"{marker(REPLY, key)}\n{outcome.reply}\n"
        gh.create_comment(
            ticket, f"reply to comment {key} on #{event.number}", _reply_finder(gh, ticket, key),
            body,
        )  # fmt: skip
    if outcome.reaction is not None:
        gh.react(ticket, event.comment_id, outcome.reaction)
    return outcome


def _reply_finder(gh: GitHub, ticket: Ticket, key: str) -> Callable[[], Note | None]:
    def find() -> Note | None:
        for note in gh.comments(ticket):
            if gh.trusts(note.author) and marker_of(note.body) == (REPLY, key):
                return note
        return None

    return find


def _decide(
    repo: Repo,
    gh: GitHub,
    event: CommentEvent,
    command: Command,
    incident_id: str,
    now: datetime,
    remote: str,
    branch: str,
    env: Mapping[str, str],
    dry_run: bool,
) -> Outcome:
    who = "@" + event.author
    permission = gh.permission(event.author)
    if permission not in WRITERS:
        return Outcome(
            f"refused: {who} has {permission} access",
            f"Sorry {who}, only people with write access to this repository can change an "
            f"incident from a comment, so {incident_id} is unchanged. A responder can run "
            f"the command for you, or a maintainer can give you write access.",
            "confused",
        )
    if command.name not in NAMES:
        return Outcome(
            f"unknown command /{command.name}",
            f"{who}, `/{_shown(command.name)}` is not a command I know. On an incident's "
            f"tracking issue you can write:\n\n{usage()}",
            "confused",
        )
    at = min(event.created_at or now, now)
    try:
        change, words = change_for(command, repo, at=at, now=now, by=who)
        edited = repo.edit(incident_id, change, dry_run=dry_run)
        rel = repo.rel(edited.path)
        sha = None
        if not dry_run:
            sha = commit_and_push(
                repo.root, [rel], f"{incident_id}: {words} by {who} (comment on #{event.number})",
                remote=remote, branch=branch, token=env.get("GITHUB_TOKEN"), warn=gh.say,
            )  # fmt: skip
    except IncidentctlError as exc:
        hint = f"\n\n{exc.hint}" if exc.hint else ""
        return Outcome(
            f"not done: {exc.message}",
            f"{who}, not done: {exc.message}{hint}\n\n{incident_id} is unchanged.",
            "confused",
        )
    last = edited.after.timeline[-1]
    done = f"{incident_id}: {last.text} by {who}"
    return Outcome(
        f"{done} ({sha[:7]})" if sha else f"would: {done} (dry run: nothing written or pushed)",
        f"{who}: done. {incident_id}: {last.text} at {format_timestamp(last.at)}, by {who}; "
        f"committed {sha[:7] if sha else '(dry run)'} to `{branch}` (`{rel}`).",
        "+1",
        changed=sha is not None,
        preview=None if sha else (rel, edited.old, edited.text),
    )


def _shown(word: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "", word)[:32]
