"""The metrics core, called directly on a small fixed corpus whose figures are computed by hand
in the comments: missing timestamps, a reopened incident, a reclassified one, incidents on and
across the window's edges. Percentiles are checked against Python's statistics module."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentctl.core.documents import load_yaml
from incidentctl.core.model import (
    Detection,
    Escalation,
    EscalationKind,
    EventKind,
    Incident,
    Level,
    Priority,
    Status,
    TimelineEvent,
)
from incidentctl.core.policy import POLICY_FILES, Policy, assemble, default_text
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.deadlines import timers
from incidentctl.deadlines.registry import SLA_RULES
from incidentctl.metrics.compute import (
    History,
    Record,
    Window,
    compute,
    earliest,
    percentile,
    summarize,
)
from incidentctl.metrics.definitions import DURATIONS

T = parse_timestamp
NOW = T("2026-11-27T16:00:00Z")
WINDOW = Window(T("2026-11-01T00:00:00Z"), NOW)


def default_policy() -> Policy:
    sections = {n: load_yaml(Path(f"{n}.yaml"), default_text(n)) or {} for n in POLICY_FILES}
    return Policy.model_validate(assemble(sections))


POLICY = default_policy()


def ev(at: str, kind: EventKind, **fields: Any) -> TimelineEvent:
    return TimelineEvent(at=T(at), kind=kind, text=kind.value, **fields)


def make(
    ident: str, priority: Priority, detected: str, *events: TimelineEvent, **fields: Any
) -> Incident:
    declared = fields.pop("declared", priority)
    timeline = [ev(detected, EventKind.DECLARED, priority=declared), *events]
    times = {k: T(v) for k, v in fields.items() if k.endswith("_at") and isinstance(v, str)}
    rest = {k: v for k, v in fields.items() if k not in times}
    return Incident(
        id=ident,
        title=f"Incident {ident}",
        impact=Level.HIGH,
        urgency=Level.HIGH,
        priority=priority,
        detected_at=T(detected),
        timeline=timeline,
        **times,
        **rest,
    )


# A: P0. MTTD 300, MTTA 60 (exactly at the 1m deadline: met), MTTE 600, MTTM 2400,
#    MTTR 3600 (exactly the 1h target: met), from impact 3900. Tier 2. PIR approved on time.
A = make(
    "INC-A",
    Priority.P0,
    "2026-11-10T10:05:00Z",
    ev("2026-11-10T10:20:00Z", EventKind.UPDATE, public=True),
    started_at="2026-11-10T10:00:00Z",
    acknowledged_at="2026-11-10T10:06:00Z",
    engaged_at="2026-11-10T10:15:00Z",
    mitigated_at="2026-11-10T10:45:00Z",
    resolved_at="2026-11-10T11:05:00Z",
    status=Status.RESOLVED,
    escalations=[Escalation(at=T("2026-11-10T10:20:00Z"), kind=EscalationKind.TIER_2)],
    detection=Detection.AUTOMATED_ALERT,
    services=["checkout-api", "payments"],
)
# B: P1 without started_at and never acknowledged: excluded from MTTD, MTTA, MTTM and from
#    impact start; MTTE 1200, MTTR 3600. Tier 1. No PIR (P1 requires one: overdue).
B = make(
    "INC-B",
    Priority.P1,
    "2026-11-12T08:00:00Z",
    engaged_at="2026-11-12T08:20:00Z",
    resolved_at="2026-11-12T09:00:00Z",
    status=Status.RESOLVED,
    detection=Detection.USER_REPORT,
    services=["checkout-api"],
)
# C: P1 reopened: resolved 13:00, reopened 14:00, resolved 15:00. MTTD 600, MTTA 180,
#    MTTE 600, MTTM 1800, MTTR 10800 (to the final resolution), from impact 11400.
#    Tier 3 at resolution. PIR approved late (due 48h after the 15:00 resolution).
C = make(
    "INC-C",
    Priority.P1,
    "2026-11-20T12:00:00Z",
    ev("2026-11-20T13:00:00Z", EventKind.RESOLVED),
    ev("2026-11-20T14:00:00Z", EventKind.REOPENED),
    ev("2026-11-20T15:00:00Z", EventKind.RESOLVED),
    started_at="2026-11-20T11:50:00Z",
    acknowledged_at="2026-11-20T12:03:00Z",
    engaged_at="2026-11-20T12:10:00Z",
    mitigated_at="2026-11-20T12:30:00Z",
    resolved_at="2026-11-20T15:00:00Z",
    status=Status.RESOLVED,
    escalations=[
        Escalation(at=T("2026-11-20T12:20:00Z"), kind=EscalationKind.TIER_2),
        Escalation(at=T("2026-11-20T14:30:00Z"), kind=EscalationKind.TIER_3),
    ],
    detection=Detection.AUTOMATED_ALERT,
    services=["auth-service"],
)
# D: declared P2, reclassified to P1 at 09:30 (the file says P1): counted as P1; its P1
#    timers start at the reclassification, so acknowledging at 09:20 meets P1's 5 minutes.
#    Open: MTTD 1800, MTTA 1200, MTTE 2400; no mitigation or resolution (excluded).
D = make(
    "INC-D",
    Priority.P1,
    "2026-11-25T09:00:00Z",
    ev("2026-11-25T09:30:00Z", EventKind.RECLASSIFIED, priority=Priority.P1),
    declared=Priority.P2,
    started_at="2026-11-25T08:30:00Z",
    acknowledged_at="2026-11-25T09:20:00Z",
    engaged_at="2026-11-25T09:40:00Z",
    status=Status.INVESTIGATING,
    detection=Detection.MONITORING,
    services=["search-api"],
)
# E: just before the window (23:59:59 the day before): not counted, but its root cause makes
#    A (10 days later) and C recurrences.
E = make(
    "INC-E",
    Priority.P1,
    "2026-10-31T23:59:59Z",
    resolved_at="2026-11-01T01:00:00Z",
    status=Status.RESOLVED,
)
# F: P2 detected exactly at the window's start (included). MTTD 600, MTTA 600, MTTR 7200,
#    from impact 7800; never engaged, resolved before the 4h engage timer: not applicable.
F = make(
    "INC-F",
    Priority.P2,
    "2026-11-01T00:00:00Z",
    started_at="2026-10-31T23:50:00Z",
    acknowledged_at="2026-11-01T00:10:00Z",
    resolved_at="2026-11-01T02:00:00Z",
    status=Status.RESOLVED,
)
# G: detected exactly at the window's end (= now): excluded (half-open window).
G = make("INC-G", Priority.P0, "2026-11-27T16:00:00Z", started_at="2026-11-27T15:00:00Z")
# H: detected after now: does not exist yet.
H = make("INC-H", Priority.P0, "2026-11-27T17:00:00Z")

A_PIR = timers.PirState(
    approved=True,
    approved_at=T("2026-11-11T09:00:00Z"),
    actions=(
        {
            "id": "a1",
            "title": "on time",
            "due": "2026-11-15",
            "status": "done",
            "done_at": "2026-11-14",
        },
        {
            "id": "a2",
            "title": "late",
            "due": "2026-11-15",
            "status": "done",
            "done_at": "2026-11-17",
        },
        {"id": "a3", "title": "overdue", "due": "2026-11-20", "status": "open"},
        {"id": "a4", "title": "dropped", "due": "2026-11-20", "status": "cancelled"},
        {"id": "a5", "title": "not due", "due": "2026-12-20", "status": "in-progress"},
    ),
)
C_PIR = timers.PirState(approved=True, approved_at=T("2026-11-23T10:00:00Z"))
D_PIR = timers.PirState()

RECORDS = [
    Record(A, POLICY, A_PIR, "bad-deploy"),
    Record(B, POLICY),
    Record(C, POLICY, C_PIR, "bad-deploy"),
    Record(D, POLICY, D_PIR, "unique-cause"),
    Record(E, POLICY, timers.PirState(approved=True), "bad-deploy"),
    Record(F, POLICY),
    Record(G, POLICY),
    Record(H, POLICY),
]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return compute(RECORDS, WINDOW, NOW, policy=POLICY, commit="abc123")


def stats(
    count: int,
    mean: float | None,
    median: float | None,
    p90: float | None,
    top: float | None,
    excluded: int,
) -> dict[str, Any]:
    return {
        "count": count,
        "mean": mean,
        "median": median,
        "p90": p90,
        "max": top,
        "excluded": excluded,
    }


def test_window_edges_and_counts(report: dict[str, Any]) -> None:
    overall = report["overall"]
    assert (overall["count"], overall["resolved"], overall["open"]) == (5, 4, 1)
    assert {p: report["by_priority"][p]["count"] for p in ("P0", "P1", "P2", "P3")} == {
        "P0": 1,
        "P1": 3,
        "P2": 1,
        "P3": 0,
    }
    assert report["window"]["from"] == "2026-11-01T00:00:00Z"
    assert report["window"]["to"] == "2026-11-27T16:00:00Z"
    assert report["source"] == {
        "commit": "abc123",
        "policy": POLICY.digest(),
        "policies_used": ["current"],
    }


def test_overall_times_by_hand(report: dict[str, Any]) -> None:
    o = report["overall"]
    # MTTD [300, 600, 600, 1800]: p90 at position 2.7 = 600 + 0.7 * 1200
    assert o["mttd"] == stats(4, 825, 600, 1440, 1800, 1)
    # MTTA [60, 180, 600, 1200]: median (180 + 600) / 2; p90 600 + 0.7 * 600
    assert o["mtta"] == stats(4, 510, 390, 1020, 1200, 1)
    # MTTE [600, 600, 1200, 2400]
    assert o["mtte"] == stats(4, 1200, 900, 2040, 2400, 1)
    # MTTM [1800, 2400]: p90 at position 0.9
    assert o["mttm"] == stats(2, 2100, 2100, 2340, 2400, 3)
    # MTTR [3600, 3600, 7200, 10800]: the reopened C counts to its final resolution
    assert o["mttr"] == stats(4, 6300, 5400, 9720, 10800, 1)
    # from impact start [3900, 7800, 11400]: p90 7800 + 0.8 * 3600
    assert o["mttr_impact"] == stats(3, 7700, 7800, 10680, 11400, 2)


def test_priority_groups_use_the_reclassified_priority(report: dict[str, Any]) -> None:
    p1 = report["by_priority"]["P1"]
    assert p1["count"] == 3  # B, C and the reclassified D
    assert p1["mtta"] == stats(2, 690, 690, 1098, 1200, 1)  # C 180, D 1200; B never acked
    assert p1["mttr"] == stats(2, 7200, 7200, 10080, 10800, 1)  # B 3600, C 10800; D open
    p3 = report["by_priority"]["P3"]
    assert p3["mttr"] == stats(0, None, None, None, None, 0)


def test_sla_compliance_by_hand(report: dict[str, Any]) -> None:
    sla = report["sla"]
    ack = sla["P1"]["acknowledge"]
    # B never acknowledged (missed); C met; D met from its reclassification
    assert (ack["met"], ack["missed"], ack["overdue"]) == (2, 1, 0)
    assert ack["compliance"] == pytest.approx(2 / 3, abs=1e-4)
    assert sla["all"]["acknowledge"]["compliance"] == 0.8  # A, C, D, F of 5
    assert sla["P2"]["engage"]["not_applicable"] == 1  # F resolved before its 4h engage timer
    assert sla["all"]["engage"]["compliance"] == 1.0
    # resolve-sla P1: B met, C met (the clock restarts at the reopen), D overdue
    res = sla["P1"]["resolve-sla"]
    assert (res["met"], res["missed"], res["overdue"], res["compliance"]) == (2, 0, 1, 0.6667)
    assert sla["P1"]["resolve-target"]["not_applicable"] == 3  # target equals the SLA for P1
    # status page, P1: B resolved at its deadline (not applicable), C missed, D overdue
    page = sla["P1"]["status-page-first-update"]
    assert (page["met"], page["missed"], page["overdue"], page["not_applicable"]) == (0, 1, 1, 1)
    assert sla["P0"]["status-page-first-update"]["compliance"] == 1.0
    pir = sla["all"]["pir-due"]
    assert (pir["met"], pir["missed"], pir["overdue"]) == (1, 1, 1)  # A, C late, B none
    assert list(sla["P0"]) == list(SLA_RULES)


def test_sla_states_are_the_timers_engines() -> None:
    """The same states `deadlines` shows, incident by incident."""
    one = compute([Record(D, POLICY, D_PIR)], WINDOW, NOW, policy=POLICY)
    engine = {d.rule: d.state for d in timers.schedule(D, POLICY, NOW, pir=D_PIR)}
    for rule in SLA_RULES:
        cell = one["sla"]["P1"][rule]
        state = engine[rule].replace("not-applicable", "not_applicable")
        assert cell[state] == 1, rule


def test_tiers_at_resolution(report: dict[str, Any]) -> None:
    tiers = report["tiers"]
    assert tiers["resolved"] == 4
    assert tiers["tier_1"] == {"count": 2, "share": 0.5, "target": [0.6, 0.8], "met": False}
    assert tiers["tier_2"] == {"count": 1, "share": 0.25, "target": [0.15, 0.3], "met": True}
    assert tiers["tier_3"] == {"count": 1, "share": 0.25, "target": [0.05, 0.1], "met": False}


def test_tier_counts_escalations_up_to_resolution_only() -> None:
    late = make(
        "INC-L",
        Priority.P1,
        "2026-11-20T12:00:00Z",
        resolved_at="2026-11-20T13:00:00Z",
        tier=2,
        escalations=[Escalation(at=T("2026-11-20T14:00:00Z"), kind=EscalationKind.TIER_2)],
    )
    tiers = compute([Record(late, POLICY)], WINDOW, NOW, policy=POLICY)["tiers"]
    assert tiers["tier_1"]["count"] == 1


def test_recurrence_names_the_incidents(report: dict[str, Any]) -> None:
    rec = report["recurrence"]
    assert (rec["with_root_cause"], rec["unknown"], rec["recurrences"]) == (3, 2, 2)
    assert rec["rate"] == 0.6667
    assert rec["met"] is False
    assert rec["root_causes"] == [
        {
            "root_cause": "bad-deploy",
            "recurrences": ["INC-A", "INC-C"],
            "earlier": ["INC-E"],
            "incidents": 3,
        }
    ]


def test_recurrence_needs_the_earlier_one_within_90_days() -> None:
    first = make("INC-1", Priority.P2, "2026-08-01T00:00:00Z")
    again = make("INC-2", Priority.P2, "2026-11-10T00:00:00Z")  # 101 days later
    rec = compute(
        [Record(first, POLICY, None, "k"), Record(again, POLICY, None, "k")],
        WINDOW,
        NOW,
        policy=POLICY,
    )["recurrence"]
    assert (rec["recurrences"], rec["rate"], rec["met"]) == (0, 0.0, True)


def test_pir_completion_and_on_time(report: dict[str, Any]) -> None:
    assert report["pir"]["P0"] == {
        "resolved": 1,
        "completed": 1,
        "pending": 0,
        "missing": [],
        "completion": 1.0,
        "on_time": 1.0,
        "met": 1,
        "late": 0,
    }
    assert report["pir"]["P1"] == {
        "resolved": 2,
        "completed": 1,
        "pending": 0,
        "missing": ["INC-B"],
        "completion": 0.5,
        "on_time": 0.0,
        "met": 0,
        "late": 2,
    }


def test_pir_not_due_yet_is_pending() -> None:
    fresh = make("INC-N", Priority.P0, "2026-11-27T10:00:00Z", resolved_at="2026-11-27T11:00:00Z")
    pir = compute([Record(fresh, POLICY)], WINDOW, NOW, policy=POLICY)["pir"]["P0"]
    assert (pir["pending"], pir["completion"], pir["on_time"], pir["missing"]) == (
        1,
        None,
        None,
        [],
    )


def test_actions_by_hand(report: dict[str, Any]) -> None:
    act = report["actions"]
    assert (act["total"], act["done"], act["cancelled"], act["open"]) == (5, 2, 1, 2)
    assert act["completion"] == 0.5  # 2 done of 4 not cancelled
    assert (act["met"], act["missed"], act["overdue"], act["pending"]) == (1, 1, 1, 1)
    assert act["on_time"] == 0.3333
    assert act["target_met"] is False
    assert act["overdue_actions"] == [
        {"incident": "INC-A", "action": "a3", "title": "overdue", "due": "2026-11-21T00:00:00Z"}
    ]


def test_action_burndown() -> None:
    window = Window(T("2026-11-09T00:00:00Z"), NOW)  # Monday of the week A happened
    act = compute(RECORDS, window, NOW, policy=POLICY)["actions"]
    points = {p["at"]: (p["open"], p["overdue"]) for p in act["burndown"]}
    # From A's resolution (11-10) 4 actions (a4 cancelled); a1 done 11-14, a2 done 11-17.
    # a2 is due at the end of 11-15 = 11-16T00:00:00Z: exactly at its deadline, not yet late
    assert points["2026-11-16T00:00:00Z"] == (3, 0)
    assert points["2026-11-23T00:00:00Z"] == (2, 1)  # a3 due 11-20 still open; a5 not due
    assert act["burndown"][-1]["at"] == "2026-11-27T16:00:00Z"


def test_mixes(report: dict[str, Any]) -> None:
    assert report["detection"] == {
        "automated-alert": 2,
        "monitoring": 1,
        "unknown": 1,
        "user-report": 1,
    }
    assert report["services"] == {
        "checkout-api": 2,
        "auth-service": 1,
        "payments": 1,
        "search-api": 1,
        "unknown": 1,
    }
    assert report["categories"] == {"unknown": 5}


def test_filters_and_a_window_end_in_the_past() -> None:
    window = Window(WINDOW.start, T("2026-11-20T12:00:00Z"))  # C at 12:00 is outside
    data = compute(RECORDS, window, NOW, policy=POLICY, priorities=["p1"])
    assert data["overall"]["count"] == 1  # B
    data = compute(RECORDS, WINDOW, NOW, policy=POLICY, services=["checkout-api"])
    assert data["overall"]["count"] == 2  # A and B


def test_the_future_has_not_happened() -> None:
    """Replaying at an earlier `now`: later timestamps do not count yet."""
    now = T("2026-11-20T14:30:00Z")  # C reopened at 14:00, resolved again at 15:00
    data = compute(RECORDS, Window(WINDOW.start, now), now, policy=POLICY)
    c = data["by_priority"]["P1"]
    assert c["count"] == 2  # B and C; D not detected yet
    assert c["mttr"]["count"] == 1  # B only: C's final resolution is after now


def test_groups_by_week_and_month(report: dict[str, Any]) -> None:
    data = compute(RECORDS, WINDOW, NOW, policy=POLICY, by=["week", "month", "priority", "service"])
    weeks = data["groups"]["week"]
    assert [w["key"] for w in weeks][:2] == ["2026-W44", "2026-W45"]  # 11-01 is a Sunday
    assert sum(w["count"] for w in weeks) == 5
    assert next(w for w in weeks if w["key"] == "2026-W46")["priorities"]["P0"] == 1
    months = data["groups"]["month"]
    assert [m["key"] for m in months] == ["2026-11"]
    assert months[0]["mttr"] == report["overall"]["mttr"]
    by_priority = {g["key"]: g for g in data["groups"]["priority"]}
    assert by_priority["P1"]["mtta"] == report["by_priority"]["P1"]["mtta"]
    services = {g["key"]: g["count"] for g in data["groups"]["service"]}
    assert services["checkout-api"] == 2


def test_empty_window_gives_nulls_not_zeros() -> None:
    empty = Window(T("2020-01-01T00:00:00Z"), T("2020-02-01T00:00:00Z"))
    data = compute(RECORDS, empty, NOW, policy=POLICY)
    assert data["overall"]["count"] == 0
    for metric in DURATIONS:
        assert data["overall"][metric] == stats(0, None, None, None, None, 0)
    assert data["sla"]["all"]["acknowledge"]["compliance"] is None
    assert data["tiers"]["tier_1"]["share"] is None
    assert data["recurrence"]["rate"] is None
    assert data["targets"] == []


def test_targets_missed(report: dict[str, Any]) -> None:
    rows = {t["target"]: t for t in report["targets"]}
    assert rows["MTTD (all)"]["met"] is False  # mean 825 s > 5 min
    assert rows["MTTA P0"] == {
        "target": "MTTA P0",
        "actual": 60,
        "limit": 60.0,
        "unit": "seconds",
        "met": True,
    }
    assert rows["MTTR P1"]["met"] is True  # 7200 <= 4h
    assert rows["Tier 2 resolution share"]["met"] is True
    assert rows["Recurrence rate"]["met"] is False
    assert rows["PIR completion P1"]["met"] is False
    assert rows["Preventive actions done on time"]["met"] is False


# -- percentiles -----------------------------------------------------------------------------
def reference(values: list[float], p: int) -> float:
    """Python's own R-7 ('inclusive') quantiles: cut points 1..99 of n=100."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@pytest.mark.parametrize("seed", range(20))
