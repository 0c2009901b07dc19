"""`notify`: render one of the process's messages from an incident, or list the templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from incidentctl.cli.common import (
    current_now,
    echo_json,
    now_option,
    pad_columns,
    repo_from,
    style,
    warn,
)
from incidentctl.core.disclosure import neutral_title, withheld
from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident, Pir, Runbook
from incidentctl.core.timevalues import format_timestamp
from incidentctl.deadlines import timers
from incidentctl.notify import messages as notify_messages
from incidentctl.notify import values as notify_values
from incidentctl.store.files import write_atomic
from incidentctl.store.repo import Repo
from incidentctl.store.reviews import review_state

FORMATS = ("markdown", "text", "json")


def _pir(repo: Repo, loaded: Loaded) -> Pir | None:
    """The incident's PIR; one that does not validate is left out with a warning."""
    try:
        found = repo.pirs.of(loaded)
    except (DocumentError, DocumentErrors) as exc:
        click.echo(f"warning: PIR left out: {exc.render()}", err=True)
        return None
    return found[1] if found else None


def _runbooks(repo: Repo, names: list[str]) -> dict[str, Runbook | None]:
    out: dict[str, Runbook | None] = {}
    for name in names:
        try:
            out[name] = repo.runbooks.linked(name)
        except (DocumentError, DocumentErrors) as exc:
            click.echo(f"warning: runbook left out: {exc.render()}", err=True)
            out[name] = None
    return out


def _related(repo: Repo, incident: Incident, pir: Pir | None) -> list[Incident]:
    """Other incidents on the same service, or with the same root-cause key."""
    services = set(incident.services)
    key = pir.root_cause if pir else None
    out: list[Incident] = []
    for item in repo.scan():
        if isinstance(item, DocumentErrors) or item.incident.id == incident.id:
            continue
        other = item.incident
        same_cause = False
        if key and repo.pirs.path(item).is_file():
            other_pir = _pir(repo, item)
            same_cause = other_pir is not None and other_pir.root_cause == key
        if services & set(other.services) or same_cause:
            out.append(other)
    return sorted(out, key=lambda i: i.detected_at)


def _list(ctx: click.Context, fmt: str) -> None:
    try:
        root: Path | None = repo_from(ctx).root
    except IncidentctlError:
        root = None  # outside a repository: the built-in templates only
    rows = notify_messages.available(root)
    if fmt == "json":
        echo_json({"templates": rows})
        return
    table = [["NAME", "AUDIENCE", "ORIGIN", "DESCRIPTION"]]
    table += [[r["name"], r["audience"], r["origin"], r["description"]] for r in rows]
    for i, cells in enumerate(pad_columns(table)):
        line = "  ".join(cells).rstrip()
        click.echo(style(line, bold=True) if i == 0 else line)


