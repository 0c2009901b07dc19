"""`watch`, the notification sinks and the one delivery record.

Real parts only: a loopback HTTP sink that apprise posts to (json://127.0.0.1:PORT/), real git
repositories (a bare one as the remote the record is pushed to), real `incidentctl` processes
racing and receiving SIGTERM. The loop's logic runs on an injected clock, without sleeping.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentctl.core.errors import IncidentctlError
from incidentctl.sinks.send import REFUSED, SENT, TIMED_OUT, send
from incidentctl.store.deliveries import FORGET_AFTER, RECORD_REF, LocalRecord, State
from incidentctl.watch.loop import Turn, run, wake_at
from tests.conftest import GIT_ENV, Invoke, declare, git

UTC_ = UTC
T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
INCIDENTCTL = Path(sys.executable).with_name("incidentctl")


class Sink:
    """A webhook on 127.0.0.1 that records every JSON message; `plan` says, request by
    request, what to answer: "ok", "500", or "slow" (answer after `slow` seconds)."""

    def __init__(self, plan: list[str] | None = None, slow: float = 3.0) -> None:
        self.received: list[dict[str, Any]] = []
        self.plan = list(plan or [])
        self.slow = slow
        self.lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with sink.lock:
                    sink.received.append(json.loads(body))
                    what = sink.plan.pop(0) if sink.plan else "ok"
                if what == "slow":
                    time.sleep(sink.slow)
                self.send_response(500 if what == "500" else 200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/"

    def titles(self) -> list[str]:
        with self.lock:
            return [str(m["title"]) for m in self.received]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    found = Sink()
    monkeypatch.setenv("SINK_PORT", str(found.port))
    monkeypatch.setenv("INCIDENTCTL_SINK_BACKOFF", "0.01")
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    yield found
    found.stop()


NOTIFICATIONS = """\
sinks:
  - name: pager
    url: json://127.0.0.1:${SINK_PORT}/?rto=1
routes:
  - priorities: [P0, P1]
    rules: [acknowledge]
    sinks: [pager]
  - sinks: []
