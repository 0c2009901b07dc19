"""`incidentctl intake [FILE|-] --source S`: one alert webhook into incident changes; and
`incidentctl intake serve`: the receiver that takes them over HTTP and commits each."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from incidentctl.cli.common import (
    actor_of,
    current_now,
    echo_json,
    format_option,
    parse_time,
    repo_from,
    show_diff,
    warn,
    write_options,
)
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import AlertSource
from incidentctl.intake.payloads import MAX_PAYLOAD, load
from incidentctl.receiver.auth import Credentials
from incidentctl.store import git
from incidentctl.store.intake import receive

SOURCES = click.Choice([s.value for s in AlertSource], case_sensitive=False)


class _Intake(click.Group):
    """`intake FILE` and `intake serve`: a first argument that is not a subcommand is the
    payload of the default one (`read`), so the common case needs no subcommand name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["read", *args]
        return super().parse_args(ctx, args)


@click.group(
    cls=_Intake,
    subcommand_metavar="[FILE|-] --source SOURCE [--at TS] [--dry-run] [--format F] | serve",
    epilog="""\b
Examples:
  incidentctl intake alert.json --source alertmanager
  curl -s ... | incidentctl intake - --source pagerduty --format json
  incidentctl intake serve --port 8787 --by @alertbot --push
""",
)
def intake() -> None:
    """Turn alert webhooks (Alertmanager, Grafana, PagerDuty, Opsgenie, Sentry, generic)
    into incidents: declare, add to the one the alert group is on, or ignore.

    `incidentctl intake - --help` lists the options of one payload; `incidentctl intake
    serve --help` those of the receiver."""


@intake.command(
    "read",
    hidden=True,
    epilog="""\b
Examples:
  incidentctl intake alert.json --source alertmanager
  incidentctl intake - --source generic --at 2026-11-27T14:05:00Z --dry-run
Prints {"action": declared|updated|resolved-alert|ignored, "incident", "reason"} with
--format json. Exit code: 0 handled (ignored too), 2 a payload it cannot read (nothing
written).
""",
)
@click.argument("payload", metavar="[FILE|-]", default="-", required=False)
@click.option("--source", required=True, type=SOURCES, help="The tool that sent the payload.")
@write_options
@format_option()
@click.pass_context
def read(
    ctx: click.Context,
    payload: str,
    source: str,
    at_text: str | None,
    by: str | None,
    dry_run: bool,
    now_text: str | None,
    fmt: str,
) -> None:
    """One webhook payload (a file, or - for standard input) into incident changes."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    at = parse_time(at_text, now, "--at")
    actor = actor_of(by, repo.root)
    raw, where = _payload(payload)
    delivery = load(raw, source.lower(), where)
    received = receive(repo, delivery, at=at, now=now, by=actor, dry_run=dry_run)
    if received.diff is not None and fmt != "json":  # stdout stays one JSON document
        show_diff(*received.diff)
    outcome = received.outcome
    if fmt == "json":
        echo_json(outcome.as_dict())
        return
    click.echo(f"{outcome.action.value} {outcome.incident or '-'}: {outcome.reason}")


def _payload(name: str) -> tuple[bytes, str]:
    """The payload's bytes (at most one more than the limit, so an oversize one is told)."""
    if name == "-":
        return sys.stdin.buffer.read(MAX_PAYLOAD + 1), "<stdin>"
    path = Path(name)
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_PAYLOAD + 1), name
    except OSError as exc:
        raise IncidentctlError(f"{name}: cannot read the payload: {exc.strerror or exc}") from None


@intake.command(
    "serve",
    epilog="""\b
Examples:
  INCIDENTCTL_INTAKE_TOKEN=... incidentctl intake serve --by @alertbot
  incidentctl intake serve --host 0.0.0.0 --port 8787 --by @alertbot --push
POST /hooks/<source> (alertmanager, grafana, pagerduty, opsgenie, sentry, generic) with
Authorization: Bearer $INCIDENTCTL_INTAKE_TOKEN; signatures too where their secrets are set
($INCIDENTCTL_PAGERDUTY_SECRET, $INCIDENTCTL_SENTRY_SECRET, $INCIDENTCTL_WEBHOOK_SECRET).
GET /healthz: {"ok", "unpushed", "in_flight", "push"}. Each delivery is committed before it is
answered (200 with the outcome; 400 unreadable, 401 not authenticated, 413 over 1 MB). One JSON
line per delivery on stderr. SIGTERM answers the requests in flight, then stops.
""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="0: any free."
)
@click.option("--push", is_flag=True, help="Push each commit in the background.")
@click.option("--remote", default="origin", show_default=True, help="Where --push pushes.")
@click.option(
    "--by", metavar="WHO", help="Who the commits are by (default: $INCIDENTCTL_ACTOR; required)."
)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, push: bool, remote: str, by: str | None
) -> None:
    """Receive alert webhooks over HTTP; write and commit each delivery before answering."""
    from incidentctl.receiver.app import serve as run_server  # the server stack only here
    from incidentctl.receiver.deliveries import Deliveries

    repo = repo_from(ctx)
    actor = (by or os.environ.get("INCIDENTCTL_ACTOR", "")).strip()
    if not actor:
        raise IncidentctlError(
            "who are the receiver's commits by? there is no --by or $INCIDENTCTL_ACTOR",
            hint="pass --by @alertbot (or set INCIDENTCTL_ACTOR): every record names who made "
            "it, and a receiver is not the person whose git identity this machine has",
        )
    credentials = Credentials.from_environment()
    if git.common_dir(repo.root) is None:
        raise IncidentctlError(
            f"{repo.root} is not a git checkout: the receiver commits each delivery",
            hint="run it in a clone of the incident repository",
        )
    deliveries = Deliveries(
        repo.root, actor, lambda: current_now(None), warn, remote=remote if push else None
    )
    run_server(deliveries, credentials, host=host, port=port, announce=warn)


COMMANDS = [intake]
