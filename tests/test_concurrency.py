"""Concurrent commands on one repository: real processes race, and no write is ever lost.

The racers (tests/racer.py) are separate Python processes, each running CLI commands sent to
it; a round sends one command to every racer at once, so they contend for the same document.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock

from incidentctl.core.model import EscalationKind, EventKind
from incidentctl.deadlines.timers import SNOOZABLE
from incidentctl.github.sync import ReadBack
from incidentctl.github.writeback import write_back
from incidentctl.store import locks
from incidentctl.store.actions import set_action_key
from incidentctl.store.files import create_exclusive
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, Result, declare, git, incident_file

RACER = Path(__file__).with_name("racer.py")
AT = "2026-11-27T15:05:00Z"  # every racing command at one time: any order is a valid timeline
TIMING = ["--at", AT, "--now", NOW]


class Racers:
    """Processes that each run the commands sent to them, for as long as the test needs."""

    def __init__(self, count: int, env: dict[str, str] | None = None) -> None:
        self.procs = [
            subprocess.Popen(
                [sys.executable, str(RACER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, **(env or {})},
            )
            for _ in range(count)
        ]
        for proc in self.procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"

    def race(self, commands: list[list[str]]) -> list[Result]:
        """Send one command to each racer at once; their results, in the same order."""
        for proc, argv in zip(self.procs, commands, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(argv) + "\n")
            proc.stdin.flush()
        results = []
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line, f"racer {proc.pid} died (exit {proc.poll()})"
            results.append(Result(**json.loads(line)))
        return results

    def close(self) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.procs:
            proc.wait(timeout=30)


@pytest.fixture
def racers() -> Iterator[type[Racers]]:
    started: list[Racers] = []

    class Started(Racers):
        def __init__(self, count: int, env: dict[str, str] | None = None) -> None:
            super().__init__(count, env)
            started.append(self)

    yield Started
    for group in started:
        group.close()


def incidentctl(repo: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """One command in a process of its own (what a second responder's terminal runs)."""
    done = subprocess.run(
        [sys.executable, "-m", "incidentctl", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def test_racing_edits_lose_no_write(cli: Invoke, repo: Path, racers: type[Racers]) -> None:
    """20 rounds of three processes mixing update, ack, escalate and snooze on one incident:
    every command that reported success is in the file, exactly once."""
    incident_id = declare(cli)
    group = racers(3)
    kinds = ("update", "ack", "escalate", "snooze")
    updates: list[str] = []
    snoozes: list[tuple[str, str]] = []  # (rule, reason)
    acks = escalations = 0
    commands = 0
    snoozes_sent: list[str] = []
    for round_no in range(20):
        planned: list[tuple[str, list[str], str]] = []
        for racer in range(3):
            kind = kinds[(round_no + racer) % len(kinds)]
            tag = f"r{round_no}p{racer}"
            if kind == "update":
                argv = ["update", incident_id, "-m", f"update {tag}"]
            elif kind == "ack":
                argv = ["ack", incident_id]
            elif kind == "escalate":
                argv = ["escalate", incident_id, "--tier", "2"]
            else:
                rule = SNOOZABLE[len(snoozes_sent) % len(SNOOZABLE)]  # a rule not snoozed yet
                snoozes_sent.append(rule)
                argv = ["snooze", incident_id, "--rule", rule, "--for", "15m", "--reason", tag]
            planned.append((kind, ["--repo", str(repo), *argv, *TIMING], tag))
        for (kind, argv, tag), result in zip(
            planned, group.race([p[1] for p in planned]), strict=True
        ):
            commands += 1
            if result.code != 0:  # refused, and saying why: never a crash, never a timeout
                assert result.code == 2, result.err
                assert kind in ("ack", "escalate"), result.err
                assert "already" in result.err, result.err
                continue
            if kind == "update":
                updates.append(f"update {tag}")
            elif kind == "ack":
                acks += 1
            elif kind == "escalate":
                escalations += 1
            else:
                snoozes.append((argv[argv.index("--rule") + 1], tag))
    assert commands == 60
    incident = Repo(repo).find(incident_id).incident
    texts = [e.text for e in incident.timeline]
    assert all(texts.count(text) == 1 for text in updates), "an update was lost or doubled"
    assert len(updates) == 15
    assert acks == 1
    assert [e.kind for e in incident.timeline].count(EventKind.ACKNOWLEDGED) == 1
    assert incident.acknowledged_at is not None
    assert escalations == 1
    assert [e.kind for e in incident.escalations] == [EscalationKind.TIER_2]
    snoozed = [(e.rule, e.reason) for e in incident.timeline if e.kind == EventKind.SNOOZED]
    assert sorted(snoozed) == sorted(snoozes)
    assert len(snoozes) == 15
    # one event per successful command, after the declaration: nothing missing, nothing extra
    assert len(incident.timeline) == 1 + len(updates) + acks + escalations + len(snoozes)
    result = cli("validate")
    assert result.code == 0, result.out + result.err


def test_two_declares_of_one_id_one_wins(repo: Path, racers: type[Racers]) -> None:
    """Ten pairs: the same path (created exclusively), or every other pair detected in two
    different months (two folders: the ID itself is locked while it is checked)."""
    group = racers(2)
    for pair in range(10):
        incident_id = f"INC-20261127-P{pair:03d}"
        months = ("2026-11-27T15:05:00Z", "2026-10-27T15:05:00Z" if pair % 2 else AT)
        results = group.race(
            [
                [
                    "--repo",
                    str(repo),
                    "declare",
                    "--id",
                    incident_id,
                    "--title",
                    f"Declared by racer {racer}",
                    "--impact",
                    "high",
                    "--urgency",
                    "high",
                    "--services",
                    "example-service",
                    "--at",
                    months[racer],
                    "--now",
                    NOW,
                ]
                for racer in range(2)
            ]
        )
        codes = sorted(r.code for r in results)
        assert codes == [0, 2], [r.err for r in results]
        winner = next(racer for racer, r in enumerate(results) if r.code == 0)
        loser = results[1 - winner]
        assert f"incident {incident_id} already exists" in loser.err
        incident = Repo(repo).find(incident_id).incident  # one file: find refuses two
        assert incident.title == f"Declared by racer {winner}"
    left = [p.name for p in repo.glob("incidents/**/*") if p.name.endswith(".tmp")]
    assert left == []


def test_a_held_lock_is_an_error_and_nothing_is_written(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    lock_path = locks.lock_file(repo, path)
    assert lock_path.parent == repo / ".git" / "incidentctl" / "locks"
    with FileLock(lock_path):  # another process's edit, in the middle of it
        result = incidentctl(
            repo, "update", incident_id, "-m", "lost?", *TIMING,
            env={"INCIDENTCTL_LOCK_TIMEOUT": "0.3"},
        )  # fmt: skip
    assert result.code == 2, result.err
    rel = path.relative_to(repo).as_posix()
    assert f"{rel}: is being edited by another process; gave up after 0.3 s" in result.err
    assert "nothing was written" in result.err
    assert "Traceback" not in result.err
    assert path.read_bytes() == before
    again = incidentctl(repo, "update", incident_id, "-m", "now it goes in", *TIMING)
    assert again.code == 0, again.err
    assert "now it goes in" in path.read_text(encoding="utf-8")


def test_the_timeout_names_the_command_holding_the_lock(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    with locks.hold(repo, path):  # this test process, as incidentctl holds it
        result = incidentctl(
            repo, "ack", incident_id, *TIMING, env={"INCIDENTCTL_LOCK_TIMEOUT": "0.2"}
        )
    assert result.code == 2
    assert f"is being edited by pid {os.getpid()} on " in result.err
    assert "Acknowledged" not in path.read_text(encoding="utf-8")


def test_the_kernel_releases_the_lock_of_a_killed_process(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    lock_path = locks.lock_file(repo, path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom filelock import FileLock\nlock = FileLock(sys.argv[1])\n"
            "lock.acquire()\nprint('held', flush=True)\ntime.sleep(120)",
            str(lock_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        blocked = incidentctl(
            repo, "ack", incident_id, *TIMING, env={"INCIDENTCTL_LOCK_TIMEOUT": "0.2"}
        )
        assert blocked.code == 2
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    result = incidentctl(repo, "ack", incident_id, *TIMING, env={"INCIDENTCTL_LOCK_TIMEOUT": "5"})
    assert result.code == 0, result.err


def test_a_dry_run_takes_no_lock(cli: Invoke, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_bytes()
    monkeypatch.setenv("INCIDENTCTL_LOCK_TIMEOUT", "0.1")
    with FileLock(locks.lock_file(repo, path)):
        dry = cli("update", incident_id, "-m", "just looking", "--dry-run", *TIMING)
        wet = cli("update", incident_id, "-m", "for real", *TIMING)
    assert dry.code == 0, dry.err
    assert "+    text: just looking" in dry.out
    assert wet.code == 2
    assert path.read_bytes() == before


def test_no_lock_file_is_in_the_tracked_tree(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    assert cli("ack", incident_id, *TIMING).code == 0
    assert cli("update", incident_id, "-m", "x", *TIMING).code == 0
    status = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    changed = sorted(line[3:] for line in status)
    path = incident_file(repo, incident_id).relative_to(repo).as_posix()
    assert [p for p in changed if not p.startswith("policies/snapshots/")] == [path]
    held = list((repo / ".git" / "incidentctl" / "locks").glob("*.lock"))
    assert held  # the locks are there, in the git directory, not beside the documents


def test_outside_git_the_locks_live_in_the_user_cache(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    cache = tmp_path / "cache"
    monkeypatch.setenv("INCIDENTCTL_CACHE_DIR", str(cache))
    assert cli("init", str(plain)).code == 0
    shutil.rmtree(plain / ".git")  # init made it a git repository: make it a plain folder
    before = {p for p in plain.rglob("*")}
    result = cli(
        "--repo", str(plain), "declare", "--title", "T", "--impact", "low", "--urgency", "low",
        "--services", "example-service", "--id", "INC-20261127-PLN1", *TIMING,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert list((cache / "locks").glob("*/*.lock"))
    added = sorted(p.relative_to(plain).as_posix() for p in set(plain.rglob("*")) - before)
    assert not [p for p in added if p.endswith(".lock")]
    assert "incidents/2026/11/INC-20261127-PLN1/incident.md" in added


def test_a_bad_lock_timeout_is_a_usage_error(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    incident_id = declare(cli)
    monkeypatch.setenv("INCIDENTCTL_LOCK_TIMEOUT", "soon")
    result = cli("ack", incident_id, *TIMING)
    assert result.code == 2
    assert "INCIDENTCTL_LOCK_TIMEOUT='soon' is not a number of seconds" in result.err


def test_exclusive_creation_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "incident.md"
    create_exclusive(target, "first\n")
    with pytest.raises(FileExistsError):
        create_exclusive(target, "second\n")
    assert target.read_text(encoding="utf-8") == "first\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["incident.md"]  # no temp left
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


def test_write_back_applies_to_the_pir_as_it_is_now(cli: Invoke, repo: Path) -> None:
    """What `actions sync` read may be stale by the time it writes back: each action is found
    again by its ID, and an action someone finished meanwhile keeps what they wrote."""
    incident_id = declare(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    for title in ("First", "Second", "Third"):
        result = cli(
            "pir", "add-action", incident_id, "--title", title, "--owner", "@alice",
            "--horizon", "immediate", "--now", NOW,
        )  # fmt: skip
        assert result.code == 0, result.err
    pir = incident_file(repo, incident_id).parent / "pir.md"
    rel = pir.relative_to(repo).as_posix()
    store = Repo(repo)
    # meanwhile, by hand: A1 was marked done (and the sync's read of the PIR is stale)
    doc, _ = store.pirs.load(pir)
    doc.front = set_action_key(doc.front, 0, "status", "done")
    doc.front = set_action_key(doc.front, 0, "done_at", date(2026, 11, 27))
    pir.write_text(doc.text(), encoding="utf-8")
    back = [
        ReadBack(rel, "A1", 0, "#11", date(2026, 11, 28)),  # closed on GitHub too
        ReadBack(rel, "A3", 1, "#13", date(2026, 11, 29), "cancelled"),  # index from before
    ]
    lines = write_back(store, back, dry_run=False)
    assert lines == [f"{rel}: A1 issue #11", f"{rel}: A3 issue #13, cancelled 2026-11-29"]
    actions = Repo(repo).pirs.load(pir)[1].actions
    assert [(a.id, a.issue, a.status.value, a.done_at) for a in actions] == [
        ("A1", "#11", "done", date(2026, 11, 27)),  # what the person wrote stays
        ("A2", None, "open", None),
        ("A3", "#13", "cancelled", date(2026, 11, 29)),
    ]
