"""What each incident metric means: the definitions stamped on every report, and the targets.

Peers disagree on what MTTR means, so every report carries these texts (`definitions` in
JSON, a footer in text, a section in the HTML report). Pure data: no I/O.
"""

from __future__ import annotations

from incidentctl.core.policy import RateTargets
from incidentctl.deadlines import registry

# metric -> (from, to): each a lifecycle timestamp of the incident file
DURATIONS: dict[str, tuple[str, str]] = {
    "mttd": ("started_at", "detected_at"),
    "mtta": ("detected_at", "acknowledged_at"),
    "mtte": ("detected_at", "engaged_at"),
    "mttm": ("detected_at", "mitigated_at"),
    "mttr": ("detected_at", "resolved_at"),
    "mttr_impact": ("started_at", "resolved_at"),
}

LABELS: dict[str, str] = {
    "mttd": "MTTD",
    "mtta": "MTTA",
    "mtte": "MTTE",
    "mttm": "MTTM",
    "mttr": "MTTR",
    "mttr_impact": "TTR from impact start",
}


def _percent(share: float) -> str:
    """0.6 -> '60': a share as the definitions write it."""
    return f"{round(share * 100, 2):g}"


def definitions(targets: RateTargets) -> dict[str, str]:
    """The texts stamped on a report, with the rate targets of the policy it was computed
    under (a repository that sets its own targets reads its own numbers)."""
    tiers = ", ".join(
        f"tier {tier} {_percent(low)}-{_percent(high)}%"
        for tier, (low, high) in sorted(targets.tier_resolution.items())
    )
    return {
        **_TEXTS,
        "tiers": _TEXTS["tiers"] + f" Targets: {tiers}.",
        "recurrence": _TEXTS["recurrence"].format(days=targets.recurrence_days)
        + f" Target: below {_percent(targets.recurrence_max)}%.",
        "pir": _TEXTS["pir"] + f" Target: {_percent(targets.pir_completion)}%.",
        "actions": _TEXTS["actions"]
        + f" Target: on-time above {_percent(targets.action_on_time)}% (strictly).",
    }


# without the targets, which definitions() adds
_TEXTS: dict[str, str] = {
    "window": (
        "An incident belongs to the window when its detected_at is at or after `from` and "
        "before `to` (half-open). Everything is judged as of `now`: a timestamp after `now` "
        "has not happened yet, and an incident detected after `now` does not exist. Filters "
        "(--priority, --service) apply after the window."
    ),
    "priority": (
        "The incident's priority as its file states it now, i.e. after any reclassification."
    ),
    "mttd": "Mean time to detect: detected_at - started_at (start of impact).",
    "mtta": "Mean time to acknowledge: acknowledged_at - detected_at.",
    "mtte": "Mean time to engage: engaged_at - detected_at.",
    "mttm": "Mean time to mitigate: mitigated_at (the first mitigation) - detected_at.",
    "mttr": (
        "Mean time to resolve: resolved_at - detected_at. A reopened incident counts once, "
        "to its final resolution (the time it spent reopened included); while it is reopened "
        "it has no resolved_at and is excluded."
    ),
    "mttr_impact": "Time to resolve from impact start (the customer's view): "
    "resolved_at - started_at.",
    "statistics": (
        "count = incidents with both timestamps; excluded = incidents of the selection "
        "lacking one of them (or with the end before the start), never counted as zero; "
        "mean, median, p90 and max in seconds (null when count is 0)."
    ),
    "percentile": (
        "Linear interpolation between closest ranks (R-7, the default of NumPy and "
        "Excel PERCENTILE.INC, Python statistics.quantiles(method='inclusive')): for sorted "
        "values x[0..n-1], p at position (n-1)*p/100. The median is the 50th percentile."
    ),
    "sla": (
        "Per priority and timer, the states computed by the timers engine (the same as "
        "`incidentctl deadlines` and `overdue`, with the policy each incident was declared "
        "under): met, missed, overdue (due and not done), pending (not due yet), "
        "not-applicable. compliance = met / (met + missed + overdue); null when none is "
        "decided. Timers: " + ", ".join(registry.SLA_RULES) + "."
    ),
    "tiers": (
        "Resolution rate by tier: among incidents of the selection resolved by `now`, the "
        "share resolved at each functional tier. The tier at resolution is the highest tier "
        "escalated to at or before resolved_at (escalations history), or the file's tier for "
        "a file without escalation records."
    ),
    "recurrence": (
        "An incident of the selection is a recurrence when its key (its PIR's root_cause key, "
        "else the change linked as its cause, `cause:REF`) is also "
        "the key of another incident (anywhere in the repository) detected at most {days} days "
        "before it (incidents detected in the same second are ordered by ID; the first of a "
        "series is not a recurrence). rate = recurrences / incidents "
        "of the selection with a key; incidents without one are counted "
        "as unknown."
    ),
    "pir": (
        "For P0 and P1 incidents of the selection resolved by `now`: completed = PIR approved "
        "(approval time: the commit that set status: approved on the main line, or an "
        "imported approved_at). pending = not approved and not due yet (left out of the "
        "rates). completion = completed / (resolved - pending); on_time = pir-due met / "
        "(met + missed + overdue)."
    ),
    "actions": (
        "Preventive actions of the PIRs of incidents in the selection, as pir.md states them "
        "(status and done_at; the GitHub issue state once `actions sync` writes it back). "
        "on_time = done on or before the due date (end of that day, UTC) / (met + missed + "
        "overdue), by the timers engine's action-due rule; cancelled actions and "
        "actions without a due date are left out. completion = done / (all - cancelled). "
        "Burn-down: actions open at each week's end, counted from their incident's "
        "resolution (or detection) until done_at."
    ),
    "detection": "Incidents of the selection per detection method (unknown when not recorded).",
    "services": "Incidents of the selection per service (an incident counts for each service).",
    "categories": "Incidents of the selection per category (unknown when not recorded).",
    "targets": (
        "Time targets: MTTD mean within the current policy's sla.detect; MTTA, MTTE and MTTR "
        "mean within the mean of the incidents' own acknowledge, engage and resolve-sla due "
        "times, counted from detection as `deadlines` computes them (the policy each was "
        "declared under; a reclassified incident is held to the target in force when it acted) "
        "(business-day timers are not compared). Rate targets from the review policy "
        "(policies/review.yaml `targets`): tier shares, recurrence, PIR completion (P0/P1), "
        "action on-time."
    ),
    "compare": (
        "--compare previous: the window of the same length ending where this one starts; "
        "--compare DURATION (e.g. 365d): this window shifted back by DURATION. change = "
        "current - previous (seconds for times, fractions for rates, incidents for counts)."
    ),
}
