"""One webhook payload from an alerting tool, read into one shape: the alert group it is
about, what happened to it, and its alerts.

Each reader follows its vendor's published webhook format (Alertmanager webhook v4, Grafana
alerting's webhook contact point, PagerDuty webhooks v3, Opsgenie's webhook integration,
Sentry's integration-platform webhooks) and the generic shape of `incidentctl intake`. A
payload that is not of its source's shape is refused with the field that is wrong; nothing
else is decided here (policies/intake.yaml maps alerts to incidents, `intake.plan` decides).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from incidentctl.core.errors import DocumentError
from incidentctl.core.model import AlertSource, AlertState
from incidentctl.core.timevalues import TimeValueError, parse_timestamp

MAX_PAYLOAD = 1024 * 1024  # bytes: what a receiver accepts (and GitHub's dispatch far less)


class Happened(StrEnum):
    """What a delivery says happened to its alert group."""

    FIRING = "firing"  # alerts fire (some of them may have ended: a partial resolution)
    RESOLVED = "resolved"  # the group's alerts ended
    ACKNOWLEDGED = "acknowledged"  # someone took it in the paging tool
    OTHER = "other"  # an event intake does not act on (a note, a priority change)


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    state: AlertState
    name: str
    fields: dict[str, str]  # labels and annotations (labels win), or the vendor's fields
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # None while it fires (Alertmanager's zero endsAt)
    url: str | None = None


@dataclass(frozen=True)
class Delivery:
    source: AlertSource
    key: str  # the group's identity: what dedupes deliveries onto one incident
    happened: Happened
    alerts: list[Alert] = field(default_factory=list)
    url: str | None = None
    agent: str | None = None  # who acknowledged, in the paging tool
    truncated: int = 0  # alerts the sender left out (Alertmanager's max_alerts)
    event: str | None = None  # the vendor's name for what happened (incident.annotated)


class PayloadError(DocumentError):
    """A payload that is not of its source's shape: the field and what is wrong with it."""

    def __init__(self, where: str, message: str, *, field: str | None = None) -> None:
        super().__init__(
            where,
            message,
            field=field,
            rule="payload",
            hint="the payload must be the JSON body the alerting tool posts; check --source",
        )


def load(raw: bytes, source: str, where: str) -> Delivery:
    """Parse the body of one delivery: JSON of `source`'s shape, at most MAX_PAYLOAD bytes."""
    if len(raw) > MAX_PAYLOAD:
        raise PayloadError(where, f"payload is {len(raw):,} bytes; at most {MAX_PAYLOAD:,}")
    if not raw.strip():
        raise PayloadError(where, "payload is empty")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PayloadError(where, "payload is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(where, f"not JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise PayloadError(where, "not JSON this reader accepts: nested too deeply") from None
    return parse(source, data, where)


def parse(source: str, data: Any, where: str = "<payload>") -> Delivery:
    try:
        kind = AlertSource(source)
    except ValueError:
        known = ", ".join(s.value for s in AlertSource)
        raise PayloadError(where, f"unknown source {source!r} (known: {known})") from None
    reader = _READERS[kind]
    return reader(_Reader(where), _object(_Reader(where), data, None))


class _Reader:
    """Typed access to a JSON payload; every refusal names the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str | None, message: str) -> PayloadError:
        return PayloadError(self.where, message, field=path)


def _object(r: _Reader, value: Any, path: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise r.fail(path, f"expected an object, got {_kind(value)}")
    return value


def _get_object(r: _Reader, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    if key not in data or data[key] is None:
        raise r.fail(path, "missing")
    return _object(r, data[key], path)


def _list(r: _Reader, data: dict[str, Any], key: str, path: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise r.fail(path, "missing" if value is None else f"expected a list, got {_kind(value)}")
    return value


def _text(r: _Reader, data: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # ids are numbers in some payloads (Sentry's project)
    if isinstance(value, str) and (value.strip() or not required):
        return value.strip()
    if value is None and not required:
        return ""
    raise r.fail(path, "missing" if value in (None, "") else f"expected text, got {_kind(value)}")


def _strings(r: _Reader, value: Any, path: str) -> dict[str, str]:
    """A map of labels or annotations: values kept as text."""
    if value is None:
        return {}
    data = _object(r, value, path)
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


_FRACTION = re.compile(r"(\.\d{6})\d+")  # nanoseconds (Go's RFC 3339) to microseconds


def _time(r: _Reader, value: Any, path: str) -> datetime | None:
    """An RFC 3339 time (with nanoseconds), an epoch in seconds or milliseconds, or none;
    Go's zero time (0001-01-01T00:00:00Z, Alertmanager's endsAt while firing) is none."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise r.fail(path, f"not a time: {value!r}") from None
    if not isinstance(value, str):
        raise r.fail(path, f"expected a time, got {_kind(value)}")
    if value.startswith("0001-01-01"):
        return None
    try:
        return parse_timestamp(_FRACTION.sub(r"\1", value))
    except (TimeValueError, OverflowError) as exc:
        raise r.fail(path, str(exc)) from None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _state(r: _Reader, value: Any, path: str) -> AlertState:
    try:
        return AlertState(str(value).lower())
    except ValueError:
        raise r.fail(path, f"expected firing or resolved, got {value!r}") from None


