"""`github sync` and the adapter, through PyGithub against the API double on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from incidentctl.github import client as adapter
from incidentctl.github import sync as github_sync
from incidentctl.github.tracking import marker_of
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, declare
from tests.githubdouble import FakeClock, GitHubDouble, environment


def _clock() -> FakeClock:
    clock = adapter.CLOCK
    assert isinstance(clock, FakeClock)
    return clock


def _live(api: GitHubDouble) -> dict[str, list[int]]:
    """Tracking issues found by their marker: incident ID -> issue numbers."""
    out: dict[str, list[int]] = {}
    for issue in api.issues("incident"):
        mark = marker_of(issue["body"])
        if mark and mark[1]:
            out.setdefault(mark[1], []).append(issue["number"])
    return out


def test_sync_opens_one_tracking_issue_per_incident_and_keeps_it_in_step(
    cli: Invoke, api: GitHubDouble
) -> None:
    first = declare(cli)
    second = declare(cli, "--impact", "low", at="2026-11-27T15:10:00Z")
    result = cli("github", "sync")
    assert result.code == 0, result.err
    live = _live(api)
    assert sorted(live) == sorted([first, second])
    assert all(len(v) == 1 for v in live.values())
    issue = api.state.issues[live[first][0]]
    assert issue["title"] == f"{first} [P0] Checkout returns 502"
    assert issue["label_names"] == ["incident", "P0", "status:detected"]
    assert issue["body"].startswith(f"<!-- incidentctl:incident id={first} -->\n")
    assert "https://github.example/parcelly/incidents/blob/main/incidents/2026/11/" in issue["body"]
    assert api.state.issues[live[second][0]]["label_names"][1] == "P2"

    writes = len(api.writes())
    again = cli("github", "sync")
    assert again.code == 0
    assert len(api.writes()) == writes
    assert again.out.count("unchanged") == 2

    issue["label_names"].append("customer-facing")  # a person's label survives
    for step in (("ack", first), ("engage", first), ("resolve", first), ("close", first)):
        assert cli(*step, "--at", "2026-11-27T15:30:00Z", "--now", NOW).code == 0
    assert cli("github", "sync").code == 0
    assert issue["state"] == "closed"
    assert issue["label_names"] == ["incident", "P0", "status:closed", "customer-facing"]
    assert _live(api) == live


def test_lookup_pages_through_every_issue(cli: Invoke, api: GitHubDouble) -> None:
    incident_id = declare(cli)
    assert cli("github", "sync").code == 0
    for n in range(7):  # other labelled issues push ours to the last page
        api._new_issue({"title": f"other {n}", "body": "", "labels": ["incident"]})
    assert cli("github", "sync").code == 0
    assert _live(api) == {incident_id: [1]}
    assert any("page=3" in path for _, path in api.state.requests)


def test_dry_run_posts_nothing(cli: Invoke, api: GitHubDouble) -> None:
    incident_id = declare(cli)
    result = cli("github", "sync", "--dry-run")
    assert result.code == 0, result.err
    assert api.writes() == []
    assert f"would create issue for {incident_id}" in result.err
    assert f"{incident_id} (new issue): would be created" in result.out


def test_dry_run_without_a_token_says_one_is_needed(
    cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(cli)
    monkeypatch.delenv("GITHUB_TOKEN")
    result = cli("github", "sync", "--dry-run")
    assert result.code == 2
    assert "GitHub needs a token for this (401 Bad credentials)" in result.err
    assert api.writes() == []


@pytest.mark.parametrize(
    ("kind", "method", "wait"),
    [
        ("500", "GET", 1.0),
        ("502", "GET", 1.0),
        ("secondary", "GET", 7.0),
        ("429", "GET", 7.0),
        ("primary", "GET", 8.0),  # X-RateLimit-Reset 7 s ahead, plus a second
        ("reset", "GET", 1.0),
        ("500", "POST", 1.0),
        ("slow", "POST", 1.0),  # the issue is created, the answer comes too late
        ("reset", "POST", 1.0),
    ],
)
def test_every_fault_is_retried_without_a_duplicate(
    cli: Invoke, api: GitHubDouble, kind: str, method: str, wait: float
) -> None:
    incident_id = declare(cli)
    api.fail(kind, method=method, path="/issues")
    result = cli("github", "sync")
    assert result.code == 0, result.err
    assert "retrying in" in result.err
    assert _live(api) == {incident_id: [1]}
    assert wait in _clock().sleeps


def test_gives_up_clearly_when_github_keeps_failing(cli: Invoke, api: GitHubDouble) -> None:
    declare(cli)
    for _ in range(6):
        api.fail("502", method="GET", path="/issues")
    result = cli("github", "sync")
    assert result.code == 2
    assert "gave up after 6 attempts (GitHub answered 502)" in result.err
    assert "Traceback" not in result.err
    assert api.writes() == []


def test_a_rate_limit_beyond_the_time_budget_is_reported(
    cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(cli)
    monkeypatch.setenv("INCIDENTCTL_GITHUB_BUDGET", "60")
    api.fail("secondary", method="GET", path="/issues", retry_after=600)
    result = cli("github", "sync")
    assert result.code == 2
    assert "gave up after 1 attempt (rate limited (403" in result.err
    assert _clock().sleeps == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-token", "error: GITHUB_TOKEN is not set"),
        ("bad-token", "GitHub rejected the token (401 Bad credentials)"),
        ("read-only", "the token is not allowed to do this (403 Resource not accessible"),
        ("unknown-repo", "repository parcelly/nope not found on http://127.0.0.1:"),
        ("no-repo", "error: GITHUB_REPOSITORY is not set to owner/name"),
    ],
)
def test_clear_messages_for_access_problems(
    cli: Invoke, api: GitHubDouble, monkeypatch: pytest.MonkeyPatch, setup: str, message: str
) -> None:
    declare(cli)
    if setup == "no-token":
        monkeypatch.delenv("GITHUB_TOKEN")
    elif setup == "bad-token":
        monkeypatch.setenv("GITHUB_TOKEN", "expired")
    elif setup == "read-only":
        api.state.read_only = True
    elif setup == "unknown-repo":
        monkeypatch.setenv("GITHUB_REPOSITORY", "parcelly/nope")
    else:
        monkeypatch.delenv("GITHUB_REPOSITORY")
    result = cli("github", "sync")
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert "hint:" in result.err or setup == "bad-token"


def test_a_run_killed_half_way_is_finished_by_the_next_without_duplicates(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    ids = [declare(cli, at=f"2026-11-27T15:0{n}:00Z") for n in range(3)]
    env = {**os.environ, **environment(api), "INCIDENTCTL_GITHUB_WRITE_INTERVAL": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidentctl", "--repo", str(repo), "github", "sync"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # the second issue is created on GitHub, then the process dies before it hears back
    api.fail("crash", on=2, method="POST", path="/issues", then=proc.kill)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert len(_live(api)) == 2
    result = cli("github", "sync")
    assert result.code == 0, result.err
    assert sorted(_live(api)) == sorted(ids)
    assert all(len(numbers) == 1 for numbers in _live(api).values())


def test_two_concurrent_runs_leave_one_live_issue_per_incident(
    repo: Path, cli: Invoke, api: GitHubDouble
) -> None:
    ids = [declare(cli, at=f"2026-11-27T15:0{n}:00Z") for n in range(3)]
    items = [(loaded.incident, str(loaded.path)) for loaded in Repo(repo).scan()]  # type: ignore[union-attr]
    env = environment(api)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            gh = adapter.GitHub(
                adapter.settings_from_env(env), say=lambda _: None, clock=FakeClock(api.now)
            )
            barrier.wait()
            github_sync.sync_incidents(gh, items)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(_live(api)) == sorted(ids)
    assert all(len(numbers) == 1 for numbers in _live(api).values())
    open_tracking = [i for i in api.issues("incident") if i["state"] == "open"]
    assert len(open_tracking) == 3
    assert cli("github", "sync").code == 0
    assert len([i for i in api.issues("incident") if i["state"] == "open"]) == 3


# -- dry runs with no GitHub settings at all ------------------------------------------------------
_GITHUB_ENV = ("GITHUB_REPOSITORY", "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_REF", "GITHUB_ACTOR")


@pytest.fixture
def offline(samples: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The samples, with no GitHub setting in the environment (a laptop, not a workflow)."""
    for name in _GITHUB_ENV:
        monkeypatch.delenv(name, raising=False)
    return samples


