"""`incidentctl maintenance schedule|update|list`: maintenance windows for the status page.

A maintenance is a file, maintenances/<ID>.md: front-matter with the window
(`scheduled_for`, `scheduled_until`), the affected components and a public description;
`validate` checks it like an incident. Its status (scheduled, in progress, completed) is
computed from the time, so a scheduled site build moves it along without an edit.
"""

from __future__ import annotations

import difflib
from datetime import datetime

import click
from pydantic import ValidationError

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
    write_options,
)
from incidentctl.core.documents import Document
from incidentctl.core.errors import DocumentErrors, IncidentctlError
from incidentctl.core.model import Maintenance, MaintenancePhase
from incidentctl.core.timevalues import Duration, TimeValueError, format_timestamp, in_future
from incidentctl.site.status import maintenance_status
from incidentctl.store import edits
from incidentctl.store.incidents import new_id


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.group(
    epilog="""\b
Examples:
  incidentctl maintenance schedule --title "Database upgrade" --components database \\
      --start 2026-12-06T02:00:00Z --duration 2h
  incidentctl maintenance update MNT-20261206-PG17 -m "Done." --complete
  incidentctl maintenance list --format json
"""
)
def maintenance() -> None:
    """Scheduled maintenance windows shown on the status page."""


@maintenance.command(
    "schedule",
    epilog="""\b
Examples:
  incidentctl maintenance schedule --title "PostgreSQL 17 upgrade" --components database,auth \\
      --start 2026-12-06T02:00:00Z --end 2026-12-06T04:00:00Z \\
      --description "Sign-in may be unavailable for up to 10 minutes."
  incidentctl maintenance schedule --title "Carrier API migration" --components tracking \\
      --start 2026-12-10T06:00:00Z --duration 90m --dry-run
""",
)
@click.option("--title", required=True, help="What is being done, in customers' words.")
@click.option("--components", required=True, metavar="A,B", help="Affected component IDs.")
@click.option(
    "--start",
    "start_text",
    required=True,
    metavar="TS",
    help="Window start: ISO-8601 with a zone, or relative like +2h, 'in 30m'.",
)
@click.option("--end", "end_text", metavar="TS", help="Window end, the same forms (or --duration).")
@click.option("--duration", metavar="D", help="Window length, e.g. 2h or 90m (or --end).")
@click.option("--description", help="Public text (markdown) shown with the maintenance.")
@click.option("--private", is_flag=True, help="Record it but keep it off the status page.")
@click.option("--id", "maintenance_id", metavar="ID", help="Use this ID (MNT-...).")
@write_options
@format_option()
@click.pass_context
def schedule(
    ctx: click.Context,
    title: str,
    components: str,
    start_text: str,
    end_text: str | None,
    duration: str | None,
    description: str | None,
    private: bool,
    maintenance_id: str | None,
    at_text: str | None,
    by: str | None,
    dry_run: bool,
    now_text: str | None,
    fmt: str,
) -> None:
    """Schedule a maintenance window: writes maintenances/<ID>.md."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    at = parse_time(at_text, now, "--at")
    start = parse_time(start_text, now, "--start", future=True)
    if (end_text is None) == (duration is None):
        raise click.UsageError("give exactly one of --end and --duration")
    if end_text is not None:
        end = parse_time(end_text, now, "--end", future=True)
    else:
        try:
            end = start + Duration.parse(duration or "").timedelta
        except TimeValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--duration") from None
    if end <= start:
        raise IncidentctlError(
            f"the window ends ({format_timestamp(end)}) before it starts "
            f"({format_timestamp(start)})",
            hint="--end must be after --start; --duration must be positive",
        )
    known = [c.id for c in repo.policy().components]
    chosen = _split(components)
    if not chosen:
        raise click.BadParameter("name at least one component", param_hint="--components")
    for component in chosen:
        if component not in known:
            close = difflib.get_close_matches(component, known, n=1)
            raise IncidentctlError(
                f"unknown component '{component}'",
                hint=f"did you mean '{close[0]}'?"
                if close
                else "components are listed in policies/components.yaml: " + ", ".join(known),
            )
    if maintenance_id is not None:
        repo.maintenances.path(maintenance_id)  # refuses an ID that is not a safe file name
    else:
        taken = {p.stem for p in repo.maintenances.files()}
        maintenance_id = "MNT-" + new_id(start, {"INC-" + t[4:] for t in taken})[4:]
    try:
        item = Maintenance(
            id=maintenance_id,
            title=title.strip(),
            description=description.strip() if description and description.strip() else None,
            components=chosen,
            scheduled_for=start,
            scheduled_until=end,
            public=not private,
            created_at=at,
            by=actor_of(by, repo.root),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise IncidentctlError(f"invalid maintenance: {problems}") from None
    body = f"# {item.title}\n\n## Notes\n\n"
    path, text = repo.maintenances.create(item, body, dry_run=dry_run)
    if dry_run:
        show_diff(repo.rel(path), "", text)
        return
    if fmt == "json":
        echo_json({"id": item.id, "path": repo.rel(path), **item.model_dump(mode="json")})
        return
    click.echo(item.id)
    click.echo(
        f"  {repo.rel(path)}: {format_timestamp(start)} to {format_timestamp(end)}", err=True
    )


@maintenance.command(
    "update",
    epilog="""\b
Examples:
  incidentctl maintenance update MNT-20261206-PG17 -m "The upgrade has started."
  incidentctl maintenance update MNT-20261206-PG17 -m "Checking the results." --verifying
  incidentctl maintenance update MNT-20261206-PG17 -m "Done; all systems normal." --complete
  incidentctl maintenance update MNT-20261206-PG17 --cancel -m "Postponed to next week."
