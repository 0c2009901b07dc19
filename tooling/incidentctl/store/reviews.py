"""PIRs as the timers and metrics see them: read loosely, approved when git says so.

An approved PIR without a recorded `approved_at` (the normal case: approval is a reviewed PR)
was approved when the commit that set `status: approved` landed; one `git log` answers that
for every PIR, and only when some PIR needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.core.policy import Policy
from incidentctl.deadlines import timers
from incidentctl.store import git as vcs
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo

Warn = Callable[[str], None]  # told what a reader should know (the CLI prints it on stderr)


class Approvals:
    """When each PIR was approved, from git: read once, and only if a PIR needs it."""

    def __init__(self, root: Path, warn: Warn) -> None:
        self.root = root
        self.warn = warn
        self._times: dict[str, datetime] | None = None

    def at(self, rel: str) -> datetime | None:
        if self._times is None:
            self._times = vcs.approval_times(self.root, "incidents", PIR_FILE)
            if vcs.is_shallow(self.root):
                self.warn(
                    "warning: shallow git clone: PIR approval times may be wrong "
                    "(check out with fetch-depth: 0)"
                )
        return self._times.get(rel)


def review_state(
    repo: Repo, loaded: Loaded, warn: Warn, approvals: Approvals | None = None
) -> timers.PirState | None:
    """The PIR beside incident.md, read loosely (None when there is none); its approval
    time from `approvals` when the file records none. A PIR that cannot be read is told
    to `warn` and counts as not approved."""
    try:
        data = repo.pirs.front(loaded)
    except DocumentError as exc:
        warn(f"warning: PIR counted as not approved: {exc.render()}")
        return timers.PirState()
    if data is None:
        return None
    pir = timers.pir_from_front(data)
    if pir.approved and pir.approved_at is None and approvals is not None:
        pir = replace(pir, approved_at=approvals.at(repo.rel(repo.pirs.path(loaded))))
    return pir


def judged(repo: Repo, warn: Warn) -> Iterator[tuple[Loaded, Policy, timers.PirState | None]]:
    """Every readable incident with the policy it was declared under and its PIR (approval
    time from git); unreadable files are told to `warn` and skipped."""
    policies: dict[str | None, Policy] = {}  # one lookup per policy digest, not per incident
    approvals = Approvals(repo.root, warn)
    for item in repo.scan():
        if isinstance(item, DocumentErrors):
            warn(f"skipped: {item.errors[0].render()}")
            continue
        incident = item.incident
        if incident.policy not in policies:
            policies[incident.policy] = repo.policy_for(incident)
        yield item, policies[incident.policy], review_state(repo, item, warn, approvals)
