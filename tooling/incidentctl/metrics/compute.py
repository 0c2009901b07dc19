"""Incident metrics: (incidents with their policies and PIRs, a window, now) -> figures.

Pure: no files, no clock, no click. Every definition is in metrics.definitions and is
stamped on the report. Deadlines come from the timers engine, so "met" and "missed" here
mean exactly what `overdue` and `deadlines` say.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentctl.core.lifecycle import tier_reached
from incidentctl.core.model import EventKind, Incident, Priority
from incidentctl.core.policy import Policy, RateTargets
from incidentctl.core.timevalues import format_timestamp
from incidentctl.deadlines import timers
from incidentctl.deadlines.case import action_status, iso, loose_time
from incidentctl.deadlines.registry import SLA_RULES, incident_rules  # which timers, in which order
from incidentctl.metrics.definitions import DURATIONS, definitions
from incidentctl.metrics.targets import changes, flatten, target_rows

__all__ = [
    "GROUPINGS",
    "PRIORITIES",
    "History",
    "Record",
    "Window",
    "changes",
    "compute",
    "earliest",
    "flatten",
    "percentile",
    "summarize",
]

GROUPINGS = ("month", "week", "priority", "service")
PRIORITIES = tuple(p.value for p in Priority)
_DECIDED = (timers.MET, timers.MISSED, timers.OVERDUE)


@dataclass(frozen=True)
class Record:
    """One incident, the policy it was declared under, its PIR (loosely read) and root cause."""

    incident: Incident
    policy: Policy
    pir: timers.PirState | None = None
    root_cause: str | None = None


@dataclass(frozen=True)
class Window:
    """Incidents detected at or after `start` and before `end`."""

    start: datetime
    end: datetime

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def shifted(self, back: timedelta) -> Window:
        return Window(self.start - back, self.end - back)

    def previous(self) -> Window:
        return self.shifted(self.end - self.start)

    def as_dict(self) -> dict[str, Any]:
        return {"from": format_timestamp(self.start), "to": format_timestamp(self.end)}


@dataclass(frozen=True)
class Selection:
    """Which incidents a report covers: the window plus optional filters."""

    window: Window
    priorities: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    def wants(self, inc: Incident, now: datetime) -> bool:
        if inc.detected_at > now or inc.detected_at not in self.window:
            return False
        if self.priorities and inc.priority.value not in self.priorities:
            return False
        return not self.services or bool(self.services.intersection(inc.services))


# -- statistics ------------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by linear interpolation between closest ranks (R-7)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _num(value: float | None) -> float | int | None:
    """Seconds for JSON: whole numbers as ints, otherwise one decimal."""
    if value is None:
        return None
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def summarize(values: Sequence[float], excluded: int = 0) -> dict[str, Any]:
    """count, mean, median, p90, max (seconds; null without data) and excluded."""
    return {
        "count": len(values),
        "mean": _num(sum(values) / len(values)) if values else None,
        "median": _num(percentile(values, 50)),
        "p90": _num(percentile(values, 90)),
        "max": _num(max(values)) if values else None,
        "excluded": excluded,
    }


def _at(inc: Incident, name: str, now: datetime) -> datetime | None:
    value: datetime | None = getattr(inc, name)
    return value if value is not None and value <= now else None


def durations(inc: Incident, now: datetime) -> dict[str, float | None]:
    """Each duration metric of one incident in seconds; None when it cannot be measured."""
    out: dict[str, float | None] = {}
    for metric, (start_name, end_name) in DURATIONS.items():
        start, end = _at(inc, start_name, now), _at(inc, end_name, now)
        seconds = None if start is None or end is None else (end - start).total_seconds()
        out[metric] = seconds if seconds is not None and seconds >= 0 else None
    return out


def _times(rows: Iterable[dict[str, float | None]]) -> dict[str, Any]:
    values: dict[str, list[float]] = {m: [] for m in DURATIONS}
    excluded = dict.fromkeys(DURATIONS, 0)
    for row in rows:
        for metric, seconds in row.items():
            if seconds is None:
                excluded[metric] += 1
            else:
                values[metric].append(seconds)
    return {m: summarize(values[m], excluded[m]) for m in DURATIONS}


# -- one incident's facts --------------------------------------------------------------------
@dataclass
class _Facts:
    record: Record
    times: dict[str, float | None]
    deadlines: list[timers.Deadline]
    resolved: datetime | None
    recurrence: str | None = None  # its recurrence key (`recurrence_key`)
    inc: Incident = field(init=False)
    priority: str = field(init=False)  # the incident's priority, e.g. "P1"

    def __post_init__(self) -> None:
        # read for every figure: attributes, not a property and an enum's value each time
        self.inc = self.record.incident
        self.priority = self.inc.priority.value


# metric -> the timer of the registry that sets its target
_TIME_TARGETS = {"mtta": "acknowledge", "mtte": "engage", "mttr": "resolve-sla"}
# the timers the sections read (SLA compliance, time targets, PIRs, actions): only these
# are judged, a third of the registry's
_READ = incident_rules((*SLA_RULES, *_TIME_TARGETS.values(), "pir-due", "action-due"))


def _facts(record: Record, now: datetime, recurrence: str | None) -> _Facts:
    inc = record.incident
    deadlines = timers.schedule(inc, record.policy, now, pir=record.pir, rules=_READ)
    return _Facts(record, durations(inc, now), deadlines, _at(inc, "resolved_at", now), recurrence)


def _time_limits(facts: list[_Facts]) -> dict[tuple[str, str], float]:
    """Per (priority, metric): the mean of each counted incident's own target, measured from
    detection as the metric is. Each target is the timer's due time from the registry, so a
    reclassified incident is held to the target in force when it acted, as `deadlines` says."""
    sums: dict[tuple[str, str], list[float]] = {}
    for f in facts:
        detected = f.inc.detected_at
        for metric, rule in _TIME_TARGETS.items():
            if f.times.get(metric) is None:
                continue
            due = next((d.due for d in f.deadlines if d.rule == rule and d.subject is None), None)
            if due is not None:
                key = (f.priority, metric)
                sums.setdefault(key, []).append((due - detected).total_seconds())
    return {key: sum(values) / len(values) for key, values in sums.items()}


# -- the sections ----------------------------------------------------------------------------
def _sla(facts: list[_Facts]) -> dict[str, Any]:
    states: dict[str, dict[str, Counter[str]]] = {
        key: {rule: Counter() for rule in SLA_RULES} for key in (*PRIORITIES, "all")
    }
    every = states["all"]
    for f in facts:
        mine = states[f.priority]
        for d in f.deadlines:
            if d.rule in SLA_RULES:
                mine[d.rule][d.state] += 1
                every[d.rule][d.state] += 1
    out: dict[str, Any] = {}
    for key, rules in states.items():
        out[key] = {}
        for rule, counts in rules.items():
            decided = sum(counts[s] for s in _DECIDED)
            out[key][rule] = {
                "met": counts[timers.MET],
                "missed": counts[timers.MISSED],
                "overdue": counts[timers.OVERDUE],
                "pending": counts[timers.PENDING],
                "not_applicable": counts[timers.NOT_APPLICABLE],
                "compliance": _rate(counts[timers.MET], decided),
            }
    return out


def _tiers(facts: list[_Facts], targets: RateTargets) -> dict[str, Any]:
    counts: Counter[int] = Counter()
    for f in facts:
        if f.resolved is not None:
            counts[tier_reached(f.inc, f.resolved)] += 1
    total = sum(counts.values())
    out: dict[str, Any] = {"resolved": total}
    for tier in (1, 2, 3):
        low, high = targets.tier_resolution[tier]
        share = _rate(counts[tier], total)
        out[f"tier_{tier}"] = {
            "count": counts[tier],
            "share": share,
            "target": [low, high],
            "met": None if share is None else low <= share <= high,
        }
    return out


def recurrence_key(record: Record, now: datetime) -> str | None:
    """What makes two incidents the same problem: the PIR's root_cause key, else the change
    linked as the cause (`link --cause`, known by `now`) as `cause:REF`."""
    if record.root_cause:
        return record.root_cause
    causes = [
        e.ref
        for e in record.incident.timeline
        if e.kind == EventKind.CAUSE and e.ref and e.at <= now
    ]
    return f"cause:{causes[0]}" if causes else None


@dataclass(frozen=True, eq=False)
class History:
    """Every incident's recurrence key as of `now` and each key's detections in order: what
    recurrence looks at beyond the window, worked out once for all the windows of a report
    (`--compare`) instead of once per window."""

    records: Sequence[Record]
    now: datetime
    keys: tuple[str | None, ...]  # recurrence_key of records[i]
    series: dict[str, list[tuple[datetime, str]]]  # key -> (detected_at, ID), ascending

    @classmethod
    def of(cls, records: Sequence[Record], now: datetime) -> History:
        keys = tuple(recurrence_key(r, now) for r in records)
        series: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for r, key in zip(records, keys, strict=True):
            if key and r.incident.detected_at <= now:
                series[key].append((r.incident.detected_at, r.incident.id))
        for detections in series.values():
            detections.sort()
        return cls(records, now, keys, dict(series))

    def fits(self, records: Sequence[Record], now: datetime) -> bool:
        return self.records is records and self.now == now


def earliest(window: Window, targets: RateTargets) -> datetime:
    """The earliest detection a figure of `window` looks at: recurrence counts the same
    problem seen up to `recurrence_days` before each incident of the window. `compute` needs
    every incident detected from then on; older ones change nothing (`metrics` and `report`
    build no model of them)."""
    return window.start - _recurrence_span(targets)


def _recurrence_span(targets: RateTargets) -> timedelta:
    return timedelta(days=targets.recurrence_days)


def _recurrence(facts: list[_Facts], history: History, targets: RateTargets) -> dict[str, Any]:
    by_key = history.series
    span = _recurrence_span(targets)
    recurrent: dict[str, list[str]] = defaultdict(list)
    earlier: dict[str, set[str]] = defaultdict(set)
    known = 0
    for f in facts:
        key = f.recurrence
        if not key:
            continue
        known += 1
        at, me, series = f.inc.detected_at, f.inc.id, by_key[key]
        # the same key detected in [at - span, at), ties at `at` broken by ID
        low = bisect.bisect_left(series, (at - span, ""))
        before = [i for _, i in series[low : bisect.bisect_left(series, (at, me))]]
        if before:
            recurrent[key].append(me)
            earlier[key].update(before)
    count = sum(len(ids) for ids in recurrent.values())
    rate = _rate(count, known)
    groups: list[dict[str, Any]] = [
        {
            "root_cause": key,
            "recurrences": sorted(ids),
            "earlier": sorted(earlier[key] - set(ids)),
            "incidents": len(set(ids) | earlier[key]),
        }
        for key, ids in recurrent.items()
    ]
    groups.sort(key=lambda g: (-int(g["incidents"]), str(g["root_cause"])))
    return {
        "with_root_cause": known,
        "unknown": len(facts) - known,
        "recurrences": count,
        "rate": rate,
        "target_max": targets.recurrence_max,
        "met": None if rate is None else rate < targets.recurrence_max,
        "window_days": targets.recurrence_days,
        "root_causes": groups,
    }


def _pir(facts: list[_Facts], now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows: dict[str, list[_Facts]] = {"P0": [], "P1": []}
    for f in facts:
        if f.priority in rows and f.resolved is not None:
            rows[f.priority].append(f)
    for key, group in (*rows.items(), ("P0+P1", rows["P0"] + rows["P1"])):
        completed = pending = 0
        states: Counter[str] = Counter()
        missing: list[str] = []
        for f in group:
            pir = f.record.pir
            done = bool(pir and pir.approved_by(now))
            state = next((d.state for d in f.deadlines if d.rule == "pir-due"), None)
            states[state or "none"] += 1
            if done:
                completed += 1
            elif state == timers.PENDING:
                pending += 1
            else:
                missing.append(f.inc.id)
        decided = sum(states[s] for s in _DECIDED)
        out[key] = {
            "resolved": len(group),
            "completed": completed,
            "pending": pending,
            "missing": sorted(missing),
            "completion": _rate(completed, len(group) - pending),
            "on_time": _rate(states[timers.MET], decided),
            "met": states[timers.MET],
            "late": states[timers.MISSED] + states[timers.OVERDUE],
        }
    return out


def _actions(
    facts: list[_Facts], window: Window, now: datetime, targets: RateTargets
) -> dict[str, Any]:
    states: Counter[str] = Counter()
    status: Counter[str] = Counter()
    overdue: list[dict[str, Any]] = []
    spans: list[tuple[datetime, datetime | None, datetime | None]] = []  # from, done, due
    for f in facts:
        pir = f.record.pir
        if pir is None:
            continue
        for d in f.deadlines:
            if d.rule == "action-due" and d.subject:
                states[d.state] += 1
                if d.state == timers.OVERDUE:
                    overdue.append(
                        {
                            "incident": f.inc.id,
                            "action": d.subject,
                            "title": d.note,
                            "due": iso(d.due),
                        }
                    )
        for action in pir.actions:
            state = action_status(action, "open")
            status[state] += 1
            if state != "cancelled":
                done = loose_time(action.get("done_at")) if state == "done" else None
                if state == "done" and done is None:
                    done = f.resolved or f.inc.detected_at
                spans.append((f.resolved or f.inc.detected_at, done, loose_time(action.get("due"))))
    total = sum(status.values())
    decided = sum(states[s] for s in _DECIDED)
    on_time = _rate(states[timers.MET], decided)
    overdue.sort(key=lambda a: (a["due"] or "", a["incident"], a["action"]))
    return {
        "total": total,
        "done": status["done"],
        "cancelled": status["cancelled"],
        "open": total - status["done"] - status["cancelled"],
        "completion": _rate(status["done"], total - status["cancelled"]),
        "met": states[timers.MET],
        "missed": states[timers.MISSED],
        "overdue": states[timers.OVERDUE],
        "pending": states[timers.PENDING],
        "on_time": on_time,
        "target": targets.action_on_time,
        "target_met": None if on_time is None else on_time > targets.action_on_time,
        "overdue_actions": overdue,
        "burndown": _burndown(spans, window, now),
    }


def _burndown(
    spans: list[tuple[datetime, datetime | None, datetime | None]], window: Window, now: datetime
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start, _ in _periods(window, "week"):
        at = min(start + timedelta(days=7), window.end, now)
        open_ = [s for s in spans if s[0] <= at and (s[1] is None or s[1] > at)]
        late = sum(1 for s in open_ if s[2] is not None and s[2] < at)
        out.append({"at": format_timestamp(at), "open": len(open_), "overdue": late})
        if at >= now:
            break
    return out


def _counts(values: Iterable[str]) -> dict[str, int]:
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# -- groups ----------------------------------------------------------------------------------
def _periods(window: Window, unit: str) -> list[tuple[datetime, str]]:
    """(start, key) of every calendar week (ISO, from Monday) or month touching the window."""
    day = window.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        day -= timedelta(days=day.weekday())
    else:
        day = day.replace(day=1)
    out: list[tuple[datetime, str]] = []
    while day < window.end:
        if unit == "week":
            year, week, _ = day.isocalendar()
            out.append((day, f"{year}-W{week:02d}"))
            day += timedelta(days=7)
        else:
            out.append((day, f"{day:%Y-%m}"))
            day = (day + timedelta(days=32)).replace(day=1)
    return out


def _group_key(inc: Incident, unit: str) -> list[str]:
    at = inc.detected_at.astimezone(UTC)
    if unit == "week":
        year, week, _ = at.isocalendar()
        return [f"{year}-W{week:02d}"]
    if unit == "month":
        return [f"{at:%Y-%m}"]
    if unit == "priority":
        return [inc.priority.value]
    return list(inc.services) or ["unknown"]


def _groups(facts: list[_Facts], window: Window, unit: str) -> list[dict[str, Any]]:
    members: dict[str, list[_Facts]] = defaultdict(list)
    for f in facts:
        for key in _group_key(f.inc, unit):
            members[key].append(f)
    if unit in ("week", "month"):
        keys: list[tuple[str, str | None]] = [
            (key, format_timestamp(start)) for start, key in _periods(window, unit)
        ]
    elif unit == "priority":
        keys = [(p, None) for p in PRIORITIES]
    else:
        keys = [(k, None) for k in sorted(members)]
    out = []
    for key, start in keys:
        group = members.get(key, [])
        row: dict[str, Any] = {"key": key}
        if start:
            row["start"] = start
        row["count"] = len(group)
        row["priorities"] = {p: sum(1 for f in group if f.priority == p) for p in PRIORITIES}
        row.update(_times(f.times for f in group))
        out.append(row)
    return out


# -- the report ------------------------------------------------------------------------------
def compute(
    records: Sequence[Record],
    window: Window,
    now: datetime,
    *,
    policy: Policy,
    commit: str | None = None,
    priorities: Iterable[str] = (),
    services: Iterable[str] = (),
    by: Iterable[str] = (),
    targets: RateTargets | None = None,
    history: History | None = None,
) -> dict[str, Any]:
    """Every figure for the incidents of `records` detected in `window`, as of `now`.

    `records` is the repository, or at least every incident detected since
    `earliest(window, targets)` (recurrence looks at incidents before the window);
    `policy` is the current one (its digest is stamped; its SLAs are the time targets);
    `history` is `History.of(records, now)`, passed when several windows share it.
    """
    targets = targets or policy.review.targets
    if history is None or not history.fits(records, now):
        history = History.of(records, now)
    selection = Selection(window, frozenset(p.upper() for p in priorities), frozenset(services))
    facts = [
        _facts(r, now, key)
        for r, key in zip(records, history.keys, strict=True)
        if selection.wants(r.incident, now)
    ]
    by_priority: dict[str, Any] = {}
    for p in PRIORITIES:
        group = [f for f in facts if f.priority == p]
        by_priority[p] = {"count": len(group), **_times(f.times for f in group)}
    resolved = sum(1 for f in facts if f.resolved is not None)
    report: dict[str, Any] = {
        "window": {
            **window.as_dict(),
            "now": format_timestamp(now),
            "selection": "incidents detected at or after `from` and before `to`",
            "priority": sorted(selection.priorities),
            "service": sorted(selection.services),
        },
        "definitions": definitions(targets),
        "source": {
            "commit": commit,
            "policy": policy.digest(),
            "policies_used": sorted(
                {r.incident.policy or "current" for r in (f.record for f in facts)}
            ),
        },
        "overall": {
            "count": len(facts),
            "open": len(facts) - resolved,
            "resolved": resolved,
            **_times(f.times for f in facts),
        },
        "by_priority": by_priority,
        "sla": _sla(facts),
        "tiers": _tiers(facts, targets),
        "recurrence": _recurrence(facts, history, targets),
        "pir": _pir(facts, now),
        "actions": _actions(facts, window, now, targets),
        "detection": _counts(
            f.inc.detection.value if f.inc.detection else "unknown" for f in facts
        ),
        "services": _counts(s for f in facts for s in (f.inc.services or ["unknown"])),
        "categories": _counts(f.inc.category.value if f.inc.category else "unknown" for f in facts),
    }
    report["targets"] = target_rows(report, policy, targets, limits=_time_limits(facts))
    groups = {unit: _groups(facts, window, unit) for unit in by}
    if groups:
        report["groups"] = groups
    return report
