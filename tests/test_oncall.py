"""On-call schedules (policies/oncall.yaml): hand-offs at local time across both DST changes,
overrides at their edges, contacts naming a rotation, the backup paged, what is live."""

from __future__ import annotations

import json
from pathlib import Path

from incidentctl.core.people import People, Recipient, recipients
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, declare
from tests.githubdouble import GitHubDouble

WEEKLY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"


def _schedule(repo: Path, start: str, overrides: str = "[]", extra: str = "") -> None:
    (repo / "policies/oncall.yaml").write_text(
        "rotations:\n"
        "  - name: primary\n"
        "    timezone: Europe/Berlin\n"
        f"    start: {start}\n"
        f"    rrule: {WEEKLY}\n"
        "    members: ['@alice', '@bob', '@carol']\n"
        "  - name: secondary\n"
        "    timezone: Europe/Berlin\n"
        f"    start: {start}\n"
        f"    rrule: {WEEKLY}\n"
        "    members: ['@erin', '@frank']\n"
        f"overrides: {overrides}\n{extra}",
        encoding="utf-8",
    )


def _oncall(cli: Invoke, at: str) -> dict[str, dict[str, object]]:
    result = cli("oncall", "--at", at, "--format", "json", "--now", NOW)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["at"] == at
    return {r["name"]: r for r in data["rotations"]}


def test_spring_change_keeps_the_hand_off_at_nine_local(cli: Invoke, repo: Path) -> None:
    # Berlin moves from +01:00 to +02:00 on 2026-03-29: Monday 09:00 is 08:00Z, then 07:00Z
    _schedule(repo, "2026-03-23T09:00:00+01:00")
    assert _oncall(cli, "2026-03-23T07:59:59Z")["primary"]["on_call"] is None
    first = _oncall(cli, "2026-03-23T08:00:00Z")["primary"]
    assert first == {
        "name": "primary", "on_call": "@alice", "since": "2026-03-23T08:00:00Z",
        "until": "2026-03-30T07:00:00Z", "next": "@bob", "override": False,
    }  # fmt: skip
    assert _oncall(cli, "2026-03-30T06:59:59Z")["primary"]["on_call"] == "@alice"
    assert _oncall(cli, "2026-03-30T07:00:00Z")["primary"]["on_call"] == "@bob"


def test_autumn_change_keeps_the_hand_off_at_nine_local(cli: Invoke, repo: Path) -> None:
    # start written with +02:00: without the time zone every hand-off after 2026-10-25
    # would come at 10:00 local (08:00Z would be 07:00Z)
    _schedule(repo, "2026-10-05T09:00:00+02:00")
    shift = _oncall(cli, "2026-10-20T12:00:00Z")["primary"]
    assert (shift["on_call"], shift["until"], shift["next"]) == (
        "@carol", "2026-10-26T08:00:00Z", "@alice",
    )  # fmt: skip
    assert _oncall(cli, "2026-10-26T07:59:59Z")["primary"]["on_call"] == "@carol"
    after = _oncall(cli, "2026-10-26T08:00:00Z")["primary"]
    assert (after["on_call"], after["since"], after["until"]) == (
        "@alice", "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z",
    )  # fmt: skip
    text = cli("oncall", "--at", "2026-10-26T08:00:00Z", "--now", NOW)
    assert "primary    @alice   2026-10-26 09:00 CET  2026-11-02 09:00 CET  @bob" in text.out


OVERRIDE = (
    "[{rotation: primary, who: '@dave', from: 2026-10-21T18:00:00Z, to: 2026-10-22T06:00:00Z}]"
)


def test_an_override_holds_from_inclusive_to_exclusive(cli: Invoke, repo: Path) -> None:
    _schedule(repo, "2026-10-05T09:00:00+02:00", OVERRIDE)
    before = _oncall(cli, "2026-10-21T17:59:59Z")["primary"]
    assert (before["on_call"], before["until"], before["next"]) == (
        "@carol", "2026-10-21T18:00:00Z", "@dave",
    )  # fmt: skip
    at_from = _oncall(cli, "2026-10-21T18:00:00Z")["primary"]
    assert at_from == {
        "name": "primary", "on_call": "@dave", "since": "2026-10-21T18:00:00Z",
        "until": "2026-10-22T06:00:00Z", "next": "@carol", "override": True,
    }  # fmt: skip
    assert _oncall(cli, "2026-10-22T05:59:59Z")["primary"]["on_call"] == "@dave"
    at_to = _oncall(cli, "2026-10-22T06:00:00Z")["primary"]
    assert (at_to["on_call"], at_to["since"], at_to["until"]) == (
        "@carol", "2026-10-22T06:00:00Z", "2026-10-26T08:00:00Z",
    )  # fmt: skip
    assert _oncall(cli, "2026-10-21T20:00:00Z")["secondary"]["override"] is False


