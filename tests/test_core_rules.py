"""Rules with one definition in core, and the places that read them: markdown sections and
placeholders, priority labels, the future-time tolerance, the rate targets, the policy file
map, the status a lifecycle time implies, and the tier an incident reached."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from incidentctl.checks.incidents import Context, check_incident
from incidentctl.core import lifecycle, markdown
from incidentctl.core.documents import Document, Loaded, load_yaml
from incidentctl.core.errors import IncidentctlError, TransitionError
from incidentctl.core.model import (
    Escalation,
    EscalationKind,
    EventKind,
    HypothesisResult,
    Incident,
    Level,
    Pir,
    Priority,
    PublicStatus,
    Runbook,
    Status,
    Strategy,
    TimelineEvent,
    Why,
)
from incidentctl.core.policy import (
    POLICY_FILES,
    POLICY_SECTIONS,
    Policy,
    RateTargets,
    assemble,
    default_text,
    locate,
)
from incidentctl.core.timevalues import FUTURE_TOLERANCE, parse_timestamp
from incidentctl.metrics.compute import Record, Window, compute
from incidentctl.notify import values
from incidentctl.pir import scaffold as pir_scaffold
from incidentctl.runbooks import runbook as runbooks
from incidentctl.store import scaffold

T = parse_timestamp
NOW = T("2026-11-27T16:00:00Z")


def _files() -> dict[str, Any]:
    return {n: load_yaml(Path(f"{n}.yaml"), default_text(n)) or {} for n in POLICY_FILES}


POLICY = Policy.model_validate(assemble(_files()))


def _incident(**fields: Any) -> Incident:
    times = {k: T(v) for k, v in fields.items() if k.endswith("_at") and isinstance(v, str)}
    given = {k: v for k, v in fields.items() if k not in times}
    return Incident.model_validate(
        {
            "id": "INC-20261127-AAAA",
            "title": "Checkout down",
            "impact": Level.HIGH,
            "urgency": Level.HIGH,
            "priority": Priority.P0,
            "detected_at": T("2026-11-27T10:00:00Z"),
            **times,
            **given,
        }
    )


def _declared(incident_id: str) -> Incident:
    return lifecycle.declare(
        policy=POLICY,
        incident_id=incident_id,
        title="x",
        impact=Level.HIGH,
        urgency=Level.HIGH,
        at=T("2026-11-27T10:00:00Z"),
        now=NOW,
        by=None,
    )


def _status_findings(inc: Incident) -> list[tuple[str | None, str]]:
    path = Path("incidents/2026/11/INC-20261127-AAAA/incident.md")
    doc = Document(path=path, data={}, front="id: INC-20261127-AAAA\n", body="")
    found = check_incident(Loaded(doc, inc), Context(policy=POLICY, runbooks=set()))
    return [(f.field, f.message) for f in found if f.rule == "status"]


# -- markdown sections -----------------------------------------------------------------------
FOUR_BACKTICKS = "## Before\n````markdown\n```\n## Inside fence\n```\n````\n## After\ntext\n"


def _titles(body: str) -> list[str]:
    return [s.title for s in markdown.outline(body, 1)]


def test_a_fence_closes_only_with_its_own_character_and_length() -> None:
    assert _titles(FOUR_BACKTICKS) == ["Before", "After"]
    (before, _) = markdown.outline(FOUR_BACKTICKS, 1)
    assert [n for n, _ in before.lines] == [2, 3, 4, 5, 6]  # the whole fence
    assert _titles("~~~\n```\n## In\n~~~\n## Out\n") == ["Out"]  # backticks close no tildes
    assert _titles("````\n## In\n`````\n## Out\n") == ["Out"]  # a longer run closes it
    assert _titles("```\n``` not a close\n## In\n```\n## Out\n") == ["Out"]  # nothing after
    assert _titles("```\n## In\n   ```  \n## Out\n") == ["Out"]  # indent and spaces allowed
    assert _titles("```\n## In, the fence never closes\n") == []


def test_what_opens_a_fence() -> None:
    assert _titles("``` a`b\n## Heading\n") == ["Heading"]  # a backtick in the info string
    assert _titles("~~~ a`b\n## In\n~~~\n## Out\n") == ["Out"]  # ...is fine for tildes
    assert _titles("    ```\n## Heading\n") == ["Heading"]  # four spaces: indented code
    assert _titles("``\n## Heading\n") == ["Heading"]  # two backticks: a code span


def test_atx_headings_follow_commonmark() -> None:
    assert markdown.heading("## Symptoms ##") == (2, "Symptoms")
    assert markdown.heading("   # Title") == (1, "Title")
    assert markdown.heading("## Root cause#1") == (2, "Root cause#1")
    assert markdown.heading("## ##") == (2, "")
    assert markdown.heading("##") == (2, "")
    for text in ("#5 whys", "    ## indented code", "####### seven", "text ## no"):
        assert markdown.heading(text) is None, text


def test_outline_nests_and_split_sections_does_not() -> None:
    body = "intro\n# Title\n## A\na\n### A.1\na1\n## B\nb\n"
    a = next(s for s in markdown.outline(body, 10) if s.title == "A")
    assert (a.level, a.line, [t for _, t in a.lines]) == (2, 12, ["a", "### A.1", "a1"])
    title = markdown.outline(body, 10)[0]
    assert (title.title, title.lines[-2:]) == ("Title", [(17, "b"), (18, "")])
    parts = markdown.split_sections(body, 10, depth=2)
    assert [(s.title, s.level, s.line) for s in parts] == [("Title", 1, 11), ("A", 2, 12),
                                                          ("B", 2, 16)]  # fmt: skip
    assert parts[0].lines == []


def test_placeholders_are_the_todos_a_reader_sees() -> None:
    lines = list(enumerate(
        ["TODO: write it", "`TODO` in a span", "<!-- TODO: a note", "still the note -->",
         "```", "TODO in code", "```", "TODOS are not it", "- a TODO item"], start=5
    ))  # fmt: skip
    assert markdown.placeholders(lines) == [(5, "TODO: write it"), (13, "- a TODO item")]
    assert markdown.has_placeholder("because: TODO")
    assert not markdown.has_placeholder("TODOS and TODO_LIST")
    assert markdown.has_content([(1, "<!-- only -->"), (2, "### Sub"), (3, " ")]) is False
    assert markdown.has_content([(1, "```"), (2, "```")]) is True


def test_a_section_without_lines_has_no_prose_and_no_placeholder() -> None:
    (empty, _) = markdown.outline("## A\n## B\ntext", 1)
    assert empty.lines == []
    assert markdown.prose(empty.lines) == []
    assert markdown.placeholders(empty.lines) == []
    assert markdown.has_content(empty.lines) is False


def test_a_todo_split_by_a_comment_or_a_code_span_shows_once_they_are_taken_out() -> None:
    lines = [(1, "TO<!-- a note -->DO"), (2, "TO`x`DO"), (3, "TO DO")]
    assert markdown.placeholders(lines) == [(1, "TODO"), (2, "TO`x`DO")]


def test_every_reader_of_a_placeholder_uses_the_same_rule() -> None:
    """The notification's root cause skips an unanswered why, like the PIR check."""
    inc = _incident()
    pir = Pir(incident=inc.id, whys=[Why(why="Why?", because="Config drift"),
                                     Why(why="Why?", because="TODO")])  # fmt: skip
    assert values._root_cause(inc, pir)[0] == "Config drift"


