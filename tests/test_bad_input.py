"""Pathological input (huge numbers, deep nesting, duplicated keys, thousands of mistakes,
IDs that are paths) is a located finding or a usage error, never a crash (exit 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from incidentctl.core.model import ID_RULE, MAINTENANCE_ID_RULE
from tests.conftest import NOW, Invoke, declare, git, incident_file

HUGE = "9" * 4301  # one digit over Python's int-to-str limit
LIMITS = "numbers must be finite and within ±10^18"


def _findings(cli: Invoke) -> list[dict[str, object]]:
    result = cli("validate", "--format", "json")
    assert result.code in (0, 1), result.err
    findings: list[dict[str, object]] = json.loads(result.out)["findings"]
    return findings


def _replace(path: Path, old: str, new: str) -> int:
    """Replace `old` (once) in a file; returns the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _public_incident(cli: Invoke) -> str:
    """An incident that the status site publishes (a public update)."""
    incident_id = declare(cli, "--components", "example-service")
    result = cli(
        "update", incident_id, "-m", "We are looking into it", "--public",
        "--status", "investigating", "--at", "2026-11-27T15:10:00Z", "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    return incident_id


# -- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (HUGE, "number too large: 9999999999...999999 (4,301 characters)"),
        ("1000000000000000001", "number too large: 1000000000000000001"),
        ("-1000000000000000001", "number too large: -1000000000000000001"),
        ("0x" + "f" * 16, "number too large: 0xffffffffffffffff"),
        ("1.0e+400", "number too large: 1.0e+400"),
        (".inf", "number too large: .inf"),
        (".nan", "not a number: .nan"),
    ],
)
def test_number_out_of_range_is_a_finding_with_its_line(
    cli: Invoke, repo: Path, written: str, shown: str
) -> None:
    path = incident_file(repo, declare(cli))
    line = _replace(path, "affected_users: null", f"affected_users: {written}")
    result = cli("validate")
    assert result.code == 1, result.err
    rel = path.relative_to(repo).as_posix()
    assert f"{rel}:{line}: error: [yaml] {shown}; {LIMITS}" in result.out
    assert "hint: quote it if it is text" in result.out