def _render(
    ctx: click.Context,
    incident_id: str,
    name: str,
    now_text: str | None,
    force: bool,
    reveal: bool = False,
) -> tuple[notify_messages.Rendered, dict[str, Any]]:
    repo = repo_from(ctx)
    now = current_now(now_text)
    notify_messages.check_name(name, repo.root)
    loaded = repo.find(incident_id)
    incident = loaded.incident
    if incident.detected_at > now:
        raise IncidentctlError(
            f"{incident.id} was detected at {format_timestamp(incident.detected_at)}, "
            f"after --now {format_timestamp(now)}",
            hint="pass a --now at or after detection",
        )
    public = notify_messages.is_public(name)
    if reveal and public:
        raise IncidentctlError(
            f"--reveal is for internal templates; {name!r} is for the public status page",
            hint="drop --reveal: a public template never shows an unreleased incident's details",
        )
    if public and withheld(incident) and not force:
        raise IncidentctlError(
            f"{neutral_title(incident)} was not released: template {name!r} is for the "
            "public status page",
            hint=f"release it first with `incidentctl release {incident.id} --reason '...'`, "
            "or pass --force to draft it anyway (with a neutral title)",
        )
    if public and not incident.public:
        if not force:
            flags = [f for f in ("security_breach", "data_loss") if getattr(incident, f)]
            raise IncidentctlError(
                f"{incident.id} is not public (public: false"
                + (f"; {', '.join(flags)}" if flags else "")
                + f"): template {name!r} is for the public status page",
                hint="set `public: true` once the incident may be published, or pass --force "
                "to draft it anyway (public templates only see public fields)",
            )
        click.echo(f"warning: {incident.id} is not public; drafted because of --force", err=True)
    if name.startswith(("status-resolved", "resolution-")) and incident.is_open:
        click.echo(f"warning: {incident.id} is not resolved yet", err=True)
    pir = _pir(repo, loaded)
    # Related incidents need every incident read: only for templates that show them.
    wants_related = not public and notify_messages.mentions(repo.root, name, "related")
    policy = repo.policy_for(incident)
    values = notify_values.context(
        incident,
        policy,
        now,
        pir=pir,
        deadlines=timers.schedule(incident, policy, now, pir=review_state(repo, loaded, warn)),
        runbooks=_runbooks(repo, incident.runbooks),
        related=_related(repo, incident, pir) if wants_related else (),
        template=name,
        reveal=reveal,
    )
    if reveal and withheld(incident):
        click.echo(
            f"warning: {incident.id} was not released; its title and summary are shown "
            "because of --reveal: for the incident team only",
            err=True,
        )
    rendered = notify_messages.render(name, values, repo_root=repo.root)
    data = {
        "incident": incident.id,
        "template": name,
        "format": "markdown",
        "audience": "public" if public else "internal",
        "origin": notify_messages.template_origin(repo.root, name),
        "now": format_timestamp(now),
        "subject": rendered.subject,
        "body": notify_messages.without_subject(rendered.markdown),
        "text": notify_messages.without_subject(rendered.text),
    }
    return rendered, data


@click.command(
    epilog="""\b
Examples:
  incidentctl notify --list
  incidentctl notify INC-20261127-9TRX --template management-notification
  incidentctl notify INC-20261127-9TRX --template status-investigating --format text
  incidentctl notify INC-20261103-4K7Q --template kb-article --out kb/INC-20261103-4K7Q.md
  incidentctl notify INC-20261103-4K7Q --template resolution-internal --format json
Override a template, or add your own, in templates/notify/NAME.md.j2 of the repository.
Public templates (status-*, resolution-public) refuse incidents with public: false.
"""
)
@click.argument("incident_id", metavar="[ID]", required=False)
@click.option("--template", "-t", "name", metavar="NAME", help="Template to render (see --list).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="markdown",
    show_default=True,
    help="markdown (values HTML-escaped), text (no markup), json (subject, body, ...).",
)
@click.option("--list", "list_", is_flag=True, help="List the templates and where they come from.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--force", is_flag=True, help="Draft a public template for a non-public incident.")
@click.option(
    "--reveal",
    is_flag=True,
    help="Internal templates only: show an unreleased security or data-loss incident's title "
    "and summary (neutral by default), for the incident team.",
)
@now_option
@click.pass_context
def notify(
    ctx: click.Context,
    incident_id: str | None,
    name: str | None,
    fmt: str,
    list_: bool,
    out: Path | None,
    force: bool,
    reveal: bool,
    now_text: str | None,
) -> None:
    """Render a message of the process (alert, notification, status update, KB article, ...)
    from incident ID."""
    if list_:
        if incident_id or name:
            raise click.UsageError("--list takes no ID or --template")
        _list(ctx, "json" if fmt == "json" else "text")
        return
    if not incident_id or not name:
        raise click.UsageError("give an incident ID and --template NAME (or --list)")
    rendered, data = _render(ctx, incident_id, name, now_text, force, reveal)
    if fmt == "json":
        output = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        output = rendered.markdown if fmt == "markdown" else rendered.text
    if out is None:
        click.echo(output, nl=False)
        return
    write_atomic(out, output)
    click.echo(f"wrote {out}", err=True)


COMMANDS = [notify]