def _contacts(repo: Path) -> None:
    text = (repo / "policies/escalation.yaml").read_text(encoding="utf-8")
    text = text.replace(
        'tier-1: {primary: "@example-org/oncall", backup: "@example-org/sre"}',
        'tier-1: {primary: "rotation:primary", backup: "rotation:secondary"}',
    )
    (repo / "policies/escalation.yaml").write_text(text, encoding="utf-8")


def test_a_contact_naming_a_rotation_reaches_who_is_on_call(cli: Invoke, repo: Path) -> None:
    _schedule(repo, "2026-11-02T09:00:00+01:00")  # @alice, @bob, @carol from 2026-11-02
    _contacts(repo)
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    data = json.loads(cli("overdue", "--now", NOW, "--format", "json").out)
    ack = next(f for f in data["findings"] if f["rule"] == "acknowledge")
    assert ack["incident"] == incident_id
    assert ack["who"] == ["@alice"]  # week 4 of three members: alice again, not rotation:...
    assert cli("validate").code == 0


def test_an_override_during_an_incident_applies_at_once_the_timers_do_not(
    cli: Invoke, repo: Path
) -> None:
    _schedule(repo, "2026-11-02T09:00:00+01:00")
    _contacts(repo)
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    before = cli("deadlines", incident_id, "--now", NOW, "--format", "json")
    due = {d["rule"]: d["due"] for d in json.loads(before.out)["deadlines"]}
    # during the incident: the SLA file changes (frozen for it) and @dave takes the pager
    sla = repo / "policies/sla.yaml"
    text = sla.read_text(encoding="utf-8")
    assert "acknowledge: 1m" in text
    sla.write_text(text.replace("acknowledge: 1m", "acknowledge: 50m", 1), encoding="utf-8")
    assert cli("deadlines", incident_id, "--now", NOW, "--format", "json").code == 0
    _schedule(
        repo,
        "2026-11-02T09:00:00+01:00",
        "[{rotation: primary, who: '@dave', from: 2026-11-27T15:30:00Z, to: 2026-11-28T06:00:00Z}]",
    )
    after = cli("deadlines", incident_id, "--now", NOW, "--format", "json")
    assert {d["rule"]: d["due"] for d in json.loads(after.out)["deadlines"]} == due
    data = json.loads(cli("overdue", "--now", NOW, "--format", "json").out)
    ack = next(f for f in data["findings"] if f["rule"] == "acknowledge")
    assert ack["who"] == ["@dave"]


def test_an_unanswered_reminder_reaches_the_backup(
    cli: Invoke, repo: Path, api: GitHubDouble
) -> None:
    _schedule(repo, "2026-11-02T09:00:00+01:00", extra="page_backup_after: 1\n")
    _contacts(repo)
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    assert cli("overdue", "--now", NOW, "--post", "--repeat", "30m").code == 1
    (issue,) = api.issues("incident")
    assert cli("overdue", "--now", "2026-11-27T16:31:00Z", "--post", "--repeat", "30m").code == 1
    bodies = [c["body"] for c in api.comments_on(issue["number"])]
    engage = [b for b in bodies if f"{incident_id}|engage|" in b]
    assert len(engage) == 2
    assert "@alice" in engage[0]
    assert "Escalation path blocked" not in engage[0]
    # one unanswered reminder (page_backup_after: 1): secondary's @frank (week 4) is paged
    assert "Escalation path blocked: no answer after 1 reminders. Backup: @frank" in engage[1]


