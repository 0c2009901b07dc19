"""`incidentctl intake serve`: a real receiver process (uvicorn) on 127.0.0.1, driven by a
real HTTP client (the standard library's), committing into a real git repository."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from incidentctl.store import locks
from tests.conftest import GIT_ENV, Invoke, git

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "test-token-0123456789"
NOW = "2026-11-27T16:00:00Z"


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    def post(
        self, source: str, body: bytes, headers: dict[str, str] | None = None, *, token: bool = True
    ) -> tuple[int, Any]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent.setdefault("Authorization", f"Bearer {TOKEN}")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", f"/hooks/{source}", body=body, headers=sent)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def health(self) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/healthz")
            data: dict[str, Any] = json.loads(connection.getresponse().read())
            return data
        finally:
            connection.close()

    def wait_for(self, condition: Any, what: str, limit: float = 60.0) -> None:
        """Poll until `condition()` holds (a deadline against a hang, not a measurement)."""
        deadline = time.monotonic() + limit
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}; log: {self.lines}")
            time.sleep(0.02)

    def deliveries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith('{"at"')]


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, **GIT_ENV, "INCIDENTCTL_INTAKE_TOKEN": TOKEN, "INCIDENTCTL_NOW": NOW}
    env.pop("INCIDENTCTL_ACTOR", None)
    env.update(extra)
    return env


def start(repo: Path, *args: str, **env: str) -> Receiver:
    process = subprocess.Popen(
        [sys.executable, "-m", "incidentctl", "intake", "serve", "--port", "0", *args],
        cwd=repo,
        env=environment(**env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    if "listening on http://127.0.0.1:" not in first:
        process.kill()
        raise AssertionError(first + process.stderr.read())
    port = int(first.split("127.0.0.1:")[1].split()[0])
    receiver = Receiver(process, port)

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            receiver.lines.append(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return receiver


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        if receiver.process.poll() is None:
            receiver.process.terminate()
            receiver.process.wait(timeout=30)


def serve(receivers: list[Receiver], repo: Path, *args: str, **env: str) -> Receiver:
    receiver = start(repo, "--by", "@alertbot", *args, **env)
    receivers.append(receiver)
    return receiver


def commits(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%an|%s").splitlines()


def incident_files(repo: Path) -> list[Path]:
    return sorted(repo.glob("incidents/*/*/*/incident.md"))


ALERT = (PAYLOADS / "alertmanager-v4.json").read_bytes()


def test_a_delivery_is_committed_before_the_answer(repo: Path, receivers: list[Receiver]) -> None:
    receiver = serve(receivers, repo)
    status, body = receiver.post("alertmanager", ALERT)
    assert status == 200
    assert body["action"] == "declared"
    # the answer came after the commit: it is there now, by the receiver's identity
    author, subject = commits(repo)[0].split("|", 1)
    assert author == "@alertbot"
    assert subject.startswith(f"{body['incident']}: declared from alertmanager")
    assert not git(repo, "status", "--porcelain")
    assert receiver.health() == {"ok": True, "unpushed": 1, "in_flight": 0, "push": False}
    (line,) = receiver.deliveries()
    assert line["source"] == "alertmanager"
    assert line["group"] == '{}/{service="checkout-api"}:{alertname="CheckoutHighErrorRate"}'
    assert line["action"] == "declared"
    assert line["incident"] == body["incident"]
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    # the same alert again: the same incident, nothing committed
    status, again = receiver.post("alertmanager", ALERT)
    assert (status, again["action"], again["incident"]) == (200, "ignored", body["incident"])
    assert len(commits(repo)) == 2  # init and the declaration


def test_authentication_refused(repo: Path, receivers: list[Receiver]) -> None:
    receiver = serve(receivers, repo)
    before = commits(repo)
    assert receiver.post("alertmanager", ALERT, token=False) == (
        401,
        {"error": "missing or wrong bearer token"},
    )
    wrong = {"Authorization": "Bearer not-the-token"}
    assert receiver.post("alertmanager", ALERT, wrong)[0] == 401
    assert receiver.post("alertmanager", ALERT, {"Authorization": TOKEN})[0] == 401  # no scheme
    assert commits(repo) == before
    assert not incident_files(repo)


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _pagerduty_body() -> bytes:
    data = json.loads((PAYLOADS / "pagerduty-v3-docs.json").read_text(encoding="utf-8"))
    data["event"]["event_type"] = "incident.triggered"
    return json.dumps(data).encode()


def test_signatures_refused_and_accepted(repo: Path, receivers: list[Receiver]) -> None:
    webhook_key = b"standard-webhooks-test-key-32byt"
    receiver = serve(
        receivers,
        repo,
        INCIDENTCTL_PAGERDUTY_SECRET="pd-secret",
        INCIDENTCTL_SENTRY_SECRET="sentry-secret",
        INCIDENTCTL_WEBHOOK_SECRET="whsec_" + base64.b64encode(webhook_key).decode(),
    )
    body = _pagerduty_body()
    # PagerDuty: the token alone is not enough once its secret is set
    assert receiver.post("pagerduty", body)[1] == {"error": "missing X-PagerDuty-Signature"}
    bad = {"X-PagerDuty-Signature": "v1=" + _hex("another-secret", body)}
    assert receiver.post("pagerduty", body, bad) == (
        401,
        {"error": "X-PagerDuty-Signature does not verify"},
    )
    # several signatures while a secret rotates: one that verifies is enough
    good = {"X-PagerDuty-Signature": f"v1={_hex('old', body)},v1={_hex('pd-secret', body)}"}
    assert receiver.post("pagerduty", body, good)[0] == 200
    # Sentry cannot send a header: its signature stands in for the token
    sentry = (PAYLOADS / "sentry-issue-alert-docs.json").read_bytes()
    forged = {"Sentry-Hook-Signature": _hex("guess", sentry)}
    assert receiver.post("sentry", sentry, forged, token=False)[0] == 401
    signed = {"Sentry-Hook-Signature": _hex("sentry-secret", sentry)}
    assert receiver.post("sentry", sentry, signed, token=False)[0] == 200
    # Standard Webhooks on the generic source
    generic = json.dumps({"dedup_key": "k1", "status": "firing", "title": "Queue stuck"}).encode()
    # the receiver's clock is $INCIDENTCTL_NOW here (the one clock of incidentctl)
    stamp = str(int(datetime.fromisoformat(NOW).timestamp()))

    def standard(key: bytes, when: str) -> dict[str, str]:
        digest = hmac.new(key, f"msg_1.{when}.".encode() + generic, hashlib.sha256).digest()
        return {
            "webhook-id": "msg_1",
            "webhook-timestamp": when,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        }

    assert receiver.post("generic", generic, standard(b"wrong", stamp)) == (
        401,
        {"error": "webhook-signature does not verify"},
    )
    old = str(int(stamp) - 3600)
    assert "replay" in receiver.post("generic", generic, standard(webhook_key, old))[1]["error"]
    assert receiver.post("generic", generic, standard(webhook_key, stamp))[0] == 200
    assert len(incident_files(repo)) == 3  # the three accepted deliveries only


def test_oversize_and_unreadable(repo: Path, receivers: list[Receiver]) -> None:
    receiver = serve(receivers, repo)
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    assert receiver.post("alertmanager", big) == (413, {"error": "payload over 1,048,576 bytes"})
    status, body = receiver.post("alertmanager", b"{not json")
    assert status == 400
    assert "not JSON" in body["error"]
    status, body = receiver.post("alertmanager", b'{"status": "firing", "alerts": []}')
    assert status == 400
    assert "groupKey: missing" in body["error"]
    assert receiver.post("nagios", ALERT)[0] == 404
    assert not incident_files(repo)
    assert len(commits(repo)) == 1


def test_ten_concurrent_deliveries_of_one_group_make_one_incident(
    repo: Path, receivers: list[Receiver]
) -> None:
    receiver = serve(receivers, repo)
    start_line = threading.Barrier(10)

    def deliver(_: int) -> tuple[int, Any]:
        start_line.wait()
        return receiver.post("alertmanager", ALERT)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(deliver, range(10)))
    assert [status for status, _ in answers] == [200] * 10
    actions = sorted(body["action"] for _, body in answers)
    assert actions == ["declared"] + ["ignored"] * 9
    assert len({body["incident"] for _, body in answers}) == 1
    assert len(incident_files(repo)) == 1
    assert len(commits(repo)) == 2
    assert not git(repo, "status", "--porcelain")


def test_sigterm_mid_delivery_leaves_the_repository_consistent(
    repo: Path, receivers: list[Receiver], cli: Invoke
) -> None:
    receiver = serve(receivers, repo)
    answer: list[tuple[int, Any]] = []
    # hold the intake lock, so the delivery is in flight (waiting for it) when SIGTERM comes
    with locks.hold(repo, repo / "incidents" / "intake"):
        sender = threading.Thread(
            target=lambda: answer.append(receiver.post("alertmanager", ALERT))
        )
        sender.start()
        receiver.wait_for(lambda: receiver.health()["in_flight"] == 1, "the delivery in flight")
        receiver.process.send_signal(signal.SIGTERM)
    sender.join(timeout=60)
    # uvicorn answers what is in flight, stops, then re-raises SIGTERM (the exit says so)
    assert receiver.process.wait(timeout=60) == -signal.SIGTERM
    ((status, body),) = answer
    assert status == 200
    assert body["action"] == "declared"
    assert len(incident_files(repo)) == 1
    assert len(commits(repo)) == 2
    assert not git(repo, "status", "--porcelain")  # written and committed, nothing half-done
    result = cli("validate")
    assert "[reference]" in result.out  # the unknown service, and nothing else wrong
    assert result.out.count("error:") == 1


def _origin(repo: Path) -> Path:
    bare = repo.parent / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return bare


def test_push_in_the_background(repo: Path, receivers: list[Receiver]) -> None:
    bare = _origin(repo)
    receiver = serve(receivers, repo, "--push")
    status, body = receiver.post("alertmanager", ALERT)
    assert status == 200
    receiver.wait_for(lambda: receiver.health()["unpushed"] == 0, "the push")
    assert git(bare, "log", "-1", "--format=%s", "main").startswith(body["incident"])


def test_a_rejected_push_resets_and_applies_the_delivery_again(
    repo: Path, receivers: list[Receiver], tmp_path: Path
) -> None:
    """Another receiver (a clone) declared the same alert group and pushed first: after the
    rejection this one fetches, resets and applies its delivery again, and dedupe sees the
    other's incident: the remote holds one incident for the group, never two."""
    bare = _origin(repo)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(bare), str(other)], check=True, env=environment())
    env = environment(INCIDENTCTL_ACTOR="@other-receiver")
    subprocess.run(
        [sys.executable, "-m", "incidentctl", "intake", str(PAYLOADS / "alertmanager-v4.json"),
         "--source", "alertmanager"],
        cwd=other, env=env, check=True, capture_output=True,
    )  # fmt: skip
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "declared by the other receiver")
    git(other, "push", "-q", "origin", "main")
    receiver = serve(receivers, repo, "--push")
    status, body = receiver.post("alertmanager", ALERT)
    assert (status, body["action"]) == (200, "declared")  # locally: it has not seen the other
    receiver.wait_for(lambda: receiver.health()["unpushed"] == 0, "the push after the reset")
    receiver.wait_for(
        lambda: any(line.startswith('{"again"') for line in receiver.lines), "the log lines"
    )
    assert any('"push": "rejected"' in line for line in receiver.lines)
    (again,) = [json.loads(line) for line in receiver.lines if line.startswith('{"again"')]
    assert (again["status"], again["action"]) == (200, "ignored")  # the other's incident seen
    remote = git(bare, "ls-tree", "-r", "--name-only", "main", "incidents").split()
    assert len([p for p in remote if p.endswith("incident.md")]) == 1
    assert git(repo, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")


def test_refuses_to_start_without_identity_or_token(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INCIDENTCTL_ACTOR", raising=False)
    monkeypatch.setenv("INCIDENTCTL_INTAKE_TOKEN", TOKEN)
    result = cli("intake", "serve", "--port", "0")
    assert result.code == 2
    assert "--by" in result.err
    monkeypatch.delenv("INCIDENTCTL_INTAKE_TOKEN")
    result = cli("intake", "serve", "--port", "0", "--by", "@alertbot")
    assert result.code == 2
    assert "INCIDENTCTL_INTAKE_TOKEN is not set" in result.err


def test_a_restarted_receiver_pushes_what_the_last_one_could_not(
    repo: Path, receivers: list[Receiver]
) -> None:
    """The remote is unreachable: the delivery is committed and answered, the push fails and
    is kept; after SIGTERM and a restart with the remote back, it is pushed."""
    bare = _origin(repo)
    git(repo, "remote", "set-url", "origin", str(repo.parent / "nowhere.git"))
    receiver = serve(receivers, repo, "--push")
    status, body = receiver.post("alertmanager", ALERT)
    assert status == 200
    receiver.wait_for(lambda: any('"push": "failed"' in line for line in receiver.lines), "fail")
    assert receiver.health()["unpushed"] == 1
    receiver.process.send_signal(signal.SIGTERM)
    receiver.process.wait(timeout=60)
    git(repo, "remote", "set-url", "origin", str(bare))
    again = serve(receivers, repo, "--push")
    again.wait_for(lambda: again.health()["unpushed"] == 0, "the push after the restart")
    assert git(bare, "log", "-1", "--format=%s", "main").startswith(body["incident"])
    assert len(incident_files(repo)) == 1