def _fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint is a hash of the labels: the same, where a sender omits it."""
    text = json.dumps(labels, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _alertmanager(
    r: _Reader, data: dict[str, Any], source: AlertSource = AlertSource.ALERTMANAGER
) -> Delivery:
    """Alertmanager's webhook (version 4); Grafana's adds orgId, title, state, message and
    per-alert dashboardURL, panelURL and values, read the same way."""
    key = _text(r, data, "groupKey", "groupKey")
    status = _state(r, data.get("status"), "status")
    common = _strings(r, data.get("commonLabels"), "commonLabels")
    alerts = []
    for i, item in enumerate(_list(r, data, "alerts", "alerts")):
        path = f"alerts[{i}]"
        alert = _object(r, item, path)
        labels = _strings(r, alert.get("labels"), f"{path}.labels")
        annotations = _strings(r, alert.get("annotations"), f"{path}.annotations")
        state = _state(r, alert.get("status", status.value), f"{path}.status")
        fingerprint = _text(r, alert, "fingerprint", f"{path}.fingerprint", required=False)
        url = alert.get("generatorURL") or alert.get("panelURL") or alert.get("dashboardURL")
        alerts.append(
            Alert(
                fingerprint=fingerprint or _fingerprint(labels),
                state=state,
                name=labels.get("alertname") or common.get("alertname") or "alert",
                fields={**common, **annotations, **labels},
                starts_at=_time(r, alert.get("startsAt"), f"{path}.startsAt"),
                ends_at=_time(r, alert.get("endsAt"), f"{path}.endsAt")
                if state == AlertState.RESOLVED
                else None,
                url=url if isinstance(url, str) and url else None,
            )
        )
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise r.fail("truncatedAlerts", f"expected a count, got {truncated!r}")
    external = data.get("externalURL")
    return Delivery(
        source=source,
        key=key,
        happened=Happened.FIRING if status == AlertState.FIRING else Happened.RESOLVED,
        alerts=alerts,
        url=external if isinstance(external, str) and external else None,
        truncated=truncated,
    )


def _grafana(r: _Reader, data: dict[str, Any]) -> Delivery:
    return _alertmanager(r, data, AlertSource.GRAFANA)


_PAGERDUTY = {
    "incident.triggered": Happened.FIRING,
    "incident.reopened": Happened.FIRING,
    "incident.acknowledged": Happened.ACKNOWLEDGED,
    "incident.resolved": Happened.RESOLVED,
}


def _pagerduty(r: _Reader, data: dict[str, Any]) -> Delivery:
    """PagerDuty webhooks v3: one event; `event.data` is the PagerDuty incident."""
    event = _get_object(r, data, "event", "event")
    kind = _text(r, event, "event_type", "event.event_type")
    body = _get_object(r, event, "data", "event.data")
    happened = _PAGERDUTY.get(kind, Happened.OTHER)
    if happened == Happened.OTHER:  # a note, a responder: keyed by its incident if it has one
        inner = body.get("incident")
        ref = inner if isinstance(inner, dict) else body
        return Delivery(AlertSource.PAGERDUTY, str(ref.get("id") or "-"), happened, event=kind)
    key = _text(r, body, "id", "event.data.id")
    fields = {"title": _text(r, body, "title", "event.data.title", required=False)}
    for name in ("service", "priority"):
        named = body.get(name)
        if isinstance(named, dict) and isinstance(named.get("summary"), str):
            fields[name] = named["summary"]
    if isinstance(body.get("urgency"), str):
        fields["urgency"] = body["urgency"]
    agent = event.get("agent")
    occurred = _time(r, event.get("occurred_at"), "event.occurred_at")
    url = body.get("html_url") if isinstance(body.get("html_url"), str) else None
    alert = Alert(
        fingerprint=key,
        state=AlertState.RESOLVED if happened == Happened.RESOLVED else AlertState.FIRING,
        name=fields["title"] or key,
        fields={k: v for k, v in fields.items() if v},
        starts_at=_time(r, body.get("created_at"), "event.data.created_at"),
        ends_at=occurred if happened == Happened.RESOLVED else None,
        url=url,
    )
    return Delivery(
        AlertSource.PAGERDUTY,
        key,
        happened,
        [alert],
        url=url,
        agent=agent.get("summary") if isinstance(agent, dict) else None,
        event=kind,
    )


_OPSGENIE = {
    "create": Happened.FIRING,
    "acknowledge": Happened.ACKNOWLEDGED,
    "close": Happened.RESOLVED,
}


def _opsgenie(r: _Reader, data: dict[str, Any]) -> Delivery:
    """Opsgenie's webhook integration: `action` and the alert it was taken on."""
    action = _text(r, data, "action", "action")
    alert = _get_object(r, data, "alert", "alert")
    key = _text(r, alert, "alias", "alert.alias", required=False) or _text(
        r, alert, "alertId", "alert.alertId"
    )
    happened = _OPSGENIE.get(action.lower(), Happened.OTHER)
    fields = {
        name: str(alert[name])
        for name in ("message", "priority", "entity", "source", "description")
        if isinstance(alert.get(name), str | int) and str(alert[name]).strip()
    }
    tags = alert.get("tags")
    if isinstance(tags, list):
        fields.update({t.split(":", 1)[0]: t.split(":", 1)[1] for t in tags if ":" in str(t)})
    updated = _time(r, alert.get("updatedAt"), "alert.updatedAt")
    item = Alert(
        fingerprint=key,
        state=AlertState.RESOLVED if happened == Happened.RESOLVED else AlertState.FIRING,
        name=fields.get("message") or key,
        fields=fields,
        starts_at=_time(r, alert.get("createdAt"), "alert.createdAt"),
        ends_at=updated if happened == Happened.RESOLVED else None,
    )
    who = alert.get("username")
    return Delivery(
        AlertSource.OPSGENIE,
        key,
        happened,
        [item],
        agent=who if isinstance(who, str) and who else None,
        event=action,
    )


