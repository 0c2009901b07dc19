"""`github command`: /ack and the other comment commands on a tracking issue, against the
GitHub API double (PyGithub over HTTP) and a real bare origin the change is pushed to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidentctl.github.commands import Command, parse
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, declare, git
from tests.githubdouble import (
    PERSONAL_TOKEN,
    STRANGER_TOKEN,
    GitHubDouble,
    comment_as,
    comment_event,
)


@pytest.fixture
def origin(repo: Path, tmp_path: Path) -> Path:
    """A bare origin the repository's main is pushed to, as the workflow's checkout has."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return bare


def _tracked(cli: Invoke, repo: Path, api: GitHubDouble) -> tuple[str, int]:
    """An incident, committed and pushed, with its tracking issue opened by `github sync`."""
    incident_id = declare(cli, at="2026-11-27T15:50:00Z")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"declare {incident_id}")
    git(repo, "push", "-q", "origin", "main")
    assert cli("github", "sync").code == 0
    (issue,) = api.issues("incident")
    return incident_id, int(issue["number"])


def _run(
    cli: Invoke, api: GitHubDouble, tmp_path: Path, comment_id: int, *extra: str
) -> tuple[int, str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(comment_event(api, comment_id)), encoding="utf-8")
    result = cli("github", "command", "--event", str(event), "--now", NOW, *extra)
    return result.code, result.out, result.err


def _replies(api: GitHubDouble, number: int, comment_id: int) -> list[str]:
    mark = f"<!-- incidentctl:command-reply key={comment_id} -->"
    return [c["body"] for c in api.comments_on(number) if c["body"].startswith(mark)]


def _reactions(api: GitHubDouble, comment_id: int) -> list[tuple[str, str]]:
    return [
        (r["content"], r["user"]["login"])
        for r in api.state.comments[comment_id].get("reactions", [])
    ]


