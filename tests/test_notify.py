"""`notify`: every template against a golden file, overrides, errors and the public/internal line.

Golden files live in tests/golden/notify/; they are rendered from this repository's own sample
incidents at a fixed --now. After a deliberate change to a template or a sample, regenerate
them with `.venv/bin/python -m pytest tests/test_notify.py --update-golden`, then read the diff.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentctl.cli.app import run
from incidentctl.core.model import Incident, Pir
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import Duration
from incidentctl.notify import messages
from incidentctl.notify import values as notify_values
from incidentctl.store.repo import Repo
from tests.conftest import NOW, Golden, Invoke, Result, declare, incident_file

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "notify"
P0_CLOSED = "INC-20261103-4K7Q"
P1_OPEN = "INC-20261127-9TRX"
BREACH = "INC-20261126-H3ZD"
P2_RESOLVED = "INC-20261118-B6NE"

# golden file -> (incident, template, format); every built-in template has one.
CASES = {
    "incident-record.md": (P1_OPEN, "incident-record", "markdown"),
    "initial-alert.md": (P1_OPEN, "initial-alert", "markdown"),
    "management-notification.md": (P1_OPEN, "management-notification", "markdown"),
    "management-notification.txt": (P0_CLOSED, "management-notification", "text"),
    "executive-alert.md": (BREACH, "executive-alert", "markdown"),
    "status-investigating.md": (P1_OPEN, "status-investigating", "markdown"),
    "status-identified.md": (P1_OPEN, "status-identified", "markdown"),
    "status-monitoring.md": (P0_CLOSED, "status-monitoring", "markdown"),
    "status-resolved.md": (P0_CLOSED, "status-resolved", "markdown"),
    "resolution-public.md": (P0_CLOSED, "resolution-public", "markdown"),
    "resolution-internal.md": (P0_CLOSED, "resolution-internal", "markdown"),
    "resolution-internal.json": (P0_CLOSED, "resolution-internal", "json"),
    "kb-article.md": (P0_CLOSED, "kb-article", "markdown"),
    "runbook-update.md": (P2_RESOLVED, "runbook-update", "markdown"),
}


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def test_every_builtin_template_has_a_golden() -> None:
    assert {name for _, name, _ in CASES.values()} == {t.name for t in messages.TEMPLATES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, capsys: pytest.CaptureFixture[str], golden: Golden) -> None:
    incident, name, fmt = CASES[case]
    args = ["--repo", str(ROOT), "notify", incident, "--template", name, "--format", fmt]
    result = _run(capsys, *args, "--now", NOW)
    assert result.code == 0, result.err
    golden(f"notify/{case}", result.out)


def test_goldens_have_no_leftovers() -> None:
    """No golden without a case, and no crash text or Python repr in any of them."""
    assert {p.name for p in GOLDEN.iterdir()} == set(CASES)
    for path in GOLDEN.iterdir():
        text = path.read_text(encoding="utf-8")
        for bad in ("None", "Undefined", "Traceback", "{{", "{%", "+00:00"):
            assert bad not in text, (path.name, bad)


# -- a repository of our own ------------------------------------------------------------------
MARKED = """\
---
id: INC-20261127-AB12
title: "Checkout slow <script>alert('t')</script>"
status: mitigating
impact: high
urgency: medium
priority: P1
category: performance
detection: user-report
reporter: "@reporter-SECRET1"
summary: "Internal summary SECRET2"
user_impact: "Internal impact SECRET3"
services: [example-service]
affected_users: 12
business_impact:
  revenue: "SECRET4 dollars"
roles:
  incident_commander: "@ic-SECRET5"
security_breach: true
public: {public}
detected_at: 2026-11-27T15:00:00Z
acknowledged_at: 2026-11-27T15:01:00Z
engaged_at: 2026-11-27T15:05:00Z
mitigated_at: 2026-11-27T15:30:00Z
mitigation:
  strategy: rollback
  description: "Rolled back SECRET6"
timeline:
  - at: 2026-11-27T15:00:00Z
    kind: declared
    text: "Declared SECRET7"
  - at: 2026-11-27T15:10:00Z
    kind: note
    text: "Internal note SECRET8"
  - at: 2026-11-27T15:12:00Z
    kind: update
    text: "Internal update SECRET9"
{release}  - at: 2026-11-27T15:15:00Z
    kind: update
    by: "@comms-SECRET15"
    public: true
    status: investigating
    text: "We are looking into slow checkouts."
  - at: 2026-11-27T15:20:00Z
    kind: hypothesis
    text: "Hypothesis SECRET10"
    evidence: "Evidence SECRET11"
    result: confirmed
  - at: 2026-11-27T15:25:00Z
    kind: cause
    text: "Cause SECRET12"
  - at: 2026-11-27T15:30:00Z
    kind: mitigated
    text: "Mitigated SECRET13"
