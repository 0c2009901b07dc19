"""Deliver the overdue findings of one turn: to every sink of its route, each (breach,
repeat, sink) once through the delivery record, and to the GitHub tracking issue, whose
comments are that sink's own record. `overdue --post` and every turn of `watch` call this.

Only the claimant of a delivery sends it and retries it. Sinks are sent to in parallel, so
a failing one never holds up the others. Each claim is then settled in the record: sent,
"maybe" (a timeout: it may have arrived, so it is not sent again), or given back when it
surely did not arrive (refused every time, or its URL's variable unset), so the next run tries
again. A claim its claimant never settled is taken over and sent as the marked repeat.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import Incident
from incidentctl.core.notifications import Notifications, UnsetVariable, expand
from incidentctl.deadlines import timers
from incidentctl.deadlines.reminders import backups
from incidentctl.notify.alerts import Alert, alerts
from incidentctl.sinks.send import Outcome, send
from incidentctl.store.deliveries import record_for
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.repo import Repo

Say = Callable[[str], None]


@dataclass
class Delivered:
    """What one delivery round did."""

    sent: list[Alert] = field(default_factory=list)
    failed: list[Alert] = field(default_factory=list)
    before: int = 0  # claimed by an earlier run or another deliverer


def github_configured(env: Mapping[str, str]) -> bool:
    return bool(env.get("GITHUB_REPOSITORY", "").strip())


def _link(notifications: Notifications, env: Mapping[str, str]) -> Callable[[str], str | None]:
    def link(rel: str) -> str | None:
        if notifications.base_url:
            return f"{notifications.base_url}/{rel}"
        if github_configured(env):
            from incidentctl.github.client import settings_from_env  # PyGithub: when needed

            return settings_from_env(env, dry_run=True).file_url(rel)
        return None

    return link


def _reach(repo: Repo, env: Mapping[str, str]) -> Callable[[str, str], str | None]:
    """A person's address on a channel: people.yaml as it is now, ${VAR}s from `env`."""
    people = repo.policy().people

    def reach(who: str, channel: str) -> str | None:
        return people.address(who, channel, env)

    return reach


def overdue_incidents(
    repo: Repo, found: list[timers.Reminder], paths: dict[str, str]
) -> dict[str, tuple[Incident, str]]:
    """The incidents with something overdue, read again: ID -> (incident, path)."""
    wanted = {
        f.incident
        for f in found
        if f.state == timers.OVERDUE and paths.get(f.incident, "").endswith(INCIDENT_FILE)
    }
    return {i: (repo.load(repo.root / paths[i]).incident, paths[i]) for i in sorted(wanted)}


def to_sinks(
    repo: Repo,
    found: list[timers.Reminder],
    paths: dict[str, str],
    now: datetime,
    *,
    repeat_seconds: int | None,
    dry_run: bool,
    say: Say,
    env: Mapping[str, str] | None = None,
) -> Delivered:
    """Send each overdue finding's alerts that nobody claimed before; say what happened."""
    env = os.environ if env is None else env
    done = Delivered()
    notifications = repo.notifications()
    if not notifications.sinks or not any(f.state == timers.OVERDUE for f in found):
        return done
    incidents = overdue_incidents(repo, found, paths)

    def backups_of(f: timers.Reminder) -> tuple[str, ...]:
        incident = incidents[f.incident][0]
        return backups(incident, repo.policy_for(incident), f.who, now)

    pending = alerts(
        found,
        incidents,
        notifications,
        now,
        repeat_seconds=repeat_seconds,
        link=_link(notifications, env),
        backups=backups_of,
        blocked_after=repo.policy().oncall.page_backup_after,
        reach=_reach(repo, env),
    )
    if dry_run:
        for alert in pending:
            say(f"would send to {alert.where}: {alert.title}")
        return done
    record = record_for(repo.root)
    won, taken = record.claim([a.key for a in pending], now)
    done.before = sum(1 for a in pending if a.key not in won | taken)
    mine = [a for a in pending if a.key in won | taken]
    by_sink: dict[str, list[Alert]] = {}
    for alert in mine:
        by_sink.setdefault(alert.sink, []).append(alert)
    give_back: list[str] = []
    settled: dict[str, str] = {}

    def one_sink(name: str, batch: list[Alert]) -> list[tuple[Alert, Outcome | str]]:
        out: list[tuple[Alert, Outcome | str]] = []
        for alert in batch:
            try:
                url = expand(alert.delivery.url(), env)
            except UnsetVariable as exc:
                out.append((alert, f"{exc}: set it in the environment of this run"))
                continue
            try:
                message = (alert.title, alert.body)
                repeat_first = alert.key in taken
                out.append((alert, send(url, message, alert.repeated(), repeat_first=repeat_first)))
            except IncidentctlError as exc:
                out.append((alert, exc.message))
        return out

    with ThreadPoolExecutor(max_workers=max(1, len(by_sink))) as pool:
        results = list(pool.map(lambda item: one_sink(*item), by_sink.items()))
    for batch in results:
        for alert, outcome in batch:
            if isinstance(outcome, Outcome) and outcome.sent:
                done.sent.append(alert)
                settled[alert.key] = "sent"
                mark = ""
                if alert.key in taken:
                    mark = " (marked repeat: its first claimant stopped before settling it)"
                elif outcome.repeated:
                    mark = " (sent again, marked repeat, after a timeout)"
                say(f"sent to {alert.where}: {alert.title}{mark}")
                continue
            done.failed.append(alert)
            if isinstance(outcome, str) or not outcome.ambiguous:
                if alert.key in taken:  # it may have arrived: never sent unmarked again
                    settled[alert.key] = "maybe"
                else:
                    give_back.append(alert.key)
            else:
                settled[alert.key] = "maybe"
            if isinstance(outcome, str):
                say(f"not sent to {alert.where}: {alert.title}: {outcome}")
                continue
            if outcome.ambiguous:
                say(
                    f"not delivered to {alert.where} after {outcome.attempts} tries: "
                    f"{alert.title}: {outcome.error}; it may have arrived, so it is not sent "
                    "again"
                )
            else:
                say(
                    f"not delivered to {alert.where} after {outcome.attempts} tries: "
                    f"{alert.title}: {outcome.error}; the next run tries again"
                )
    record.settle(settled, give_back, now, current=[a.key for a in pending])
    return done


def deliver(
    repo: Repo,
    found: list[timers.Reminder],
    paths: dict[str, str],
    now: datetime,
    *,
    repeat_seconds: int | None,
    dry_run: bool,
    say: Say,
    github: bool,
) -> Delivered:
    """The sinks first (the pager is the fast path), then the tracking issues (`github`)."""
    done = to_sinks(
        repo, found, paths, now, repeat_seconds=repeat_seconds, dry_run=dry_run, say=say
    )
    if github:
        from incidentctl.github.reminders import post_overdue  # PyGithub only when asked

        post_overdue(
            repo, found, paths, now, dry_run=dry_run, repeat_seconds=repeat_seconds, say=say
        )
    return done
