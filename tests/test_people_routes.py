"""Routes that reach the people who must act, per person and per channel: a rotation resolved
to whoever is on call, people.yaml giving their address on each channel (from the
environment), loopback HTTP sinks that apprise posts to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Invoke, declare
from tests.test_watch import Sink

SCHEDULE = """\
rotations:
  - name: primary
    timezone: Europe/Berlin
    start: 2026-11-02T09:00:00+01:00
    rrule: FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0
    members: ['@alice', '@bob', '@carol']
overrides: {overrides}
"""

PEOPLE = """\
people:
  '@alice': {slack: U0ALICE, pager: '127.0.0.1:${ALICE_PORT}'}
  '@bob': {pager: '127.0.0.1:${BOB_PORT}'}
"""

NOTIFICATIONS = """\
sinks:
  - name: chat
    url: json://127.0.0.1:${CHAT_PORT}/?rto=1
    channel: slack
  - name: pager
    url: json://{address}/?rto=1
    channel: pager
routes:
  - priorities: [P0]
    rules: [acknowledge]
    sinks: [chat]
    people: [pager]
  - sinks: []
"""


@pytest.fixture
def sinks(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Sink]]:
    found = {name: Sink() for name in ("chat", "alice", "bob")}
    for name, sink in found.items():
        monkeypatch.setenv(f"{name.upper()}_PORT", str(sink.port))
    monkeypatch.setenv("INCIDENTCTL_SINK_BACKOFF", "0.01")
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    yield found
    for sink in found.values():
        sink.stop()


def _policies(repo: Path, overrides: str = "[]") -> None:
    escalation = repo / "policies/escalation.yaml"
    escalation.write_text(
        escalation.read_text(encoding="utf-8").replace(
            'tier-1: {primary: "@example-org/oncall", backup: "@example-org/sre"}',
            'tier-1: {primary: "rotation:primary", backup: null}',
        ),
        encoding="utf-8",
    )
    (repo / "policies/oncall.yaml").write_text(
        SCHEDULE.format(overrides=overrides), encoding="utf-8"
    )
    (repo / "policies/people.yaml").write_text(PEOPLE, encoding="utf-8")
    (repo / "policies/notifications.yaml").write_text(NOTIFICATIONS, encoding="utf-8")


def _messages(sink: Sink) -> list[str]:
    return [str(m["message"]) for m in sink.received]


def test_the_person_on_call_is_paged_at_their_own_address_and_mentioned_in_chat(
    cli: Invoke, repo: Path, sinks: dict[str, Sink]
) -> None:
    _policies(repo)
    incident = declare(cli, at="2026-11-27T15:00:00Z")  # P0: acknowledge due 15:01
    result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 1, result.err
    (chat,) = _messages(sinks["chat"])
    assert "Who must act: <@U0ALICE>" in chat  # a Slack member ID: a mention
    (page,) = _messages(sinks["alice"])  # her pager address, from ALICE_PORT
    assert "Who must act: @alice" in page
    assert f"Do: Acknowledge now: incidentctl ack {incident}" in page
    assert sinks["bob"].received == []
    assert f"sent to pager (@alice): Overdue: {incident} acknowledge (P0)" in result.err
    again = cli("overdue", "--post", "--now", "2026-11-27T15:03:00Z")
    assert again.code == 1
    assert len(sinks["alice"].received) == 1  # once per breach and person


def test_an_override_during_the_incident_pages_the_stand_in_at_once(
    cli: Invoke, repo: Path, sinks: dict[str, Sink]
) -> None:
    _policies(repo)
    declare(cli, at="2026-11-27T15:00:00Z")
    assert cli("overdue", "--post", "--repeat", "5m", "--now", "2026-11-27T15:02:00Z").code == 1
    # bob takes the pager from 15:05; the next repeat (15:12, slot 2) reaches him, not alice
    _policies(repo, "[{rotation: primary, who: '@bob', from: 2026-11-27T15:05:00Z, "
                    "to: 2026-11-28T06:00:00Z}]")  # fmt: skip
    assert cli("overdue", "--post", "--repeat", "5m", "--now", "2026-11-27T15:12:00Z").code == 1
    assert len(sinks["alice"].received) == 1
    (page,) = _messages(sinks["bob"])
    assert "Who must act: @bob" in page
    assert "Who must act: @bob" in _messages(sinks["chat"])[1]  # no Slack ID: the handle


def test_a_person_whose_address_variable_is_unset_is_retried_later(
    cli: Invoke, repo: Path, sinks: dict[str, Sink], monkeypatch: pytest.MonkeyPatch
) -> None:
    _policies(repo)
    monkeypatch.delenv("ALICE_PORT")
    declare(cli, at="2026-11-27T15:00:00Z")
    result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 1
    assert len(sinks["chat"].received) == 1  # the channel still hears of it
    assert sinks["alice"].received == []  # no address for her on the pager channel: none
    monkeypatch.setenv("ALICE_PORT", str(sinks["alice"].port))
    assert cli("overdue", "--post", "--now", "2026-11-27T15:03:00Z").code == 1
    assert len(sinks["alice"].received) == 1
    assert len(sinks["chat"].received) == 1


def test_person_sinks_are_checked(cli: Invoke, repo: Path) -> None:
    notifications = repo / "policies/notifications.yaml"
    notifications.write_text(
        "sinks:\n  - name: pager\n    url: json://{address}/\n", encoding="utf-8"
    )
    result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 2
    assert "sink pager: {address} in the URL needs a `channel`" in result.err
    notifications.write_text(
        "sinks:\n  - name: pager\n    url: json://{address}/\n    channel: sms\n"
        "routes:\n  - sinks: [pager]\n",
        encoding="utf-8",
    )
    result = cli("overdue", "--post", "--now", "2026-11-27T15:02:00Z")
    assert result.code == 2
    assert "pager: a person sink ({address} in its URL) goes under a route's `people:`" in (
        result.err
    )


def test_validate_warns_of_a_member_the_person_sink_cannot_page(cli: Invoke, repo: Path) -> None:
    _policies(repo)  # @carol has no pager address; @bob's comes from the environment
    result = cli("validate", "--format", "json")
    assert result.code == 0, result.out
    found = [
        (f["line"], f["field"], f["message"], f["severity"])
        for f in json.loads(result.out)["findings"]
        if f["rule"] == "oncall"
    ]
    assert found == [
        (6, "rotations[0].members[2]",
         "rotation primary: @carol has no pager address in people.yaml, so the pager sink "
         "cannot page them", "warning"),
    ]  # fmt: skip
