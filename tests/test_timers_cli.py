"""`overdue`, `deadlines` and `snooze` through the CLI, on a repository made by `init`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incidentctl.cli.app import run
from tests.conftest import NOW, Invoke, declare, git, incident_file

AT = "2026-11-27T15:00:00Z"  # the declarations below happen then


@pytest.fixture
def repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`incidentctl init` in a temp folder, committed in a fresh git repository."""
    root = tmp_path / "incidents-repo"
    assert run(["init", str(root)]) == 0
    capsys.readouterr()
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def _tested(repo: Path, day: str = "2026-11-20") -> None:
    """Record the example runbook as tested, so only incidents produce findings."""
    path = repo / "runbooks/example-service-5xx.md"
    path.write_text(path.read_text().replace("last_tested: null", f"last_tested: {day}"))


def _json(cli: Invoke, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli(*args, "--format", "json")
    return result.code, json.loads(result.out)


def _rules(cli: Invoke, now: str) -> list[str]:
    return [f["rule"] for f in _json(cli, "overdue", "--now", now)[1]["findings"]]


def test_fresh_repository_reports_the_untested_example_runbook(repo: Path, cli: Invoke) -> None:
    code, data = _json(cli, "overdue", "--now", AT)
    assert code == 1
    assert data == {
        "now": AT,
        "findings": [
            {
                "incident": "example-service-5xx",
                "rule": "runbook-untested",
                "due": None,
                "state": "overdue",
                "overdue_seconds": 0,
                "who": ["@example-org/sre"],
                "message": "runbook example-service-5xx has never been tested (limit 90d)",
                "recommendation": "Exercise the runbook, then record it: "
                "incidentctl runbook tested example-service-5xx",
                "priority": None,
                "subject": "example-service-5xx",
                "related": [],
            }
        ],
    }
    _tested(repo)
    result = cli("overdue", "--now", AT)
    assert (result.code, result.out) == (0, f"nothing overdue at {AT}\n")


def test_acknowledgement_boundary_through_the_cli(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)  # P0 at 15:00: acknowledge within 1 minute
    early = cli("overdue", "--now", "2026-11-27T15:00:30Z")
    assert (early.code, early.out) == (0, "nothing overdue at 2026-11-27T15:00:30Z\n")
    code, data = _json(cli, "overdue", "--now", "2026-11-27T15:01:00Z", "--include-due-soon")
    assert code == 0  # exactly at the deadline: due, not overdue
    assert [(f["rule"], f["state"]) for f in data["findings"]] == [("acknowledge", "due-soon")]
    code, data = _json(cli, "overdue", "--now", "2026-11-27T15:01:01Z")
    assert code == 1
    (ack,) = data["findings"]
    assert ack["incident"] == incident_id
    assert (ack["due"], ack["overdue_seconds"], ack["priority"]) == (
        "2026-11-27T15:01:00Z",
        1,
        "P0",
    )
    assert ack["who"] == ["@example-org/oncall"]
    assert ack["message"] == "P0 not acknowledged: overdue by 1s (due 2026-11-27T15:01:00Z)"
    assert cli("ack", incident_id, "--at", "2026-11-27T15:02:00Z", "--now", AT).code == 0
    assert cli("overdue", "--now", "2026-11-27T15:02:00Z").code == 0


def test_text_table_most_urgent_first_and_priority_filter(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    p0 = declare(cli)
    p2 = declare(cli, "--impact", "low", "--urgency", "high")  # low x high = P2
    result = cli("overdue", "--now", "2026-11-27T15:20:00Z")
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if not line.startswith(" ")]
    assert lines[0].split() == ["STATE", "LATE", "PRI", "INCIDENT", "RULE", "WHO", "WHAT"]
    first = lines[1].split()
    assert first[:5] == ["overdue", "19m", "P0", p0, "acknowledge"]
    assert all(line.startswith("overdue") for line in lines[1:])
    assert [line.split()[2] for line in lines[1:]] == ["P0"] * 5 + ["P2"]
    assert "overdue, 0 due soon at 2026-11-27T15:20:00Z" in result.err
    widths = {line.index(" P") for line in lines[1:]}
    assert len(widths) == 1, "columns are aligned"
    code, data = _json(cli, "overdue", "--now", "2026-11-27T15:20:00Z", "--priority", "P2")
    assert {f["incident"] for f in data["findings"]} == {p2}
    assert {f["rule"] for f in data["findings"]} == {"triage"}  # P2: acknowledge within 30 min
    assert code == 1


def test_github_annotations(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)
    result = cli("overdue", "--now", "2026-11-27T15:05:00Z", "--format", "github")
    assert result.code == 1
    path = incident_file(repo, incident_id).relative_to(repo).as_posix()
    assert result.out.splitlines()[0] == (
        f"::error file={path},title=acknowledge {incident_id}::P0 not acknowledged: overdue by"
        " 4m (due 2026-11-27T15:01:00Z) (who: @example-org/oncall)"
    )
    book = repo / "runbooks/example-service-5xx.md"
    book.write_text(book.read_text().replace("2026-11-20", "2026-01-02"))
    result = cli("overdue", "--now", "2026-11-27T15:05:00Z", "--format", "github")
    assert result.out.splitlines()[-1].startswith(
        "::error file=runbooks/example-service-5xx.md,title=runbook-untested example-service-5xx::"
        "runbook example-service-5xx last tested 2026-01-02, limit 90d: overdue by 238d15h5m"
    )


def test_deadlines_shows_met_missed_and_pending(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)
    assert cli("ack", incident_id, "--at", "2026-11-27T15:00:45Z", "--now", AT).code == 0
    assert cli("engage", incident_id, "--at", "2026-11-27T15:16:00Z", "--now", NOW).code == 0
    result = cli("deadlines", incident_id, "--now", "2026-11-27T15:20:00Z")
    assert result.code == 0
    rows = {line.split()[2]: line.split()[:2] for line in result.out.splitlines()[3:]}
    assert rows["acknowledge"] == ["met", "2026-11-27T15:01:00Z"]
    assert rows["engage"] == ["missed", "2026-11-27T15:15:00Z"]
    assert rows["notify-management"] == ["pending", "2026-11-27T15:30:00Z"]
    assert rows["triage"] == ["overdue", "2026-11-27T15:15:00Z"]
    assert rows["pir-due"] == ["not-applicable", "-"]
    code, data = _json(cli, "deadlines", incident_id, "--now", "2026-11-27T15:20:00Z")
    assert (code, data["incident"], data["priority"]) == (0, incident_id, "P0")
    early = cli("deadlines", incident_id, "--now", "2026-11-27T14:59:59Z")
    assert (early.code, early.err) == (
        2,
        f"error: {incident_id} was detected at {AT}, after --now 2026-11-27T14:59:59Z\n"
        "  hint: pass a --now at or after detection\n",
    )
    ack = next(d for d in data["deadlines"] if d["rule"] == "acknowledge")
    assert ack == {
        "rule": "acknowledge",
        "subject": None,
        "due": "2026-11-27T15:01:00Z",
        "state": "met",
        "start": AT,
        "done_at": "2026-11-27T15:00:45Z",
        "snoozed_until": None,
        "note": "",
    }


def test_snooze_records_an_event_and_quiets_the_rule(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    before = path.read_text()
    dry = cli(
        "snooze", incident_id, "--rule", "acknowledge", "--for", "15m", "--at",
        "2026-11-27T15:02:00Z", "--now", "2026-11-27T15:02:00Z", "--dry-run",
    )  # fmt: skip
    assert dry.code == 0
    assert "+    kind: snoozed" in dry.out
    assert path.read_text() == before
    result = cli(
        "snooze", incident_id, "--rule", "acknowledge", "--for", "15m", "--reason",
        "paging the backup", "--by", "@alice", "--at", "2026-11-27T15:02:00Z", "--now",
        "2026-11-27T15:02:00Z",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out == (
        "Snoozed acknowledge for 15m until 2026-11-27T15:17:00Z: paging the backup\n"
    )
    text = path.read_text()
    assert text.startswith(before.split("timeline:")[0])  # only the timeline grew
    assert "kind: snoozed" in text
    assert "rule: acknowledge" in text
    assert "until: 2026-11-27T15:17:00Z" in text
    assert cli("validate").code == 0
    assert "acknowledge" not in _rules(cli, "2026-11-27T15:16:59Z")
    assert "acknowledge" in _rules(cli, "2026-11-27T15:17:00Z")
    shown = cli("deadlines", incident_id, "--now", "2026-11-27T15:10:00Z").out
    assert "snoozed until 2026-11-27T15:17:00Z" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--rule", "acknowledge", "--for", "1d"],
            "error: P0 reminders can be snoozed for at most 15m, not 1d\n"
            "  hint: the cap is policies/sla.yaml snooze_max.P0; "
            "snooze again when this one ends if you must\n",
        ),
        (
            ["--rule", "acknowlegde", "--for", "5m"],
            "error: unknown rule 'acknowlegde'\n  hint: did you mean acknowledge?\n",
        ),
        (
            ["--rule", "acknowledge", "--for", "a while"],
            "error: 'a while' is not a duration; use a number with a unit: 30s, 15m, 2h, "
            "1h30m, 1d, 1w, or 1bd for business days\n  hint: e.g. --for 15m, 2h or 1bd\n",
        ),
    ],
)
def test_snooze_refusals_write_nothing(
    repo: Path, cli: Invoke, args: list[str], message: str
) -> None:
    incident_id = declare(cli)
    before = incident_file(repo, incident_id).read_text()
    result = cli("snooze", incident_id, *args, "--now", "2026-11-27T15:02:00Z")
    assert (result.code, result.err) == (2, message)
    assert incident_file(repo, incident_id).read_text() == before


