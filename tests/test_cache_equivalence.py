"""The results cache never changes a result: between runs, files are edited, reverted,
renamed, broken and the cache itself corrupted, and every bulk command's output (exit code,
stdout, stderr) with the cache on, twice (filled, then warm), is the same as with it off."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import NOW, Invoke, declare, git, incident_file

COMMANDS: list[tuple[str, ...]] = [
    ("validate",),
    ("validate", "--format", "json"),
    ("validate", "--base", "HEAD", "--format", "json"),
    ("validate", "incidents/2026/11", "--format", "json"),
    ("overdue", "--now", NOW, "--format", "json"),
    ("overdue", "--now", NOW),
    ("overdue", "--now", "2026-11-04T00:00:00Z", "--format", "json"),
    ("overdue", "--now", "2027-06-01T00:00:00Z", "--format", "json"),
    ("overdue", "--now", "2026-11-27T12:00:00Z", "--format", "json"),
    ("pir", "check", "--format", "json"),
    ("list", "--now", NOW, "--format", "json"),
    ("metrics", "--now", NOW, "--since", "365d", "--format", "json"),
]

APPROVED = "status: approved\napproved_at: 2026-11-27T12:00:00Z"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _one(repo: Path, pattern: str) -> Path:
    return sorted(repo.glob(pattern))[0]


def _steps(repo: Path, cache: Path, settled: Path) -> list[tuple[str, Callable[[], None]]]:
    incident = _one(repo, "incidents/*/*/*/incident.md")
    review = _one(repo, "incidents/*/*/*/pir.md")
    settled_review = settled.parent / "pir.md"
    saved = {p: p.read_bytes() for p in (incident, review, settled, settled_review)}
    moved = repo / "incidents" / "2026" / "01" / incident.parent.name

    def cache_files() -> list[Path]:
        return sorted(cache.glob("*.json"))

    def corrupt_cache() -> None:
        for found in cache_files():
            found.write_text(found.read_text()[: len(found.read_text()) // 2])

    def foreign_cache() -> None:
        for found in cache_files():
            found.write_text('{"format": 3, "tool": "x", "root": "/", "results": {}}')

    def policy_edit() -> None:
        _edit(repo / "policies" / "components.yaml", "components:", "# edited\ncomponents:")

    return [
        ("as committed", lambda: None),
        (
            "a settled review back to draft",
            lambda: _edit(settled_review, APPROVED, "status: draft"),
        ),
        ("approved again", lambda: settled_review.write_bytes(saved[settled_review])),
        (
            "closed later",
            lambda: _edit(
                settled, "closed_at: 2026-11-27T10:00:00Z", "closed_at: 2026-11-27T15:30:00Z"
            ),
        ),
        ("the incident as it was", lambda: settled.write_bytes(saved[settled])),
        ("an incident edited", lambda: _edit(incident, "urgency:", "urgency: hgh\nx_urgency:")),
        ("reverted", lambda: incident.write_bytes(saved[incident])),
        ("a review unapproved", lambda: _edit(review, "status: approved", "status: in-review")),
        ("a review broken", lambda: review.write_text("---\nstatus: [\n---\n")),
        ("the review reverted", lambda: review.write_bytes(saved[review])),
        ("the cache cut in half", corrupt_cache),
        ("a folder renamed", lambda: shutil.move(incident.parent, moved)),
        ("renamed back", lambda: shutil.move(moved, incident.parent)),
        ("a foreign cache", foreign_cache),
        ("a policy edited", policy_edit),
        ("a runbook removed", lambda: _one(repo, "runbooks/*.md").unlink()),
        ("the review removed", lambda: review.unlink()),
    ]


def test_every_command_is_the_same_with_the_cache_on_and_off(
    samples: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "results-cache"
    monkeypatch.setenv("INCIDENTCTL_CACHE_DIR", str(cache))
    closed = declare(
        cli, "--impact", "high", "--urgency", "medium", "--services", "checkout-api",
        at="2026-11-27T09:00:00Z",
    )  # fmt: skip
    for command in ("resolve", "close"):
        assert cli(command, closed, "--at", "2026-11-27T10:00:00Z", "--now", NOW).code == 0
    assert cli("pir", "new", closed, "--now", NOW).code == 0
    _edit(incident_file(samples, closed).parent / "pir.md", "status: draft", APPROVED)
    git(samples, "add", "-A")
    git(samples, "commit", "-q", "-m", "base")
    steps = _steps(samples, cache, incident_file(samples, closed))
    compared = 0
    for step, change in steps:
        change()
        for command in COMMANDS:
            monkeypatch.setenv("INCIDENTCTL_CACHE", "off")
            off = cli(*command)
            assert "Traceback" not in off.err, (step, command, off.err)
            monkeypatch.setenv("INCIDENTCTL_CACHE", "on")
            filled, warm = cli(*command), cli(*command)
            for on in (filled, warm):
                assert (on.code, on.out, on.err) == (off.code, off.out, off.err), (step, command)
            compared += 1
    assert compared == len(COMMANDS) * len(steps)
    assert list(cache.glob("*.json"))  # the cache was in use throughout
    assert os.environ["INCIDENTCTL_CACHE"] == "on"