Each update records the status it is posted in: scheduled before the window, in_progress
in it, verifying with --verifying, completed with --complete. A completed or cancelled
maintenance takes no further update.
""",
)
@click.argument("maintenance_id", metavar="ID")
@click.option("-m", "--message", help="A public update (markdown) on the status page.")
@click.option("--verifying", is_flag=True, help="The work is done and being verified.")
@click.option("--complete", is_flag=True, help="It ended (at --at, default now).")
@click.option("--cancel", is_flag=True, help="It will not happen (or stopped).")
@write_options
@click.pass_context
def update(
    ctx: click.Context,
    maintenance_id: str,
    message: str | None,
    verifying: bool,
    complete: bool,
    cancel: bool,
    at_text: str | None,
    by: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Post an update on a maintenance, or mark it completed or cancelled."""
    if not (message or complete or cancel):
        raise click.UsageError("give --message, --complete or --cancel")
    if complete + cancel + verifying > 1:
        raise click.UsageError("--verifying, --complete and --cancel exclude one another")
    if verifying and not message:
        raise click.UsageError("--verifying posts an update: give --message")
    repo = repo_from(ctx)
    now = current_now(now_text)
    at = parse_time(at_text, now, "--at")
    if in_future(at, now):
        raise click.BadParameter(f"{format_timestamp(at)} is in the future", param_hint="--at")
    actor = actor_of(by, repo.root)

    def post(doc: Document, item: Maintenance) -> str:
        """The update applied to the maintenance as it is now."""
        if item.cancelled or item.completed_at is not None:
            ended = "cancelled"
            if item.completed_at is not None:
                ended = f"completed at {format_timestamp(item.completed_at)}"
            raise IncidentctlError(
                f"{item.id} is already {ended}", hint="schedule a new maintenance instead"
            )
        if complete and at < item.scheduled_for:
            raise IncidentctlError(
                f"{item.id} cannot complete at {format_timestamp(at)}: its window starts at "
                f"{format_timestamp(item.scheduled_for)}",
                hint="cancel it instead, or give --at within the window",
            )
        if verifying and not item.scheduled_for <= at < item.scheduled_until:
            raise IncidentctlError(
                f"{item.id} cannot be verifying at {format_timestamp(at)}: its window is "
                f"{format_timestamp(item.scheduled_for)} to "
                f"{format_timestamp(item.scheduled_until)}",
                hint="post --verifying within the window, or --complete it",
            )
        if item.updates and at < item.updates[-1].at:
            raise IncidentctlError(
                f"{format_timestamp(at)} is before the last update "
                f"({format_timestamp(item.updates[-1].at)})",
                hint="updates are appended in time order",
            )
        front = doc.front
        if message:
            phase = _phase(item, at, verifying=verifying, complete=complete)
            entry = {"at": format_timestamp(at), "text": message.strip(), "by": actor}
            entry["status"] = phase.value
            front = edits.append_item(front, "updates", {k: v for k, v in entry.items() if v})
        if complete:
            front = edits.set_key(front, "completed_at", format_timestamp(at))
        if cancel:
            front = edits.set_key(front, "cancelled", True)
        return front

    path = repo.maintenances.find_path(repo.maintenance_id(maintenance_id))
    edited = repo.maintenances.edit_front(path, post, dry_run=dry_run)
    if dry_run:
        show_diff(str(edited.path), edited.old, edited.text)
        return
    item = edited.after
    what = "completed" if complete else "cancelled" if cancel else "updated"
    what = "verifying" if verifying else what
    click.echo(f"{item.id}: {what} at {format_timestamp(at)}")


def _phase(item: Maintenance, at: datetime, *, verifying: bool, complete: bool) -> MaintenancePhase:
    """The status an update posted at `at` is in (it keeps it; the site shows it)."""
    if complete:
        return MaintenancePhase.COMPLETED
    if verifying:
        return MaintenancePhase.VERIFYING
    if at < item.scheduled_for:
        return MaintenancePhase.SCHEDULED
    return MaintenancePhase.IN_PROGRESS


@maintenance.command(
    "list",
    epilog="""\b
Examples:
  incidentctl maintenance list
  incidentctl maintenance list --format json --now 2026-12-06T03:00:00Z
""",
)
@now_option
@format_option()
@click.pass_context
def list_(ctx: click.Context, now_text: str | None, fmt: str) -> None:
    """Every maintenance with its status now (scheduled, in progress, completed)."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    rows: list[dict[str, object]] = []
    for entry in repo.maintenances.scan():
        if isinstance(entry, DocumentErrors):
            raise entry
        doc, item = entry
        status = maintenance_status(item, now)
        rows.append(
            {
                "id": item.id,
                "title": item.title,
                "status": status,
                "public": item.public,
                "components": item.components,
                "scheduled_for": format_timestamp(item.scheduled_for),
                "scheduled_until": format_timestamp(item.scheduled_until),
                "path": str(doc.path),
            }
        )
    rows.sort(key=lambda r: (str(r["scheduled_for"]), str(r["id"])), reverse=True)
    if fmt == "json":
        echo_json({"maintenances": rows})
        return
    if not rows:
        click.echo("no maintenances (incidentctl maintenance schedule ... creates one)")
        return
    table = [
        [
            str(r["id"]),
            str(r["status"]),
            f"{r['scheduled_for']} .. {r['scheduled_until']}",
            str(r["title"]) + ("" if r["public"] else " (private)"),
        ]
        for r in rows
    ]
    for row in pad_columns(table):
        click.echo("  ".join(row).rstrip())


COMMANDS: list[click.Command] = [maintenance]