def test_percentiles_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    values = [float(rng.randint(0, 100_000)) for _ in range(rng.randint(2, 60))]
    for p in (10, 25, 50, 75, 90, 99):
        assert percentile(values, p) == pytest.approx(reference(values, p))
    assert percentile(values, 50) == pytest.approx(statistics.median(values))
    assert percentile(values, 0) == min(values)
    assert percentile(values, 100) == max(values)


def test_percentile_edge_cases() -> None:
    assert percentile([], 90) is None
    assert percentile([42.0], 90) == 42.0
    assert percentile([10.0, 20.0], 90) == 19.0
    assert summarize([]) == stats(0, None, None, None, None, 0)
    assert summarize([1.0, 2.0], excluded=3) == stats(2, 1.5, 1.5, 1.9, 2, 3)


def test_window_helpers() -> None:
    w = Window(T("2026-11-01T00:00:00Z"), T("2026-11-11T00:00:00Z"))
    assert w.previous() == Window(T("2026-10-22T00:00:00Z"), T("2026-11-01T00:00:00Z"))
    assert w.shifted(timedelta(days=365)).start == datetime.fromisoformat(
        "2025-11-01T00:00:00+00:00"
    )
    assert T("2026-11-01T00:00:00Z") in w
    assert T("2026-11-11T00:00:00Z") not in w


