"""`overdue --post`: each overdue reminder once on its incident's tracking issue, and to the
backups of the people reminded."""

from __future__ import annotations

from datetime import datetime

from incidentctl.core.model import Incident
from incidentctl.deadlines import timers
from incidentctl.deadlines.reminders import backups
from incidentctl.github.client import Say, connect
from incidentctl.github.sync import post_reminders
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.repo import Repo


def post_overdue(
    repo: Repo,
    found: list[timers.Reminder],
    paths: dict[str, str],
    now: datetime,
    *,
    dry_run: bool,
    repeat_seconds: int | None,
    say: Say,
) -> None:
    """Post the overdue reminders of `found` (`paths`: incident ID -> file), telling `say`
    what was done. Only the incidents with something overdue are read again."""
    gh = connect(dry_run=dry_run, say=say)
    wanted = {
        f.incident
        for f in found
        if f.state == timers.OVERDUE and paths.get(f.incident, "").endswith(INCIDENT_FILE)
    }
    incidents: dict[str, tuple[Incident, str]] = {}
    for incident_id in sorted(wanted):
        rel = paths[incident_id]
        incidents[incident_id] = (repo.load(repo.root / rel).incident, rel)

    def backups_of(f: timers.Reminder) -> tuple[str, ...]:
        incident = incidents[f.incident][0]
        return backups(incident, repo.policy_for(incident), f.who, now)

    for line in post_reminders(
        gh,
        found,
        incidents,
        now,
        repeat_seconds=repeat_seconds,
        backups=backups_of,
        blocked_after=repo.policy().oncall.page_backup_after,
    ):
        say(line)