def _sentry(r: _Reader, data: dict[str, Any]) -> Delivery:
    """Sentry's integration-platform webhooks: an issue alert (`data.event`), a metric alert
    (`data.metric_alert`) or the issue resource (`data.issue`)."""
    action = _text(r, data, "action", "action")
    body = _get_object(r, data, "data", "data")
    if isinstance(body.get("event"), dict):
        event = body["event"]
        key = _text(r, event, "issue_id", "data.event.issue_id")
        fields = _sentry_tags(event.get("tags"))
        fields.update(
            {
                "title": _text(r, event, "title", "data.event.title", required=False),
                "level": _text(r, event, "level", "data.event.level", required=False),
                "rule": str(body.get("triggered_rule") or ""),
            }
        )
        return _sentry_delivery(
            key, Happened.FIRING, fields, event.get("web_url"), r, event.get("datetime")
        )
    if isinstance(body.get("metric_alert"), dict):
        metric = body["metric_alert"]
        key = "metric-alert:" + _text(r, metric, "id", "data.metric_alert.id")
        rule = metric.get("alert_rule") if isinstance(metric.get("alert_rule"), dict) else {}
        projects = metric.get("projects")
        fields = {
            "title": str(body.get("description_title") or rule.get("name") or metric.get("title")),
            "level": action,
            "project": str(projects[0]) if isinstance(projects, list) and projects else "",
        }
        happened = {"critical": Happened.FIRING, "warning": Happened.FIRING}.get(
            action, Happened.RESOLVED if action == "resolved" else Happened.OTHER
        )
        return _sentry_delivery(
            key, happened, fields, body.get("web_url"), r, metric.get("date_started")
        )
    if isinstance(body.get("issue"), dict):
        issue = body["issue"]
        key = _text(r, issue, "id", "data.issue.id")
        project = issue.get("project") if isinstance(issue.get("project"), dict) else {}
        fields = {
            "title": _text(r, issue, "title", "data.issue.title", required=False),
            "level": _text(r, issue, "level", "data.issue.level", required=False),
            "project": str(project.get("slug") or ""),
        }
        happened = {"created": Happened.FIRING, "unresolved": Happened.FIRING}.get(
            action, Happened.RESOLVED if action == "resolved" else Happened.OTHER
        )
        url = issue.get("web_url") or issue.get("permalink")
        return _sentry_delivery(key, happened, fields, url, r, issue.get("firstSeen"), action)
    raise r.fail("data", "expected data.event, data.metric_alert or data.issue")