def test_recurrence_boundary_and_ties() -> None:
    first = make("INC-1", Priority.P2, "2026-08-12T00:00:00Z")
    again = make("INC-2", Priority.P2, "2026-11-10T00:00:00Z")  # exactly 90 days later
    twin = make("INC-3", Priority.P2, "2026-11-10T00:00:00Z")  # same second: ordered by ID
    records = [Record(i, POLICY, None, "k") for i in (first, again, twin)]
    rec = compute(records, WINDOW, NOW, policy=POLICY)["recurrence"]
    assert rec["root_causes"] == [
        {"root_cause": "k", "recurrences": ["INC-2", "INC-3"], "earlier": ["INC-1"], "incidents": 3}
    ]
    alone = compute(records[1:], WINDOW, NOW, policy=POLICY)["recurrence"]
    assert alone["root_causes"][0]["recurrences"] == ["INC-3"]  # INC-2 came first


def test_one_history_serves_every_window_of_the_same_records_and_now(
    report: dict[str, Any],
) -> None:
    """`--compare` passes one History to both windows: the figures are those computed alone;
    a history of other records or another `now` is not used."""
    history = History.of(RECORDS, NOW)
    shared = compute(RECORDS, WINDOW, NOW, policy=POLICY, commit="abc123", history=history)
    assert shared == report
    before = WINDOW.previous()
    alone = compute(RECORDS, before, NOW, policy=POLICY)
    assert compute(RECORDS, before, NOW, policy=POLICY, history=history) == alone
    stale = History.of(RECORDS[:1], NOW)
    assert compute(RECORDS, WINDOW, NOW, policy=POLICY, commit="abc123", history=stale) == report
    earlier = NOW - timedelta(days=20)
    other = compute(RECORDS, Window(WINDOW.start, earlier), earlier, policy=POLICY, history=history)
    assert other == compute(RECORDS, Window(WINDOW.start, earlier), earlier, policy=POLICY)


