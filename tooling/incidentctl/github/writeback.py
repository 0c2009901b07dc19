"""`actions sync --write-back`: what the action issues say, recorded in the PIRs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentctl.store.actions import set_action_key
from incidentctl.store.repo import Repo

if TYPE_CHECKING:  # the GitHub operations import PyGithub: only the annotation is needed
    from incidentctl.github.sync import ReadBack


def write_back(repo: Repo, back: list[ReadBack], *, dry_run: bool) -> list[str]:
    """Record issue numbers and closures in the PIRs, as minimal edits."""
    out: list[str] = []
    by_pir: dict[str, list[ReadBack]] = {}
    for item in back:
        by_pir.setdefault(item.pir, []).append(item)
    for rel, items in by_pir.items():
        doc, pir = repo.pirs.load(repo.root / rel)
        for item in items:
            action = pir.actions[item.index]
            if action.issue != item.issue:
                doc.front = set_action_key(doc.front, item.index, "issue", item.issue)
            if item.done_at is not None:
                doc.front = set_action_key(doc.front, item.index, "status", item.status)
                doc.front = set_action_key(doc.front, item.index, "done_at", item.done_at)
            done = f", {item.status} {item.done_at}" if item.done_at else ""
            out.append(f"{rel}: {item.action} issue {item.issue}{done}")
        repo.pirs.write(doc, dry_run=dry_run)
    return out
