"""`github sync`, `github pr-comment`, `github command`, `actions sync`: the repository's
state on GitHub, and changes asked for in a tracking issue's comments.

The GitHub repository and token come from the Actions environment (GITHUB_REPOSITORY,
GITHUB_TOKEN, GITHUB_API_URL); see incidentctl/github.py. What these commands do on GitHub
is printed on stderr, so `--format json` output on stdout stays parseable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from incidentctl.cli.common import current_now, now_option, repo_from, show_diff, warn
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident, Pir
from incidentctl.github.changes import changed_incidents
from incidentctl.github.summary import render
from incidentctl.github.writeback import write_back
from incidentctl.store.repo import Repo

if TYPE_CHECKING:  # PyGithub costs ~1 s to import: only GitHub commands load it
    from incidentctl.github.client import GitHub


def _connect(dry_run: bool) -> GitHub:
    from incidentctl.github.client import connect

    return connect(dry_run=dry_run, say=warn)


def _ghsync() -> ModuleType:
    """The GitHub operations, imported on first use (they import PyGithub)."""
    from incidentctl.github import sync as github_sync

    return github_sync


def _incidents(repo: Repo) -> list[tuple[Incident, str]]:
    out: list[tuple[Incident, str]] = []
    for item in repo.scan():
        if isinstance(item, DocumentErrors):
            warn(f"skipped: {item.errors[0].render()}")
            continue
        out.append((item.incident, str(item.path)))
    return out


@click.group(
    epilog="""\b
Examples:
  incidentctl github sync                       tracking issues in step with the files
  incidentctl github pr-comment --base origin/main
  incidentctl github command                    /ack and others from an issue comment
"""
)
def github() -> None:
    """GitHub tracking issues and pull-request summaries (uses GITHUB_TOKEN)."""


@github.command(
    "sync",
    epilog="""\b
Examples:
  GITHUB_REPOSITORY=parcelly/incidents GITHUB_TOKEN=... incidentctl github sync
  incidentctl github sync --dry-run             what it would create or change
Environment: GITHUB_REPOSITORY, GITHUB_TOKEN, GITHUB_API_URL (GitHub Enterprise Server).
""",
)
@click.option("--dry-run", is_flag=True, help="Print what would change on GitHub; change nothing.")
@click.pass_context
def sync(ctx: click.Context, dry_run: bool) -> None:
    """One tracking issue per incident: title, labels and open/closed kept in step."""
    repo = repo_from(ctx)
    gh = _connect(dry_run)
    for line in _ghsync().sync_incidents(gh, _incidents(repo)):
        click.echo(line)


def _pr_number(value: int | None) -> int:
    if value:
        return value
    ref = os.environ.get("GITHUB_REF", "")
    found = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", ref)
    if found:
        return int(found.group(1))
    event = os.environ.get("GITHUB_EVENT_PATH")
    if event and Path(event).is_file():
        data = json.loads(Path(event).read_text(encoding="utf-8"))
        number = (data.get("pull_request") or {}).get("number")
        if isinstance(number, int):
            return number
    raise IncidentctlError(
        "which pull request? no --pr given and GITHUB_REF is not refs/pull/N/merge",
        hint="run it in a pull_request workflow, or pass --pr N",
    )


@github.command(
    "pr-comment",
    epilog="""\b
Examples:
  incidentctl github pr-comment --base origin/main            in a pull_request workflow
  incidentctl github pr-comment --base origin/main --pr 42 --dry-run
One comment per pull request, found again by a hidden marker and updated in place.
""",
)
@click.option("--base", required=True, metavar="REF", help="The branch the PR merges into.")
@click.option("--pr", "pr", type=int, metavar="N", help="PR number (default: from GITHUB_REF).")
@click.option("--dry-run", is_flag=True, help="Print the comment; contact GitHub not at all.")
@now_option
@click.pass_context
def pr_comment(
    ctx: click.Context, base: str, pr: int | None, dry_run: bool, now_text: str | None
) -> None:
    """Keep one summary comment on the PR: priority, deadlines, overdue, PIR gaps."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    body = render(changed_incidents(repo, base, now, warn), base, now)
    if dry_run:  # a preview: GitHub is not contacted at all
        click.echo(body)
        return
    number = _pr_number(pr)
    warn(_ghsync().pr_comment(_connect(dry_run), number, body))


