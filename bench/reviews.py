"""Post-incident reviews for a generated corpus: one pir.md per resolved P0/P1 (and some P2).

A review is a realistic, complete document of ~4 KB (front-matter with the 5 whys, the
fishbone, impact and three preventive actions; a body with every section), so `validate` and
`pir check` pay what they would on a real repository.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

_HEAD = re.compile(r"^(priority|status|resolved_at|detected_at): *(\S+)", re.MULTILINE)
_PIR = """---
incident: {id}
status: {status}
facilitator: "@alice"
date: {day}
attendees: ["@alice", "@bob", "@carol"]
approvers: {approvers}
approved_at: {approved_at}
root_cause: {key}
whys:
  - why: Why did {service} return errors to users?
    because: The {service} workers ran out of database connections under normal load.
  - why: Why did the workers run out of connections?
    because: A connection was not returned to the pool on the timeout path.
  - why: Why was the leak not caught in review?
    because: The timeout path had no test and the diff did not show the missing release.
  - why: Why did it reach production unnoticed?
    because: The canary ran at low traffic where the leak takes hours to show.
  - why: Why did monitoring not warn before exhaustion?
    because: Pool utilisation was not alerted on, only request errors.
contributing_factors:
  people: [none identified]
  process: [Canary stage too short to expose slow leaks]
  technology: [No alert on connection pool utilisation, Timeout path untested]
  environment: [Traffic 20% above the weekly baseline]
impact:
  affected_users: {users}
  affected_share: 12
  downtime_minutes: {minutes}
  degraded_minutes: 0
  failed_transactions: {failed}
  revenue: about ${revenue}k
  reputation: medium
  compliance: none
  slo_availability: 99.93
  error_budget_consumed: 41.5
  sla_breached: false
actions:
  - id: A1
    title: Release connections on the timeout path and add a regression test
    owner: "@example-org/payments"
    horizon: immediate
    due: {due1}
    status: done
    done_at: {due1}
  - id: A2
    title: Alert at 80% connection pool utilisation
    owner: "@example-org/sre"
    horizon: short-term
    due: {due2}
    status: {status2}
  - id: A3
    title: Run the canary for an hour at production traffic
    owner: "@example-org/platform"
    horizon: long-term
    due: {due3}
    status: open
---
# Post-Incident Review: {id}

## Executive Summary

{service} returned errors for {minutes} minutes because its workers exhausted their database
connections after a leak on the timeout path. Restarting the workers restored service; the
leak was fixed the next day.

## Timeline

| Time | Since detection | Event | Actor | Notes |
|------|-----------------|-------|-------|-------|
| {detected} | +0s | Incident declared | @alice | alert fired |
| {resolved} | resolved | Incident resolved | @bob | error rate at baseline |

## Technical Root Cause

The timeout branch of the query helper returned early without releasing its connection. Under
normal traffic the pool recovered through idle eviction; with traffic 20% above baseline the
leak outpaced eviction and the pool was exhausted within forty minutes.

## What Went Well

1. The alert fired within two minutes of the first errors.
2. The runbook's restart step restored service quickly.

## What Could Improve

1. Pool utilisation was visible on a dashboard but not alerted on.
2. The canary stage was too short to expose a slow leak.

## Lessons Learned

### Technical Lessons

- Every early return must release what it acquired; linters can check this.

### Process Lessons

- Canary duration should match the failure modes we expect, not a fixed ten minutes.

### Communication Lessons

- Stating what was not affected in the first update reduced support tickets.
"""


def add_reviews(out: Path, seed: int = 1) -> int:
    """Write pir.md beside every resolved P0/P1 incident and a third of resolved P2s."""
    rng = random.Random(seed)
    written = 0
    for path in sorted((out / "incidents").glob("*/*/*/incident.md")):
        head = dict(_HEAD.findall(path.read_text(encoding="utf-8")[:4096]))
        if head.get("status") not in ("resolved", "closed"):
            continue
        priority = head.get("priority")
        if priority not in ("P0", "P1") and not (priority == "P2" and rng.random() < 0.33):
            continue
        resolved = head.get("resolved_at", head["detected_at"])
        day = resolved[:10]
        year, month, date = (int(x) for x in day.split("-"))
        approved = head["status"] == "closed"
        text = _PIR.format(
            id=path.parent.name,
            status="approved" if approved else "draft",
            approvers='["@dana", "@erin"]' if approved else "[]",
            approved_at=f"{day}T18:00:00Z" if approved else "null",
            day=day,
            key=rng.choice(["connection-leak", "missing-config", "capacity-limit", "bad-deploy"]),
            service=rng.choice(["checkout-api", "auth-service", "tracking-api"]),
            users=rng.randint(100, 50_000),
            minutes=rng.randint(5, 240),
            failed=rng.randint(0, 20_000),
            revenue=rng.randint(1, 90),
            due1=day,
            due2=f"{year + (month == 12)}-{month % 12 + 1:02d}-{min(date, 28):02d}",
            status2=rng.choice(["done", "open", "in-progress"]),
            due3=f"{year + 1}-{month:02d}-{min(date, 28):02d}",
            detected=head["detected_at"],
            resolved=resolved,
        )
        (path.parent / "pir.md").write_text(text, encoding="utf-8")
        written += 1
    return written