# -- priority labels -------------------------------------------------------------------------
def test_each_priority_has_its_label_on_the_model() -> None:
    assert [p.label for p in Priority] == ["Critical", "High", "Medium", "Low"]
    inc = _incident(priority=Priority.P1, impact=Level.HIGH, urgency=Level.MEDIUM)
    context = pir_scaffold.pir_context(
        inc,
        policy=POLICY,
        deadlines=[],
        runbooks=[],
        facilitator=None,
        today=date(2026, 11, 28),
        incident_path="incident.md",
    )
    assert context["priority_name"] == "High"
    assert values.context(inc, POLICY, NOW)["priority_label"] == "P1 (High)"


# -- the future-time tolerance ---------------------------------------------------------------
def test_lifecycle_and_drills_allow_the_same_clock_drift() -> None:
    edge = NOW + FUTURE_TOLERANCE
    assert timedelta(minutes=5) == FUTURE_TOLERANCE
    declare = {"policy": POLICY, "incident_id": "INC-X", "title": "x", "impact": Level.LOW,
               "urgency": Level.LOW, "now": NOW, "by": None}  # fmt: skip
    assert lifecycle.declare(at=edge, **declare).detected_at == edge
    with pytest.raises(TransitionError, match="in the future"):
        lifecycle.declare(at=edge + timedelta(seconds=1), **declare)
    book = Runbook(title="x", owner="@a", services=["svc"])
    drill = {"name": "x", "now": NOW, "by": None, "result": runbooks.DrillResult.PASSED,
             "note": None}  # fmt: skip
    assert runbooks.record_drill(book, at=edge, **drill).drills[-1].at == edge
    with pytest.raises(IncidentctlError, match="in the future"):
        runbooks.record_drill(book, at=edge + timedelta(seconds=1), **drill)


