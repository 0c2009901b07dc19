"""Policies: shipped defaults are the process's numbers; overrides merge; snapshots."""

from __future__ import annotations

import json
from pathlib import Path

from incidentctl.core.model import Priority
from incidentctl.core.timevalues import Duration
from incidentctl.store.repo import Repo
from tests.conftest import Invoke, declare


def _d(text: str) -> Duration:
    return Duration.parse(text)


def test_defaults_are_the_process_numbers(tmp_path: Path) -> None:
    policy = Repo(tmp_path).policy()
    sla = policy.sla.priorities
    assert (sla[Priority.P0].engage, sla[Priority.P0].resolve_target) == (_d("15m"), _d("1h"))
    assert sla[Priority.P0].resolve_breach == _d("2h")
    assert sla[Priority.P1].acknowledge == _d("5m")
    assert sla[Priority.P1].status_update_every == _d("30m")
    assert sla[Priority.P2].engage == _d("4h")
    assert sla[Priority.P2].status_update_every == _d("1d")
    assert sla[Priority.P3].acknowledge == Duration(business_days=1)
    assert sla[Priority.P3].resolve_target is None
    functional = policy.escalation.functional
    assert functional[Priority.P0].tier_2 == _d("15m")
    assert functional[Priority.P1].tier_3 == _d("1h")
    assert functional[Priority.P2].tier_3 == _d("8h")
    assert functional[Priority.P2].management is None
    assert policy.escalation.hierarchical.management[Priority.P0] == _d("30m")
    assert policy.escalation.hierarchical.status_page[Priority.P1] == _d("1h")
    assert policy.sla.major_incident == {Priority.P0: 2, Priority.P1: 3}
    assert policy.review.pir[Priority.P0].due == _d("24h")
    assert policy.review.pir[Priority.P2].required is False
    assert policy.review.runbook_max_untested == _d("90d")
    assert policy.sla.detect == _d("5m")
    assert policy.sla.triage == _d("15m")


def test_repo_file_merges_over_defaults(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies/sla.yaml").write_text("priorities:\n  P1:\n    acknowledge: 2m\n")
    policy = Repo(tmp_path).policy()
    assert policy.sla.priorities[Priority.P1].acknowledge == _d("2m")
    assert policy.sla.priorities[Priority.P1].engage == _d("30m")  # kept from the default


def test_policy_change_after_declaration_keeps_the_old_policy(repo: Path, cli: Invoke) -> None:
    incident_id = declare(cli)
    sla = repo / "policies/sla.yaml"
    sla.write_text(sla.read_text().replace("    engage: 15m", "    engage: 45m"))
    store = Repo(repo)
    incident = store.find(incident_id).incident
    assert store.policy().sla.priorities[Priority.P0].engage == _d("45m")
    assert store.policy_for(incident).sla.priorities[Priority.P0].engage == _d("15m")
    assert store.policy_for(incident).digest() == incident.policy
    assert cli("validate").code == 0


def test_missing_snapshot_is_a_warning(repo: Path, cli: Invoke) -> None:
    declare(cli)
    for snap in (repo / "policies/snapshots").iterdir():
        snap.unlink()
    sla = repo / "policies/sla.yaml"
    sla.write_text(sla.read_text().replace("    engage: 15m", "    engage: 45m"))
    result = cli("validate", "--format", "json")
    data = json.loads(result.out)
    assert result.code == 0
    assert [f["rule"] for f in data["findings"]] == ["policy"]
    assert data["findings"][0]["severity"] == "warning"


def test_unknown_policy_key_has_file_and_line(repo: Path, cli: Invoke) -> None:
    path = repo / "policies/escalation.yaml"
    path.write_text(path.read_text() + "escalaton_typo: 1\n")
    result = cli("validate")
    assert result.code == 1
    lines = path.read_text().count("\n")
    assert (
        f"policies/escalation.yaml:{lines}: error: [schema] escalaton_typo: unknown policy "
        "key 'escalaton_typo'" in result.out
    )


def test_rotation_resolves_on_call(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies/escalation.yaml").write_text(
        "rotations:\n  - name: primary\n    start: 2026-01-05T09:00:00Z\n    shift: 1w\n"
        "    people: ['@a', '@b']\n"
    )
    from incidentctl.core.timevalues import parse_timestamp as t

    rotation = Repo(tmp_path).policy().escalation.rotations[0]
    assert rotation.on_call(t("2026-01-05T09:00:00Z")) == "@a"
    assert rotation.on_call(t("2026-01-12T08:59:59Z")) == "@a"
    assert rotation.on_call(t("2026-01-12T09:00:00Z")) == "@b"
    assert rotation.on_call(t("2026-01-19T09:00:00Z")) == "@a"
    assert rotation.on_call(t("2026-01-01T00:00:00Z")) is None


def test_matrix_change_does_not_rewrite_history(repo: Path, cli: Invoke) -> None:
    """An incident declared under the old matrix stays valid and triages by it."""
    incident_id = declare(cli)  # high x high = P0 under the shipped matrix
    matrix = repo / "policies/priority.yaml"
    matrix.write_text(matrix.read_text().replace("high:   {high: P0,", "high:   {high: P1,"))
    assert cli("validate").code == 0
    result = cli(
        "triage", incident_id, "--impact", "high", "--urgency", "high",
        "--at", "2026-11-27T15:05:00Z", "--now", "2026-11-27T16:00:00Z",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert Repo(repo).find(incident_id).incident.priority == Priority.P0
    # a new incident is classified by the policy in force now
    new = declare(cli, "--id", "INC-20261127-NEW1")
    assert Repo(repo).find(new).incident.priority == Priority.P1
