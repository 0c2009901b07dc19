"""`incidentctl site build`: what is published, in which shapes, and what never is."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from incidentctl.cli.app import run
from incidentctl.core.timevalues import parse_timestamp
from tests.conftest import NOW, Invoke, declare, incident_file
from tests.site_helpers import MARK, ROOT, plant_markers, site_files, split

INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
COMPONENT_STATES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}


def build(root: Path, out: Path, *extra: str, now: str = NOW) -> int:
    return run(["--repo", str(root), "site", "build", "--out", str(out), "--now", now, *extra])


def load(out: Path, rel: str) -> dict[str, object]:
    data = json.loads((out / rel).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_sample_site_is_deterministic_and_rebuilds_incrementally(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(samples, tmp_path / "a", "--name", "Parcelly") == 0
    assert build(samples, tmp_path / "b", "--name", "Parcelly") == 0
    first, second = site_files(tmp_path / "a"), site_files(tmp_path / "b")
    assert first == second
    capsys.readouterr()
    assert build(samples, tmp_path / "a", "--name", "Parcelly") == 0
    assert "(0 written, 0 removed)" in capsys.readouterr().out
    for rel in (
        "index.html",
        "history/index.html",
        "history/2026-11.html",
        "maintenance.html",
        "history.atom",
        "feeds/tracking.atom",
        "badges/overall.svg",
        "badges/tracking.svg",
        "incidents/INC-20261127-9TRX.html",
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json",
    ):
        assert rel in first, rel


def test_statuspage_api_shapes_and_vocabularies(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(samples, out, "--name", "Parcelly", "--base-url", "https://example.org/s") == 0
    summary = load(out, "api/v2/summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    page = summary["page"]
    assert isinstance(page, dict)
    assert set(page) == {"id", "name", "url", "time_zone", "updated_at"}
    assert page["name"] == "Parcelly"
    assert page["url"] == "https://example.org/s"  # absolute, no trailing slash
    assert page["id"] == "parcelly"  # policies/components.yaml page.id, not from --name
    status = summary["status"]
    assert isinstance(status, dict)
    assert status["indicator"] in INDICATORS
    # from the components (at worst degraded performance), not the open P1's priority
    assert status == {"indicator": "minor", "description": "Partially Degraded Service"}
    components = summary["components"]
    assert isinstance(components, list)
    for c in components:
        assert c["status"] in COMPONENT_STATES
        assert {"id", "name", "status", "position", "group", "group_id", "page_id"} <= set(c)
    by_id = {c["id"]: c for c in components}
    assert by_id["tracking"]["status"] == "degraded_performance"
    assert by_id["checkout"]["status"] == "operational"
    groups = [c for c in components if c["group"]]
    assert {g["name"] for g in groups} == {"Customer-facing", "Core services", "Infrastructure"}
    core = next(g for g in groups if g["name"] == "Core services")
    assert by_id["tracking"]["group_id"] == core["id"]
    assert "tracking" in core["components"]
    unresolved = summary["incidents"]
    assert isinstance(unresolved, list)
    assert [i["id"] for i in unresolved] == ["INC-20261127-R5JC", "INC-20261127-9TRX"]
    tracking = unresolved[1]
    assert tracking["status"] == "investigating"
    assert tracking["impact"] == "major"
    assert tracking["shortlink"] == "https://example.org/s/incidents/INC-20261127-9TRX.html"
    updates = tracking["incident_updates"]
    assert [u["created_at"] for u in updates] == sorted(
        (u["created_at"] for u in updates), reverse=True
    )
    assert {"id", "status", "body", "incident_id", "created_at", "display_at"} <= set(updates[0])
    assert [c["id"] for c in tracking["components"]] == ["tracking"]
    # the scheduled maintenance sample is upcoming at NOW
    (maintenance,) = summary["scheduled_maintenances"]  # type: ignore[misc]
    assert maintenance["status"] == "scheduled"
    assert maintenance["impact"] == "maintenance"
    assert maintenance["scheduled_for"] == "2026-12-06T02:00:00.000Z"
    incidents = load(out, "api/v2/incidents.json")["incidents"]
    assert isinstance(incidents, list)
    for inc in incidents:
        assert inc["status"] in INCIDENT_STATES
        assert inc["impact"] in {"none", "minor", "major", "critical"}
    states = {i["id"]: i["status"] for i in incidents}
    assert states["INC-20261103-4K7Q"] == "postmortem"  # approved PIR marked public
    assert states["INC-20261014-7VGA"] == "resolved"  # approved, not public
    assert "INC-20261126-H3ZD" not in states  # the security incident is private
    assert "INC-20261125-M2PW" not in states
    status_doc = load(out, "api/v2/status.json")
    assert status_doc["status"] == status
    maintenances = load(out, "api/v2/scheduled-maintenances.json")["scheduled_maintenances"]
    assert isinstance(maintenances, list)
    assert [m["id"] for m in maintenances] == ["MNT-20261206-PG17"]


def test_no_internal_value_reaches_any_output(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = plant_markers(samples)
    assert planted > 150
    out = tmp_path / "site"
    assert build(samples, out, "--name", "Parcelly") == 0
    assert "not valid" not in capsys.readouterr().err  # every planted file was read
    files = site_files(out)
    leaks = {
        rel: data.decode("utf-8", "replace").lower().count(MARK)
        for rel, data in files.items()
        if MARK.encode() in data.lower()
    }
    assert leaks == {}
    for rel, data in files.items():
        assert b"98765" not in data, rel  # affected_users
    # the build is not vacuous: public text is there
    page = files["incidents/INC-20261103-4K7Q.html"].decode()
    assert "Post-incident review" in page
    assert "rolling the release back restored" in page
    assert "We are investigating delays in parcel tracking updates" in files["index.html"].decode()


def test_public_but_unreleased_security_incident_leaks_nothing_until_released(
    samples: Path, tmp_path: Path, cli: Invoke
) -> None:
    """The sample breach, every internal field marked, hand-edited to `public: true` with a
    public update: without a release no marker and not its ID reach the site, JSON or Atom."""
    plant_markers(samples)
    breach = "INC-20261126-H3ZD"
    path = samples / f"incidents/2026/11/{breach}/incident.md"
    data, _ = split(path)
    assert data["security_breach"] is True
    assert data["public"] is False
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\npublic: false\n", "\npublic: true\n", 1), encoding="utf-8")
    marks = re.compile(rf"{MARK}-?\d{{4}}", re.IGNORECASE)
    mine = set(marks.findall(path.read_text(encoding="utf-8")))
    assert len(mine) > 30
    out = tmp_path / "site"
    assert build(samples, out) == 0
    files = site_files(out)
    for rel, content in files.items():
        assert not marks.search(content.decode("utf-8", "replace")), rel
        assert breach.encode() not in content, rel

    assert cli("release", breach, "--reason", "Approved by legal", "--now", NOW).code == 0
    assert build(samples, out) == 0
    files = site_files(out)
    assert f"incidents/{breach}.html" in files
    for rel in ("api/v2/incidents.json", "history.atom", "feeds/public-api.atom"):
        assert breach.encode() in files[rel], rel
    # released: its title and public update are published, no other field of it
    data, _ = split(path)
    shown = {data["title"], next(e["text"] for e in reversed(data["timeline"]) if e.get("public"))}
    leaked = {m for c in files.values() for m in marks.findall(c.decode("utf-8", "replace"))}
    assert leaked == shown


def test_pir_summary_needs_approval_and_public(samples: Path, tmp_path: Path) -> None:
    pir = samples / "incidents/2026/11/INC-20261103-4K7Q/pir.md"
    text = pir.read_text(encoding="utf-8")
    pir.write_text(text.replace("status: approved", "status: in-review"), encoding="utf-8")
    out = tmp_path / "site"
    assert build(samples, out) == 0
    page = (out / "incidents/INC-20261103-4K7Q.html").read_text(encoding="utf-8")
    assert "Post-incident review" not in page
    assert "rolling the release back" not in page
    states = {i["id"]: i["status"] for i in load(out, "api/v2/incidents.json")["incidents"]}  # type: ignore[union-attr]
    assert states["INC-20261103-4K7Q"] == "resolved"


def test_incident_made_private_disappears_on_rebuild(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build(samples, out) == 0
    page = out / "incidents/INC-20261127-9TRX.html"
    assert page.is_file()
    path = samples / "incidents/2026/11/INC-20261127-9TRX/incident.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\npublic: true\n", "\npublic: false\n", 1), encoding="utf-8")
    assert build(samples, out) == 0
    assert not page.exists()
    for rel, data in site_files(out).items():
        assert b"INC-20261127-9TRX" not in data, rel
        assert b"Tracking updates delayed" not in data, rel


def test_public_incident_without_public_update_is_not_published(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli, "--category", "security", "--security-breach")
    assert cli("site", "build", "--out", "site", "--now", NOW).code == 0
    for rel, data in site_files(repo / "site").items():
        assert incident_id.encode() not in data, rel
        assert b"Checkout returns 502" not in data, rel


def test_title_with_quotes_backslashes_and_emoji_round_trips(cli: Invoke, repo: Path) -> None:
    title = 'He said "it\'s down" \\o/ C:\\path\\ 🔥🚚 </script><!--'
    result = cli(
        "declare", "--title", title, "--impact", "high", "--urgency", "high",
        "--services", "example-service", "--at", "2026-11-27T15:00:00Z", "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    incident_id = result.out.strip()
    body = 'Update with "quotes", a backslash \\ and 🚚'
    result = cli(
        "update", incident_id, "-m", body, "--public", "--status", "investigating",
        "--at", "2026-11-27T15:10:00Z", "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert cli("site", "build", "--out", "site", "--now", NOW).code == 0
    out = repo / "site"
    for rel in ("api/v2/summary.json", "api/v2/incidents.json", "api/v2/incidents/unresolved.json"):
        (incident,) = load(out, rel)["incidents"]  # type: ignore[misc]
        assert incident["name"] == title
        assert incident["incident_updates"][0]["body"] == body
    feed = ET.parse(out / "history.atom").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert feed.find("a:entry/a:title", ns).text == title  # type: ignore[union-attr]
    badge = ET.parse(out / "badges/overall.svg").getroot()
    assert badge.tag.endswith("svg")


def test_feeds_use_the_base_url_when_given_and_relative_links_otherwise(
    samples: Path, tmp_path: Path
) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert build(samples, tmp_path / "abs", "--base-url", "https://status.example.com") == 0
    assert build(samples, tmp_path / "rel") == 0
    absolute = ET.parse(tmp_path / "abs/feeds/tracking.atom").getroot()
    relative = ET.parse(tmp_path / "rel/feeds/tracking.atom").getroot()
    link = absolute.find("a:entry/a:link", ns)
    assert link is not None
    assert link.get("href") == "https://status.example.com/incidents/INC-20261127-9TRX.html"
    link = relative.find("a:entry/a:link", ns)
    assert link is not None
    assert link.get("href") == "../incidents/INC-20261127-9TRX.html"
    index = (tmp_path / "abs/index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://status.example.com/">' in index
    for path in (tmp_path / "rel").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert 'href="/' not in text, path  # no root-absolute link: works under /<repo>/
        assert 'src="/' not in text, path


def test_out_folder_with_foreign_files_is_refused(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert build(samples, out) == 2
    err = capsys.readouterr().err
    assert "holds files that `incidentctl site build` did not write" in err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "index.html").exists()


def test_bad_base_url_is_a_usage_error(samples: Path, tmp_path: Path) -> None:
    assert build(samples, tmp_path / "s", "--base-url", "javascript:alert(1)") == 2


def test_invalid_incident_is_left_off_with_a_warning(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = samples / "incidents/2026/11/INC-20261127-9TRX/incident.md"
    _, body = split(path)
    path.write_text("---\nid: [unclosed\n---\n" + body, encoding="utf-8")
    assert build(samples, tmp_path / "s") == 0
    err = capsys.readouterr().err
    assert "INC-20261127-9TRX/incident.md: not valid, left off the site" in err
    assert not (tmp_path / "s/incidents/INC-20261127-9TRX.html").exists()


def test_replay_before_an_incident_hides_it(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert build(samples, out, now="2026-11-27T14:00:00Z") == 0
    unresolved = load(out, "api/v2/incidents/unresolved.json")["incidents"]
    assert unresolved == []
    assert load(out, "api/v2/status.json")["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }


def test_replay_during_an_incident_shows_only_what_was_known_then(
    samples: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s"
    assert build(samples, out, now="2026-11-03T14:10:00Z") == 0  # the P0, 15 minutes in
    (incident,) = load(out, "api/v2/incidents/unresolved.json")["incidents"]  # type: ignore[misc]
    assert incident["id"] == "INC-20261103-4K7Q"
    assert incident["status"] == "investigating"
    assert incident["resolved_at"] is None
    assert [u["status"] for u in incident["incident_updates"]] == ["investigating"]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "rolled it back" not in page  # the 14:19 update had not been written yet


def test_incident_page_lists_public_updates_newest_first(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    for at, text, status in (
        ("2026-11-27T15:05:00Z", "first public words", "investigating"),
        ("2026-11-27T15:20:00Z", "second public words", "identified"),
    ):
        args = ["update", incident_id, "-m", text, "--public", "--status", status]
        assert cli(*args, "--at", at, "--now", NOW).code == 0
    cli("update", incident_id, "-m", "internal only words", "--at", "2026-11-27T15:30:00Z",
        "--now", NOW)  # fmt: skip
    assert cli("site", "build", "--out", "site", "--now", NOW).code == 0
    page = (repo / "site/incidents" / f"{incident_id}.html").read_text(encoding="utf-8")
    assert page.index("second public words") < page.index("first public words")
    assert '<time datetime="2026-11-27T15:20:00Z">' in page
    assert "Identified" in page
    assert "internal only words" not in page
    assert incident_file(repo, incident_id).is_file()


def _incident(cli: Invoke, title: str, impact: str, at: str) -> str:
    result = cli(
        "declare", "--title", title, "--impact", impact, "--urgency", "high",
        "--services", "example-service", "--components", "web", "--at", at, "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    incident_id = result.out.strip()
    update = ["update", incident_id, "-m", f"{title} public", "--public", "--now", NOW]
    assert cli(*update, "--at", at).code == 0
    return incident_id


def test_uptime_and_day_states_come_from_impact_windows(cli: Invoke, repo: Path) -> None:
    from incidentctl.core.documents import Loaded
    from incidentctl.site.status import component_views, publish
    from incidentctl.store.repo import Repo

    (repo / "policies" / "components.yaml").write_text(
        "components:\n  - id: web\n    name: Web\n    services: [example-service]\n"
        "  - id: other\n    name: Other\n",
        encoding="utf-8",
    )
    major = _incident(cli, "Major one", "high", "2026-11-20T10:00:00Z")
    for verb, at in (("ack", "10:05"), ("engage", "10:06"), ("resolve", "11:30")):
        assert cli(verb, major, "--at", f"2026-11-20T{at}:00Z", "--now", NOW).code == 0
    partial = _incident(cli, "Partial one", "medium", "2026-11-25T23:00:00Z")
    for verb, at in (("ack", "25T23:01"), ("engage", "25T23:02"), ("resolve", "26T00:40")):
        assert cli(verb, partial, "--at", f"2026-11-{at}:00Z", "--now", NOW).code == 0
    repo_obj = Repo(repo)
    loaded = [x.incident for x in repo_obj.scan() if isinstance(x, Loaded)]
    components = repo_obj.policy().components
    public = [p for p in (publish(i, None, components) for i in loaded) if p is not None]
    now = parse_timestamp(NOW)
    web, other = component_views(components, public, [], now)
    total = (now - parse_timestamp("2026-08-30T00:00:00Z")).total_seconds()
    expected = 100 * (1 - (90 * 60 + 0.3 * 100 * 60) / total)
    assert web.uptime == pytest.approx(expected)
    assert other.uptime == 100.0
    assert len(web.days) == 90
    assert web.days[0].day.isoformat() == "2026-08-30"
    assert web.days[-1].day.isoformat() == "2026-11-27"
    states = {d.day.isoformat(): (d.state, d.incidents) for d in web.days if d.incidents}
    assert states == {
        "2026-11-20": ("major_outage", ["Major one"]),
        "2026-11-25": ("partial_outage", ["Partial one"]),
        "2026-11-26": ("partial_outage", ["Partial one"]),
    }
    assert web.status == "operational"


def test_preview_server_serves_the_built_site(samples: Path, tmp_path: Path) -> None:
    import threading
    import urllib.request

    from incidentctl.site.serve import server

    out = tmp_path / "site"
    assert build(samples, out) == 0
    httpd = server(out, 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        host, port = httpd.server_address[:2]
        assert host == "127.0.0.1"
        base = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(base + "api/v2/summary.json", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/json"
            assert json.loads(response.read())["page"]["name"] == "Service"
        with urllib.request.urlopen(base + "history.atom", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/atom+xml"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_serve_without_a_build_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["site", "serve", "--out", str(tmp_path / "nothing")]) == 2
    assert "index.html does not exist" in capsys.readouterr().err


def test_pages_workflow_is_pinned_least_privilege_and_clean() -> None:
    import subprocess
    import sys

    import yaml

    path = ROOT / ".github" / "workflows" / "pages.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["group"] == "pages"
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    assert triggers["schedule"]
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert {u.split("@")[0] for u in uses} >= {
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    }
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    for step in steps:
        assert "${{" not in step.get("run", ""), step  # inputs reach shell through env only
    zizmor = Path(sys.executable).parent / "zizmor"
    done = subprocess.run(
        [str(zizmor), "--offline", "--persona", "pedantic", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_repository_can_override_a_page_template(cli: Invoke, repo: Path) -> None:
    (repo / "policies" / "components.yaml").write_text("components: []\n", encoding="utf-8")
    folder = repo / "templates" / "site"
    folder.mkdir(parents=True)
    (folder / "maintenance.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block main %}<h1>Our own {{ page.name }}</h1>'
        "{% endblock %}",
        encoding="utf-8",
    )
    assert cli("site", "build", "--out", "site", "--name", "A & B", "--now", NOW).code == 0
    page = (repo / "site" / "maintenance.html").read_text(encoding="utf-8")
    assert "<h1>Our own A &amp; B</h1>" in page
    assert "No components are listed yet." in (repo / "site" / "index.html").read_text("utf-8")
    (folder / "maintenance.html.j2").write_text("{{ page.nope }}", encoding="utf-8")
    result = cli("site", "build", "--out", "site", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith("error: templates/site/maintenance.html.j2:1: ")
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** and `code`", "<p><strong>bold</strong> and <code>code</code></p>"),
        (
            "[status](https://example.com/x)",
            '<p><a href="https://example.com/x" rel="nofollow noopener noreferrer">status</a></p>',
        ),
        ("[bad](javascript:alert(1))", "<p>[bad](javascript:alert(1))</p>"),
        ("<b onclick=x>hi</b>", "<p>&lt;b onclick=x&gt;hi&lt;/b&gt;</p>"),
        (  # no images (bytes, tracking): the link stays, as a link
            "![img](https://example.com/i.png)",
            '<p>!<a href="https://example.com/i.png" rel="nofollow noopener noreferrer">'
            "img</a></p>",
        ),
        ("# Not a heading", "<p># Not a heading</p>"),
    ],
)
def test_markdown_is_rendered_and_sanitized(text: str, expected: str) -> None:
    from incidentctl.site.markup import render

    assert str(render(text)) == expected


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 27, 16, 5, 9, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-8))),
        datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),  # strftime's %Y does not pad: "999"
        datetime(1, 1, 1, 9, 0, tzinfo=UTC),
    ],
)
def test_page_times_read_as_their_formats_say(at: datetime) -> None:
    """The page filters (a date part formatted once per day, the clock as digits) show what
    their strftime formats would."""
    from incidentctl.site import pages

    utc = at.astimezone(UTC)
    for _ in range(2):  # the second time from the per-day cache
        assert pages._iso(at) == utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert pages._human(at) == utc.strftime("%-d %b %Y, %H:%M UTC")
        assert pages._day(utc.date()) == utc.strftime("%-d %b %Y")
        assert pages._day(at) == at.strftime("%-d %b %Y")  # a time given to `day`: its day


def test_a_pir_is_read_only_for_an_incident_the_site_shows(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken pir.md leaves its incident's review off the site, with a warning; the PIR
    of an incident the site does not show (no public update) is not read at all."""
    folder = samples / "incidents/2026/11/INC-20261103-4K7Q"
    pir = folder / "pir.md"
    pir.write_text(pir.read_text(encoding="utf-8").replace("\npublic: true\n", "\npublic: [\n"))
    assert build(samples, tmp_path / "shown") == 0
    assert "INC-20261103-4K7Q/pir.md: not valid, left off the site" in capsys.readouterr().err
    page = (tmp_path / "shown/incidents/INC-20261103-4K7Q.html").read_text(encoding="utf-8")
    assert "Post-incident review" not in page
    incident = folder / "incident.md"
    text = incident.read_text(encoding="utf-8")
    assert "\npublic: true\n" in text  # still public: true, but no update of it is
    incident.write_text(text.replace("\n    public: true", "\n    public: false"))
    assert build(samples, tmp_path / "hidden") == 0
    assert "pir.md" not in capsys.readouterr().err
    assert not (tmp_path / "hidden/incidents/INC-20261103-4K7Q.html").exists()
