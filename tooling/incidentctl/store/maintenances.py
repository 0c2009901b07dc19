"""maintenances/<ID>.md: planned work on components, announced on the status site."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from incidentctl.core.documents import Document, dump_block
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.model import MAINTENANCE_ID_PATTERN, MAINTENANCE_ID_RULE, Maintenance
from incidentctl.store.collection import Collection


class Maintenances(Collection[Maintenance]):
    model = Maintenance
    folder = "maintenances"
    glob = "*.md"

    def path(self, maintenance_id: str) -> Path:
        if not re.fullmatch(MAINTENANCE_ID_PATTERN, maintenance_id):
            raise IncidentctlError(
                f"{maintenance_id!r} is not a valid maintenance ID",
                hint=f"a maintenance ID is {MAINTENANCE_ID_RULE}",
            )
        return self.dir / f"{maintenance_id}.md"

    def find(self, maintenance_id: str) -> tuple[Document, Maintenance]:
        """One maintenance by ID; an unknown ID names the closest known one."""
        return self.load(self.find_path(maintenance_id))

    def find_path(self, maintenance_id: str) -> Path:
        """The file of maintenance ID, not read (an edit reads it under its lock)."""
        path = self.path(maintenance_id)
        if not os.path.lexists(path):
            known = [p.stem for p in self.files()]
            close = difflib.get_close_matches(maintenance_id, known, n=1)
            raise IncidentctlError(
                f"no maintenance {maintenance_id} in maintenances/",
                hint=f"did you mean {close[0]}?"
                if close
                else "`incidentctl maintenance list` shows them",
            )
        return path

    def create(
        self, maintenance: Maintenance, body: str, *, dry_run: bool = False
    ) -> tuple[Path, str]:
        """Write a new maintenance file after checking it re-parses; never overwrites one."""
        path = self.path(maintenance.id)
        exists = IncidentctlError(
            f"{self.source.rel(path)} already exists",
            hint="choose another --id, or omit --id to get a fresh one",
        )
        data = maintenance.model_dump(mode="json", exclude_none=True)
        if not data.get("updates"):
            data.pop("updates", None)
        text = "---\n" + dump_block(data, 0) + "---\n" + body
        self.add(path, text, exists=exists, expected=maintenance, dry_run=dry_run)
        return path, text
