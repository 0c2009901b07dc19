"""The site's outputs as real consumers read them: the api/v2 files under the field rules of
Atlassian Statuspage's v2 public API (types, nullability, vocabularies, non-empty updates),
as strictly typed clients (aRez, serde or TypeScript models) apply them, and the Atom feeds
through feedparser, as feed readers do.

The rules are written here as pydantic models in strict mode with no unknown fields: a
string where a number belongs, a null where the API always has a value, a status outside its
vocabulary or an empty `incident_updates` fails the test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urljoin

import feedparser  # type: ignore[import-untyped]
import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from incidentctl.cli.app import run
from tests.conftest import NOW, Invoke

BASE = "https://status.example.com/parcelly"
DURING = "2026-12-06T03:00:00Z"  # the sample maintenance is in progress
AFTER = "2026-12-08T12:00:00Z"  # and completed


def _absolute(value: str) -> str:
    assert re.fullmatch(r"https?://[^/\s]+(/\S*)?", value), f"not an absolute URL: {value!r}"
    return value


def _page_url(value: str) -> str:
    assert not value.endswith("/"), f"page.url ends in a slash: {value!r}"
    return _absolute(value)


Timestamp = Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
Url = Annotated[str, AfterValidator(_absolute)]
PageUrl = Annotated[str, AfterValidator(_page_url)]
Id = Annotated[str, Field(min_length=1)]
ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
MaintenanceStatus = Literal["scheduled", "in_progress", "verifying", "completed"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Page(_Strict):
    id: Id
    name: Annotated[str, Field(min_length=1)]
    url: PageUrl
    time_zone: str
    updated_at: Timestamp


class Status(_Strict):
    indicator: Literal["none", "minor", "major", "critical", "maintenance"]
    description: Annotated[str, Field(min_length=1)]


class Component(_Strict):
    id: Id
    name: str
    status: ComponentStatus
    created_at: Timestamp
    updated_at: Timestamp
    position: Annotated[int, Field(ge=1)]
    description: str | None
    showcase: bool
    start_date: str | None
    group_id: Id | None
    page_id: Id
    group: bool
    only_show_if_degraded: bool
    components: list[Id] | None = None  # a group's members


class Update(_Strict):
    id: Id
    status: str
    body: Annotated[str, Field(min_length=1)]
    incident_id: Id
    created_at: Timestamp
    updated_at: Timestamp
    display_at: Timestamp
    affected_components: list[dict[str, str]] | None
    deliver_notifications: bool
    custom_tweet: str | None
    tweet_id: str | None


class IncidentUpdate(Update):
    status: IncidentStatus


class MaintenanceUpdate(Update):
    status: MaintenanceStatus


class Incident(_Strict):
    id: Id
    name: str
    status: IncidentStatus
    created_at: Timestamp
    updated_at: Timestamp
    monitoring_at: Timestamp | None
    resolved_at: Timestamp | None
    impact: Literal["none", "minor", "major", "critical"]
    shortlink: Url
    started_at: Timestamp
    page_id: Id
    incident_updates: Annotated[list[IncidentUpdate], Field(min_length=1)]
    components: list[Component]


class Maintenance(_Strict):
    id: Id
    name: str
    status: MaintenanceStatus
    created_at: Timestamp
    updated_at: Timestamp
    monitoring_at: Timestamp | None
    resolved_at: Timestamp | None
    impact: Literal["none", "maintenance", "minor", "major", "critical"]
    shortlink: Url
    started_at: Timestamp | None  # only once it has started
    page_id: Id
    incident_updates: Annotated[list[MaintenanceUpdate], Field(min_length=1)]
    components: list[Component]
    scheduled_for: Timestamp
    scheduled_until: Timestamp


class Summary(_Strict):
    page: Page
    components: list[Component]
    incidents: list[Incident]
    scheduled_maintenances: list[Maintenance]
    status: Status


class StatusDoc(_Strict):
    page: Page
    status: Status


class Components(_Strict):
    page: Page
    components: list[Component]


class Incidents(_Strict):
    page: Page
    incidents: list[Incident]


class Maintenances(_Strict):
    page: Page
    scheduled_maintenances: list[Maintenance]


DOCUMENTS: dict[str, type[_Strict]] = {
    "api/v2/summary.json": Summary,
    "api/v2/status.json": StatusDoc,
    "api/v2/components.json": Components,
    "api/v2/incidents.json": Incidents,
    "api/v2/incidents/unresolved.json": Incidents,
    "api/v2/scheduled-maintenances.json": Maintenances,
    "api/v2/scheduled-maintenances/upcoming.json": Maintenances,
    "api/v2/scheduled-maintenances/active.json": Maintenances,
}


def build(root: Path, out: Path, *extra: str, now: str = NOW) -> None:
    code = run(["--repo", str(root), "site", "build", "--out", str(out), "--now", now, *extra])
    assert code == 0


def parse_api(out: Path) -> dict[str, _Strict]:
    """Every api/v2 file read by the strict models (a violation raises)."""
    return {
        rel: model.model_validate(json.loads((out / rel).read_text(encoding="utf-8")))
        for rel, model in DOCUMENTS.items()
    }


@pytest.mark.parametrize("now", [NOW, DURING, AFTER])
def test_every_api_file_of_the_samples_parses_under_statuspage_rules(
    samples: Path, tmp_path: Path, now: str
) -> None:
    out = tmp_path / "site"
    build(samples, out, "--base-url", BASE + "/", now=now)
    docs = parse_api(out)
    summary = docs["api/v2/summary.json"]
    assert isinstance(summary, Summary)
    assert summary.page.url == BASE  # the trailing slash of --base-url is not kept
    assert summary.page.id == "parcelly"
    for rel, doc in docs.items():
        assert doc.page == summary.page, rel  # one page, in every file
    components = summary.components
    assert all(c.page_id == "parcelly" for c in components)
    for incident in [*summary.incidents, *summary.scheduled_maintenances]:
        assert incident.shortlink.startswith(BASE + "/"), incident.shortlink
        assert incident.page_id == "parcelly"
        assert {c.id for c in incident.components} <= {c.id for c in components}
    # positions: the top level 1..N, each group's members 1..M within it
    top = [c.position for c in components if c.group_id is None]
    assert top == list(range(1, len(top) + 1))
    for group in (c for c in components if c.group):
        members = [c for c in components if c.group_id == group.id]
        assert [m.id for m in members] == group.components
        assert [m.position for m in members] == list(range(1, len(members) + 1))


def test_top_level_status_says_what_the_components_say(samples: Path, tmp_path: Path) -> None:
    """At the samples' now every component is at most degraded: Statuspage says minor
    ("Partially Degraded Service"), whatever the open incidents' priority."""
    out = tmp_path / "site"
    build(samples, out, "--base-url", BASE)
    summary = parse_api(out)["api/v2/summary.json"]
    assert isinstance(summary, Summary)
    states = {c.status for c in summary.components if not c.group}
    assert states == {"operational", "degraded_performance"}
    assert any(i.impact == "major" for i in summary.incidents)  # the open P1
    assert summary.status == Status(indicator="minor", description="Partially Degraded Service")
    build(samples, out, "--base-url", BASE, now=DURING)
    summary = parse_api(out)["api/v2/summary.json"]
    assert isinstance(summary, Summary)
    leaves = {c.id: c.status for c in summary.components if not c.group}
    affected = {"database", "auth", "checkout"}
    assert {c for c, s in leaves.items() if s == "under_maintenance"} == affected
    # a degraded component outranks maintenance, as on Statuspage
    assert "degraded_performance" in leaves.values()
    assert summary.status == Status(indicator="minor", description="Partially Degraded Service")