def _event(path: str | None) -> tuple[str, object]:
    where = path or os.environ.get("GITHUB_EVENT_PATH", "")
    if not where:
        raise IncidentctlError(
            "which event? no --event given and GITHUB_EVENT_PATH is not set",
            hint="run it in an issue_comment workflow, or pass --event FILE",
        )
    try:
        return where, json.loads(Path(where).read_text(encoding="utf-8"))
    except OSError as exc:
        raise IncidentctlError(
            f"{where}: cannot read the event ({exc.strerror})",
            hint="pass --event FILE with the issue_comment event's JSON",
        ) from None
    except ValueError as exc:
        raise IncidentctlError(f"{where}: the event is not JSON ({exc})") from None


@github.command(
    "command",
    epilog="""\b
Examples:
  incidentctl github command                    in an issue_comment workflow
  incidentctl github command --event event.json --branch main
  incidentctl github command --event event.json --dry-run    the change and the reply only
Comment commands on an incident's tracking issue (write access needed):
  /ack, /escalate tier-2|tier-3|management|executive [reason], /update TEXT,
  /update --public TEXT, /mitigate STRATEGY [note], /resolve
The change is made --by @commenter, committed and pushed (rebased and pushed again, at most
5 times, when the branch moves), and the comment gets a reply and a reaction.
Environment: GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_TOKEN, GITHUB_REF_NAME.
""",
)
@click.option(
    "--event", "event_path", metavar="PATH", help="The event JSON (default: $GITHUB_EVENT_PATH)."
)
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to.")
@click.option(
    "--branch", metavar="NAME", help="The branch to push to (default: $GITHUB_REF_NAME, else main)."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the change and the reply; write, commit, push and answer nothing (GitHub is "
    "only read, and not at all without GITHUB_REPOSITORY).",
)
@now_option
@click.pass_context
def command(
    ctx: click.Context,
    event_path: str | None,
    remote: str,
    branch: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Apply a command comment (/ack, /escalate, /update, /mitigate, /resolve)."""
    from incidentctl.github.commands import ignored, read_event

    where, data = _event(event_path)
    event = read_event(data, where)
    why = ignored(event)
    if why is not None:  # answered from the event alone: GitHub is not asked anything
        warn(f"ignored: {why}")
        return
    from incidentctl.github.answer import answer

    outcome = answer(
        repo_from(ctx),
        event,
        current_now(now_text),
        say=warn,
        remote=remote,
        branch=branch or os.environ.get("GITHUB_REF_NAME", "").strip() or "main",
        env=os.environ,
        dry_run=dry_run,
    )
    if outcome.preview is not None:
        show_diff(*outcome.preview)
    if dry_run and outcome.reply is not None:
        warn(f"would reply: {outcome.reply}")
    click.echo(outcome.summary)


@click.group(
    epilog="""\b
Examples:
  incidentctl actions sync                    one GitHub issue per preventive action
  incidentctl actions sync --write-back       and record issue numbers and closures in pir.md
"""
)
def actions() -> None:
    """Preventive actions of the PIRs as GitHub issues."""


def _pirs(repo: Repo) -> list[tuple[Path, str, Pir]]:
    out: list[tuple[Path, str, Pir]] = []
    for path in repo.pirs.files():
        try:
            _, pir = repo.pirs.load(path)
        except DocumentErrors as exc:
            warn(f"skipped: {exc.errors[0].render()}")
            continue
        except DocumentError as exc:
            warn(f"skipped: {exc.render()}")
            continue
        out.append((path, repo.rel(path), pir))
    return out


@actions.command(
    "sync",
    epilog="""\b
Examples:
  incidentctl actions sync
  incidentctl actions sync --write-back       then commit the changed pir.md files
  incidentctl actions sync --dry-run
A closed issue counts as a done action once written back (--write-back): pir.md is the
single source of truth for `overdue` and the metrics.
""",
)
@click.option(
    "--write-back",
    "write_back_flag",
    is_flag=True,
    help="Write each issue number, and closures as status done + done_at, into pir.md.",
)
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@now_option
@click.pass_context
def actions_sync(
    ctx: click.Context, write_back_flag: bool, dry_run: bool, now_text: str | None
) -> None:
    """One GitHub issue per preventive action; read their state back."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    gh = _connect(dry_run)
    pirs = [(rel, pir) for _, rel, pir in _pirs(repo)]
    lines, back = _ghsync().sync_actions(gh, pirs, now)
    for line in lines:
        click.echo(line)
    if not back:
        return
    if write_back_flag:
        for line in write_back(repo, back, dry_run=dry_run):
            click.echo(("would write " if dry_run else "wrote ") + line)
    else:
        pending = sum(1 for b in back if b.done_at)
        warn(
            f"{len(back)} action(s) differ from their issues ({pending} closed on GitHub): "
            "run with --write-back to record them in the PIRs"
        )


COMMANDS: list[click.Command] = [github, actions]