def test_sync_dry_run_without_settings_previews_every_issue(offline: Path, cli: Invoke) -> None:
    result = cli("github", "sync", "--dry-run")
    assert result.code == 0, result.err
    assert "GitHub is not contacted" in result.err
    assert "would create issue for INC-20261127-9TRX: INC-20261127-9TRX [P1]" in result.err
    assert "INC-20261127-9TRX (new issue): would be created" in result.out
    assert "GITHUB_REPOSITORY" not in result.out


def test_sync_without_settings_and_without_dry_run_is_still_refused(
    offline: Path, cli: Invoke
) -> None:
    result = cli("github", "sync")
    assert result.code == 2
    assert "GITHUB_REPOSITORY is not set" in result.err


def test_overdue_post_dry_run_without_settings_previews_each_comment(
    offline: Path, cli: Invoke
) -> None:
    result = cli("overdue", "--now", NOW, "--post", "--dry-run")
    assert result.code == 1  # overdue findings, as without --post
    assert "GitHub is not contacted" in result.err
    assert "would create issue for INC-20261127-R5JC" in result.err
    assert "would comment on the new tracking issue: triage P2 not triaged" in result.err


def test_actions_sync_dry_run_without_settings_previews_issues_and_closures(
    offline: Path, cli: Invoke
) -> None:
    result = cli("actions", "sync", "--dry-run", "--write-back", "--now", NOW)
    assert result.code == 0, result.err
    assert "would create issue for INC-20261103-4K7Q#A4" in result.err
    assert "tracked elsewhere (https://github.com/parcelly/auth-service/issues/412)" in result.out
    assert "wrote " not in result.out


def test_pr_comment_dry_run_without_settings_prints_the_comment(offline: Path, cli: Invoke) -> None:
    result = cli("github", "pr-comment", "--base", "HEAD", "--dry-run", "--now", NOW)
    assert result.code == 0, result.err
    assert "incident(s) changed against `HEAD`" in result.out
