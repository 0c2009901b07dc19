"""A delivery from an alerting tool, written: one lock held from finding the incidents that
carry its alert group to the write, so two deliveries of one new group (two receivers'
requests, two `intake` runs) make one incident, never two."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from incidentctl.core.errors import DocumentErrors
from incidentctl.core.model import Incident
from incidentctl.intake import plan
from incidentctl.intake.payloads import Delivery
from incidentctl.store import locks
from incidentctl.store.incidents import new_id
from incidentctl.store.repo import Repo

INTAKE_LOCK = "intake"  # under incidents/: the name of the lock, never a file


@dataclass
class Received:
    """What one delivery did, and the files it changed (for a commit)."""

    outcome: plan.Outcome
    paths: list[Path] = field(default_factory=list)  # repository paths written
    diff: tuple[str, str, str] | None = None  # (path, before, after) of a dry run


def carrying(repo: Repo, delivery: Delivery) -> list[Incident]:
    """The incidents that carry the delivery's alert group (a broken file is validate's)."""
    found = []
    for item in repo.scan():
        if isinstance(item, DocumentErrors):
            continue
        if plan.carries(item.incident, delivery):
            found.append(item.incident)
    return found


def receive(
    repo: Repo,
    delivery: Delivery,
    *,
    at: datetime,
    now: datetime,
    by: str,
    dry_run: bool = False,
) -> Received:
    """Declare, update or ignore as `intake.plan` decides, under the intake lock."""
    policy = repo.policy()
    with locks.hold(repo.root, repo.incidents.dir / INTAKE_LOCK):
        where = plan.route(delivery, carrying(repo, delivery), policy, at)
        if where.ignored is not None:
            return Received(where.ignored)
        if where.declare:
            incident_id = new_id(at, repo.incidents.known_ids())
            incident, body, outcome = plan.declare(
                delivery, policy, incident_id=incident_id, at=at, now=now, by=by,
                follows=where.follows,
            )  # fmt: skip
            path, text = repo.create(incident, body, dry_run=dry_run)
            if dry_run:
                return Received(outcome, diff=(repo.rel(path), "", text))
            snapshot = repo.policies.save_snapshot(policy)
            return Received(outcome, [Path(repo.rel(path)), Path(repo.rel(snapshot))])
        assert where.incident is not None
        outcomes: list[plan.Outcome] = []

        def change(incident: Incident) -> Incident:
            after, outcome = plan.update(incident, delivery, policy, at=at, now=now, by=by)
            outcomes.append(outcome)
            return after

        edited = repo.edit(where.incident, change, dry_run=dry_run)
        if not edited.changed:
            return Received(outcomes[-1])
        if dry_run:
            return Received(outcomes[-1], diff=(str(edited.path), edited.old, edited.text))
        return Received(outcomes[-1], [edited.path])
