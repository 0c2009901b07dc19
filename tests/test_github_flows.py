"""Reminders (`overdue --post`), preventive-action issues and the PR summary, via the double."""

from __future__ import annotations

import difflib
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from incidentctl.deadlines import timers
from incidentctl.github import client as adapter
from incidentctl.github import sync as github_sync
from incidentctl.github.tracking import marker_of, reminder_key
from incidentctl.store.actions import set_action_key
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, declare, git, incident_file
from tests.githubdouble import STRANGER_TOKEN, FakeClock, GitHubDouble, comment_as, environment


def _reminders(api: GitHubDouble, number: int) -> list[str]:
    keys = []
    for comment in api.comments_on(number):
        mark = marker_of(comment["body"])
        if mark and mark[0] == "reminder" and mark[1]:
            keys.append(mark[1])
    return keys


# -- reminders -------------------------------------------------------------------------------
def test_overdue_post_posts_each_breach_once_mentioning_who_must_act(
    cli: Invoke, api: GitHubDouble
) -> None:
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    expected = cli("overdue", "--now", NOW, "--format", "json")
    rules = {
        f["rule"]
        for f in __import__("json").loads(expected.out)["findings"]
        if f["state"] == "overdue" and f["rule"] != "runbook-untested"
    }
    result = cli("overdue", "--now", NOW, "--post")
    assert result.code == 1, result.err  # still overdue: the exit code is unchanged
    assert "runbook-untested: not posted (a runbook has no tracking issue)" in result.err
    (issue,) = api.issues("incident")  # the tracking issue was opened on the way
    keys = _reminders(api, issue["number"])
    assert {k.split("|")[1] for k in keys} == rules
    assert len(keys) == len(set(keys))
    ack = next(c["body"] for c in api.comments_on(issue["number"]) if "|acknowledge|" in c["body"])
    assert "**Overdue: P0 not acknowledged: overdue by" in ack
    assert "@example-org/oncall" in ack
    assert f"incidentctl ack {incident_id}" in ack

    comments = len(api.state.comments)
    assert cli("overdue", "--now", NOW, "--post").code == 1
    assert len(api.state.comments) == comments  # a second scheduled run posts nothing new

    later = cli("overdue", "--now", "2026-11-27T16:20:00Z", "--post")
    assert later.code == 1
    new = _reminders(api, issue["number"])[len(keys) :]
    assert new
    assert all(k not in keys for k in new)


def test_a_marker_pasted_by_someone_else_does_not_silence_a_reminder(
    cli: Invoke, api: GitHubDouble
) -> None:
    declare(cli, at="2026-11-27T15:00:00Z")
    assert cli("overdue", "--now", NOW, "--post").code == 1
    (issue,) = api.issues("incident")
    number = issue["number"]
    ours = api.comments_on(number)
    assert ours
    for comment in ours:  # a stranger replays every reminder, and ours are gone
        comment_as(api, STRANGER_TOKEN, number, comment["body"])
        del api.state.comments[comment["id"]]
    again = cli("overdue", "--now", NOW, "--post")
    assert again.code == 1
    assert "ignored the reminder marker in comment" in again.err
    assert "by mallory (not a trusted author" in again.err
    by: dict[str, list[str]] = {}
    for comment in api.comments_on(number):
        by.setdefault(comment["user"]["login"], []).append(comment["body"])
    expected = sorted(c["body"] for c in ours)
    assert sorted(by["github-actions[bot]"]) == expected  # every reminder posted again
    assert sorted(by["mallory"]) == expected  # and mallory's left alone
    assert set(by) == {"github-actions[bot]", "mallory"}


def test_snoozed_rules_are_not_posted_and_repeat_follows_the_cadence(
    cli: Invoke, api: GitHubDouble
) -> None:
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    snoozed = cli(
        "snooze", incident_id, "--rule", "acknowledge", "--for", "15m",
        "--at", "2026-11-27T15:55:00Z", "--now", NOW,
    )  # fmt: skip
    assert snoozed.code == 0, snoozed.err
    assert cli("overdue", "--now", NOW, "--post", "--repeat", "30m").code == 1
    (issue,) = api.issues("incident")
    first = _reminders(api, issue["number"])
    assert not any("|acknowledge|" in k for k in first)
    assert any("|notify-management|" in k for k in first)

    # 31 minutes later: the snooze is over and every breach still open is due a repeat
    assert cli("overdue", "--now", "2026-11-27T16:31:00Z", "--post", "--repeat", "30m").code == 1
    keys = _reminders(api, issue["number"])
    assert any(k.startswith(f"{incident_id}|acknowledge|") for k in keys)
    engage = [k for k in keys if "|engage|" in k]
    assert [k.rsplit("|", 1)[1] for k in engage] == ["1", "2"]  # 45 and 76 minutes late
    body = next(c["body"] for c in api.comments_on(issue["number"]) if c["body"].count(engage[1]))
    assert "Still overdue (reminder 2)" in body
    first_body = next(c["body"] for c in api.comments_on(issue["number"]) if engage[0] in c["body"])
    assert "**Overdue: P0 no responder engaged" in first_body
    assert "Escalation path blocked" not in body

    # a third reminder of the same breach also goes to the backup of the people reminded
    assert cli("overdue", "--now", "2026-11-27T17:01:00Z", "--post", "--repeat", "30m").code == 1
    third = next(
        c["body"]
        for c in api.comments_on(issue["number"])
        if f"{incident_id}|engage|" in c["body"] and c["body"].count("(reminder 3)")
    )
    assert "Escalation path blocked: no answer after 2 reminders. Backup: @example-org/sre" in third