@pytest.mark.parametrize("seed", range(5))
def test_incidents_detected_before_the_earliest_change_nothing(seed: int) -> None:
    """`metrics` and `report` build no model of incidents detected before
    `earliest(window)`: the figures of the window are the same without them, recurrences
    reaching back across the window's start included (the same key every few days)."""
    rng = random.Random(seed)
    records = []
    for n in range(160):
        detected = NOW - timedelta(days=rng.uniform(0, 400))
        inc = make(f"INC-{n:03}", rng.choice(list(Priority)), detected.isoformat())
        records.append(Record(inc, POLICY, None, rng.choice(["a", "b", None])))
    targets = POLICY.review.targets
    for window in (WINDOW, WINDOW.previous(), Window(NOW - timedelta(days=200), NOW)):
        since = earliest(window, targets)
        assert since == window.start - timedelta(days=targets.recurrence_days)
        pair = [  # a day into the window, and the same problem just inside the lookback
            make("INC-LATE", Priority.P2, (window.start + timedelta(days=1)).isoformat()),
            make("INC-EARLY", Priority.P2, (since + timedelta(days=1, hours=1)).isoformat()),
        ]
        every = records + [Record(i, POLICY, None, "z") for i in pair]
        recent = [r for r in every if r.incident.detected_at >= since]
        assert len(recent) < len(every)
        full = compute(every, window, NOW, policy=POLICY)
        assert compute(recent, window, NOW, policy=POLICY) == full
        later = [r for r in recent if r.incident.detected_at >= since + timedelta(days=2)]
        assert "INC-EARLY" in str(full["recurrence"])
        assert "INC-EARLY" not in str(compute(later, window, NOW, policy=POLICY)["recurrence"])
