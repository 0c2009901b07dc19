"""The intake workflow's step, run as GitHub runs it (bash -eo pipefail) in a checkout of a
real bare repository: it reads the dispatched alert, commits, pushes, asks for the watcher on
a P0/P1; when another run pushed the same alert group first, it resets to main and reads the
alert again, so the remote holds one incident for the group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from incidentctl.store import scaffold
from tests.conftest import GIT_ENV, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "intake.yml"
STEP = "Read the alert, commit and push"
SERVER = "https://github.example"
REPOSITORY = "parcelly/incidents"
TOKEN = "ghs_workflow-token"
ALERT = json.loads((ROOT / "tests" / "payloads" / "alertmanager-v4.json").read_text())


def _workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A bare origin holding a new incident repository; the workflow's token URL leads to it."""
    bare = tmp_path / "origin.git"
    config = tmp_path / "gitconfig"
    config.write_text(
        f'[url "{bare}"]\n\tinsteadOf = {SERVER.replace("://", f"://x-access-token:{TOKEN}@")}'
        f"/{REPOSITORY}.git\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        **GIT_ENV,
        "HOME": str(tmp_path),
        "GIT_CONFIG_GLOBAL": str(config),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "INCIDENTCTL_NOW": "2026-11-27T14:05:00Z",
    }
    env.pop("INCIDENTCTL_ACTOR", None)
    _git(tmp_path, "init", "-q", "--bare", str(bare), env=env)
    seed = tmp_path / "seed"
    seed.mkdir()
    for rel, text in scaffold.files().items():
        (seed / rel).parent.mkdir(parents=True, exist_ok=True)
        (seed / rel).write_text(text, encoding="utf-8")
    _git(seed, "init", "-q", "-b", "main", env=env)
    _git(seed, "add", "-A", env=env)
    _git(seed, "commit", "-q", "-m", "init", env=env)
    _git(seed, "push", "-q", str(bare), "main", env=env)
    return bare, env


def _checkout(bare: Path, where: Path, env: dict[str, str]) -> Path:
    _git(where.parent, "clone", "-q", "--branch", "main", str(bare), str(where), env=env)
    return where


def _run(runner: Path, env: dict[str, str], source: str, payload: Any) -> tuple[Any, str]:
    (step,) = [s for s in _workflow()["jobs"]["intake"]["steps"] if s.get("name") == STEP]
    output = runner.parent / f"{runner.name}-output"
    output.write_text("", encoding="utf-8")
    step_env = {
        **env,
        "GITHUB_SERVER_URL": SERVER,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(runner.parent),
        "ALERT_SOURCE": source,
        "ALERT_PAYLOAD": json.dumps(payload, indent=2),  # toJSON's layout
        "INCIDENTCTL_ACTOR": step["env"]["INCIDENTCTL_ACTOR"],
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=runner,
        env=step_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done, output.read_text(encoding="utf-8")


def _incidents(bare: Path, env: dict[str, str]) -> list[str]:
    listing = _git(bare, "ls-tree", "-r", "--name-only", "main", "--", "incidents", env=env)
    return [p for p in listing.split() if p.endswith("incident.md")]


def test_the_workflow_is_dispatched_by_alerts_and_has_no_concurrency_group() -> None:
    data = _workflow()
    assert data[True] == {"repository_dispatch": {"types": ["alert"]}}  # YAML 1.1: on -> True
    assert "concurrency" not in data
    assert "concurrency" not in data["jobs"]["intake"]
    assert data["permissions"] == {}
    assert data["jobs"]["intake"]["permissions"] == {"contents": "write", "actions": "write"}
    steps = data["jobs"]["intake"]["steps"]
    for step in steps:  # the event's text is never interpolated into a script
        assert "github.event" not in str(step.get("run", ""))
    assert steps[-1]["run"] == 'gh workflow run watch.yml --repo "$GITHUB_REPOSITORY" --ref main'
    assert steps[-1]["if"] == "steps.intake.outputs.watch == 'true'"


def test_an_alert_is_declared_pushed_and_the_watcher_asked_for(
    origin: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bare, env = origin
    runner = _checkout(bare, tmp_path / "runner", env)
    done, output = _run(runner, env, "alertmanager", ALERT)
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["action"] == "declared"
    assert output == "watch=true\n"  # a P0
    (path,) = _incidents(bare, env)
    subject = _git(bare, "log", "-1", "--format=%s", "main", env=env)
    assert subject.startswith(path.split("/")[3] + ": from a alertmanager alert")
    # the same alert again: nothing new, nothing pushed, no watcher asked for
    again = _checkout(bare, tmp_path / "again", env)
    done, output = _run(again, env, "alertmanager", ALERT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "ignored"
    assert output == ""
    assert len(_git(bare, "log", "--format=%H", "main", env=env).split()) == 2


def test_a_run_that_lost_the_race_reads_the_alert_again_on_main(
    origin: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bare, env = origin
    slow = _checkout(bare, tmp_path / "slow", env)  # checked out before the other run pushed
    fast = _checkout(bare, tmp_path / "fast", env)
    done, _ = _run(fast, env, "alertmanager", ALERT)
    assert done.returncode == 0, done.stderr
    done, output = _run(slow, env, "alertmanager", ALERT)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "main moved meanwhile; reading the alert again on it (attempt 2 of 5)" in done.stdout
    assert "rebase" not in done.stdout + done.stderr
    assert len(_incidents(bare, env)) == 1  # one incident for the group, never two
    assert output == ""  # nothing of its own pushed


def test_a_source_that_is_not_one_of_ours_is_refused(
    origin: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bare, env = origin
    runner = _checkout(bare, tmp_path / "runner", env)
    done, _ = _run(runner, env, "alertmanager; rm -rf /", ALERT)
    assert done.returncode == 2
    assert "client_payload.source must be" in done.stdout
    assert _incidents(bare, env) == []
