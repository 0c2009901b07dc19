"""The sticky pull-request comment: one section per incident the PR changes (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from incidentctl.checks import incidents
from incidentctl.core.disclosure import title_of
from incidentctl.core.model import Incident
from incidentctl.core.policy import Policy
from incidentctl.core.timevalues import format_timestamp
from incidentctl.deadlines import timers


@dataclass(frozen=True)
class Changed:
    """One incident changed by the PR, with what the summary shows about it."""

    incident: Incident
    path: str
    policy: Policy
    new: bool
    schedule: list[timers.Deadline]
    overdue: list[timers.Reminder]
    pir_path: str | None = None
    pir_findings: list[incidents.Finding] = field(default_factory=list)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _at(value: datetime | None) -> str:
    return format_timestamp(value) if value else "-"


def section(c: Changed) -> str:
    inc = c.incident
    computed = c.policy.priority_for(inc.impact, inc.urgency)
    lines = [
        f"### {inc.id} [{inc.priority}] {_cell(title_of(inc))}",
        "",
        f"{'New incident' if c.new else 'Changed'}: `{c.path}`, status **{inc.status.value}**.",
        "",
    ]
    if computed == inc.priority:
        lines.append(
            f"Priority **{computed}** (impact {inc.impact.value} x urgency {inc.urgency.value})."
        )
    else:
        reason = inc.priority_override.reason if inc.priority_override else "no reason recorded"
        lines.append(
            f"Declared **{inc.priority}**, but impact {inc.impact.value} x urgency "
            f"{inc.urgency.value} computes **{computed}** (override: {_cell(reason)})."
        )
    live = [d for d in c.schedule if d.state != timers.NOT_APPLICABLE]
    if live:
        lines += ["", "| deadline | due | state | done |", "|---|---|---|---|"]
        for d in live:
            rule = f"{d.rule} ({d.subject})" if d.subject else d.rule
            state = d.state + (f", snoozed until {_at(d.snoozed_until)}" if d.snoozed_until else "")
            lines.append(f"| {_cell(rule)} | {_at(d.due)} | {state} | {_at(d.done_at)} |")
    if c.overdue:
        lines += ["", f"**Overdue now ({len(c.overdue)}):**"]
        for f in c.overdue:
            who = f" ({_cell(', '.join(f.who))})" if f.who else ""
            lines.append(f"- {_cell(f.message)}{who}: {_cell(f.recommendation)}")
    else:
        lines += ["", "Nothing overdue."]
    if c.pir_path:
        gaps = [f for f in c.pir_findings if f.severity == "error" or f.rule.endswith("incomplete")]
        if not c.pir_findings:
            lines += ["", f"PIR `{c.pir_path}`: complete."]
        else:
            lines += [
                "",
                f"PIR `{c.pir_path}`: {len(gaps)} gap(s), "
                f"{len(c.pir_findings) - len(gaps)} warning(s):",
            ]
            for g in c.pir_findings[:20]:
                where = f"line {g.line}: " if g.line else ""
                lines.append(f"- {g.severity}: {where}{_cell(g.message)}")
            if len(c.pir_findings) > 20:
                lines.append(f"- ... and {len(c.pir_findings) - 20} more (`incidentctl pir check`)")
    return "\n".join(lines)


def render(changed: list[Changed], base: str, now: datetime) -> str:
    head = f"## incidentctl: {len(changed)} incident(s) changed against `{base}`"
    if not changed:
        return f"{head}\n\nNo incident or PIR changed in this pull request.\n"
    parts = [head, *(section(c) for c in changed)]
    parts.append(
        f"<sub>As of {format_timestamp(now)}; updated on every push by "
        "`incidentctl github pr-comment`. Annotations on the files come from "
        "`incidentctl validate --format github`.</sub>"
    )
    return "\n\n".join(parts) + "\n"
