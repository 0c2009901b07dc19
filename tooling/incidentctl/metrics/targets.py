"""Targets met or missed, and the comparison of two reports: pure functions over report dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incidentctl.core.model import Priority
from incidentctl.core.policy import Policy, RateTargets

PRIORITIES = tuple(p.value for p in Priority)
_RATES = ("share", "rate", "compliance", "completion", "on_time")


def _num(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def target_rows(
    report: dict[str, Any],
    policy: Policy,
    targets: RateTargets,
    *,
    limits: dict[tuple[str, str], float] | None = None,
) -> list[dict[str, Any]]:
    """`limits`: per (priority, metric), the incidents' own targets from the timer registry
    (mean seconds from detection); the policy's number where none is given."""
    rows: list[dict[str, Any]] = []

    def time_row(name: str, figure: dict[str, Any], limit: Any, key: tuple[str, str]) -> None:
        if limit is None or limit.business_days or figure["mean"] is None:
            return
        seconds = (limits or {}).get(key, limit.seconds)
        rows.append(
            {
                "target": name,
                "actual": figure["mean"],
                "limit": seconds,
                "unit": "seconds",
                "met": figure["mean"] <= seconds,
            }
        )

    time_row("MTTD (all)", report["overall"]["mttd"], policy.sla.detect, ("all", "mttd"))
    for p in PRIORITIES:
        sla = policy.sla.priorities.get(Priority(p))
        if sla is None:
            continue
        figures = report["by_priority"][p]
        time_row(f"MTTA {p}", figures["mtta"], sla.acknowledge, (p, "mtta"))
        time_row(f"MTTE {p}", figures["mtte"], sla.engage, (p, "mtte"))
        time_row(f"MTTR {p}", figures["mttr"], sla.resolve_breach, (p, "mttr"))
    for tier in (1, 2, 3):
        row = report["tiers"][f"tier_{tier}"]
        if row["met"] is not None:
            rows.append(
                {
                    "target": f"Tier {tier} resolution share",
                    "actual": row["share"],
                    "limit": row["target"],
                    "unit": "share",
                    "met": row["met"],
                }
            )
    rec = report["recurrence"]
    if rec["met"] is not None:
        rows.append(
            {
                "target": "Recurrence rate",
                "actual": rec["rate"],
                "limit": targets.recurrence_max,
                "unit": "share",
                "met": rec["met"],
            }
        )
    for key in ("P0", "P1"):
        value = report["pir"][key]["completion"]
        if value is not None:
            rows.append(
                {
                    "target": f"PIR completion {key}",
                    "actual": value,
                    "limit": targets.pir_completion,
                    "unit": "share",
                    "met": value >= targets.pir_completion,
                }
            )
    act = report["actions"]
    if act["target_met"] is not None:
        rows.append(
            {
                "target": "Preventive actions done on time",
                "actual": act["on_time"],
                "limit": targets.action_on_time,
                "unit": "share",
                "met": act["target_met"],
            }
        )
    return rows


def flatten(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Numeric, boolean and null leaves by their key path (lists are left out)."""
    out: dict[tuple[str, ...], Any] = {}
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):
            out.update(flatten(value, path))
        elif value is None or isinstance(value, int | float):
            out[path] = value
    return out


def changes(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure of both reports side by side: current, previous, change (current - prev).

    `figure` is the dotted key path, e.g. `by_priority.P0.mtta.median`.
    """
    sections = ("overall", "by_priority", "sla", "tiers", "recurrence", "pir", "actions")
    now_flat = flatten({s: current[s] for s in sections})
    then_flat = flatten({s: previous[s] for s in sections})
    rows = []
    for path, value in now_flat.items():
        before = then_flat.get(path)
        if (
            isinstance(value, bool)
            or isinstance(before, bool)
            or "target" in path[-1]
            or path[-1] == "window_days"
        ):
            continue
        delta: float | int | None = None
        if value is not None and before is not None:
            delta = round(value - before, 4) if path[-1] in _RATES else _num(value - before)
        rows.append(
            {"figure": ".".join(path), "current": value, "previous": before, "change": delta}
        )
    return rows