def test_the_largest_number_allowed_is_ten_to_the_eighteenth(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    _replace(path, "affected_users: null", "affected_users: 1000000000000000000")
    result = cli("validate")
    assert result.code == 0, result.out


def test_huge_integer_in_an_incident_leaves_the_rest_of_the_site_built(
    cli: Invoke, repo: Path
) -> None:
    published = _public_incident(cli)
    broken = declare(cli, "--title", "Other")
    path = incident_file(repo, broken)
    before = _replace(path, "affected_users: null", f"affected_users: {HUGE}")
    before_text = path.read_bytes()
    rel = path.relative_to(repo).as_posix()

    (finding,) = _findings(cli)
    assert (finding["path"], finding["line"], finding["rule"]) == (rel, before, "yaml")

    result = cli("site", "build", "--out", "site", "--now", NOW)
    assert result.code == 0, result.err
    assert f"{rel}: not valid, left off the site" in result.err
    assert (repo / f"site/incidents/{published}.html").is_file()
    assert not (repo / f"site/incidents/{broken}.html").exists()

    for command in (["update", broken, "-m", "more"], ["ack", broken]):
        result = cli(*command, "--now", NOW)
        assert result.code == 2, result.err
        assert f"{rel}:{before}: number too large" in result.err
        assert "Traceback" not in result.err
    assert path.read_bytes() == before_text


def test_huge_integer_in_a_private_maintenance_file(cli: Invoke, repo: Path) -> None:
    published = _public_incident(cli)
    result = cli(
        "maintenance", "schedule", "--title", "Database upgrade", "--components",
        "example-service", "--start", "2026-12-06T02:00:00Z", "--duration", "2h", "--private",
        "--id", "MNT-20261206-DB01", "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    path = repo / "maintenances/MNT-20261206-DB01.md"
    line = _replace(path, "cancelled: false", f"cancelled: {HUGE}")
    rel = "maintenances/MNT-20261206-DB01.md"

    (finding,) = _findings(cli)
    assert (finding["path"], finding["line"], finding["rule"]) == (rel, line, "yaml")
    assert str(finding["message"]).startswith("number too large: 9999999999...999999")

    result = cli("site", "build", "--out", "site", "--now", NOW)
    assert result.code == 0, result.err
    assert f"{rel}: not valid, left off the site" in result.err
    assert (repo / f"site/incidents/{published}.html").is_file()

    result = cli("maintenance", "update", "MNT-20261206-DB01", "-m", "Started", "--now", NOW)
    assert result.code == 2
    assert f"{rel}:{line}: number too large" in result.err


def test_huge_integer_in_a_policy_file(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = repo / "policies/review.yaml"
    line = _replace(path, "pir_min_whys: 5", f"pir_min_whys: {HUGE}")

    result = cli("validate")
    assert result.code == 1, result.err
    assert f"policies/review.yaml:{line}: error: [yaml] number too large" in result.out

    # nothing can be judged or built without the policy: a usage error naming the line
    for command in (["site", "build", "--out", "site"], ["overdue"], ["deadlines", incident_id]):
        result = cli(*command, "--now", NOW)
        assert result.code == 2, (command, result.err)
        assert f"policies/review.yaml:{line}: number too large" in result.err
    result = cli("declare", "--title", "x", "--impact", "low", "--urgency", "low", "--now", NOW)
    assert result.code == 2
    assert f"policies/review.yaml:{line}: number too large" in result.err


def test_affected_users_option_is_bounded_like_the_file(cli: Invoke, repo: Path) -> None:
    result = cli(
        "declare", "--title", "x", "--impact", "low", "--urgency", "low",
        "--affected-users", "1" + "0" * 18 + "1", "--now", NOW,
    )  # fmt: skip
    assert result.code == 2
    assert "--affected-users" in result.err
    assert not list(repo.glob("incidents/*/*/*/incident.md"))


def test_broken_policy_snapshot_is_a_finding(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    (snapshot,) = (repo / "policies/snapshots").glob("*.json")
    snapshot.write_text('{"x": ' + HUGE + "}\n", encoding="utf-8")
    # a changed policy, so that the incident's own snapshot is read
    _replace(repo / "policies/review.yaml", "pir_min_whys: 5", "pir_min_whys: 4")

    result = cli("validate", "--format", "json")
    assert result.code == 1, result.err
    findings = json.loads(result.out)["findings"]
    rel = snapshot.relative_to(repo).as_posix()
    broken = [f for f in findings if f["path"] == rel]
    assert len(broken) == 1
    assert broken[0]["message"].startswith("not a policy snapshot: Invalid JSON")
    assert cli("deadlines", incident_id, "--now", NOW).code in (0, 1)


# -- nesting ------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [65, 10_000])
def test_deep_nesting_is_a_finding_with_its_line(cli: Invoke, repo: Path, levels: int) -> None:
    path = incident_file(repo, declare(cli))
    line = _replace(path, "summary: null", "summary: " + "[" * levels + "]" * levels)
    rel = path.relative_to(repo).as_posix()
    for _ in range(2):  # the second run goes through the parse cache
        result = cli("validate")
        assert result.code == 1, result.err
        assert f"{rel}:{line}: error: [yaml] nested more than 64 levels deep" in result.out


def test_nesting_at_the_limit_is_read_and_cached(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    # the front-matter mapping is level 1: 63 lists inside it make 64 levels
    line = _replace(path, "summary: null", "summary: " + "[" * 63 + "]" * 63)
    rel = path.relative_to(repo).as_posix()
    for _ in range(2):
        result = cli("validate")
        assert result.code == 1, result.err
        assert f"{rel}:{line}: error: [schema] summary: Input should be a valid string" in (
            result.out
        )


def test_deep_nesting_in_a_policy_file(cli: Invoke, repo: Path) -> None:
    path = repo / "policies/review.yaml"
    text = path.read_text(encoding="utf-8")
    line = text.count("\n") + 1
    path.write_text(text + "extra: " + "{a: " * 80 + "1" + "}" * 80 + "\n", encoding="utf-8")
    result = cli("validate")
    assert result.code == 1
    assert f"policies/review.yaml:{line}: error: [yaml] nested more than 64 levels deep" in (
        result.out
    )


# -- duplicated keys ----------------------------------------------------------------------


def test_duplicated_top_level_key_names_both_lines(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    first = _replace(path, "summary: null\n", "summary: null\ntitle: Second title\n")
    title = _line_of(path, "title: Checkout returns 502")
    rel = path.relative_to(repo).as_posix()

    result = cli("validate")
    assert result.code == 1
    message = f"key 'title' appears twice (first at line {title})"
    assert f"{rel}:{first + 1}: error: [yaml] {message}" in result.out

    # the edit refuses with the same words, instead of "did not round-trip"
    before = path.read_bytes()
    result = cli("update", incident_id, "-m", "more", "--now", NOW)
    assert result.code == 2
    assert result.err.startswith(f"error: {rel}:{first + 1}: {message}\n")
    assert path.read_bytes() == before


def test_duplicated_nested_key_names_both_lines(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    first = _replace(path, "  on_call: null\n", "  on_call: '@alice'\n  on_call: '@bob'\n")
    rel = path.relative_to(repo).as_posix()
    result = cli("validate")
    assert result.code == 1
    assert (
        f"{rel}:{first + 1}: error: [yaml] key 'on_call' appears twice (first at line {first})"
    ) in result.out
    result = cli("engage", incident_id, "--now", NOW)
    assert result.code == 2
    assert f"key 'on_call' appears twice (first at line {first})" in result.err


def test_duplicated_key_in_a_timeline_event_and_a_policy(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    line = _replace(path, "    kind: declared\n", "    kind: declared\n    kind: note\n")
    rel = path.relative_to(repo).as_posix()
    policy = repo / "policies/review.yaml"
    again = _replace(policy, "pir_min_whys: 5\n", "pir_min_whys: 5\npir_min_whys: 3\n") + 1
    first = _line_of(policy, "pir_min_whys: 5")
    result = cli("validate")
    # the policy is read first: nothing is judged against a policy that does not read
    assert f"policies/review.yaml:{again}: error: [yaml] key 'pir_min_whys' appears twice " \
        f"(first at line {first})" in result.out  # fmt: skip
    policy.write_text(policy.read_text().replace("pir_min_whys: 3\n", ""), encoding="utf-8")
    result = cli("validate")
    assert f"{rel}:{line + 1}: error: [yaml] key 'kind' appears twice (first at line {line})" in (
        result.out
    )


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines.index(text) + 1


# -- many findings ------------------------------------------------------------------------


def test_forty_thousand_unknown_keys_are_capped(cli: Invoke, repo: Path) -> None:
    incident_id = declare(cli)
    path = incident_file(repo, incident_id)
    keys = "".join(f"unknown_{i:05d}: 1\n" for i in range(40_000))
    first = _replace(path, "timeline:\n", keys + "timeline:\n")
    rel = path.relative_to(repo).as_posix()

    result = cli("validate")
    assert result.code == 1
    shown = [line for line in result.out.splitlines() if "[schema]" in line]
    assert len(shown) == 50
    assert shown[0].startswith(f"{rel}:{first}: error: [schema] unknown_00000: unknown field")
    assert shown[-1].startswith(f"{rel}:{first + 49}: error: [schema] unknown_00049:")
    assert f"{rel}: error: [truncated] and 39,950 more findings in this file" in result.out
    assert result.err.strip().endswith("40000 error(s), 0 warning(s) in 1 incident(s)")

    data = json.loads(cli("validate", "--format", "json").out)
    assert data["errors"] == 40_000
    assert len(data["findings"]) == 51
    assert data["findings"][-1]["rule"] == "truncated"

    result = cli("update", incident_id, "-m", "more", "--now", NOW)
    assert result.code == 2
    assert result.err.count("unknown field") == 50
    assert result.err.rstrip().endswith(f"{rel}: and 39,950 more findings in this file")


def test_few_findings_are_not_capped(cli: Invoke, repo: Path) -> None:
    path = incident_file(repo, declare(cli))
    keys = "".join(f"unknown_{i:02d}: 1\n" for i in range(50))
    _replace(path, "timeline:\n", keys + "timeline:\n")
    result = cli("validate", "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert len(findings) == 50
    assert all(f["rule"] == "schema" for f in findings)


# -- IDs that would be paths --------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id", ["../../etc", "", "INC-1\nINC-2", "INC-1\n", "INC 1", "INC/1", "I" * 65, "1NC"]
)
def test_invalid_declare_id_is_a_usage_error_stating_the_rule(
    cli: Invoke, repo: Path, bad_id: str
) -> None:
    result = cli(
        "declare", "--title", "x", "--impact", "low", "--urgency", "low", "--id", bad_id,
        "--now", NOW,
    )  # fmt: skip
    assert result.code == 2, result.err
    assert f"{bad_id!r} is not a valid incident ID: an ID is {ID_RULE}" in _one_line(result.err)
    assert "Traceback" not in result.err
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_valid_declare_id_is_used(cli: Invoke, repo: Path) -> None:
    assert declare(cli, "--id", "INC-20261127-MINE") == "INC-20261127-MINE"


def test_maintenance_id_with_a_line_break_is_refused(cli: Invoke, repo: Path) -> None:
    result = cli(
        "maintenance", "schedule", "--title", "Upgrade", "--components", "example-service",
        "--start", "2026-12-06T02:00:00Z", "--duration", "2h", "--id", "MNT-1\n", "--now", NOW,
    )  # fmt: skip
    assert result.code == 2
    assert "'MNT-1\\n' is not a valid maintenance ID" in result.err
    assert f"a maintenance ID is {MAINTENANCE_ID_RULE}" in result.err


def test_id_in_a_file_is_judged_by_the_rule_of_its_kind(cli: Invoke, repo: Path) -> None:
    path = repo / "maintenances/MNT-x.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "---\nid: MNT-../x\ntitle: t\ncomponents: [example-service]\n"
        "scheduled_for: 2026-12-06T02:00:00Z\nscheduled_until: 2026-12-06T04:00:00Z\n---\n",
        encoding="utf-8",
    )
    finding = next(f for f in _findings(cli) if f["field"] == "id")
    assert finding["message"] == "'MNT-../x' is not a valid maintenance ID"
    assert finding["hint"] == f"a maintenance ID is {MAINTENANCE_ID_RULE}"


def _one_line(text: str) -> str:
    """Click wraps long usage errors; the words are what matters."""
    return re.sub(r"\s+", " ", text)
