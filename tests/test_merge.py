"""The merge driver: real `git merge` of two branches in a repository that enables it, and
`validate --base` after such a merge (presence, not position; corrections by name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from incidentctl.core.documents import parse
from incidentctl.core.model import Incident, Pir
from tests.conftest import GIT_ENV, NOW, Invoke, declare, git, incident_file


@pytest.fixture
def merging(repo: Path) -> Path:
    """The repository with the driver enabled, running this checkout's CLI."""
    driver = f"{sys.executable} -m incidentctl merge-driver %O %A %B %P"
    git(repo, "config", "merge.incidentctl.driver", driver)
    return repo


def _merge(repo: Path, branch: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo)}
    return subprocess.run(
        ["git", "merge", "--no-edit", branch],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def _ok(cli: Invoke, *args: str) -> None:
    result = cli(*args, "--now", NOW)
    assert result.code == 0, result.err


def _incident(path: Path) -> Incident:
    return Incident.model_validate(parse(path, path.read_bytes()).data)


def _two_branches(repo: Path, cli: Invoke, incident_id: str, ours: list[tuple[str, ...]],
                  theirs: list[tuple[str, ...]]) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Branch `theirs` and `ours` from main, run each side's commands, merge theirs into ours."""
    for branch, commands in (("theirs", theirs), ("ours", ours)):
        git(repo, "checkout", "-q", "-b", branch, "main")
        for command in commands:
            _ok(cli, *command)
        _commit(repo, f"{branch}: {incident_id}")
    return _merge(repo, "theirs")


def test_both_branches_append_events_and_the_merge_keeps_both_in_time_order(
    merging: Path, cli: Invoke
) -> None:
    incident_id = declare(cli)
    path = incident_file(merging, incident_id)
    text = path.read_text()
    path.write_text(text.replace("timeline:\n", "# paged by alertmanager\ntimeline:\n", 1))
    _commit(merging, "declare")
    merged = _two_branches(
        merging, cli, incident_id,
        ours=[("update", incident_id, "-m", "Rolling back", "--at", "2026-11-27T15:10:00Z")],
        theirs=[("update", incident_id, "-m", "Errors since 14:58", "--at",
                 "2026-11-27T15:05:00Z")],
    )  # fmt: skip
    assert merged.returncode == 0, merged.stdout + merged.stderr
    incident = _incident(path)
    assert [e.text for e in incident.timeline[1:]] == ["Errors since 14:58", "Rolling back"]
    assert "# paged by alertmanager\ntimeline:\n" in path.read_text()  # comments survive
    assert "<<<<<<<" not in path.read_text()
    assert cli("validate").code == 0
    # each parent's events are all still there, though not at the same positions
    assert cli("validate", "--base", "HEAD^1").code == 0
    assert cli("validate", "--base", "HEAD^2").code == 0


def test_without_the_driver_the_same_merge_conflicts(repo: Path, cli: Invoke) -> None:
    """What the driver is for: git's line merge conflicts on two appended events."""
    incident_id = declare(cli)
    _commit(repo, "declare")
    merged = _two_branches(
        repo, cli, incident_id,
        ours=[("update", incident_id, "-m", "Rolling back", "--at", "2026-11-27T15:10:00Z")],
        theirs=[("update", incident_id, "-m", "Errors", "--at", "2026-11-27T15:05:00Z")],
    )  # fmt: skip
    assert merged.returncode != 0
    assert "<<<<<<<" in incident_file(repo, incident_id).read_text()


def test_one_branch_resolves_while_the_other_posts_an_update(merging: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    _ok(cli, "ack", incident_id, "--at", "2026-11-27T15:02:00Z")
    _ok(cli, "engage", incident_id, "--at", "2026-11-27T15:04:00Z")
    _commit(merging, "engaged")
    merged = _two_branches(
        merging, cli, incident_id,
        ours=[("mitigate", incident_id, "--strategy", "rollback", "--at", "2026-11-27T15:20:00Z"),
              ("resolve", incident_id, "--at", "2026-11-27T15:30:00Z")],
        theirs=[("update", incident_id, "-m", "We are investigating", "--public",
                 "--at", "2026-11-27T15:12:00Z"),
                ("escalate", incident_id, "--tier", "2", "--at", "2026-11-27T15:14:00Z")],
    )  # fmt: skip
    assert merged.returncode == 0, merged.stdout + merged.stderr
    incident = _incident(incident_file(merging, incident_id))
    assert incident.status.value == "resolved"
    assert incident.resolved_at is not None
    assert incident.tier == 2  # their escalation came along
    assert [e.kind.value for e in incident.timeline] == [
        "declared", "acknowledged", "engaged", "update", "escalated", "mitigated", "resolved",
    ]  # fmt: skip
    assert cli("validate").code == 0
    assert cli("validate", "--base", "main").code == 0


def test_status_takes_the_later_state_when_both_moved_forward(merging: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    _ok(cli, "engage", incident_id, "--at", "2026-11-27T15:04:00Z")
    _commit(merging, "engaged")
    merged = _two_branches(
        merging, cli, incident_id,
        ours=[("mitigate", incident_id, "--strategy", "hotfix", "--at", "2026-11-27T15:20:00Z")],
        theirs=[("resolve", incident_id, "--at", "2026-11-27T15:30:00Z")],
    )  # fmt: skip
    assert merged.returncode == 0, merged.stdout + merged.stderr
    incident = _incident(incident_file(merging, incident_id))
    assert incident.status.value == "resolved"
    assert incident.mitigated_at is not None
    assert incident.resolved_at is not None
    assert cli("validate").code == 0


def test_both_changing_the_title_stays_a_conflict_that_validate_names(
    merging: Path, cli: Invoke
) -> None:
    incident_id = declare(cli)
    _commit(merging, "declare")
    path = incident_file(merging, incident_id)
    for branch, title in (("theirs", "Payments fail"), ("ours", "Checkout fails")):
        git(merging, "checkout", "-q", "-b", branch, "main")
        path.write_text(path.read_text().replace("title: Checkout returns 502", f"title: {title}"))
        _ok(cli, "update", incident_id, "-m", f"{branch} update", "--at", "2026-11-27T15:06:00Z")
        _commit(merging, branch)
    merged = _merge(merging, "theirs")
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout
    assert "title changed differently on both sides" in merged.stderr
    text = path.read_text()
    lines = text.split("\n")
    start = lines.index("<<<<<<< ours")
    assert lines[start : start + 5] == [
        "<<<<<<< ours",
        "title: Checkout fails",
        "=======",
        "title: Payments fail",
        ">>>>>>> theirs",
    ]
    # the rest merged: both updates are in the timeline, once each
    assert text.count("text: ours update") == 1
    assert text.count("text: theirs update") == 1
    result = cli("validate", "--format", "json")
    assert result.code == 1
    (finding,) = [f for f in json.loads(result.out)["findings"] if f["path"].endswith(".md")]
    assert finding["rule"] == "merge-conflict"
    assert finding["message"].startswith("unresolved merge conflict")
    assert finding["line"] == start + 1
    text_result = cli("validate")
    assert f"incident.md:{start + 1}: error: [merge-conflict] unresolved merge conflict" in (
        text_result.out
    )
    assert "malformed YAML" not in text_result.out
    against_base = cli("validate", "--base", "main").out
    assert "[merge-conflict] unresolved merge conflict" in against_base
    assert "was deleted" not in against_base  # it is there, only not resolved yet


def test_both_resolving_at_different_times_is_a_conflict(merging: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    _commit(merging, "declare")
    merged = _two_branches(
        merging, cli, incident_id,
        ours=[("resolve", incident_id, "--at", "2026-11-27T15:30:00Z")],
        theirs=[("resolve", incident_id, "--at", "2026-11-27T15:40:00Z")],
    )  # fmt: skip
    assert merged.returncode != 0
    text = incident_file(merging, incident_id).read_text()
    assert (
        "<<<<<<< ours\nresolved_at: 2026-11-27T15:30:00Z\n=======\n"
        "resolved_at: 2026-11-27T15:40:00Z\n>>>>>>> theirs\n"
    ) in text


def test_bodies_merge_by_lines_and_conflict_only_where_both_changed(
    merging: Path, cli: Invoke
) -> None:
    incident_id = declare(cli)
    path = incident_file(merging, incident_id)
    path.write_text(path.read_text() + "\n## Impact\n\nTBD\n\n## Links\n\nnone\n")
    _commit(merging, "declare")
    for branch, old, new in (("theirs", "TBD", "EU customers"), ("ours", "none", "#inc-502")):
        git(merging, "checkout", "-q", "-b", branch, "main")
        path.write_text(path.read_text().replace(f"\n{old}\n", f"\n{new}\n"))
        _commit(merging, branch)
    merged = _merge(merging, "theirs")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    body = path.read_text().split("\n---\n", 1)[1]
    assert "\nEU customers\n" in body
    assert "\n#inc-502\n" in body


def test_a_setext_heading_is_not_a_conflict_marker(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    path.write_text(path.read_text() + "\nImpact\n=======\n\nEU customers\n")
    assert cli("validate").code == 0


def test_a_version_that_does_not_parse_falls_back_to_gits_line_merge(
    merging: Path, cli: Invoke
) -> None:
    incident_id = declare(cli)
    _commit(merging, "declare")
    path = incident_file(merging, incident_id)
    git(merging, "checkout", "-q", "-b", "theirs", "main")
    path.write_text(path.read_text().replace("impact: high", "impact: hihg"))  # invalid
    _commit(merging, "typo")
    git(merging, "checkout", "-q", "-b", "ours", "main")
    _ok(cli, "update", incident_id, "-m", "ours", "--at", "2026-11-27T15:06:00Z")
    _commit(merging, "ours")
    merged = _merge(merging, "theirs")
    assert merged.returncode == 0, merged.stdout + merged.stderr  # different lines: git merges
    text = path.read_text()
    assert "impact: hihg" in text
    assert "text: ours" in text


def test_pir_actions_merge_as_a_union_by_id(merging: Path, cli: Invoke) -> None:
    incident_id = declare(cli, at="2026-11-27T10:00:00Z")
    _ok(cli, "resolve", incident_id, "--at", "2026-11-27T11:00:00Z")
    _ok(cli, "pir", "new", incident_id)
    _ok(cli, "pir", "add-action", incident_id, "--title", "Canary gate", "--owner", "@sre",
        "--horizon", "short-term")  # fmt: skip
    _commit(merging, "pir")
    pir_path = incident_file(merging, incident_id).parent / "pir.md"
    # theirs: the write-back records A1's issue; ours: a new action A2
    git(merging, "checkout", "-q", "-b", "theirs", "main")
    pir_path.write_text(pir_path.read_text().replace("    status: open\n", "    issue: '#12'\n"
                                                     "    status: open\n"))  # fmt: skip
    _commit(merging, "write-back")
    git(merging, "checkout", "-q", "-b", "ours", "main")
    _ok(cli, "pir", "add-action", incident_id, "--title", "Alert on 5xx", "--owner", "@sre",
        "--horizon", "immediate", "--id", "A2")  # fmt: skip
    _commit(merging, "A2")
    merged = _merge(merging, "theirs")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    pir = Pir.model_validate(parse(pir_path, pir_path.read_bytes()).data)
    assert [(a.id, a.issue) for a in pir.actions] == [("A1", "#12"), ("A2", None)]
    assert cli("validate").code == 0


def test_two_different_pir_actions_under_one_id_are_a_conflict(merging: Path, cli: Invoke) -> None:
    incident_id = declare(cli, at="2026-11-27T10:00:00Z")
    _ok(cli, "resolve", incident_id, "--at", "2026-11-27T11:00:00Z")
    _ok(cli, "pir", "new", incident_id)
    _commit(merging, "pir")
    merged = _two_branches(
        merging, cli, incident_id,
        ours=[("pir", "add-action", incident_id, "--title", "Canary gate", "--owner", "@sre",
               "--horizon", "short-term")],
        theirs=[("pir", "add-action", incident_id, "--title", "Alert on 5xx", "--owner", "@sre",
                 "--horizon", "immediate")],
    )  # fmt: skip
    assert merged.returncode != 0
    assert "actions changed differently on both sides" in merged.stderr


def test_init_writes_gitattributes_and_says_how_to_enable_the_driver(
    tmp_path: Path, cli: Invoke
) -> None:
    target = tmp_path / "new-repo"
    result = cli("init", str(target), cwd=tmp_path)
    assert result.code == 0
    attributes = (target / ".gitattributes").read_text()
    assert "incidents/**/incident.md merge=incidentctl\n" in attributes
    assert "incidents/**/pir.md merge=incidentctl\n" in attributes
    enable = 'git config merge.incidentctl.driver "incidentctl merge-driver %O %A %B %P"'
    assert enable in result.err
    assert enable in attributes
    assert (Path(__file__).resolve().parents[1] / ".gitattributes").read_text() == attributes


# -- validate --base: presence, not position; corrections by name -------------------------


def _acknowledged(repo: Path, cli: Invoke) -> tuple[str, Path]:
    incident_id = declare(cli)
    _ok(cli, "ack", incident_id, "--at", "2026-11-27T15:02:00Z")
    _ok(cli, "update", incident_id, "-m", "Looking", "--at", "2026-11-27T15:03:00Z")
    _commit(repo, "acknowledged")
    return incident_id, incident_file(repo, incident_id)


def _append(path: Path, event: str) -> None:
    text = path.read_text()
    head, body = text.split("\n---\n", 1)
    path.write_text(head + "\n" + event.rstrip("\n") + "\n---\n" + body)


def _append_only(cli: Invoke) -> list[tuple[str, str]]:
    result = cli("validate", "--base", "HEAD", "--format", "json")
    return [
        (f["rule"], f["message"])
        for f in json.loads(result.out)["findings"]
        if f["rule"] in ("append-only", "correction")
    ]


def test_base_refuses_an_edited_event_unless_a_correction_names_it(repo: Path, cli: Invoke) -> None:
    _, path = _acknowledged(repo, cli)
    path.write_text(path.read_text().replace("text: Looking", "text: Looking at the LB"))
    assert _append_only(cli) == [
        ("append-only", "timeline event #3 (update at 2026-11-27T15:03:00Z) was edited")
    ]
    wrong = (
        "  - at: 2026-11-27T15:20:00Z\n    kind: correction\n    by: '@tester'\n"
        "    event: 2026-11-27T15:03:00Z\n    field: text\n    old: Lookin\n"
        "    new: Looking at the LB\n    reason: the update named the wrong thing\n"
    )
    _append(path, wrong)
    assert sorted(rule for rule, _ in _append_only(cli)) == ["append-only", "correction"]
    path.write_text(path.read_text().replace("old: Lookin\n", "old: Looking\n"))
    assert _append_only(cli) == []
    assert cli("validate", "--base", "HEAD").code == 0


def test_a_correction_accepts_only_the_change_it_names(repo: Path, cli: Invoke) -> None:
    _, path = _acknowledged(repo, cli)
    text = path.read_text().replace(
        "acknowledged_at: 2026-11-27T15:02:00Z", "acknowledged_at: 2026-11-27T15:01:00Z"
    )
    path.write_text(text.replace("text: Acknowledged", "text: Acked"))  # a second, unnamed edit
    _append(
        path,
        "  - at: 2026-11-27T15:20:00Z\n    kind: correction\n    field: acknowledged_at\n"
        "    old: 2026-11-27T15:02:00+00:00\n    new: 2026-11-27T15:01:00Z\n"
        "    reason: paged at 15:01; the ack command ran late\n",
    )
    assert _append_only(cli) == [
        ("append-only", "timeline event #2 (acknowledged at 2026-11-27T15:02:00Z) was edited")
    ]


def test_a_correction_must_name_field_values_and_reason(repo: Path, cli: Invoke) -> None:
    _, path = _acknowledged(repo, cli)
    _append(path, "  - at: 2026-11-27T15:20:00Z\n    kind: correction\n    text: fixed it\n")
    result = cli("validate")
    assert result.code == 1
    assert "a correction names the field it corrects, its old and new value" in result.out
    assert "missing: field, old or new, reason" in result.out
    path.write_text(path.read_text().replace("    text: fixed it\n", "    field: acknowleged_at\n"
                    "    new: 2026-11-27T15:01:00Z\n    reason: late\n"))  # fmt: skip
    result = cli("validate")
    assert "[correction] timeline[3].field: the correction names 'acknowleged_at'" in result.out
    assert "did you mean 'acknowledged_at'?" in result.out


def test_base_still_refuses_deleted_events_and_moved_times(repo: Path, cli: Invoke) -> None:
    _, path = _acknowledged(repo, cli)
    text = path.read_text()
    start = text.index("  - at: 2026-11-27T15:03:00Z")
    path.write_text(text[:start] + text[text.index("---\n#", start) :])
    assert _append_only(cli) == [
        ("append-only", "timeline event #3 (update at 2026-11-27T15:03:00Z) was deleted")
    ]


# -- the driver on three files, as git hands them over --------------------------------------

BASE = """\
---
id: INC-20261127-AB12
title: Checkout returns 502
status: investigating
impact: high
urgency: high
priority: P0
services: [example-service]
detected_at: 2026-11-27T15:00:00Z
engaged_at: 2026-11-27T15:02:00Z
resolved_at: null
timeline:
  - at: 2026-11-27T15:00:00Z
    kind: declared
    text: Declared
  - at: 2026-11-27T15:02:00Z
    kind: engaged
    text: Engaged
---
# Checkout returns 502
"""


def _event(at: str, text: str, kind: str = "update") -> str:
    return f"  - at: {at}\n    kind: {kind}\n    text: {text}\n"


def _driver(tmp_path: Path, base: str, ours: str, theirs: str) -> tuple[list[str], str]:
    from incidentctl.store.merge import merge_files

    files = []
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        path = tmp_path / name
        path.write_bytes(text.encode())
        files.append(path)
    conflicts = merge_files(*files, "incidents/2026/11/INC-20261127-AB12/incident.md")
    return conflicts, files[1].read_bytes().decode()


def _with(text: str, *events: str) -> str:
    return text.replace("---\n# ", "".join(events) + "---\n# ")


def test_equal_times_keep_base_then_ours_then_theirs(tmp_path: Path) -> None:
    at = "2026-11-27T15:02:00Z"
    conflicts, merged = _driver(
        tmp_path, BASE, _with(BASE, _event(at, "ours")), _with(BASE, _event(at, "theirs"))
    )
    assert conflicts == []
    texts = [e.text for e in _incident_text(merged).timeline]
    assert texts == ["Declared", "Engaged", "ours", "theirs"]


def test_the_same_event_on_both_sides_is_kept_once(tmp_path: Path) -> None:
    same = _event("2026-11-27T15:05:00Z", "cherry-picked")
    conflicts, merged = _driver(tmp_path, BASE, _with(BASE, same), _with(BASE, same))
    assert conflicts == []
    assert merged == _with(BASE, same)


def test_a_reopen_against_a_close_is_a_status_conflict(tmp_path: Path) -> None:
    resolved = BASE.replace("status: investigating", "status: resolved").replace(
        "resolved_at: null", "resolved_at: 2026-11-27T15:30:00Z"
    )
    reopened = _with(
        resolved.replace("status: resolved", "status: investigating").replace(
            "resolved_at: 2026-11-27T15:30:00Z", "resolved_at: null"
        ),
        _event("2026-11-27T15:40:00Z", "Reopened", "reopened"),
    )
    closed = _with(
        resolved.replace("status: resolved", "status: closed").replace(
            "resolved_at: 2026-11-27T15:30:00Z",
            "resolved_at: 2026-11-27T15:30:00Z\nclosed_at: 2026-11-27T15:45:00Z",
        ),
        _event("2026-11-27T15:45:00Z", "Closed", "closed"),
    )
    conflicts, merged = _driver(tmp_path, resolved, reopened, closed)
    assert conflicts == ["status"]
    assert "<<<<<<< ours\nstatus: investigating\n=======\nstatus: closed\n>>>>>>> theirs\n" in (
        merged
    )


def test_crlf_comments_and_one_sided_fields_survive(tmp_path: Path) -> None:
    base = BASE.replace("title: Checkout returns 502", "title: Checkout returns 502  # short")
    ours = _with(base, _event("2026-11-27T15:10:00Z", "ours")).replace("\n", "\r\n")
    theirs = _with(base, _event("2026-11-27T15:05:00Z", "theirs")).replace(
        "services: [example-service]", "services: [example-service, payments-api]"
    )
    conflicts, merged = _driver(tmp_path, base, ours, theirs)
    assert conflicts == []
    assert merged.count("\r\n") == merged.count("\n")  # ours' line endings
    assert "title: Checkout returns 502  # short\r\n" in merged
    assert "services: [example-service, payments-api]\r\n" in merged
    assert [e.text for e in _incident_text(merged).timeline[2:]] == ["theirs", "ours"]


def test_both_added_the_same_file_differently_is_a_conflict(tmp_path: Path) -> None:
    other = BASE.replace("title: Checkout returns 502", "title: Another incident")
    conflicts, merged = _driver(tmp_path, "", BASE, other)
    assert conflicts == ["title"]
    assert "=======\ntitle: Another incident\n>>>>>>> theirs\n" in merged


def _incident_text(text: str) -> Incident:
    return Incident.model_validate(parse(Path("incident.md"), text.encode()).data)


def test_correct_sets_the_value_and_names_it_so_validate_base_accepts_it(
    repo: Path, cli: Invoke
) -> None:
    incident_id, path = _acknowledged(repo, cli)
    result = cli("correct", incident_id, "--field", "acknowledged_at", "--value",
                 "2026-11-27T15:01:00Z", "--reason", "paged at 15:01", "--at",
                 "2026-11-27T15:20:00Z", "--now", NOW)  # fmt: skip
    assert result.code == 0, result.err
    result = cli("correct", incident_id, "--event", "2026-11-27T15:03:00Z", "--field", "text",
                 "--value", "Looking: the LB", "--reason", "said too little", "--at",
                 "2026-11-27T15:21:00Z", "--now", NOW)  # fmt: skip
    assert result.code == 0, result.err
    incident = _incident(path)
    assert str(incident.acknowledged_at) == "2026-11-27 15:01:00+00:00"
    assert incident.timeline[2].text == "Looking: the LB"  # text with a colon stays text
    fixes = [(e.field, e.old, e.new) for e in incident.timeline if e.kind.value == "correction"]
    assert fixes == [
        ("acknowledged_at", "2026-11-27T15:02:00Z", "2026-11-27T15:01:00Z"),
        ("text", "Looking", "Looking: the LB"),
    ]
    assert cli("validate", "--base", "HEAD").code == 0


def test_correct_refuses_what_it_cannot_name(repo: Path, cli: Invoke) -> None:
    incident_id, path = _acknowledged(repo, cli)
    before = path.read_bytes()
    for args, message in (
        (("--field", "timeline", "--value", "[]"), "'timeline' is not a field a correction"),
        (("--field", "priority", "--value", "P9"), "priority: Input should be"),
        (("--field", "priority", "--value", "P0"), "priority is already 'P0'"),
        (("--event", "2026-11-27T15:04:00Z", "--field", "text", "--value", "x"),
         "no timeline events at 2026-11-27T15:04:00Z"),
    ):  # fmt: skip
        result = cli("correct", incident_id, *args, "--reason", "r", "--now", NOW)
        assert result.code == 2, (args, result.out)
        assert message in result.err, result.err
    assert path.read_bytes() == before