def test_pir_and_actions_from_pir_md(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)
    for command, at in (("ack", "15:00:30"), ("resolve", "15:40:00"), ("close", "15:50:00")):
        assert cli(command, incident_id, "--at", f"2026-11-27T{at}Z", "--now", NOW).code == 0
    assert _rules(cli, "2026-11-28T15:39:59Z") == []  # the P0 review is due 24 h after resolution
    assert _rules(cli, "2026-12-20T00:00:00Z") == ["pir-due"]  # closed does not excuse it
    pir = incident_file(repo, incident_id).parent / "pir.md"
    pir.write_text(
        "---\nstatus: approved\napproved_at: 2026-11-28T10:00:00Z\nactions:\n"
        "  - {id: A-1, title: Add a canary stage, owner: '@bob', horizon: immediate, "
        "due: 2026-12-04, status: open}\n"
        "  - {id: A-2, title: Alert on missing settings, owner: '@eve', horizon: short-term, "
        "status: done}\n---\n# PIR\n"
    )
    assert _rules(cli, "2026-12-04T23:59:59Z") == []
    code, data = _json(cli, "overdue", "--now", "2026-12-05T00:00:01Z")
    assert code == 1
    (action,) = data["findings"]
    assert (action["rule"], action["subject"], action["who"]) == ("action-due", "A-1", ["@bob"])
    shown = cli("deadlines", incident_id, "--now", "2026-12-05T00:00:01Z").out
    assert "met             2026-11-28T15:40:00Z  pir-due" in shown
    pir.write_text("no front-matter\n")
    broken = cli("overdue", "--now", "2026-12-05T00:00:01Z")
    assert broken.code == 1  # an unreadable PIR is not approved, so the review is overdue
    assert broken.err.startswith(
        f"warning: PIR counted as not approved: {pir.relative_to(repo).as_posix()}:1: "
        "no YAML front-matter\n"
    )