# -- rate targets ----------------------------------------------------------------------------
def test_the_model_defaults_are_the_shipped_targets() -> None:
    """The defaults exist for snapshots older than the targets; they may not drift."""
    shipped = RateTargets.model_validate(_files()["review"]["targets"])
    assert shipped == RateTargets()
    assert POLICY.review.targets == RateTargets()
    assert RateTargets().recurrence_days == 90


def test_metrics_read_the_targets_of_the_policy() -> None:
    files = _files()
    files["review"]["targets"] = {
        "tier_resolution": {1: [0.5, 0.9], 2: [0.1, 0.4], 3: [0.0, 0.2]},
        "recurrence_max": 0.1,
        "recurrence_window": "30d",
        "pir_completion": 0.95,
        "action_on_time": 0.75,
    }
    policy = Policy.model_validate(assemble(files))
    inc = _incident(resolved_at="2026-11-27T11:00:00Z", status=Status.RESOLVED)
    report = compute([Record(inc, policy)], Window(T("2026-11-01T00:00:00Z"), NOW), NOW,
                     policy=policy)  # fmt: skip
    assert report["tiers"]["tier_1"]["target"] == [0.5, 0.9]
    assert report["recurrence"]["window_days"] == 30
    assert report["recurrence"]["target_max"] == 0.1
    assert report["actions"]["target"] == 0.75
    definitions = report["definitions"]
    assert definitions["tiers"].endswith("Targets: tier 1 50-90%, tier 2 10-40%, tier 3 0-20%.")
    assert "at most 30 days before it" in definitions["recurrence"]
    assert definitions["recurrence"].endswith("Target: below 10%.")
    assert definitions["pir"].endswith("Target: 95%.")
    assert definitions["actions"].endswith("Target: on-time above 75% (strictly).")


def test_the_recurrence_window_is_calendar_time() -> None:
    """Metrics used to read a business-day or empty window as 90 days, silently."""
    for window in ("10bd", None):
        with pytest.raises(ValidationError, match="calendar duration"):
            RateTargets.model_validate({"recurrence_window": window})
    assert RateTargets.model_validate({"recurrence_window": "2w"}).recurrence_days == 14
    assert RateTargets().model_dump(mode="json")["recurrence_window"] == "90d"


# -- the policy files ------------------------------------------------------------------------
def test_one_map_says_which_file_holds_which_section() -> None:
    assert POLICY_FILES == (
        "priority",
        "sla",
        "escalation",
        "components",
        "review",
        "oncall",
        "people",
        "intake",
    )
    assert set(POLICY_SECTIONS) == set(Policy.model_fields)
    assert set(scaffold.files()) >= {f"policies/{name}.yaml" for name in POLICY_FILES}
    assert locate(("matrix", "high", "low")) == ("priority", ("matrix", "high", "low"))
    assert locate(("components", 0, "id")) == ("components", ("components", 0, "id"))
    assert locate(("sla", "priorities", "P0", "engage")) == ("sla", ("priorities", "P0", "engage"))
    assert locate(()) == ("sla", ())
    files = _files()
    files["components"] = {"components": None}  # `components:` left empty
    assert assemble(files)["matrix"] == files["priority"]["matrix"]
    assert Policy.model_validate(assemble(files)).components == []