def test_page_status_rules_by_the_worst_component() -> None:
    from datetime import UTC, datetime

    from incidentctl.site.status import ComponentView, page_status

    def views(*states: str) -> list[ComponentView]:
        now = datetime(2026, 11, 27, tzinfo=UTC)
        return [ComponentView(f"c{i}", "C", None, None, i, s, 100.0, [], now)
                for i, s in enumerate(states)]  # fmt: skip

    assert page_status(views("operational"), [], []) == ("none", "All Systems Operational")
    assert page_status(views("major_outage", "operational"), [], []) == (
        "major", "Partial System Outage"
    )  # fmt: skip
    assert page_status(views("major_outage", "major_outage"), [], []) == (
        "critical", "Major System Outage"
    )  # fmt: skip
    assert page_status(views("partial_outage", "degraded_performance"), [], []) == (
        "minor", "Minor Service Outage"
    )  # fmt: skip
    assert page_status(views("partial_outage"), [], []) == ("major", "Partial System Outage")
    assert page_status(views("degraded_performance"), [], []) == (
        "minor", "Degraded System Service"
    )  # fmt: skip
    assert page_status(views("under_maintenance", "degraded_performance"), [], [])[0] == "minor"
    assert page_status([], [], []) == ("none", "All Systems Operational")


