"""Security and data-loss incidents are private until released: `release`, and what the
site, validate, GitHub and the notifications say before and after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidentctl.core import disclosure, lifecycle
from incidentctl.core.errors import TransitionError
from incidentctl.core.model import EventKind, Incident
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.deadlines import timers
from incidentctl.github.summary import Changed, section
from incidentctl.github.tracking import incident_issue
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Invoke, Result, declare, incident_file
from tests.githubdouble import GitHubDouble
from tests.site_helpers import site_files

TITLE = "Leaked key ZQXTITLE used to read addresses"
SUMMARY = "Forensics ZQXSUMMARY in progress"
IMPACT = "Addresses ZQXIMPACT were read"
SECRETS = ("ZQXTITLE", "ZQXSUMMARY", "ZQXIMPACT")
DETECTED = "2026-11-27T15:00:00Z"


def _breach(cli: Invoke, *flags: str) -> str:
    """A security incident on the example component, declared through the CLI."""
    result = cli(
        "declare", "--title", TITLE, "--summary", SUMMARY, "--user-impact", IMPACT,
        "--impact", "high", "--urgency", "high", "--services", "example-service",
        "--components", "example-service", *(flags or ("--security-breach",)),
        "--at", DETECTED, "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    return result.out.strip()


def _incident(repo: Path, incident_id: str) -> Incident:
    return Repo(repo).find(incident_id).incident


def _release(cli: Invoke, incident_id: str, at: str = "2026-11-27T15:30:00Z") -> None:
    result = cli(
        "release", incident_id, "--reason", "Approved by legal", "--by", "@legal",
        "--at", at, "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err


def _public_update(cli: Invoke, incident_id: str, at: str) -> Result:
    return cli(
        "update", incident_id, "-m", "We are investigating ZQXUPDATE.", "--public",
        "--status", "investigating", "--at", at, "--now", NOW,
    )  # fmt: skip


# -- declare, triage, release, update --------------------------------------------------------
@pytest.mark.parametrize("flag", ["--security-breach", "--data-loss"])
def test_declare_with_a_flag_writes_public_false(cli: Invoke, repo: Path, flag: str) -> None:
    incident_id = _breach(cli, flag)
    text = incident_file(repo, incident_id).read_text(encoding="utf-8")
    assert "\npublic: false\n" in text
    assert "\npublic: true\n" not in text
    assert cli("validate").code == 0


def test_ordinary_declare_stays_public(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    assert "\npublic: true\n" in incident_file(repo, incident_id).read_text(encoding="utf-8")


def test_triage_that_finds_a_breach_makes_the_incident_private(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    result = cli(
        "triage", incident_id, "--impact", "high", "--urgency", "high", "--data-loss",
        "--at", "2026-11-27T15:10:00Z", "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    incident = _incident(repo, incident_id)
    assert incident.data_loss
    assert not incident.public
    assert incident.timeline[-1].text is not None
    assert "data loss: private until released" in incident.timeline[-1].text
    assert cli("validate").code == 0


def test_release_records_who_and_why_and_makes_it_public(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    path = incident_file(repo, incident_id)
    before = path.read_text(encoding="utf-8")
    dry = cli("release", incident_id, "--reason", "Approved by legal", "--dry-run", "--now", NOW)
    assert dry.code == 0, dry.err
    assert "+public: true" in dry.out
    assert path.read_text(encoding="utf-8") == before
    _release(cli, incident_id)
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("\npublic: false\n", "\npublic: true\n").replace(
        "---\n# ",
        "  - at: 2026-11-27T15:30:00Z\n    kind: released\n    by: '@legal'\n"
        "    text: 'Released for the public status page: Approved by legal'\n"
        "    reason: Approved by legal\n---\n# ",
    )
    incident = _incident(repo, incident_id)
    event = incident.timeline[-1]
    assert (event.kind, event.by, event.reason) == (
        EventKind.RELEASED,
        "@legal",
        "Approved by legal",
    )
    assert incident.public
    assert cli("validate").code == 0


def test_release_refuses_what_needs_no_release(cli: Invoke) -> None:
    ordinary = declare(cli)
    result = cli("release", ordinary, "--reason", "x", "--now", NOW)
    assert result.code == 2
    assert "neither a security breach nor a data loss" in result.err
    assert "--public" in result.err  # the hint: it is public already
    assert "Traceback" not in result.err
    private = declare(cli, "--private", at="2026-11-27T15:05:00Z")
    result = cli("release", private, "--reason", "x", "--now", NOW)
    assert result.code == 2
    assert "set `public: true`" in result.err

    breach = _breach(cli)
    empty = cli("release", breach, "--reason", " ", "--now", NOW)
    assert empty.code == 2
    assert "hint: --reason" in empty.err
    _release(cli, breach)
    again = cli("release", breach, "--reason", "twice", "--now", NOW)
    assert again.code == 2
    assert "was already released at 2026-11-27T15:30:00Z by @legal" in again.err


def test_public_update_waits_for_the_release(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    refused = _public_update(cli, incident_id, "2026-11-27T15:20:00Z")
    assert refused.code == 2
    assert f"incidentctl release {incident_id} --reason" in refused.err
    assert cli("update", incident_id, "-m", "internal", "--now", NOW).code == 0
    _release(cli, incident_id, at=NOW)
    assert _public_update(cli, incident_id, NOW).code == 0


def test_release_is_pure_and_refuses_an_event_before_the_last() -> None:
    incident = Incident.model_validate(
        {
            "id": "INC-20261127-AB12", "title": TITLE, "impact": "high", "urgency": "high",
            "priority": "P0", "detected_at": DETECTED, "security_breach": True,
            "public": False,
            "timeline": [{"at": "2026-11-27T15:20:00Z", "kind": "note", "text": "n"}],
        }
    )  # fmt: skip
    now = parse_timestamp(NOW)
    with pytest.raises(TransitionError, match="before the last timeline event"):
        lifecycle.release(
            incident, reason="ok", at=parse_timestamp("2026-11-27T15:10:00Z"), now=now, by=None
        )
    released = lifecycle.release(incident, reason="ok", at=now, now=now, by="@a")
    assert not incident.public
    assert released.public
    assert disclosure.withheld(incident)
    assert not disclosure.withheld(released)


# -- the status page -------------------------------------------------------------------------
def _components(out: Path) -> dict[str, str]:
    data = json.loads((out / "api/v2/components.json").read_text(encoding="utf-8"))
    return {c["id"]: c["status"] for c in data["components"]}


def _leaks(out: Path, *needles: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rel, data in site_files(out).items():
        hits = [n for n in needles if n.encode() in data]
        if hits:
            found[rel] = hits
    return found


def test_site_shows_a_breach_only_after_its_release(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    # a hand edit makes it public and posts a public update, but nobody released it
    path = incident_file(repo, incident_id)
    text = path.read_text(encoding="utf-8").replace("\npublic: false\n", "\npublic: true\n")
    text = text.replace(
        "---\n# ",
        "  - at: 2026-11-27T15:20:00Z\n    kind: update\n    public: true\n"
        "    status: investigating\n    text: We are investigating ZQXUPDATE.\n---\n# ",
    )
    path.write_text(text, encoding="utf-8")
    needles = (incident_id, *SECRETS, "ZQXUPDATE")
    assert cli("site", "build", "--out", "site", "--now", NOW).code == 0
    assert _leaks(repo / "site", *needles) == {}
    assert _components(repo / "site")["example-service"] == "operational"

    _release(cli, incident_id)
    assert cli("site", "build", "--out", "site", "--now", NOW).code == 0
    out = repo / "site"
    page = (out / f"incidents/{incident_id}.html").read_text(encoding="utf-8")
    assert "ZQXTITLE" in page
    assert "ZQXUPDATE" in page
    for rel in ("api/v2/incidents.json", "history.atom", "index.html"):
        assert incident_id in (out / rel).read_text(encoding="utf-8"), rel
    assert _components(out)["example-service"] == "major_outage"
    leaked = {s for hits in _leaks(out, "ZQXSUMMARY", "ZQXIMPACT").values() for s in hits}
    assert leaked == set()  # released: the title and public updates, never internal text

    # a replay before the release shows what the page showed then: nothing of it
    assert cli("site", "build", "--out", "then", "--now", "2026-11-27T15:25:00Z").code == 0
    assert _leaks(repo / "then", *needles) == {}


def test_validate_reports_a_public_unreleased_breach(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    path = incident_file(repo, incident_id)
    text = path.read_text(encoding="utf-8")
    line = text.split("\n").index("public: false") + 1
    path.write_text(text.replace("\npublic: false\n", "\npublic: true\n"), encoding="utf-8")
    result = cli("validate", "--format", "json")
    assert result.code == 1
    (finding,) = json.loads(result.out)["findings"]
    assert (finding["rule"], finding["line"], finding["field"]) == ("disclosure", line, "public")
    assert finding["hint"] == (
        f"set `public: false`, or release it: incidentctl release {incident_id} --reason '...'"
    )
    text_out = cli("validate").out
    assert f"incident.md:{line}: public:" in text_out or f":{line}:" in text_out
    # without the key, public defaults to true: the flag's line is reported
    path.write_text(text.replace("\npublic: false\n", "\n"), encoding="utf-8")
    (finding,) = json.loads(cli("validate", "--format", "json").out)["findings"]
    assert finding["field"] == "security_breach"
    assert "true by default" in finding["message"]
    _release(cli, incident_id)
    assert cli("validate").code == 0


# -- GitHub and the PR comment ----------------------------------------------------------------
def test_tracking_issue_and_pr_summary_use_the_neutral_title(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli, "--data-loss")
    incident = _incident(repo, incident_id)
    spec = incident_issue(incident, "https://example/blob", "incidents/x/incident.md")
    assert spec.title == f"{incident_id} [P0] Data-loss incident {incident_id}"
    assert not any(s in spec.title + spec.body for s in SECRETS)
    assert "restricted until released" in spec.body
    store = Repo(repo)
    policy = store.policy()
    now = parse_timestamp(NOW)
    changed = Changed(incident, "x", policy, True, timers.schedule(incident, policy, now), [])
    head = section(changed).split("\n", 1)[0]
    assert head == f"### {incident_id} [P0] Data-loss incident {incident_id}"
    assert not any(s in section(changed) for s in SECRETS)
    released = lifecycle.release(incident, reason="ok", at=now, now=now, by=None)
    assert incident_issue(released, "u", "r").title == f"{incident_id} [P0] {TITLE}"
    changed = Changed(released, "x", policy, True, [], [])
    assert TITLE in section(changed)


def test_github_sync_names_the_issue_neutrally_until_release(
    cli: Invoke, repo: Path, api: GitHubDouble
) -> None:
    incident_id = _breach(cli)
    assert cli("github", "sync").code == 0
    (issue,) = api.issues("incident")
    assert issue["title"] == f"{incident_id} [P0] Security incident {incident_id}"
    assert not any(s in issue["title"] + issue["body"] for s in SECRETS)
    _release(cli, incident_id)
    assert cli("github", "sync").code == 0
    (issue,) = api.issues("incident")
    assert issue["title"] == f"{incident_id} [P0] {TITLE}"
    assert SUMMARY in issue["body"]


# -- notifications ---------------------------------------------------------------------------
INTERNAL = ("incident-record", "initial-alert", "management-notification", "executive-alert")


def test_notifications_use_neutral_text_until_release(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    for name in (*INTERNAL, "resolution-internal", "kb-article", "runbook-update"):
        result = cli("notify", incident_id, "-t", name, "--format", "json", "--now", NOW)
        assert result.code == 0, (name, result.err)
        assert not any(s in result.out for s in SECRETS), name
    record = cli("notify", incident_id, "-t", "incident-record", "--now", NOW).out
    assert f"Security incident {incident_id}" in record
    assert "restricted until released" in record
    # a public template refuses, and a forced draft is neutral too
    refused = cli("notify", incident_id, "-t", "status-investigating", "--now", NOW)
    assert refused.code == 2
    assert "was not released" in refused.err
    forced = cli("notify", incident_id, "-t", "status-investigating", "--force", "--now", NOW)
    assert forced.code == 0
    assert not any(s in forced.out for s in SECRETS)


def test_reveal_shows_the_incident_team_the_real_text(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    shown = cli("notify", incident_id, "-t", "incident-record", "--reveal", "--now", NOW)
    assert shown.code == 0, shown.err
    assert TITLE in shown.out
    assert SUMMARY in shown.out
    assert IMPACT in shown.out
    assert "for the incident team only" in shown.err
    public = cli("notify", incident_id, "-t", "status-investigating", "--reveal", "--now", NOW)
    assert public.code == 2
    assert "--reveal is for internal templates" in public.err
    _release(cli, incident_id)
    after = cli("notify", incident_id, "-t", "management-notification", "--now", NOW)
    assert TITLE in after.out
    assert "warning" not in after.err


def test_related_incidents_are_named_neutrally(cli: Invoke, repo: Path) -> None:
    breach = _breach(cli)
    other = declare(cli, at="2026-11-27T15:40:00Z")
    store = Repo(repo)
    from incidentctl.notify import values

    now = parse_timestamp(NOW)
    context = values.context(
        _incident(repo, other), store.policy(), now, related=[_incident(repo, breach)]
    )
    assert context["related"][0]["title"] == f"Security incident {breach}"


# -- timers ----------------------------------------------------------------------------------
def test_status_page_timer_starts_at_the_release(cli: Invoke, repo: Path) -> None:
    incident_id = _breach(cli)
    now = parse_timestamp(NOW)
    policy = Repo(repo).policy()

    def first_update(incident: Incident) -> timers.Deadline:
        schedule = timers.schedule(incident, policy, now)
        return next(d for d in schedule if d.rule == "status-page-first-update")

    incident = _incident(repo, incident_id)
    assert first_update(incident).state == timers.NOT_APPLICABLE
    hand_edited = incident.model_copy(update={"public": True})
    assert first_update(hand_edited).state == timers.NOT_APPLICABLE
    _release(cli, incident_id)
    deadline = first_update(_incident(repo, incident_id))
    assert deadline.start == parse_timestamp("2026-11-27T15:30:00Z")


def _published_case(
    public: bool, flag: bool, released: bool, updates: tuple[bool | None, ...]
) -> Incident:
    from tests.test_timers import D, event, incident

    events = [
        event(D, EventKind.UPDATE, public=p) if p is not None else event(D, EventKind.UPDATE)
        for p in updates
    ]
    if released:
        events.append(event(D, EventKind.RELEASED, by="@lead", reason="disclosed"))
    return incident(timers.Priority.P2, *events, public=public, security_breach=flag)


@pytest.mark.parametrize("public", [True, False])
@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("released", [True, False])
@pytest.mark.parametrize("updates", [(), (None,), (False,), (True,), (False, True), (None, False)])
def test_a_site_build_passes_over_only_what_is_surely_unpublished(
    public: bool, flag: bool, released: bool, updates: tuple[bool | None, ...]
) -> None:
    """The site's pre-scan of the parsed front-matter (`maybe_published`) turns an incident
    down only when `published` of its model says no: private, or no public update."""
    from incidentctl.site.status import maybe_published, published

    inc = _published_case(public, flag, released, updates)
    front = inc.model_dump(mode="json", exclude_none=True)
    if not maybe_published(front):
        assert not published(inc)
    if published(inc):
        assert maybe_published(front)
    if not flag:  # what it is for: the ordinary incident is decided without a model
        assert maybe_published(front) == published(inc)
    if True in updates:  # not exactly false, not a list: the model decides
        assert maybe_published({**front, "public": "no"})
    assert maybe_published({**front, "timeline": "not a list"}) != (front.get("public") is False)


def test_a_site_build_does_not_parse_a_private_incident(
    cli: Invoke,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    yaml_parses: list[str],
) -> None:
    """`public: false` on its own line: the build counts the incident as read, does not parse
    it, and publishes exactly what it publishes when every incident is parsed."""
    from incidentctl.store import collection

    private = _breach(cli, "--security-breach")
    shown = declare(cli)
    assert _public_update(cli, shown, "2026-11-27T15:05:00Z").code == 0
    parsed = yaml_parses
    parsed.clear()
    built = cli("site", "build", "--out", str(tmp_path / "a"), "--now", NOW)
    assert built.code == 0, built.err
    assert "1 of 2 incidents published" in built.out
    assert not [p for p in parsed if private in p]
    assert [p for p in parsed if shown in p] == [str(incident_file(repo, shown).relative_to(repo))]
    monkeypatch.setattr(collection, "top_level", lambda *_: None)  # every incident parsed
    parsed.clear()
    again = cli("site", "build", "--out", str(tmp_path / "b"), "--now", NOW)
    assert [p for p in parsed if private in p]
    assert again.out.replace("/b", "/a") == built.out
    assert site_files(tmp_path / "a") == site_files(tmp_path / "b")
