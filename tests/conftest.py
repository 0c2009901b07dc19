"""Shared fixtures: real git repositories in temp folders and one CLI-invoke helper."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incidentctl.cli.app import run
from incidentctl.store import scaffold

NOW = "2026-11-27T16:00:00Z"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2026-11-27T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-11-27T12:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Result:
    code: int
    out: str
    err: str


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(root)}
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test depends on the developer's clock, actor, repository or parse cache."""
    monkeypatch.setenv("INCIDENTCTL_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
    monkeypatch.delenv("INCIDENTCTL_CACHE", raising=False)
    monkeypatch.delenv("CI", raising=False)  # the cache is off in CI by default
    for name in (
        "INCIDENTCTL_NOW",
        "INCIDENTCTL_REPO",
        "GITHUB_ACTOR",
        "NO_COLOR",
        "GITHUB_ACTIONS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INCIDENTCTL_ACTOR", "@tester")


ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLE_CONTENT = ("incidents", "policies", "runbooks", "maintenances")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite the golden files under tests/golden from the current output (then read "
        "the diff before committing).",
    )


Golden = Callable[[str, str], None]


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """Compare output with tests/golden/<name>; `pytest --update-golden` rewrites them."""
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8")

    return check


@pytest.fixture
def samples(repo: Path) -> Path:
    """This repository's sample content (incidents, PIRs, policies, runbooks, maintenances)
    over a fresh `init` repository, committed: the same `repo` the `cli` fixture runs in."""
    for name in SAMPLE_CONTENT:
        target = repo / name
        if target.exists():
            subprocess.run(["rm", "-rf", str(target)], check=True)
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "samples")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh incident repository (what `init` writes) committed in a real git repo."""
    root = tmp_path / "incidents-repo"
    root.mkdir()
    for rel, content in scaffold.files().items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


Invoke = Callable[..., Result]


@pytest.fixture
def cli(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run `incidentctl ARGS` in the repository; returns exit code, stdout, stderr."""

    def invoke(*args: str, cwd: Path | None = None) -> Result:
        monkeypatch.chdir(cwd or repo)
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def declare(cli: Invoke, *extra: str, at: str = "2026-11-27T15:00:00Z") -> str:
    """Declare an incident through the CLI and return its ID."""
    result = cli(
        "declare",
        "--title",
        "Checkout returns 502",
        "--impact",
        "high",
        "--urgency",
        "high",
        "--services",
        "example-service",
        "--at",
        at,
        "--now",
        NOW,
        *extra,
    )
    assert result.code == 0, result.err
    return result.out.strip()


def incident_file(repo: Path, incident_id: str) -> Path:
    (path,) = repo.glob(f"incidents/*/*/{incident_id}/incident.md")
    return path


# -- a real browser for the rendered sites ----------------------------------------------------
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright downloads no browser here


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (one per test session)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",  # CI runs as root
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--disable-component-update",
            ],
        )
        yield instance
        instance.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    """Serve a folder over HTTP on 127.0.0.1 (a random free port); returns its base URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# -- the GitHub API double ----------------------------------------------------------------------
@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The GitHub API double, running on 127.0.0.1, with the Actions environment pointing at
    it and a fake clock for the adapter's waits (tests/githubdouble.py)."""
    from incidentctl.github import client as adapter
    from tests.githubdouble import FakeClock, GitHubDouble, environment

    double = GitHubDouble().start()
    for name, value in environment(double).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(adapter, "CLOCK", FakeClock(double.now))
    yield double
    double.stop()


@pytest.fixture
def yaml_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose front-matter went through the YAML parser, in order (a pre-scan's few
    lines, `documents.top_level`, are parsed under no file's name)."""
    from incidentctl.core import documents

    seen: list[str] = []
    real = documents.load_yaml

    def counting(path: Path, text: str, *, line_offset: int = 0) -> object:
        seen.append(str(path))
        return real(path, text, line_offset=line_offset)

    monkeypatch.setattr(documents, "load_yaml", counting)
    return seen


@pytest.fixture
def models_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The incident and PIR files a model was built of, in order."""
    from incidentctl.store import collection

    built: list[str] = []
    real = collection.validated

    def counting(model: type[Any], doc: Any) -> Any:
        if doc.path.name in ("incident.md", "pir.md"):
            built.append(str(doc.path))
        return real(model, doc)

    monkeypatch.setattr(collection, "validated", counting)
    return built
