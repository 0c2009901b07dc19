"""`incidentctl intake [FILE|-] --source S`: one alert webhook into incident changes."""

from __future__ import annotations

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
    write_options,
)
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import AlertSource
from incidentctl.intake.payloads import MAX_PAYLOAD, load
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
    epilog="""\b
Examples:
  incidentctl intake alert.json --source alertmanager
  curl -s ... | incidentctl intake - --source pagerduty --format json
""",
)
def intake() -> None:
    """Turn alert webhooks (Alertmanager, Grafana, PagerDuty, Opsgenie, Sentry, generic)
    into incidents: declare, add to the one the alert group is on, or ignore."""


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
    if received.diff is not None:
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


COMMANDS = [intake]
