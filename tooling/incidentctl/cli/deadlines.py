"""`overdue`, `watch`, `deadlines` and `snooze`: what is late (once, or as it falls due), the
schedule of one incident, quiet a rule."""

from __future__ import annotations

import os
import signal
import threading
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import click

from incidentctl.cli.common import (
    apply_transition,
    current_now,
    echo_json,
    format_option,
    github_annotation,
    now_option,
    pad_columns,
    repo_from,
    seconds_of,
    style,
    warn,
    write_options,
)
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import Priority
from incidentctl.core.timevalues import format_duration, format_timestamp
from incidentctl.deadlines import snoozes, timers
from incidentctl.intake.plan import cleared_note
from incidentctl.sinks.send import warm
from incidentctl.store import git, reviews
from incidentctl.store.deliveries import record_for
from incidentctl.store.repo import Repo
from incidentctl.store.reviews import Approvals, review_state
from incidentctl.watch import liveness
from incidentctl.watch.deliver import Delivered, deliver, github_configured
from incidentctl.watch.loop import Turn, run

_STATE_COLOR = {"overdue": "red", "due-soon": "yellow", "missed": "red", "pending": "cyan"}


def _findings(
    repo: Repo, now: datetime, *, include_due_soon: bool, turns: reviews.Turns | None = None
) -> tuple[list[timers.Reminder], dict[str, str], list[timers.Subject]]:
    """What `overdue`, `overdue --post` and each turn of `watch` judge: every finding at
    `now`, the files of the incidents (ID -> path), the incidents as timers read them
    (`store.reviews.overdue`: settled incidents are left out unparsed; `turns`: a watcher's
    models of unchanged files from its previous turn)."""
    found, subjects, paths = reviews.overdue(
        repo, now, warn, include_due_soon=include_due_soon, turns=turns
    )
    return found, paths, subjects


def _liveness(
    repo: Repo, subjects: list[timers.Subject], now: datetime, *, fresh: bool, fmt: str
) -> None:
    """Say "no watcher seen for X" while a P0/P1 is open and no heartbeat is recent; with
    `fresh`, the record as the remote has it now (else as last fetched)."""
    open_ids = liveness.watched(subjects, now)
    if not open_ids:
        return
    try:
        heartbeat = record_for(repo.root).read(fresh=fresh).heartbeat
    except IncidentctlError as exc:
        warn(f"could not read the delivery record: {exc.message}")
        return
    note = liveness.watcher_note(heartbeat, open_ids, now)
    if note:
        warn(github_annotation("warning", note, title="watcher") if fmt == "github" else note)


def _late(f: timers.Reminder, now: datetime) -> str:
    """How late (`12m`), or how soon it is due (`in 3m`, `now`)."""
    if f.due is None:
        return "never"
    if f.state == timers.OVERDUE:
        return format_duration(f.overdue_seconds)
    left = (f.due - now).total_seconds()
    return f"in {format_duration(left)}" if left > 0 else "now"


WHO_WIDTH = 30  # the WHO column never runs past this; JSON has every contact


def _who(people: list[str], width: int = WHO_WIDTH) -> str:
    """As many contacts as fit in `width`, the rest counted (`@a, @b +2`); never empty."""
    if not people:
        return "-"
    for shown in range(len(people), 0, -1):
        rest = len(people) - shown
        text = ", ".join(people[:shown]) + (f" +{rest}" if rest else "")
        if len(text) <= width:
            return text
    more = f" +{len(people) - 1}" if len(people) > 1 else ""
    return people[0][: width - len(more) - 1] + "…" + more


def _what(f: timers.Reminder) -> str:
    """The message without the priority and the timing, which have their own columns."""
    what = f.message.rsplit(": ", 1)[0] if f.due else f.message
    return what.removeprefix(f"{f.priority.value} ") if f.priority else what


def _table(
    rows: list[list[str]], colors: list[str | None], todo: list[str] | None = None
) -> list[str]:
    """The rows, aligned; with `todo`, each row followed by its indented `do:` line."""
    lines = []
    notes = [None, *todo] if todo is not None else [None] * len(rows)
    for cells, color, note in zip(pad_columns(rows), colors, notes, strict=True):
        indent = " " * (len(cells[0]) + 2)  # under the second column: the state stands out
        if color:
            cells[0] = style(cells[0], fg=color, bold=True)
        lines.append("  ".join(cells).rstrip())
        if note:
            lines.append(f"{indent}do: {note}")
    return lines


