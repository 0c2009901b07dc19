"""The timer registry: every timer rule of the process, each one object in one place.

A rule says when it applies and how its due time follows from the incident and its policy
(`judge`), who must act, what the reminder says and what to do, whether it may be snoozed,
and how it counts in SLA compliance. `overdue`, `deadlines`, `overdue --post`, `snooze`, the
PIR's key times, the notify templates, `metrics` and the PR summary all read their verdicts
from here, so adding a timer is one `Rule` and its tests.

Pure: no files, no clock, no click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from incidentctl.core.disclosure import sensitive
from incidentctl.core.model import EscalationKind, EventKind
from incidentctl.deadlines.case import (
    MET,
    MISSED,
    NOT_APPLICABLE,
    UNCONDITIONAL_MANAGEMENT,
    Case,
    Deadline,
    action_id,
    action_status,
    cadence,
    first,
    judge,
    loose_time,
    past,
    timer,
)

Judge = Callable[[Case], list[Deadline]]

RESPONSE, FOLLOW_UP, HOUSEKEEPING = 0, 1, 2  # how urgent a rule's findings sort


@dataclass(frozen=True)
class Rule:
    """One timer of the process."""

    id: str
    summary: str  # what the process asks, in one line (docs, `snooze --help`)
    judge: Judge | None  # the incident's deadlines for this rule; None: repository-wide
    roles: tuple[str, ...] = ()  # incident roles who must act, in order
    levels: tuple[str, ...] = ()  # escalation-policy levels whose contacts must act
    what: str = ""  # the reminder's message, formatted with the deadline's values
    do: str = ""  # what to do now, formatted likewise
    snoozable: bool = True  # `snooze` may quiet it (for at most the policy's sla.snooze_max)
    sla: int | None = None  # position among the SLA-compliance timers of `metrics`; None: not one
    group: int = RESPONSE  # RESPONSE, FOLLOW_UP or HOUSEKEEPING: sorts findings
    milestone: str | None = None  # the incident timestamp it judges (the PIR's key times)
    per_incident: bool = True  # False: about the repository (runbooks), not an incident
    # True: its clock may still run once the incident is resolved and closed (the review,
    # its actions, a regulator); every other rule is decided by then (`AFTER_CLOSING`)
    outlives: bool = False

    def deadlines(self, c: Case) -> list[Deadline]:
        """The rule's deadlines as of `c.now`.

        Something done before the incident was reclassified is judged by the target in
        force when it was done (acknowledged as a P1, then raised to P0: the P1 target).
        """
        if self.judge is None:
            return []
        out = self.judge(c)
        if not c.reclassified:
            return out
        return [self._then(c, d) for d in out]

    def _then(self, c: Case, d: Deadline) -> Deadline:
        if d.done_at is None or d.done_at >= c.since:
            return d
        then = c.as_of(d.done_at)
        if then.priority == c.priority or self.judge is None:
            return d
        for earlier in self.judge(then):
            if earlier.subject == d.subject and earlier.done_at == d.done_at:
                return earlier
        return d


# -- response ---------------------------------------------------------------------------------
def _acknowledge(c: Case) -> list[Deadline]:
    return timer(
        c,
        "acknowledge",
        c.sla.acknowledge,
        c.anchor,
        c.acknowledged,
        c.stop,
        none=f"no acknowledgement timer for {c.priority}",
    )


def _triage(c: Case) -> list[Deadline]:
    return timer(
        c,
        "triage",
        c.policy.sla.triage,
        c.inc.detected_at,
        c.triaged,
        c.stop,
        none="no triage SLA",
    )


def _engage(c: Case) -> list[Deadline]:
    return timer(
        c,
        "engage",
        c.sla.engage,
        c.anchor,
        c.engaged,
        c.stop,
        none=f"no engagement timer for {c.priority}",
    )


# -- functional escalation --------------------------------------------------------------------
def _tier_2(c: Case) -> list[Deadline]:
    return timer(
        c,
        "escalate-tier-2",
        c.functional.tier_2,
        c.restart,
        c.tier2,
        c.functional_stop,
        none=f"no functional escalation for {c.priority}",
    )


def _tier_3(c: Case) -> list[Deadline]:
    f = c.functional
    if f.tier_3 is None or c.tier2 is None:
        note = "starts when tier 2 is engaged" if f.tier_3 else f"no tier 3 timer for {c.priority}"
        return [Deadline("escalate-tier-3", NOT_APPLICABLE, note=note)]
    start = max(c.tier2, c.restart)
    return timer(c, "escalate-tier-3", f.tier_3, start, c.tier3, c.functional_stop, none="")


def _tier_management(c: Case) -> list[Deadline]:
    f = c.functional
    if f.management is None or c.tier3 is None:
        note = "starts when tier 3 is engaged" if f.management else "no tier 3 -> management timer"
        return [Deadline("escalate-management", NOT_APPLICABLE, note=note)]
    return timer(
        c,
        "escalate-management",
        f.management,
        max(c.tier3, c.restart),
        c.escalated.get(EscalationKind.MANAGEMENT),
        c.functional_stop,
        none="",
    )


# -- hierarchical escalation and communication ------------------------------------------------
def _notify_management(c: Case) -> list[Deadline]:
    p = c.priority
    return timer(
        c,
        "notify-management",
        c.policy.escalation.hierarchical.management.get(p),
        c.anchor,
        c.escalated.get(EscalationKind.MANAGEMENT),
        c.closed if p in UNCONDITIONAL_MANAGEMENT else c.stop,
        none=f"no management notification timer for {p}",
    )


def _notify_executive(c: Case) -> list[Deadline]:
    executive = c.escalated.get(EscalationKind.EXECUTIVE)
    flagged = c.flag_delay()
    if flagged is not None:  # a breach or data loss: executives at once, resolved or not
        return timer(
            c,
            "notify-executive",
            flagged,
            c.inc.detected_at,
            executive,
            c.closed,
            none="",
            note="security breach or data loss",
        )
    return timer(
        c,
        "notify-executive",
        c.policy.escalation.hierarchical.executive.get(c.priority.value),
        c.restart,
        executive,
        c.stop,
        none=f"no executive timer for {c.priority} (no breach or data loss)",
    )


def _notify_security(c: Case) -> list[Deadline]:
    return timer(
        c,
        "notify-security",
        c.flag_delay(),
        c.inc.detected_at,
        c.escalated.get(EscalationKind.SECURITY),
        c.closed,
        none="no security breach or data loss flagged",
    )


def _status_page(c: Case) -> list[Deadline]:
    """From the anchor; for a security or data-loss incident, from its release (before it,
    the page must not mention it)."""
    released = first(e.at for e in c.events if e.kind == EventKind.RELEASED)
    if not c.inc.public or (sensitive(c.inc) and released is None):
        note = "not public: never on the status page unless released"
        return [Deadline("status-page-first-update", NOT_APPLICABLE, note=note)]
    return timer(
        c,
        "status-page-first-update",
        c.policy.escalation.hierarchical.status_page.get(c.priority),
        max(c.anchor, released) if released else c.anchor,
        first(c.public_updates),
        c.stop,
        none=f"no status-page timer for {c.priority}",
    )


def _status_update(c: Case) -> list[Deadline]:
    return cadence(
        c,
        "status-update",
        c.sla.status_update_every,
        c.restart,
        c.updates,
        c.stop,
        none=f"status updates as needed for {c.priority}",
    )


def _stakeholder_update(c: Case) -> list[Deadline]:
    sla = c.sla
    if sla.resolve_breach is None or sla.stakeholder_update_every is None:
        note = f"no stakeholder cadence for {c.priority}"
        return [Deadline("stakeholder-update", NOT_APPLICABLE, note=note)]
    return cadence(
        c,
        "stakeholder-update",
        sla.stakeholder_update_every,
        c.after(c.restart, sla.resolve_breach),
        c.updates,
        c.stop,
        none="",
        note="from the SLA breach while unresolved",
    )


# -- resolution -------------------------------------------------------------------------------
def _resolve_target(c: Case) -> list[Deadline]:
    sla = c.sla
    if sla.resolve_target is None or (
        sla.resolve_breach is not None
        and c.after(c.restart, sla.resolve_target) >= c.after(c.restart, sla.resolve_breach)
    ):
        note = (
            "same as the SLA (resolve-sla)" if sla.resolve_target else f"no target for {c.priority}"
        )
        return [Deadline("resolve-target", NOT_APPLICABLE, note=note)]
    return timer(c, "resolve-target", sla.resolve_target, c.restart, c.resolved, None, none="")


def _resolve_sla(c: Case) -> list[Deadline]:
    return timer(
        c,
        "resolve-sla",
        c.sla.resolve_breach,
        c.restart,
        c.resolved,
        None,
        none=f"no resolution SLA for {c.priority} (backlog)",
    )


def _business_continuity(c: Case) -> list[Deadline]:
    return timer(
        c,
        "business-continuity",
        c.sla.business_continuity_after,
        c.restart,
        None,
        c.stop,
        none=f"no business-continuity trigger for {c.priority}",
    )


# -- after the incident: clocks that outlive it -----------------------------------------------
def _regulatory(c: Case) -> list[Deadline]:
    clocks = c.policy.sla.regulatory
    if not clocks or not (c.inc.security_breach or c.inc.data_loss):
        why = "no regulatory clock configured" if not clocks else "no breach or loss flagged"
        return [Deadline("regulatory-deadline", NOT_APPLICABLE, note=why)]
    out: list[Deadline] = []
    for name, duration in sorted(clocks.items()):
        marks = ("regulatory-deadline", f"regulatory-deadline:{name}")
        done = first(e.at for e in c.events if e.rule in marks and e.kind != EventKind.SNOOZED)
        out += timer(
            c,
            "regulatory-deadline",
            duration,
            c.inc.detected_at,
            done,
            None,
            none=f"{name}: no duration",
            subject=name,
        )
    return out


def _pir(c: Case) -> list[Deadline]:
    """Due after resolution; the clock runs until approval, whatever the incident's state
    (closing the incident does not excuse the review)."""
    rule = c.policy.review.pir.get(c.priority)
    if rule is None or rule.due is None:
        return [Deadline("pir-due", NOT_APPLICABLE, note=f"no PIR for {c.priority}")]
    if not rule.required and c.pir is None:
        return [Deadline("pir-due", NOT_APPLICABLE, note=f"optional for {c.priority}")]
    if c.resolved is None:
        return [Deadline("pir-due", NOT_APPLICABLE, note=f"due {rule.due} after resolution")]
    approved_at = past(c.pir.approved_at, c.now) if c.pir else None
    done = c.pir is not None and c.pir.approved_by(c.now)
    return timer(c, "pir-due", rule.due, c.resolved, approved_at, None, none="", done=done)


def _actions(c: Case) -> list[Deadline]:
    if c.pir is None or not c.pir.actions:
        return [Deadline("action-due", NOT_APPLICABLE, note="no preventive actions recorded")]
    out: list[Deadline] = []
    for index, action in enumerate(c.pir.actions, start=1):
        name = action_id(index, action)
        title = str(action.get("title") or "")
        status = action_status(action)
        if status == "cancelled":
            out.append(Deadline("action-due", NOT_APPLICABLE, subject=name, note="cancelled"))
            continue
        done = status == "done"
        done_at = loose_time(action.get("done_at")) if done else None
        due = loose_time(action.get("due"))
        horizon = c.policy.review.action_horizons.get(str(action.get("horizon") or ""))
        if due is None and horizon is not None and c.pir.approved_at is not None:
            due = c.after(c.pir.approved_at, horizon)
        if due is None:
            out.append(Deadline("action-due", NOT_APPLICABLE, subject=name, note="no due date"))
            continue
        state = judge(due, done_at, None, c.now, done)
        out.append(Deadline("action-due", state, due, None, done_at, name, title))
    return out


_IC, _TL, _COMMS = "incident_commander", "technical_lead", "communications_lead"

RULES: tuple[Rule, ...] = (
    Rule(
        "acknowledge",
        "an on-call engineer acknowledges the alert",
        _acknowledge,
        ("on_call",),
        ("tier-1",),
        "not acknowledged",
        "Acknowledge now: incidentctl ack {id}; if the on-call does not answer, page the backup.",
        sla=0,
        milestone="acknowledged_at",
    ),
    Rule(
        "triage",
        "impact and urgency are assessed (sla.triage from detection)",
        _triage,
        ("on_call", _IC),
        ("tier-1",),
        "not triaged (impact and urgency not assessed)",
        "Assess impact and urgency: incidentctl triage {id} --impact ... --urgency ...",
        milestone="triaged_at",
    ),
    Rule(
        "engage",
        "a responder is engaged and investigating",
        _engage,
        ("on_call", _IC),
        ("tier-1",),
        "no responder engaged",
        "Engage a responder and open a bridge: incidentctl engage {id}",
        sla=1,
        milestone="engaged_at",
    ),
    Rule(
        "escalate-tier-2",
        "functional escalation from tier 1 to the component owners",
        _tier_2,
        (_IC,),
        ("tier-2",),
        "still in tier 1: escalate to tier 2",
        "Escalate to the component owners: incidentctl escalate {id} --tier 2",
    ),
    Rule(
        "escalate-tier-3",
        "functional escalation from tier 2 to senior engineers and architects",
        _tier_3,
        (_IC,),
        ("tier-3",),
        "still in tier 2: escalate to tier 3",
        "Escalate to senior engineers and architects: incidentctl escalate {id} --tier 3",
    ),
    Rule(
        "escalate-management",
        "functional escalation from tier 3 to management",
        _tier_management,
        (_IC,),
        ("management",),
        "still in tier 3: escalate to management",
        "Escalate to management: incidentctl escalate {id} --management",
    ),
    Rule(
        "notify-management",
        "hierarchical escalation: management is notified",
        _notify_management,
        (_IC,),
        ("management",),
        "management not notified",
        "Notify management: incidentctl escalate {id} --management",
    ),
    Rule(
        "notify-executive",
        "executives are notified (at once for a security breach or data loss)",
        _notify_executive,
        (_IC,),
        ("executive",),
        "executives not notified",
        "Notify executives: incidentctl escalate {id} --executive",
    ),
    Rule(
        "notify-security",
        "the security team is notified of a security breach or data loss",
        _notify_security,
        (_IC, "security_gatekeeper"),
        ("security",),
        "security team not notified of a {flag}",
        "Notify security and executives now, preserve evidence, keep it off the public status "
        "page: incidentctl escalate {id} --security",
    ),
    Rule(
        "status-page-first-update",
        "the first public status-page update",
        _status_page,
        (_COMMS, _IC),
        (),
        "no public status-page update yet",
        "Post the first public update: incidentctl update {id} --public --message ...",
        sla=4,
    ),
    Rule(
        "status-update",
        "status updates at the priority's cadence while unresolved",
        _status_update,
        (_COMMS, _IC),
        (),
        "no status update since {start}",
        "Post a status update (every {every}): incidentctl update {id} --message ...",
    ),
    Rule(
        "stakeholder-update",
        "stakeholder updates at the SLA-missed cadence once the resolution SLA is breached",
        _stakeholder_update,
        (_IC, _COMMS),
        ("management",),
        "resolution SLA missed; no stakeholder update since {start}",
        "Escalate to the incident commander and update stakeholders every {stakeholder}: "
        "incidentctl update {id} --message ...",
    ),
    Rule(
        "resolve-target",
        "resolved within the priority's target",
        _resolve_target,
        (_IC, _TL),
        (),
        "not resolved within the target",
        "Prefer a fast mitigation (rollback, workaround) over a root-cause fix: "
        "incidentctl mitigate {id} --strategy ...",
        sla=2,
        milestone="resolved_at",
    ),
    Rule(
        "resolve-sla",
        "resolved within the priority's SLA (the breach)",
        _resolve_sla,
        (_IC, _TL),
        ("management",),
        "not resolved within the SLA",
        "SLA breached: escalate to the incident commander{stakeholder_cadence}.",
        sla=3,
        milestone="resolved_at",
    ),
    Rule(
        "major-incident",
        "two or more P0, or three or more P1, open at once (sla.major_incident)",
        None,
        (_IC,),
        ("management", "executive"),
        "",
        "Declare a major incident: one incident commander across them, notify management and "
        "executives, and freeze changes until they are resolved.",
    ),
    Rule(
        "business-continuity",
        "still unresolved long after the SLA: declare a major incident",
        _business_continuity,
        (_IC,),
        ("management", "executive"),
        "still unresolved: declare a major incident",
        "Declare a major incident and activate business continuity; notify executives.",
    ),
    Rule(
        "regulatory-deadline",
        "the regulator is notified of a breach or data loss (sla.regulatory)",
        _regulatory,
        ("security_gatekeeper", _IC),
        ("security",),
        "{subject} regulatory notification not recorded",
        "Notify the regulator ({subject}) and record it: "
        "incidentctl regulatory {id} --regime {subject} --message '...'",
        outlives=True,
    ),
    Rule(
        "pir-due",
        "the post-incident review is approved (review.pir, from resolution)",
        _pir,
        (_IC, _TL, "engineering_manager"),
        (),
        "post-incident review not approved",
        "Write the blameless PIR and get it approved: incidentctl pir new {id}",
        sla=5,
        group=FOLLOW_UP,
        outlives=True,
    ),
    Rule(
        "action-due",
        "each preventive action of the PIR is done by its due date",
        _actions,
        (_IC,),
        (),
        "preventive action {subject} ({note}) not done",
        "Finish it and record it: incidentctl action done {id} {subject}; or agree a new due "
        "date with its owner in the PIR.",
        group=FOLLOW_UP,
        outlives=True,
    ),
    Rule(
        "runbook-untested",
        "every runbook is exercised within review.runbook_max_untested",
        None,
        snoozable=False,
        group=HOUSEKEEPING,
        do="Exercise the runbook, then record it: incidentctl runbook tested {name}",
        per_incident=False,
    ),
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
IDS: tuple[str, ...] = tuple(BY_ID)
SNOOZABLE: tuple[str, ...] = tuple(r.id for r in RULES if r.snoozable and r.per_incident)
SLA_RULES: tuple[str, ...] = tuple(
    r.id for r in sorted((r for r in RULES if r.sla is not None), key=lambda r: r.sla or 0)
)
INCIDENT_RULES: tuple[Rule, ...] = tuple(r for r in RULES if r.judge is not None)
# The only rules that can fall due for an incident resolved and closed (`Case.finished`):
# the others' clocks stop at resolution or closing, so they are met, missed or not
# applicable by then. `findings` judges a finished incident by these alone (2,800 of the
# 3,100 incidents `overdue` judges at 10,000 are finished, waiting on their actions).
AFTER_CLOSING: tuple[Rule, ...] = tuple(r for r in INCIDENT_RULES if r.outlives)
RANK: dict[str, int] = {rule_id: i for i, rule_id in enumerate(IDS)}  # a rule's place in RULES


def incident_rules(ids: Iterable[str]) -> tuple[Rule, ...]:
    """The per-incident rules named in `ids`, in the registry's order: a reader that needs
    only some timers (metrics) judges only those. An unknown ID is a programming error."""
    wanted = set(ids)
    unknown = wanted.difference(r.id for r in INCIDENT_RULES)
    if unknown:
        raise ValueError(f"not per-incident timer rules: {', '.join(sorted(unknown))}")
    return tuple(r for r in INCIDENT_RULES if r.id in wanted)


def verdict(state: str) -> str | None:
    """'met' or 'missed' once decided, else None (for tables that show only outcomes)."""
    return state if state in (MET, MISSED) else None