"""


def notifications(root: Path, text: str = NOTIFICATIONS) -> None:
    (root / "policies" / "notifications.yaml").write_text(text, encoding="utf-8")


def p0(cli: Invoke, at: str = "2026-11-27T15:00:00Z", *extra: str) -> str:
    return declare(cli, "--impact", "high", "--urgency", "high", *extra, at=at)


# -- the loop, on an injected clock --
class FakeClock:
    """Time moves only when the loop sleeps; `stop_after` sleeps, the next one says stop."""

    def __init__(self, start: datetime, stop_after: int = 100) -> None:
        self.at = start
        self.sleeps: list[float] = []
        self.stop_after = stop_after

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> bool:
        if len(self.sleeps) >= self.stop_after:
            return False
        self.sleeps.append(seconds)
        self.at += timedelta(seconds=seconds)
        return True


def test_the_loop_wakes_one_second_after_the_next_deadline_else_after_the_interval() -> None:
    due = T0 + timedelta(seconds=12)
    turns: list[datetime] = []

    def turn(now: datetime) -> Turn:
        turns.append(now)
        return Turn(active=True, next_due=due if now < due else None)

    clock = FakeClock(T0, stop_after=3)
    count = run(turn, clock, interval=30, say=print)
    assert turns[:3] == [T0, due + timedelta(seconds=1), due + timedelta(seconds=31)]
    assert clock.sleeps == [13, 30, 30]
    assert count == 4  # the fourth sleep is refused: stopped between turns


def test_until_idle_stops_once_no_p0_or_p1_is_open_and_once_after_one_turn() -> None:
    states = iter([True, True, False, True])
    said: list[str] = []
    clock = FakeClock(T0)
    count = run(lambda now: Turn(next(states), None), clock, interval=5, until_idle=True,
                say=said.append)  # fmt: skip
    assert count == 3
    assert clock.sleeps == [5, 5]
    assert "no P0 or P1 incident is open" in said[-1]
    assert run(lambda now: Turn(True, None), FakeClock(T0), interval=5, once=True, say=print) == 1


def test_a_failing_turn_is_said_and_retried_after_the_interval() -> None:
    calls: list[datetime] = []

    def turn(now: datetime) -> Turn:
        calls.append(now)
        if len(calls) == 1:
            raise IncidentctlError("git push origin failed", hint="check the network")
        return Turn(True, None)

    said: list[str] = []
    run(turn, FakeClock(T0, stop_after=1), interval=30, say=said.append)
    assert calls == [T0, T0 + timedelta(seconds=30)]
    assert "failed: git push origin failed" in said[0]


def test_wake_at_takes_the_earlier_and_a_turn_that_ran_long_does_not_sleep() -> None:
    assert wake_at(T0, None, 30) == T0 + timedelta(seconds=30)
    assert wake_at(T0, T0 + timedelta(seconds=5), 30) == T0 + timedelta(seconds=6)
    assert wake_at(T0, T0 + timedelta(minutes=5), 30) == T0 + timedelta(seconds=30)
    clock = FakeClock(T0, stop_after=1)

    def slow(now: datetime) -> Turn:
        clock.at += timedelta(seconds=40)  # the turn itself took longer than the interval
        return Turn(True, None)

    run(slow, clock, interval=30, say=print)
    assert clock.sleeps == [0.0]


# -- watch --once and overdue --post through the sinks --
def test_watch_once_delivers_each_breach_once_and_records_a_heartbeat(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo)
    incident = p0(cli)
    first = cli("watch", "--once", "--now", "2026-11-27T15:02:00Z")
    assert first.code == 0, first.err
    assert sink.titles() == [f"Overdue: {incident} acknowledge (P0)"]
    message = sink.received[0]["message"]
    assert "P0 not acknowledged: overdue by 1m" in message
    assert "Who must act: @example-org/oncall" in message
    assert f"Do: Acknowledge now: incidentctl ack {incident}" in message
    assert "Incident: " + incident + " Checkout returns 502" in message
    again = cli("watch", "--once", "--now", "2026-11-27T15:03:00Z")
    post = cli("overdue", "--post", "--now", "2026-11-27T15:04:00Z")
    assert again.code == 0, again.err
    assert post.code == 1, post.err
    assert len(sink.received) == 1  # one breach, one delivery, whoever delivers
    assert "no watcher seen" not in post.err  # the heartbeat of 15:03 is fresh
    late = cli("overdue", "--now", "2026-11-27T15:20:00Z")
    assert "no watcher seen for 17m" in late.err, late.err


def test_repeat_slots_are_new_deliveries_and_backups_join_when_blocked(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo)
    p0(cli)
    for minute in ("02", "05", "12", "13", "22"):
        result = cli("overdue", "--post", "--repeat", "5m", "--now", f"2026-11-27T15:{minute}:00Z")
        assert result.code == 1, result.err
    # due 15:01: slots 0 (15:02), 0 (15:05: 4m late), 2 (15:12), 2 (15:13), 4 (15:22)
    assert len(sink.received) == 3


def test_a_withheld_security_incident_is_named_neutrally(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo)
    incident = p0(cli, "2026-11-27T15:00:00Z", "--security-breach")
    assert cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z").code == 1
    (message,) = sink.received
    assert f"Security incident {incident}" in message["message"]
    assert "Checkout returns 502" not in json.dumps(message)


def test_a_link_to_the_incident_when_a_base_url_is_known(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo, NOTIFICATIONS + "base_url: https://git.example/org/incidents/blob/main/\n")
    incident = p0(cli)
    cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    (message,) = sink.received
    assert (
        f"https://git.example/org/incidents/blob/main/incidents/2026/11/{incident}/"
        in (message["message"])
    )


def test_no_routes_send_everything_everywhere_and_an_unset_variable_is_retried_later(
    cli: Invoke, repo: Path, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifications(
        repo,
        "sinks:\n  - name: pager\n    url: json://127.0.0.1:${SINK_PORT}/\n"
        "  - name: chat\n    url: json://127.0.0.1:${CHAT_PORT}/\n",
    )
    p0(cli)
    monkeypatch.delenv("CHAT_PORT", raising=False)
    first = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert "not sent to chat" in first.err
    assert "${CHAT_PORT} is not set" in first.err
    sent = len(sink.received)
    assert sent >= 1  # acknowledge (and the runbook) to the pager
    monkeypatch.setenv("CHAT_PORT", str(sink.port))
    cli("overdue", "--post", "--now", "2026-11-27T15:02:30Z")
    assert len(sink.received) == 2 * sent  # chat's share, given back, now delivered once
    cli("overdue", "--post", "--now", "2026-11-27T15:03:00Z")
    assert len(sink.received) == 2 * sent


def test_the_notifications_file_is_checked_with_its_line(cli: Invoke, repo: Path) -> None:
    notifications(
        repo,
        "sinks:\n  - name: pager\n    url: json://x/\nroutes:\n  - rules: [acknowledgee]\n"
        "    sinks: [pager]\n",
    )
    p0(cli)
    result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 2
    assert "policies/notifications.yaml:5: routes.0.rules: unknown rule 'acknowledgee'" in (
        result.err
    )
    assert "Traceback" not in result.err
    notifications(repo, "sinks:\n  - name: pager\n    url: json://x/\nroutes:\n  - sinks: [chat]\n")
    result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 2
    assert "not declared: chat" in result.err


def test_validate_reports_a_broken_notifications_file_before_any_delivery(
    cli: Invoke, repo: Path
) -> None:
    """The pull request that breaks a sink or a route fails, not the first page at 3 a.m."""
    assert cli("validate").code == 0
    notifications(
        repo,
        "sinks:\n  - name: pager\n    url: json://x/\nroutes:\n  - rules: [acknowledgee]\n"
        "    sinks: [pager]\n",
    )
    result = cli("validate")
    assert result.code == 1
    assert "policies/notifications.yaml:5: error: [schema] routes.0.rules: unknown rule" in (
        result.out + result.err
    )
    notifications(repo, "sinks: [\n")
    result = cli("validate")
    assert result.code == 1
    assert "policies/notifications.yaml:" in result.out + result.err
    assert "Traceback" not in result.err


def test_the_watcher_says_when_it_has_not_been_seen(cli: Invoke, repo: Path) -> None:
    p0(cli)
    never = cli("overdue", "--now", "2026-11-27T15:02:00Z")
    assert "no watcher seen while" in never.err
    github = cli("overdue", "--now", "2026-11-27T15:02:00Z", "--format", "github")
    assert "::warning title=watcher::no watcher seen" in github.err
    assert cli("watch", "--once", "--now", "2026-11-27T15:02:00Z").code == 0
    assert "no watcher seen" not in cli("overdue", "--now", "2026-11-27T15:03:00Z").err
    assert "no watcher seen for 8m" in cli("overdue", "--now", "2026-11-27T15:10:00Z").err
    cli(
        "resolve",
        incident_of(repo),
        "--at",
        "2026-11-27T15:30:00Z",
        "--now",
        "2026-11-27T15:30:00Z",
    )
    assert "no watcher seen" not in cli("overdue", "--now", "2026-11-27T16:30:00Z").err


def incident_of(repo: Path) -> str:
    (path,) = repo.glob("incidents/*/*/*/incident.md")
    return path.parent.name


# -- retries --
def test_a_5xx_is_retried_unmarked_and_a_timeout_gets_one_marked_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INCIDENTCTL_SINK_BACKOFF", "0.01")
    refused = Sink(["500", "500", "ok"])
    try:
        out = send(refused.url, ("title", "body"), ("[repeat] title", "again"))
        assert out.sent
        assert out.attempts == 3
        assert not out.repeated
        assert refused.titles() == ["title", "title", "title"]
    finally:
        refused.stop()
    slow = Sink(["slow", "ok"], slow=2.0)
    try:
        out = send(slow.url + "?rto=0.5", ("title", "body"), ("[repeat] title", "again"))
        assert out.sent
        assert out.repeated
        assert out.ambiguous
        assert slow.titles() == ["title", "[repeat] title"]
    finally:
        slow.stop()
    twice = Sink(["slow", "slow", "ok"], slow=2.0)
    try:
        out = send(twice.url + "?rto=0.5", ("title", "body"), ("[repeat] title", "again"))
        assert not out.sent
        assert out.ambiguous
        assert out.attempts == 2
        assert twice.titles() == ["title", "[repeat] title"]  # never a third copy
    finally:
        twice.stop()


def test_send_gives_up_after_the_attempts_and_never_shows_the_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INCIDENTCTL_SINK_BACKOFF", "0")
    monkeypatch.setenv("INCIDENTCTL_SINK_ATTEMPTS", "3")
    failing = Sink(["500"] * 5)
    try:
        out = send(failing.url + "secret-token", ("t", "b"), ("r", "b"))
        assert not out.sent
        assert not out.ambiguous
        assert out.attempts == 3
        assert "500" in out.error
        assert "secret-token" not in out.error
    finally:
        failing.stop()
    with pytest.raises(IncidentctlError, match="not a URL apprise knows"):
        send("nosuchscheme://x", ("t", "b"), ("r", "b"))
    assert {SENT, REFUSED, TIMED_OUT} == {"sent", "refused", "timed out"}


def test_a_sink_that_keeps_refusing_is_given_back_and_does_not_block_the_others(
    cli: Invoke, repo: Path, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = Sink(["500"] * 20)
    monkeypatch.setenv("DOWN_PORT", str(down.port))
    try:
        notifications(
            repo,
            "sinks:\n  - name: pager\n    url: json://127.0.0.1:${SINK_PORT}/\n"
            "  - name: down\n    url: json://127.0.0.1:${DOWN_PORT}/\n"
            "routes:\n  - rules: [acknowledge]\n    sinks: [pager, down]\n  - sinks: []\n",
        )
        p0(cli)
        result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
        assert "sent to pager" in result.err
        assert "not delivered to down after 4 tries" in result.err
        assert "the next run tries again" in result.err
        assert len(sink.received) == 1
        assert len(down.received) == 4
        record = json.loads((repo / ".git" / "incidentctl" / "deliveries.json").read_text())
        assert [k.rsplit("|", 1)[1] for k in record["claims"]] == ["pager"]
        assert "::warning" not in result.err  # an annotation only where GitHub shows it
        monkeypatch.setenv("GITHUB_ACTIONS", "true")  # the reminders job, and the watcher
        for args in (["overdue", "--post"], ["watch", "--once"]):
            again = cli(*args, "--now", "2026-11-27T15:03:00Z")
            assert "::warning title=sinks::1 alert(s) not delivered to down;" in again.err
        assert len(sink.received) == 1
    finally:
        down.stop()


# -- the record: local file, and a bare remote raced by two deliverers --
def test_the_local_record_claims_each_key_once(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    record = LocalRecord(root, tmp_path / "deliveries.json")
    assert record.claim(["a", "b"], T0) == ({"a", "b"}, set())
    assert record.claim(["b", "c"], T0) == ({"c"}, set())
    record.settle({"a": "sent", "b": "maybe"}, ["c"], T0, current=["a", "b", "c"])
    assert record.claim(["c"], T0) == ({"c"}, set())
    later = T0 + timedelta(minutes=10)  # c was never settled: its claimant died
    assert record.claim(["a", "b", "c"], later) == (set(), {"c"})
    assert record.claim(["c"], later + timedelta(minutes=10)) == (set(), set())  # once only
    record.beat(T0, 30)
    state = State.parse((tmp_path / "deliveries.json").read_bytes())
    assert set(state.claims) == {"a", "b", "c"}
    assert state.heartbeat is not None
    assert state.heartbeat.at == T0
    assert state.heartbeat.interval == 30


def test_the_record_forgets_a_week_old_claim_no_alert_names_any_more(tmp_path: Path) -> None:
    """The record is fetched every turn and pushed whole: a claim is forgotten once a week
    has passed since its last mark and the round's alerts no longer name it (its repeat
    slot is over). A key still named, however old, and a recent one are kept, so nothing
    is ever sent twice."""
    root = tmp_path / "r"
    root.mkdir()
    path = tmp_path / "deliveries.json"
    record = LocalRecord(root, path)
    record.claim(["old-slot", "still-overdue", "recent", "unsettled"], T0)
    record.settle({"old-slot": "sent", "still-overdue": "sent", "recent": "maybe"}, [], T0,
                  current=["old-slot", "still-overdue", "recent", "unsettled"])  # fmt: skip
    week = T0 + FORGET_AFTER
    record.claim(["recent"], week - timedelta(minutes=1))  # claimed before: no change
    record.settle({"recent": "sent"}, [], week - timedelta(minutes=1), current=["recent"])
    record.claim(["new"], week)
    record.settle({"new": "sent"}, [], week, current=["new", "still-overdue"])
    claims = State.parse(path.read_bytes()).claims
    assert sorted(claims) == ["new", "recent", "still-overdue"]
    assert record.claim(["still-overdue", "recent"], week) == (set(), set())
    assert record.claim(["old-slot"], week) == ({"old-slot"}, set())  # forgotten: a new key


def _clone(bare: Path, where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(bare), str(where)], check=True,
                   env={**os.environ, **GIT_ENV})  # fmt: skip
    return where


def test_two_deliverers_racing_against_one_bare_remote_deliver_once(
    repo: Path, tmp_path: Path, sink: Sink
) -> None:
    notifications(repo)
    env = {**os.environ, **GIT_ENV, "INCIDENTCTL_ACTOR": "@tester"}
    subprocess.run(
        [str(INCIDENTCTL), "declare", "--title", "Checkout returns 502", "--impact", "high",
         "--urgency", "high", "--services", "example-service", "--at", "2026-11-27T15:00:00Z",
         "--now", "2026-11-27T15:00:00Z"],
        cwd=repo, env=env, check=True, capture_output=True,
    )  # fmt: skip
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "P0")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    clones = [_clone(bare, tmp_path / f"runner-{n}") for n in range(4)]
    racers = [
        subprocess.Popen(
            [str(INCIDENTCTL), "overdue", "--post", "--now", "2026-11-27T15:02:00Z"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone in clones
    ]
    outputs = [r.communicate(timeout=120) for r in racers]
    assert [r.returncode for r in racers] == [1, 1, 1, 1], outputs
    assert len(sink.received) == 1, outputs
    assert sum("sent to pager" in err for _out, err in outputs) == 1
    shown = subprocess.run(["git", "show", f"{RECORD_REF}:deliveries.json"], cwd=bare,
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert len(json.loads(shown.stdout)["claims"]) == 1


# -- the real thing: a watcher on the wall clock, SIGTERM, a restart --
def _watcher(repo: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(INCIDENTCTL), "watch", "--interval", "2s"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[str], seen: str = "") -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "stopped after" in err
    return seen + out, err


def _turns(process: subprocess.Popen[str], count: int, *, timeout: float) -> list[str]:
    """The watcher's turn lines ("... overdue ..."), read as they come until `count` of them
    (or `timeout` seconds): a wait on what the watcher did, not on the clock."""
    assert process.stdout is not None
    turns: list[str] = []
    deadline = time.monotonic() + timeout
    while len(turns) < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if "overdue" in line:
            turns.append(line)
    return turns


def test_a_real_watcher_delivers_a_p0_acknowledgement_breach_once_across_a_restart(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo)
    detected = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=56)
    result = cli(
        "declare", "--title", "Checkout returns 502", "--impact", "high", "--urgency", "high",
        "--services", "example-service", "--at", detected.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip
    incident = result.out.strip()  # its acknowledgement is due in about 4 s
    env = {**os.environ, **GIT_ENV, "INCIDENTCTL_ACTOR": "@tester"}
    env.pop("INCIDENTCTL_NOW", None)
    watcher = _watcher(repo, env)
    deadline = time.monotonic() + 90  # generous: the delay itself is measured in bench/
    while not sink.received and time.monotonic() < deadline:
        time.sleep(0.1)
    _stop(watcher)
    assert sink.titles() == [f"Overdue: {incident} acknowledge (P0)"]
    again = _watcher(repo, env)
    turns = _turns(again, 2, timeout=90)  # two more turns at least, however slow the machine
    out, _err = _stop(again, "".join(turns))
    assert len(turns) >= 2, out
    assert len(sink.received) == 1


def test_a_deadline_exactly_now_is_the_next_one_to_wake_for(cli: Invoke, repo: Path) -> None:
    """Due at now is not overdue yet: the watcher must wake one second later, not skip it
    until the deadline after (bench/watch_delay.py found deadlines a second apart 3 s late)."""
    p0(cli)  # acknowledgement due 15:01:00
    result = cli("watch", "--once", "--now", "2026-11-27T15:01:00Z", "--dry-run")
    assert result.code == 0, result.err
    assert "0 sent" in result.out  # the acknowledgement is not overdue yet
    assert "next deadline 2026-11-27T15:01:00Z" in result.out


def test_watch_posts_to_the_tracking_issue_and_the_sinks_alike(
    cli: Invoke, repo: Path, sink: Sink, api: Any
) -> None:
    """With GitHub configured the tracking issue is one sink among several: the same breach
    reaches both, each once, the issue's comments being its own record."""
    notifications(repo)
    incident = p0(cli)
    first = cli("watch", "--once", "--now", "2026-11-27T15:02:00Z")
    assert first.code == 0, first.err
    (issue,) = api.issues("incident")
    acks = [c for c in api.comments_on(issue["number"]) if "|acknowledge|" in c["body"]]
    assert len(acks) == 1
    assert sink.titles() == [f"Overdue: {incident} acknowledge (P0)"]
    comments = len(api.state.comments)
    assert cli("watch", "--once", "--now", "2026-11-27T15:02:30Z").code == 0
    assert len(api.state.comments) == comments
    assert len(sink.received) == 1
    (message,) = sink.received
    assert f"/blob/main/incidents/2026/11/{incident}/incident.md" in message["message"]


