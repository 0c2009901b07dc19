"""`validate` catches every mistake with file, line, rule and a useful message."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import NOW, Invoke, declare, git, incident_file

REL = "incidents/2026/11/INC-20261127-AB12/incident.md"

GOOD = """\
---
id: INC-20261127-AB12
title: Checkout returns 502
status: investigating
impact: high
urgency: high
priority: P0
services: [example-service]
detected_at: 2026-11-27T15:00:00Z
acknowledged_at: 2026-11-27T15:01:00Z
engaged_at: 2026-11-27T15:05:00Z
timeline:
  - at: 2026-11-27T15:00:00Z
    kind: declared
  - at: 2026-11-27T15:01:00Z
    kind: acknowledged
  - at: 2026-11-27T15:05:00Z
    kind: engaged
---
# Checkout returns 502
"""


def _write(repo: Path, text: str | bytes, rel: str = REL) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def _findings(cli: Invoke) -> list[dict[str, object]]:
    result = cli("validate", "--format", "json")
    assert result.code in (0, 1), result.err
    data = json.loads(result.out)
    assert data["valid"] == (result.code == 0)
    findings: list[dict[str, object]] = data["findings"]
    return findings


def test_good_incident_is_valid(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD)
    result = cli("validate")
    assert result.code == 0, result.out
    assert result.out.strip() == "ok: 1 incident(s), 1 runbook(s) valid"


def test_the_summary_counts_the_files_with_findings_by_kind(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD)
    runbook = (repo / "runbooks" / "example-service-5xx.md").read_text()
    for name in ("one", "two"):
        broken = runbook.replace("## Diagnosis\n", "## Diagnosis\nTODO: write it\n")
        _write(repo, broken, f"runbooks/{name}.md")
    result = cli("validate")
    assert result.code == 1
    assert result.err.strip().endswith(" in 2 runbook(s)"), result.err
    assert "incident(s)" not in result.err
    _write(repo, GOOD.replace("impact: high", "impact: huge"))
    result = cli("validate")
    assert result.err.strip().endswith(
        "1 error(s), 0 warning(s) in 1 incident(s); "
        f"{result.out.count('runbooks/')} error(s), 0 warning(s) in 2 runbook(s)"
    ), result.err


def test_malformed_yaml_names_file_and_line(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("title: Checkout returns 502", "title: [unclosed"))
    result = cli("validate")
    assert result.code == 1
    assert result.out.startswith(f"{REL}:4: error: [yaml] malformed YAML:")
    assert "hint: check indentation and quoting" in result.out


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("  - at: 2026-11-27T15:01:00Z\n", "\t- at: 2026-11-27T15:01:00Z\n"),  # a whole level
        ("    kind: acknowledged\n", "  \tkind: acknowledged\n"),  # spaces, then a tab
    ],
)
def test_a_tab_in_the_indentation_says_tabs_cannot_indent_yaml(
    repo: Path, cli: Invoke, old: str, new: str
) -> None:
    assert old in GOOD
    _write(repo, GOOD.replace(old, new))
    result = cli("validate")
    assert result.code == 1
    line = GOOD.split("\n").index(old.rstrip("\n")) + 1
    assert result.out.startswith(
        f"{REL}:{line}: error: [yaml] malformed YAML: a tab in the indentation "
        "(YAML cannot be indented with tabs)\n  hint: indent with spaces"
    ), result.out


def test_no_front_matter(repo: Path, cli: Invoke) -> None:
    _write(repo, "# Just a heading\n\nNo front-matter here.\n")
    result = cli("validate")
    assert result.code == 1
    assert f"{REL}:1: error: [front-matter] no YAML front-matter" in result.out
    assert "hint: the file must start with a line '---'" in result.out


def test_unclosed_front_matter(repo: Path, cli: Invoke) -> None:
    _write(repo, "---\nid: x\ntitle: y\n")
    assert f"{REL}:1: error: [front-matter] front-matter is not closed" in cli("validate").out


def test_unknown_key_suggests_the_right_one(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("acknowledged_at:", "acknowleged_at:"))
    result = cli("validate")
    assert result.code == 1
    assert (
        f"{REL}:10: error: [schema] acknowleged_at: unknown field 'acknowleged_at'\n"
        "  hint: did you mean 'acknowledged_at'?"
    ) in result.out


def test_unknown_nested_key_is_located(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("    kind: engaged", "    kind: engaged\n    txt: hello"))
    (finding,) = _findings(cli)
    assert finding["field"] == "timeline[2].txt"
    assert finding["line"] == 19
    assert finding["hint"] == "did you mean 'text'?"


def test_wrong_type(repo: Path, cli: Invoke) -> None:
    _write(
        repo,
        GOOD.replace(
            "services: [example-service]", "services: [example-service]\naffected_users: lots"
        ),
    )
    (finding,) = _findings(cli)
    assert finding["rule"] == "schema"
    assert finding["field"] == "affected_users"
    assert finding["line"] == 9
    assert "valid integer" in str(finding["message"])


def test_bad_enum_value(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("impact: high", "impact: huge"))
    (finding,) = _findings(cli)
    assert finding["field"] == "impact"
    assert finding["message"] == "'huge' is not one of 'high', 'medium' or 'low'"


def test_missing_required_field(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("title: Checkout returns 502\n", ""))
    (finding,) = _findings(cli)
    assert finding["message"] == "required field is missing"
    assert finding["field"] == "title"
    assert finding["hint"] == "add 'title:' to the front-matter"


def test_naive_timestamp_is_refused(repo: Path, cli: Invoke) -> None:
    _write(
        repo,
        GOOD.replace(
            "acknowledged_at: 2026-11-27T15:01:00Z", "acknowledged_at: 2026-11-27 15:01:00"
        ),
    )
    (finding,) = _findings(cli)
    assert finding["field"] == "acknowledged_at"
    assert finding["line"] == 10
    assert str(finding["message"]).startswith("2026-11-27 15:01:00 has no timezone")


def test_impossible_timestamp(repo: Path, cli: Invoke) -> None:
    _write(
        repo,
        GOOD.replace(
            "acknowledged_at: 2026-11-27T15:01:00Z", "acknowledged_at: 2026-02-30T15:01:00Z"
        ),
    )
    (finding,) = _findings(cli)
    assert finding["field"] == "acknowledged_at"
    assert "is not a valid ISO-8601 timestamp" in str(finding["message"])


def test_resolved_before_detected(repo: Path, cli: Invoke) -> None:
    text = GOOD.replace("status: investigating", "status: resolved").replace(
        "engaged_at: 2026-11-27T15:05:00Z",
        "engaged_at: 2026-11-27T15:05:00Z\nresolved_at: 2026-11-27T14:00:00Z",
    )
    _write(repo, text)
    result = cli("validate")
    assert result.code == 1
    assert (
        f"{REL}:12: error: [chronology] resolved_at: resolved_at 2026-11-27T14:00:00Z is "
        "before engaged_at 2026-11-27T15:05:00Z"
    ) in result.out


def test_events_out_of_order(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("  - at: 2026-11-27T15:05:00Z", "  - at: 2026-11-27T15:00:30Z"))
    result = cli("validate")
    assert (
        f"{REL}:17: error: [timeline-order] timeline[2].at: event engaged at "
        "2026-11-27T15:00:30Z is earlier than the event before it (2026-11-27T15:01:00Z)"
    ) in result.out


def test_classification_disagrees_with_matrix(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("priority: P0", "priority: P2"))
    result = cli("validate")
    assert (
        f"{REL}:7: error: [classification] priority: high impact x high urgency is P0 by the "
        "priority matrix, not P2\n  hint: set priority: P0, or record priority_override"
    ) in result.out


def test_override_with_reason_is_accepted(repo: Path, cli: Invoke) -> None:
    _write(
        repo,
        GOOD.replace(
            "priority: P0",
            "priority: P1\npriority_override: {priority: P1, reason: Only internal users}",
        ),
    )
    assert cli("validate").code == 0


def test_status_inconsistent_with_timestamps(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("status: investigating", "status: closed"))
    messages = {f["message"] for f in _findings(cli)}
    assert "status is closed but closed_at is not set" in messages
    assert "status is closed but resolved_at is not set" in messages


def test_duplicate_ids(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD)
    other = "incidents/2026/11/INC-20261127-AB12-copy/incident.md"
    _write(repo, GOOD, rel=other)
    findings = _findings(cli)
    dup = [f for f in findings if f["rule"] == "duplicate-id"]
    assert {f["path"] for f in dup} == {REL, other}
    mine = next(f for f in dup if f["path"] == REL)
    assert mine["message"] == f"incident ID INC-20261127-AB12 is also used by {other}"
    only_one = cli("validate", REL)  # the other file is not loaded, still counted
    assert f"[duplicate-id] id: incident ID INC-20261127-AB12 is also used by {other}" in (
        only_one.out
    )


def test_id_does_not_match_folder(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD, rel="incidents/2026/11/INC-20261127-ZZZZ/incident.md")
    (finding,) = _findings(cli)
    assert finding["rule"] == "id-path"
    assert finding["message"] == "id INC-20261127-AB12 does not match its folder INC-20261127-ZZZZ/"


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "INC/1", "..", "INC..1/x"])
def test_id_with_path_characters_is_refused(repo: Path, cli: Invoke, bad_id: str) -> None:
    _write(repo, GOOD.replace("id: INC-20261127-AB12", f"id: '{bad_id}'"))
    finding = next(f for f in _findings(cli) if f["field"] == "id")
    assert finding["message"] == f"{bad_id!r} is not a valid incident ID"
    result = cli("show", bad_id)
    assert result.code == 2
    assert result.err.startswith(f"error: {bad_id!r} is not a valid incident ID")


def test_non_utf8_file(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.encode().replace(b"Checkout returns", b"Checkout r\xe9turns"))
    result = cli("validate")
    assert result.code == 1
    assert f"{REL}:3: error: [encoding] not valid UTF-8 (byte 0xe9 at offset" in result.out
    assert "hint: save the file as UTF-8" in result.out


def test_bom_and_crlf_files_are_accepted(repo: Path, cli: Invoke) -> None:
    _write(repo, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert cli("validate").code == 0


def test_alias_bomb_is_refused_quickly(repo: Path, cli: Invoke) -> None:
    bomb = "".join(
        f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" if i else 'l0: &l0 ["lol"]\n'
        for i in range(10)
    )
    _write(repo, GOOD.replace("---\nid:", "---\n" + bomb + "id:", 1))
    started = time.monotonic()
    result = cli("validate")
    elapsed = time.monotonic() - started
    assert result.code == 1
    assert (
        f"{REL}:2: error: [yaml] YAML anchors and aliases (&name, *name) are not allowed"
        in result.out
    )
    assert elapsed < 30  # generous: guards against expansion, not a benchmark


def test_huge_file_is_refused_before_parsing(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD + ("x" * 80 + "\n") * 130_000)  # ~10 MB
    result = cli("validate")
    assert result.code == 1
    assert f"{REL}: error: [size] file is 10,530,000 bytes" in result.out or (
        "over the 1,000,000-byte limit" in result.out
    )


def test_html_in_text_fields_is_accepted_verbatim(repo: Path, cli: Invoke) -> None:
    payload = "<img src=x onerror=alert(1)> <script>alert('x')</script>"
    _write(repo, GOOD.replace("title: Checkout returns 502", f'title: "{payload}"'))
    assert cli("validate").code == 0
    shown = json.loads(cli("show", "INC-20261127-AB12", "--format", "json").out)
    assert shown["title"] == payload


def test_unknown_service_and_runbook(repo: Path, cli: Invoke) -> None:
    _write(
        repo,
        GOOD.replace(
            "services: [example-service]",
            "services: [exampel-service]\nrunbooks: [nope]\ncomponents: [example-servce]",
        ),
    )
    findings = {f["field"]: f for f in _findings(cli)}
    assert findings["services[0]"]["message"] == "unknown service 'exampel-service'"
    assert findings["services[0]"]["hint"] == "did you mean 'example-service'?"
    assert findings["runbooks[0]"]["message"] == "unknown runbook 'nope' (no runbooks/nope.md)"
    assert findings["components[0]"]["message"] == "unknown component 'example-servce'"
    assert findings["components[0]"]["hint"] == "did you mean 'example-service'?"


def test_contact_that_is_not_a_handle_is_a_warning(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("services:", "roles: {incident_commander: Alice Smith}\nservices:"))
    result = cli("validate", "--format", "json")
    assert result.code == 0  # warnings do not fail the check
    (finding,) = json.loads(result.out)["findings"]
    assert finding["severity"] == "warning"
    assert finding["message"] == "'Alice Smith' is not a GitHub user or team"


def test_github_annotations(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD.replace("priority: P0", "priority: P2"))
    result = cli("validate", "--format", "github")
    assert result.code == 1
    assert result.out.startswith(
        f"::error file={REL},line=7,title=classification::priority: high impact x high "
        "urgency is P0 by the priority matrix, not P2 (hint: set priority: P0"
    )


def test_invalid_policy_is_reported_with_file_and_line(repo: Path, cli: Invoke) -> None:
    sla = repo / "policies/sla.yaml"
    sla.write_text(sla.read_text().replace("    engage: 15m", "    engage: fifteen"))
    result = cli("validate")
    assert result.code == 1
    assert "policies/sla.yaml:19: error: [schema] priorities.P0.engage: 'fifteen' is not a " in (
        result.out
    )


def test_missing_policy_file_falls_back_to_defaults(repo: Path, cli: Invoke) -> None:
    for name in ("priority", "sla", "escalation", "review"):
        (repo / f"policies/{name}.yaml").unlink()
    _write(repo, GOOD)
    assert cli("validate").code == 0


def test_paths_argument_limits_the_check(repo: Path, cli: Invoke) -> None:
    _write(repo, GOOD)
    _write(
        repo,
        GOOD.replace("AB12", "CD34").replace("priority: P0", "priority: P3"),
        rel="incidents/2026/11/INC-20261127-CD34/incident.md",
    )
    assert cli("validate", REL).code == 0
    assert cli("validate").code == 1


# -- against a base revision --------------------------------------------------------


def test_base_refuses_edited_timeline_event(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    cli("ack", incident_id, "--at", "2026-11-27T15:02:00Z", "--now", NOW)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "declare")
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text().replace("text: Acknowledged", "text: Acked quickly"))
    result = cli("validate", "--base", "HEAD")
    assert result.code == 1
    assert (
        "[append-only] timeline[1]: timeline event #2 (acknowledged at 2026-11-27T15:02:00Z) "
        "was edited" in result.out
    )


def test_base_refuses_backdated_timestamp(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    cli("ack", incident_id, "--at", "2026-11-27T15:09:00Z", "--now", NOW)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "declare")
    path = incident_file(repo, incident_id)
    path.write_text(
        path.read_text().replace(
            "acknowledged_at: 2026-11-27T15:09:00Z", "acknowledged_at: 2026-11-27T15:01:00Z"
        )
    )
    findings = [
        f
        for f in json.loads(cli("validate", "--base", "HEAD", "--format", "json").out)["findings"]
        if f["rule"] == "append-only"
    ]
    assert [f["message"] for f in findings] == [
        "acknowledged_at was backdated (base has 2026-11-27T15:09:00Z)"
    ]


def test_base_accepts_appended_events_and_corrections(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "declare")
    assert cli("ack", incident_id, "--at", "2026-11-27T15:02:00Z", "--now", NOW).code == 0
    assert cli("validate", "--base", "HEAD").code == 0
    path = incident_file(repo, incident_id)
    text = path.read_text().replace("Declared P0", "Declared P0 (from PagerDuty)")
    text = text.replace(
        "---\n# ",
        "  - at: 2026-11-27T15:03:00Z\n    kind: correction\n"
        "    event: 2026-11-27T15:00:00Z\n    field: text\n"
        "    old: 'Declared P0: Checkout returns 502'\n"
        "    new: 'Declared P0 (from PagerDuty): Checkout returns 502'\n"
        "    reason: The declared event now names the alert source\n---\n# ",
    )
    path.write_text(text)
    assert cli("validate", "--base", "HEAD").code == 0
    # a correction no longer exempts the whole file: another edit is still refused
    moved = "detected_at: 2026-11-27T14:59:00Z"
    path.write_text(text.replace("detected_at: 2026-11-27T15:00:00Z", moved))
    assert cli("validate", "--base", "HEAD").code == 1


def test_base_reports_id_collision(repo: Path, cli: Invoke) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    declare(cli, "--id", "INC-20261127-SAME")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "declare on other branch")
    git(repo, "checkout", "-q", "main")
    result = cli(
        "declare",
        "--title",
        "Another",
        "--impact",
        "low",
        "--urgency",
        "low",
        "--id",
        "INC-20261127-SAME",
        "--at",
        "2026-10-02T10:00:00Z",
        "--now",
        NOW,
    )
    assert result.code == 0, result.err
    result = cli("validate", "--base", "other", "--format", "json")
    findings = [f for f in json.loads(result.out)["findings"] if f["rule"] == "id-collision"]
    assert findings[0]["message"] == (
        "incident ID INC-20261127-SAME already exists on the base branch at "
        "incidents/2026/11/INC-20261127-SAME/incident.md"
    )


def test_base_unknown_ref_is_a_usage_error(repo: Path, cli: Invoke) -> None:
    result = cli("validate", "--base", "no-such-branch")
    assert result.code == 2
    assert result.err.startswith("error: --base no-such-branch: no such commit or branch")
