"""Commands an incident commander runs during an incident; each appends a timeline event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from incidentctl.cli.common import (
    actor_of,
    apply_transition,
    current_now,
    echo_json,
    format_option,
    incident_id_param,
    parse_time,
    repo_from,
    show_diff,
    write_options,
)
from incidentctl.core import lifecycle
from incidentctl.core.documents import MAX_NUMBER
from incidentctl.core.model import (
    Category,
    Detection,
    EscalationKind,
    EventKind,
    HypothesisResult,
    Incident,
    Level,
    Priority,
    PublicStatus,
    Roles,
    Strategy,
    is_handle,
)
from incidentctl.core.timevalues import TimeValueError, parse_timestamp
from incidentctl.store.incidents import new_id
from incidentctl.store.repo import Repo

LEVELS = click.Choice([lv.value for lv in Level], case_sensitive=False)
ALLOW_UNKNOWN = click.option(
    "--allow-unknown",
    is_flag=True,
    help="Accept services and components that policies/components.yaml does not list.",
)
PRIORITIES = click.Choice([p.value for p in Priority], case_sensitive=False)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _summary(incident: Incident) -> str:
    return (
        f"{incident.id} {incident.priority} {incident.status.value.upper()}"
        f" tier {incident.tier}: {incident.title}"
    )


def _apply(
    ctx: click.Context, incident_id: str, transition: Callable[..., Incident], **kw: Any
) -> None:
    updated = apply_transition(ctx, incident_id, transition, **kw)
    if updated is None:
        return
    event = updated.timeline[-1]
    click.echo(f"{event.text} ({event.at:%Y-%m-%d %H:%M:%SZ})")
    click.echo(_summary(updated))


@click.command(
    epilog="""\b
Examples:
  incidentctl declare --title "Checkout returns 502" --impact high --urgency high \\
      --services checkout-api --detection automated-alert
  incidentctl declare --title "Typo on pricing page" --impact low --urgency low --format json
