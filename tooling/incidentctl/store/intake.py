"""A delivery from an alerting tool, written: one lock held from finding the incidents that
carry its alert group to the write, so two deliveries of one new group (two receivers'
requests, two `intake` runs) make one incident, never two."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import Incident
from incidentctl.core.timevalues import format_timestamp, parse_timestamp
from incidentctl.intake import plan
from incidentctl.intake.payloads import Delivery
from incidentctl.store import git, locks
from incidentctl.store.files import write_atomic
from incidentctl.store.incidents import new_id
from incidentctl.store.repo import Repo

INTAKE_LOCK = "intake"  # under incidents/: the name of the lock, never a file


@dataclass
class Received:
    """What one delivery did, and the files it changed (for a commit)."""

    outcome: plan.Outcome
    paths: list[Path] = field(default_factory=list)  # repository paths written
    diff: tuple[str, str, str] | None = None  # (path, before, after) of a dry run


_WORD = re.compile(rb"[A-Za-z0-9_]{3,}")


class AlertFiles:
    """Which incident files hold an alert group, and their bytes, remembered by each file's
    stat between the deliveries of one receiver: a file that did not change is not read again
    (a stat of 10,000 files instead of reading them)."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple[int, int, int], bytes | None]] = {}
        self.ids: set[str] = set()  # the filed incidents' IDs, as the last listing found them

    def candidates(self, repo: Repo, delivery: Delivery) -> list[tuple[Path, bytes]]:
        """The incident files that may carry the delivery's group: their bytes hold
        `alerts:`, the source and every word of the key. Words survive any YAML quoting,
        folding or escaping of the key, so no carrier is missed; only the few files that
        match are parsed (parsing all 10,000 incidents of a large repository takes seconds,
        and some senders give up after one)."""
        words = {delivery.source.value.encode(), *_WORD.findall(delivery.key.encode())}
        return self._scan(repo, words)

    def warm(self, repo: Repo) -> None:
        """Read every incident file once (a receiver, before it answers its first delivery)."""
        self._scan(repo, None)

    def _scan(self, repo: Repo, words: set[bytes] | None) -> list[tuple[Path, bytes]]:
        known: dict[Path, tuple[tuple[int, int, int], bytes | None]] = {}
        found = []
        filed = repo.filed_incidents()
        self.ids = {path.parent.name for path in filed}
        for path in filed:
            try:
                stat = os.lstat(path)
            except OSError:
                continue  # an ID folder without its file: validate's to report
            signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            before = self._known.get(path)
            if before is not None and before[0] == signature:
                raw = before[1]
            else:
                try:
                    read = repo.source.raw(path)
                except (OSError, DocumentError):
                    continue  # validate names a file that cannot be read
                raw = read if b"alerts:" in read else None
            known[path] = (signature, raw)
            if raw is not None and words is not None and all(word in raw for word in words):
                found.append((path, raw))
        self._known = known
        return found


def carrying(repo: Repo, delivery: Delivery, files: AlertFiles) -> list[Incident]:
    """The incidents that carry the delivery's alert group (a broken file is validate's)."""
    found = []
    for path, raw in files.candidates(repo, delivery):
        try:  # the bytes the words were found in, parsed
            _, incident = repo.incidents.from_bytes(path, raw)
        except (DocumentError, DocumentErrors):
            continue
        if plan.carries(incident, delivery):
            found.append(incident)
    return found


def receive(
    repo: Repo,
    delivery: Delivery,
    *,
    at: datetime,
    now: datetime,
    by: str,
    dry_run: bool = False,
    files: AlertFiles | None = None,
) -> Received:
    """Declare, update or ignore as `intake.plan` decides, under the intake lock."""
    policy = repo.policy()
    files = files or AlertFiles()
    with locks.hold(repo.root, repo.incidents.dir / INTAKE_LOCK):
        where = plan.route(delivery, carrying(repo, delivery, files), policy, at)
        if where.ignored is not None:
            return Received(where.ignored)
        if where.declare:
            incident_id = new_id(at, files.ids)
            incident, body, outcome = plan.declare(
                delivery, policy, incident_id=incident_id, at=at, now=now, by=by,
                follows=where.follows,
            )  # fmt: skip
            path, text = repo.create(incident, body, dry_run=dry_run, fresh=True)
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


class Unpushed:
    """The deliveries a receiver committed but has not pushed, kept in the git directory
    (never committed): a receiver restarted after a crash or a SIGTERM pushes them, or, if
    the remote moved meanwhile, applies them again, as the one before it would have."""

    def __init__(self, root: Path) -> None:
        common = git.common_dir(root)
        if common is None:
            raise IncidentctlError(f"{root} is not a git checkout: --push needs one")
        self.dir = common / "incidentctl" / "intake-unpushed"

    def save(self, commit: str, source: str, raw: bytes, at: datetime) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        record = {"commit": commit, "source": source, "at": format_timestamp(at)}
        record["payload"] = base64.b64encode(raw).decode("ascii")
        write_atomic(self.dir / f"{time.time_ns():020d}-{commit}.json", json.dumps(record))

    def drop(self, commits: set[str]) -> None:
        for path in self._files():
            if path.stem.split("-", 1)[1] in commits:
                path.unlink(missing_ok=True)

    def load(self) -> list[tuple[str, str, bytes, datetime]]:
        """(commit, source, payload, received at), oldest first; an unreadable record is
        left where it is, for a person to look at."""
        out = []
        for path in self._files():
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                out.append(
                    (
                        str(record["commit"]),
                        str(record["source"]),
                        base64.b64decode(record["payload"]),
                        parse_timestamp(record["at"]),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return out

    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in self.dir.iterdir() if p.suffix == ".json" and "-" in p.stem)
        except FileNotFoundError:
            return []
