"""`metrics` and `report`: the process's numbers with their definitions, and an insights report."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from incidentctl.cli.common import current_now, echo_json, now_option, repo_from, warn
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import Priority
from incidentctl.core.timevalues import Duration, TimeValueError, parse_moment
from incidentctl.metrics import text as metrics_text
from incidentctl.metrics.compute import (
    GROUPINGS,
    History,
    Record,
    Window,
    changes,
    compute,
    earliest,
)
from incidentctl.store import git as vcs
from incidentctl.store.repo import Repo
from incidentctl.store.reviews import judged

_DEFAULT_SINCE = "90d"


def load_records(repo: Repo, since: datetime | None = None) -> list[Record]:
    """Every readable incident with its policy, its PIR (approval time from git), root cause;
    given `since`, only those detected from then on (`compute.earliest`)."""
    records: list[Record] = []
    for item, policy, pir in judged(repo, warn, detected_since=since):
        records.append(Record(item.incident, policy, pir, pir.root_cause if pir else None))
    return records


def _duration(text: str, option: str) -> timedelta:
    try:
        duration = Duration.parse(text)
    except TimeValueError as exc:
        raise IncidentctlError(f"{option} {text}: {exc}", hint="e.g. 90d, 4w, 720h") from None
    if duration.business_days or duration.seconds <= 0:
        raise IncidentctlError(
            f"{option} {text}: give a positive calendar duration", hint="e.g. 90d, 4w, 720h"
        )
    return duration.timedelta


def _moment(text: str, option: str, *, end: bool, now: datetime) -> datetime:
    """A date (its start; for --to its end, so the day is included), a timestamp, or a
    time relative to now (-30d): the one time parser."""
    try:
        return parse_moment(text, now, day="end" if end else "start")
    except TimeValueError as exc:
        raise IncidentctlError(f"{option} {text}: {exc}") from None


def resolve_window(since: str | None, start: str | None, end: str | None, now: datetime) -> Window:
    if since and start:
        raise IncidentctlError(
            "--since and --from both set the window's start", hint="use one of them"
        )
    to = _moment(end, "--to", end=True, now=now) if end else now
    if start:
        begin = _moment(start, "--from", end=False, now=now)
    else:
        begin = to - _duration(since or _DEFAULT_SINCE, "--since")
    if begin >= to:
        raise IncidentctlError(
            f"the window is empty: from {begin:%Y-%m-%dT%H:%M:%SZ} is not before "
            f"to {to:%Y-%m-%dT%H:%M:%SZ}",
            hint="--from must be before --to (and before --now)",
        )
    return Window(begin, to)


def _window_options(f: Any) -> Any:
    f = click.option(
        "--to",
        "end",
        metavar="DATE|TS",
        help="Window end: a date (the end of that UTC day: the day is included), a timestamp "
        "(excluded) or relative like -1d; default now.",
    )(f)
    f = click.option(
        "--from",
        "start",
        metavar="DATE|TS",
        help="Window start: a date (the start of that UTC day), a timestamp or relative like -30d.",
    )(f)
    return click.option(
        "--since",
        metavar="DURATION",
        help=f"Window length back from --to (default {_DEFAULT_SINCE}), e.g. 30d, 12w.",
    )(f)


def _filter_options(f: Any) -> Any:
    """--priority and --service, shared by metrics and report."""
    f = click.option(
        "--service", "services", multiple=True, help="Only incidents of this service; repeatable."
    )(f)
    return click.option(
        "--priority",
        "priorities",
        multiple=True,
        type=click.Choice([p.value for p in Priority], case_sensitive=False),
        help="Only incidents of this priority; repeatable.",
    )(f)


def _report(
    ctx: click.Context,
    *,
    now_text: str | None,
    since: str | None,
    start: str | None,
    end: str | None,
    priorities: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    by: tuple[str, ...] = (),
    compare: str | None = None,
) -> dict[str, Any]:
    repo = repo_from(ctx)
    now = current_now(now_text)
    window = resolve_window(since, start, end, now)
    previous = None
    if compare:
        previous = (
            window.previous()
            if compare.strip().lower() == "previous"
            else window.shifted(_duration(compare, "--compare"))
        )
    policy = repo.policy()
    looked_at = [window] if previous is None else [window, previous]
    records = load_records(repo, min(earliest(w, policy.review.targets) for w in looked_at))
    common: dict[str, Any] = {
        "policy": policy,
        "commit": vcs.head_commit(repo.root),
        "priorities": priorities,
        "services": services,
        "history": History.of(records, now),  # one for both windows
    }
    report = compute(records, window, now, by=by, **common)
    if previous is not None:
        before = compute(records, previous, now, **common)
        report["previous"] = {k: v for k, v in before.items() if k not in ("definitions", "source")}
        report["changes"] = changes(report, before)
    return report


@click.command(
    epilog="""\b
