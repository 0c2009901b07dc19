"""`actions sync --write-back`: what the action issues say, recorded in the PIRs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from incidentctl.core.documents import Document
from incidentctl.core.model import Pir
from incidentctl.store.actions import set_action_key
from incidentctl.store.repo import Repo

if TYPE_CHECKING:  # the GitHub operations import PyGithub: only the annotation is needed
    from incidentctl.github.sync import ReadBack


def write_back(repo: Repo, back: list[ReadBack], *, dry_run: bool) -> list[str]:
    """Record issue numbers and closures in the PIRs, as minimal edits: each PIR read again
    under its lock and changed as it is now, so an edit made meanwhile is kept."""
    out: list[str] = []
    by_pir: dict[str, list[ReadBack]] = {}
    for item in back:
        by_pir.setdefault(item.pir, []).append(item)
    for rel, items in by_pir.items():
        lines: list[str] = []
        repo.pirs.edit_front(repo.root / rel, _recorder(rel, items, lines), dry_run=dry_run)
        out.extend(lines)
    return out


def _recorder(rel: str, items: list[ReadBack], lines: list[str]) -> Callable[[Document, Pir], str]:
    def record(doc: Document, pir: Pir) -> str:
        front = doc.front
        for item in items:
            index = _position(pir, item)
            if index is None:
                lines.append(f"{rel}: {item.action} is no longer in the PIR; not recorded")
                continue
            action = pir.actions[index]
            if action.issue != item.issue:
                front = set_action_key(front, index, "issue", item.issue)
            done = ""
            if item.done_at is not None and not action.status.is_finished:
                front = set_action_key(front, index, "status", item.status)
                front = set_action_key(front, index, "done_at", item.done_at)
                done = f", {item.status} {item.done_at}"
            lines.append(f"{rel}: {item.action} issue {item.issue}{done}")
        return front

    return record


def _position(pir: Pir, item: ReadBack) -> int | None:
    """Where the action is in the PIR now (by its ID: the list may have changed since)."""
    actions = pir.actions
    if item.index < len(actions) and actions[item.index].id == item.action:
        return item.index
    return next((i for i, a in enumerate(actions) if a.id == item.action), None)