def test_maintenance_updates_keep_their_own_status(cli: Invoke, samples: Path) -> None:
    """A window scheduled without a description has one update from the start; each posted
    update keeps the status it was posted in; started_at only once it started."""
    schedule = cli(
        "maintenance", "schedule", "--title", "Carrier API migration", "--components",
        "tracking", "--start", "2026-12-10T06:00:00Z", "--duration", "90m", "--id",
        "MNT-20261210-CARR", "--now", NOW,
    )  # fmt: skip
    assert schedule.code == 0, schedule.err
    steps = (
        ("2026-12-10T05:30:00Z", "Starting in 30 minutes."),
        ("2026-12-10T06:05:00Z", "The migration has started."),
        ("2026-12-10T07:10:00Z", "Migrated; checking the carriers' scans.", "--verifying"),
        ("2026-12-10T07:20:00Z", "Done.", "--complete"),
    )
    out = samples / "_site"

    def shown(now: str) -> Maintenance:
        build(samples, out, "--base-url", BASE, now=now)
        doc = parse_api(out)["api/v2/scheduled-maintenances.json"]
        assert isinstance(doc, Maintenances)
        return next(m for m in doc.scheduled_maintenances if m.id == "MNT-20261210-CARR")

    first = shown(NOW)
    assert first.status == "scheduled"
    assert first.started_at is None
    assert [u.status for u in first.incident_updates] == ["scheduled"]
    assert "from 2026-12-10 06:00 to 2026-12-10 07:30 UTC" in first.incident_updates[0].body
    for at, text, *flags in steps:
        args = ("maintenance", "update", "MNT-20261210-CARR", "-m", text, *flags)
        result = cli(*args, "--at", at, "--now", at)
        assert result.code == 0, result.err
    verifying = shown("2026-12-10T07:15:00Z")
    assert verifying.status == "verifying"
    assert verifying.started_at == "2026-12-10T06:00:00.000Z"
    assert [u.status for u in verifying.incident_updates] == [
        "verifying", "in_progress", "scheduled", "scheduled"
    ]  # fmt: skip
    done = shown("2026-12-11T00:00:00Z")
    assert done.status == "completed"
    assert done.resolved_at == "2026-12-10T07:20:00.000Z"
    assert [(u.status, u.body) for u in done.incident_updates[:2]] == [
        ("completed", "Done."),
        ("verifying", "Migrated; checking the carriers' scans."),
    ]
    # the statuses are recorded in the file: a later build never rewrites them
    text = (samples / "maintenances/MNT-20261210-CARR.md").read_text(encoding="utf-8")
    assert "status: verifying" in text
    assert "status: in_progress" in text