def test_a_writers_ack_acknowledges_by_them_commits_pushes_and_replies(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    incident_id, number = _tracked(cli, repo, api)
    comment = comment_as(api, PERSONAL_TOKEN, number, "/ack\non it, looking at the dashboards")
    code, out, err = _run(cli, api, tmp_path, comment)
    assert code == 0, err
    assert out.startswith(f"{incident_id}: Acknowledged by @octo-responder")
    incident = Repo(repo).find(incident_id).incident
    assert incident.acknowledged_at is not None
    assert incident.timeline[-1].by == "@octo-responder"
    # committed and pushed: origin's main has the acknowledgement
    rel = Repo(repo).rel(Repo(repo).find(incident_id).path)
    pushed = git(origin, "show", f"main:{rel}")
    assert "acknowledged_at: 2026-11-27T16:00:00Z" in pushed
    assert "by @octo-responder (comment on #" in git(origin, "log", "-1", "--format=%s", "main")
    (reply,) = _replies(api, number, comment)
    assert f"@octo-responder: done. {incident_id}: Acknowledged at 2026-11-27T16:00:00Z" in reply
    assert _reactions(api, comment) == [("+1", "github-actions[bot]")]
    # a re-run of the workflow answers nothing twice and changes nothing
    head = git(origin, "rev-parse", "main")
    code, out, _ = _run(cli, api, tmp_path, comment)
    assert code == 0
    assert "was answered before" in out
    assert len(_replies(api, number, comment)) == 1
    assert git(origin, "rev-parse", "main") == head


def test_a_dry_run_shows_the_change_and_the_reply_and_writes_nothing(
    cli: Invoke,
    repo: Path,
    api: GitHubDouble,
    origin: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--dry-run` reads the issue and the commenter's permission and works the change out,
    but writes no file, commit, push, reply or reaction; without GITHUB_REPOSITORY it asks
    GitHub nothing at all."""
    incident_id, number = _tracked(cli, repo, api)
    path = repo / Repo(repo).find(incident_id).path
    before = path.read_text(encoding="utf-8")
    head = git(origin, "rev-parse", "main")
    comment = comment_as(api, PERSONAL_TOKEN, number, "/ack")
    refused = comment_as(api, STRANGER_TOKEN, number, "/ack")
    writes = len(api.writes())
    code, out, err = _run(cli, api, tmp_path, comment, "--dry-run")
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"would: {incident_id}: Acknowledged by @octo-responder (dry run: nothing written or "
        "pushed)"
    )
    assert "+acknowledged_at: 2026-11-27T16:00:00Z" in out  # the diff, as other dry runs
    assert f"would reply: @octo-responder: done. {incident_id}: Acknowledged at" in err
    assert "committed (dry run) to `main`" in err
    assert f"would react +1 to comment {comment}" in err
    code, out, err = _run(cli, api, tmp_path, refused, "--dry-run")
    assert out.strip() == "refused: @mallory has read access"
    assert "would reply: Sorry @mallory" in err
    assert len(api.writes()) == writes  # GitHub was only read
    assert path.read_text(encoding="utf-8") == before
    assert git(origin, "rev-parse", "main") == head
    assert git(repo, "status", "--porcelain") == ""
    for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN"):
        monkeypatch.delenv(name)
    asked = len(api.state.requests)
    code, out, err = _run(cli, api, tmp_path, comment, "--dry-run")
    assert code == 0, err
    assert out.splitlines()[-1].startswith(f"would: {incident_id}: Acknowledged by @octo")
    assert "offline: taken as write access" in err
    assert len(api.state.requests) == asked
    assert path.read_text(encoding="utf-8") == before


def test_a_readers_ack_is_refused_politely_and_changes_nothing(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    incident_id, number = _tracked(cli, repo, api)
    before = (repo / Repo(repo).find(incident_id).path).read_text(encoding="utf-8")
    head = git(origin, "rev-parse", "main")
    comment = comment_as(api, STRANGER_TOKEN, number, "/ack")
    code, out, err = _run(cli, api, tmp_path, comment)
    assert code == 0, err
    assert out.strip() == "refused: @mallory has read access"
    assert ("GET", f"/repos/{api.repository}/collaborators/mallory/permission") in [
        (m, p.split("?")[0]) for m, p in api.state.requests
    ]
    (reply,) = _replies(api, number, comment)
    assert "Sorry @mallory, only people with write access" in reply
    assert f"{incident_id} is unchanged" in reply
    assert _reactions(api, comment) == [("confused", "github-actions[bot]")]
    assert (repo / Repo(repo).find(incident_id).path).read_text(encoding="utf-8") == before
    assert git(origin, "rev-parse", "main") == head


def test_an_unknown_command_gets_the_list_of_commands(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    _, number = _tracked(cli, repo, api)
    head = git(origin, "rev-parse", "main")
    comment = comment_as(api, PERSONAL_TOKEN, number, "/acknowledge `$(rm -rf /)`")
    code, out, _ = _run(cli, api, tmp_path, comment)
    assert code == 0
    assert out.strip() == "unknown command /acknowledge"
    (reply,) = _replies(api, number, comment)
    assert "`/acknowledge` is not a command I know" in reply
    for form in ("/ack", "/escalate tier-2|tier-3|management|executive", "/update TEXT",
                 "/update --public TEXT", "/mitigate rollback|hotfix", "/resolve"):  # fmt: skip
        assert f"`{form}" in reply
    assert "rm -rf" not in reply
    assert git(origin, "rev-parse", "main") == head


def test_a_comment_on_an_unrelated_issue_does_nothing(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    _tracked(cli, repo, api)
    other = api._new_issue({"title": "Question about the docs", "body": "hi", "labels": []})
    comment = comment_as(api, PERSONAL_TOKEN, int(other["number"]), "/ack")
    asked = len(api.state.requests)
    code, _, err = _run(cli, api, tmp_path, comment)
    assert code == 0
    assert f"ignored: #{other['number']} is not an incident's tracking issue" in err
    assert len(api.state.requests) == asked  # GitHub was not asked anything
    assert not _replies(api, int(other["number"]), comment)


def test_comments_without_a_command_are_ignored_before_github_is_asked(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    _, number = _tracked(cli, repo, api)
    for body in ("Looks like the database again", "> /ack\nquoting", "see /var/log/app"):
        comment = comment_as(api, PERSONAL_TOKEN, number, body)
        asked = len(api.state.requests)
        code, _, err = _run(cli, api, tmp_path, comment)
        assert code == 0
        assert "ignored: no command" in err
        assert len(api.state.requests) == asked  # GitHub was not asked anything


def test_escalate_update_mitigate_and_resolve_from_comments(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    incident_id, number = _tracked(cli, repo, api)
    for body in (
        "/ack",
        "/escalate tier-2 the database team owns this",
        "/update Failover started; errors dropping",
        "/update --public We are recovering checkout; some payments may be delayed.",
        "/mitigate rollback reverted 4f2a1c",
        "/resolve",
    ):
        comment = comment_as(api, PERSONAL_TOKEN, number, body)
        code, out, err = _run(cli, api, tmp_path, comment)
        assert code == 0, err
        assert "by @octo-responder" in out, out
    incident = Repo(repo).find(incident_id).incident
    assert incident.status.value == "resolved"
    assert [e.kind.value for e in incident.escalations] == ["tier-2"]
    assert incident.escalations[0].reason == "the database team owns this"
    updates = [e for e in incident.timeline if e.kind.value == "update"]
    assert [(e.text, e.public) for e in updates] == [
        ("Failover started; errors dropping", False),
        ("We are recovering checkout; some payments may be delayed.", True),
    ]
    assert incident.mitigation is not None
    assert incident.mitigation.strategy.value == "rollback"
    assert all(e.by == "@octo-responder" for e in incident.timeline[1:])
    assert git(origin, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")


def test_a_refused_transition_is_replied_with_why(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    _, number = _tracked(cli, repo, api)
    comment = comment_as(api, PERSONAL_TOKEN, number, "/mitigate prayer")
    code, out, _ = _run(cli, api, tmp_path, comment)
    assert code == 0
    assert out.startswith("not done: mitigate how?")
    (reply,) = _replies(api, number, comment)
    assert "/mitigate rollback|hotfix|config-change|workaround|scaling [note]" in reply
    assert _reactions(api, comment) == [("confused", "github-actions[bot]")]


def test_the_push_rebases_when_main_moved_meanwhile(
    cli: Invoke, repo: Path, api: GitHubDouble, origin: Path, tmp_path: Path
) -> None:
    incident_id, number = _tracked(cli, repo, api)
    other = tmp_path / "other-clone"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    (other / "runbooks" / "new-runbook.md").write_text("# someone else's change\n")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "meanwhile on main")
    git(other, "push", "-q", "origin", "main")
    comment = comment_as(api, PERSONAL_TOKEN, number, "/ack")
    code, _, err = _run(cli, api, tmp_path, comment)
    assert code == 0, err
    assert "main moved meanwhile; rebasing onto it (attempt 2 of 5)" in err
    log = git(origin, "log", "--format=%s", "main").splitlines()
    assert log[:2] == [
        f"{incident_id}: acknowledge by @octo-responder (comment on #{number})",
        "meanwhile on main",
    ]


def test_the_command_is_read_from_the_first_line_only() -> None:
    assert parse("/ack") == Command("ack", "", "")
    assert parse("  /Escalate tier-3 db\nmore") == Command(
        "escalate", "tier-3 db", "tier-3 db\nmore"
    )
    assert parse("/update --public Back up.\nThanks all") == Command(
        "update", "--public Back up.", "--public Back up.\nThanks all"
    )
    for text in ("ack", "thanks /ack", "/ack/", "/", "/123", "> /ack", ""):
        assert parse(text) is None, text


def test_no_event_is_a_clear_error(cli: Invoke, tmp_path: Path) -> None:
    result = cli("github", "command")
    assert result.code == 2
    assert "no --event given and GITHUB_EVENT_PATH is not set" in result.err
    bad = tmp_path / "push.json"
    bad.write_text('{"ref": "refs/heads/main"}', encoding="utf-8")
    result = cli("github", "command", "--event", str(bad))
    assert result.code == 2
    assert "not an issue_comment event" in result.err
    assert "Traceback" not in result.err