@click.command(
    epilog="""\b
Examples:
  incidentctl overdue                              what is late now (exit 1 if anything)
  incidentctl overdue --include-due-soon --priority P0 --priority P1
  incidentctl overdue --now 2026-11-27T16:00:00Z --format json
  incidentctl overdue --format github              annotations for GitHub Actions
  incidentctl overdue --post                       and remind on the tracking issues, once each
                                                   (and the sinks of policies/notifications.yaml)
Exit code: 0 nothing overdue, 1 something overdue, 2 usage or input error.
"""
)
@click.option("--include-due-soon", is_flag=True, help="Also list deadlines coming up soon.")
@click.option(
    "--priority",
    "priorities",
    multiple=True,
    type=click.Choice([p.value for p in Priority], case_sensitive=False),
    help="Only findings of incidents of this priority; repeatable.",
)
@click.option(
    "--post",
    is_flag=True,
    help="Post each overdue finding once on its GitHub tracking issue (uses GITHUB_TOKEN) "
    "and send it once to each sink its route in policies/notifications.yaml names.",
)
@click.option(
    "--repeat",
    metavar="DURATION",
    help="With --post: remind again every DURATION while still overdue (default: once).",
)
@click.option("--dry-run", is_flag=True, help="With --post: print what would be posted.")
@now_option
@format_option(("text", "json", "github"))
@click.pass_context
def overdue(
    ctx: click.Context,
    include_due_soon: bool,
    priorities: tuple[str, ...],
    post: bool,
    repeat: str | None,
    dry_run: bool,
    now_text: str | None,
    fmt: str,
) -> None:
    """Every overdue acknowledgement, escalation, update, SLA, PIR, action and runbook."""
    if (repeat or dry_run) and not post:
        raise click.UsageError("--repeat and --dry-run go with --post")
    repo = repo_from(ctx)
    now = current_now(now_text)
    found, paths, subjects = _findings(repo, now, include_due_soon=include_due_soon)
    if priorities:
        wanted = {p.upper() for p in priorities}
        found = [f for f in found if f.priority is not None and f.priority.value in wanted]
    late = sum(1 for f in found if f.state == timers.OVERDUE)
    reminded = {f.incident for f in found}
    cleared = {
        s.incident.id: note
        for s in subjects
        if s.incident.id in reminded and (note := cleared_note(s.incident))
    }
    if fmt == "json":
        data = {"now": format_timestamp(now), "findings": [f.as_dict() for f in found]}
        if cleared:
            data["alerts_cleared"] = sorted(cleared)
        echo_json(data)
    elif fmt == "github":
        for f in found:
            level = "error" if f.state == timers.OVERDUE else "warning"
            who = f" (who: {', '.join(f.who)})" if f.who else ""
            click.echo(
                github_annotation(
                    level,
                    f.message + who,
                    file=paths.get(f.incident),
                    title=f"{f.rule} {f.incident}",
                )
            )
    elif not found:
        click.echo(f"nothing {'due' if include_due_soon else 'overdue'} at {format_timestamp(now)}")
    else:
        rows = [["STATE", "LATE", "PRI", "INCIDENT", "RULE", "WHO", "WHAT"]]
        colors: list[str | None] = [None]
        todo: list[str] = []
        for f in found:
            subject = f"{f.rule}:{f.subject}" if f.subject and f.subject != f.incident else f.rule
            priority = f.priority.value if f.priority else "-"
            rows.append(
                [
                    f.state,
                    _late(f, now),
                    priority,
                    f.incident,
                    subject,
                    _who(f.who),
                    _what(f),
                ]
            )
            colors.append(_STATE_COLOR.get(f.state))
            todo.append(f.recommendation)
        for line in _table(rows, colors, todo):
            click.echo(line)
        for note in cleared.values():
            click.echo(f"note: {note}")
        soon = len(found) - late
        click.echo(f"{late} overdue, {soon} due soon at {format_timestamp(now)}", err=True)
    _liveness(repo, subjects, now, fresh=post and not dry_run, fmt=fmt)
    if post:
        every = seconds_of(repeat, "--repeat") if repeat else None
        github = github_configured(os.environ) or dry_run or not repo.notifications().sinks
        done = deliver(
            repo, found, paths, now, repeat_seconds=every, dry_run=dry_run, say=warn, github=github
        )
        _undelivered(done)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            note = liveness.schedule_note(git.last_commit_time(repo.root), now)
            if note:
                warn(github_annotation("warning", note, title="schedule"))
    ctx.exit(1 if late else 0)