def test_a_maintenance_that_starts_and_ends_unannounced_gets_statuspage_updates(
    samples: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(samples, out, "--base-url", BASE, now=AFTER)
    doc = parse_api(out)["api/v2/scheduled-maintenances.json"]
    assert isinstance(doc, Maintenances)
    (pg17,) = doc.scheduled_maintenances
    assert [(u.status, u.created_at) for u in pg17.incident_updates] == [
        ("completed", "2026-12-06T04:00:00.000Z"),
        ("in_progress", "2026-12-06T02:00:00.000Z"),
        ("scheduled", "2026-11-27T11:30:00.000Z"),
    ]
    assert len({u.id for u in pg17.incident_updates}) == 3


# -- feeds ------------------------------------------------------------------------------------
def _feeds(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.atom"))


def _read(out: Path, rel: str, where: str) -> feedparser.FeedParserDict:
    """The feed as a reader fetching it from `where` parses it (relative links resolved),
    served as `site serve` and GitHub Pages serve it."""
    data = (out / rel).read_bytes()
    headers = {"content-location": where, "content-type": "application/atom+xml"}
    return feedparser.parse(data, response_headers=headers)


@pytest.mark.parametrize("base", [BASE, ""])
def test_feeds_parse_cleanly_and_self_is_the_feed_itself(
    samples: Path, tmp_path: Path, base: str
) -> None:
    out = tmp_path / "site"
    build(samples, out, *(("--base-url", base) if base else ()))
    served = base or "https://pages.example/parcelly"  # where a relative build is served
    feeds = _feeds(out)
    assert "history.atom" in feeds
    assert "feeds/tracking.atom" in feeds
    entries = 0
    for rel in feeds:
        location = f"{served}/{rel}"
        parsed = _read(out, rel, location)
        assert not parsed.bozo, (rel, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        (self_link,) = [link for link in parsed.feed.links if link.rel == "self"]
        assert urljoin(location, self_link.href) == location, rel
        assert parsed.feed.id.startswith("urn:uuid:")
        for entry in parsed.entries:
            entries += 1
            assert entry.id.startswith("urn:uuid:")
            assert entry.updated_parsed is not None
            assert urljoin(location, entry.link).startswith(f"{served}/incidents/")
    assert entries > 0


def test_ids_follow_the_stable_page_id_not_the_name(samples: Path, tmp_path: Path) -> None:
    def ids(out: Path) -> tuple[str, list[str]]:
        summary = json.loads((out / "api/v2/summary.json").read_text(encoding="utf-8"))
        parsed = _read(out, "history.atom", f"{BASE}/history.atom")
        feed_ids = [parsed.feed.id] + [e.id for e in parsed.entries]
        return summary["page"]["id"], feed_ids

    build(samples, tmp_path / "a", "--name", "Parcelly", "--base-url", BASE)
    build(samples, tmp_path / "b", "--name", "Parcelly Shipping", "--base-url", BASE)
    assert ids(tmp_path / "a") == ids(tmp_path / "b")  # renaming the page changes no id
    policy = samples / "policies/components.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("  id: parcelly\n", "  id: parcelly-eu\n"), encoding="utf-8")
    build(samples, tmp_path / "c", "--name", "Parcelly", "--base-url", BASE)
    page_id, feed_ids = ids(tmp_path / "c")
    assert page_id == "parcelly-eu"
    assert not set(feed_ids) & set(ids(tmp_path / "a")[1])  # another page: other ids


# -- the page's identity ------------------------------------------------------------------------
def _page(out: Path) -> dict[str, object]:
    data = json.loads((out / "api/v2/summary.json").read_text(encoding="utf-8"))
    page = data["page"]
    assert isinstance(page, dict)
    return page


def test_page_identity_comes_from_the_policy_and_options_override_it(
    cli: Invoke, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = repo / "policies/components.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8") + "page:\n  name: Parcelly\n  id: parcelly\n"
        "  url: https://status.parcelly.example/\n  time_zone: Europe/Berlin\n",
        encoding="utf-8",
    )
    result = cli("site", "build", "--out", "_site", "--now", NOW)
    assert result.code == 0, result.err
    assert "warning" not in result.err
    assert _page(repo / "_site") == {
        "id": "parcelly", "name": "Parcelly", "url": "https://status.parcelly.example",
        "time_zone": "Europe/Berlin", "updated_at": "2026-11-27T16:00:00.000Z",
    }  # fmt: skip
    index = (repo / "_site/index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://status.parcelly.example/">' in index
    # GitHub Actions' Pages URL is only a default: the policy's url wins, options win over both
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", "parcelly/status")
    args = ("--name", "Parcelly EU", "--base-url", "https://eu.example/s/")
    assert cli("site", "build", "--out", "_site", *args, "--now", NOW).code == 0
    page = _page(repo / "_site")
    assert (page["id"], page["name"], page["url"]) == (
        "parcelly",
        "Parcelly EU",
        "https://eu.example/s",
    )


@pytest.mark.parametrize(
    ("repository", "url"),
    [
        ("Parcelly/status", "https://parcelly.github.io/status"),
        ("parcelly/parcelly.github.io", "https://parcelly.github.io"),
    ],
)
def test_in_github_actions_the_default_is_the_pages_url(
    cli: Invoke, repo: Path, monkeypatch: pytest.MonkeyPatch, repository: str, url: str
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", repository)
    result = cli("site", "build", "--out", "_site", "--now", NOW)
    assert result.code == 0, result.err
    page = _page(repo / "_site")
    assert page["url"] == url
    assert page["name"] == repository.partition("/")[2]
    assert "no base URL" not in result.err
    assert "no page.id" in result.err  # ids would follow the URL: the build says to pin one


def test_without_a_base_url_the_build_warns(cli: Invoke, repo: Path) -> None:
    result = cli("site", "build", "--out", "_site", "--now", NOW)
    assert result.code == 0, result.err
    assert "warning: no base URL" in result.err
    page = _page(repo / "_site")
    assert page["url"] is None
    assert page["name"] == "Service"
    assert re.fullmatch(r"[0-9a-f]{12}", str(page["id"]))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("  url: status.example.com\n", "page.url: expected an absolute https:// or http://"),
        ("  time_zone: Mars/Olympus\n", "page.time_zone: unknown time zone 'Mars/Olympus'"),
        ("  id: Parcelly Status\n", "page.id: String should match pattern"),
    ],
)
def test_a_bad_page_setting_is_a_located_error(
    cli: Invoke, repo: Path, setting: str, message: str
) -> None:
    policy = repo / "policies/components.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text + "page:\n" + setting, encoding="utf-8")
    result = cli("site", "build", "--out", "_site", "--now", NOW)
    assert result.code == 2
    line = len(text.splitlines()) + 2  # the setting's own line
    assert result.err.startswith(f"error: policies/components.yaml:{line}: {message}")
    assert "Traceback" not in result.err
