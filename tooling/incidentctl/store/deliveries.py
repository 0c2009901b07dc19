"""The one delivery record: which (breach, repeat, sink) deliveries were claimed, and the
watcher's heartbeat.

A deliverer claims a delivery before sending it, with an atomic compare-and-swap on one
record that every deliverer sees: the watcher and the scheduled reminders job may run at the
same time on different runners, and a cache restored per job would give each its own copy.

* With a remote (`origin`), the record is the file deliveries.json in the commit at
  refs/incidentctl/deliveries there. A change fetches the ref, writes a new commit and pushes
  it with `--force-with-lease` naming the commit it read: if someone else moved the ref in
  between, the push is rejected and the change is made again on what they wrote. The commits
  are parentless (the file holds everything), so a heartbeat a turn grows no history.
* Without one, it is a JSON file in the git directory (else the user cache), changed under
  the store's lock (store.locks).

Each claim is settled after its sends: "sent", "maybe" (a timeout: it may have arrived) or
given back (it surely did not). A claim still unsettled TAKE_OVER_AFTER later belongs to a
deliverer that died in between; the next one takes it over and sends the marked repeat.

The GitHub tracking issue keeps its own record, the reminder comments' markers.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from incidentctl.core.errors import IncidentctlError
from incidentctl.core.timevalues import TimeValueError, format_timestamp, parse_timestamp
from incidentctl.store import git, locks
from incidentctl.store.cache import cache_folder
from incidentctl.store.files import write_atomic

RECORD_REF = "refs/incidentctl/deliveries"
RECORD_FILE = "deliveries.json"
REMOTE = "origin"
_ATTEMPTS = 10  # compare-and-swap rounds before giving up (each lost round means progress)
# A claim neither sent nor given back this long after it was made: its claimant died between
# claiming and settling (a send with every retry takes well under a minute).
TAKE_OVER_AFTER = timedelta(minutes=5)
# A claim that the round's alerts no longer name is forgotten this long after its last mark:
# its repeat slot has passed or its breach is over, and no deliverer works that key out
# again unless it replays a clock that far back. The record is fetched every turn and
# pushed whole with every claim, so it holds about a week of deliveries, not all of them.
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Heartbeat:
    """A watcher's last turn: when, its interval in seconds, and which process."""

    at: datetime
    interval: int
    by: str


@dataclass
class State:
    """What the record holds: claimed delivery keys (when, by whom) and the heartbeat."""

    claims: dict[str, dict[str, str]] = field(default_factory=dict)
    heartbeat: Heartbeat | None = None

    @classmethod
    def parse(cls, raw: bytes | None) -> State:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            raise IncidentctlError(
                "the delivery record does not read as JSON",
                hint=f"incidentctl writes it; delete {RECORD_REF} (or the local file) to "
                "start a new one (deliveries claimed so far may then be sent again)",
            ) from None
        beat = data.get("heartbeat") if isinstance(data, dict) else None
        heartbeat = None
        if isinstance(beat, dict) and beat.get("at"):
            heartbeat = Heartbeat(
                datetime.fromisoformat(str(beat["at"]).replace("Z", "+00:00")),
                int(beat.get("interval") or 0),
                str(beat.get("by") or ""),
            )
        claims = data.get("claims") if isinstance(data, dict) else None
        return cls(dict(claims) if isinstance(claims, dict) else {}, heartbeat)

    def dump(self) -> bytes:
        data: dict[str, Any] = {"version": 1, "claims": dict(sorted(self.claims.items()))}
        if self.heartbeat is not None:
            data["heartbeat"] = {
                "at": format_timestamp(self.heartbeat.at),
                "interval": self.heartbeat.interval,
                "by": self.heartbeat.by,
            }
        return (json.dumps(data, indent=1) + "\n").encode()


Change = Callable[[State], State | None]  # None: nothing to write


def _mark(entry: dict[str, str], name: str) -> datetime | None:
    """A claim's time `name` (at, sent, maybe); None when it has none or it is not a
    timestamp with an offset."""
    try:
        return parse_timestamp(str(entry[name]))
    except (KeyError, TimeValueError):
        return None


def _abandoned(entry: dict[str, str], now: datetime) -> bool:
    if any(k in entry for k in ("sent", "maybe", "taken")):
        return False
    at = _mark(entry, "at")
    return at is not None and now - at >= TAKE_OVER_AFTER


def _forgotten(entry: object, now: datetime) -> bool:
    """Every mark of the claim (claimed, sent, maybe) is FORGET_AFTER old or more; a mark
    that does not read as a timestamp keeps the claim."""
    if not isinstance(entry, dict):
        return False
    names = [name for name in ("at", "sent", "maybe") if name in entry]
    marks = [_mark(entry, name) for name in names]
    return bool(marks) and all(m is not None and now - m >= FORGET_AFTER for m in marks)


def deliverer() -> str:
    """Who claims: this host and process (and the Actions run, when there is one)."""
    run = os.environ.get("GITHUB_RUN_ID", "").strip()
    return f"{socket.gethostname()} pid {os.getpid()}" + (f" run {run}" if run else "")


