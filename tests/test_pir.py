"""Post-incident reviews: `pir new`, `pir check`, `pir add-action`, validate, approval via git."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from incidentctl.core.documents import parse
from incidentctl.core.model import Pir
from tests.conftest import GIT_ENV, NOW, Invoke, declare, git, incident_file

DETECTED = "2026-11-27T10:00:00Z"
RESOLVED = "2026-11-27T11:30:00Z"


def _resolved_incident(cli: Invoke, *extra: str) -> str:
    """A P0 that went through the lifecycle, with a hypothesis and a cause on the timeline."""
    incident_id = declare(cli, "--category", "availability", *extra, at=DETECTED)
    for args in (
        ("ack", incident_id, "--at", "2026-11-27T10:01:00Z"),
        ("engage", incident_id, "--at", "2026-11-27T10:05:00Z"),
        ("mitigate", incident_id, "--strategy", "rollback", "--note", "rolled back | v2",
         "--at", "2026-11-27T11:00:00Z"),
        ("resolve", incident_id, "--at", RESOLVED),
    ):  # fmt: skip
        result = cli(*args, "--now", NOW)
        assert result.code == 0, result.err
    return incident_id


def _pir_path(repo: Path, incident_id: str) -> Path:
    return incident_file(repo, incident_id).parent / "pir.md"


def _complete(text: str) -> str:
    """Fill every placeholder of a freshly generated PIR, as a review would."""
    front, body = text.split("\n---\n", 1)
    whys = "\n".join(
        f"  - why: Why level {n}?\n    because: Because of system reason {n}." for n in range(1, 6)
    )
    start = front.index("\nwhys:\n")
    end = front.index("# Fishbone")
    front = front[:start] + "\nwhys:\n" + whys + "\n" + front[end:]
    front = front.replace("root_cause: null", "root_cause: missing-config")
    for group in ("people", "process", "technology", "environment"):
        front = front.replace(f"  {group}: []", f"  {group}:\n    - a {group} factor")
    for key, value in (
        ("slo_availability", "99.95"),
        ("revenue", '"none"'),
        ("affected_users", "1200"),
    ):
        front = "\n".join(
            f"  {key}: {value}" if line.startswith(f"  {key}:") else line
            for line in front.split("\n")
        )
    front = front.replace(
        "actions: []",
        "actions:\n  - id: A1\n    title: Add a config check\n    owner: '@team'\n"
        "    horizon: immediate\n    due: 2026-12-04",
    )
    body = body.replace("TODO", "Filled in by the review")
    return front + "\n---\n" + body


def _checked(cli: Invoke, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("pir", "check", *args, "--format", "json")
    return result.code, json.loads(result.out)


# -- pir new --------------------------------------------------------------------------------
def test_pir_new_holds_everything_the_incident_file_knows(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    result = cli("pir", "new", incident_id, "--now", NOW)
    assert result.code == 0, result.err
    path = _pir_path(repo, incident_id)
    assert result.out.strip() == str(path.relative_to(repo))
    text = path.read_text()
    pir = Pir.model_validate(parse(path, text.encode()).data)
    assert pir.incident == incident_id
    assert pir.status.value == "draft"
    assert pir.facilitator == "@tester"
    assert len(pir.whys) == 5
    assert pir.whys[0].why == "Why did this happen: Checkout returns 502?"
    assert pir.impact.downtime_minutes == 60  # availability: detection to mitigation
    assert pir.impact.sla_breached is False  # resolved in 1h30m, P0 breach at 2h
    # the timeline table, with elapsed times and a pipe in a note escaped
    assert "| 2026-11-27T10:01:00Z | +1m | Engineer acknowledged | @tester |" in text
    assert "| 2026-11-27T11:30:00Z | +1h30m | Incident resolved | @tester |" in text
    assert "rolled back \\| v2" in text
    # key times judged by the same timers as `deadlines` (targets counted from detection)
    assert "| Acknowledged | 2026-11-27T10:01:00Z | +1m | +1m | met |" in text
    assert "| Engaged | 2026-11-27T10:05:00Z | +5m | +15m | met |" in text
    assert "| Resolved (target) | 2026-11-27T11:30:00Z | +1h30m | +1h | missed |" in text
    assert "| Resolved (SLA) | 2026-11-27T11:30:00Z | +1h30m | +2h | met |" in text
    assert "**Review due**: 2026-11-28T11:30:00Z" in text
    # no runbook linked: suggest one
    assert f"incidentctl runbook new example-service --from-incident {incident_id}" in text
    assert "No runbook covered this incident" in result.err


def test_pir_new_lists_linked_runbooks(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text().replace("runbooks: []", "runbooks: [example-service-5xx]"))
    result = cli("pir", "new", incident_id, "--now", NOW)
    assert result.code == 0, result.err
    assert "runbook example-service-5xx:" in result.err
    text = _pir_path(repo, incident_id).read_text()
    assert "[example-service-5xx](../../../../runbooks/example-service-5xx.md)" in text
    assert "Update example-service-5xx with what this incident taught" in text


def test_pir_new_refuses_to_overwrite_and_dry_run_writes_nothing(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    dry = cli("pir", "new", incident_id, "--now", NOW, "--dry-run")
    assert dry.code == 0
    assert dry.out.startswith("---\nincident: " + incident_id)
    assert not _pir_path(repo, incident_id).exists()
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    before = _pir_path(repo, incident_id).read_bytes()
    again = cli("pir", "new", incident_id, "--now", NOW)
    assert again.code == 2
    assert "pir.md already exists" in again.err
    assert _pir_path(repo, incident_id).read_bytes() == before


def test_pir_new_for_an_unknown_incident(cli: Invoke) -> None:
    result = cli("pir", "new", "INC-20261127-ZZZZ", "--now", NOW)
    assert result.code == 2
    assert "error: no incident INC-20261127-ZZZZ in incidents/" in result.err
    assert "Traceback" not in result.err


def test_pir_template_override_with_a_syntax_error_names_file_and_line(
    repo: Path, cli: Invoke
) -> None:
    incident_id = _resolved_incident(cli)
    (repo / "templates").mkdir()
    (repo / "templates/pir.md.j2").write_text("---\nincident: {{ incident.id }}\n{% if %}\n---\n")
    result = cli("pir", "new", incident_id, "--now", NOW)
    assert result.code == 2
    assert "error: templates/pir.md.j2:3: template syntax error" in result.err
    assert not _pir_path(repo, incident_id).exists()


def test_pir_template_override_naming_a_missing_field(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    (repo / "templates").mkdir()
    (repo / "templates/pir.md.j2").write_text(
        "---\nincident: {{ incident.id }}\n---\n# {{ incident.title }}\n\n{{ incident.severity }}\n"
    )
    result = cli("pir", "new", incident_id, "--now", NOW)
    assert result.code == 2
    assert "error: templates/pir.md.j2:6:" in result.err
    assert "severity" in result.err


def test_pir_template_override_that_writes_invalid_front_matter(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    (repo / "templates").mkdir()
    (repo / "templates/pir.md.j2").write_text(
        "---\nincident: {{ incident.id }}\nstatus: done\n---\n"
    )
    result = cli("pir", "new", incident_id, "--now", NOW)
    assert result.code == 2
    assert "the repository template pir.md.j2 produced an invalid PIR" in result.err
    assert "status" in result.err
    assert not _pir_path(repo, incident_id).exists()


# -- pir check --------------------------------------------------------------------------------
def test_a_new_pir_is_incomplete_and_check_says_precisely_what_is_missing(
    repo: Path, cli: Invoke
) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    code, data = _checked(cli, incident_id)
    assert code == 1
    assert data["complete"] is False
    rel = str(_pir_path(repo, incident_id).relative_to(repo))
    assert data["pirs"] == {rel: "draft"}
    messages = {f["message"] for f in data["findings"]}
    assert "no root-cause key" in messages
    assert "why #1: 'because' is not filled in" in messages
    assert "contributing factors: the 'people' group was not considered" in messages
    assert "impact: slo_availability is not stated" in messages
    assert "no preventive actions" in messages
    assert "section 'Executive Summary' still holds a TODO placeholder" in messages
    assert "section 'Lessons Learned' still holds a TODO placeholder" in messages
    # every finding points at a line of the file
    assert all(f["line"] for f in data["findings"])
    # a draft's gaps are warnings: the draft can be merged while the analysis goes on
    assert {f["severity"] for f in data["findings"]} == {"warning"}
    assert cli("validate").code == 0


def test_a_completed_pir_passes(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    path.write_text(_complete(path.read_text()))
    code, data = _checked(cli, incident_id)
    assert (code, data["findings"]) == (0, [])
    text = cli("pir", "check", incident_id)
    assert text.code == 0
    assert "draft: complete" in text.err


def test_an_in_review_pir_with_gaps_fails_validate(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    path.write_text(path.read_text().replace("status: draft", "status: in-review"))
    result = cli("validate", "--format", "json")
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    incomplete = [f for f in findings if f["rule"] == "pir-incomplete"]
    assert incomplete
    assert {f["severity"] for f in incomplete} == {"error"}


def test_approved_without_approvers_is_an_error(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    path.write_text(_complete(path.read_text()).replace("status: draft", "status: approved"))
    code, data = _checked(cli, incident_id)
    assert code == 1
    (finding,) = data["findings"]
    assert finding["rule"] == "pir-approval"
    assert finding["message"] == "the PIR is approved but names no approvers"
    assert path.read_text().split("\n")[finding["line"] - 1].startswith("approvers:")


def test_check_without_id_reports_required_reviews_not_written(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    code, data = _checked(cli)
    assert code == 1
    (finding,) = data["findings"]
    assert finding["rule"] == "pir-missing"
    assert finding["message"] == (
        f"P0 incident {incident_id} is resolved and has no PIR, due 2026-11-28T11:30:00Z"
    )


def test_a_heading_inside_a_four_backtick_fence_is_code(repo: Path, cli: Invoke) -> None:
    """A ``` line inside a ```` fence does not close it, so `## Inside fence` starts no
    section: the quoted chat stays in the (factual) Timeline, out of the blameless check."""
    quoted = (
        "All times in UTC; elapsed times count from detection.\n\n"
        "````markdown\n```\n## Inside fence\nThe on-call should have paged the team.\n```\n````\n"
    )
    incident_id, _ = _with_pir(
        repo,
        cli,
        lambda t: t.replace("All times in UTC; elapsed times count from detection.\n", quoted),
    )
    code, data = _checked(cli, incident_id)
    assert (code, data["findings"]) == (0, [])


def test_a_todo_in_code_or_a_comment_is_not_a_placeholder(repo: Path, cli: Invoke) -> None:
    """The same rule as for runbooks: only a TODO a reader sees is left to fill in."""
    noted = (
        "## What Went Well\n\n1. The rollback (`grep TODO` found the flag).\n"
        "<!-- TODO: ask the DBA -->\n```\n# TODO(v2): remove the flag\n```\n"
    )
    incident_id, path = _with_pir(
        repo,
        cli,
        lambda t: t.replace("## What Went Well\n\n1. Filled in by the review\n", noted),
    )
    code, data = _checked(cli, incident_id)
    assert (code, data["findings"]) == (0, [])
    path.write_text(path.read_text().replace("1. The rollback", "1. TODO The rollback"))
    findings = _checked(cli, incident_id)[1]["findings"]
    assert [(f["line"], f["message"]) for f in findings] == [
        (_line_of(path, "1. TODO"), "section 'What Went Well' still holds a TODO placeholder")
    ]


def test_a_section_heading_right_above_the_next_is_empty(repo: Path, cli: Invoke) -> None:
    """A required section with not even a blank line under it is reported as empty (the
    check used to stop with a traceback there)."""
    incident_id, path = _with_pir(
        repo,
        cli,
        lambda t: t.replace(
            "## What Went Well\n\n1. Filled in by the review\n", "## What Went Well\n"
        ),
    )
    code, data = _checked(cli, incident_id)
    assert code == 1
    assert [(f["line"], f["message"]) for f in data["findings"]] == [
        (_line_of(path, "## What Went Well"), "section 'What Went Well' is empty")
    ]


# -- bad input -----------------------------------------------------------------------------
def _with_pir(repo: Path, cli: Invoke, edit: Any) -> tuple[str, Path]:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    path.write_text(edit(_complete(path.read_text())))
    return incident_id, path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().split("\n"), 1) if needle in line)


def test_malformed_action_list(repo: Path, cli: Invoke) -> None:
    incident_id, path = _with_pir(
        repo, cli, lambda t: t.replace("  - id: A1\n", "  - just a string\n  - id: A1\n")
    )
    result = cli("pir", "check", incident_id)
    assert result.code == 1
    line = _line_of(path, "just a string")
    assert f"pir.md:{line}: error: [schema] actions[0]:" in result.out
    assert "Traceback" not in result.out + result.err


def test_action_due_before_the_incident(repo: Path, cli: Invoke) -> None:
    incident_id, path = _with_pir(repo, cli, lambda t: t.replace("2026-12-04", "2025-12-04"))
    code, data = _checked(cli, incident_id)
    assert code == 1
    (finding,) = data["findings"]
    assert finding["rule"] == "pir-actions"
    assert finding["message"] == "action A1 is due 2025-12-04, before the incident (2026-11-27)"
    assert finding["line"] == _line_of(path, "due: 2025-12-04")


def test_duplicate_action_id(repo: Path, cli: Invoke) -> None:
    second = (
        "\n  - id: A1\n    title: Another\n    owner: '@x'\n    horizon: long-term\n"
        "    due: 2027-02-01"
    )
    incident_id, _ = _with_pir(
        repo, cli, lambda t: t.replace("    due: 2026-12-04", "    due: 2026-12-04" + second)
    )
    code, data = _checked(cli, incident_id)
    assert code == 1
    (finding,) = data["findings"]
    assert (finding["rule"], finding["field"]) == ("pir-actions", "actions[1].id")
    assert finding["message"] == "action ID A1 is used twice"


def test_action_without_owner_horizon_or_due(repo: Path, cli: Invoke) -> None:
    incident_id, _ = _with_pir(
        repo,
        cli,
        lambda t: t.replace("    owner: '@team'\n    horizon: immediate\n    due: 2026-12-04", ""),
    )
    code, data = _checked(cli, incident_id)
    assert code == 1
    assert {f["message"] for f in data["findings"]} == {
        "action A1 has no owner",
        "action A1 has no horizon",
        "action A1 has no due",
    }


def test_pir_beside_no_incident_and_pir_naming_another_incident(repo: Path, cli: Invoke) -> None:
    incident_id, path = _with_pir(repo, cli, lambda t: t)
    stray = repo / "incidents/2026/11/INC-20261127-GHST/pir.md"
    stray.parent.mkdir(parents=True)
    stray.write_text(path.read_text().replace(incident_id, "INC-20261127-GHST"))
    path.write_text(path.read_text().replace(f"incident: {incident_id}", "incident: INC-OTHER"))
    result = cli("validate", "--format", "json")
    assert result.code == 1
    findings = [f for f in json.loads(result.out)["findings"] if f["rule"] == "pir-incident"]
    assert sorted((f["path"], f["message"]) for f in findings) == sorted([
        (str(path.relative_to(repo)),
         f"this PIR sits in {incident_id}'s folder but names incident INC-OTHER"),
        ("incidents/2026/11/INC-20261127-GHST/pir.md",
         "no incident INC-20261127-GHST beside this PIR"),
    ])  # fmt: skip


# -- blameless ---------------------------------------------------------------------------
def test_blame_language_and_named_people_are_warnings_with_lines(repo: Path, cli: Invoke) -> None:
    def blame(text: str) -> str:
        text = text.replace(
            "because: Because of system reason 2.", "because: It was human error by @tester."
        )
        return text.replace(
            "## What Could Improve\n\n1. Filled in by the review",
            "## What Could Improve\n\n1. The on-call should have checked the dashboard.\n"
            "2. Careless, we know (blameless: ok)",
        )

    incident_id, path = _with_pir(repo, cli, blame)
    code, data = _checked(cli, incident_id)
    assert code == 0  # warnings: a reviewer decides
    got = [(f["line"], f["message"]) for f in data["findings"]]
    assert got == [
        (_line_of(path, "human error"), "blame language: 'human error'"),
        (_line_of(path, "human error"), "names an individual (@tester) in the analysis"),
        (_line_of(path, "should have"), "blame language: 'should have'"),
    ]
    assert {f["rule"] for f in data["findings"]} == {"pir-blameless"}


def test_blameless_check_is_configurable(repo: Path, cli: Invoke) -> None:
    incident_id, _ = _with_pir(
        repo, cli, lambda t: t.replace("Because of system reason 2.", "Human error, again.")
    )
    policy = repo / "policies/review.yaml"
    policy.write_text("blameless:\n  allow: [human error]\n")
    code, data = _checked(cli, incident_id)
    assert (code, data["findings"]) == (0, [])
    policy.write_text("blameless:\n  phrases: [again]\n")
    findings = _checked(cli, incident_id)[1]["findings"]
    assert [f["message"] for f in findings] == ["blame language: 'again'"]


# -- add-action ------------------------------------------------------------------------------
def test_add_action_defaults_due_from_horizon_and_keeps_the_file(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    before = path.read_text()
    result = cli("pir", "add-action", incident_id, "--title", "Add a canary gate: now",
                 "--owner", "@sre", "--horizon", "short-term", "--now", NOW)  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.strip() == "A1: due 2026-12-27 (short-term), owner @sre"
    assert cli("pir", "add-action", incident_id, "--title", "Fix it", "--owner", "@dev",
               "--horizon", "immediate", "--now", NOW).code == 0  # fmt: skip
    after = path.read_text()
    added = (
        "actions:\n"
        "  - id: A1\n    title: 'Add a canary gate: now'\n    owner: '@sre'\n"
        "    horizon: short-term\n    due: 2026-12-27\n    status: open\n"
        "  - id: A2\n    title: Fix it\n    owner: '@dev'\n"
        "    horizon: immediate\n    due: 2026-12-04\n    status: open\n"
    )
    assert after == before.replace("actions: []\n", added)  # comments and body untouched
    pir = Pir.model_validate(parse(path, after.encode()).data)
    assert [a.id for a in pir.actions] == ["A1", "A2"]


def test_add_action_refuses_bad_input_and_dry_run_writes_nothing(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    no_pir = cli("pir", "add-action", incident_id, "--title", "x", "--owner", "@a",
                 "--horizon", "immediate", "--now", NOW)  # fmt: skip
    assert no_pir.code == 2
    assert f"{incident_id} has no PIR yet" in no_pir.err
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    before = path.read_bytes()
    early = cli("pir", "add-action", incident_id, "--title", "x", "--owner", "@a",
                "--horizon", "immediate", "--due", "2026-01-01", "--now", NOW)  # fmt: skip
    assert early.code == 2
    assert "2026-01-01 is before the incident" in early.err
    dry = cli("pir", "add-action", incident_id, "--title", "x", "--owner", "@a",
              "--horizon", "immediate", "--now", NOW, "--dry-run")  # fmt: skip
    assert dry.code == 0
    assert "+  - id: A1" in dry.out
    assert path.read_bytes() == before


# -- approval through pull requests ------------------------------------------------------------
def _commit(repo: Path, message: str, when: str) -> None:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo),
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}  # fmt: skip
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, env=env, check=True)


def _merge(repo: Path, branch: str, when: str) -> None:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo),
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}  # fmt: skip
    subprocess.run(["git", "merge", "-q", "--no-ff", branch, "-m", f"Merge {branch}"],
                   cwd=repo, env=env, check=True)  # fmt: skip


def _pir_due(cli: Invoke, incident_id: str, now: str) -> dict[str, Any]:
    result = cli("deadlines", incident_id, "--now", now, "--format", "json")
    entries = json.loads(result.out)["deadlines"]
    (entry,) = [e for e in entries if e["rule"] == "pir-due"]
    return dict(entry)


@pytest.mark.parametrize(
    ("merged_at", "state"),
    [("2026-11-28T09:00:00+00:00", "met"), ("2026-11-28T15:00:00+00:00", "missed")],
)
def test_the_merge_that_approves_the_pir_is_its_approval_time(
    repo: Path, cli: Invoke, merged_at: str, state: str
) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    path.write_text(_complete(path.read_text()))
    _commit(repo, "PIR draft", "2026-11-27T18:00:00+00:00")
    assert _pir_due(cli, incident_id, "2026-11-28T11:00:00Z")["state"] == "pending"
    git(repo, "checkout", "-q", "-b", "approve-pir")
    path.write_text(
        path.read_text()
        .replace("status: draft", "status: approved")
        .replace("approvers: []", "approvers: ['@reviewer']")
    )
    _commit(repo, "Approve the PIR", "2026-11-28T08:00:00+00:00")  # on the branch
    git(repo, "checkout", "-q", "main")
    _merge(repo, "approve-pir", merged_at)
    entry = _pir_due(cli, incident_id, "2026-11-29T12:00:00Z")
    assert entry["state"] == state
    assert entry["done_at"] == merged_at.replace("+00:00", "Z")  # the merge, not the branch


def test_validate_base_refuses_a_hand_written_approval_time(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    path = _pir_path(repo, incident_id)
    _commit(repo, "PIR draft", "2026-11-27T18:00:00+00:00")
    git(repo, "checkout", "-q", "-b", "review")
    path.write_text(
        _complete(path.read_text())
        .replace("status: draft", "status: approved")
        .replace("approvers: []", "approvers: ['@reviewer']\napproved_at: 2026-11-27T12:00:00Z")
    )
    result = cli("validate", "--base", "main", "--format", "json")
    assert result.code == 1
    (finding,) = [f for f in json.loads(result.out)["findings"] if f["rule"] == "pir-approval"]
    assert finding["message"] == "approved_at is written by hand in this change"
    assert finding["line"] == _line_of(path, "approved_at:")
    # without the hand-written time the same approval passes
    path.write_text(path.read_text().replace("approved_at: 2026-11-27T12:00:00Z\n", ""))
    assert cli("validate", "--base", "main").code == 0


def test_sample_reviews(cli: Invoke) -> None:
    root = Path(__file__).resolve().parents[1]
    result = cli("--repo", str(root), "pir", "check", "--format", "json")
    data = json.loads(result.out)
    assert data["pirs"] == {
        "incidents/2026/10/INC-20261014-7VGA/pir.md": "approved",
        "incidents/2026/11/INC-20261103-4K7Q/pir.md": "approved",
        "incidents/2026/11/INC-20261118-B6NE/pir.md": "draft",
    }
    paths = {f["path"] for f in data["findings"]}
    assert paths == {"incidents/2026/11/INC-20261118-B6NE/pir.md"}  # only the draft has gaps
    assert result.code == 1


def test_show_says_where_the_review_stands(repo: Path, cli: Invoke) -> None:
    incident_id = _resolved_incident(cli)
    assert "review:" not in cli("show", incident_id, "--now", NOW).out
    assert cli("pir", "new", incident_id, "--now", NOW).code == 0
    for horizon in ("immediate", "long-term"):
        added = cli("pir", "add-action", incident_id, "--title", "t", "--owner", "@a",
                    "--horizon", horizon, "--now", NOW)  # fmt: skip
        assert added.code == 0
    path = _pir_path(repo, incident_id)
    path.write_text(path.read_text().replace("status: open", "status: done", 1))
    out = cli("show", incident_id, "--now", NOW).out
    assert (
        f"  review:              draft, 2 action(s), 1 not done  ({path.relative_to(repo)})" in out
    )


def test_schema_of_the_pir_front_matter(cli: Invoke) -> None:
    result = cli("schema", "--document", "pir")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["title"] == "incidentctl pir front-matter"
    assert set(data["properties"]) >= {"status", "whys", "contributing_factors", "actions"}
    assert data["additionalProperties"] is False
