"""`pir new`, `pir check`, `pir add-action`: the post-incident review, from scaffold to approval."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime

import click

from incidentctl.checks import pir as pir_checks
from incidentctl.checks.incidents import Finding
from incidentctl.cli.common import (
    actor_of,
    current_now,
    default_actor,
    echo_findings,
    format_option,
    now_option,
    parse_time,
    repo_from,
    show_diff,
    style,
)
from incidentctl.core.documents import Document
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import (
    ACTION_ID_PATTERN,
    ACTION_ID_RULE,
    ActionStatus,
    Horizon,
    Incident,
    Pir,
    is_handle,
)
from incidentctl.core.timevalues import TimeValueError, parse_date
from incidentctl.deadlines import timers
from incidentctl.pir import actions as finishing
from incidentctl.pir import scaffold as pir_scaffold
from incidentctl.render import templating
from incidentctl.store import edits
from incidentctl.store.actions import set_action_key
from incidentctl.store.repo import Repo
from incidentctl.store.validation import pir_findings

PIR_TEMPLATE = "pir.md.j2"


@click.group(
    epilog="""\b
Examples:
  incidentctl pir new INC-20261103-4K7Q
  incidentctl pir check INC-20261103-4K7Q
  incidentctl pir add-action INC-20261103-4K7Q --title "Add canary gate" --owner @sre \\
      --horizon short-term
  incidentctl pir check --format github        every PIR, as PR annotations
"""
)
def pir() -> None:
    """Post-incident reviews: blameless, on time, complete, with tracked actions."""


def _linked_runbooks(repo: Repo, incident: Incident) -> list[pir_scaffold.LinkedRunbook]:
    out = []
    for name in incident.runbooks:
        runbook = None
        try:
            runbook = repo.runbooks.linked(name)
        except (DocumentError, DocumentErrors) as exc:
            click.echo(f"warning: {exc.render()}", err=True)
        out.append(pir_scaffold.LinkedRunbook(name, runbook))
    return out


@pir.command(
    "new",
    epilog="""\b
Examples:
  incidentctl pir new INC-20261103-4K7Q
  incidentctl pir new INC-20261103-4K7Q --facilitator @nwright --date 2026-11-04
  incidentctl pir new INC-20261103-4K7Q --dry-run       print it, write nothing
The template is templates/pir.md.j2 in the repository if it has one, else the built-in.
""",
)
@click.argument("incident_id", metavar="ID")
@click.option("--facilitator", metavar="WHO", help="Default: the incident commander, or you.")
@click.option("--date", "day", metavar="DATE", help="Day of the review meeting (default: today).")
@click.option("--dry-run", is_flag=True, help="Print the PIR; write nothing.")
@now_option
@click.pass_context
def new(
    ctx: click.Context,
    incident_id: str,
    facilitator: str | None,
    day: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Write the incident's pir.md, pre-filled from everything the incident file knows."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    loaded = repo.find(incident_id)
    incident = loaded.incident
    policy = repo.policy_for(incident)
    rule = policy.review.pir.get(incident.priority)
    if rule is None or rule.due is None:
        click.echo(
            f"note: the policy asks no PIR for {incident.priority}; writing one anyway", err=True
        )
    if incident.is_open:
        click.echo(
            f"note: {incident.id} is still {incident.status.value}; the PIR clock starts at "
            "resolution",
            err=True,
        )
    runbooks = _linked_runbooks(repo, incident)
    roles = incident.roles
    context = pir_scaffold.pir_context(
        incident,
        policy=repo.policy(),
        deadlines=timers.schedule(incident, policy, now),
        runbooks=runbooks,
        facilitator=facilitator
        or (roles.incident_commander if roles else None)
        or default_actor(repo.root),
        today=_day(day, "--date") if day else now.date(),
        incident_path=str(loaded.path),
    )
    env = templating.environment(repo.root)
    text = templating.render(env, PIR_TEMPLATE, context, repo_root=repo.root)
    try:
        path = repo.pirs.create(loaded, text, dry_run=dry_run)
    except (DocumentError, DocumentErrors) as exc:
        origin = templating.origin(env, repo.root, PIR_TEMPLATE)
        raise IncidentctlError(
            f"the {origin} template {PIR_TEMPLATE} produced an invalid PIR:\n{exc.render()}",
            hint="fix templates/pir.md.j2 (its front-matter must match `incidentctl pir` fields)",
        ) from None
    if dry_run:
        click.echo(text, nl=False)
        return
    click.echo(repo.rel(path))
    for linked in runbooks:
        if linked.runbook is None:
            click.echo(f"  runbook {linked.name}: does not exist", err=True)
        else:
            tested = linked.runbook.last_tested or "never"
            click.echo(
                f"  runbook {linked.name}: {linked.runbook.title} (last tested {tested})", err=True
            )
    suggestion = context["runbook_suggestion"]
    if suggestion:
        click.echo(f"  suggestion: {suggestion}", err=True)
    click.echo(
        f"Next: fill in the TODOs, `incidentctl pir check {incident.id}`, open a pull request;"
        " the CODEOWNERS reviewers approve it.",
        err=True,
    )


def _day(text: str, option: str) -> date:
    try:
        return parse_date(text)
    except TimeValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def failing(f: Finding) -> bool:
    """What makes `pir check` exit 1: errors, and anything still missing even in a draft."""
    return f.severity == "error" or f.rule == pir_checks.INCOMPLETE


@pir.command(
    "check",
    epilog="""\b
