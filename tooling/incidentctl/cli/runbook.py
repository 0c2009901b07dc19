"""`incidentctl runbook ...`: write runbooks, record drills, link them to incidents, list them."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from incidentctl.cli.common import (
    actor_of,
    current_now,
    echo_json,
    format_option,
    now_option,
    pad_columns,
    parse_time,
    repo_from,
    show_diff,
    style,
)
from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.markdown import PLACEHOLDER
from incidentctl.core.model import DrillResult, Incident, Runbook, is_handle
from incidentctl.core.timevalues import TimeValueError, format_timestamp, is_day, parse_date
from incidentctl.render import templating
from incidentctl.runbooks import runbook as runbooks
from incidentctl.store.repo import Repo

TEMPLATE = "runbook.md.j2"
_STATE_COLOR = {runbooks.STALE: "red", runbooks.NEVER: "red", runbooks.DUE_SOON: "yellow"}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _when(value: datetime | date) -> str:
    return format_timestamp(value) if isinstance(value, datetime) else value.isoformat()


@click.group(
    epilog="""\b
Examples:
  incidentctl runbook list --service checkout-api
  incidentctl runbook new redis-evictions --title "Redis evicts session keys" \\
      --owner @org/platform --services session-store
  incidentctl runbook tested checkout-5xx --at 2026-11-20 --note "staging game day"
"""
)
def runbook() -> None:
    """Runbooks: what the on-call engineer follows, kept complete and exercised."""


@runbook.command(
    "new",
    epilog="""\b
Examples:
  incidentctl runbook new redis-evictions --title "Redis evicts session keys" \\
      --owner @org/platform --services session-store,auth-service
  incidentctl runbook new checkout-config --from-incident INC-20261103-4K7Q
  incidentctl runbook new checkout-config --from-incident INC-20261103-4K7Q --dry-run
