"""Read-only commands: list, show, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from incidentctl import __version__
from incidentctl.cli.common import (
    age,
    current_now,
    echo_json,
    format_option,
    now_option,
    pad_columns,
    repo_from,
    style,
)
from incidentctl.core import schemas
from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.core.model import LIFECYCLE_TIMESTAMPS, Incident, Priority, Status
from incidentctl.core.timevalues import format_timestamp
from incidentctl.store.files import write_atomic
from incidentctl.store.repo import Repo

_PRIORITY_COLOR = {"P0": "red", "P1": "yellow", "P2": "cyan", "P3": "white"}


def incident_json(loaded: Loaded, rel: str) -> dict[str, Any]:
    data: dict[str, Any] = loaded.incident.model_dump(mode="json")
    data["path"] = rel
    return data


@click.command(
    "list",
    epilog="""\b
Examples:
  incidentctl list                       every incident, newest first
  incidentctl list --status open         only what is not resolved yet
  incidentctl list --priority P0 --priority P1 --format json
""",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["open", "closed-or-resolved", *[s.value for s in Status]]),
    help="Filter by status ('open' = not resolved); repeatable.",
)
@click.option(
    "--priority",
    "priorities",
    multiple=True,
    type=click.Choice([p.value for p in Priority], case_sensitive=False),
    help="Filter by priority; repeatable.",
)
@click.option("--service", "services", multiple=True, help="Filter by service; repeatable.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most N incidents.")
@now_option
@format_option()
@click.pass_context
def list_(
    ctx: click.Context,
    statuses: tuple[str, ...],
    priorities: tuple[str, ...],
    services: tuple[str, ...],
    limit: int | None,
    now_text: str | None,
    fmt: str,
) -> None:
    """List incidents, newest first. Files that fail to load are reported on stderr."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    wanted_p = {p.upper() for p in priorities}
    rows: list[Loaded] = []
    broken = 0
    for item in repo.scan():
        if isinstance(item, DocumentErrors):
            broken += 1
            click.echo(f"skipped: {item.errors[0].render()}", err=True)
            continue
        inc = item.incident
        if statuses and not _status_matches(inc, statuses):
            continue
        if wanted_p and inc.priority.value not in wanted_p:
            continue
        if services and not set(services) & set(inc.services):
            continue
        rows.append(item)
    rows.sort(key=lambda r: r.incident.detected_at, reverse=True)
    if limit:
        rows = rows[:limit]
    if fmt == "json":
        echo_json([incident_json(r, repo.rel(repo.root / r.path)) for r in rows])
    else:
        _table(rows, now)
    if broken:
        click.echo(f"{broken} file(s) could not be read; run `incidentctl validate`", err=True)


def _status_matches(inc: Incident, statuses: tuple[str, ...]) -> bool:
    for wanted in statuses:
        if wanted == "open" and inc.is_open:
            return True
        if wanted == "closed-or-resolved" and not inc.is_open:
            return True
        if wanted == inc.status.value:
            return True
    return False


def _table(rows: list[Loaded], now: Any) -> None:
    if not rows:
        click.echo("no incidents match")
        return
    table = [["ID", "PRI", "STATUS", "TIER", "DETECTED", "AGE", "TITLE"]]
    for r in rows:
        inc = r.incident
        end = inc.resolved_at or now
        table.append(
            [
                inc.id,
                inc.priority.value,
                inc.status.value.upper(),
                str(inc.tier),
                f"{inc.detected_at:%Y-%m-%d %H:%MZ}",
                age(inc.detected_at, end) + ("" if inc.is_open else " (resolved)"),
                inc.title,
            ]
        )
    for index, (row, cells) in enumerate(zip(table, pad_columns(table), strict=True)):
        if index and row[1] in _PRIORITY_COLOR:
            cells[1] = style(cells[1], fg=_PRIORITY_COLOR[row[1]], bold=row[1] == "P0")
        line = "  ".join(cells)
        click.echo(style(line, bold=True) if index == 0 else line)


@click.command(
    epilog="""\b
Examples:
  incidentctl show INC-20261127-7K3Q
  incidentctl show INC-20261127-7K3Q --format json | jq .timeline
"""
)
@click.argument("incident_id", metavar="ID")
@now_option
@format_option()
@click.pass_context
def show(ctx: click.Context, incident_id: str, now_text: str | None, fmt: str) -> None:
    """Show one incident: classification, times, escalations and its timeline."""
    repo = repo_from(ctx)
    loaded = repo.find(incident_id)
    if fmt == "json":
        echo_json(incident_json(loaded, str(loaded.path)))
        return
    inc = loaded.incident
    now = current_now(now_text)
    click.echo(style(f"{inc.id}  {inc.title}", bold=True))
    for label, value in _fields(inc, str(loaded.path)):
        click.echo(f"  {label + ':':<{_LABEL}} {value}")
    _review_line(repo, loaded)
    click.echo("  times:")
    for name in LIFECYCLE_TIMESTAMPS:
        value = getattr(inc, name)
        if value is None:
            click.echo(f"    {name:<16} -")
            continue
        since = age(inc.detected_at, value) if name != "started_at" else ""
        plus = f"  (+{since})" if since and name != "detected_at" else ""
        click.echo(f"    {name:<16} {format_timestamp(value)}{plus}")
    if inc.is_open:
        click.echo(f"    {'open for':<16} {age(inc.detected_at, now)}")
    if inc.escalations:
        click.echo("  escalations:")
        rows = [
            [format_timestamp(e.at), e.kind.value, f"-> {e.to or '?'}", e.by or "", e.reason or ""]
            for e in inc.escalations
        ]
        for cells in pad_columns(rows):
            click.echo(("    " + "  ".join(cells)).rstrip())
    click.echo("  timeline:")
    rows = []
    for number, event in enumerate(inc.timeline, start=1):  # `correct --event N` counts so
        public = f"[public: {event.status.value if event.status else '?'}] " if event.public else ""
        text = " ".join((event.text or "").split())
        at, kind, by = format_timestamp(event.at), event.kind.value, event.by or "-"
        rows.append([f"{number}.", at, kind, by, public + text])
    for cells in pad_columns(rows) if rows else []:
        click.echo(("    " + "  ".join(cells)).rstrip())