def _undelivered(done: Delivered) -> None:
    """In GitHub Actions, the round's failed deliveries as one warning annotation, shown on
    the run's page: a pager that refuses is otherwise a line in a log nobody reads."""
    if done.failed and os.environ.get("GITHUB_ACTIONS") == "true":
        where = ", ".join(sorted({alert.where for alert in done.failed}))
        message = (
            f"{len(done.failed)} alert(s) not delivered to {where}; this step's log says why"
            " and whether the next run tries again"
        )
        warn(github_annotation("warning", message, title="sinks"))


class _WallClock:
    """The real clock for `watch`: a sleep that SIGTERM (or Ctrl-C) ends early."""

    def __init__(self) -> None:
        self.stop = threading.Event()

    def now(self) -> datetime:
        return current_now(None, exact=True)

    def sleep(self, seconds: float) -> bool:
        return not self.stop.wait(seconds)


class _Once:
    """One turn at a given time (`watch --once --now TS`)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> bool:
        return False


@click.command(
    epilog="""\b
Examples:
  incidentctl watch                          every overdue step, within seconds of its deadline
  incidentctl watch --pull --until-idle --repeat 30m    what the watch workflow runs
  incidentctl watch --once --now 2026-11-27T16:00:00Z --dry-run
Each turn: (with --pull) fast-forward the checkout, judge every deadline at the real time,
send each new breach to the sinks of policies/notifications.yaml and (with GITHUB_REPOSITORY
and GITHUB_TOKEN) the tracking issue, once each, record a heartbeat, then sleep until the
next deadline or the interval, whichever is first. SIGTERM stops it between turns.
"""
)
@click.option(
    "--interval",
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="The longest sleep between two turns (a deadline wakes it sooner).",
)
@click.option("--pull", is_flag=True, help="git pull --ff-only before each turn.")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop when no P0 or P1 incident is open before RESOLVED (the scheduled job covers "
    "PIR and action deadlines, which run for days).",
)
@click.option("--once", is_flag=True, help="One turn, then exit.")
@click.option(
    "--repeat",
    metavar="DURATION",
    help="Remind again every DURATION while still overdue (as overdue --post --repeat).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and record nothing.")
@now_option
@click.pass_context
def watch(
    ctx: click.Context,
    interval: str,
    pull: bool,
    until_idle: bool,
    once: bool,
    repeat: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Deliver every overdue reminder as it falls due, until stopped."""
    every = seconds_of(interval, "--interval")
    if every < 1:
        raise click.BadParameter("at least 1s", param_hint="--interval")
    repeat_seconds = seconds_of(repeat, "--repeat") if repeat else None
    if (now_text or os.environ.get("INCIDENTCTL_NOW")) and not once:
        raise click.UsageError(
            "--now (or INCIDENTCTL_NOW) goes with --once: a watcher runs on the clock"
        )
    start = repo_from(ctx)
    root = start.root
    github = github_configured(os.environ) and bool(os.environ.get("GITHUB_TOKEN", "").strip())
    record = record_for(root)
    posted: set[str] = set()  # breaches this watcher put on GitHub: no API call for them again
    kept = reviews.Turns()  # the models of unchanged incidents, kept from turn to turn

    def turn(now: datetime) -> Turn:
        if pull:
            git.pull_fast_forward(root)
        repo = Repo(root)  # read afresh: files, policies and notifications change meanwhile
        found, paths, subjects = _findings(repo, now, include_due_soon=False, turns=kept)
        keys = {timers.reminder_key(f, now, repeat_seconds) for f in found}
        done = deliver(
            repo,
            found,
            paths,
            now,
            repeat_seconds=repeat_seconds,
            dry_run=dry_run,
            say=warn,
            github=github and bool(keys - posted),
        )
        posted.update(keys)
        _undelivered(done)
        if not dry_run:
            record.beat(now, every)
        next_due = timers.next_due(subjects, repo.policy(), now, now + timedelta(seconds=every))
        open_ids = liveness.watched(subjects, now)
        click.echo(
            f"{format_timestamp(now)}: {len(found)} overdue, {len(done.sent)} sent"
            + (f", {len(done.failed)} failed" if done.failed else "")
            + f"; {len(open_ids)} P0/P1 open"
            + (f"; next deadline {format_timestamp(next_due)}" if next_due else "")
        )
        return Turn(bool(open_ids), next_due)

    clock: _WallClock | _Once
    if once:
        clock = _Once(current_now(now_text))
        run(turn, clock, interval=every, once=True, say=warn)
        return
    if start.notifications().sinks:
        warm()  # apprise loaded before the first deadline, not after it
    clock = _WallClock()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        clock.stop.set()

    before = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        turns = run(turn, clock, interval=every, until_idle=until_idle, say=warn)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    if clock.stop.is_set():
        warn(f"stopped after {turns} turn(s)")


