"""This repository's own sample content is a valid incident repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentctl.cli.app import run
from incidentctl.core.documents import Loaded
from incidentctl.core.model import Status
from incidentctl.store.repo import Repo

ROOT = Path(__file__).resolve().parent.parent


def test_samples_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--repo", str(ROOT), "validate"]) == 0, capsys.readouterr().out


def test_samples_cover_every_state_and_priority() -> None:
    loaded = [x for x in Repo(ROOT).scan() if isinstance(x, Loaded)]
    incidents = [x.incident for x in loaded]
    assert len(incidents) >= 6
    assert {i.status for i in incidents} == set(Status)
    assert {i.priority.value for i in incidents} == {"P0", "P1", "P2", "P3"}
    assert any(i.security_breach for i in incidents)
    assert any(i.is_open and i.tier == 2 and i.priority.value == "P1" for i in incidents)
    assert len(Repo(ROOT).runbooks.files()) == 3
