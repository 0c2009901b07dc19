"""`oncall`: who holds the pager in each rotation at a moment (policies/oncall.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from incidentctl.cli.common import (
    current_now,
    echo_json,
    format_option,
    now_option,
    pad_columns,
    parse_time,
    repo_from,
)
from incidentctl.core.oncall import Shift
from incidentctl.core.timevalues import format_timestamp


def _when(at: datetime | None, zone: str | None) -> str:
    if at is None:
        return "-"
    if zone is None:
        return format_timestamp(at)
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _row(shift: Shift) -> dict[str, Any]:
    return {
        "name": shift.rotation,
        "on_call": shift.on_call,
        "since": format_timestamp(shift.since) if shift.since else None,
        "until": format_timestamp(shift.until) if shift.until else None,
        "next": shift.next,
        "override": shift.override,
    }


@click.command(
    epilog="""\b
Examples:
  incidentctl oncall                            who is on call now
  incidentctl oncall --at 2026-12-24T20:00:00Z  and on Christmas Eve
  incidentctl oncall --at +8h --format json
Rotations and overrides are in policies/oncall.yaml; a contact or role names a rotation as
rotation:NAME and reaches whoever is on call in it at that moment.
"""
)
@click.option(
    "--at",
    "at_text",
    metavar="TS",
    help="The moment: ISO-8601 with a zone, +8h, -1d, a date (default: now).",
)
@format_option()
@now_option
@click.pass_context
def oncall(ctx: click.Context, at_text: str | None, fmt: str, now_text: str | None) -> None:
    """Who is on call in each rotation, since when, until when, and who is next."""
    repo = repo_from(ctx)
    at = parse_time(at_text, current_now(now_text), "--at", future=True, day="start")
    policy = repo.policy()
    zones = {r.name: r.timezone for r in policy.oncall.rotations}
    shifts = [s for s in (policy.shift(name, at) for name in policy.rotations()) if s]
    if fmt == "json":
        echo_json({"at": format_timestamp(at), "rotations": [_row(s) for s in shifts]})
        return
    if not shifts:
        click.echo("no rotations: add them to policies/oncall.yaml", err=True)
        return
    rows = [["ROTATION", "ON CALL", "SINCE", "UNTIL", "NEXT"]]
    for s in shifts:
        zone = zones.get(s.rotation)
        who = (s.on_call or "nobody") + (" (override)" if s.override else "")
        rows.append([s.rotation, who, _when(s.since, zone), _when(s.until, zone), s.next or "-"])
    click.echo(f"on call at {format_timestamp(at)}")
    for row in pad_columns(rows):
        click.echo("  ".join(row).rstrip())


COMMANDS = [oncall]