# -- status and lifecycle times --------------------------------------------------------------
def test_which_status_needs_which_time() -> None:
    assert {s: lifecycle.required_times(s) for s in Status} == {
        Status.DETECTED: [],
        Status.TRIAGED: ["triaged_at"],
        Status.INVESTIGATING: [],  # reopening returns here without a new engagement
        Status.MITIGATING: ["mitigated_at"],
        Status.RESOLVED: ["resolved_at"],
        Status.CLOSED: ["closed_at", "resolved_at"],
    }
    assert lifecycle.forbidden_times(Status.MITIGATING) == ["resolved_at", "closed_at"]
    assert lifecycle.forbidden_times(Status.RESOLVED) == ["closed_at"]
    assert lifecycle.forbidden_times(Status.CLOSED) == []


def test_validate_reads_the_same_table() -> None:
    assert _status_findings(_incident(status=Status.CLOSED)) == [
        ("status", "status is closed but closed_at is not set"),
        ("status", "status is closed but resolved_at is not set"),
    ]
    resolved = _incident(
        status=Status.RESOLVED, resolved_at="2026-11-27T11:00:00Z", closed_at="2026-11-27T12:00:00Z"
    )
    assert _status_findings(resolved) == [("closed_at", "closed_at is set but status is resolved")]
    reopened = _incident(status=Status.INVESTIGATING, mitigated_at="2026-11-27T10:30:00Z")
    assert _status_findings(reopened) == []


def _reopened() -> Incident:
    """Mitigated 10:30, resolved 11:00, reopened 11:30, mitigated again 11:40, update 12:00."""
    inc = _declared("INC-R")
    at = {"now": NOW, "by": None}
    inc = lifecycle.engage(inc, at=T("2026-11-27T10:05:00Z"), **at)
    inc = lifecycle.mitigate(inc, strategy=Strategy.ROLLBACK, note=None,
                             at=T("2026-11-27T10:30:00Z"), **at)  # fmt: skip
    inc = lifecycle.resolve(inc, at=T("2026-11-27T11:00:00Z"), **at)
    inc = lifecycle.reopen(inc, at=T("2026-11-27T11:30:00Z"), **at)
    inc = lifecycle.mitigate(inc, strategy=Strategy.HOTFIX, note=None,
                             at=T("2026-11-27T11:40:00Z"), **at)  # fmt: skip
    return lifecycle.update(inc, message="still on it", public=False, status=None,
                            at=T("2026-11-27T12:00:00Z"), **at)  # fmt: skip


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("10:01", Status.DETECTED),
        ("10:10", Status.INVESTIGATING),
        ("10:45", Status.MITIGATING),
        ("11:10", Status.RESOLVED),  # the resolution the reopen cleared is on the timeline
        ("11:35", Status.INVESTIGATING),  # reopened: mitigated_at stays, the status does not
        ("11:50", Status.MITIGATING),
        ("13:00", Status.MITIGATING),
    ],
)
def test_a_replay_follows_the_lifecycle_through_a_reopen(at: str, expected: Status) -> None:
    inc = _reopened()
    then = lifecycle.as_of(inc, T(f"2026-11-27T{at}:00Z"))
    assert (lifecycle.status_at(inc, T(f"2026-11-27T{at}:00Z")), then.status) == (
        expected,
        expected,
    )
    assert _status_findings(then) == []  # what a replay shows is a valid incident


def test_a_hand_written_file_replays_from_its_times() -> None:
    inc = _incident(
        status=Status.INVESTIGATING,
        triaged_at="2026-11-27T10:10:00Z",
        timeline=[TimelineEvent(at=T("2026-11-27T12:00:00Z"), kind=EventKind.NOTE)],
    )
    assert lifecycle.status_at(inc, T("2026-11-27T11:00:00Z")) == Status.INVESTIGATING
    resolved = _incident(status=Status.RESOLVED, engaged_at="2026-11-27T10:10:00Z",
                         resolved_at="2026-11-27T11:00:00Z")  # fmt: skip
    assert lifecycle.status_at(resolved, T("2026-11-27T10:30:00Z")) == Status.INVESTIGATING


