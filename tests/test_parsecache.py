"""The parse cache makes bulk loads faster, never different."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from incidentctl.core import documents
from tests.conftest import NOW, Invoke, declare, incident_file


@pytest.fixture
def yaml_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose front-matter went through the YAML parser."""
    seen: list[str] = []
    real = documents.load_yaml

    def counting(path: Path, text: str, *, line_offset: int = 0) -> object:
        seen.append(str(path))
        return real(path, text, line_offset=line_offset)

    monkeypatch.setattr(documents, "load_yaml", counting)
    return seen


def _incident_parses(seen: list[str]) -> list[str]:
    return [p for p in seen if p.endswith("incident.md")]


def test_unchanged_files_are_not_parsed_again(
    repo: Path, cli: Invoke, yaml_parses: list[str]
) -> None:
    first, second = declare(cli), declare(cli, at="2026-11-27T15:10:00Z")
    assert cli("list", "--now", NOW).code == 0
    yaml_parses.clear()
    listed = cli("list", "--now", NOW, "--format", "json")
    assert listed.code == 0
    assert _incident_parses(yaml_parses) == []  # both came from the cache
    assert {i["id"] for i in json.loads(listed.out)} == {first, second}


def test_an_edited_file_is_parsed_afresh(repo: Path, cli: Invoke, yaml_parses: list[str]) -> None:
    incident_id = declare(cli)
    assert cli("validate").code == 0
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text().replace("urgency: high", "urgency: hgh"))
    yaml_parses.clear()
    result = cli("validate")
    assert result.code == 1
    assert "urgency" in result.out
    assert _incident_parses(yaml_parses) == [str(path.relative_to(repo))]


def test_cache_can_be_turned_off_and_survives_corruption(
    repo: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, yaml_parses: list[str]
) -> None:
    declare(cli)
    folder = Path(os.environ["INCIDENTCTL_CACHE_DIR"])
    monkeypatch.setenv("INCIDENTCTL_CACHE", "off")
    assert cli("validate").code == 0
    assert list(folder.glob("*.json")) == []
    monkeypatch.delenv("INCIDENTCTL_CACHE")
    assert cli("validate").code == 0
    (cache,) = folder.glob("*.json")
    cache.write_text("{not json")
    yaml_parses.clear()
    assert cli("validate").code == 0  # a broken cache is ignored and rewritten
    assert len(_incident_parses(yaml_parses)) == 1
    yaml_parses.clear()
    assert cli("validate").code == 0
    assert _incident_parses(yaml_parses) == []


def test_reviews_are_cached_too_and_deleted_files_are_forgotten(
    repo: Path, cli: Invoke, yaml_parses: list[str]
) -> None:
    incident_id = declare(cli, at="2026-11-27T10:00:00Z")
    assert cli("resolve", incident_id, "--at", "2026-11-27T11:00:00Z", "--now", NOW).code == 0
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    assert cli("pir", "check").code == 1  # a fresh draft: gaps
    assert cli("overdue", "--now", NOW).code == 1
    yaml_parses.clear()
    assert cli("pir", "check").code == 1
    assert cli("overdue", "--now", NOW).code == 1
    assert yaml_parses == []  # incident and review both came from the cache
    (cache,) = Path(os.environ["INCIDENTCTL_CACHE_DIR"]).glob("*.json")
    assert "pir.md" in cache.read_text()
    (incident_file(repo, incident_id).parent / "pir.md").unlink()
    assert cli("validate").code == 0
    assert "pir.md" not in cache.read_text()  # a full scan forgets files that are gone


def test_off_in_ci_unless_asked_for(
    repo: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, yaml_parses: list[str]
) -> None:
    declare(cli)
    folder = Path(os.environ["INCIDENTCTL_CACHE_DIR"])
    monkeypatch.setenv("CI", "true")  # a fresh runner: nothing to reuse, so nothing written
    assert cli("validate").code == 0
    assert list(folder.glob("*.json")) == []
    monkeypatch.setenv("INCIDENTCTL_CACHE", "on")
    assert cli("validate").code == 0
    yaml_parses.clear()
    assert cli("validate").code == 0
    assert _incident_parses(yaml_parses) == []
