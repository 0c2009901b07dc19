"""`incidentctl intake`: webhook payloads of each alerting tool into incident changes.

The payloads in tests/payloads/ and where each comes from (tests/payloads/README.md):
grafana-webhook-docs.json, pagerduty-v3-docs.json, sentry-issue-alert-docs.json and
sentry-metric-alert-docs.json are the vendors' published examples; alertmanager-v4.json and
opsgenie-create.json are built from the vendors' documented schemas (neither publishes a
complete example).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from incidentctl.core.documents import load_yaml
from tests.conftest import Invoke, incident_file

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def write(tmp_path: Path, data: Any, name: str = "payload.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def intake(cli: Invoke, path: str, source: str, now: str, *extra: str) -> dict[str, Any]:
    result = cli("intake", path, "--source", source, "--now", now, "--format", "json", *extra)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def front(repo: Path, incident_id: str) -> dict[str, Any]:
    """The front-matter as the file holds it (timestamps as their text)."""
    path = incident_file(repo, incident_id)
    data: dict[str, Any] = load_yaml(path, path.read_text(encoding="utf-8").split("---\n")[1])
    return data


def kinds(data: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in data["timeline"]]


# -- Alertmanager ------------------------------------------------------------------------------
# alertmanager-v4.json follows the webhook_config payload documented at
# https://prometheus.io/docs/alerting/latest/configuration/#webhook_config (version 4, groupKey,
# truncatedAlerts, alerts with fingerprint and generatorURL); the docs give the schema but no
# complete example. Its times have nanoseconds and the zero endsAt, as Alertmanager writes them.


def test_alertmanager_declares_with_priority_services_and_start_of_impact(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    out = intake(
        cli, str(PAYLOADS / "alertmanager-v4.json"), "alertmanager", "2026-11-27T14:05:00Z"
    )
    assert out["action"] == "declared"
    assert out["reason"] == "P0 from 2 firing alert(s)"
    data = front(repo, out["incident"])
    assert data["priority"] == "P0"  # severity critical -> high impact x high urgency
    assert (data["impact"], data["urgency"]) == ("high", "high")
    assert data["services"] == ["checkout-api"]  # an unknown service is kept
    assert data["title"] == "Checkout returns 5xx for more than 5% of requests"
    assert data["started_at"] == "2026-11-27T14:01:02Z"  # the earliest startsAt (nanoseconds)
    assert data["detected_at"] == "2026-11-27T14:05:00Z"
    assert data["detection"] == "automated-alert"
    assert data["reporter"] == "alertmanager"
    (group,) = data["alerts"]
    assert group["source"] == "alertmanager"
    assert group["key"] == '{}/{service="checkout-api"}:{alertname="CheckoutHighErrorRate"}'
    assert group["fingerprints"] == ["a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"]
    assert group["last_status"] == "firing"
    assert group["url"] == "http://alertmanager.example.com:9093"
    assert kinds(data) == ["declared", "alert"]
    # validate reports the unknown service, as it does for `declare --allow-unknown`
    result = cli("validate")
    assert result.code == 1
    assert "unknown service 'checkout-api'" in result.out


def test_repeats_gained_alerts_and_resolutions_land_on_the_same_incident(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    first = payload("alertmanager-v4.json")
    one = copy.deepcopy(first)
    one["alerts"] = one["alerts"][:1]
    out = intake(cli, write(tmp_path, one), "alertmanager", "2026-11-27T14:05:00Z")
    incident = out["incident"]
    # the same group again, nothing new: no second incident, nothing written
    before = incident_file(repo, incident).read_text(encoding="utf-8")
    again = intake(cli, write(tmp_path, one), "alertmanager", "2026-11-27T14:06:00Z")
    assert again == {
        "action": "ignored",
        "incident": incident,
        "reason": f"nothing new for {incident}: every alert is recorded",
    }
    assert incident_file(repo, incident).read_text(encoding="utf-8") == before
    # the group gains an alert: one timeline event naming it by fingerprint
    gained = intake(cli, write(tmp_path, first), "alertmanager", "2026-11-27T14:07:00Z")
    assert gained == {"action": "updated", "incident": incident, "reason": "1 alert(s) firing"}
    data = front(repo, incident)
    assert data["alerts"][0]["fingerprints"] == ["a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"]
    assert "0f1e2d3c4b5a6978" in data["timeline"][-1]["text"]
    assert "a1b2c3d4e5f60718" not in data["timeline"][-1]["text"]
    # a partial resolution: the group still fires, one alert ended
    partial = copy.deepcopy(first)
    partial["alerts"][0]["status"] = "resolved"
    partial["alerts"][0]["endsAt"] = "2026-11-27T14:20:00.123456789Z"
    out = intake(cli, write(tmp_path, partial), "alertmanager", "2026-11-27T14:21:00Z")
    assert out == {
        "action": "resolved-alert",
        "incident": incident,
        "reason": "1 alert(s) resolved",
    }
    data = front(repo, incident)
    assert data["timeline"][-1]["kind"] == "alert-resolved"
    assert "ended 2026-11-27T14:20:00Z" in data["timeline"][-1]["text"]
    assert data["alerts"][0]["last_status"] == "firing"
    assert data["status"] == "detected"
    # the whole group resolves: recorded, the incident stays open (a person decides)
    done = copy.deepcopy(partial)
    done["status"] = "resolved"
    done["alerts"][1]["status"] = "resolved"
    done["alerts"][1]["endsAt"] = "2026-11-27T14:24:00Z"
    out = intake(cli, write(tmp_path, done), "alertmanager", "2026-11-27T14:25:00Z")
    assert out["action"] == "resolved-alert"
    assert out["reason"].endswith("every alert of the incident has cleared")
    data = front(repo, incident)
    assert data["alerts"][0]["last_status"] == "resolved"
    assert data["alerts"][0]["resolved"] == ["a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"]
    assert data["status"] == "detected"
    assert kinds(data) == ["declared", "alert", "alert", "alert-resolved", "alert-resolved"]
    # and overdue and deadlines say so
    overdue = cli("overdue", "--now", "2026-11-27T14:30:00Z")
    assert f"note: every alert of {incident} has cleared at 2026-11-27T14:25:00Z" in overdue.out
    shown = cli("deadlines", incident, "--now", "2026-11-27T14:30:00Z", "--format", "json")
    assert json.loads(shown.out)["alerts_cleared"] is True
    assert cli("validate").out.count("error") == 1  # the unknown service only: the file is valid
    assert len(list(repo.glob("incidents/*/*/*/incident.md"))) == 1


def test_truncated_alerts_are_counted(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    data = payload("alertmanager-v4.json")
    data["truncatedAlerts"] = 7
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:05:00Z")
    assert (
        "(and 7 more the sender truncated)" in front(repo, out["incident"])["timeline"][-1]["text"]
    )


def test_severity_maps_through_the_policy(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    data = payload("alertmanager-v4.json")
    for alert in data["alerts"]:
        alert["labels"]["severity"] = "warning"
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:05:00Z")
    assert front(repo, out["incident"])["priority"] == "P2"  # medium x medium
    # the team's own mapping in policies/intake.yaml wins
    (repo / "policies" / "intake.yaml").write_text(
        "sources:\n  alertmanager:\n    levels:\n      warning: {impact: high, urgency: high}\n",
        encoding="utf-8",
    )
    data["groupKey"] = "another-group"
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:06:00Z")
    assert front(repo, out["incident"])["priority"] == "P0"


def test_ignored_alerts_write_nothing(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    data = payload("alertmanager-v4.json")
    for alert in data["alerts"]:
        alert["labels"]["alertname"] = "Watchdog"
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:05:00Z")
    assert out["action"] == "ignored"
    assert out["incident"] is None
    assert "ignored by policies/intake.yaml (alertname=" in out["reason"]
    assert not list(repo.glob("incidents/*/*/*/incident.md"))


def test_a_missing_fingerprint_is_the_labels_hash(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    data = payload("alertmanager-v4.json")
    for alert in data["alerts"]:
        del alert["fingerprint"]
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:05:00Z")
    fingerprints = front(repo, out["incident"])["alerts"][0]["fingerprints"]
    assert len(fingerprints) == 2
    assert all(len(f) == 16 for f in fingerprints)
    again = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:06:00Z")
    assert again["action"] == "ignored"


# -- reopen, or a new incident that refers to the earlier one -----------------------------------


def _resolved_incident(cli: Invoke, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    data = payload("alertmanager-v4.json")
    incident = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:05:00Z")[
        "incident"
    ]
    ended = copy.deepcopy(data)
    ended["status"] = "resolved"
    for alert in ended["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-27T14:30:00Z"
    intake(cli, write(tmp_path, ended), "alertmanager", "2026-11-27T14:31:00Z")
    result = cli(
        "resolve", incident, "--at", "2026-11-27T14:40:00Z", "--now", "2026-11-27T14:40:00Z"
    )
    assert result.code == 0, result.err
    return incident, data


def test_firing_again_within_reopen_within_reopens(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    incident, data = _resolved_incident(cli, tmp_path)
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T15:20:00Z")
    assert out == {
        "action": "updated",
        "incident": incident,
        "reason": "2 alert(s) firing again: reopened",
    }
    front_matter = front(repo, incident)
    assert front_matter["status"] == "investigating"
    assert kinds(front_matter)[-2:] == ["reopened", "alert"]
    assert front_matter["alerts"][0]["last_status"] == "firing"
    assert front_matter["alerts"][0].get("resolved", []) == []  # empty: left out


def test_firing_again_later_declares_a_new_incident_that_follows(
    cli: Invoke, repo: Path, tmp_path: Path
) -> None:
    incident, data = _resolved_incident(cli, tmp_path)
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T15:41:00Z")  # > 1h
    assert out["action"] == "declared"
    assert out["incident"] != incident
    later = front(repo, out["incident"])
    assert later["alerts"][0]["follows"] == incident
    assert f"the group was on {incident} before" in later["timeline"][-1]["text"]
    assert front(repo, incident)["status"] == "resolved"
    # from now on the group's deliveries land on the new incident
    repeat = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T15:42:00Z")
    assert repeat["incident"] == out["incident"]


def test_a_closed_incident_is_never_reopened(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    incident, data = _resolved_incident(cli, tmp_path)
    result = cli("close", incident, "--at", "2026-11-27T14:50:00Z", "--now", "2026-11-27T14:50:00Z")
    assert result.code == 0, result.err
    out = intake(cli, write(tmp_path, data), "alertmanager", "2026-11-27T14:55:00Z")
    assert out["action"] == "declared"
    assert front(repo, out["incident"])["alerts"][0]["follows"] == incident


# -- Grafana -----------------------------------------------------------------------------------
# grafana-webhook-docs.json is the example payload of Grafana's webhook contact point, verbatim:
# https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/


def test_grafana_published_example(cli: Invoke, repo: Path) -> None:
    out = intake(cli, str(PAYLOADS / "grafana-webhook-docs.json"), "grafana", NOW_LATER)
    assert out["action"] == "declared"
    data = front(repo, out["incident"])
    assert data["priority"] == "P2"  # no severity label: the default, medium x medium
    assert data["title"] == "This alert was triggered for zone us-1"
    assert data["started_at"] == "2021-10-12T07:51:03Z"  # +02:00 in the payload
    assert data["services"] == []  # neither a service nor a job label
    assert data["alerts"][0]["key"] == "{}:{}"
    assert data["alerts"][0]["fingerprints"] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]


NOW_LATER = "2026-11-27T16:00:00Z"


# -- PagerDuty ---------------------------------------------------------------------------------
# pagerduty-v3-docs.json is the example webhook payload of PagerDuty's webhooks v3 overview
# (https://developer.pagerduty.com/docs/webhooks/v3-overview/, an incident.priority_updated
# event); the tests change event.event_type to the events the same page lists.


def test_pagerduty_triggered_then_acknowledged(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    data = payload("pagerduty-v3-docs.json")
    ignored = intake(cli, write(tmp_path, data), "pagerduty", NOW_LATER)
    assert ignored == {
        "action": "ignored",
        "incident": None,
        "reason": "pagerduty incident.priority_updated is not acted on",
    }
    data["event"]["event_type"] = "incident.triggered"
    out = intake(cli, write(tmp_path, data), "pagerduty", NOW_LATER)
    assert out["action"] == "declared"
    front_matter = front(repo, out["incident"])
    assert front_matter["priority"] == "P0"  # the account's priority P1
    assert front_matter["services"] == ["API Service"]
    assert front_matter["title"] == "A little bump in the road"
    assert front_matter["started_at"] == "2020-04-09T15:16:27Z"
    assert front_matter["alerts"][0]["key"] == "PGR0VU2"
    assert front_matter["alerts"][0]["url"] == "https://acme.pagerduty.com/incidents/PGR0VU2"
    data["event"]["event_type"] = "incident.acknowledged"
    acked = intake(cli, write(tmp_path, data), "pagerduty", "2026-11-27T16:01:00Z")
    assert acked == {
        "action": "updated",
        "incident": out["incident"],
        "reason": "acknowledged by Tenex Engineer",
    }
    front_matter = front(repo, out["incident"])
    assert front_matter["acknowledged_at"] == "2026-11-27T16:01:00Z"
    assert front_matter["timeline"][-1]["by"] == "Tenex Engineer"
    assert front_matter["timeline"][-1]["kind"] == "acknowledged"
    # a second acknowledgement changes nothing
    again = intake(cli, write(tmp_path, data), "pagerduty", "2026-11-27T16:02:00Z")
    assert again["action"] == "ignored"
    # urgency alone, without the account's priorities
    del data["event"]["data"]["priority"]
    data["event"]["data"]["id"] = "PLOW001"
    data["event"]["data"]["urgency"] = "low"
    data["event"]["event_type"] = "incident.triggered"
    low = intake(cli, write(tmp_path, data), "pagerduty", "2026-11-27T16:03:00Z")
    assert front(repo, low["incident"])["priority"] == "P3"  # medium x low


# -- Opsgenie ----------------------------------------------------------------------------------
# opsgenie-create.json is built from the documented fields of Opsgenie's webhook integration
# (https://support.atlassian.com/opsgenie/docs/integrate-opsgenie-with-webhook/: action,
# alert.alertId, alias, message, tags, entity, createdAt in epoch milliseconds, priority,
# username, source, integrationName/Id/Type); the page shows no full payload to copy.


def test_opsgenie_create_acknowledge_close(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    data = payload("opsgenie-create.json")
    out = intake(cli, write(tmp_path, data), "opsgenie", NOW_LATER)
    front_matter = front(repo, out["incident"])
    assert front_matter["priority"] == "P1"  # P2: high x medium
    assert front_matter["services"] == ["payments-api"]
    assert front_matter["started_at"] == "2026-11-27T14:00:00Z"
    assert front_matter["alerts"][0]["key"] == "payments-latency-prod"
    data["action"] = "Acknowledge"
    data["alert"]["username"] = "alice@example.com"
    acked = intake(cli, write(tmp_path, data), "opsgenie", "2026-11-27T16:01:00Z")
    assert acked["reason"] == "acknowledged by alice@example.com"
    data["action"] = "Close"
    closed = intake(cli, write(tmp_path, data), "opsgenie", "2026-11-27T16:02:00Z")
    assert closed["action"] == "resolved-alert"
    assert front(repo, out["incident"])["status"] == "detected"
    data["action"] = "AddNote"
    assert intake(cli, write(tmp_path, data), "opsgenie", "2026-11-27T16:03:00Z")["action"] == (
        "ignored"
    )


# -- Sentry ------------------------------------------------------------------------------------
# sentry-issue-alert-docs.json is the example payload of Sentry's issue alert webhook
# (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/issue-alerts/),
# with the stack trace shortened to its last frame; sentry-metric-alert-docs.json is the
# metric alert example, verbatim
# (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/metric-alerts/).


def test_sentry_issue_alert_and_metric_alert(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    out = intake(cli, str(PAYLOADS / "sentry-issue-alert-docs.json"), "sentry", NOW_LATER)
    front_matter = front(repo, out["incident"])
    assert front_matter["title"] == "ReferenceError: heck is not defined"
    assert front_matter["priority"] == "P1"  # level error: high x medium
    assert front_matter["alerts"][0]["key"] == "1117540176"
    assert front_matter["started_at"] == "2019-08-19T21:06:17Z"
    metric = payload("sentry-metric-alert-docs.json")
    resolved = intake(cli, write(tmp_path, metric), "sentry", NOW_LATER)
    assert resolved == {
        "action": "ignored",
        "incident": None,
        "reason": "no incident carries alert group metric-alert:4",
    }
    metric["action"] = "critical"
    fired = intake(cli, write(tmp_path, metric), "sentry", NOW_LATER)
    assert fired["action"] == "declared"
    assert front(repo, fired["incident"])["priority"] == "P0"
    metric["action"] = "resolved"
    later = intake(cli, write(tmp_path, metric), "sentry", "2026-11-27T16:01:00Z")
    assert later["action"] == "resolved-alert"


# -- generic -----------------------------------------------------------------------------------


def test_generic_shape(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    body = {
        "dedup_key": "disk-full-db1",
        "status": "firing",
        "title": "Disk full on db1",
        "severity": "critical",
        "service": "orders-db",
        "started_at": "2026-11-27T15:50:00Z",
        "url": "https://monitoring.example.com/alerts/1",
    }
    out = intake(cli, write(tmp_path, body), "generic", NOW_LATER, "--at", "2026-11-27T15:55:00Z")
    front_matter = front(repo, out["incident"])
    assert front_matter["detected_at"] == "2026-11-27T15:55:00Z"
    assert front_matter["started_at"] == "2026-11-27T15:50:00Z"
    assert front_matter["services"] == ["orders-db"]
    body["status"] = "resolved"
    done = intake(cli, write(tmp_path, body), "generic", NOW_LATER)
    assert done["action"] == "resolved-alert"


def test_dry_run_writes_nothing(cli: Invoke, repo: Path) -> None:
    result = cli(
        "intake", str(PAYLOADS / "alertmanager-v4.json"), "--source", "alertmanager",
        "--now", NOW_LATER, "--dry-run",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "+title: Checkout returns 5xx" in result.out
    assert not list(repo.glob("incidents/*/*/*/incident.md"))
    as_json = cli(
        "intake", str(PAYLOADS / "alertmanager-v4.json"), "--source", "alertmanager",
        "--now", NOW_LATER, "--dry-run", "--format", "json",
    )  # fmt: skip
    assert json.loads(as_json.out)["action"] == "declared"  # stdout: one JSON document
    assert not list(repo.glob("incidents/*/*/*/incident.md"))


def test_standard_input(cli: Invoke, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    raw = (PAYLOADS / "alertmanager-v4.json").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    result = cli("intake", "-", "--source", "alertmanager", "--now", NOW_LATER)
    assert result.code == 0, result.err
    assert result.out.startswith("declared INC-20261127-")


# -- payloads it cannot read: exit 2, the reason, nothing written -------------------------------


@pytest.mark.parametrize(
    ("content", "source", "message"),
    [
        ("", "alertmanager", "payload is empty"),
        ("{not json", "alertmanager", "not JSON"),
        ("[1, 2]", "alertmanager", "expected an object, got a list"),
        ('{"status": "firing", "alerts": []}', "alertmanager", "groupKey: missing"),
        ('{"groupKey": "g", "status": "burning", "alerts": []}', "grafana", "status: expected"),
        (
            '{"groupKey": "g", "status": "firing", "alerts": [{"startsAt": "yesterday"}]}',
            "alertmanager",
            "alerts[0].startsAt:",
        ),
        (
            '{"groupKey": "g", "status": "firing", '
            '"alerts": [{"startsAt": "2026-11-27T14:00:00"}]}',
            "alertmanager",
            "has no timezone",
        ),
        ('{"event": {"event_type": "incident.triggered"}}', "pagerduty", "event.data: missing"),
        ('{"action": "Create"}', "opsgenie", "alert: missing"),
        ('{"action": "triggered", "data": {}}', "sentry", "expected data.event"),
        ('{"status": "firing"}', "generic", "dedup_key: missing"),
    ],
)
def test_unreadable_payloads(
    cli: Invoke, repo: Path, tmp_path: Path, content: str, source: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = cli("intake", str(path), "--source", source, "--now", NOW_LATER)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert not list(repo.glob("incidents/*/*/*/incident.md"))


def test_oversize_payload(cli: Invoke, repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"x": "' + "a" * (1024 * 1024) + '"}', encoding="utf-8")
    result = cli("intake", str(path), "--source", "generic", "--now", NOW_LATER)
    assert result.code == 2
    assert "at most 1,048,576" in result.err


def test_schema_lists_the_alerts_field(cli: Invoke) -> None:
    result = cli("schema", "--document", "incident")
    assert result.code == 0, result.err
    schema = json.loads(result.out)
    assert "alerts" in schema["properties"]
    assert "AlertGroup" in json.dumps(schema)


def test_concurrent_intake_runs_of_one_group_make_one_incident(repo: Path) -> None:
    """Five real `incidentctl intake` processes at once on one new group: the intake lock
    makes them take turns, so one declares and four find its incident."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "INCIDENTCTL_NOW": NOW_LATER, "INCIDENTCTL_ACTOR": "@alertbot"}
    command = [
        sys.executable, "-m", "incidentctl", "intake", str(PAYLOADS / "alertmanager-v4.json"),
        "--source", "alertmanager", "--format", "json",
    ]  # fmt: skip
    runs = [
        subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(5)
    ]
    outcomes = [json.loads(run.communicate(timeout=120)[0]) for run in runs]
    assert [run.returncode for run in runs] == [0] * 5
    assert sorted(o["action"] for o in outcomes) == ["declared"] + ["ignored"] * 4
    assert len({o["incident"] for o in outcomes}) == 1
    assert len(list(repo.glob("incidents/*/*/*/incident.md"))) == 1
