"""Markers count only in comments by trusted authors: the tool's own identity (also with a
workflow token, which `GET /user` refuses) and INCIDENTCTL_TRUSTED_AUTHORS. Through PyGithub
against the API double, each comment written with a real token of its author."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import Auth, Github, GithubException

from incidentctl.core.errors import IncidentctlError
from incidentctl.github import client as adapter
from tests.conftest import NOW, Invoke, declare, git
from tests.githubdouble import (
    PERSONAL_TOKEN,
    STRANGER_TOKEN,
    TOKEN,
    GitHubDouble,
    comment_as,
)

FORGED = "<!-- incidentctl:pr-summary -->\nAll fine here, nothing overdue, merge away."


def _authors(api: GitHubDouble, number: int) -> list[tuple[str, str]]:
    """(author, body) of every comment on `number`, oldest first."""
    found = sorted(api.comments_on(number), key=lambda c: int(c["id"]))
    return [(c["user"]["login"], c["body"]) for c in found]


def _pr_comment(cli: Invoke, number: int) -> tuple[int, str]:
    result = cli("github", "pr-comment", "--base", "main", "--pr", str(number), "--now", NOW)
    return result.code, result.err


def _pull_with_incident(repo: Path, cli: Invoke, api: GitHubDouble) -> tuple[str, int]:
    git(repo, "checkout", "-q", "-b", "declare")
    return declare(cli, at="2026-11-27T15:00:00Z"), api.add_pull()


def test_a_strangers_summary_marker_is_left_alone_and_ours_is_posted(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    incident_id, number = _pull_with_incident(repo, cli, api)
    forged = comment_as(api, STRANGER_TOKEN, number, FORGED)
    code, err = _pr_comment(cli, number)
    assert code == 0, err
    assert f"#{number}: summary posted" in err
    assert f"ignored the pr-summary marker in comment {forged} by mallory" in err
    (stranger, ours) = _authors(api, number)
    assert stranger == ("mallory", FORGED)
    assert ours[0] == "github-actions[bot]"
    assert f"### {incident_id} [P0] Checkout returns 502" in ours[1]

    assert cli("ack", incident_id, "--at", "2026-11-27T15:30:00Z", "--now", NOW).code == 0
    code, err = _pr_comment(cli, number)
    assert code == 0, err
    assert f"#{number}: summary updated" in err
    after = _authors(api, number)
    assert after[0] == ("mallory", FORGED)  # never edited, never deleted as a duplicate
    assert [who for who, _ in after] == ["mallory", "github-actions[bot]"]
    assert "| missed | 2026-11-27T15:30:00Z |" in after[1][1]
    touched = [
        (method, path) for method, path in api.writes() if path.endswith(f"/comments/{forged}")
    ]
    assert touched == []


def test_the_workflow_token_cannot_read_user_and_the_commands_still_work(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    with pytest.raises(GithubException) as refused:
        _ = Github(auth=Auth.Token(TOKEN), base_url=api.url, retry=None).get_user().login
    assert refused.value.status == 403  # like GitHub: an installation token is no user
    personal = Github(auth=Auth.Token(PERSONAL_TOKEN), base_url=api.url, retry=None)
    assert personal.get_user().login == "octo-responder"

    _, number = _pull_with_incident(repo, cli, api)
    for done in ("posted", "unchanged"):
        code, err = _pr_comment(cli, number)
        assert code == 0, err
        assert f"#{number}: summary {done}" in err
    assert [who for who, _ in _authors(api, number)] == ["github-actions[bot]"]
    assert ("GET", "/user") in api.state.requests

    assert cli("overdue", "--now", NOW, "--post").code == 1
    (issue,) = api.issues("incident")
    posted = _authors(api, issue["number"])
    assert posted
    assert {who for who, _ in posted} == {"github-actions[bot]"}
    again = cli("overdue", "--now", NOW, "--post")
    assert again.code == 1
    assert "posted 0 of" in again.err  # its own reminders are recognised: nothing twice
    assert _authors(api, issue["number"]) == posted


def test_a_personal_token_trusts_its_own_login(
    repo: Path, cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, number = _pull_with_incident(repo, cli, api)
    monkeypatch.setenv("GITHUB_TOKEN", PERSONAL_TOKEN)
    for done in ("posted", "unchanged"):
        code, err = _pr_comment(cli, number)
        assert code == 0, err
        assert f"#{number}: summary {done}" in err
    assert [who for who, _ in _authors(api, number)] == ["octo-responder"]


def test_incidentctl_trusted_authors_adds_a_login(
    repo: Path, cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A summary and reminders first posted with a responder's own token are adopted by the
    workflow once the responder is trusted; without that they are someone else's."""
    _, number = _pull_with_incident(repo, cli, api)
    monkeypatch.setenv("GITHUB_TOKEN", PERSONAL_TOKEN)
    assert _pr_comment(cli, number)[0] == 0
    assert cli("overdue", "--now", NOW, "--post").code == 1
    (issue,) = api.issues("incident")
    reminders = _authors(api, issue["number"])
    assert {who for who, _ in reminders} == {"octo-responder"}

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("INCIDENTCTL_TRUSTED_AUTHORS", "release-bot, @Octo-Responder")
    code, err = _pr_comment(cli, number)
    assert code == 0, err
    assert f"#{number}: summary unchanged" in err
    assert cli("overdue", "--now", NOW, "--post").code == 1
    assert _authors(api, issue["number"]) == reminders  # nothing posted twice

    monkeypatch.delenv("INCIDENTCTL_TRUSTED_AUTHORS")
    code, err = _pr_comment(cli, number)
    assert code == 0, err
    assert f"#{number}: summary posted" in err
    assert [who for who, _ in _authors(api, number)] == ["octo-responder", "github-actions[bot]"]


def test_trusted_authors_are_logins() -> None:
    env = {"GITHUB_REPOSITORY": "parcelly/incidents", "GITHUB_TOKEN": TOKEN}
    settings = adapter.settings_from_env(
        {**env, "INCIDENTCTL_TRUSTED_AUTHORS": " release-bot,@octocat  deploy-app[bot] "}
    )
    assert settings.trusted == ("release-bot", "octocat", "deploy-app[bot]")
    assert adapter.settings_from_env(env).trusted == ()
    with pytest.raises(IncidentctlError, match="'evil/team' is not a GitHub login"):
        adapter.settings_from_env({**env, "INCIDENTCTL_TRUSTED_AUTHORS": "ok,evil/team"})


def test_a_bad_trusted_authors_setting_is_a_clear_error(
    repo: Path, cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, number = _pull_with_incident(repo, cli, api)
    monkeypatch.setenv("INCIDENTCTL_TRUSTED_AUTHORS", "-not-a-login")
    code, err = _pr_comment(cli, number)
    assert code == 2
    assert "INCIDENTCTL_TRUSTED_AUTHORS: '-not-a-login' is not a GitHub login" in err
    assert "Traceback" not in err
    assert api.writes() == []
