"""`github sync`, `github pr-comment`, `actions sync`; and the posting behind `overdue --post`.

The GitHub repository and token come from the Actions environment (GITHUB_REPOSITORY,
GITHUB_TOKEN, GITHUB_API_URL); see incidentctl/github.py. What these commands do on GitHub
is printed on stderr, so `--format json` output on stdout stays parseable.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from incidentctl.cli.common import current_now, now_option, repo_from
from incidentctl.cli.deadlines import Approvals, read_pir
from incidentctl.cli.pir import check_one
from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident, Pir
from incidentctl.core.timevalues import Duration, TimeValueError
from incidentctl.deadlines import timers
from incidentctl.github.summary import Changed, render
from incidentctl.store import git
from incidentctl.store.actions import set_action_key
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo

if TYPE_CHECKING:  # PyGithub costs ~1 s to import: only GitHub commands load it
    from incidentctl.github import sync as ghsync
    from incidentctl.github.client import GitHub

_LEVELS = ("tier-1", "tier-2", "tier-3", "management", "executive", "security")


def _say(text: str) -> None:
    click.echo(text, err=True)


def _connect(dry_run: bool) -> GitHub:
    from incidentctl.github.client import connect

    return connect(dry_run=dry_run, say=_say)


def _ghsync() -> ModuleType:
    """The GitHub operations, imported on first use (they import PyGithub)."""
    from incidentctl.github import sync as ghsync

    return ghsync


def _incidents(repo: Repo) -> list[tuple[Loaded, str]]:
    out: list[tuple[Loaded, str]] = []
    for item in repo.scan():
        if isinstance(item, DocumentErrors):
            _say(f"skipped: {item.errors[0].render()}")
            continue
        out.append((item, str(item.path)))
    return out


def post_overdue(
    repo: Repo,
    found: list[timers.Reminder],
    paths: dict[str, str],
    now: datetime,
    *,
    dry_run: bool,
    repeat: str | None,
) -> None:
    """`overdue --post`: each overdue finding once on its incident's tracking issue."""
    repeat_seconds = None
    if repeat:
        try:
            repeat_seconds = int(Duration.parse(repeat).timedelta.total_seconds())
        except TimeValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--repeat") from None
    gh = _connect(dry_run)
    wanted = {
        f.incident
        for f in found
        if f.state == timers.OVERDUE and paths.get(f.incident, "").endswith(INCIDENT_FILE)
    }
    incidents: dict[str, tuple[Incident, str]] = {}
    for incident_id in sorted(wanted):  # only these are read again, not the whole repository
        rel = paths[incident_id]
        incidents[incident_id] = (repo.load(repo.root / rel).incident, rel)

    def backups(f: timers.Reminder) -> tuple[str, ...]:
        """The backups of the contacts reminded, from the escalation policy."""
        incident = incidents[f.incident][0]
        policy = repo.policy_for(incident)
        out: list[str] = []
        services: list[str | None] = [*incident.services] or [None]
        for service in services:
            for level in _LEVELS:
                contact = policy.contact(service, level)
                if contact and contact.primary in f.who and contact.backup:
                    out.append(contact.backup)
        return tuple(dict.fromkeys(out))

    for line in _ghsync().post_reminders(
        gh, found, incidents, now, repeat_seconds=repeat_seconds, backups=backups
    ):
        _say(line)


@click.group(
    epilog="""\b
Examples:
  incidentctl github sync                       tracking issues in step with the files
  incidentctl github pr-comment --base origin/main
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
    items = [(loaded.incident, rel) for loaded, rel in _incidents(repo)]
    for line in _ghsync().sync_incidents(gh, items):
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


def changed_incidents(repo: Repo, base: str, now: datetime) -> list[Changed]:
    """The incidents whose incident.md or pir.md differ from `base`, with their summary."""
    before = git.files_at(repo.root, base, "incidents", INCIDENT_FILE)
    before_pirs = git.files_at(repo.root, base, "incidents", PIR_FILE)
    approvals = Approvals(repo)
    by_folder: dict[str, Loaded | None] = {}
    out: list[Changed] = []
    for loaded, rel in _incidents(repo):
        pir_file = repo.pirs.path(loaded)
        pir_rel = repo.rel(pir_file)
        text = (repo.root / rel).read_bytes()
        pir_changed = pir_file.is_file() and before_pirs.get(pir_rel) != pir_file.read_bytes()
        if before.get(rel) == text and not pir_changed:
            continue
        incident = loaded.incident
        policy = repo.policy_for(incident)
        pir = read_pir(repo, loaded, approvals)
        schedule = timers.schedule(incident, policy, now, pir=pir)
        overdue = [
            f
            for f in timers.findings(
                [timers.Subject(incident, policy, pir)], [], policy, now, include_due_soon=False
            )
            if f.incident == incident.id and f.rule != "major-incident"
        ]
        pir_findings = check_one(repo, pir_file, by_folder)[0] if pir_file.is_file() else []
        out.append(
            Changed(
                incident=incident,
                path=rel,
                policy=policy,
                new=rel not in before,
                schedule=schedule,
                overdue=overdue,
                pir_path=pir_rel if pir_file.is_file() else None,
                pir_findings=pir_findings,
            )
        )
    return out


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
    body = render(changed_incidents(repo, base, now), base, now)
    if dry_run:  # a preview: GitHub is not contacted at all
        click.echo(body)
        return
    number = _pr_number(pr)
    _say(_ghsync().pr_comment(_connect(dry_run), number, body))


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
            _say(f"skipped: {exc.errors[0].render()}")
            continue
        except DocumentError as exc:
            _say(f"skipped: {exc.render()}")
            continue
        out.append((path, repo.rel(path), pir))
    return out


def write_back(repo: Repo, back: list[ghsync.ReadBack], *, dry_run: bool) -> list[str]:
    """Record issue numbers and closures in the PIRs, as minimal edits."""
    out: list[str] = []
    by_pir: dict[str, list[ghsync.ReadBack]] = {}
    for item in back:
        by_pir.setdefault(item.pir, []).append(item)
    for rel, items in by_pir.items():
        doc, pir = repo.pirs.load(repo.root / rel)
        for item in items:
            action = pir.actions[item.index]
            if action.issue != item.issue:
                doc.front = set_action_key(doc.front, item.index, "issue", item.issue)
            if item.done_at is not None:
                doc.front = set_action_key(doc.front, item.index, "status", item.status)
                doc.front = set_action_key(doc.front, item.index, "done_at", item.done_at)
            done = f", {item.status} {item.done_at}" if item.done_at else ""
            out.append(f"{rel}: {item.action} issue {item.issue}{done}")
        repo.pirs.write(doc, dry_run=dry_run)
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
        _say(
            f"{len(back)} action(s) differ from their issues ({pending} closed on GitHub): "
            "run with --write-back to record them in the PIRs"
        )


COMMANDS: list[click.Command] = [github, actions]