Examples:
  incidentctl pir check INC-20261103-4K7Q     what is still missing in one PIR
  incidentctl pir check                       every PIR, and required PIRs not yet written
  incidentctl pir check --format json
Exit code: 0 complete, 1 something missing or wrong, 2 usage or input error.
Blame language is a warning and does not change the exit code.
""",
)
@click.argument("incident_id", metavar="[ID]", required=False)
@format_option(("text", "json", "github"))
@click.pass_context
def check(ctx: click.Context, incident_id: str | None, fmt: str) -> None:
    """Is the PIR complete, consistent and blameless? Says precisely what is missing."""
    repo = repo_from(ctx)
    findings, statuses = pir_findings(repo, incident_id)
    bad = [f for f in findings if failing(f)]
    echo_findings(findings, fmt, {"complete": not bad, "pirs": statuses})
    if fmt == "text":
        to_do = Counter(f.path for f in bad)  # one pass: 100,000 PIRs by their findings
        for rel, status in sorted(statuses.items()):
            open_items = to_do[rel]
            verdict = (
                style("complete", fg="green")
                if not open_items
                else style(f"{open_items} item(s) to do", fg="red")
            )
            click.echo(f"{rel}: {status}: {verdict}", err=True)
        if not statuses and not findings:
            click.echo("no PIRs yet", err=True)
    ctx.exit(1 if bad else 0)


@pir.command(
    "add-action",
    epilog="""\b
Examples:
  incidentctl pir add-action INC-20261103-4K7Q --title "Refuse to start without PRICING_API_URL" \\
      --owner @parcelly/payments --horizon immediate
  incidentctl pir add-action INC-20261103-4K7Q --title "Canary gate" --owner @sre \\
      --horizon short-term --due 2026-12-15 --id A7 --dry-run
The due date defaults from the horizon (policies/review.yaml action_horizons), counted from today.
""",
)
@click.argument("incident_id", metavar="ID")
@click.option("--title", required=True, help="What to do.")
@click.option("--owner", required=True, metavar="WHO", help="@user or @org/team.")
@click.option("--horizon", required=True, type=click.Choice([h.value for h in Horizon]))
@click.option("--due", "due_text", metavar="DATE", help="Default: today + the horizon.")
@click.option("--id", "action_id", metavar="ID", help="Default: A1, A2, ... (next free).")
@click.option("--issue", metavar="URL", help="Tracking issue, if it exists already.")
@click.option("--dry-run", is_flag=True, help="Show the change; write nothing.")
@now_option
@click.pass_context
def add_action(
    ctx: click.Context,
    incident_id: str,
    title: str,
    owner: str,
    horizon: str,
    due_text: str | None,
    action_id: str | None,
    issue: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Append a preventive action to the PIR, keeping the file's comments and layout."""
    if not is_handle(owner.strip()):
        raise click.BadParameter(
            f"{owner!r} is not a @user or an @org/team: reminders mention the owner",
            param_hint="--owner",
        )
    owner = owner.strip()
    repo = repo_from(ctx)
    now = current_now(now_text)
    loaded = repo.find(incident_id)
    if repo.pirs.of(loaded) is None:
        raise IncidentctlError(
            f"{loaded.incident.id} has no PIR yet",
            hint=f"incidentctl pir new {loaded.incident.id}",
        )
    if action_id is not None and not re.fullmatch(ACTION_ID_PATTERN, action_id):
        raise click.BadParameter(
            f"{action_id!r} is not a valid action ID: an action ID is {ACTION_ID_RULE}",
            param_hint="--id",
        )
    if due_text:
        due = _day(due_text, "--due")
    else:
        span = repo.policy().review.action_horizons.get(horizon)
        if span is None:
            raise click.BadParameter(
                f"policy has no horizon {horizon!r}; give --due", param_hint="--horizon"
            )
        due = pir_scaffold.default_due(span.timedelta, now.date())
    if due < loaded.incident.detected_at.date():
        raise click.BadParameter(f"{due} is before the incident", param_hint="--due")

    def append(doc: Document, current: Pir) -> str:
        """The action appended to the PIR as it is now (the next free ID is taken now)."""
        taken = {a.id for a in current.actions}
        chosen = action_id
        if chosen is None:
            number = len(current.actions) + 1
            while f"A{number}" in taken:
                number += 1
            chosen = f"A{number}"
        elif chosen in taken:
            raise click.BadParameter(f"action {chosen} already exists", param_hint="--id")
        item = {
            "id": chosen,
            "title": title,
            "owner": owner,
            "horizon": horizon,
            "due": due.isoformat(),
            "status": "open",
        }
        if issue:
            item["issue"] = issue
        return edits.append_item(doc.front, "actions", item)

    edited = repo.pirs.edit_front(repo.pirs.path(loaded), append, dry_run=dry_run)
    if dry_run:
        show_diff(str(edited.path), edited.old, edited.text)
        return
    action_id = edited.after.actions[-1].id
    click.echo(f"{action_id}: due {due.isoformat()} ({horizon}), owner {owner}")


