"""A preventive action finished: done, or cancelled with a reason (pure: the PIR as it is
now in, the keys to set out, which the store writes as minimal edits)."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import ActionStatus, Pir


def finish(
    pir: Pir,
    action_id: str,
    status: ActionStatus,
    *,
    on: date,
    by: str,
    reason: str | None,
) -> tuple[int, dict[str, Any]]:
    """(index of the action, the keys to set) to mark it `status` (done or cancelled) on
    day `on`. A finished action stays finished; a cancellation says why."""
    if not status.is_finished:
        raise ValueError(f"finish marks an action done or cancelled, not {status}")  # a bug
    ids = [a.id for a in pir.actions]
    matches = [i for i, a in enumerate(pir.actions) if a.id.casefold() == action_id.casefold()]
    if not matches:
        close = difflib.get_close_matches(action_id, ids, n=1)
        listed = ", ".join(ids) or "none yet"
        raise IncidentctlError(
            f"the PIR of {pir.incident} has no action {action_id!r} (actions: {listed})",
            hint=f"did you mean {close[0]}?"
            if close
            else f"add one with `incidentctl pir add-action {pir.incident}`",
        )
    index = matches[0]
    item = pir.actions[index]
    if item.status.is_finished:
        when = f" on {item.done_at.isoformat()}" if item.done_at else ""
        raise IncidentctlError(
            f"action {item.id} is already {item.status.value}{when}",
            hint="a finished action stays finished; add a new one with `incidentctl pir "
            f"add-action {pir.incident}` if more is needed",
        )
    note = reason.strip() if reason and reason.strip() else None
    if status == ActionStatus.CANCELLED and note is None:
        raise IncidentctlError(
            f"say why action {item.id} is cancelled", hint="--reason 'Superseded by A4'"
        )
    changes: dict[str, Any] = {"status": status.value}
    if status == ActionStatus.DONE:
        changes["done_at"] = on.isoformat()
    if note is not None:
        changes["reason"] = note
    changes["by"] = by
    return index, changes