def test_dry_runs_say_what_would_be_sent_and_claim_nothing(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo)
    incident = p0(cli)
    result = cli("overdue", "--post", "--dry-run", "--now", "2026-11-27T15:02:00Z")
    assert f"would send to pager: Overdue: {incident} acknowledge (P0)" in result.err
    watched = cli("watch", "--once", "--dry-run", "--now", "2026-11-27T15:02:00Z")
    assert "would send to pager" in watched.err
    assert sink.received == []
    assert not (repo / ".git" / "incidentctl" / "deliveries.json").exists()
    assert cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z").code == 1
    assert len(sink.received) == 1


def test_the_reminders_job_says_loudly_when_github_will_disable_its_schedule(
    cli: Invoke, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # the repository's last commit: 2026-11-27
    soon = cli("overdue", "--post", "--dry-run", "--now", "2027-01-20T00:00:00Z")
    assert "::warning title=schedule::no commit since 2026-11-27T12:00:00Z" in soon.err
    assert "the reminders schedule stops at 2027-01-26T12:00:00Z" in soon.err
    late = cli("overdue", "--post", "--dry-run", "--now", "2027-02-01T00:00:00Z")
    assert "the reminders schedule stopped at" in late.err
    fine = cli("overdue", "--post", "--dry-run", "--now", "2026-12-20T00:00:00Z")
    assert "title=schedule" not in fine.err


def test_watch_refuses_a_replayed_clock_without_once(cli: Invoke) -> None:
    result = cli("watch", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 2
    assert "--now (or INCIDENTCTL_NOW) goes with --once" in result.err
    assert cli("watch", "--interval", "0s", "--once").code == 2


def test_a_claim_whose_claimant_died_is_taken_over_and_sent_as_the_marked_repeat(
    cli: Invoke, repo: Path, sink: Sink
) -> None:
    notifications(repo)
    incident = p0(cli)
    key = f"{incident}|acknowledge||2026-11-27T15:01:00Z|0|pager"
    record = repo / ".git" / "incidentctl" / "deliveries.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    claims = {key: {"at": "2026-11-27T15:02:00Z", "by": "runner-7 pid 42"}}
    record.write_text(json.dumps({"version": 1, "claims": claims}))
    soon = cli("overdue", "--post", "--now", "2026-11-27T15:04:00Z")
    assert soon.code == 1, soon.err
    assert sink.received == []  # two minutes: its claimant may still be sending
    late = cli("overdue", "--post", "--now", "2026-11-27T15:08:00Z")
    assert "stopped before settling it" in late.err
    assert sink.titles() == [f"[repeat] Overdue: {incident} acknowledge (P0)"]
    assert "may have arrived" in sink.received[0]["message"]
    cli("overdue", "--post", "--now", "2026-11-27T15:20:00Z")
    assert len(sink.received) == 1
    entry = json.loads(record.read_text())["claims"][key]
    assert entry["taken"] == "runner-7 pid 42"
    assert "sent" in entry
