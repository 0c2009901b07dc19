"""Deterministic synthetic incident repository for the benchmarks.

    python bench/corpus.py --out /tmp/corpus --count 10000 [--open-share 0.02] [--seed 1]

Writes incidents/<YYYY>/<MM>/<ID>/incident.md (about 3.3 KB each, detections spread over the
three years ending at END), policies/components.yaml (the status-page components of the
services used), the matching policy snapshot, and a few runbooks. Every incident is valid for
model.Incident: priority from the policy's matrix, lifecycle timestamps in order, a sorted
timeline, the status consistent with the timestamps. About `open_share` of the incidents are
open (recent ones), a few more are resolved but not yet closed, the rest are closed.

Files are written with plain string formatting, not a YAML library, so ten thousand incidents
take seconds (mostly file-system time). The same seed gives byte-identical output.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from incidentctl.core.model import Level, Priority
from incidentctl.core.policy import Policy
from incidentctl.store.repo import Repo

END = 1_795_737_600  # 2026-11-27T00:00:00Z: nothing in the corpus happens later
YEARS = 3
MIN = 60
HOUR = 3600
DAY = 86400
RESOLVED_SHARE = 0.005  # resolved, waiting for the PIR and the close
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# service -> (label, component ids, runbook)
SERVICES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "api-gateway": ("API gateway", ("api",), "api-gateway-5xx"),
    "checkout-api": ("Checkout API", ("checkout",), "checkout-errors"),
    "tracking-service": ("Tracking service", ("tracking",), "tracking-backlog"),
    "notification-service": ("Notification service", ("notifications",), "notification-queue"),
    "auth-service": ("Auth service", ("login",), "auth-token-errors"),
    "postgres-main": ("Main Postgres cluster", ("checkout", "tracking"), "postgres-failover"),
    "search-api": ("Search API", ("search",), "search-degraded"),
    "inventory-service": ("Inventory service", ("checkout",), "checkout-errors"),
}
COMPONENTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("api", "Public API", "Core", ("api-gateway",)),
    ("checkout", "Checkout", "Shop", ("checkout-api", "inventory-service", "postgres-main")),
    ("tracking", "Shipment tracking", "Shop", ("tracking-service", "postgres-main")),
    ("notifications", "Email and SMS notifications", "Core", ("notification-service",)),
    ("login", "Login and accounts", "Core", ("auth-service",)),
    ("search", "Search", "Shop", ("search-api",)),
)
RUNBOOKS: dict[str, tuple[str, str, list[str]]] = {
    "api-gateway-5xx": ("API gateway 5xx errors", "@example-org/platform", ["api-gateway"]),
    "checkout-errors": (
        "Checkout failures",
        "@example-org/checkout",
        ["checkout-api", "inventory-service"],
    ),
    "tracking-backlog": ("Tracking event backlog", "@example-org/logistics", ["tracking-service"]),
    "notification-queue": (
        "Notification queue stuck",
        "@example-org/messaging",
        ["notification-service"],
    ),
    "auth-token-errors": ("Token validation errors", "@example-org/identity", ["auth-service"]),
    "postgres-failover": ("Postgres primary failover", "@example-org/dba", ["postgres-main"]),
    "search-degraded": ("Search degraded or empty", "@example-org/search", ["search-api"]),
}
PEOPLE = (
    "@alice", "@bob", "@carol", "@dmitri", "@erin", "@farah", "@gustavo", "@hana",
    "@ivan", "@julia", "@kofi", "@lena", "@mateo", "@nadia", "@oscar", "@priya",
)  # fmt: skip
TEAMS = {
    2: ("@example-org/sre", "@example-org/platform", "@example-org/dba"),
    3: ("@example-org/architects", "@example-org/platform"),
}
MANAGEMENT = "@example-org/engineering-managers"
EXECUTIVES = "@example-org/executives"
SECURITY = "@example-org/security"

TITLES = {
    "availability": (
        "{label} returning 5xx for most requests",
        "{label} unreachable from eu-west-1",
        "{label} pods crash-looping after deploy",
        "{label} down after certificate expiry",
    ),
    "performance": (
        "{label} p99 latency above 2s",
        "Slow responses from {label} during peak traffic",
        "{label} connection pool exhausted",
        "{label} CPU saturation and request queueing",
    ),
    "functionality": (
        "{label} rejects valid requests after config change",
        "Intermittent failures in {label} for mobile clients",
        "{label} returns stale results",
        "Feature flag rollout broke {label} for some tenants",
    ),
    "security": (
        "Suspicious token reuse against {label}",
        "Credentials for {label} exposed in a build log",
        "Unusual admin API traffic on {label}",
    ),
    "data-integrity": (
        "Duplicate records written by {label}",
        "{label} lost writes during failover",
        "Inconsistent totals reported by {label}",
    ),
}
CAUSES = (
    "a connection pool sized for the old instance type",
    "a config change that disabled request retries",
    "a schema migration holding a long lock",
    "an expired TLS certificate on an internal endpoint",
    "a memory leak introduced in the last release",
    "a dependency upgrade that changed timeout defaults",
    "a noisy neighbour saturating the shared cache",
    "a feature flag enabled for every tenant at once",
    "a runaway batch job competing for database connections",
    "DNS records pointing at a decommissioned load balancer",
)
HYPOTHESES = (
    ("Recent deploy introduced the regression", "error rate rose two minutes after the deploy"),
    ("Database is the bottleneck", "p99 query time tripled on the primary"),
    ("Upstream provider degradation", "provider status page reports elevated errors"),
    ("Traffic spike from a marketing campaign", "request rate is 3x the weekly baseline"),
    ("Cache eviction storm", "hit ratio dropped from 96% to 41%"),
)
STRATEGY_NOTES = {
    "rollback": "Rolled back to the previous release",
    "hotfix": "Deployed a hotfix with the corrected timeout",
    "config-change": "Reverted the configuration change",
    "workaround": "Routed traffic around the failing path",
    "scaling": "Scaled out the service and raised the pool size",
}
UPDATE_TEXT = {
    "investigating": "We are investigating {what}. Next update in {next} minutes.",
    "identified": "The cause is identified and a fix is in progress.",
    "monitoring": "A fix is deployed. We are monitoring the results.",
    "resolved": "This incident is resolved. We apologise for the disruption.",
}
NOTES = (
    "Paged the owning team and opened the incident channel.",
    "Dashboards show the error budget burning at 14x the sustainable rate.",
    "Support reports a growing number of tickets from affected customers.",
    "Checked recent changes in the deploy log and the config repository.",
    "Shifted part of the traffic to the secondary region to reduce pressure.",
    "Confirmed with the provider that no maintenance was scheduled.",
)
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ,.()/%+_'-]*[A-Za-z0-9).%]|[A-Za-z]")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}

# (impact, urgency) -> weight: roughly 3% P0, 12% P1, 35% P2, 50% P3.
_CLASSES = (
    (("high", "high"), 3),
    (("high", "medium"), 5),
    (("medium", "high"), 7),
    (("high", "low"), 5),
    (("medium", "medium"), 20),
    (("low", "high"), 10),
    (("medium", "low"), 22),
    (("low", "medium"), 16),
    (("low", "low"), 12),
)
_CATEGORIES = (
    ("availability", 30),
    ("performance", 30),
    ("functionality", 30),
    ("security", 4),
    ("data-integrity", 6),
)
_DETECTIONS = (("automated-alert", 55), ("monitoring", 20), ("user-report", 20), ("manual", 5))
_STRATEGIES = ("rollback", "hotfix", "config-change", "workaround", "scaling")
_LIFECYCLE = (  # after started_at and detected_at, in the model's field order
    "acknowledged_at",
    "triaged_at",
    "engaged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)
_OPEN_STATUSES = (("detected", 10), ("triaged", 20), ("investigating", 40), ("mitigating", 30))


@functools.lru_cache(maxsize=4096)
def q(value: str) -> str:
    """A YAML scalar: plain when unambiguous, else double-quoted (JSON is valid YAML)."""
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def ts(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


@dataclass
class _Event:
    at: int
    kind: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # rendered YAML values


@dataclass
class _Plan:
    """One incident as offsets from detection (seconds), before it is placed in time."""

    impact: str
    urgency: str
    priority: str
    started: int | None
    lifecycle: dict[str, int | None]
    events: list[_Event]
    escalations: list[tuple[int, str, str, str, str]]  # at, kind, to, by, reason
    mitigation: tuple[str, str, int] | None
    tier: int
    cause: str
    override: tuple[str, str] | None  # priority, reason
    breach: bool
    data_loss: bool
    on_call: str
    commander: str


def _scale(priority: str) -> float:
    return {"P0": 1.0, "P1": 1.8, "P2": 6.0, "P3": 20.0}[priority]


def _plan(
    rng: random.Random, policy: Policy, status: str, category: str, what: str, public: bool
) -> _Plan:
    """Lifecycle and timeline, relative to detection at 0; truncated at `status`."""
    impact, urgency = rng.choices([c for c, _ in _CLASSES], weights=[w for _, w in _CLASSES])[0]
    if category in ("security", "data-integrity") and rng.random() < 0.5:
        impact = "high"
    priority = policy.priority_for(Level(impact), Level(urgency)).value
    override: tuple[str, str] | None = None
    if rng.random() < 0.01:
        bumped = Priority(f"P{max(0, int(priority[1]) - 1)}").value
        if bumped != priority:
            override = (bumped, "Largest customer affected, contractual SLA at risk")
            priority = bumped
    k = _scale(priority)
    by = rng.choice(PEOPLE)  # the on-call engineer who declared it
    commander = rng.choice(PEOPLE)
    # Triage sometimes corrects the priority given at declaration.
    declared_as = priority if rng.random() < 0.85 else rng.choice(("P0", "P1", "P2", "P3"))
    if status == "detected":  # not triaged yet: the declared priority stands
        declared_as = priority

    started = None if rng.random() < 0.05 else -int(rng.expovariate(1 / 150) * (k**0.5))
    ack = int(rng.uniform(0, 4 * MIN) * k)
    triaged = int(rng.uniform(1 * MIN, 14 * MIN) * (k**0.5))
    engaged = max(ack, triaged) + int(rng.uniform(1 * MIN, 12 * MIN) * k)
    has_mitigation = priority != "P3" or status == "mitigating" or rng.random() < 0.4
    mitigated = engaged + int(rng.uniform(10 * MIN, 70 * MIN) * k) if has_mitigation else None
    resolved = (mitigated or engaged) + int(rng.uniform(5 * MIN, 90 * MIN) * k)
    closed = resolved + int(rng.uniform(4 * HOUR, 3 * DAY))
    cause_at = engaged + int(((mitigated or resolved) - engaged) * rng.uniform(0.4, 0.8))

    ev: list[_Event] = []
    ev.append(
        _Event(0, "declared", [
            ("by", q(by)), ("text", q(f"Declared {declared_as}: {what}")),
            ("priority", declared_as),
        ])
    )  # fmt: skip
    ev.append(_Event(ack, "acknowledged", [("by", q(by)), ("text", "Acknowledged")]))
    text = f"Impact {impact}, urgency {urgency}: {priority}"
    if override:
        text = f"Impact {impact}, urgency {urgency}: {override[0]} (override)"
    elif declared_as != priority:
        text += f" (was {declared_as})"
    ev.append(
        _Event(
            triaged, "triaged", [("by", q(commander)), ("text", q(text)), ("priority", priority)]
        )
    )
    ev.append(_Event(engaged, "engaged", [("by", q(commander)), ("text", "Responder engaged")]))
    for n, (statement, evidence) in enumerate(
        rng.sample(HYPOTHESES, 1 if rng.random() < 0.8 else 2)
    ):
        at = engaged + int((cause_at - engaged) * (n + 1) / 3)
        result = "confirmed" if n == 1 or rng.random() < 0.3 else "rejected"
        ev.append(
            _Event(at, "hypothesis", [
                ("by", q(commander)), ("text", q(statement)), ("evidence", q(evidence)),
                ("test", q("Compare error rate with change times")),
                ("result", result),
            ])
        )  # fmt: skip
    cause = rng.choice(CAUSES)
    sha = f"{rng.getrandbits(160):040x}"
    ev.append(
        _Event(cause_at, "cause", [
            ("by", q(commander)), ("text", q(f"Root cause: {cause}")), ("ref", sha),
        ])
    )  # fmt: skip
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        at = int(rng.uniform(triaged, resolved))
        ev.append(
            _Event(at, "note", [("by", q(rng.choice(PEOPLE))), ("text", q(rng.choice(NOTES)))])
        )

    escalations: list[tuple[int, str, str, str, str]] = []
    p_tier2 = {"P0": 0.5, "P1": 0.35, "P2": 0.2, "P3": 0.05}[priority]
    if rng.random() < p_tier2:
        at2 = engaged + int(rng.uniform(5 * MIN, 30 * MIN) * k)
        escalations.append((at2, "tier-2", rng.choice(TEAMS[2]), commander, "needs specialists"))
        if rng.random() < 0.3:
            at3 = at2 + int(rng.uniform(10 * MIN, 60 * MIN) * k)
            escalations.append((at3, "tier-3", rng.choice(TEAMS[3]), commander, "design issue"))
    if priority == "P0":
        at = int(rng.uniform(5 * MIN, 30 * MIN))
        escalations.append((at, "management", MANAGEMENT, commander, "P0 declared"))
        if resolved > 2 * HOUR:
            escalations.append((2 * HOUR, "executive", EXECUTIVES, commander, "P0 unresolved 2h"))
    elif priority == "P1" and resolved > 2 * HOUR:
        escalations.append((2 * HOUR, "management", MANAGEMENT, commander, "P1 unresolved 2h"))
    breach = category == "security" and impact == "high" and rng.random() < 0.5
    data_loss = category == "data-integrity" and impact == "high" and rng.random() < 0.3
    if breach or data_loss:
        at = int(rng.uniform(1 * MIN, 10 * MIN))
        reason = "possible breach" if breach else "data loss"
        escalations.append((at, "security", SECURITY, commander, reason))
        escalations = [e for e in escalations if e[1] != "executive"]
        escalations.append((at, "executive", EXECUTIVES, commander, reason))
    escalations = [e for e in escalations if e[0] < resolved]
    escalations.sort(key=lambda e: e[0])
    tier_of = {"tier-2": 2, "tier-3": 3}
    for at, kind, to, who, reason in escalations:
        fields = [("by", q(who)), ("text", q(f"Escalated ({kind}) to {to}: {reason}"))]
        if kind in tier_of:
            fields.append(("tier", str(tier_of[kind])))
        fields.append(("to", q(to)))
        ev.append(_Event(at, "escalated", fields))

    mitigation: tuple[str, str, int] | None = None
    if mitigated is not None:
        strategy = rng.choice(_STRATEGIES)
        note = STRATEGY_NOTES[strategy]
        mitigation = (strategy, note, mitigated)
        if priority in ("P0", "P1"):
            ev.append(
                _Event(engaged + (mitigated - engaged) * 9 // 10, "decision", [
                    ("by", q(commander)), ("text", q(f"Chose {strategy}: fastest safe option")),
                    ("strategy", strategy),
                ])
            )  # fmt: skip
        ev.append(
            _Event(mitigated, "mitigated", [
                ("by", q(commander)), ("text", q(f"Mitigation deployed ({strategy}): {note}")),
                ("strategy", strategy),
            ])
        )  # fmt: skip
        if rng.random() < 0.5:
            ev.append(
                _Event(resolved - 60, "fix", [
                    ("by", q(rng.choice(PEOPLE))), ("text", "Permanent fix merged"),
                    ("ref", f"example-org/shop#{rng.randint(1000, 9999)}"),
                ])
            )  # fmt: skip
    ev.append(_Event(resolved, "resolved", [("by", q(commander)), ("text", "Resolved")]))
    ev.append(_Event(closed, "closed", [("by", q(commander)), ("text", "Closed after review")]))

    if public and priority in ("P0", "P1", "P2"):
        every = {"P0": 15 * MIN, "P1": 30 * MIN, "P2": 4 * HOUR}[priority]
        at = int(rng.uniform(5 * MIN, 25 * MIN))
        count = 0
        while at < resolved and count < 4:
            phase = "investigating"
            if mitigated is not None and at >= mitigated:
                phase = "monitoring"
            elif at >= cause_at:
                phase = "identified"
            ev.append(_update(phase, at, commander, what, every))
            at += every + int(rng.uniform(-2 * MIN, 5 * MIN))
            count += 1
        ev.append(_update("resolved", resolved + int(rng.uniform(1, 10) * MIN), commander, what, 0))

    lifecycle: dict[str, int | None] = {
        "triaged_at": triaged,
        "acknowledged_at": ack,
        "engaged_at": engaged,
        "mitigated_at": mitigated,
        "resolved_at": resolved,
        "closed_at": closed,
    }
    cut = _cut(status, lifecycle, rng)
    ev = [e for e in ev if e.at <= cut]
    escalations = [e for e in escalations if e[0] <= cut]
    for key, value in lifecycle.items():
        if value is not None and value > cut:
            lifecycle[key] = None
    if lifecycle["mitigated_at"] is None:
        mitigation = None
    return _Plan(
        impact=impact,
        urgency=urgency,
        priority=priority,
        started=started,
        lifecycle=lifecycle,
        events=ev,
        escalations=escalations,
        mitigation=mitigation,
        tier=max([1] + [tier_of[e[1]] for e in escalations if e[1] in tier_of]),
        cause=cause,
        override=override,
        breach=breach,
        data_loss=data_loss,
        on_call=by,
        commander=commander,
    )


def _cut(status: str, lifecycle: dict[str, int | None], rng: random.Random) -> int:
    """The last moment (offset) an incident in `status` has reached."""
    ack, triaged = lifecycle["acknowledged_at"] or 0, lifecycle["triaged_at"] or 0
    engaged = lifecycle["engaged_at"] or 0
    if status == "detected":  # maybe acknowledged, not yet triaged
        return min(ack, triaged - 1) if rng.random() < 0.5 else 0
    if status == "triaged":
        return min(max(ack, triaged), engaged - 1)
    if status == "investigating":
        end = lifecycle["mitigated_at"] or lifecycle["resolved_at"] or engaged
        return engaged + (end - engaged) // 2
    if status == "mitigating":
        mitigated = lifecycle["mitigated_at"] or engaged
        resolved = lifecycle["resolved_at"] or mitigated
        return mitigated + max(0, (resolved - mitigated) // 2)
    if status == "resolved":
        return (lifecycle["resolved_at"] or 0) + 15 * MIN
    return lifecycle["closed_at"] or 0


def _update(phase: str, at: int, by: str, what: str, every: int) -> _Event:
    what = what[:1].lower() + what[1:] if what[1:2].islower() else what
    text = UPDATE_TEXT[phase].format(what=what, next=max(15, every // MIN) if every else 0)
    return _Event(at, "update", [
        ("by", q(by)), ("text", q(text)), ("public", "true"), ("status", phase),
    ])  # fmt: skip


def _body(rng: random.Random, label: str, cause: str | None, service: str) -> str:
    lines = [
        "",
        "## Summary",
        "",
        f"Responders traced it to {cause}." if cause else "The cause is under investigation.",
        "",
        "## Customer impact",
        "",
        f"Customers using {label} saw errors or slow pages while the incident lasted.",
        "",
        "## Notes",
        "",
        f"- {rng.choice(NOTES)}",
        "",
        "## Links",
        "",
        f"- Dashboard: https://grafana.example.com/d/{service}",
        f"- Runbook: ../../../../runbooks/{SERVICES[service][2]}.md",
        "",
    ]
    return "\n".join(lines)


def _detection(rng: random.Random, status: str, priority: str, span: int) -> int:
    """When it was detected: closed ones spread over the years, open ones recent."""
    if status == "closed":
        detected = END - rng.randrange(YEARS * 365 * DAY)
    elif status == "resolved":
        detected = END - rng.randrange(1 * DAY, 6 * DAY)
    else:  # an open P0 is hours old; an open P3 may wait in the backlog for weeks
        recent = {"P0": 6 * HOUR, "P1": 1 * DAY, "P2": 4 * DAY, "P3": 30 * DAY}[priority]
        detected = END - rng.randrange(recent)
    return min(detected, END - span - rng.randrange(1, 30) * MIN)


def _incident_text(
    rng: random.Random, policy: Policy, status: str, digest: str
) -> tuple[str, str, int]:
    """(ID, file text, detection epoch) for one incident in `status`."""
    service = rng.choice(list(SERVICES))
    label = SERVICES[service][0]
    extra = [s for s in SERVICES if s != service and rng.random() < 0.08]
    services = [service, *extra]
    category = _pick(rng, _CATEGORIES)
    title = rng.choice(TITLES[category]).format(label=label)
    public = category not in ("security",) and rng.random() < 0.8
    plan = _plan(rng, policy, status, category, title, public)
    override = plan.override
    cause = plan.cause if any(e.kind == "cause" for e in plan.events) else None
    detected = _detection(rng, status, plan.priority, max(e.at for e in plan.events))
    ident = f"INC-{time.strftime('%Y%m%d', time.gmtime(detected))}-" + "".join(
        rng.choice(_ID_ALPHABET) for _ in range(4)
    )
    breach, data_loss = plan.breach, plan.data_loss
    public = public and not (breach or data_loss)  # private until released
    users = rng.choice((12, 40, 150, 900, 2500, 18000, 120000))
    comps = sorted({c for s in services for c in SERVICES[s][1]})
    runbooks = sorted({SERVICES[s][2] for s in services})

    out: list[str] = [
        "---",
        f"id: {ident}",
        f"title: {q(title)}",
        f"summary: {q(f'{title}; root cause: {cause}.' if cause else title)}",
        f"status: {status}",
        f"impact: {plan.impact}",
        f"urgency: {plan.urgency}",
        f"priority: {plan.priority}",
    ]
    if override:
        out += [
            "priority_override:",
            f"  priority: {override[0]}",
            f"  reason: {q(override[1])}",
            f"  by: {q(plan.commander)}",
        ]
    detection = _pick(rng, _DETECTIONS)
    reporter = "@example-org/support" if detection == "user-report" else plan.on_call
    out += [
        f"category: {category}",
        f"detection: {detection}",
        f"reporter: {q(reporter)}",
        f"user_impact: {q(f'{label} errors for about {users} users')}",
        "services:",
        *(f"  - {s}" for s in services),
        "components:",
        *(f"  - {c}" for c in comps),
        f"affected_users: {users}",
    ]
    if plan.priority != "P3":  # nobody estimates the business impact of a P3
        out += [
            "business_impact:",
            f"  revenue: {q(rng.choice(('none', '$2k/h', '$12k/h', '$40k/h')))}",
            f"  compliance_risk: {'true' if breach or data_loss else 'false'}",
            f"  reputation_risk: {rng.choice(('none', 'low', 'medium', 'high'))}",
            "  safety_risk: false",
        ]
    out += [
        f"security_breach: {'true' if breach else 'false'}",
        f"data_loss: {'true' if data_loss else 'false'}",
        f"public: {'true' if public else 'false'}",
        "roles:",
        f"  incident_commander: {q(plan.commander)}",
        f"  technical_lead: {q(rng.choice(PEOPLE))}",
        f"  communications_lead: {q(rng.choice(PEOPLE)) if public else 'null'}",
        f"  on_call: {q(plan.on_call)}",
        f"tier: {plan.tier}",
        f"started_at: {'null' if plan.started is None else ts(detected + plan.started)}",
        f"detected_at: {ts(detected)}",
    ]
    for key in _LIFECYCLE:
        value = plan.lifecycle[key]
        out.append(f"{key}: {'null' if value is None else ts(detected + value)}")
    if plan.escalations:
        out.append("escalations:")
        for at, kind, to, who, reason in plan.escalations:
            out += [
                f"  - at: {ts(detected + at)}",
                f"    kind: {kind}",
                f"    to: {q(to)}",
                f"    by: {q(who)}",
                f"    reason: {q(reason)}",
            ]
    else:
        out.append("escalations: []")
    if plan.mitigation:
        strategy, note, at = plan.mitigation
        out += [
            "mitigation:",
            f"  strategy: {strategy}",
            f"  description: {q(note)}",
            f"  at: {ts(detected + at)}",
        ]
    out += ["runbooks:", *(f"  - {r}" for r in runbooks), f"policy: {q(digest)}", "timeline:"]
    for event in sorted(plan.events, key=lambda e: e.at):
        out.append(f"  - at: {ts(detected + event.at)}")
        out.append(f"    kind: {event.kind}")
        out.extend(f"    {key}: {value}" for key, value in event.fields)
    out.append("---")
    return ident, "\n".join(out) + "\n" + _body(rng, label, cause, service), detected


def _statuses(rng: random.Random, count: int, open_share: float) -> list[str]:
    statuses = ["closed"] * count
    n_open = round(count * open_share)
    n_resolved = round(count * RESOLVED_SHARE)
    chosen = rng.sample(range(count), min(count, n_open + n_resolved))
    for n, index in enumerate(chosen):
        statuses[index] = _pick(rng, _OPEN_STATUSES) if n < n_open else "resolved"
    return statuses


def _write_support(out: Path) -> None:
    (out / "incidents").mkdir(parents=True, exist_ok=True)
    (out / "policies").mkdir(parents=True, exist_ok=True)
    (out / "runbooks").mkdir(parents=True, exist_ok=True)
    lines = ["# Status-page components and the services that affect them.", "components:"]
    for ident, name, group, services in COMPONENTS:
        lines += [
            f"  - id: {ident}",
            f"    name: {q(name)}",
            f"    group: {group}",
            f"    services: [{', '.join(services)}]",
        ]
    (out / "policies" / "components.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for n, (name, (title, owner, covers)) in enumerate(sorted(RUNBOOKS.items())):
        tested = time.strftime("%Y-%m-%d", time.gmtime(END - (7 + 9 * n) * DAY))
        text = (
            "---\n"
            f"title: {q(title)}\n"
            f"owner: {q(owner)}\n"
            "services:\n" + "".join(f"  - {s}\n" for s in covers) + f"last_tested: {tested}\n"
            "symptoms:\n"
            f"  - {q(f'Alert {name} firing')}\n"
            "  - Error rate above the SLO burn threshold\n"
            "---\n\n"
            f"# {title}\n\n"
            "## Symptoms\n\n"
            f"- Alert {name} fires; the error rate is above the SLO burn threshold.\n\n"
            "## Diagnosis\n\n"
            "1. Open the service dashboard and confirm the symptom.\n"
            "2. Check the deploy log for a release in the last hour.\n\n"
            "## Mitigation\n\n"
            "1. Roll back a matching release.\n"
            "2. If the database is saturated, follow postgres-failover.\n\n"
            "## Escalation\n\n"
            "Escalate to tier 2 if not mitigated in 15 minutes; post a status update.\n\n"
            "## Prevention\n\n"
            "Alert on saturation before errors; canary every release.\n"
        )
        (out / "runbooks" / f"{name}.md").write_text(text, encoding="utf-8")


def generate(out: Path, count: int, open_share: float = 0.02, seed: int = 1) -> None:
    """Write a repository of `count` incidents into `out` (created if missing)."""
    if not 0 <= open_share <= 1:
        raise ValueError(f"open_share must be between 0 and 1, got {open_share}")
    _write_support(out)
    repo = Repo(out)
    policy = repo.policy()
    repo.policies.save_snapshot(policy)
    digest = policy.digest()
    rng = random.Random(seed)
    seen: set[str] = set()
    made: set[Path] = set()
    for status in _statuses(rng, count, open_share):
        ident, text, at = _incident_text(rng, policy, status, digest)
        while ident in seen:  # 32^4 suffixes a day: rare, but IDs must be unique
            ident = ident[:-4] + "".join(rng.choice(_ID_ALPHABET) for _ in range(4))
            text = re.sub(r"^id: .*$", f"id: {ident}", text, count=1, flags=re.MULTILINE)
        seen.add(ident)
        folder = out / "incidents" / time.strftime("%Y/%m", time.gmtime(at)) / ident
        if folder.parent not in made:
            folder.parent.mkdir(parents=True, exist_ok=True)
            made.add(folder.parent)
        folder.mkdir()
        (folder / "incident.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="repository folder to create")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--open-share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if (args.out / "incidents").exists() and any((args.out / "incidents").iterdir()):
        parser.error(f"{args.out}/incidents/ is not empty; choose a new --out")
    start = time.perf_counter()
    generate(args.out, args.count, open_share=args.open_share, seed=args.seed)
    elapsed = time.perf_counter() - start
    print(f"wrote {args.count} incidents to {args.out} in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