def test_validate_checks_the_schedule(cli: Invoke, repo: Path) -> None:
    (repo / "policies/oncall.yaml").write_text(
        "rotations:\n"
        "  - name: primary\n"
        "    timezone: Europe/Berlin\n"
        "    start: 2026-10-05T09:00:00+02:00\n"
        "    rrule: FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\n"
        "    members: ['@alice', bob]\n"
        "overrides:\n"
        "  - {rotation: primry, who: '@dave', from: 2026-10-21T18:00Z, to: 2026-10-22T06:00Z}\n"
        "  - {rotation: primary, who: '@dave', from: 2026-10-21T18:00Z, to: 2026-10-22T06:00Z}\n"
        "  - {rotation: primary, who: '@erin', from: 2026-10-22T05:00Z, to: 2026-10-22T07:00Z}\n"
        "  - {rotation: primary, who: '@erin', from: 2026-10-22T07:00Z, to: 2026-10-22T08:00Z}\n",
        encoding="utf-8",
    )
    escalation = repo / "policies/escalation.yaml"
    escalation.write_text(
        escalation.read_text(encoding="utf-8").replace(
            "@example-org/incident-commanders", "rotation:commanders"
        ),
        encoding="utf-8",
    )
    result = cli("validate", "--format", "json")
    assert result.code == 1
    found = {
        (f["path"], f["line"], f["field"], f["message"])
        for f in json.loads(result.out)["findings"]
        if f["rule"] == "oncall"
    }
    line = next(
        i
        for i, text in enumerate(escalation.read_text(encoding="utf-8").splitlines(), 1)
        if "rotation:commanders" in text
    )
    assert found == {
        (
            "policies/oncall.yaml",
            5,
            "rotations[0].rrule",
            "rotation primary: the rule 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' never hands over "
            "after `start`",
        ),
        (
            "policies/oncall.yaml",
            6,
            "rotations[0].members[1]",
            "rotation primary: member 'bob' is not written as @user",
        ),
        (
            "policies/oncall.yaml",
            8,
            "overrides[0].rotation",
            "override of unknown rotation 'primry'",
        ),
        (
            "policies/oncall.yaml",
            10,
            "overrides[2].from",
            "override of primary overlaps overrides[1] (@dave): who holds the pager then?",
        ),
        (
            "policies/escalation.yaml",
            line,
            "roles.incident_commander",
            "rotation:commanders names no rotation",
        ),
    }  # fmt: skip  (the 4th override only touches the 3rd: [from, to) do not overlap)


def test_a_broken_rule_or_naive_start_is_a_located_error(cli: Invoke, repo: Path) -> None:
    _schedule(repo, "2026-10-05T09:00:00")
    result = cli("oncall", "--now", NOW)
    assert result.code == 2
    assert "policies/oncall.yaml:4: rotations.0.start: " in result.err
    assert "has no timezone" in result.err
    assert "Traceback" not in result.err
    (repo / "policies/oncall.yaml").write_text(
        "rotations:\n  - name: primary\n    timezone: Europe/Berlin\n"
        "    start: 2026-10-05T09:00:00Z\n    rrule: FREQ=SOMETIMES\n    members: ['@a']\n",
        encoding="utf-8",
    )
    result = cli("oncall", "--now", NOW)
    assert result.code == 2
    assert "policies/oncall.yaml:5: rotations.0.rrule: not an RFC 5545 rule" in result.err


def test_escalation_yaml_rotations_are_still_read_with_a_warning(cli: Invoke, repo: Path) -> None:
    escalation = repo / "policies/escalation.yaml"
    escalation.write_text(
        escalation.read_text(encoding="utf-8").replace(
            "rotations: []",
            "rotations:\n"
            '  - {name: old, start: 2026-01-05T09:00:00Z, shift: 1w, people: ["@x", "@y"]}',
        ),
        encoding="utf-8",
    )
    shift = _oncall(cli, "2026-01-12T09:00:00Z")["old"]
    assert (shift["on_call"], shift["since"], shift["until"], shift["next"]) == (
        "@y", "2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z", "@x",
    )  # fmt: skip
    result = cli("validate")
    assert result.code == 0
    assert "warning: [oncall] rotations[0]: rotation old: fixed 7d shifts" in result.out
    assert "move it to policies/oncall.yaml" in result.out
    data = json.loads(cli("overdue", "--now", NOW, "--format", "json").out)
    assert data["findings"] == [] or all(
        "rotation:" not in " ".join(f["who"]) for f in data["findings"]
    )