class Record:
    """The record: read it, change it atomically; claims and heartbeats on top."""

    where: str

    def read(self, *, fresh: bool = True) -> State:
        raise NotImplementedError

    def update(self, change: Change) -> State:
        raise NotImplementedError

    def claim(self, keys: Iterable[str], now: datetime) -> tuple[set[str], set[str]]:
        """Claim each key nobody claimed yet, and take over each claim whose claimant died
        before settling it (TAKE_OVER_AFTER); (won, taken over): the only keys this process
        may send. A taken-over delivery may have arrived, so it goes out as the marked
        repeat, and is never taken over again."""
        wanted = list(dict.fromkeys(keys))
        won: set[str] = set()
        taken: set[str] = set()
        by = deliverer()

        def change(state: State) -> State | None:
            won.clear()
            taken.clear()
            for key in wanted:
                entry = state.claims.get(key)
                if entry is None:
                    won.add(key)
                elif _abandoned(entry, now):
                    taken.add(key)
            if not won and not taken:
                return None
            for key in won:
                state.claims[key] = {"at": format_timestamp(now), "by": by}
            for key in taken:
                before = state.claims[key].get("by", "")
                state.claims[key] = {"at": format_timestamp(now), "by": by, "taken": before}
            return state

        if wanted:
            self.update(change)
        return set(won), set(taken)

    def settle(
        self,
        done: dict[str, str],
        given_back: Iterable[str],
        now: datetime,
        *,
        current: Iterable[str],
    ) -> None:
        """Mark claims finished (`done`: key -> "sent", or "maybe" after a timeout), and give
        back those that surely did not arrive, so the next run tries them again. In the same
        write, forget the claims FORGET_AFTER old that neither `done` nor `current` (every
        key of the round's alerts, claimed before or not) names."""
        dropped = set(given_back)
        named = set(current) | set(done)

        def change(state: State) -> State | None:
            for key, how in done.items():
                if key in state.claims:
                    state.claims[key][how] = format_timestamp(now)
            for key in dropped:
                state.claims.pop(key, None)
            for key in [k for k, e in state.claims.items() if k not in named]:
                if _forgotten(state.claims[key], now):
                    del state.claims[key]
            return state

        if done or dropped:
            self.update(change)

    def beat(self, now: datetime, interval: int) -> None:
        by = deliverer()

        def change(state: State) -> State | None:
            state.heartbeat = Heartbeat(now, interval, by)
            return state

        self.update(change)


class LocalRecord(Record):
    """A JSON file changed under the store's lock: one machine's deliverers."""

    def __init__(self, root: Path, path: Path) -> None:
        self.root, self.path = root, path
        self.where = str(path)

    def read(self, *, fresh: bool = True) -> State:
        try:
            return State.parse(self.path.read_bytes())
        except FileNotFoundError:
            return State()

    def update(self, change: Change) -> State:
        with locks.hold(self.root, self.path):
            state = self.read()
            new = change(state)
            if new is None:
                return state
            write_atomic(self.path, new.dump())
            return new


class RemoteRecord(Record):
    """deliveries.json at refs/incidentctl/deliveries on a remote, swapped by push."""

    def __init__(self, root: Path, remote: str) -> None:
        self.root, self.remote = root, remote
        self.where = f"{RECORD_REF} on {remote}"
        self._lock = root / RECORD_REF  # the lock's name only: one updater per checkout

    def read(self, *, fresh: bool = True) -> State:
        """The record as the remote has it (`fresh`), or as last fetched."""
        commit = (
            git.fetch_ref(self.root, self.remote, RECORD_REF)
            if fresh
            else git.local_ref(self.root, RECORD_REF)
        )
        return State.parse(git.blob_at(self.root, commit, RECORD_FILE) if commit else None)

    def update(self, change: Change) -> State:
        with locks.hold(self.root, self._lock):
            for attempt in range(_ATTEMPTS):
                if attempt:
                    time.sleep(random.uniform(0.05, 0.2) * attempt)  # jitter: racers part
                seen = git.fetch_ref(self.root, self.remote, RECORD_REF)
                state = State.parse(git.blob_at(self.root, seen, RECORD_FILE) if seen else None)
                new = change(state)
                if new is None:
                    return state
                commit = git.commit_file(
                    self.root, RECORD_FILE, new.dump(), "incidentctl delivery record"
                )
                if git.push_lease(self.root, self.remote, commit, RECORD_REF, seen):
                    return new
        raise IncidentctlError(
            f"the delivery record ({self.where}) kept changing: gave up after {_ATTEMPTS} tries",
            hint="nothing was sent that was not claimed; the next run tries again",
        )


def record_for(root: Path) -> Record:
    """The remote's record when the checkout has an `origin`, else the local file."""
    if git.remote_url(root, REMOTE):
        return RemoteRecord(root, REMOTE)
    common = git.common_dir(root)
    if common is not None:
        return LocalRecord(root, common / "incidentctl" / RECORD_FILE)
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return LocalRecord(root, cache_folder() / "deliveries" / f"{digest}.json")
