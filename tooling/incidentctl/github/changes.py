"""What a pull request changed: the incidents whose incident.md or pir.md differ from its
base, each with the summary the PR comment shows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from incidentctl.core.documents import Loaded
from incidentctl.core.errors import DocumentError, DocumentErrors
from incidentctl.deadlines import timers
from incidentctl.github.summary import Changed
from incidentctl.store import git
from incidentctl.store.incidents import INCIDENT_FILE
from incidentctl.store.pirs import PIR_FILE
from incidentctl.store.repo import Repo
from incidentctl.store.reviews import Approvals, Warn, review_state
from incidentctl.store.validation import check_pir_file


def _bytes(repo: Repo, path: Path) -> bytes | None:
    """A PIR's bytes, or None when it is not a regular file (its findings say why)."""
    try:
        return repo.source.raw(path)
    except DocumentError:
        return None


def changed_incidents(repo: Repo, base: str, now: datetime, warn: Warn) -> list[Changed]:
    """The incidents whose incident.md or pir.md differ from `base`, with their summary;
    unreadable incidents are told to `warn` and skipped."""
    before = git.files_at(repo.root, base, "incidents", INCIDENT_FILE)
    before_pirs = git.files_at(repo.root, base, "incidents", PIR_FILE)
    approvals = Approvals(repo.root, warn)
    by_folder: dict[str, Loaded | None] = {}
    readable: list[Loaded] = []
    for item in repo.scan():
        if isinstance(item, DocumentErrors):
            warn(f"skipped: {item.errors[0].render()}")
        else:
            readable.append(item)
    out: list[Changed] = []
    for loaded in readable:
        rel = str(loaded.path)
        pir_file = repo.pirs.path(loaded)
        pir_rel = repo.rel(pir_file)
        text = repo.source.raw(repo.root / rel)
        pir_changed = pir_file.is_file() and before_pirs.get(pir_rel) != _bytes(repo, pir_file)
        if before.get(rel) == text and not pir_changed:
            continue
        incident = loaded.incident
        policy = repo.policy_for(incident)
        pir = review_state(repo, loaded, warn, approvals)
        schedule = timers.schedule(incident, policy, now, pir=pir)
        overdue = [
            f
            for f in timers.findings(
                [timers.Subject(incident, policy, pir)], [], policy, now, include_due_soon=False
            )
            if f.incident == incident.id and f.rule != "major-incident"
        ]
        pir_findings = check_pir_file(repo, pir_file, by_folder)[0] if pir_file.is_file() else []
        out.append(
            Changed(
                incident=incident,
                path=rel,
                policy=policy,
                new=rel not in before,
                schedule=schedule,
                overdue=overdue,
                pir_path=pir_rel if pir_file.is_file() else None,
                pir_findings=pir_findings,
            )
        )
    return out
