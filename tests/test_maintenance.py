"""`incidentctl maintenance`: scheduled windows as files, validated, shown on the site."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from incidentctl.checks import maintenance as maintenance_checks
from incidentctl.cli.app import run
from incidentctl.core.policy import Component
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.site.status import (
    component_views,
    maintenance_status,
    page_status,
    publish_maintenance,
)
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke

COMPONENTS = (
    "components:\n"
    "  - id: database\n    name: Database\n    group: Infrastructure\n"
    "    services: [postgres]\n"
    "  - id: checkout\n    name: Checkout\n    services: [checkout-api, example-service]\n"
)


@pytest.fixture
def with_components(repo: Path) -> Path:
    (repo / "policies" / "components.yaml").write_text(COMPONENTS, encoding="utf-8")
    return repo


def schedule(cli: Invoke, *extra: str) -> tuple[int, str, str]:
    result = cli(
        "maintenance", "schedule", "--title", "Database upgrade", "--components", "database",
        "--start", "2026-12-06T02:00:00Z", "--now", NOW, *extra,
    )  # fmt: skip
    return result.code, result.out, result.err


def test_schedule_writes_a_valid_file(cli: Invoke, with_components: Path) -> None:
    code, out, err = schedule(
        cli, "--duration", "2h", "--description", "Sign-in may pause", "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["id"].startswith("MNT-20261206-")
    assert data["scheduled_until"] == "2026-12-06T04:00:00Z"
    path = with_components / data["path"]
    assert path.parent == with_components / "maintenances"
    _, item = Repo(with_components).maintenances.load(path)
    assert item.components == ["database"]
    assert item.description == "Sign-in may pause"
    assert item.by == "@tester"
    assert cli("validate").code == 0


def test_schedule_with_end_and_dry_run_writes_nothing(cli: Invoke, with_components: Path) -> None:
    code, out, _ = schedule(cli, "--end", "2026-12-06T03:00:00Z", "--dry-run", "--id", "MNT-x1")
    assert code == 0
    assert "+scheduled_until: 2026-12-06T03:00:00Z" in out
    assert not (with_components / "maintenances").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--duration", "2h", "--components", "databse"), "unknown component 'databse'"),
        (("--end", "2026-12-06T01:00:00Z"), "before it starts"),
        ((), "give exactly one of --end and --duration"),
        (("--duration", "2h", "--id", "../../etc/x"), "not a valid maintenance ID"),
    ],
)
def test_schedule_refuses_bad_input(
    cli: Invoke, with_components: Path, extra: tuple[str, ...], message: str
) -> None:
    code, _, err = schedule(cli, *extra)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not list(with_components.glob("maintenances/*.md"))


def test_unknown_component_gets_a_suggestion(cli: Invoke, with_components: Path) -> None:
    _, _, err = schedule(cli, "--duration", "2h", "--components", "databse")
    assert "hint: did you mean 'database'?" in err


def test_schedule_refuses_to_overwrite(cli: Invoke, with_components: Path) -> None:
    assert schedule(cli, "--duration", "1h", "--id", "MNT-one")[0] == 0
    code, _, err = schedule(cli, "--duration", "1h", "--id", "MNT-one")
    assert code == 2
    assert "maintenances/MNT-one.md already exists" in err


def test_validate_reports_bad_maintenance_files(cli: Invoke, with_components: Path) -> None:
    folder = with_components / "maintenances"
    folder.mkdir()
    (folder / "MNT-a.md").write_text(
        "---\nid: MNT-b\ntitle: Upgrade\ncomponents: [databse]\n"
        "scheduled_for: 2026-12-06T04:00:00Z\nscheduled_until: 2026-12-06T02:00:00Z\n---\n",
        encoding="utf-8",
    )
    (folder / "MNT-c.md").write_text(
        "---\nid: MNT-c\ntitle: X\ncomponents: [database]\nscheduled_for: 2026-12-06T04:00:00Z\n"
        "scheduled_untill: 2026-12-06T05:00:00Z\n---\n",
        encoding="utf-8",
    )
    result = cli("validate", "--format", "json")
    assert result.code == 1
    found = {(f["path"], f["rule"], f["line"]) for f in json.loads(result.out)["findings"]}
    assert ("maintenances/MNT-a.md", "chronology", 6) in found
    assert ("maintenances/MNT-a.md", "reference", 4) in found
    assert ("maintenances/MNT-a.md", "id-path", 2) in found
    assert any(p == "maintenances/MNT-c.md" and r == "schema" for p, r, _ in found)
    text = cli("validate").out
    assert "maintenances/MNT-a.md:4: error: [reference] components[0]: unknown component" in text
    assert "did you mean 'database'?" in text


def test_duplicate_maintenance_ids_are_reported(with_components: Path) -> None:
    folder = with_components / "maintenances"
    folder.mkdir()
    for name in ("MNT-a", "MNT-b"):
        (folder / f"{name}.md").write_text(
            "---\nid: MNT-a\ntitle: T\ncomponents: [database]\n"
            "scheduled_for: 2026-12-06T02:00:00Z\nscheduled_until: 2026-12-06T03:00:00Z\n---\n",
            encoding="utf-8",
        )
    repo = Repo(with_components)
    rules = [f.rule for f in maintenance_checks.check_all(repo.maintenances.scan(), repo.policy())]
    assert sorted(rules) == ["duplicate-id", "id-path"]


def _at(text: str) -> datetime:
    return parse_timestamp(text)


def test_status_follows_the_clock_and_marks_components(cli: Invoke, with_components: Path) -> None:
    assert schedule(cli, "--duration", "2h", "--id", "MNT-db")[0] == 0
    repo = Repo(with_components)
    _, item = repo.maintenances.load(repo.maintenances.path("MNT-db"))
    components = [Component(id="database", name="Database"), Component(id="api", name="API")]
    states = {}
    starts = publish_maintenance(item, _at("2026-12-06T02:00:00Z"))
    assert starts is not None
    assert starts.status == "in_progress"  # the window includes its start, not its end
    for now in ("2026-12-06T01:59:59Z", "2026-12-06T03:00:00Z", "2026-12-06T04:00:00Z"):
        shown = publish_maintenance(item, _at(now))
        assert shown is not None
        states[now] = shown.status
        views = component_views(components, [], [shown], _at(now))
        if shown.status == "in_progress":
            assert [v.status for v in views] == ["under_maintenance", "operational"]
            assert page_status(views, [], [shown]) == ("maintenance", "Service Under Maintenance")
            assert views[0].uptime == 100.0  # maintenance is not downtime
            assert views[0].days[-1].state == "under_maintenance"
    assert list(states.values()) == ["scheduled", "in_progress", "completed"]
    private = item.model_copy(update={"public": False})
    assert publish_maintenance(private, _at(NOW)) is None
    cancelled = item.model_copy(update={"cancelled": True})
    assert publish_maintenance(cancelled, _at("2026-12-06T03:00:00Z")) is None
    assert maintenance_status(cancelled, _at(NOW)) == "cancelled"
    ended = item.model_copy(update={"completed_at": _at("2026-12-06T02:30:00Z")})
    assert maintenance_status(ended, _at("2026-12-06T02:45:00Z")) == "completed"


def test_list_and_site_show_the_maintenance(cli: Invoke, with_components: Path) -> None:
    assert schedule(cli, "--duration", "2h", "--id", "MNT-db")[0] == 0
    result = cli("maintenance", "list", "--now", "2026-12-06T03:00:00Z", "--format", "json")
    (row,) = json.loads(result.out)["maintenances"]
    assert row["status"] == "in_progress"
    assert "MNT-db  scheduled" in cli("maintenance", "list", "--now", NOW).out
    out = with_components / "site"
    code = run(["site", "build", "--out", str(out), "--now", "2026-12-06T03:00:00Z"])
    assert code == 0
    summary = json.loads((out / "api/v2/summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }
    (m,) = summary["scheduled_maintenances"]
    assert m["status"] == "in_progress"
    statuses = {c["id"]: c["status"] for c in summary["components"]}
    assert statuses["database"] == "under_maintenance"
    page = (out / "maintenance.html").read_text(encoding="utf-8")
    assert 'id="MNT-db"' in page


def test_update_complete_and_cancel(cli: Invoke, with_components: Path) -> None:
    code, _, err = schedule(cli, "--duration", "2h", "--id", "MNT-20261206-PG17")
    assert code == 0, err
    path = with_components / "maintenances" / "MNT-20261206-PG17.md"
    path.write_text(path.read_text().replace("---\n# ", "---\n<!-- ops notes -->\n# ", 1))
    before = path.read_text()

    def update(*args: str, now: str = "2026-12-06T03:00:00Z") -> tuple[int, str]:
        result = cli("maintenance", "update", "MNT-20261206-PG17", *args, "--now", now)
        return result.code, result.out + result.err

    early = update("--complete", "--at", "2026-12-06T01:00:00Z")
    assert early[0] == 2
    assert "its window starts at 2026-12-06T02:00:00Z" in early[1]
    # --at may run ahead of now by the clock drift every --at allows, and no more
    ahead = update("-m", "Soon", "--at", "2026-12-06T02:05:01Z", now="2026-12-06T02:00:00Z")
    assert ahead[0] == 2
    assert "2026-12-06T02:05:01Z is in the future" in ahead[1]
    assert update("-m", "Started", "--at", "2026-12-06T02:05:00Z", now="2026-12-06T02:00:00Z") == (
        0, "MNT-20261206-PG17: updated at 2026-12-06T02:05:00Z\n"
    )  # fmt: skip
    assert update("-m", "Done", "--complete")[0] == 0
    after = path.read_text()
    assert after.endswith(before.split("---\n", 2)[2])  # the body is kept byte for byte
    _, item = Repo(with_components).maintenances.load(path)
    assert [u.text for u in item.updates] == ["Started", "Done"]
    assert item.completed_at == parse_timestamp("2026-12-06T03:00:00Z")
    again = update("--cancel")
    assert again[0] == 2
    assert "already completed at 2026-12-06T03:00:00Z" in again[1]
    assert update()[0] == 2  # nothing to do is a usage error
    unknown = cli("maintenance", "update", "MNT-20261206-PG18", "-m", "x", "--now", NOW)
    assert unknown.code == 2
    assert "did you mean MNT-20261206-PG17?" in unknown.err
    assert cli("validate").code == 0
