"""The release path: one version, a tag-triggered workflow that publishes with trusted
publishing and least privilege, and a changelog kept as fragments."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from incidentctl import __version__
from tests.conftest import ROOT

SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "incidentctl.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_release_runs_on_a_version_tag_and_publishes_with_trusted_publishing() -> None:
    workflow = _workflow()
    on = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert on == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert list(jobs) == ["build", "publish", "github-release"]
    with_token = [name for name, job in jobs.items() if "id-token" in job.get("permissions", {})]
    assert with_token == ["publish"]
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert "uses" not in publish  # a job of its own, not a reusable workflow
    (action,) = [s["uses"] for s in publish["steps"] if "pypi-publish" in s.get("uses", "")]
    assert action.startswith("pypa/gh-action-pypi-publish@")
    steps = " ".join(s.get("run", "") for s in jobs["build"]["steps"])
    assert "python -m build" in steps
    assert "twine check --strict" in steps
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    for job in jobs.values():
        for step in job["steps"]:
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]


def test_the_changelog_is_kept_as_fragments() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    config = project["tool"]["towncrier"]
    assert config["directory"] == "changelog.d"
    types = {t["directory"] for t in config["type"]}
    fragments = [
        p for p in (ROOT / "changelog.d").iterdir() if p.name not in config.get("ignore", [])
    ]
    assert fragments
    for path in fragments:
        assert path.name.split(".")[-2] in types, path.name
        assert path.suffix == ".md"
    marker = config["start_string"].strip()
    assert marker in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
