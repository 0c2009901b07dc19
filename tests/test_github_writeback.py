"""Minimal edits of one preventive action in a PIR's front-matter (writeback.py)."""

from __future__ import annotations

from datetime import date

import pytest

from incidentctl.store.actions import set_action_key

FRONT = """\
incident: INC-20261127-7K3Q  # the incident
actions:
  # immediate fixes first
  - id: A1
    title: "Refuse to start without PRICING_API_URL"   # keep this comment
    owner: '@alice'
    status: open
  - {id: A2, title: Alert on drift, status: open}
  - id: A3
    title: Runbook
    issue:
    notes:
      - first
root_cause: missing-production-config
"""


def test_replaces_a_value_in_place_and_keeps_everything_else() -> None:
    out = set_action_key(FRONT, 0, "status", "done")
    assert out == FRONT.replace("    status: open\n", "    status: done\n", 1)


def test_adds_a_missing_key_after_the_item_and_quotes_what_needs_it() -> None:
    out = set_action_key(FRONT, 0, "issue", "#12")
    assert out == FRONT.replace("    status: open\n", "    status: open\n    issue: '#12'\n", 1)
    out = set_action_key(out, 0, "done_at", date(2026, 11, 28))
    assert "    issue: '#12'\n    done_at: 2026-11-28\n  - {id: A2" in out


def test_flow_mappings_empty_values_and_nested_blocks() -> None:
    out = set_action_key(FRONT, 1, "issue", "#13")
    assert "  - {id: A2, title: Alert on drift, status: open, issue: '#13'}\n" in out
    out = set_action_key(FRONT, 2, "issue", "#14")
    assert "    issue: '#14'\n    notes:\n" in out
    out = set_action_key(FRONT, 2, "status", "done")
    assert "      - first\n    status: done\nroot_cause:" in out


def test_refuses_what_it_cannot_edit_minimally() -> None:
    with pytest.raises(ValueError, match=r"actions\[5\] is not a mapping"):
        set_action_key(FRONT, 5, "status", "done")
    with pytest.raises(ValueError, match=r"actions\[2\]\.notes is not a plain value"):
        set_action_key(FRONT, 2, "notes", "x")