def test_people_addresses_come_from_the_environment() -> None:
    people = People.model_validate(
        {"people": {"@alice": {"slack": "U012AB3CD", "sms": "${ALICE_PHONE}"}}}
    )
    assert people.address("@alice", "slack", {}) == "U012AB3CD"
    assert people.address("@alice", "sms", {}) is None
    assert people.address("@alice", "sms", {"ALICE_PHONE": "+4915112345678"}) == "+4915112345678"
    assert people.address("@bob", "slack", {}) is None
    assert people.variables() == {"ALICE_PHONE"}


def test_oncall_without_rotations_says_where_they_go(cli: Invoke) -> None:
    result = cli("oncall", "--now", NOW)
    assert result.code == 0
    assert "no rotations: add them to policies/oncall.yaml" in result.err
    assert json.loads(cli("oncall", "--now", NOW, "--format", "json").out) == {
        "at": NOW,
        "rotations": [],
    }


def test_notify_and_escalate_name_who_is_on_call_at_the_moment(cli: Invoke, repo: Path) -> None:
    _schedule(repo, "2026-11-02T09:00:00+01:00")
    escalation = repo / "policies/escalation.yaml"
    text = escalation.read_text(encoding="utf-8")
    text = text.replace(
        'tier-2: {primary: "@example-org/sre", backup: "@example-org/platform"}',
        'tier-2: {primary: "rotation:secondary", backup: null}',
    )
    escalation.write_text(text, encoding="utf-8")
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    # the first rotation's holder is the on-call engineer the initial alert is assigned to
    alert = cli("notify", incident_id, "--template", "initial-alert", "--now", NOW)
    assert alert.code == 0, alert.err
    assert "**Assigned**: @alice" in alert.out
    later = cli(
        "notify", incident_id, "--template", "initial-alert", "--now", "2026-11-30T09:00:00Z"
    )
    assert "**Assigned**: @bob" in later.out  # Monday 09:00 Berlin: bob's week
    escalated = cli(
        "escalate", incident_id, "--tier", "2", "--by", "@ic", "--at", "2026-11-27T15:30:00Z",
        "--now", NOW,
    )  # fmt: skip
    assert escalated.code == 0, escalated.err
    assert "Escalated (tier-2) to @frank" in escalated.out  # secondary's week 4: frank


def test_the_people_who_must_act_are_reached_per_channel(cli: Invoke, repo: Path) -> None:
    _schedule(repo, "2026-11-02T09:00:00+01:00")
    _contacts(repo)
    (repo / "policies/people.yaml").write_text(
        "people:\n"
        "  '@alice': {slack: U0ALICE, sms: '${ALICE_PHONE}'}\n"
        "  '@example-org/sre': {slack: C0SRE}\n",
        encoding="utf-8",
    )
    declare(cli, at="2026-11-27T15:00:00Z")
    data = json.loads(cli("overdue", "--now", NOW, "--format", "json").out)
    ack = next(f for f in data["findings"] if f["rule"] == "acknowledge")
    people = Repo(repo).policy().people
    env = {"ALICE_PHONE": "+4915112345678"}
    assert recipients(people, ack["who"], ["slack", "sms"], env) == [
        Recipient("@alice", "slack", "U0ALICE"),
        Recipient("@alice", "sms", "+4915112345678"),
    ]
    assert recipients(people, ["@example-org/sre", "@nobody"], ["slack"], {}) == [
        Recipient("@example-org/sre", "slack", "C0SRE"),
        Recipient("@nobody", "slack", None),
    ]
    # the directory is read live: a number changed during the incident is used at once
    (repo / "policies/people.yaml").write_text(
        "people:\n  '@alice': {sms: '+4917000000000'}\n", encoding="utf-8"
    )
    assert Repo(repo).policy().people.address("@alice", "sms", {}) == "+4917000000000"
    (repo / "policies/people.yaml").write_text("people:\n  alice: {sms: x}\n", encoding="utf-8")
    result = cli("validate")
    assert result.code == 1
    assert (
        "policies/people.yaml:2: error: [schema] people.alice.[key]: 'alice' is not written "
        in (result.out + result.err)
    )