def _said(value: object) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


_LABEL = len("communications lead:")  # the longest label: values start in one column


def _fields(inc: Incident, path: str) -> list[tuple[str, str]]:
    """What `show` says about the incident besides its times, escalations and timeline, in
    the order a responder asks: what, how bad, where, who."""
    out = [("file", path)]
    if inc.summary:
        out.append(("summary", " ".join(inc.summary.split())))
    reason = f" (override: {inc.priority_override.reason})" if inc.priority_override else ""
    out.append(
        (
            "priority",
            f"{inc.priority} = {inc.impact.value} impact x {inc.urgency.value} urgency{reason}",
        )
    )
    out.append(("status", f"{inc.status.value.upper()}, tier {inc.tier}"))
    flags = [
        n
        for n, on in (("SECURITY BREACH", inc.security_breach), ("DATA LOSS", inc.data_loss))
        if on
    ]
    if flags:
        out.append(("flags", style(", ".join(flags), fg="red", bold=True)))
    if not inc.public:
        out.append(("public", "no (kept off the status page)"))
    if inc.user_impact:
        out.append(("user impact", " ".join(inc.user_impact.split())))
    if inc.affected_users is not None:
        out.append(("affected users", f"{inc.affected_users:,}"))
    if inc.business_impact:
        parts = [
            f"{k.replace('_', ' ')}: {_said(v)}"
            for k, v in inc.business_impact.model_dump(mode="json").items()
            if v is not None
        ]
        if parts:
            out.append(("business impact", "; ".join(parts)))
    if inc.category:
        out.append(("category", inc.category.value))
    if inc.services:
        out.append(("services", ", ".join(inc.services)))
    if inc.components:
        out.append(("components", ", ".join(inc.components)))
    if inc.detection:
        out.append(("detection", inc.detection.value))
    if inc.reporter:
        out.append(("reporter", inc.reporter))
    roles = inc.roles.model_dump() if inc.roles else {}
    for name in ("incident_commander", "technical_lead", "communications_lead", "on_call"):
        out.append((name.replace("_", " "), roles.get(name) or "unassigned"))
    if inc.mitigation:
        what = (
            f": {' '.join(inc.mitigation.description.split())}"
            if inc.mitigation.description
            else ""
        )
        out.append(("mitigation", f"{inc.mitigation.strategy.value}{what}"))
    if inc.runbooks:
        out.append(("runbooks", ", ".join(inc.runbooks)))
    return out


def _review_line(repo: Repo, loaded: Loaded) -> None:
    """The PIR's state in one line, so `show` answers "is the review done?"."""
    path = repo.pirs.path(loaded)
    if not path.is_file():
        return
    try:
        _, pir = repo.pirs.load(path)
    except (DocumentError, DocumentErrors):
        where = repo.rel(path)
        click.echo(
            f"  {'review:':<{_LABEL}} unreadable ({where}): "
            f"incidentctl pir check {loaded.incident.id}"
        )
        return
    waiting = sum(not a.status.is_finished for a in pir.actions)
    click.echo(
        f"  {'review:':<{_LABEL}} {pir.status.value}, {len(pir.actions)} action(s), "
        f"{waiting} not done"
        f"  ({repo.rel(path)})"
    )


@click.command(
    epilog="""\b
Examples:
  incidentctl schema > incident.schema.json
  incidentctl schema --document maintenance
  incidentctl schema --out schemas/        every schema, one file each
  check-jsonschema --schemafile schemas/runbook.schema.json front-matter.yaml

Editors do not validate the front-matter inside .md files; `incidentctl validate` (the
pre-commit hook, the PR check) does. The schemas serve other tools.
"""
)
@click.option(
    "--document",
    type=click.Choice(list(schemas.DOCUMENTS)),
    default="incident",
    show_default=True,
    help="Which front-matter: incident.md, pir.md, a runbook or a maintenance.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write every schema into this folder as <document>.schema.json (--document ignored).",
)
def schema(document: str, out: Path | None) -> None:
    """Print the JSON Schema of a document's front-matter, or write them all (--out)."""
    if out is None:
        click.echo(_schema_text(document))
        return
    for name in schemas.DOCUMENTS:
        path = out / schemas.file_name(name)
        write_atomic(path, _schema_text(name) + "\n")
        click.echo(f"wrote {path}")


def _schema_text(document: str) -> str:
    return json.dumps(schemas.json_schema(document, __version__), indent=2)


COMMANDS = [list_, show, schema]
