"""Edits keep the user's file: comments, order, quoting, body, BOM and CRLF survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentctl.core import lifecycle
from incidentctl.core.documents import parse
from incidentctl.core.model import Level, Strategy
from incidentctl.core.timevalues import parse_timestamp
from incidentctl.store.edits import append_item, set_key
from incidentctl.store.repo import Repo

HAND_WRITTEN = (
    """\
---
# Written by hand during the incident; keep my notes!
id: INC-20261127-AB12
title: "Checkout: 502 on /pay"   # quoted on purpose
status: detected
impact: high
urgency: high
priority: P0
services: [example-service]
detected_at: 2026-11-27T15:00:00Z
acknowledged_at:
summary: |
  Multi-line summary
  with two lines.
timeline:
    -   at: 2026-11-27T15:00:00Z   # odd indentation, still valid
        kind: declared
        text: 'first: event'
# closing comment
---
# Checkout: 502 on /pay

"""
    + "Body with **markdown**, trailing spaces   \nand no final newline"
)

T = parse_timestamp


def _write(repo: Path, text: str, *, encoding_prefix: bytes = b"", crlf: bool = False) -> Path:
    path = repo / "incidents/2026/11/INC-20261127-AB12/incident.md"
    path.parent.mkdir(parents=True)
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(encoding_prefix + data.encode("utf-8"))
    return path


def test_ack_changes_only_its_keys_and_appends_one_event(repo: Path) -> None:
    path = _write(repo, HAND_WRITTEN)
    store = Repo(repo)
    loaded = store.find("INC-20261127-AB12")
    updated = lifecycle.acknowledge(
        loaded.incident, at=T("2026-11-27T15:03:00Z"), now=T("2026-11-27T16:00:00Z"), by="@a"
    )
    store.save(loaded, updated)
    after = path.read_text(encoding="utf-8")
    expected = HAND_WRITTEN.replace(
        "acknowledged_at:\n", "acknowledged_at: 2026-11-27T15:03:00Z\n"
    ).replace(
        "        text: 'first: event'\n",
        "        text: 'first: event'\n"
        "    - at: 2026-11-27T15:03:00Z\n"
        "      kind: acknowledged\n"
        "      by: '@a'\n"
        "      text: Acknowledged\n",
    )
    assert after == expected


def test_bom_and_crlf_are_preserved_on_edit(repo: Path) -> None:
    path = _write(repo, HAND_WRITTEN, encoding_prefix=b"\xef\xbb\xbf", crlf=True)
    store = Repo(repo)
    loaded = store.find("INC-20261127-AB12")
    updated = lifecycle.mitigate(
        loaded.incident,
        strategy=Strategy.ROLLBACK,
        note="back to 1.2.3",
        at=T("2026-11-27T15:10:00Z"),
        now=T("2026-11-27T16:00:00Z"),
        by="@a",
    )
    store.save(loaded, updated)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf---\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.endswith(b"and no final newline")
    assert b"# Written by hand during the incident; keep my notes!\r\n" in raw
    assert b'title: "Checkout: 502 on /pay"   # quoted on purpose\r\n' in raw
    reloaded = Repo(repo).find("INC-20261127-AB12").incident
    assert reloaded.status.value == "mitigating"
    assert reloaded.mitigation is not None
    assert reloaded.mitigation.description == "back to 1.2.3"


def test_quoted_scalar_keeps_its_quotes() -> None:
    front = "title: 'Old title'  # note\nstatus: detected\n"
    assert set_key(front, "title", "New title") == "title: 'New title'  # note\nstatus: detected\n"


def test_set_key_adds_a_missing_key_at_the_end() -> None:
    assert set_key("a: 1\n", "b", "x") == "a: 1\nb: x\n"


def test_append_to_flow_list_stays_flow() -> None:
    assert append_item("tags: [a, b]  # keep\n", "tags", "c") == "tags: [a, b, c]  # keep\n"


def test_append_to_empty_list_becomes_block() -> None:
    out = append_item("timeline: []\nnext: 1\n", "timeline", {"at": "x", "kind": "note"})
    assert out == "timeline:\n  - at: x\n    kind: note\nnext: 1\n"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "key: value # not a comment",
        "multi\nline",
        "'quotes' and \"doubles\" and \\ backslash",
        "yes",
        "123",
        "2026-11-27",
        "emoji 🔥 and ünïcode",
        "- starts like a list",
    ],
)
def test_hostile_text_round_trips_verbatim(repo: Path, text: str) -> None:
    """Text fields are stored verbatim: escaping is the renderer's job."""
    _write(repo, HAND_WRITTEN)
    store = Repo(repo)
    loaded = store.find("INC-20261127-AB12")
    updated = lifecycle.update(
        loaded.incident,
        message=text,
        public=True,
        status=None,
        at=T("2026-11-27T15:05:00Z"),
        now=T("2026-11-27T16:00:00Z"),
        by="@a",
    )
    store.save(loaded, updated)
    assert Repo(repo).find("INC-20261127-AB12").incident.timeline[-1].text == text


def test_reclassify_rewrites_priority_in_place(repo: Path) -> None:
    path = _write(repo, HAND_WRITTEN)
    store = Repo(repo)
    loaded = store.find("INC-20261127-AB12")
    updated = lifecycle.triage(
        loaded.incident,
        policy=store.policy(),
        impact=Level.MEDIUM,
        urgency=Level.HIGH,
        at=T("2026-11-27T15:05:00Z"),
        now=T("2026-11-27T16:00:00Z"),
        by="@a",
    )
    store.save(loaded, updated)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[5:8] == ["impact: medium", "urgency: high", "priority: P1"]


def test_document_split_keeps_body_bytes(tmp_path: Path) -> None:
    doc = parse(tmp_path / "x.md", HAND_WRITTEN.encode())
    assert doc.text() == HAND_WRITTEN