---
# Checkout slow

Body SECRET14
"""


RELEASE = """\
  - at: 2026-11-27T15:14:00Z
    kind: released
    by: "@legal-SECRET16"
    reason: "Approved SECRET17"
    text: "Released for the public status page: Approved SECRET17"
"""


def _plant(repo: Path, *, public: bool = True) -> str:
    """The marked security incident: released and public, or never released and private."""
    folder = repo / "incidents/2026/11/INC-20261127-AB12"
    folder.mkdir(parents=True)
    text = MARKED.replace("{public}", "true" if public else "false")
    text = text.replace("{release}", RELEASE if public else "")
    (folder / "incident.md").write_text(text, encoding="utf-8")
    return "INC-20261127-AB12"


def _override(repo: Path, name: str, text: str) -> Path:
    path = repo / "templates" / "notify" / f"{name}.md.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_public_templates_never_show_internal_fields(repo: Path, cli: Invoke) -> None:
    incident = _plant(repo)
    for template in (t for t in messages.TEMPLATES if t.public):
        result = cli("notify", incident, "-t", template.name, "--format", "json", "--now", NOW)
        assert result.code == 0, result.err
        assert "SECRET" not in result.out, template.name
    internal = cli("notify", incident, "-t", "executive-alert", "--now", NOW)
    assert "SECRET4" in internal.out
    assert "SECRET5" in internal.out


def test_public_context_holds_no_internal_value(repo: Path) -> None:
    _plant(repo)
    store = Repo(repo)
    incident = store.find("INC-20261127-AB12").incident
    full = notify_values.context(incident, store.policy(), NOW_DT)
    assert "SECRET" in repr(full)
    public = notify_values.public_context(full)
    assert "SECRET" not in repr(public)
    assert public["latest_public_update"]["text"] == "We are looking into slow checkouts."


def test_public_template_refuses_a_non_public_incident(repo: Path, cli: Invoke) -> None:
    incident = _plant(repo, public=False)
    result = cli("notify", incident, "-t", "status-investigating", "--now", NOW)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(
        f"error: Security incident {incident} was not released: template "
        "'status-investigating' is for the public status page"
    )
    assert f"incidentctl release {incident} --reason" in result.err
    assert "--force" in result.err
    forced = cli("notify", incident, "-t", "status-investigating", "--force", "--now", NOW)
    assert forced.code == 0
    assert "not public; drafted because of --force" in forced.err
    assert "SECRET" not in forced.out
    assert cli("notify", incident, "-t", "executive-alert", "--now", NOW).code == 0


def test_a_public_override_cannot_reach_internal_fields(repo: Path, cli: Invoke) -> None:
    incident = _plant(repo)
    _override(repo, "status-monitoring", "{{ title }}\n{{ user_impact }}\n")
    result = cli("notify", incident, "-t", "status-monitoring", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith(
        "error: templates/notify/status-monitoring.md.j2:2: 'user_impact' is undefined"
    )


def test_html_is_escaped_in_markdown_not_in_text(repo: Path, cli: Invoke) -> None:
    incident = _plant(repo)
    markdown = cli("notify", incident, "-t", "incident-record", "--now", NOW)
    assert markdown.code == 0
    assert "<script>" not in markdown.out
    assert "Checkout slow &lt;script&gt;alert(" in markdown.out
    text = cli("notify", incident, "-t", "incident-record", "--format", "text", "--now", NOW)
    assert "Checkout slow <script>alert('t')</script>" in text.out
    assert "**" not in text.out
    assert "#" not in text.out
    data = json.loads(
        cli("notify", incident, "-t", "incident-record", "--format", "json", "--now", NOW).out
    )
    assert "<script>" not in data["body"]
    assert "<script>" in data["text"]


def test_missing_values_render_unknown(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    result = cli("notify", incident, "-t", "incident-record", "--now", NOW)
    assert result.code == 0, result.err
    assert "**User Impact**: unknown\n" in result.out
    assert "**Category**: unknown\n" in result.out
    assert "**On-Call Engineer**: unknown\n" in result.out
    # nobody is assigned: the policy's team is whom to page, never shown as the commander
    assert (
        "**Incident Commander**: unassigned (page one from @example-org/incident-commanders)\n"
        in result.out
    )
    assert "assigned at" not in result.out
    executive = cli("notify", incident, "-t", "executive-alert", "--now", NOW)
    assert "- Revenue Impact: unknown\n" in executive.out
    assert "None" not in executive.out


def test_repository_override_is_used(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    _override(repo, "initial-alert", "Custom alert for {{ id }} ({{ priority_label }})\n")
    result = cli("notify", incident, "-t", "initial-alert", "--now", NOW)
    assert result.code == 0, result.err
    assert result.out == f"Custom alert for {incident} (P0 (Critical))\n"
    listing = cli("notify", "--list")
    assert re.search(r"^initial-alert\s+internal\s+repository\s", listing.out, re.MULTILINE)
    assert re.search(r"^incident-record\s+internal\s+built-in\s", listing.out, re.MULTILINE)


def test_override_with_a_syntax_error(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    _override(repo, "initial-alert", "Alert {{ id }}\n{% if priority %}\nno endif\n")
    result = cli("notify", incident, "-t", "initial-alert", "--now", NOW)
    assert result.code == 2
    assert result.out == ""
    first = result.err.splitlines()[0]
    assert re.match(
        r"error: templates/notify/initial-alert\.md\.j2:\d+: template syntax error: ", first
    ), first
    assert "Traceback" not in result.err


def test_override_naming_a_field_that_does_not_exist(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    _override(repo, "initial-alert", "Alert {{ id }}\n\nOwner: {{ roles.nobody }}\n")
    result = cli("notify", incident, "-t", "initial-alert", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith("error: templates/notify/initial-alert.md.j2:3: ")
    assert "nobody" in result.err
    assert "hint:" in result.err


def test_repository_can_add_a_template(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    _override(repo, "sms-page", "{{ priority }} {{ id }}: {{ title }} ({{ channel }})\n")
    listing = cli("notify", "--list", "--format", "json")
    rows = {r["name"]: r for r in json.loads(listing.out)["templates"]}
    assert rows["sms-page"] == {
        "name": "sms-page",
        "audience": "internal",
        "origin": "repository",
        "description": "",
    }
    result = cli("notify", incident, "-t", "sms-page", "--format", "json", "--now", NOW)
    data = json.loads(result.out)
    assert data["subject"] == data["body"].strip()
    assert data["body"].startswith(f"P0 {incident}: Checkout returns 502 (#incident-2026-11-27-")


def test_unknown_template_lists_the_available_ones(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    result = cli("notify", incident, "-t", "status-investigate", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith(
        "error: no notify template named 'status-investigate'; "
        "did you mean 'status-investigating'? Available: incident-record, initial-alert, "
    )
    assert "kb-article" in result.err
    assert "notify --list" in result.err


def test_unknown_incident(repo: Path, cli: Invoke) -> None:
    result = cli("notify", "INC-20261127-ZZZZ", "-t", "initial-alert", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith("error: no incident INC-20261127-ZZZZ in incidents/")
    bad = cli("notify", "../etc", "-t", "initial-alert", "--now", NOW)
    assert bad.code == 2
    assert "not a valid incident ID" in bad.err


def test_usage_errors(repo: Path, cli: Invoke) -> None:
    assert cli("notify", "INC-20261127-ZZZZ").code == 2  # no --template
    assert cli("notify", "--list", "-t", "initial-alert").code == 2
    assert cli("notify", "INC-X", "-t", "../x", "--now", NOW).code == 2


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(capsys, "--repo", str(ROOT), "notify", "--list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["NAME", "AUDIENCE", "ORIGIN", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == [t.name for t in messages.TEMPLATES]
    assert re.search(r"^status-resolved\s+public\s+built-in\s+Status page", result.out, re.M)
    assert re.search(r"^kb-article\s+internal\s+built-in\s+Knowledge base", result.out, re.M)


def test_out_writes_the_file(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    target = repo / "drafts" / "alert.md"
    result = cli("notify", incident, "-t", "initial-alert", "--out", str(target), "--now", NOW)
    assert result.code == 0
    assert result.out == ""
    assert target.read_text(encoding="utf-8").startswith(f"## Incident Alert: {incident}\n")
    assert not list(target.parent.glob(".*.tmp"))


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--repo", str(ROOT), "notify", P0_CLOSED, "-t", "management-notification"]
    data = json.loads(_run(capsys, *args, "--format", "json", "--now", NOW).out)
    assert set(data) >= {"incident", "template", "format", "subject", "body"}
    assert data["subject"] == (
        "[P0 INCIDENT] Checkout down after checkout-api release 2026.11.03-1 - CLOSED"
    )
    assert data["body"].startswith("**Incident ID**: INC-20261103-4K7Q\n")
    assert data["text"].startswith("Incident ID: INC-20261103-4K7Q\n")


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(capsys, "notify", "--help")
    assert result.code == 0
    assert "Examples:\n    incidentctl notify --list\n" in result.out


def test_resolution_of_an_open_incident_warns(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    result = cli("notify", incident, "-t", "resolution-internal", "--now", NOW)
    assert result.code == 0
    assert f"warning: {incident} is not resolved yet" in result.err
    assert "**Resolution Time**: unknown\n" in result.out


def test_detected_after_now(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    result = cli("notify", incident, "-t", "initial-alert", "--now", "2026-11-27T14:00:00Z")
    assert result.code == 2
    assert "after --now" in result.err


# -- the context, called directly -------------------------------------------------------------
def _incident(**extra: object) -> Incident:
    data: dict[str, object] = {
        "id": "INC-20261127-CD34",
        "title": "Login fails",
        "impact": "high",
        "urgency": "high",
        "priority": "P0",
        "detected_at": "2026-11-27T15:00:00Z",
    }
    data.update(extra)
    return Incident.model_validate(data)


@pytest.fixture
def policy(repo: Path) -> Policy:
    return Repo(repo).policy()


NOW_DT = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def test_root_cause_prefers_pir_then_cause_then_hypotheses(policy: Policy) -> None:
    pending = {"at": "2026-11-27T15:10:00Z", "kind": "hypothesis", "text": "Maybe the DB."}
    rejected = {**pending, "text": "The CDN", "result": "rejected"}
    incident = _incident(timeline=[{**pending, "result": "pending"}, rejected])
    ctx = notify_values.context(incident, policy, NOW_DT)
    assert (ctx["root_cause"], ctx["root_cause_status"]) == (
        "Maybe the DB",
        "hypothesis, not yet confirmed",
    )
    cause = {"at": "2026-11-27T15:20:00Z", "kind": "cause", "text": "Pool exhausted", "ref": "abc"}
    incident = _incident(timeline=[{**pending, "result": "confirmed"}, cause])
    ctx = notify_values.context(incident, policy, NOW_DT)
    assert (ctx["root_cause"], ctx["root_cause_status"], ctx["cause_ref"]) == (
        "Pool exhausted",
        "confirmed",
        "abc",
    )
    pir = Pir.model_validate(
        {
            "incident": incident.id,
            "whys": [
                {"why": "Why 1?", "because": "A leak in error paths."},
                {"why": "Why 2?", "because": "TODO"},
            ],
        }
    )
    assert (
        notify_values.context(incident, policy, NOW_DT, pir=pir)["root_cause"]
        == "A leak in error paths"
    )


def test_roles_and_business_impact_have_every_key(policy: Policy) -> None:
    ctx = notify_values.context(_incident(), policy, NOW_DT)
    assert set(ctx["roles"]) == set(notify_values.ROLE_KEYS)
    assert ctx["roles"]["technical_lead"] is None
    assert set(ctx["business_impact"]) == {
        "revenue",
        "compliance_risk",
        "reputation_risk",
        "safety_risk",
    }
    assert ctx["channel"] == "#incident-2026-11-27-cd34"
    assert ctx["priority_label"] == "P0 (Critical)"
    assert ctx["elapsed"] == "1h"


@pytest.mark.parametrize(
    ("text", "human"),
    [("15m", "15 minutes"), ("1h", "1 hour"), ("48h", "48 hours"), ("1w", "1 week"),
     ("3d", "3 days"), ("1bd", "1 business day"), ("90s", "1m30s")],
)  # fmt: skip
def test_human_durations(text: str, human: str) -> None:
    assert notify_values._human(Duration.parse(text)) == human


def test_to_text_strips_markup() -> None:
    markdown = (
        "## Title\n\n**Label**: value with `code`\n```\nx\n```\nsee [runbook](runbooks/a.md)\n"
    )
    assert (
        messages.to_text(markdown)
        == "Title\n\nLabel: value with code\nx\nsee runbook (runbooks/a.md)\n"
    )


def test_incident_file_is_untouched(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    before = incident_file(repo, incident).read_bytes()
    for template in messages.TEMPLATES:
        cli("notify", incident, "-t", template.name, "--now", NOW)
    assert incident_file(repo, incident).read_bytes() == before


def _line(text: str, label: str) -> str:
    (line,) = [x for x in text.splitlines() if x.startswith(f"**{label}**: ")]
    return line.split(": ", 1)[1]


def test_every_template_names_the_same_commander_and_assignment_time(
    repo: Path, cli: Invoke
) -> None:
    incident = declare(cli, "--started-at", "2026-11-27T14:50:00Z")
    for template in ("incident-record", "management-notification", "executive-alert"):
        out = cli("notify", incident, "-t", template, "--now", NOW).out
        assert _line(out, "Incident Commander").startswith("unassigned"), template
    assigned = cli("assign", incident, "--commander", "@mchen", "--at", "2026-11-27T15:07:00Z",
                   "--now", NOW)  # fmt: skip
    assert assigned.code == 0, assigned.err
    for template in ("incident-record", "management-notification", "executive-alert"):
        out = cli("notify", incident, "-t", template, "--now", NOW).out
        assert _line(out, "Incident Commander").startswith("@mchen"), template
    record = cli("notify", incident, "-t", "incident-record", "--now", NOW).out
    assert _line(record, "Incident Commander") == "@mchen (assigned at: 2026-11-27 15:07:00 UTC)"
    # a new commander: the time of that assignment, not the first one
    cli("assign", incident, "--commander", "@nwright", "--at", "2026-11-27T15:20:00Z",
        "--now", NOW)  # fmt: skip
    record = cli("notify", incident, "-t", "incident-record", "--now", NOW).out
    assert _line(record, "Incident Commander") == "@nwright (assigned at: 2026-11-27 15:20:00 UTC)"


def test_every_template_gives_the_same_duration_from_the_start_of_impact(
    repo: Path, cli: Invoke
) -> None:
    incident = declare(cli, "--started-at", "2026-11-27T14:50:00Z")
    at = ("--now", NOW)
    assert cli("ack", incident, "--at", "2026-11-27T15:01:00Z", *at).code == 0
    assert cli("engage", incident, "--at", "2026-11-27T15:02:00Z", *at).code == 0
    assert cli("mitigate", incident, "--strategy", "rollback", "--note", "rolled back",
               "--at", "2026-11-27T15:30:00Z", *at).code == 0  # fmt: skip
    resolved = cli("resolve", incident, "--note", "fixed", "--at", "2026-11-27T15:40:00Z", *at)
    assert resolved.code == 0, resolved.err
    management = cli("notify", incident, "-t", "management-notification", *at).out
    internal = cli("notify", incident, "-t", "resolution-internal", *at).out
    executive = cli("notify", incident, "-t", "executive-alert", *at).out
    assert _line(management, "Duration") == "50m (resolved)"  # 14:50 to 15:40, not from 15:00
    assert _line(internal, "Total Duration") == "50m"
    assert "after 50m:" in executive
    assert cli("pir", "new", incident, *at).code == 0
    pir = next(repo.glob(f"incidents/*/*/{incident}/pir.md")).read_text()
    assert "**Duration**: 50m from the start of impact to resolution\n" in pir


def test_a_commander_written_by_hand_has_no_assignment_time(repo: Path, cli: Invoke) -> None:
    incident = declare(cli)
    cli("assign", incident, "--commander", "@mchenry", "--at", "2026-11-27T15:07:00Z",
        "--now", NOW)  # fmt: skip
    path = incident_file(repo, incident)
    text = path.read_text()
    assert "incident_commander: '@mchenry'" in text
    path.write_text(text.replace("incident_commander: '@mchenry'", "incident_commander: '@mchen'"))
    record = cli("notify", incident, "-t", "incident-record", "--now", NOW).out
    assert _line(record, "Incident Commander") == "@mchen"  # @mchenry's time is not @mchen's


def test_a_commander_named_at_declaration_was_assigned_then(repo: Path, cli: Invoke) -> None:
    incident = declare(cli, "--commander", "@mchen", at="2026-11-27T15:00:00Z")
    record = cli("notify", incident, "-t", "incident-record", "--now", NOW).out
    assert _line(record, "Incident Commander") == "@mchen (assigned at: 2026-11-27 15:00:00 UTC)"