def _sentry_tags(tags: Any) -> dict[str, str]:
    """An event's tags, [[key, value], ...]: `service` or `environment` live there."""
    if not isinstance(tags, list):
        return {}
    return {
        str(t[0]): str(t[1])
        for t in tags
        if isinstance(t, list) and len(t) == 2 and isinstance(t[0], str)
    }


def _sentry_delivery(
    key: str,
    happened: Happened,
    fields: dict[str, str],
    url: Any,
    r: _Reader,
    started: Any,
    event: str | None = None,
) -> Delivery:
    link = url if isinstance(url, str) and url else None
    alert = Alert(
        fingerprint=key,
        state=AlertState.RESOLVED if happened == Happened.RESOLVED else AlertState.FIRING,
        name=fields.get("title") or key,
        fields={k: v for k, v in fields.items() if v},
        starts_at=_time(r, started, "start"),
        url=link,
    )
    return Delivery(AlertSource.SENTRY, key, happened, [alert], url=link, event=event)


def _generic(r: _Reader, data: dict[str, Any]) -> Delivery:
    """{"dedup_key", "status": "firing"|"resolved", "title", "severity", "service",
    "started_at", "url"} (and "ended_at" for a resolution)."""
    key = _text(r, data, "dedup_key", "dedup_key")
    state = _state(r, data.get("status"), "status")
    fields = {
        name: _text(r, data, name, name, required=False)
        for name in ("title", "severity", "service")
    }
    fields.update(
        {k: v for k, v in data.items() if isinstance(v, str) and k not in fields and v.strip()}
    )
    url = _text(r, data, "url", "url", required=False) or None
    alert = Alert(
        fingerprint=key,
        state=state,
        name=fields["title"] or key,
        fields={k: v for k, v in fields.items() if v},
        starts_at=_time(r, data.get("started_at"), "started_at"),
        ends_at=_time(r, data.get("ended_at"), "ended_at"),
        url=url,
    )
    happened = Happened.FIRING if state == AlertState.FIRING else Happened.RESOLVED
    return Delivery(AlertSource.GENERIC, key, happened, [alert], url=url)


_READERS: dict[AlertSource, Callable[[_Reader, dict[str, Any]], Delivery]] = {
    AlertSource.ALERTMANAGER: _alertmanager,
    AlertSource.GRAFANA: _grafana,
    AlertSource.PAGERDUTY: _pagerduty,
    AlertSource.OPSGENIE: _opsgenie,
    AlertSource.SENTRY: _sentry,
    AlertSource.GENERIC: _generic,
}
