"""Workflows that push survive a moving main: a bounded pull-rebase-push loop, never a force
push. The sync workflow's commit step runs here as GitHub runs it (bash -eo pipefail) against
a real bare repository whose main moves before the checkout is pushed and again between the
step's pull and its push."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import GIT_ENV, ROOT

WORKFLOWS = sorted(
    [
        *(ROOT / ".github" / "workflows").glob("*.yml"),
        *(ROOT / "tooling" / "incidentctl" / "defaults" / "scaffold" / "workflows").glob("*.yml"),
        ROOT / "action.yml",
    ]
)
PUSH_STEP = "Commit what the issues say"
SERVER = "https://github.example"
REPOSITORY = "parcelly/incidents"
TOKEN = "ghs_workflow-token"


def _steps(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jobs = data.get("jobs") or {}
    steps = [s for job in jobs.values() for s in job.get("steps") or []]
    return steps + list((data.get("runs") or {}).get("steps") or [])


def _runs(path: Path) -> list[str]:
    return [str(s["run"]) for s in _steps(path) if "run" in s]


def test_every_push_is_a_bounded_rebase_loop_and_never_forced() -> None:
    pushing = []
    for path in WORKFLOWS:
        for run in _runs(path):
            assert not re.search(r"--force|\bpush\b[^\n]*\s(-f|\+\S+)", run), path
            if "git push" not in run:
                continue
            pushing.append(path.name)
            loop = re.search(r"for attempt in 1 2 3 4 5; do\n(.*?)\n *done\n", run, re.S)
            assert loop, f"{path}: git push outside the bounded retry loop"
            body = loop.group(1)
            assert "sleep" in body, path
            if path.name == "intake.yml":  # never a rebase: reset to main, read the alert again
                assert "rebase" not in body, path
                order = [body.index(s) for s in ("git reset", "incidentctl intake", "git push")]
                assert order == sorted(order), path
                continue
            assert body.index("git pull --rebase") < body.index("git push"), path
    # this repository's and the scaffold's
    assert sorted(pushing) == ["intake.yml", "intake.yml", "sync.yml", "sync.yml"]


# -- the sync workflow's push, run -------------------------------------------------------------
def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _commit(clone: Path, rel: str, text: str, message: str, env: dict[str, str]) -> str:
    (clone / rel).parent.mkdir(parents=True, exist_ok=True)
    (clone / rel).write_text(text, encoding="utf-8")
    _git(clone, "add", rel, env=env)
    _git(clone, "commit", "-q", "-m", message, env=env)
    return _git(clone, "rev-parse", "HEAD", env=env)


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(the bare origin, a colleague's clone, the environment): main holds a PIR, and the
    workflow's URL with the token in it leads to the bare repository."""
    bare = tmp_path / "origin.git"
    config = tmp_path / "gitconfig"
    config.write_text(
        f'[url "{bare}"]\n\tinsteadOf = {SERVER.replace("://", f"://x-access-token:{TOKEN}@")}'
        f"/{REPOSITORY}.git\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    env = {**os.environ, **GIT_ENV, "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": str(config)}
    _git(tmp_path, "init", "-q", "--bare", str(bare), env=env)
    colleague = tmp_path / "colleague"
    _git(tmp_path, "clone", "-q", str(bare), str(colleague), env=env)
    _commit(colleague, "incidents/pir.md", "status: open\n", "a PIR", env)
    _git(colleague, "push", "-q", "origin", "HEAD:main", env=env)
    return bare, colleague, env


def _checkout(bare: Path, tmp_path: Path, env: dict[str, str]) -> Path:
    runner = tmp_path / "runner"
    _git(tmp_path, "clone", "-q", "--branch", "main", str(bare), str(runner), env=env)
    return runner


def _run_push_step(runner: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (step,) = [
        s for s in _steps(ROOT / ".github" / "workflows" / "sync.yml") if s.get("name") == PUSH_STEP
    ]
    step_env = {
        **env,
        "GITHUB_SERVER_URL": SERVER,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_TOKEN": TOKEN,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=runner,
        env=step_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_write_back_lands_on_a_main_that_moved_before_and_during_the_push(
    origin: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    bare, colleague, env = origin
    runner = _checkout(bare, tmp_path, env)
    _commit(colleague, "incidents/other.md", "one\n", "moved before the push", env)
    _git(colleague, "push", "-q", "origin", "HEAD:main", env=env)
    racing = _commit(colleague, "incidents/other.md", "two\n", "pushed during the push", env)
    _git(colleague, "push", "-q", "origin", "HEAD:refs/heads/racing", env=env)
    hook = bare / "hooks" / "pre-receive"  # the first push finds main moved once more
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        "#!/bin/sh\ncat >> pushes.log\nif [ ! -e raced ]; then\n  touch raced\n"
        f"  env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main {racing}\nfi\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    (runner / "incidents" / "pir.md").write_text("status: done\n", encoding="utf-8")

    done = _run_push_step(runner, env)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "main moved meanwhile; rebasing onto it (attempt 2 of 5)" in done.stdout
    assert "--force" not in done.stdout + done.stderr
    log = _git(bare, "log", "--format=%s", "main", env=env).splitlines()
    assert log == [
        "actions sync: record preventive-action issues",
        "pushed during the push",
        "moved before the push",
        "a PIR",
    ]  # linear, nothing of anyone else's lost
    assert _git(bare, "show", "main:incidents/pir.md", env=env) == "status: done"
    assert _git(bare, "show", "main:incidents/other.md", env=env) == "two"
    pushes = (bare / "pushes.log").read_text(encoding="utf-8").splitlines()
    assert len(pushes) == 2  # rejected once, then accepted
    assert pushes[1].split()[0] == racing  # the second push builds on the main it found


def test_a_write_back_that_conflicts_with_main_fails_without_pushing(
    origin: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    bare, colleague, env = origin
    runner = _checkout(bare, tmp_path, env)
    theirs = _commit(colleague, "incidents/pir.md", "status: cancelled\n", "edited by hand", env)
    _git(colleague, "push", "-q", "origin", "HEAD:main", env=env)
    (runner / "incidents" / "pir.md").write_text("status: done\n", encoding="utf-8")

    done = _run_push_step(runner, env)
    assert done.returncode == 1
    assert "::error::could not rebase the write-back onto main" in done.stdout
    assert _git(bare, "rev-parse", "main", env=env) == theirs  # main as the colleague left it
    assert not (runner / ".git" / "rebase-merge").exists()  # the rebase was abandoned cleanly


CACHED = ("validate.yml", "reminders.yml", "watch.yml")


@pytest.mark.parametrize(
    "path", [p for p in WORKFLOWS if p.name in CACHED], ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_bulk_jobs_keep_the_results_cache_where_incidentctl_reads_it(path: Path) -> None:
    """A runner starts cold: validate, the reminder job and the watcher turn the cache on
    explicitly ($CI turns it off) and restore and save the very folder incidentctl uses, with
    actions/cache pinned by its commit."""
    steps = _steps(path)
    caches = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert len(caches) == 1, "one actions/cache step"
    assert re.fullmatch(r"actions/cache@[0-9a-f]{40}", caches[0]["uses"])
    folder = caches[0]["with"]["path"]
    users = [s for s in steps if (s.get("env") or {}).get("INCIDENTCTL_CACHE") == "on"]
    assert users, "a step turns the cache on"
    assert all(s["env"]["INCIDENTCTL_CACHE_DIR"] == folder for s in users)
    assert steps.index(caches[0]) < min(steps.index(s) for s in users)