@click.command(
    epilog="""\b
Examples:
  incidentctl deadlines INC-20261127-7K3Q
  incidentctl deadlines INC-20261127-7K3Q --now 2026-11-27T15:00:00Z --format json
"""
)
@click.argument("incident_id", metavar="ID")
@now_option
@format_option()
@click.pass_context
def deadlines(ctx: click.Context, incident_id: str, now_text: str | None, fmt: str) -> None:
    """The full schedule of one incident: every deadline, met, missed, pending or overdue."""
    repo = repo_from(ctx)
    now = current_now(now_text)
    loaded = repo.find(incident_id)
    incident = loaded.incident
    policy = repo.policy_for(incident)
    pir = review_state(repo, loaded, warn, Approvals(repo.root, warn))
    entries = timers.schedule(incident, policy, now, pir=pir)
    if incident.detected_at > now:
        raise IncidentctlError(
            f"{incident.id} was detected at {format_timestamp(incident.detected_at)}, "
            f"after --now {format_timestamp(now)}",
            hint="pass a --now at or after detection",
        )
    if fmt == "json":
        data: dict[str, Any] = {
            "incident": incident.id,
            "priority": incident.priority.value,
            "status": incident.status.value,
            "policy": incident.policy,
            "now": format_timestamp(now),
            "deadlines": [d.as_dict() for d in entries],
        }
        if incident.alerts:
            data["alerts_cleared"] = incident.alerts_cleared
        echo_json(data)
        return
    click.echo(
        f"{incident.id} {incident.priority} {incident.status.value.upper()}: {incident.title}"
    )
    click.echo(f"as of {format_timestamp(now)}, policy {incident.policy or 'current'}")
    rows = [["STATE", "DUE", "RULE", "DONE", "NOTE"]]
    colors: list[str | None] = [None]
    for d in entries:
        note = d.note
        if d.snoozed_until:
            note = f"snoozed until {format_timestamp(d.snoozed_until)}" + (
                f"; {note}" if note else ""
            )
        rule = f"{d.rule}:{d.subject}" if d.subject else d.rule
        rows.append(
            [
                d.state,
                format_timestamp(d.due) if d.due else "-",
                rule,
                format_timestamp(d.done_at) if d.done_at else "-",
                note,
            ]
        )
        colors.append(_STATE_COLOR.get(d.state))
    click.echo("")
    for line in _table(rows, colors):
        click.echo(line)
    cleared = cleared_note(incident)
    if cleared:
        click.echo(f"\nnote: {cleared}")


@click.command(
    epilog="""\b
Examples:
  incidentctl snooze INC-20261127-7K3Q --rule status-update --for 15m \\
      --reason "Bridge call with the customer until 15:30"
  incidentctl snooze INC-20261127-7K3Q --rule pir-due --for 1bd --by @alice --dry-run
Snoozes are capped per priority by policies/sla.yaml snooze_max and do not stack.
"""
)
@click.argument("incident_id", metavar="ID")
@click.option(
    "--rule",
    required=True,
    metavar="RULE",
    help="The rule to quiet: " + ", ".join(r for r in timers.SNOOZABLE),
)
@click.option("--for", "duration", required=True, metavar="DURATION", help="e.g. 15m, 2h, 1bd.")
@click.option("--reason", help="Why it can wait.")
@write_options
@click.pass_context
def snooze(
    ctx: click.Context,
    incident_id: str,
    rule: str,
    duration: str,
    reason: str | None,
    at_text: str | None,
    by: str | None,
    dry_run: bool,
    now_text: str | None,
) -> None:
    """Do not remind about RULE on this incident for a while (recorded in its timeline)."""
    updated = apply_transition(
        ctx,
        incident_id,
        snoozes.snooze,
        at_text=at_text,
        by=by,
        dry_run=dry_run,
        now_text=now_text,
        with_policy=True,
        rule=rule.strip(),
        duration=duration,
        reason=reason,
    )
    if updated is None:
        return
    click.echo(updated.timeline[-1].text or "")


COMMANDS = [overdue, watch, deadlines, snooze]