@click.group(
    epilog="""\b
Examples:
  incidentctl action done INC-20261103-4K7Q A1
  incidentctl action cancel INC-20261103-4K7Q A3 --reason "Superseded by A4"
"""
)
def action() -> None:
    """Finish a PIR's preventive action: done, or cancelled with a reason."""


def _finisher(status: ActionStatus, help_text: str, example: str) -> click.Command:
    @action.command(
        "done" if status == ActionStatus.DONE else "cancel",
        help=help_text,
        epilog=f"\b\nExamples:\n  {example}",
    )
    @click.argument("incident_id", metavar="ID")
    @click.argument("action_id", metavar="ACTION-ID")
    @click.option(
        "--reason",
        required=status == ActionStatus.CANCELLED,
        help="Why it is cancelled."
        if status == ActionStatus.CANCELLED
        else "A note on how it was done.",
    )
    @click.option(
        "--at", "at_text", metavar="DATE", help="The day it was finished (default: today)."
    )
    @click.option("--by", metavar="WHO", help="Who finished it (default: as for every write).")
    @click.option("--dry-run", is_flag=True, help="Show the change to pir.md; write nothing.")
    @now_option
    @click.pass_context
    def command(
        ctx: click.Context,
        incident_id: str,
        action_id: str,
        reason: str | None,
        at_text: str | None,
        by: str | None,
        dry_run: bool,
        now_text: str | None,
    ) -> None:
        repo = repo_from(ctx)
        now = current_now(now_text)
        actor = actor_of(by, repo.root)
        on = _finished_on(at_text, now)
        loaded = repo.find(incident_id)
        if on < loaded.incident.detected_at.date():
            raise click.BadParameter(f"{on} is before the incident", param_hint="--at")
        if repo.pirs.of(loaded) is None:
            raise IncidentctlError(
                f"{loaded.incident.id} has no PIR yet",
                hint=f"incidentctl pir new {loaded.incident.id}",
            )
        chosen: list[str] = []

        def mark(doc: Document, current: Pir) -> str:
            """The action as it is now in the PIR, marked finished as minimal edits."""
            index, changes = finishing.finish(
                current, action_id, status, on=on, by=actor, reason=reason
            )
            chosen.append(current.actions[index].id)
            front = doc.front
            for key, value in changes.items():
                front = set_action_key(front, index, key, value)
            return front

        path = repo.pirs.path(loaded)
        edited = repo.pirs.edit_front(path, mark, dry_run=dry_run)
        if dry_run:
            show_diff(str(edited.path), edited.old, edited.text)
            return
        click.echo(f"{chosen[0]}: {status.value} on {on.isoformat()} ({repo.rel(path)})")

    return command


def _finished_on(text: str | None, now: datetime) -> date:
    """--at of an action: a day, or a time (its UTC day); never in the future."""
    if text is None:
        on = now.date()
    elif len(text.strip()) == len("2026-11-27"):
        on = _day(text.strip(), "--at")
    else:
        on = parse_time(text, now, "--at").astimezone(UTC).date()
    if on > now.date():
        raise click.BadParameter(f"{on} is in the future", param_hint="--at")
    return on


done = _finisher(
    ActionStatus.DONE,
    "Mark a preventive action done (status: done, done_at: the day).",
    "incidentctl action done INC-20261103-4K7Q A1 --at 2026-11-20",
)
cancel = _finisher(
    ActionStatus.CANCELLED,
    "Cancel a preventive action, saying why (status: cancelled, reason).",
    'incidentctl action cancel INC-20261103-4K7Q A3 --reason "Superseded by A4"',
)

COMMANDS = [pir, action]
