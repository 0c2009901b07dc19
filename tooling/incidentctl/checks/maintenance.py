"""Validation rules for scheduled maintenances (maintenances/<ID>.md), each finding located.

Pure: takes the parsed documents (or their load errors) and the policy; no I/O, no clock.
Schema problems come from the model (read by store/maintenances.py); this module adds the
rules a schema cannot say: the window's order, known components, the ID matching its file name,
and unique IDs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import PurePosixPath

from incidentctl.checks.incidents import Finding, findings_from
from incidentctl.core.documents import Document
from incidentctl.core.errors import DocumentErrors
from incidentctl.core.model import Maintenance
from incidentctl.core.policy import Policy


def check_maintenance(doc: Document, item: Maintenance, component_ids: set[str]) -> list[Finding]:
    """The rules for one maintenance file."""
    path = str(doc.path)
    found: list[Finding] = []
    if item.scheduled_until <= item.scheduled_for:
        found.append(
            Finding.at(
                doc,
                "chronology",
                ("scheduled_until",),
                "scheduled_until must be after scheduled_for",
                "a maintenance window ends after it starts",
            )
        )
    if item.completed_at is not None and item.completed_at < item.scheduled_for:
        found.append(
            Finding.at(
                doc,
                "chronology",
                ("completed_at",),
                "completed_at is before scheduled_for",
                "a maintenance cannot end before its window starts",
            )
        )
    for index, component in enumerate(item.components):
        if component in component_ids:
            continue
        close = difflib.get_close_matches(component, sorted(component_ids), n=1)
        found.append(
            Finding.at(
                doc,
                "reference",
                ("components", index),
                f"unknown component '{component}'",
                f"did you mean '{close[0]}'?"
                if close
                else "components are listed in policies/components.yaml",
            )
        )
    stem = PurePosixPath(path).stem
    if stem != item.id:
        found.append(
            Finding.at(
                doc,
                "id-path",
                ("id",),
                f"ID {item.id} does not match its file name {stem}.md",
                f"rename the file to maintenances/{item.id}.md",
            )
        )
    return found


def check_all(
    scanned: Iterable[tuple[Document, Maintenance] | DocumentErrors], policy: Policy
) -> list[Finding]:
    """Every maintenance's findings, plus duplicate IDs across them."""
    component_ids = {c.id for c in policy.components}
    findings: list[Finding] = []
    seen: dict[str, str] = {}
    for entry in scanned:
        if isinstance(entry, DocumentErrors):
            findings += findings_from(entry)
            continue
        doc, item = entry
        findings += check_maintenance(doc, item, component_ids)
        if item.id in seen:
            findings.append(
                Finding.at(
                    doc,
                    "duplicate-id",
                    ("id",),
                    f"maintenance ID {item.id} is also used by {seen[item.id]}",
                )
            )
        else:
            seen[item.id] = str(doc.path)
    return findings