"""
)
@click.option("--title", required=True, help="One line: what is broken, for whom.")
@click.option("--impact", required=True, type=LEVELS, help="high: outage/>50% users/data loss.")
@click.option("--urgency", required=True, type=LEVELS, help="high: worsening fast.")
@click.option("--category", type=click.Choice([c.value for c in Category]))
@click.option("--services", metavar="A,B", help="Affected services, comma-separated.")
@click.option("--components", metavar="A,B", help="Status-page components affected.")
@click.option("--detection", type=click.Choice([d.value for d in Detection]))
@click.option("--reporter", metavar="WHO", help="Who or what reported it.")
@click.option("--summary", help="One or two sentences on what is happening.")
@click.option("--user-impact", help="What users see.")
@click.option(
    "--affected-users",
    type=click.IntRange(min=0, max=MAX_NUMBER),  # what the file may hold, so it reads back
    help="Estimated affected users.",
)
@click.option("--started-at", "started_text", metavar="TS", help="When impact started.")
@click.option("--priority", type=PRIORITIES, help="Only to disagree with the matrix.")
@click.option("--reason", help="Why --priority differs from the matrix (required then).")
@click.option("--commander", metavar="WHO", help="Incident commander.")
@click.option("--on-call", "on_call", metavar="WHO", help="On-call engineer.")
@click.option(
    "--security-breach",
    is_flag=True,
    help="Unauthorized access is suspected (private until `incidentctl release`).",
)
@click.option(
    "--data-loss", is_flag=True, help="Data was lost or corrupted (private until released)."
)
@click.option("--private", is_flag=True, help="Never show it on the public status page.")
@ALLOW_UNKNOWN
@click.option(
    "--id",
    "incident_id",
    metavar="ID",
    callback=incident_id_param,
    help="Use this ID instead of a fresh one (letters, digits, '-', '_').",
)
@write_options
@format_option()
@click.pass_context
def declare(
    ctx: click.Context,
    title: str,
    impact: str,
    urgency: str,
    category: str | None,
    services: str | None,
    components: str | None,
    detection: str | None,
    reporter: str | None,
    summary: str | None,
    user_impact: str | None,
    affected_users: int | None,
    started_text: str | None,
    priority: str | None,
    reason: str | None,
    commander: str | None,
    on_call: str | None,
    security_breach: bool,
    data_loss: bool,
    private: bool,
    allow_unknown: bool,
    incident_id: str | None,
    at_text: str | None,
    by: str | None,
    dry_run: bool,
    now_text: str | None,
    fmt: str,
) -> None:
    """Declare a new incident: classify it, file it, start its timeline."""
    repo: Repo = repo_from(ctx)
    now = current_now(now_text)
    at = parse_time(at_text, now, "--at")
    actor = actor_of(by, repo.root)
    policy = repo.policy()
    fields: dict[str, Any] = {
        "category": Category(category) if category else None,
        "services": _split(services),
        "components": _split(components),
        "detection": Detection(detection) if detection else None,
        "reporter": reporter or actor,
        "summary": summary,
        "user_impact": user_impact,
        "affected_users": affected_users,
        "security_breach": security_breach,
        "data_loss": data_loss,
        "public": not private,
    }
    if started_text:
        fields["started_at"] = parse_time(started_text, now, "--started-at")
    for option, who in (("--commander", commander), ("--on-call", on_call)):
        if who is not None and not is_handle(who):
            raise click.BadParameter(
                f"{who!r} is not a @user or an @org/team: the reminders mention it",
                param_hint=option,
            )
    if commander or on_call:
        fields["roles"] = Roles(incident_commander=commander, on_call=on_call)
    if incident_id is None:
        incident_id = new_id(at, repo.incidents.known_ids())
    incident = lifecycle.declare(
        policy=policy,
        incident_id=incident_id,
        title=title.strip(),
        impact=Level(impact.lower()),
        urgency=Level(urgency.lower()),
        at=at,
        now=now,
        by=actor,
        priority=Priority(priority.upper()) if priority else None,
        reason=reason,
        allow_unknown=allow_unknown,
        **fields,
    )
    lead = f"{summary.strip()}\n\n" if summary and summary.strip() else ""
    body = f"# {incident.title}\n\n{lead}## Notes\n\n"
    path, text = repo.create(incident, body, dry_run=dry_run)
    if dry_run:
        show_diff(repo.rel(path), "", text)
        return
    repo.policies.save_snapshot(policy)
    if fmt == "json":
        echo_json(
            {
                "id": incident.id,
                "path": repo.rel(path),
                "priority": incident.priority.value,
                "status": incident.status.value,
                "detected_at": incident.model_dump(mode="json")["detected_at"],
                "policy": incident.policy,
            }
        )
        return
    click.echo(incident.id)
    click.echo(
        f"  {incident.priority} ({impact} impact x {urgency} urgency), {repo.rel(path)}",
        err=True,
    )
    click.echo(f"  next: incidentctl ack {incident.id}", err=True)


def _simple(
    name: str,
    transition: Callable[..., Incident],
    help_text: str,
    *,
    text: tuple[str, str] | None = None,
) -> click.Command:
    """A command that takes an ID and optionally one free-text option (--note, --reason)."""
    example = f" --{text[0]} '...'" if text else " --at 2026-11-27T14:20:00Z --by @alice"

    @click.command(
        name,
        help=help_text,
        epilog=f"\b\nExamples:\n  incidentctl {name} INC-20261127-7K3Q\n"
        f"  incidentctl {name} INC-20261127-7K3Q{example}",
    )
    @click.argument("incident_id", metavar="ID")
    @write_options
    @click.pass_context
    def command(ctx: click.Context, /, incident_id: str, **kw: Any) -> None:
        _apply(ctx, incident_id, transition, **kw)

    if text is not None:
        command = click.option(f"--{text[0]}", text[0], help=text[1])(command)
    return command


ack = _simple("ack", lifecycle.acknowledge, "Acknowledge an incident (sets acknowledged_at).")
engage = _simple(
    "engage", lifecycle.engage, "A responder is engaged: investigation starts (INVESTIGATING)."
)
resolve = _simple(
    "resolve",
    lifecycle.resolve,
    "Service restored: RESOLVED (starts the PIR clock).",
    text=("note", "What resolved it."),
)
close = _simple(
    "close",
    lifecycle.close,
    "Close a RESOLVED incident after validation.",
    text=("note", "Why it can be closed."),
)
reopen = _simple(
    "reopen",
    lifecycle.reopen,
    "Reopen a RESOLVED incident (back to INVESTIGATING; the resolve clock restarts).",
    text=("reason", "Why it is not resolved after all."),
)


@click.command(
    epilog="""\b