# -- the tier reached ------------------------------------------------------------------------
TIER_2 = Escalation(at=T("2026-11-27T10:20:00Z"), kind=EscalationKind.TIER_2)
TIER_3 = Escalation(at=T("2026-11-27T10:40:00Z"), kind=EscalationKind.TIER_3)
MANAGEMENT = Escalation(at=T("2026-11-27T10:30:00Z"), kind=EscalationKind.MANAGEMENT)


def test_the_tier_reached_comes_from_the_escalation_history() -> None:
    inc = _incident(tier=3, escalations=[TIER_2, MANAGEMENT, TIER_3])
    assert lifecycle.tier_reached(inc) == 3
    assert lifecycle.tier_reached(inc, T("2026-11-27T10:30:00Z")) == 2
    assert lifecycle.tier_reached(inc, T("2026-11-27T10:10:00Z")) == 1
    # a history of hierarchical escalations only: tier 1, whatever the file states
    assert lifecycle.tier_reached(_incident(tier=2, escalations=[MANAGEMENT])) == 1
    # a hand-written file without escalation records keeps its stated tier
    assert lifecycle.tier_reached(_incident(tier=2)) == 2


def test_validate_replay_and_metrics_agree_on_the_tier() -> None:
    window = Window(T("2026-11-01T00:00:00Z"), NOW)

    def tiers(inc: Incident) -> tuple[int, int, list[tuple[str | None, str]]]:
        """(tier in a replay at resolution, tier the metrics count, validate's findings)"""
        report = compute([Record(inc, POLICY)], window, NOW, policy=POLICY)["tiers"]
        counted = next(t for t in (1, 2, 3) if report[f"tier_{t}"]["count"])
        replayed = lifecycle.as_of(inc, T("2026-11-27T10:50:00Z")).tier
        return replayed, counted, _status_findings(inc)

    later = [TimelineEvent(at=T("2026-11-27T11:00:00Z"), kind=EventKind.NOTE)]  # replay drops it
    done = {"status": Status.RESOLVED, "resolved_at": "2026-11-27T10:50:00Z", "timeline": later}
    assert tiers(_incident(tier=2, **done)) == (2, 2, [])
    assert tiers(_incident(tier=3, escalations=[TIER_2, TIER_3], **done)) == (3, 3, [])
    wrong = _incident(tier=2, escalations=[MANAGEMENT], **done)
    assert tiers(wrong) == (
        1,
        1,
        [("tier", "tier is 2 but the escalation history reaches tier 1")],
    )


def test_escalating_records_the_tier_of_the_same_table() -> None:
    inc = _declared("INC-E")
    for kind in (EscalationKind.TIER_2, EscalationKind.TIER_3):
        inc = lifecycle.escalate(inc, kind=kind, to=None, reason=None,
                                 at=T("2026-11-27T10:10:00Z"), now=NOW, by=None)  # fmt: skip
        assert inc.tier == lifecycle.TIER_OF[kind] == lifecycle.tier_reached(inc)


def test_the_status_page_state_is_one_reading_for_updates_and_messages() -> None:
    """`update --public` and the notify templates agree: a confirmed hypothesis or a cause
    event means identified; a reopened incident investigates again even after a mitigation."""
    hypothesis = TimelineEvent(
        at=T("2026-11-27T10:20:00Z"),
        kind=EventKind.HYPOTHESIS,
        text="Bad config push",
        result=HypothesisResult.CONFIRMED,
    )
    found = _incident(status=Status.INVESTIGATING, timeline=[hypothesis])
    assert lifecycle.public_status(found) == PublicStatus.IDENTIFIED
    assert values.context(found, POLICY, NOW)["public_status"] == "identified"
    reopened = _incident(status=Status.INVESTIGATING, mitigated_at="2026-11-27T10:30:00Z")
    assert lifecycle.public_status(reopened) == PublicStatus.INVESTIGATING
    assert values.context(reopened, POLICY, NOW)["public_status"] == "investigating"
