"""Forgiving input, through the CLI on a real repository: IDs in any case or as a unique
suffix or prefix, choices in any case, one time parser for every time option, --repo
before or after the subcommand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentctl.core.timevalues import TimeValueError, parse_moment
from tests.conftest import NOW, Invoke, declare, incident_file

FIRST = "INC-20261127-9TRX"
SECOND = "INC-20261127-9TRY"
THIRD = "INC-20261126-E2QW"


@pytest.fixture
def three(cli: Invoke) -> Invoke:
    """Three incidents with known IDs: two of one day sharing '9TR', one the day before."""
    declare(cli, "--id", FIRST)
    declare(cli, "--id", SECOND)
    declare(cli, "--id", THIRD, at="2026-11-26T15:00:00Z")
    return cli


def _acked(repo: Path, incident_id: str) -> str:
    text = incident_file(repo, incident_id).read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith("acknowledged_at:"))


# -- IDs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["inc-20261127-9trx", "9TRX", "9trx", " 9trx", "27-9TRX"])
def test_an_incident_is_found_by_its_id_in_any_case_or_a_unique_suffix(
    repo: Path, three: Invoke, typed: str
) -> None:
    result = three("ack", typed, "--now", NOW)
    assert result.code == 0, result.err
    assert FIRST in result.out
    assert _acked(repo, FIRST) == "acknowledged_at: 2026-11-27T16:00:00Z"
    assert _acked(repo, SECOND) == "acknowledged_at: null"


def test_a_unique_prefix_finds_the_incident(three: Invoke) -> None:
    result = three("show", "inc-20261126", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["id"] == THIRD


def test_an_ambiguous_piece_lists_the_candidates(repo: Path, three: Invoke) -> None:
    result = three("ack", "inc-20261127", "--now", NOW)
    assert result.code == 2
    assert result.err == (
        f"error: 'inc-20261127' matches 2 incidents: {FIRST}, {SECOND}\n"
        "  hint: give more of the incident ID (or all of it) to pick one\n"
    )
    assert _acked(repo, FIRST) == _acked(repo, SECOND) == "acknowledged_at: null"


def test_a_piece_of_two_characters_picks_nothing_by_chance(three: Invoke) -> None:
    result = three("show", "QW")
    assert result.code == 2
    assert result.err.startswith("error: no incident QW in incidents/\n")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("INC-20261126-E2QV", THIRD), ("e2qv", THIRD), ("INC-20261127-9TRZ", f"{FIRST} or {SECOND}")],
)
def test_a_miss_suggests_the_closest_ids(three: Invoke, typed: str, meant: str) -> None:
    result = three("ack", typed, "--now", NOW)
    assert result.code == 2
    assert result.err == (
        f"error: no incident {typed} in incidents/\n  hint: did you mean {meant}?\n"
    )


def test_every_command_taking_an_id_resolves_it(repo: Path, three: Invoke) -> None:
    assert three("deadlines", "e2qw", "--now", NOW).code == 0
    assert three("notify", "e2qw", "-t", "initial-alert", "--now", NOW).code == 0
    assert three("snooze", "e2qw", "--rule", "acknowledge", "--for", "5m", "--now", NOW).code == 0
    linked = three("runbook", "link", "EXAMPLE-SERVICE-5XX", "e2qw")
    assert linked.code == 0, linked.err
    assert linked.out == f"{THIRD} -> runbooks/example-service-5xx.md\n"
    assert "- example-service-5xx" in incident_file(repo, THIRD).read_text(encoding="utf-8")


def test_runbook_names_resolve_in_any_case_and_by_prefix(three: Invoke) -> None:
    result = three("runbook", "tested", "Example-Service", "--now", NOW)
    assert result.code == 0, result.err
    assert result.out.startswith("example-service-5xx: drill passed")


def test_maintenance_ids_resolve_by_suffix(three: Invoke) -> None:
    scheduled = three(
        "maintenance",
        "schedule",
        "--title",
        "Database upgrade",
        "--components",
        "example-service",
        "--start",
        "+1h",
        "--duration",
        "30m",
        "--id",
        "MNT-20261127-7K3Q",
        "--now",
        NOW,
    )
    assert scheduled.code == 0, scheduled.err
    result = three("maintenance", "update", "7k3q", "-m", "Starting soon", "--now", NOW)
    assert result.code == 0, result.err
    assert result.out.startswith("MNT-20261127-7K3Q: updated")


# -- choices ------------------------------------------------------------------------------


def test_every_choice_takes_any_case(three: Invoke) -> None:
    listed = three("list", "--status", "DETECTED", "--priority", "p0", "--format", "JSON")
    assert listed.code == 0, listed.err
    assert {item["id"] for item in json.loads(listed.out)} == {FIRST, SECOND, THIRD}
    declared = three(
        "declare",
        "--title",
        "Slow search",
        "--impact",
        "HIGH",
        "--urgency",
        "Low",
        "--category",
        "PERFORMANCE",
        "--services",
        "example-service",
        "--now",
        NOW,
        "--format",
        "Json",
    )
    assert declared.code == 0, declared.err
    shown = three("show", json.loads(declared.out)["id"], "--format", "JSON")
    data = json.loads(shown.out)
    assert (data["impact"], data["urgency"], data["category"]) == ("high", "low", "performance")


def test_a_wrong_choice_is_still_refused(three: Invoke) -> None:
    result = three("list", "--status", "SLEEPING")
    assert result.code == 2
    assert "'SLEEPING' is not one of" in result.err


# -- times --------------------------------------------------------------------------------

CLOCK = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "moment"),
    [
        ("now", "2026-11-27T16:00:00"),
        ("-10m", "2026-11-27T15:50:00"),
        ("-1h30m", "2026-11-27T14:30:00"),
        ("- 90s", "2026-11-27T15:58:30"),
        ("10m ago", "2026-11-27T15:50:00"),
        ("1h 30m ago", "2026-11-27T14:30:00"),
        ("2026-11-27T15:00:00+01:00", "2026-11-27T14:00:00"),
        ("2026-11-27T15:00:00z", "2026-11-27T15:00:00"),
    ],
)
def test_the_forms_of_a_past_time(typed: str, moment: str) -> None:
    assert parse_moment(typed, CLOCK) == datetime.fromisoformat(moment + "+00:00")


def test_future_forms_and_days_where_they_make_sense() -> None:
    assert parse_moment("+5m", CLOCK, future=True).isoformat() == "2026-11-27T16:05:00+00:00"
    assert parse_moment("in 2h", CLOCK, future=True).isoformat() == "2026-11-27T18:00:00+00:00"
    day = "2026-11-20"
    assert parse_moment(day, CLOCK, day="start").isoformat() == "2026-11-20T00:00:00+00:00"
    assert parse_moment(day, CLOCK, day="end").isoformat() == "2026-11-21T00:00:00+00:00"


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("10m", "'10m' is a duration, not a time: write -10m or '10m ago' for the past;"),
        ("+5m", "'+5m' is in the future, and this records what happened;"),
        ("in 5m", "'in 5m' is in the future, and this records what happened;"),
        ("2026-11-27", "'2026-11-27' is a date, not a time;"),
        ("-2bd", "'-2bd': business days cannot place a time;"),
        ("-soon", "'-soon' is not a time;"),
        ("yesterday-ish", "'yesterday-ish' is not a time;"),
        ("2026-11-27 15:10", "2026-11-27 15:10 has no timezone;"),
    ],
)
def test_refused_times_name_every_accepted_form(typed: str, why: str) -> None:
    with pytest.raises(TimeValueError) as refused:
        parse_moment(typed, CLOCK)
    assert str(refused.value).startswith(why)
    assert str(refused.value).endswith(
        "accepted: an ISO-8601 time with a zone (2026-11-27T14:05:00Z), now, -10m, -1h30m, 10m ago"
    )


def test_at_takes_every_past_form(repo: Path, three: Invoke) -> None:
    for typed, stamp in (("-1h30m", "14:30"), ("10m ago", "15:50")):
        incident = declare(three, "--started-at", typed, at=typed)
        text = incident_file(repo, incident).read_text(encoding="utf-8")
        assert f"detected_at: 2026-11-27T{stamp}:00Z" in text
        assert f"started_at: 2026-11-27T{stamp}:00Z" in text


@pytest.mark.parametrize("typed", ["10m", "+5m", "in 5m"])
def test_at_refuses_a_future_or_unsigned_time_listing_the_forms(
    repo: Path, three: Invoke, typed: str
) -> None:
    result = three("ack", FIRST, "--at", typed, "--now", NOW)
    assert result.code == 2
    assert "Invalid value for --at:" in result.err
    assert "accepted: an ISO-8601 time with a zone (2026-11-27T14:05:00Z), now, -10m" in result.err
    assert _acked(repo, FIRST) == "acknowledged_at: null"


def test_now_takes_a_date_as_the_start_of_that_day(repo: Path, three: Invoke) -> None:
    acked = three("ack", FIRST, "--now", "2026-11-28")
    assert acked.code == 0, acked.err
    assert _acked(repo, FIRST) == "acknowledged_at: 2026-11-28T00:00:00Z"


def test_now_relative_to_the_clock(three: Invoke) -> None:
    future = three("ack", FIRST, "--now", "+1d")
    assert future.code == 0, future.err
    bad = three("overdue", "--now", "tomorrow")
    assert bad.code == 2
    assert "Invalid value for --now: 'tomorrow' is not a time;" in bad.err
    assert "+10m, in 10m, a date (2026-11-27: the start of that UTC day)" in bad.err


def test_runbook_tested_at_takes_relative_times(three: Invoke) -> None:
    result = three("runbook", "tested", "example-service-5xx", "--at", "2h ago", "--now", NOW)
    assert result.code == 0, result.err
    assert "on 2026-11-27T14:00:00Z" in result.out
    refused = three("runbook", "tested", "example-service-5xx", "--at", "+2h", "--now", NOW)
    assert refused.code == 2
    assert "'+2h' is in the future" in refused.err


def test_metrics_window_takes_days_and_relative_times(three: Invoke) -> None:
    result = three(
        "metrics", "--from", "2026-11-26", "--to", "-1m", "--now", NOW, "--format", "json"
    )
    assert result.code == 0, result.err
    window = json.loads(result.out)["window"]
    assert window["from"] == "2026-11-26T00:00:00Z"
    assert window["to"] == "2026-11-27T15:59:00Z"
    refused = three("metrics", "--from", "30d", "--now", NOW)
    assert refused.code == 2
    assert "error: --from 30d: '30d' is a duration, not a time: write -30d" in refused.err


def test_maintenance_takes_future_relative_times(repo: Path, three: Invoke) -> None:
    result = three(
        "maintenance",
        "schedule",
        "--title",
        "Database upgrade",
        "--components",
        "example-service",
        "--start",
        "in 1h",
        "--end",
        "+1h30m",
        "--now",
        NOW,
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["scheduled_for"], data["scheduled_until"]) == (
        "2026-11-27T17:00:00Z",
        "2026-11-27T17:30:00Z",
    )


# -- --repo -------------------------------------------------------------------------------


def test_repo_after_the_subcommand(repo: Path, three: Invoke, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = three("list", "--repo", str(repo), "--format", "json", cwd=elsewhere)
    assert listed.code == 0, listed.err
    assert len(json.loads(listed.out)) == 3
    checked = three("pir", "check", "--repo", str(repo), cwd=elsewhere)
    assert "no such option" not in checked.err
    assert checked.code in (0, 1), checked.err
    grouped = three("pir", "--repo", str(repo), "check", cwd=elsewhere)
    assert grouped.code == checked.code
    acked = three("ack", "9trx", "--repo", str(repo), "--now", NOW, cwd=elsewhere)
    assert acked.code == 0, acked.err
    assert _acked(repo, FIRST) == "acknowledged_at: 2026-11-27T16:00:00Z"


def test_repo_from_the_environment_and_a_missing_folder(
    repo: Path, three: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTCTL_REPO", str(repo))
    assert three("show", "9trx", cwd=tmp_path).code == 0
    missing = three("list", "--repo", str(tmp_path / "nope"))
    assert missing.code == 2
    assert f"error: --repo {tmp_path / 'nope'}: no such folder" in missing.err


def test_every_command_but_init_takes_repo(three: Invoke) -> None:
    from incidentctl.cli.app import every_command, main

    every_command()

    def walk(command: object, path: str) -> list[str]:
        import click

        assert isinstance(command, click.Command)
        options = {name for param in command.params for name in param.opts}
        found = [path] if path != "init" and "--repo" not in options else []
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found += walk(sub, f"{path} {name}".strip())
        return found

    assert walk(main, "") == []


def test_a_bad_incidentctl_now_is_a_usage_error_not_a_bug(
    three: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTCTL_NOW", "10m")
    result = three("list")
    assert result.code == 2
    assert "Invalid value for INCIDENTCTL_NOW: '10m' is a duration, not a time" in result.err
    monkeypatch.setenv("INCIDENTCTL_NOW", "-1d")
    assert three("list").code == 0


def test_messages_name_the_resolved_id_not_what_was_typed(three: Invoke) -> None:
    result = three("pir", "check", "e2qw", "--format", "json")
    assert result.code == 1
    (finding,) = json.loads(result.out)["findings"]
    assert finding["message"] == f"{THIRD} has no PIR yet"
    assert finding["hint"] == f"incidentctl pir new {THIRD}"
    added = three(
        "pir", "add-action", "e2qw", "--title", "x", "--owner", "@a", "--horizon", "Short-Term"
    )
    assert added.code == 2
    assert added.err.startswith(f"error: {THIRD} has no PIR yet\n")