Examples:
  incidentctl triage INC-20261127-7K3Q --impact medium --urgency high
  incidentctl triage INC-20261127-7K3Q --impact low --urgency low --priority P2 \\
      --reason "Affects our largest customer"
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--impact", required=True, type=LEVELS)
@click.option("--urgency", required=True, type=LEVELS)
@click.option("--priority", type=PRIORITIES, help="Only to disagree with the matrix.")
@click.option("--reason", help="Why --priority differs from the matrix.")
@click.option(
    "--security-breach", is_flag=True, help="Flag a security breach (private until released)."
)
@click.option("--data-loss", is_flag=True, help="Flag a data loss (private until released).")
@click.option("--services", metavar="A,B", help="The affected services, now (replaces them).")
@click.option("--components", metavar="A,B", help="The status-page components, now (replaces).")
@ALLOW_UNKNOWN
@write_options
@click.pass_context
def triage(
    ctx: click.Context,
    /,
    incident_id: str,
    impact: str,
    urgency: str,
    priority: str | None,
    reason: str | None,
    security_breach: bool,
    data_loss: bool,
    services: str | None,
    components: str | None,
    allow_unknown: bool,
    **kw: Any,
) -> None:
    """Assess impact and urgency; a later triage reclassifies."""
    _apply(
        ctx,
        incident_id,
        lifecycle.triage,
        with_policy=True,
        impact=Level(impact.lower()),
        urgency=Level(urgency.lower()),
        priority=Priority(priority.upper()) if priority else None,
        reason=reason,
        security_breach=security_breach,
        data_loss=data_loss,
        services=_split(services) if services is not None else None,
        components=_split(components) if components is not None else None,
        allow_unknown=allow_unknown,
        **kw,
    )


