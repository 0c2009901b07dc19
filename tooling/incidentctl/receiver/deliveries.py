"""The receiver's work, without HTTP: one delivery at a time, written and committed before it
is answered; with a remote, pushed in the background.

A push the remote rejects (another receiver, or a person, pushed first) is never rebased: a
rebased declare commit would keep an incident the remote may already have for the same alert
group. The receiver fetches, resets its branch to the remote's and applies every delivery not
yet pushed again, so dedupe sees what the remote holds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from incidentctl.core.errors import DocumentError, IncidentctlError
from incidentctl.intake.payloads import PayloadError, load
from incidentctl.intake.plan import Action, Outcome
from incidentctl.store import git
from incidentctl.store.intake import AlertFiles, Unpushed, receive
from incidentctl.store.repo import Repo

Clock = Callable[[], datetime]
Log = Callable[[str], None]


@dataclass(frozen=True)
class Pending:
    """A committed delivery not yet on the remote: enough to apply it again."""

    source: str
    raw: bytes
    at: datetime
    commit: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: Mapping[str, object]


class Deliveries:
    """Every delivery goes through `deliver`, one at a time (a lock): ten simultaneous
    deliveries of one new group make one incident."""

    def __init__(
        self,
        root: Path,
        actor: str,
        clock: Clock,
        log: Log,
        *,
        remote: str | None = None,
    ) -> None:
        self.root = root
        self.actor = actor
        self.clock = clock
        self.log = log
        self.remote = remote
        self.branch = git.branch(root) if remote else None
        self.lock = threading.Lock()
        self.pending: list[Pending] = []
        # with a remote, what the last receiver here committed and did not push goes first
        self.unpushed = Unpushed(root) if remote else None
        if self.unpushed is not None:
            self.pending = [Pending(s, raw, at, sha) for sha, s, raw, at in self.unpushed.load()]
        self.files = AlertFiles()  # what the incident files hold, kept between deliveries
        self.files.warm(Repo(root))  # so the first delivery is answered as fast as the rest
        self.in_flight = 0
        self._counting = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pusher: threading.Thread | None = None

    # -- one delivery ------------------------------------------------------------------------
    def deliver(self, source: str, raw: bytes) -> Answer:
        """Write, commit, then answer: 200 with the outcome (ignored too), 400 for a payload
        it cannot read, 422 for a change the incident refuses, 503 when it is locked."""
        started = time.monotonic()
        at = self.clock()
        with self._counting:
            self.in_flight += 1
        try:
            with self.lock:
                answer, outcome, key = self._apply(source, raw, at)
        finally:
            with self._counting:
                self.in_flight -= 1
        line: dict[str, object] = {
            "at": at.isoformat().replace("+00:00", "Z"),
            "source": source,
            "group": key,
            "status": answer.status,
            "action": outcome.action.value if outcome else None,
            "incident": outcome.incident if outcome else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        if answer.status >= 400:
            line["error"] = answer.body.get("error")
        self.log(json.dumps(line, ensure_ascii=False))
        return answer

    def _apply(
        self, source: str, raw: bytes, at: datetime, *, again: bool = False
    ) -> tuple[Answer, Outcome | None, str | None]:
        key = None
        try:
            delivery = load(raw, source, f"<{source} delivery>")
            key = delivery.key
            repo = Repo(self.root)
            received = receive(
                repo, delivery, at=at, now=self.clock(), by=self.actor, files=self.files
            )
        except PayloadError as exc:
            return Answer(400, {"error": exc.render()}), None, key
        except DocumentError as exc:
            status = 503 if exc.rule == "locked" else 422
            return Answer(status, {"error": exc.render()}), None, key
        except IncidentctlError as exc:
            return Answer(422, {"error": exc.render()}), None, key
        outcome = received.outcome
        if received.paths:
            message = _message(outcome, source, key)
            sha = git.commit(self.root, received.paths, message, self.actor)
            self.pending.append(Pending(source, raw, at, sha))
            if self.unpushed is not None:
                self.unpushed.save(sha, source, raw, at)
            if not again:
                self._wake.set()
        return Answer(200, outcome.as_dict()), outcome, key

    # -- pushing -----------------------------------------------------------------------------
    def start_pushing(self) -> None:
        if self.remote is None:
            return
        self._pusher = threading.Thread(target=self._push_loop, name="intake-push", daemon=True)
        self._pusher.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._pusher is not None:
            self._pusher.join(timeout=30)

    def _push_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=30)
            self._wake.clear()
            try:
                self.push_pending()
            except Exception as exc:  # a push that fails keeps its deliveries for the next try
                self.log(json.dumps({"push": "failed", "error": str(exc)}))
                self._stop.wait(5)
                self._wake.set()

    def push_pending(self) -> None:
        """Push what is committed; after a rejection, reset to the remote and apply the
        deliveries not yet pushed again (under the lock: no delivery in between)."""
        assert self.remote is not None
        assert self.branch is not None
        for _attempt in range(5):
            with self.lock:
                if not self.pending:
                    return
                head = self.pending[-1].commit
            pushed, message = git.push(self.root, self.remote, self.branch)
            if pushed:
                with self.lock:
                    shas = [p.commit for p in self.pending]
                    done = shas.index(head) + 1 if head in shas else 0
                    if self.unpushed is not None:
                        self.unpushed.drop(set(shas[:done]))
                    del self.pending[:done]
                    if not self.pending:
                        self.log(json.dumps({"push": "pushed", "commit": head}))
                        return
                continue
            with self.lock:
                # the reset first: if the remote cannot be reached, nothing is forgotten
                base = git.reset_to_remote(self.root, self.remote, self.branch)
                replay = list(self.pending)
                self.pending.clear()
                if self.unpushed is not None:  # applied again below, recorded afresh
                    self.unpushed.drop({p.commit for p in replay})
                self.log(json.dumps({"push": "rejected", "reset_to": base, "again": len(replay)}))
                for item in replay:
                    answer, _outcome, key = self._apply(item.source, item.raw, item.at, again=True)
                    again = {"again": item.source, "group": key, "status": answer.status}
                    self.log(json.dumps({**again, **answer.body}, ensure_ascii=False))
        raise IncidentctlError(f"push to {self.remote} still rejected after 5 tries: {message}")

    def health(self) -> dict[str, object]:
        return {
            "ok": True,
            "unpushed": len(self.pending),
            "in_flight": self.in_flight,
            "push": self.remote is not None,
        }


def _message(outcome: Outcome, source: str, key: str | None) -> str:
    """The commit's subject names the incident and what happened to it."""
    verb = {
        Action.DECLARED: "declared",
        Action.UPDATED: "updated",
        Action.RESOLVED_ALERT: "alert resolved",
    }.get(outcome.action, outcome.action.value)
    subject = f"{outcome.incident}: {verb} from {source} ({outcome.reason})"
    return subject + (f"\n\nAlert group: {key}\n" if key else "\n")