def test_policy_change_after_declaration_keeps_the_old_timers(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)
    sla = repo / "policies/sla.yaml"
    sla.write_text(sla.read_text().replace("acknowledge: 1m", "acknowledge: 30m"))
    code, data = _json(cli, "overdue", "--now", "2026-11-27T15:01:01Z")
    assert code == 1
    assert [f["rule"] for f in data["findings"]] == ["acknowledge"]
    later = declare(cli, at="2026-11-27T15:30:00Z")
    assert later != incident_id
    code, data = _json(cli, "overdue", "--now", "2026-11-27T15:31:01Z")
    late = {(f["incident"], f["rule"]) for f in data["findings"]}
    assert (incident_id, "acknowledge") in late
    assert (later, "acknowledge") not in late  # declared under the 30m policy


@pytest.mark.parametrize("command", ["overdue", "deadlines", "snooze"])
def test_help_has_examples(cli: Invoke, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert "Examples:" in result.out
    assert f"incidentctl {command}" in result.out


def test_recording_the_regulator_notice_stops_the_regulatory_clock(repo: Path, cli: Invoke) -> None:
    sla = repo / "policies" / "sla.yaml"
    sla.write_text(sla.read_text().replace("regulatory: {}", "regulatory: {gdpr: 72h}"))
    incident_id = declare(cli, "--category", "security", "--security-breach")

    def regulatory() -> dict[str, Any]:
        _, data = _json(cli, "deadlines", incident_id, "--now", "2026-11-30T16:00:00Z")
        (entry,) = [d for d in data["deadlines"] if d["rule"] == "regulatory-deadline"]
        return dict(entry)

    assert (regulatory()["state"], regulatory()["due"]) == ("overdue", "2026-11-30T15:00:00Z")
    wrong = cli("regulatory", incident_id, "--regime", "ccpa", "-m", "x", "--now", NOW)
    assert wrong.code == 2
    assert "no regulatory clock 'ccpa'" in wrong.err
    assert "configured: gdpr" in wrong.err
    done = cli("regulatory", incident_id, "--regime", "gdpr", "--ref", "DPA-1",
               "-m", "Notified the DPA", "--at", "2026-11-28T09:00:00Z",
               "--now", "2026-11-28T09:30:00Z")  # fmt: skip
    assert done.code == 0, done.err
    entry = regulatory()
    assert (entry["state"], entry["done_at"]) == ("met", "2026-11-28T09:00:00Z")
    text = incident_file(repo, incident_id).read_text()
    assert "rule: regulatory-deadline:gdpr" in text
    assert "ref: DPA-1" in text


def test_overdue_text_says_what_to_do_under_each_finding(repo: Path, cli: Invoke) -> None:
    _tested(repo)
    incident_id = declare(cli)
    result = cli("overdue", "--now", "2026-11-27T15:20:00Z")
    lines = result.out.splitlines()
    (row,) = [i for i, line in enumerate(lines) if line.split()[4:5] == ["acknowledge"]]
    _, data = _json(cli, "overdue", "--now", "2026-11-27T15:20:00Z")
    (ack,) = [f for f in data["findings"] if f["rule"] == "acknowledge"]
    assert f"incidentctl ack {incident_id}" in ack["recommendation"]
    assert lines[row + 1] == " " * len("overdue  ") + "do: " + ack["recommendation"]


def test_overdue_who_column_never_runs_past_thirty_characters(samples: Path, cli: Invoke) -> None:
    _, data = _json(cli, "overdue", "--now", NOW)
    assert max(len(", ".join(f["who"])) for f in data["findings"]) > 30  # the samples have some
    result = cli("overdue", "--now", NOW)
    header, *rows = [line for line in result.out.splitlines() if not line.startswith(" ")]
    start, end = header.index("WHO"), header.index("WHAT")
    assert end - start <= 32, header  # 30 characters and the gap
    for row, finding in zip(rows, data["findings"], strict=True):
        who = row[start:end].strip()
        assert len(who) <= 30, who
        shown = who.split(" +")[0].split(", ")
        assert shown == finding["who"][: len(shown)]
        hidden = len(finding["who"]) - len(shown)
        assert who.endswith(f" +{hidden}") if hidden else "+" not in who
    # what to do names the command that records it
    assert "do: Finish it and record it: incidentctl action done INC-20261103-4K7Q A4;" in (
        result.out
    )


@pytest.mark.parametrize(
    ("people", "text"),
    [
        ([], "-"),
        (["@a", "@b"], "@a, @b"),
        (["@parcelly/engineering-mgrs", "@bob"], "@parcelly/engineering-mgrs +1"),
        (["@parcelly/incident-commanders", "@b"], "@parcelly/incident-command… +1"),
        (["@parcelly/a-team-with-a-very-long-name"], "@parcelly/a-team-with-a-very-…"),
        (["@parcelly/a-team-with-a-very-long-name", "@b"], "@parcelly/a-team-with-a-ve… +1"),
    ],
)
def test_who_fits_thirty_characters(people: list[str], text: str) -> None:
    from incidentctl.cli.deadlines import _who

    assert _who(people) == text
    assert len(_who(people)) <= 30