@click.command(
    epilog="""\b
Examples:
  incidentctl escalate INC-20261127-7K3Q --tier 2 --to @parcelly/payments
  incidentctl escalate INC-20261127-7K3Q --management
  incidentctl escalate INC-20261127-7K3Q --executive --reason "P0 unresolved after 2h"
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--tier", type=click.IntRange(2, 3), help="Functional escalation to tier 2 or 3.")
@click.option("--management", is_flag=True, help="Notify management (hierarchical).")
@click.option("--executive", is_flag=True, help="Notify executives (hierarchical).")
@click.option("--security", is_flag=True, help="Notify the security team.")
@click.option("--to", metavar="WHO", help="Who (default: the policy's contact for the level).")
@click.option("--reason", help="Why now.")
@write_options
@click.pass_context
def escalate(
    ctx: click.Context,
    /,
    incident_id: str,
    tier: int | None,
    management: bool,
    executive: bool,
    security: bool,
    to: str | None,
    reason: str | None,
    **kw: Any,
) -> None:
    """Escalate functionally (tier 2/3) or hierarchically (management/executive)."""
    chosen = [
        kind
        for flag, kind in (
            (tier == 2, EscalationKind.TIER_2),
            (tier == 3, EscalationKind.TIER_3),
            (management, EscalationKind.MANAGEMENT),
            (executive, EscalationKind.EXECUTIVE),
            (security, EscalationKind.SECURITY),
        )
        if flag
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --tier 2|3, --management, --executive, --security"
        )
    kind = chosen[0]
    _apply(
        ctx,
        incident_id,
        lifecycle.escalate,
        kind=kind,
        to=to,
        reason=reason,
        with_policy=True,
        **kw,
    )


@click.command(
    epilog="""\b
Examples:
  incidentctl update INC-20261127-7K3Q --message "Rolling back release 2026.11.27-3" \\
      --public --status identified
  incidentctl update INC-20261127-7K3Q --message "DB failover looked healthy"
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--message", "-m", required=True, help="The update text (markdown).")
@click.option("--public", is_flag=True, help="Publish it on the status page.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in PublicStatus]),
    help="Status-page status (default: implied by the lifecycle).",
)
@write_options
@click.pass_context
def update(
    ctx: click.Context,
    /,
    incident_id: str,
    message: str,
    public: bool,
    status: str | None,
    **kw: Any,
) -> None:
    """Post a status update: internal, or public on the status page."""
    _apply(
        ctx,
        incident_id,
        lifecycle.update,
        message=message,
        public=public,
        status=PublicStatus(status) if status else None,
        **kw,
    )


@click.command(
    epilog="""\b
Examples:
  incidentctl release INC-20261126-H3ZD --reason "Approved by legal; customers notified" \\
      --by @ebrooks
  incidentctl release INC-20261126-H3ZD --reason "..." --dry-run
A security breach or data loss is kept off the status page, and named only by a neutral
title on GitHub and in notifications, until it is released.
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--reason", required=True, help="Why it may be published now, and who agreed.")
@write_options
@click.pass_context
def release(ctx: click.Context, /, incident_id: str, reason: str, **kw: Any) -> None:
    """Release a security or data-loss incident for the status page (public: true)."""
    _apply(ctx, incident_id, lifecycle.release, reason=reason, **kw)


@click.command(
    epilog="""\b
Examples:
  incidentctl correct INC-20261127-7K3Q --field acknowledged_at --value 2026-11-27T15:02:00Z \\
      --reason "Paged at 15:02; the ack command ran late"
  incidentctl correct INC-20261127-7K3Q --event 2026-11-27T15:05:00Z --field text \\
      --value "Rolled back payments-api" --reason "The update named the wrong service"
  incidentctl correct INC-20261127-7K3Q --event 4 --field at --value 2026-11-27T15:04:00Z \\
      --reason "Acknowledged at 15:04 by phone"
The history is append-only: validate --base accepts exactly the change a correction names.
"""
)
@click.argument("incident_id", metavar="ID")
@click.option(
    "--field", required=True, help="The field to set right (of the incident, or of --event)."
)
@click.option("--value", required=True, help="The right value (null unsets it).")
@click.option("--reason", required=True, help="Why the recorded value was wrong.")
@click.option(
    "--event",
    "event_text",
    metavar="N|TS",
    help="The timeline event to correct: its number N (1 the first, as in `show`) or its `at`.",
)
@write_options
@click.pass_context
def correct(
    ctx: click.Context,
    /,
    incident_id: str,
    field: str,
    value: str,
    reason: str,
    event_text: str | None,
    **kw: Any,
) -> None:
    """Correct a recorded value, with a correction event naming the old and new value."""
    event: datetime | int | None = None
    if event_text and event_text.strip().isdigit():
        event = int(event_text)
    elif event_text:
        try:
            event = parse_timestamp(event_text)
        except TimeValueError as exc:
            raise click.BadParameter(
                f"{exc}; or give the event's number N (1 the first)", param_hint="--event"
            ) from None
    _apply(
        ctx, incident_id, lifecycle.correct, field=field, value=value, reason=reason,
        event=event, **kw,
    )  # fmt: skip


@click.command(
    epilog="""\b
Examples:
  incidentctl mitigate INC-20261127-7K3Q --strategy rollback --note "Back to 2026.11.27-2"
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--strategy", required=True, type=click.Choice([s.value for s in Strategy]))
@click.option("--note", help="What was deployed.")
@write_options
@click.pass_context
def mitigate(
    ctx: click.Context, /, incident_id: str, strategy: str, note: str | None, **kw: Any
) -> None:
    """A mitigation is deployed: MITIGATING (monitoring on the status page)."""
    _apply(ctx, incident_id, lifecycle.mitigate, strategy=Strategy(strategy), note=note, **kw)


@click.command(
    epilog="""\b
Examples:
  incidentctl regulatory INC-20261126-H3ZD --regime gdpr \\
      --message "Breach notified to the lead supervisory authority" --ref DPA-2026-4411
The regimes and their clocks (e.g. gdpr: 72h from detection) are in policies/sla.yaml.
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--regime", required=True, help="The regulatory clock, e.g. gdpr.")
@click.option("--message", "-m", required=True, help="What was filed, with whom.")
@click.option("--ref", help="The regulator's case or reference number.")
@write_options
@click.pass_context
def regulatory(
    ctx: click.Context,
    /,
    incident_id: str,
    regime: str,
    message: str,
    ref: str | None,
    **kw: Any,
) -> None:
    """Record that a regulator was notified (stops that regulatory clock)."""
    _apply(
        ctx,
        incident_id,
        lifecycle.regulatory_notice,
        regime=regime,
        message=message,
        ref=ref,
        with_policy=True,
        **kw,
    )


@click.command(
    epilog="""\b
Examples:
  incidentctl assign INC-20261127-7K3Q --commander @alice --on-call @bob
  incidentctl assign INC-20261127-7K3Q --tech-lead @carol --comms-lead @parcelly/support
Each role is a @user or an @org/team: the reminders of `overdue` name them.
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--commander", metavar="WHO", help="Incident commander (@user or @org/team).")
@click.option("--tech-lead", "tech_lead", metavar="WHO", help="Technical lead.")
@click.option("--comms-lead", "comms_lead", metavar="WHO", help="Communications lead.")
@click.option("--on-call", "on_call", metavar="WHO", help="On-call engineer.")
@write_options
@click.pass_context
def assign(
    ctx: click.Context,
    /,
    incident_id: str,
    commander: str | None,
    tech_lead: str | None,
    comms_lead: str | None,
    on_call: str | None,
    **kw: Any,
) -> None:
    """Assign incident roles: commander, technical lead, communications lead, on-call."""
    roles = {
        role: who.strip()
        for role, who in (
            ("incident_commander", commander),
            ("technical_lead", tech_lead),
            ("communications_lead", comms_lead),
            ("on_call", on_call),
        )
        if who is not None
    }
    if not roles:
        raise click.UsageError(
            "give at least one of --commander, --tech-lead, --comms-lead, --on-call"
        )
    _apply(ctx, incident_id, lifecycle.assign, roles=roles, **kw)


@click.command(
    epilog="""\b
Examples:
  incidentctl hypothesis INC-20261127-7K3Q --statement "The 14:02 deploy broke checkout" \\
      --evidence "502s start at 14:03" --test "Roll back in staging"
  incidentctl hypothesis INC-20261127-7K3Q --statement "The 14:02 deploy broke checkout" \\
      --result confirmed --evidence "Errors stop after the rollback"
A later call with --result on the same statement records its outcome (Tier 2 asks for it).
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--statement", required=True, help="What might be causing it.")
@click.option("--evidence", help="What points to it (or against it).")
@click.option("--test", help="How it is, or was, tested.")
@click.option(
    "--result",
    type=click.Choice(["confirmed", "rejected"], case_sensitive=False),
    help="The outcome; without it the hypothesis is pending.",
)
@write_options
@click.pass_context
def hypothesis(
    ctx: click.Context,
    /,
    incident_id: str,
    statement: str,
    evidence: str | None,
    test: str | None,
    result: str | None,
    **kw: Any,
) -> None:
    """Record a hypothesis (statement, evidence, test), or its outcome."""
    _apply(
        ctx,
        incident_id,
        lifecycle.hypothesis,
        statement=statement,
        evidence=evidence,
        test=test,
        result=HypothesisResult(result.lower()) if result else None,
        **kw,
    )


@click.command(
    epilog="""\b
Examples:
  incidentctl link INC-20261127-7K3Q --cause https://github.com/parcelly/shop/pull/812
  incidentctl link INC-20261127-7K3Q --fix 3f9c2ab --note "Revert the pool size change"
A ref is a commit SHA, #123, owner/repo#123 or a pull request, issue or commit URL. The PIR
lists the causes and fixes; metrics counts incidents with the same cause as recurrences.
"""
)
@click.argument("incident_id", metavar="ID")
@click.option("--cause", metavar="REF", help="The change that caused it.")
@click.option("--fix", metavar="REF", help="The change that fixed it.")
@click.option("--note", help="What the change did (default: 'Caused by REF' / 'Fixed by REF').")
@write_options
@click.pass_context
def link(
    ctx: click.Context,
    /,
    incident_id: str,
    cause: str | None,
    fix: str | None,
    note: str | None,
    **kw: Any,
) -> None:
    """Link the change that caused the incident, or the one that fixed it."""
    if (cause is None) == (fix is None):
        raise click.UsageError("give exactly one of --cause REF or --fix REF")
    kind, ref = (EventKind.CAUSE, cause) if cause is not None else (EventKind.FIX, fix)
    _apply(ctx, incident_id, lifecycle.link, kind=kind, ref=ref or "", note=note, **kw)


COMMANDS = [
    declare,
    triage,
    ack,
    engage,
    assign,
    escalate,
    hypothesis,
    link,
    update,
    release,
    correct,
    regulatory,
    mitigate,
    resolve,
    close,
    reopen,
]