def test_overdue_post_dry_run_posts_nothing(cli: Invoke, api: GitHubDouble) -> None:
    declare(cli, at="2026-11-27T15:00:00Z")
    result = cli("overdue", "--now", NOW, "--post", "--dry-run")
    assert result.code == 1
    assert api.writes() == []
    assert "would create issue for" in result.err
    assert "would comment on" in result.err


def test_concurrent_reminder_runs_leave_one_comment_per_breach(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    declare(cli, at="2026-11-27T15:00:00Z")
    assert cli("github", "sync").code == 0
    root = Repo(repo)
    loaded = next(iter(root.scan()))
    assert not isinstance(loaded, BaseException)
    incident = loaded.incident
    now = timers.loose_time(NOW)
    assert now is not None
    subject = timers.Subject(incident, root.policy_for(incident))
    found = timers.findings([subject], [], root.policy(), now, include_due_soon=False)
    incidents = {incident.id: (incident, str(loaded.path))}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            gh = adapter.GitHub(
                adapter.settings_from_env(environment(api)),
                say=lambda _: None,
                clock=FakeClock(api.now),
            )
            barrier.wait()
            github_sync.post_reminders(gh, found, incidents, now)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = _reminders(api, 1)
    assert len(keys) == len(found)
    assert len(set(keys)) == len(keys)


def test_a_reminder_lost_in_a_timeout_is_not_posted_twice(cli: Invoke, api: GitHubDouble) -> None:
    declare(cli, at="2026-11-27T15:00:00Z")
    api.fail("slow", method="POST", path="/comments", on=2)
    result = cli("overdue", "--now", NOW, "--post")
    assert result.code == 1, result.err
    assert "retrying in" in result.err
    keys = _reminders(api, 1)
    assert len(keys) == len(set(keys))
    assert keys


# -- preventive actions ------------------------------------------------------------------------
RESOLVED = "2026-11-27T11:30:00Z"


def _pir_with_actions(cli: Invoke, repo: Path) -> tuple[str, Path]:
    incident_id = declare(cli, at="2026-11-27T10:00:00Z")
    for args in (
        ("ack", incident_id, "--at", "2026-11-27T10:01:00Z"),
        ("engage", incident_id, "--at", "2026-11-27T10:05:00Z"),
        ("resolve", incident_id, "--at", RESOLVED),
    ):
        assert cli(*args, "--now", NOW).code == 0
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    for title, owner, horizon in (
        ("Refuse to start without PRICING_API_URL", "@alice", "immediate"),
        ("Alert on config drift", "@example-org/sre", "short-term"),
    ):
        result = cli(
            "pir", "add-action", incident_id, "--title", title, "--owner", owner,
            "--horizon", horizon, "--now", NOW,
        )  # fmt: skip
        assert result.code == 0, result.err
    return incident_id, incident_file(repo, incident_id).parent / "pir.md"


def test_actions_sync_opens_one_issue_per_action_and_reads_closure_back(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    incident_id, pir = _pir_with_actions(cli, repo)
    result = cli("actions", "sync", "--now", NOW)
    assert result.code == 0, result.err
    issues = sorted(api.issues("preventive-action"), key=lambda i: i["number"])
    assert [i["title"] for i in issues] == [
        f"Refuse to start without PRICING_API_URL ({incident_id} A1)",
        f"Alert on config drift ({incident_id} A2)",
    ]
    assert issues[0]["assignees"] == ["alice"]
    assert issues[1]["assignees"] == []
    assert issues[0]["label_names"] == ["preventive-action", incident_id, "horizon:immediate"]
    assert "run with --write-back" in result.err

    assert cli("actions", "sync", "--now", NOW).code == 0
    assert len(api.issues("preventive-action")) == 2  # no duplicate on a re-run

    before = pir.read_text(encoding="utf-8")
    api.state.issues[issues[0]["number"]].update(state="closed", closed_at="2026-11-28T09:00:00Z")
    dry = cli("actions", "sync", "--write-back", "--dry-run", "--now", NOW)
    assert dry.code == 0
    assert pir.read_text(encoding="utf-8") == before
    wrote = cli("actions", "sync", "--write-back", "--now", NOW)
    assert wrote.code == 0, wrote.err
    after = pir.read_text(encoding="utf-8")
    diff = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"
    ]
    assert diff == ["-     status: open", "+     status: done", "+     issue: '#1'",
                    "+     done_at: 2026-11-28", "+     issue: '#2'"], diff  # fmt: skip
    late = cli("overdue", "--now", "2026-12-30T00:00:00Z", "--format", "json")
    findings = __import__("json").loads(late.out)["findings"]
    overdue_actions = {f["subject"] for f in findings if f["rule"] == "action-due"}
    assert overdue_actions == {"A2"}  # the closed issue counts as done
    assert cli("actions", "sync", "--write-back", "--now", NOW).out.count("wrote") == 0


def test_actions_sync_without_token_in_dry_run_is_refused_clearly(
    repo: Path, cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pir_with_actions(cli, repo)
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    result = cli("actions", "sync", "--dry-run")
    assert result.code == 2
    assert "GitHub rejected the token" in result.err


# -- the sticky PR comment ---------------------------------------------------------------------
def test_pr_comment_is_one_sticky_comment_updated_in_place(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    git(repo, "checkout", "-q", "-b", "declare")
    incident_id = declare(cli, at="2026-11-27T15:00:00Z")
    number = api.add_pull()
    result = cli("github", "pr-comment", "--base", "main", "--pr", str(number), "--now", NOW)
    assert result.code == 0, result.err
    (comment,) = api.comments_on(number)
    body = comment["body"]
    assert body.startswith("<!-- incidentctl:pr-summary -->\n")
    assert f"### {incident_id} [P0] Checkout returns 502" in body
    assert "Priority **P0** (impact high x urgency high)" in body
    assert "| acknowledge | 2026-11-27T15:01:00Z | overdue | - |" in body
    assert "**Overdue now (" in body

    assert (
        cli("github", "pr-comment", "--base", "main", "--pr", str(number), "--now", NOW).code == 0
    )
    assert len(api.comments_on(number)) == 1
    assert api.writes()[-1][0] == "POST"

    assert cli("ack", incident_id, "--at", "2026-11-27T15:30:00Z", "--now", NOW).code == 0
    again = cli("github", "pr-comment", "--base", "main", "--pr", str(number), "--now", NOW)
    assert again.code == 0
    assert "summary updated" in again.err
    (comment,) = api.comments_on(number)
    assert (
        "| acknowledge | 2026-11-27T15:01:00Z | missed | 2026-11-27T15:30:00Z |" in comment["body"]
    )


def test_pr_comment_dry_run_prints_and_posts_nothing(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    declare(cli, at="2026-11-27T15:00:00Z")
    number = api.add_pull()
    result = cli(
        "github", "pr-comment", "--base", "HEAD", "--pr", str(number), "--dry-run", "--now", NOW
    )
    assert result.code == 0, result.err
    assert "1 incident(s) changed against `HEAD`" in result.out  # declared, not yet committed
    assert api.writes() == []


def test_actions_tracked_elsewhere_or_done_get_no_new_issue(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    incident_id, pir = _pir_with_actions(cli, repo)
    own = api._new_issue({"title": "made by hand", "body": "", "labels": []})["number"]
    doc, _ = Repo(repo).pirs.load(pir)
    doc.front = set_action_key(
        doc.front, 0, "issue", "https://github.com/parcelly/checkout-api/issues/2185"
    )
    doc.front = set_action_key(doc.front, 1, "issue", f"#{own}")
    text = doc.text()
    pir.write_text(text, encoding="utf-8")
    api.state.issues[own].update(state="closed", closed_at="2026-11-28T09:00:00Z")
    result = cli("actions", "sync", "--write-back", "--now", NOW)
    assert result.code == 0, result.err
    assert f"{incident_id}#A1: tracked elsewhere (https://github.com/parcelly/checkout-api" in (
        result.out
    )
    assert api.issues("preventive-action") == []  # nothing created
    after = pir.read_text(encoding="utf-8")
    assert "    status: done\n    issue: '#1'\n    done_at: 2026-11-28\n" in after
    assert after.count("status: open") == 1  # A1 is tracked in another repository


def test_follow_up_reminders_repeat_at_most_daily() -> None:
    finding = timers.Reminder(
        "INC-20261127-7K3Q", "action-due", timers.loose_time("2026-11-20T00:00:00Z"),
        timers.OVERDUE, 0, [], "m", "r", None, "A1",
    )  # fmt: skip
    for hours, slot in ((23, "0"), (25, "1"), (49, "2")):
        now = timers.loose_time("2026-11-20T00:00:00Z")
        assert now is not None
        key = reminder_key(finding, now + timedelta(hours=hours), 1800)
        assert key.rsplit("|", 1)[1] == slot


def test_repeat_and_dry_run_need_post(cli: Invoke) -> None:
    result = cli("overdue", "--repeat", "30m")
    assert result.code == 2
    assert "--repeat and --dry-run go with --post" in result.err