Examples:
  incidentctl metrics                                   the last 90 days, as tables
  incidentctl metrics --since 30d --priority P0 --priority P1
  incidentctl metrics --from 2026-10-01 --to 2026-10-31 --format json
  incidentctl metrics --by month --format markdown      a table per month for a review
  incidentctl metrics --since 90d --compare previous    beside the 90 days before
  incidentctl metrics --compare 365d --format csv       year over year, for a spreadsheet
Definitions of every figure: `--format json` (the "definitions" key) and the README.
"""
)
@_window_options
@_filter_options
@click.option("--by", type=click.Choice(GROUPINGS), help="Also group the times by this.")
@click.option(
    "--compare",
    metavar="previous|DURATION",
    help="Beside the previous window of the same length, or this window shifted back.",
)
@now_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts, csv for spreadsheets, markdown for issues.",
)
@click.pass_context
def metrics(
    ctx: click.Context,
    since: str | None,
    start: str | None,
    end: str | None,
    priorities: tuple[str, ...],
    services: tuple[str, ...],
    by: str | None,
    compare: str | None,
    now_text: str | None,
    fmt: str,
) -> None:
    """MTTD, MTTA, MTTE, MTTM, MTTR, SLA compliance, tiers, recurrence, PIRs and actions."""
    report = _report(
        ctx,
        now_text=now_text,
        since=since,
        start=start,
        end=end,
        priorities=priorities,
        services=services,
        by=(by,) if by else (),
        compare=compare,
    )
    if fmt == "json":
        echo_json(report)
    elif fmt == "csv":
        click.echo(metrics_text.csv_text(report), nl=False)
    elif fmt == "markdown":
        click.echo(metrics_text.markdown(report), nl=False)
    else:
        click.echo(metrics_text.text(report), nl=False)


@click.command(
    epilog="""\b
Examples:
  incidentctl report --out build/report                 last 90 days: index.html, report.md
  incidentctl report --out build/report --since 180d --now 2026-11-27T16:00:00Z
  incidentctl report --out build/q4 --from 2026-10-01 --to 2026-12-31
  incidentctl report --out build/checkout --service checkout-api --priority P0 --priority P1
The report is internal (never part of the public status site); open index.html in a browser.
"""
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write index.html and report.md to (created if needed).",
)
@_window_options
@_filter_options
@now_option
@click.pass_context
def report(
    ctx: click.Context,
    out: Path,
    since: str | None,
    start: str | None,
    end: str | None,
    priorities: tuple[str, ...],
    services: tuple[str, ...],
    now_text: str | None,
) -> None:
    """An internal HTML insights report with SVG charts, and a markdown variant."""
    data = _report(
        ctx,
        now_text=now_text,
        since=since,
        start=start,
        end=end,
        priorities=priorities,
        services=services,
        by=("week", "month"),
        compare="previous",
    )
    if out.exists() and not out.is_dir():
        raise IncidentctlError(f"--out {out}: not a folder")
    # imported here: jinja2 and the charts are report's alone, and `metrics` shares this module
    from incidentctl.report import html as report_html

    written = report_html.write(data, out, repo_root=repo_from(ctx).root)
    for path in written:
        click.echo(str(path))


COMMANDS = [metrics, report]