The five sections hold TODO placeholders: `incidentctl validate` reports each one until
it is replaced. Override the layout with templates/runbook.md.j2 in the repository.
""",
)
@click.argument("name")
@click.option("--title", help="The scenario, one line (default: the incident's title).")
@click.option(
    "--owner",
    metavar="@WHO",
    help="Owning GitHub team or user (default: the first service's tier-2 contact).",
)
@click.option(
    "--services",
    metavar="A,B",
    help="Services it covers, comma-separated (default: the incident's).",
)
@click.option(
    "--from-incident",
    "incident_id",
    metavar="ID",
    help="Prefill from this incident and add the runbook to its `runbooks:` list.",
)
@click.option("--dry-run", is_flag=True, help="Show the new file (and the link); write nothing.")
@click.pass_context
def new(
    ctx: click.Context,
    name: str,
    title: str | None,
    owner: str | None,
    services: str | None,
    incident_id: str | None,
    dry_run: bool,
) -> None:
    """Write runbooks/NAME.md with the five sections to fill in."""
    repo = repo_from(ctx)
    path = repo.runbooks.path(name)
    if path.exists():
        raise IncidentctlError(f"{repo.rel(path)} already exists", hint="edit it instead")
    policy = repo.policy()
    loaded = repo.find(incident_id) if incident_id else None
    incident = loaded.incident if loaded else None
    chosen = _split(services) or (list(incident.services) if incident else [])
    if not chosen:
        raise click.UsageError("--services is required (or --from-incident with services)")
    for _, service, close in runbooks.unknown_services(chosen, policy.known_services()):
        raise IncidentctlError(
            f"unknown service '{service}'",
            hint=f"did you mean '{close}'?" if close else "add it to policies/components.yaml",
        )
    title = title or (incident.title if incident else None)
    if not title or not title.strip():
        raise click.UsageError("--title is required (or --from-incident)")
    if not owner:
        contact = policy.contact(chosen[0], "tier-2")
        owner = contact.primary if contact else None
        if not owner:
            raise click.UsageError("--owner is required: the policy names no tier-2 contact")
        click.echo(f"owner: {owner} (tier-2 contact of {chosen[0]})", err=True)
    elif not is_handle(owner):
        click.echo(f"warning: owner '{owner}' is not a GitHub @user or @org/team", err=True)
    env = templating.environment(repo.root)
    context = runbooks.new_context(
        name=name,
        title=title,
        owner=owner,
        services=chosen,
        policy=policy,
        incident=incident,
        incident_link="../" + str(loaded.path) if loaded else None,
    )
    text = templating.render(env, TEMPLATE, context, repo_root=repo.root)
    repo.runbooks.create(name, text, dry_run=dry_run)
    if dry_run:
        show_diff(repo.rel(path), "", text)
    linked = _link(repo, loaded.incident.id, name, dry_run=dry_run) if loaded else False
    if dry_run:
        return
    click.echo(repo.rel(path))
    if linked and loaded:
        click.echo(f"  linked from {loaded.incident.id} (runbooks: list)", err=True)
    click.echo(
        f"  next: fill in every {PLACEHOLDER}, check with `incidentctl validate`, "
        f"then drill it and run `incidentctl runbook tested {name}`",
        err=True,
    )


def _link(repo: Repo, incident_id: str, name: str, *, dry_run: bool) -> bool:
    """Add NAME to the incident's `runbooks:` list (a minimal edit, under the incident's
    lock); False if it is there already."""

    def add(incident: Incident) -> Incident:
        if name in incident.runbooks:
            return incident
        return incident.model_copy(update={"runbooks": [*incident.runbooks, name]})

    edited = repo.edit(incident_id, add, dry_run=dry_run)
    if dry_run and edited.changed:
        show_diff(str(edited.path), edited.old, edited.text)
    return edited.changed


def _drill_time(value: str | None, now: datetime) -> datetime | date:
    """A date (the drill's day), a timestamp, or a relative time like -2h."""
    if value and is_day(value):
        try:
            return parse_date(value)
        except TimeValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--at") from None
    return parse_time(value, now, "--at")


@runbook.command(
    "tested",
    epilog="""\b
Examples:
  incidentctl runbook tested checkout-5xx
  incidentctl runbook tested checkout-5xx --at 2026-11-20 --note "staging game day, 12 min"
  incidentctl runbook tested database-failover --at 2026-11-26T10:00:00Z \\
      --result failed --note "step 3: patronictl needs --force"
Only a drill that passed moves last_tested (the runbook-untested timer reads it);
every drill is appended to the runbook's `drills:` list.
""",
)
@click.argument("name")
@click.option(
    "--at",
    "at_text",
    metavar="WHEN",
    help="When the drill ran: a date, an ISO-8601 timestamp with timezone, or relative "
    "like -2h (default: now).",
)
@click.option("--by", metavar="WHO", help="Who ran it (default: git user.name).")
@click.option(
    "--result",
    type=click.Choice([r.value for r in DrillResult]),
    default=DrillResult.PASSED.value,
    show_default=True,
    help="How it went; only passed moves last_tested.",
)
@click.option("--note", help="What was exercised, how long it took, what to fix.")
@click.option("--dry-run", is_flag=True, help="Show the change to the file; write nothing.")
@now_option
@click.pass_context
def tested(
    ctx: click.Context,
    name: str,
    at_text: str | None,
    by: str | None,
    result: str,
    note: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Record a drill of runbook NAME (sets last_tested when it passed)."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    at = _drill_time(at_text, now)
    actor = actor_of(by, repo.root)
    name = repo.runbook_name(name)
    path = repo.runbooks.find_path(name)
    if DrillResult(result) == DrillResult.PASSED:
        _refuse_placeholders(repo, path, name)

    def record(book: Runbook) -> Runbook:
        return runbooks.record_drill(
            book, name=name, at=at, now=now, by=actor, result=DrillResult(result), note=note
        )

    edited = repo.runbooks.edit(path, record, dry_run=dry_run)
    if dry_run:
        show_diff(str(edited.path), edited.old, edited.text)
        return
    book, updated = edited.before, edited.after
    drill = updated.drills[-1]
    when = _when(drill.at)
    click.echo(f"{name}: drill {drill.result.value} on {when} recorded in {edited.path}")
    if updated.last_tested != book.last_tested:
        click.echo(f"  last_tested: {book.last_tested or 'never'} -> {updated.last_tested}")
    elif drill.result != DrillResult.PASSED:
        click.echo(
            f"  last_tested stays {book.last_tested or 'unset'}: only a drill that passed "
            "counts; fix the runbook and drill it again",
            err=True,
        )
    fresh = runbooks.freshness(updated, repo.policy(), now)
    if fresh.due is not None:
        click.echo(f"  next drill due by {fresh.due:%Y-%m-%d} ({fresh.state})", err=True)


def _refuse_placeholders(repo: Repo, path: Path, name: str) -> None:
    """A runbook that still holds the template's TODOs cannot have passed a drill: refused
    before the edit (which reads the file again under its lock), naming the first TODO."""
    doc, book = repo.runbooks.load(path)
    left = runbooks.placeholders_left(doc, book)
    if left:
        first = left[0]
        more = f" and {len(left) - 1} more" if len(left) > 1 else ""
        raise DocumentError(
            first.path,
            f"runbook {name} still has TODO placeholders ({first.message}{more}): a drill of "
            "it cannot have passed",
            line=first.line,
            hint="write the missing steps (incidentctl validate lists every TODO), then "
            "record the drill; a drill that showed the gap: --result failed",
            rule="runbook-placeholder",
        )


@runbook.command(
    "link",
    epilog="""\b
Examples:
  incidentctl runbook link checkout-5xx INC-20261127-7K3Q
  incidentctl runbook link database-failover INC-20261127-7K3Q --dry-run
""",
)
@click.argument("name")
@click.argument("incident_id", metavar="ID")
@click.option("--dry-run", is_flag=True, help="Show the change to the incident; write nothing.")
@click.pass_context
def link(ctx: click.Context, name: str, incident_id: str, dry_run: bool) -> None:
    """Record that incident ID uses runbook NAME (its `runbooks:` list)."""
    repo = repo_from(ctx)
    name = repo.runbook_name(name)
    repo.runbooks.find(name)
    incident_id = repo.incident_id(incident_id)
    if not _link(repo, incident_id, name, dry_run=dry_run):
        click.echo(f"{incident_id} already links to {name}")
    elif not dry_run:
        click.echo(f"{incident_id} -> runbooks/{name}.md")


@runbook.command(
    "list",
    epilog="""\b
Examples:
  incidentctl runbook list
  incidentctl runbook list --service checkout-api
  incidentctl runbook list --format json --now 2026-11-27T16:00:00Z
STATE: ok, due soon, stale (untested longer than policy review.runbook_max_untested)
or never tested. INCIDENTS: incidents whose `runbooks:` list names it (open ones).
""",
)
@click.option("--service", metavar="S", help="Only runbooks covering this service.")
@now_option
@format_option()
@click.pass_context
def list_(ctx: click.Context, service: str | None, now_text: str | None, fmt: str) -> None:
    """List runbooks: owner, services, last drill, staleness, linked incidents."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    policy = repo.policy()
    books: list[tuple[str, str, Runbook]] = []
    for path in repo.runbooks.files():
        try:
            books.append((path.stem, repo.rel(path), repo.runbooks.load(path)[1]))
        except (DocumentError, DocumentErrors) as exc:
            click.echo(f"skipped: {exc.render()}", err=True)
    if service:
        books = [b for b in books if service in b[2].services]
    linked: dict[str, list[tuple[str, bool]]] = {}
    for item in repo.scan():
        if isinstance(item, Loaded):
            for name in item.incident.runbooks:
                linked.setdefault(name, []).append((item.incident.id, item.incident.is_open))
    rows = []
    for name, rel, book in books:
        fresh = runbooks.freshness(book, policy, now)
        incidents = linked.get(name, [])
        rows.append(
            {
                "name": name,
                "path": rel,
                "title": book.title,
                "owner": book.owner,
                "services": book.services,
                "last_tested": book.last_tested.isoformat() if book.last_tested else None,
                "age_days": fresh.age_days,
                "due": format_timestamp(fresh.due) if fresh.due else None,
                "state": fresh.state,
                "stale": fresh.stale,
                "drills": len(book.drills),
                "incidents": [i for i, _ in incidents],
                "open_incidents": [i for i, is_open in incidents if is_open],
            }
        )
    if fmt == "json":
        echo_json({"now": format_timestamp(now), "runbooks": rows})
        return
    _table(rows, now)


def _table(rows: list[dict[str, Any]], now: datetime) -> None:
    if not rows:
        click.echo("no runbooks match")
        return
    table = [["NAME", "OWNER", "LAST TESTED", "AGE", "STATE", "INCIDENTS", "SERVICES"]]
    for r in rows:
        count = str(len(r["incidents"]))
        if r["open_incidents"]:
            count += f" ({len(r['open_incidents'])} open)"
        table.append(
            [
                r["name"],
                r["owner"],
                r["last_tested"] or "never",
                f"{r['age_days']}d" if r["age_days"] is not None else "-",
                r["state"],
                count,
                ", ".join(r["services"]),
            ]
        )
    for index, (row, cells) in enumerate(zip(table, pad_columns(table), strict=True)):
        if index and row[4] in _STATE_COLOR:
            cells[4] = style(cells[4], fg=_STATE_COLOR[row[4]], bold=True)
        line = "  ".join(cells)
        click.echo(style(line, bold=True) if index == 0 else line)
    counts = Counter(r["state"] for r in rows)
    states = [
        f"{counts[s]} {s}"
        for s in (runbooks.OK, runbooks.DUE_SOON, runbooks.STALE, runbooks.NEVER)
        if counts[s]
    ]
    click.echo(f"{len(rows)} runbook(s): {', '.join(states)} as of {now:%Y-%m-%d}", err=True)


COMMANDS: list[click.Command] = [runbook]
